//! Link previews over the real API: a local web site (on loopback, reachable only through
//! the configuration's allowlist) serves pages and an image; a second member sees the
//! preview arrive live and after catch-up; the guard refuses loopback, the metadata
//! address and redirects into them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_client::Transport;
use switchboard_client::proto as pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::files::get;
use crate::helpers::*;
use crate::spaces::call;

type Route = (u16, Vec<(String, String)>, Vec<u8>);

/// A tiny web site on 127.0.0.1 that counts the requests per path.
struct Site {
    port: u16,
    hits: Arc<Mutex<HashMap<String, u32>>>,
}

impl Site {
    async fn start(route: impl Fn(&str, u16) -> Route + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let (route, counted) = (Arc::new(route), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let (route, counted) = (route.clone(), counted.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    *counted.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let (status, headers, body) = route(&path, port);
                    let mut out =
                        format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    let _ = s.write_all(out.as_bytes()).await;
                    let _ = s.write_all(&body).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        Self { port, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> u32 {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn page(title: &str, image: Option<&str>) -> Route {
    let img = image.map(|i| format!("<meta property=\"og:image\" content=\"{i}\">")).unwrap_or_default();
    let html = format!(
        "<!doctype html><html><head><title>plain</title>\
         <meta property=\"og:title\" content=\"{title}\">\
         <meta property=\"og:site_name\" content=\"Local News\">\
         <meta name=\"twitter:description\" content=\"All about {title}\">{img}</head><body>x</body></html>"
    );
    (200, vec![("Content-Type".into(), "text/html; charset=utf-8".into())], html.into_bytes())
}

fn redirect(to: &str) -> Route {
    (302, vec![("Location".into(), to.into())], Vec::new())
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn previewed(e: &pb::Event) -> Option<&pb::Message> {
    match e.kind.as_ref()? {
        pb::event::Kind::MessagePreviewed(m) => Some(m),
        _ => None,
    }
}

fn send_req(conv: &str, key: &str, body: &str, no_link_preview: bool) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: conv.into(),
        client_key: key.into(),
        text: text(body),
        no_link_preview,
        ..Default::default()
    }
}

/// A link's page becomes a preview card (title, description, site, the image re-hosted as
/// a file): the other member sees it arrive live, in catch-up and in history; the same
/// link again comes from the cache; an opted-out message fetches nothing; an edit gets
/// the new link's card.
#[tokio::test]
async fn a_link_gets_a_preview_card_live_in_catch_up_and_history() {
    let image = png();
    let site = Site::start(move |path, _| match path {
        "/moved" => redirect("/article"),
        "/article" => page("Moon landing", Some("/pic.png")),
        "/other" => page("Other news", None),
        "/pic.png" => (200, vec![("Content-Type".into(), "image/png".into())], image.clone()),
        _ => (404, vec![], b"no".to_vec()),
    })
    .await;
    let allow = format!("127.0.0.1:{}", site.port);
    let app = TestApp::spawn_with(move |c| c.service.link_previews.allow_hosts = vec![allow]).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let id = conv_id(&group(&a, pb::ConversationKind::Group, "news", &[&bob]).await);
    let mut ws = app.client(&bob, Transport::WsJson).await;
    let mut events = ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;

    let link = site.url("/moved");
    let sent = send(&a, &id, "l1", &format!("look: {link}.")).await;
    assert!(sent.link_previews.is_empty(), "previews come later, off the request path");
    let e = wait_for(&mut events, 10, |e| previewed(e).is_some()).await;
    let m = previewed(&e).unwrap();
    assert_eq!((m.id.as_str(), e.seq), (sent.id.as_str(), sent.seq + 1), "its own event, after the message");
    let card = &m.link_previews[0];
    assert_eq!(
        (card.url.as_str(), card.title.as_str(), card.site_name.as_str(), card.description.as_str()),
        (link.as_str(), "Moon landing", "Local News", "All about Moon landing")
    );
    let image = card.image.as_ref().and_then(|i| i.file.as_ref()).expect("the image, re-hosted");
    assert_eq!((image.mime.as_str(), image.width, image.height), ("image/png", 64, 48));
    assert_eq!(get(&app, Some(&bob), &format!("/v1/files/{}", image.id), &[]).await.status, 200);
    assert_eq!((site.hits("/moved"), site.hits("/article"), site.hits("/pic.png")), (1, 1, 1));

    let diff: pb::GetDifferenceResponse = call(
        &b,
        "SyncService/GetDifference",
        pb::GetDifferenceRequest {
            positions: vec![pb::ConversationPosition { conversation_id: id.clone(), seq: sent.seq }],
            ..Default::default()
        },
    )
    .await;
    let caught: Vec<_> = diff.events.iter().filter_map(previewed).collect();
    assert_eq!(caught.len(), 1, "catch-up replays the preview");
    assert_eq!(caught[0].link_previews[0].title, "Moon landing");
    let history: pb::GetHistoryResponse = call(
        &b,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: id.clone(), limit: 10, ..Default::default() },
    )
    .await;
    let kept = history.messages.iter().find(|x| x.id == sent.id).unwrap();
    assert_eq!(kept.link_previews[0].image.as_ref().unwrap().file.as_ref().unwrap().id, image.id);

    // The same link from someone else: the cached card, no new fetch.
    let again = send(&b, &id, "l2", &link).await;
    let e = wait_for(&mut events, 10, |e| previewed(e).is_some_and(|m| m.id == again.id)).await;
    assert_eq!(previewed(&e).unwrap().link_previews[0].title, "Moon landing");
    assert_eq!(site.hits("/article"), 1, "cached");

    // Opted out: nothing fetched, and the message says so.
    let r: pb::SendMessageResponse =
        call(&a, "MessageService/SendMessage", send_req(&id, "l3", &site.url("/other?quiet"), true)).await;
    assert!(r.message.unwrap().no_link_preview);

    // An edit drops the old card and gets the new link's.
    let edited: pb::EditMessageResponse = call(
        &a,
        "MessageService/EditMessage",
        pb::EditMessageRequest {
            conversation_id: id.clone(),
            message_id: sent.id.clone(),
            text: text(&format!("actually {}", site.url("/other"))),
        },
    )
    .await;
    assert!(edited.message.unwrap().link_previews.is_empty());
    let e = wait_for(&mut events, 10, |e| previewed(e).is_some_and(|m| m.id == sent.id)).await;
    let m = previewed(&e).unwrap();
    assert_eq!((m.link_previews.len(), m.link_previews[0].title.as_str()), (1, "Other news"));
    assert!(m.link_previews[0].image.is_none(), "that page has no image");
    assert_eq!(site.hits("/other?quiet"), 0, "the opted-out link was never fetched");
}

/// Without the allowlist nothing private is reached: a loopback address, the cloud
/// metadata address, and redirects (from an allowed site) into either get no preview and
/// no request; the message itself is unaffected.
#[tokio::test]
async fn previews_refuse_loopback_metadata_and_redirects_into_private_ranges() {
    let hidden = Site::start(|_, _| page("Internal admin", None)).await;
    let hidden_port = hidden.port;
    let site = Site::start(move |path, port| match path {
        "/to-metadata" => redirect("http://169.254.169.254/latest/meta-data/"),
        "/to-loopback" => redirect(&format!("http://127.0.0.1:{hidden_port}/secret")),
        "/to-localhost" => redirect(&format!("http://localhost:{port}/public")),
        "/to-mapped" => redirect(&format!("http://[::ffff:127.0.0.1]:{hidden_port}/secret")),
        "/public" => page("Public page", None),
        _ => (404, vec![], Vec::new()),
    })
    .await;
    let allow = format!("127.0.0.1:{}", site.port);
    let app = TestApp::spawn_with(move |c| {
        c.service.link_previews.allow_hosts = vec![allow];
        c.service.link_previews.workers = 1;
        c.service.link_previews.max_per_message = 5;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let a = app.http(&ann).await;
    let id = conv_id(&group(&a, pb::ConversationKind::Group, "probe", &[&bob]).await);
    let mut ws = app.client(&bob, Transport::WsBinary).await;
    let mut events = ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;

    let probes = [
        hidden.url("/secret"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        site.url("/to-metadata"),
        site.url("/to-loopback"),
        site.url("/to-localhost"),
    ];
    let probe = send(&a, &id, "p1", &probes.join(" ")).await;
    let mapped = send(&a, &id, "p2", &site.url("/to-mapped")).await;
    // One worker takes messages in order: once the marker's card is in, the probes are done.
    let marker = send(&a, &id, "p3", &format!("fine: {}", site.url("/public"))).await;
    let e = wait_for(&mut events, 10, |e| previewed(e).is_some()).await;
    assert_eq!(previewed(&e).unwrap().id, marker.id, "no probe got a card");
    assert_eq!(hidden.hits("/secret"), 0, "loopback outside the allowlist is never reached");
    assert_eq!((site.hits("/to-metadata"), site.hits("/to-loopback"), site.hits("/to-localhost")), (1, 1, 1));
    assert_eq!(site.hits("/public"), 1, "only the marker's page; localhost is not the allowlisted name");
    let history: pb::GetHistoryResponse = call(
        &a,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: id.clone(), limit: 10, ..Default::default() },
    )
    .await;
    for m in history.messages.iter().filter(|m| m.id == probe.id || m.id == mapped.id) {
        assert!(m.link_previews.is_empty());
    }
}

/// Previews can be switched off; the server's limits then say 0.
#[tokio::test]
async fn previews_switched_off_fetch_nothing() {
    let site = Site::start(|_, _| page("Anything", None)).await;
    let allow = format!("127.0.0.1:{}", site.port);
    let app = TestApp::spawn_with(move |c| {
        c.service.link_previews.enabled = false;
        c.service.link_previews.allow_hosts = vec![allow];
    })
    .await;
    let ann = app.register("ann").await;
    let a = app.http(&ann).await;
    let info: pb::GetServerInfoResponse =
        call(&a, "ServerService/GetServerInfo", pb::GetServerInfoRequest::default()).await;
    assert_eq!(info.limits.unwrap().max_link_previews_per_message, 0);
    let id = conv_id(&group(&a, pb::ConversationKind::Group, "off", &[]).await);
    send(&a, &id, "o1", &site.url("/x")).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(site.hits("/x"), 0);
}
