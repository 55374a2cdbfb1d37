//! The web client as the server serves it: the page at `/` and at deep links, its assets
//! under the build's prefix, and the API's own paths untouched; off, or replaced by a
//! directory, by configuration.

use crate::helpers::*;

/// The asset prefix the page points at.
fn prefix_of(page: &str) -> String {
    let at = page.find("/assets/").expect("the page names its assets");
    let end = page[at + "/assets/".len()..].find('/').unwrap();
    page[at..at + "/assets/".len() + end + 1].to_owned()
}

#[tokio::test]
async fn the_client_is_served_at_root_and_deep_links_beside_the_api() {
    let app = TestApp::spawn().await;
    for path in ["/", "/c/42", "/c/42/t/7", "/invite/AbCdEf", "/settings", "/s/5/admin"] {
        let r = http_raw(&app.addr, "GET", path, &[], b"").await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type").as_deref(), Some("text/html; charset=utf-8"), "{path}");
        let csp = r.header("content-security-policy").expect("a policy");
        assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        let page = String::from_utf8(r.body).unwrap();
        assert!(page.contains("<script type=\"importmap\">") && page.contains("app/main.js"), "{page}");
    }
    let page = String::from_utf8(http_raw(&app.addr, "GET", "/", &[], b"").await.body).unwrap();
    let prefix = prefix_of(&page);
    // The app, its libraries and the SDK, compressed and cached for good.
    for asset in [
        "app/main.js",
        "app/style.css",
        "vendor/importmap.json",
        "sdk/src/index.js",
        "sdk/gen/switchboard/v1/messages_pb.js",
    ] {
        let r = http_raw(&app.addr, "GET", &format!("{prefix}{asset}"), &[("accept-encoding", "gzip")], b"").await;
        assert_eq!(r.status, 200, "{asset}");
        assert_eq!(r.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"), "{asset}");
        assert!(r.header("etag").is_some(), "{asset}");
        if r.body.len() > 2048 {
            assert_eq!(r.header("content-encoding").as_deref(), Some("gzip"), "{asset}");
        }
    }
    // Revalidating the page costs a 304.
    let etag = http_raw(&app.addr, "GET", "/", &[], b"").await.header("etag").unwrap();
    assert_eq!(http_raw(&app.addr, "GET", "/c/1", &[("if-none-match", &etag)], b"").await.status, 304);
    // The API's paths are still the API's.
    assert_eq!(http_raw(&app.addr, "GET", "/healthz", &[], b"").await.status, 200);
    assert_eq!(http_raw(&app.addr, "GET", "/v1/nothing-here", &[], b"").await.status, 404);
    assert_eq!(http_raw(&app.addr, "GET", "/assets/0123456789abcdef/app/main.js", &[], b"").await.status, 404);
    let (status, body, _) = http_post(&app, "/v1/rpc/ServerService/GetServerInfo", "{}", None).await;
    assert_eq!(status, 200, "{body}");
    let connect = http_raw(
        &app.addr,
        "POST",
        "/switchboard.v1.NoSuchService/Nothing",
        &[("content-type", "application/json")],
        b"{}",
    )
    .await;
    assert_eq!(connect.status, 404);
    assert!(
        String::from_utf8_lossy(&connect.body).contains("no method"),
        "{:?}",
        String::from_utf8_lossy(&connect.body)
    );
    let connect_get = http_raw(
        &app.addr,
        "GET",
        "/switchboard.v1.NoSuchService/Nothing?connect=v1&encoding=json&message=%7B%7D",
        &[],
        b"",
    )
    .await;
    assert_ne!(connect_get.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    // Writes to a page path are refused, not served the page.
    let post = http_raw(&app.addr, "POST", "/c/1", &[("content-type", "text/plain")], b"x").await;
    assert_ne!(post.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn the_client_can_be_turned_off() {
    let app = TestApp::spawn_with(|c| c.web.enabled = false).await;
    let r = http_raw(&app.addr, "GET", "/", &[], b"").await;
    assert_ne!(r.status, 200);
    assert!(r.header("content-security-policy").is_none());
    assert_eq!(http_raw(&app.addr, "GET", "/healthz", &[], b"").await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_directory_replaces_the_client() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><p>our own client at {{assets}}</p>").unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/main.js"), "export const ours = true;\n").unwrap();
    let path = dir.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.web.dir = path).await;
    let page = String::from_utf8(http_raw(&app.addr, "GET", "/c/9", &[], b"").await.body).unwrap();
    assert!(page.starts_with("<!doctype html><p>our own client at /assets/"), "{page}");
    let prefix = prefix_of(&page);
    let js = http_raw(&app.addr, "GET", &format!("{prefix}app/main.js"), &[], b"").await;
    assert_eq!((js.status, js.body.as_slice()), (200, &b"export const ours = true;\n"[..]));
    assert_eq!(
        http_raw(&app.addr, "GET", &format!("{prefix}sdk/src/index.js"), &[], b"").await.status,
        404,
        "only its files"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_directory_without_a_page_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.web.dir = dir.path().join("missing");
    let err = switchboard_server::App::new(&config).await.err().expect("refused");
    assert!(format!("{err:#}").contains("web.dir"), "{err:#}");
}
