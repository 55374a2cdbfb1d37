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

/// The raw response (head and body bytes) to a POST of `body` with `headers`.
async fn raw_post(app: &TestApp, path: &str, body: &[u8], headers: &[(&str, &str)]) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.expect("an answer").unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    (String::from_utf8_lossy(&out[..split]).to_ascii_lowercase(), out[split..].to_vec())
}

fn envelope(message: &[u8]) -> Vec<u8> {
    let mut env = vec![0u8];
    env.extend_from_slice(&(message.len() as u32).to_be_bytes());
    env.extend_from_slice(message);
    env
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn connect_bodies_may_be_gzipped_both_ways_and_other_encodings_are_unimplemented() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let auth = format!("Bearer {}", ann.token);
    let json = [("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    let (_, created) =
        raw_post(&app, "/switchboard.v1.ConversationService/CreateConversation", br#"{"kind":2,"title":"zip"}"#, &json)
            .await;
    let created: serde_json::Value = serde_json::from_slice(&created).unwrap();
    let conv = created["conversation"]["conversation"]["id"].as_str().expect("a conversation id").to_owned();
    let path = "/switchboard.v1.MessageService/SendMessage";
    let long = "zipped text ".repeat(200);
    let send = |key: &str| {
        serde_json::json!({ "conversationId": conv, "clientKey": key, "text": { "text": long } }).to_string()
    };
    // A gzipped request is read; a large answer is gzipped for a client that accepts it.
    let (head, answer) = raw_post(
        &app,
        path,
        &gzip(send("z1").as_bytes()),
        &[json[0], json[1], ("Content-Encoding", "gzip"), ("Accept-Encoding", "br, gzip")],
    )
    .await;
    assert!(head.starts_with("http/1.1 200") && head.contains("content-encoding: gzip"), "{head}");
    let mut inflated = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&answer[..]), &mut inflated).unwrap();
    let v: serde_json::Value = serde_json::from_str(&inflated).unwrap();
    assert_eq!(v["message"]["text"]["text"].as_str(), Some(long.as_str()), "{v}");
    let body = send("z2");
    // Without Accept-Encoding the answer is plain; a small one is plain either way.
    let (head, _) = raw_post(&app, path, body.as_bytes(), &json).await;
    assert!(head.starts_with("http/1.1 200") && !head.contains("content-encoding"), "{head}");
    let (head, _) =
        raw_post(&app, "/switchboard.v1.UserService/GetMe", b"{}", &[json[0], json[1], ("Accept-Encoding", "gzip")])
            .await;
    assert!(head.starts_with("http/1.1 200") && !head.contains("content-encoding"), "{head}");
    // Another encoding, or a body that is not the gzip it claims to be.
    let (head, answer) = raw_post(&app, path, body.as_bytes(), &[json[0], json[1], ("Content-Encoding", "br")]).await;
    assert!(head.starts_with("http/1.1 501"), "{head}");
    assert!(String::from_utf8_lossy(&answer).contains(r#""code":"unimplemented""#));
    let (head, _) = raw_post(&app, path, body.as_bytes(), &[json[0], json[1], ("Content-Encoding", "gzip")]).await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    // A gzip bomb inflates past the frame limit and is refused.
    let bomb = gzip(&vec![b' '; 8 << 20]);
    let (head, answer) = raw_post(&app, path, &bomb, &[json[0], json[1], ("Content-Encoding", "gzip")]).await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert!(String::from_utf8_lossy(&answer).contains("limited to"), "{}", String::from_utf8_lossy(&answer));

    // A stream's request message may be gzipped (flag 1) when the headers say so.
    let sub = "/switchboard.v1.SyncService/Subscribe";
    let stream = [("Content-Type", "application/connect+json"), ("Authorization", auth.as_str())];
    let mut zipped = envelope(&gzip(br#"{"liveOnly":true}"#));
    zipped[0] = 1;
    let (head, answer) = raw_post(
        &app,
        sub,
        &zipped,
        &[stream[0], stream[1], ("Connect-Content-Encoding", "gzip"), ("Connect-Timeout-Ms", "300")],
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("caughtUp") && text.contains(r#""code":"deadline_exceeded""#), "{text}");
    // Flag 1 without the header is malformed.
    let (_, answer) = raw_post(&app, sub, &zipped, &stream).await;
    assert!(String::from_utf8_lossy(&answer).contains(r#""code":"invalid_argument""#));
    app.stop().await;
}

/// The raw response to a GET of `path`.
async fn raw_get(app: &TestApp, path: &str, auth: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.expect("an answer").unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn reads_may_be_called_with_get_and_writes_may_not() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let auth = format!("Bearer {}", ann.token);
    let (head, body) =
        raw_get(&app, "/switchboard.v1.UserService/GetMe?connect=v1&encoding=json&message=%7B%7D", &auth).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(body.contains(r#""username":"ann""#), "{body}");
    // base64url, gzipped.
    let zipped = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(gzip(b"{}"));
    let path = format!("/switchboard.v1.UserService/GetMe?encoding=json&base64=1&compression=gzip&message={zipped}");
    let (head, body) = raw_get(&app, &path, &auth).await;
    assert!(head.starts_with("http/1.1 200") && body.contains("ann"), "{head}\n{body}");
    // A method with side effects is POST only; a GET names its encoding and protocol version.
    let (head, _) =
        raw_get(&app, "/switchboard.v1.MessageService/SendMessage?encoding=json&message=%7B%7D", &auth).await;
    assert!(head.starts_with("http/1.1 405") && head.contains("allow: post"), "{head}");
    for query in ["message=%7B%7D", "encoding=xml&message=%7B%7D", "connect=v2&encoding=json&message=%7B%7D"] {
        let (head, body) = raw_get(&app, &format!("/switchboard.v1.UserService/GetMe?{query}"), &auth).await;
        let refused = head.starts_with("http/1.1 400") && body.contains(r#""code":"invalid_argument""#);
        assert!(refused, "{query}: {head}\n{body}");
    }
    let (head, _) =
        raw_get(&app, "/switchboard.v1.UserService/GetMe?encoding=json&compression=br&message=x", &auth).await;
    assert!(head.starts_with("http/1.1 501"), "{head}");
    app.stop().await;
}

#[tokio::test]
async fn connect_deadlines_end_streams_and_bad_ones_are_refused() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let auth = format!("Bearer {}", ann.token);
    let stream = [("Content-Type", "application/connect+json"), ("Authorization", auth.as_str())];
    let sub = "/switchboard.v1.SyncService/Subscribe";
    let msg = envelope(br#"{"liveOnly":true}"#);
    let started = std::time::Instant::now();
    let (head, answer) = raw_post(
        &app,
        sub,
        &msg,
        &[stream[0], stream[1], ("Connect-Timeout-Ms", "200"), ("Connect-Accept-Encoding", "gzip")],
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(head.starts_with("http/1.1 200") && head.contains("connect-content-encoding: gzip"), "{head}");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("caughtUp") && text.contains(r#""code":"deadline_exceeded""#), "{text}");
    // A unary call well within its deadline answers as usual.
    let json = [("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    let me = "/switchboard.v1.UserService/GetMe";
    let (head, _) = raw_post(&app, me, b"{}", &[json[0], json[1], ("Connect-Timeout-Ms", "60000")]).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    for bad in ["0", "-5", "12345678901", "soon"] {
        let (head, answer) = raw_post(&app, me, b"{}", &[json[0], json[1], ("Connect-Timeout-Ms", bad)]).await;
        assert!(head.starts_with("http/1.1 400"), "{bad}: {head}");
        assert!(String::from_utf8_lossy(&answer).contains("Connect-Timeout-Ms is a positive"), "{bad}");
    }
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
