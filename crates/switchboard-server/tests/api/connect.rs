//! The Connect protocol on the gRPC paths: a stock Connect client (connect-es in Node,
//! from `tests/connect/`) calling unary methods and streaming events, and the documented
//! rows checked over raw HTTP (content types, error bodies, envelopes, unknown paths).

use std::time::Duration;

use switchboard_client::proto as pb;

use crate::helpers::*;

/// `tests/connect` with its node modules, or why it cannot run.
fn connect_client() -> Result<std::path::PathBuf, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/connect");
    if !dir.join("node_modules/@connectrpc/connect-node").exists() {
        return Err(format!("run `npm ci` in {} (scripts/test.sh does)", dir.display()));
    }
    match std::process::Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(dir),
        _ => Err("node is not on PATH".into()),
    }
}

#[tokio::test]
async fn a_stock_connect_client_calls_and_streams() {
    let dir = match connect_client() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().unwrap();
    let descriptor = tmp.path().join("switchboard.binpb");
    std::fs::write(&descriptor, switchboard_proto::FILE_DESCRIPTOR_SET).unwrap();
    let run = tokio::process::Command::new("node")
        .arg(dir.join("client.mjs"))
        .arg(&app.addr)
        .arg(&descriptor)
        .current_dir(&dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run).await.expect("the Connect client hung").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.lines().last() == Some("done"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.lines().filter(|l| l.starts_with("ok ")).count() >= 20, "{stdout}");
    app.stop().await;
}

#[tokio::test]
async fn connect_unary_calls_take_json_or_proto_and_errors_carry_code_and_detail() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let auth = format!("Bearer {}", ann.token);
    let r = http_request(
        &app,
        "/switchboard.v1.UserService/GetMe",
        "{}",
        &[("Content-Type", "application/json"), ("Authorization", &auth)],
    )
    .await;
    assert_eq!((r.status, r.body["user"]["id"].as_str()), (200, Some(ann.id.as_str())));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let body = r#"{"conversationId":"999","clientKey":"k","text":{"text":"hi"}}"#;
    let r = http_request(
        &app,
        "/switchboard.v1.MessageService/SendMessage",
        body,
        &[("Content-Type", "application/json"), ("Authorization", &auth)],
    )
    .await;
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("not_found")), "{}", r.body);
    assert_eq!(r.body["details"][0]["type"].as_str(), Some("switchboard.v1.Error"));
    let r = http_request(
        &app,
        "/switchboard.v1.UserService/GetMe",
        "{}",
        &[("Content-Type", "text/plain"), ("Authorization", &auth)],
    )
    .await;
    assert_eq!(r.status, 415, "an unknown content type");
    let r =
        http_request(&app, "/switchboard.v1.UserService/NoSuchMethod", "{}", &[("Content-Type", "application/json")])
            .await;
    assert_eq!(r.status, 404, "an unknown method on a known service is a plain 404");
    let r = http_request(&app, "/switchboard.v1.NoSuchService/Nothing", "{}", &[("Content-Type", "application/json")])
        .await;
    assert_eq!(r.status, 404);
    let r = http_request(&app, "/nowhere", "{}", &[]).await;
    assert_eq!(r.status, 404);
    let r = http_request(
        &app,
        "/switchboard.v1.UserService/GetMe",
        "{}",
        &[("Content-Type", "application/json"), ("Connect-Protocol-Version", "2")],
    )
    .await;
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("invalid_argument")));
    app.stop().await;
}

#[tokio::test]
async fn a_connect_stream_that_cannot_start_answers_200_with_the_error_in_its_end_message() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let mut s = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    let msg = br#"{"liveOnly":true}"#;
    let mut env = vec![0u8];
    env.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    env.extend_from_slice(msg);
    let head = format!(
        "POST /switchboard.v1.SyncService/Subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/connect+json\r\nAuthorization: Bearer sba_forged\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        env.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&env).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.to_ascii_lowercase().contains("content-type: application/connect+json"), "{text}");
    assert!(text.contains(r#""code":"unauthenticated""#), "{text}");
    let _ = pb::ErrorCode::Unauthenticated;
    app.stop().await;
}

async fn preflight(app: &TestApp, origin: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    let req = format!(
        "OPTIONS /switchboard.v1.UserService/GetMe HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, authorization\r\n\
         Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

#[tokio::test]
async fn cors_answers_preflights_for_the_configured_origins_only() {
    let app = TestApp::spawn_with(|c| c.transport.cors_origins = vec!["https://chat.example.com".into()]).await;
    let ok = preflight(&app, "https://chat.example.com").await;
    assert!(ok.contains("access-control-allow-origin: https://chat.example.com"), "{ok}");
    assert!(ok.contains("authorization"), "{ok}");
    let other = preflight(&app, "https://evil.example.net").await;
    assert!(!other.contains("access-control-allow-origin"), "{other}");
    app.stop().await;
    let off = TestApp::spawn().await;
    assert!(
        !preflight(&off, "https://chat.example.com").await.contains("access-control-allow-origin"),
        "off by default"
    );
    off.stop().await;
}
