//! Server discovery (GetServerInfo, no token) and the runtime settings administrators
//! change without a restart.

use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use crate::helpers::*;

async fn info(addr: &str, transport: Transport, client: &str) -> pb::GetServerInfoResponse {
    let c = Client::connect(addr, transport, None).await.unwrap();
    c.call("ServerService/GetServerInfo", &pb::GetServerInfoRequest { client: client.into() }).await.unwrap()
}

/// A GET without credentials; the response head and body.
async fn get(addr: &str, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.expect("an answer").unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

fn limit(per_second: f64, burst: f64) -> Option<pb::RateLimit> {
    Some(pb::RateLimit { per_second, burst })
}

#[tokio::test]
async fn any_client_learns_what_the_server_is_and_allows_without_signing_in() {
    let app = TestApp::spawn_with(|c| {
        c.service.registration = switchboard_service::RegistrationMode::InviteCode;
        c.service.max_message_chars = 1000;
        c.service.edit_window_secs = 600;
        c.service.files.max_file_bytes = 5 << 20;
        c.service.files.max_attachments = 4;
        c.service.minimum_client_versions.insert("web".into(), "1.2.0".into());
        c.service.recommended_client_versions.insert("web".into(), "1.4.0".into());
    })
    .await;
    for transport in [Transport::Http, Transport::Grpc, Transport::WsJson, Transport::WsBinary] {
        let i = info(&app.addr, transport, "").await;
        assert_eq!(i.version, env!("CARGO_PKG_VERSION"), "{transport:?}");
        assert_eq!(i.api, "switchboard.v1");
        assert_eq!(i.registration(), pb::RegistrationMode::InviteCode);
        assert_eq!(i.sign_in_methods, vec!["password".to_owned()]);
        let l = i.limits.unwrap();
        assert_eq!((l.max_message_chars, l.edit_window_secs), (1000, 600));
        assert_eq!(
            (l.max_file_bytes, l.max_attachments),
            (5 << 20, 4),
            "clients refuse oversize files before uploading"
        );
        assert_eq!(l.rate_limit, limit(0.0, 400.0), "the test configuration turns the user limit off");
        for f in [
            "spaces",
            "threads",
            "files",
            "tus",
            "connect",
            "websocket",
            "grpc",
            "stickers",
            "custom_emoji",
            "contacts",
            "blocks",
            "privacy_settings",
        ] {
            assert!(i.features.iter().any(|x| x == f), "{f} missing from {:?}", i.features);
        }
        assert_eq!(i.client_support(), pb::ClientSupport::Unspecified, "no client named");
    }
    for (client, verdict) in [
        ("web/1.1.9", pb::ClientSupport::Unsupported),
        ("web/1.2.0", pb::ClientSupport::UpgradeRecommended),
        ("web/1.3.5-beta.1", pb::ClientSupport::UpgradeRecommended),
        ("web/1.4.0", pb::ClientSupport::Supported),
        ("web/2.0.0", pb::ClientSupport::Supported),
        ("web/banana", pb::ClientSupport::Unspecified),
        ("desktop/0.1.0", pb::ClientSupport::Unspecified),
    ] {
        let i = info(&app.addr, Transport::Http, client).await;
        assert_eq!(i.client_support(), verdict, "{client}");
        if client.starts_with("web/") {
            assert_eq!((i.minimum_client_version.as_str(), i.recommended_client_version.as_str()), ("1.2.0", "1.4.0"));
        } else {
            assert!(i.minimum_client_version.is_empty() && i.recommended_client_version.is_empty());
        }
    }
    // A side-effect-free method: Connect GET works too, without a token.
    let (head, body) =
        get(&app.addr, "/switchboard.v1.ServerService/GetServerInfo?connect=v1&encoding=json&message=%7B%7D").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains(r#""registration":"REGISTRATION_MODE_INVITE_CODE""#), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_client_version_rule_that_is_not_a_version_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.service.minimum_client_versions.insert("web".into(), "one".into());
    let err = switchboard_server::App::new(&config).await.err().expect("the server started");
    let text = format!("{err:#}");
    assert!(text.contains("minimum_client_versions") && text.contains("web"), "{text}");
}

#[tokio::test]
async fn administrators_change_rate_limits_at_run_time_and_everyone_else_is_refused() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let ann = app.register("ann").await;
    let a = app.client(&root, Transport::Http).await;
    let u = app.client(&ann, Transport::Http).await;
    let denied = u
        .call::<_, pb::GetRuntimeSettingsResponse>("AdminService/GetRuntimeSettings", &pb::GetRuntimeSettingsRequest {})
        .await;
    assert_eq!(code_of(denied), pb::ErrorCode::PermissionDenied);
    let change = pb::UpdateRuntimeSettingsRequest { rate_limit: limit(1.0, 3.0), ..Default::default() };
    let denied = u.call::<_, pb::UpdateRuntimeSettingsResponse>("AdminService/UpdateRuntimeSettings", &change).await;
    assert_eq!(code_of(denied), pb::ErrorCode::PermissionDenied);

    let got: pb::GetRuntimeSettingsResponse =
        a.call("AdminService/GetRuntimeSettings", &pb::GetRuntimeSettingsRequest {}).await.unwrap();
    assert_eq!(got.effective, got.configured);

    // Out-of-range limits are refused and name their field.
    for (bad, field) in [
        (pb::UpdateRuntimeSettingsRequest { rate_limit: limit(-1.0, 3.0), ..Default::default() }, "rate_limit"),
        (
            pb::UpdateRuntimeSettingsRequest { auth_per_address: limit(5.0, 0.0), ..Default::default() },
            "auth_per_address",
        ),
        (
            pb::UpdateRuntimeSettingsRequest { failed_logins_per_account: limit(2e6, 10.0), ..Default::default() },
            "failed_logins_per_account",
        ),
    ] {
        let e = a
            .call::<_, pb::UpdateRuntimeSettingsResponse>("AdminService/UpdateRuntimeSettings", &bad)
            .await
            .unwrap_err();
        assert_eq!((e.code, e.field.as_str()), (pb::ErrorCode::InvalidArgument, field), "{e:?}");
    }

    // A limit of 3 at once: the fourth quick request is refused as rate limited.
    let r: pb::UpdateRuntimeSettingsResponse = a.call("AdminService/UpdateRuntimeSettings", &change).await.unwrap();
    assert_eq!(r.effective.unwrap().rate_limit, limit(1.0, 3.0));
    let me = || u.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {});
    let mut results = Vec::new();
    for _ in 0..4 {
        results.push(me().await.err().map(|e| (e.code, e.reason)));
    }
    assert_eq!(results[..3], [None, None, None], "{results:?}");
    assert_eq!(results[3], Some((pb::ErrorCode::ResourceExhausted, "rate_limited".to_owned())), "{results:?}");
    let i = info(&app.addr, Transport::Http, "").await;
    assert_eq!(i.limits.unwrap().rate_limit, limit(1.0, 3.0), "discovery shows the limit in force");

    // Reset returns to the configuration.
    let reset = pb::UpdateRuntimeSettingsRequest { reset: true, ..Default::default() };
    let r: pb::UpdateRuntimeSettingsResponse = a.call("AdminService/UpdateRuntimeSettings", &reset).await.unwrap();
    assert_eq!(r.effective, got.configured);
    app.stop().await;
}

/// Two nodes of one installation: a change taken by one reaches the other within
/// `settings_reload_secs`, and a node started later starts with it.
#[tokio::test]
async fn runtime_settings_reach_every_node_and_outlive_restarts() {
    let Some((one, schema)) = TestApp::spawn_postgres().await else { return };
    let two = TestApp::spawn_beside(&schema, |c| c.service.settings_reload_secs = 1).await;
    let root = one.admin("root").await;
    let a = one.client(&root, Transport::Http).await;
    let change = pb::UpdateRuntimeSettingsRequest { auth_per_address: limit(2.0, 7.0), ..Default::default() };
    let _: pb::UpdateRuntimeSettingsResponse = a.call("AdminService/UpdateRuntimeSettings", &change).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let l = info(&two.addr, Transport::Http, "").await.limits.unwrap();
        if l.auth_per_address == limit(2.0, 7.0) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the other node still has {:?}", l.auth_per_address);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let three = TestApp::spawn_beside(&schema, |_| {}).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while info(&three.addr, Transport::Http, "").await.limits.unwrap().auth_per_address != limit(2.0, 7.0) {
        assert!(tokio::time::Instant::now() < deadline, "a node started later does not apply the stored settings");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for app in [one, two, three] {
        app.stop().await;
    }
    schema.drop().await;
}
