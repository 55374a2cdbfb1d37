use std::io::Read;

use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

const PAGE: &str = "<!doctype html><html><head>{{importmap}}<script type=\"module\" src=\"{{assets}}app/main.js\"></script></head><body></body></html>";

fn client() -> WebClient {
    let big = "console.log('switchboard');\n".repeat(100);
    WebClient::from_files(vec![
        ("index.html".into(), Bytes::from(PAGE)),
        ("favicon.svg".into(), Bytes::from("<svg/>")),
        ("app/main.js".into(), Bytes::from(big)),
        ("vendor/importmap.json".into(), Bytes::from(r#"{"imports":{"preact":"vendor/preact.js"}}"#)),
    ])
    .expect("client")
}

async fn get(client: WebClient, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = client.router().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

#[tokio::test]
async fn the_page_answers_root_and_deep_links_with_the_prefix_and_import_map() {
    let prefix = client().prefix().to_owned();
    assert!(prefix.starts_with("/assets/") && prefix.ends_with('/'));
    for path in ["/", "/c/42", "/c/42/t/7", "/invite/AbC", "/settings"] {
        let (status, headers, body) = get(client(), path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        let page = String::from_utf8(body).unwrap();
        assert!(page.contains(&format!("src=\"{prefix}app/main.js\"")), "{page}");
        assert!(page.contains(&format!("\"preact\":\"{prefix}vendor/preact.js\"")), "{page}");
        assert!(!page.contains("{{"), "{page}");
    }
}

#[tokio::test]
async fn the_page_carries_a_strict_policy_that_admits_exactly_its_import_map() {
    let (_, headers, body) = get(client(), "/", &[]).await;
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    for part in [
        "default-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    let page = String::from_utf8(body).unwrap();
    let map = page.split("<script type=\"importmap\">").nth(1).unwrap().split("</script>").next().unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(map.as_bytes()));
    assert!(csp.contains(&format!("script-src 'self' 'sha256-{hash}'")), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
}

#[tokio::test]
async fn assets_are_immutable_under_the_build_prefix_and_gone_elsewhere() {
    let prefix = client().prefix().to_owned();
    let (status, headers, body) = get(client(), &format!("{prefix}app/main.js"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert!(headers.get(header::CONTENT_SECURITY_POLICY).is_none());
    assert!(body.starts_with(b"console.log"));
    // Another build's prefix, a missing file and the API's own paths are not the page.
    for path in [
        "/assets/0000000000000000/app/main.js",
        &format!("{prefix}app/missing.js"),
        "/v1/nothing",
        "/metrics",
        "/healthz",
    ] {
        let (status, headers, _) = get(client(), path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    }
    // A top-level file is also at its own path, revalidated.
    let (status, headers, body) = get(client(), "/favicon.svg", &[]).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"<svg/>"[..]));
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
}

#[tokio::test]
async fn a_new_build_has_a_new_prefix() {
    let other = WebClient::from_files(vec![
        ("index.html".into(), Bytes::from(PAGE)),
        ("app/main.js".into(), Bytes::from("changed")),
    ])
    .unwrap();
    assert_ne!(client().prefix(), other.prefix());
    assert_eq!(client().prefix(), client().prefix());
}

#[tokio::test]
async fn gzip_when_asked_and_worth_it() {
    let prefix = client().prefix().to_owned();
    let path = format!("{prefix}app/main.js");
    let (_, plain_headers, plain) = get(client(), &path, &[]).await;
    assert!(plain_headers.get(header::CONTENT_ENCODING).is_none());
    let (status, headers, body) = get(client(), &path, &[("accept-encoding", "br, gzip;q=0.8")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(headers[header::VARY], "accept-encoding");
    assert!(body.len() * 4 < plain.len(), "{} of {}", body.len(), plain.len());
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut unpacked).unwrap();
    assert_eq!(unpacked, plain);
    // Refused by weight, and not offered for a small file.
    let (_, headers, _) = get(client(), &path, &[("accept-encoding", "gzip;q=0")]).await;
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    let (_, headers, _) = get(client(), "/favicon.svg", &[("accept-encoding", "gzip")]).await;
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
}

#[tokio::test]
async fn a_matching_etag_is_not_modified() {
    let (_, headers, _) = get(client(), "/", &[]).await;
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let (status, headers, body) = get(client(), "/c/1", &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(headers[header::ETAG], etag.as_str());
    let (status, _, _) = get(client(), "/", &[("if-none-match", "\"other\"")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = get(client(), "/", &[("if-none-match", &format!("\"x\", W/{etag}"))]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn only_get_and_head() {
    let res = client().router().oneshot(Request::post("/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()[header::ALLOW], "GET, HEAD");
    let res = client().router().oneshot(Request::head("/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[header::CONTENT_LENGTH].to_str().unwrap().parse::<usize>().unwrap() > 0);
    assert!(res.into_body().collect().await.unwrap().to_bytes().is_empty());
}

#[test]
fn a_directory_replaces_the_client_and_needs_a_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/main.js"), "x").unwrap();
    let err = WebClient::from_dir(dir.path()).err().expect("no index.html");
    assert!(err.to_string().contains("index.html"), "{err:#}");
    std::fs::write(dir.path().join("index.html"), "<p>{{assets}}</p>").unwrap();
    let client = WebClient::from_dir(dir.path()).unwrap();
    assert!(client.assets.contains_key("app/main.js"));
    assert_eq!(&client.page.body[..], format!("<p>{}</p>", client.prefix()).as_bytes());
    let missing = WebClient::from_dir(&dir.path().join("nowhere")).err().expect("missing dir");
    assert!(format!("{missing:#}").contains("web.dir"), "{missing:#}");
}

#[test]
fn the_embedded_client_has_its_page_app_libraries_and_sdk() {
    let client = WebClient::embedded().unwrap();
    for path in [
        "app/main.js",
        "app/style.css",
        "vendor/importmap.json",
        "sdk/src/index.js",
        "sdk/gen/switchboard/v1/messages_pb.js",
    ] {
        assert!(client.assets.contains_key(path), "{path} is embedded");
    }
    let page = String::from_utf8(client.page.body.to_vec()).unwrap();
    assert!(page.contains("<script type=\"importmap\">") && page.contains("@switchboard/sdk"), "{page}");
    // Every address the import map names is served.
    let map = page.split("<script type=\"importmap\">").nth(1).unwrap().split("</script>").next().unwrap();
    let map: serde_json::Value = serde_json::from_str(map).unwrap();
    for (name, target) in map["imports"].as_object().unwrap() {
        let path = target.as_str().unwrap().strip_prefix(client.prefix()).unwrap();
        if !path.ends_with('/') {
            assert!(client.assets.contains_key(path), "{name} -> {path}");
        }
    }
}
