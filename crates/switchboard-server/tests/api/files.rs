//! Files over the real protocols: every tus row (creation, offsets, checksums,
//! termination, expiry), the one-request upload, attachments and who may download them
//! (whole, by ranges, with entity tags, through signed links), resumption after a cut
//! connection and a killed server, and the documented refusals. Media processing is in
//! `media.rs`.

use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use switchboard_client::Transport;
use switchboard_client::proto as pb;

use crate::helpers::*;

pub(crate) fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `n` bytes that are no known file type.
pub(crate) fn noise(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7919) % 251) as u8 ^ 0x5a).collect()
}

pub(crate) const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");
pub(crate) const OCTETS: (&str, &str) = ("Content-Type", "application/offset+octet-stream");

/// Creates a tus upload; returns its path.
pub(crate) async fn create(app: &TestApp, user: &TestUser, length: usize, metadata: &str) -> String {
    let auth = bearer(user);
    let len = length.to_string();
    let r = http_raw(
        &app.addr,
        "POST",
        "/v1/uploads/",
        &[TUS, ("Authorization", &auth), ("Upload-Length", &len), ("Upload-Metadata", metadata)],
        b"",
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.header("location").unwrap()
}

pub(crate) async fn patch(
    app: &TestApp,
    user: &TestUser,
    path: &str,
    offset: usize,
    bytes: &[u8],
    extra: &[(&str, &str)],
) -> RawReply {
    let auth = bearer(user);
    let off = offset.to_string();
    let mut headers = vec![TUS, OCTETS, ("Authorization", auth.as_str()), ("Upload-Offset", off.as_str())];
    headers.extend_from_slice(extra);
    http_raw(&app.addr, "PATCH", path, &headers, bytes).await
}

pub(crate) async fn head(app: &TestApp, user: &TestUser, path: &str) -> RawReply {
    let auth = bearer(user);
    http_raw(&app.addr, "HEAD", path, &[TUS, ("Authorization", &auth)], b"").await
}

/// Uploads `bytes` in one request; returns the file record.
pub(crate) async fn upload_once(app: &TestApp, user: &TestUser, name: &str, bytes: &[u8]) -> serde_json::Value {
    let auth = bearer(user);
    let r = http_raw(
        &app.addr,
        "POST",
        &format!("/v1/files?name={name}"),
        &[("Authorization", &auth), ("Content-Type", "application/x-claimed")],
        bytes,
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

pub(crate) async fn get(app: &TestApp, user: Option<&TestUser>, path: &str, extra: &[(&str, &str)]) -> RawReply {
    let auth = user.map(bearer);
    let mut headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    headers.extend_from_slice(extra);
    http_raw(&app.addr, "GET", path, &headers, b"").await
}

#[tokio::test]
async fn the_tus_protocol_does_what_the_spec_and_our_docs_say() {
    let app = TestApp::spawn_with(|c| {
        c.service.files.max_file_bytes = 1_000_000;
        c.service.files.quota_bytes = 1_200_000;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let auth = bearer(&ann);

    // OPTIONS: version, extensions, sha256, max size.
    let r = http_raw(&app.addr, "OPTIONS", "/v1/uploads/", &[], b"").await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("tus-version").as_deref(), Some("1.0.0"));
    let ext = r.header("tus-extension").unwrap();
    for e in ["creation", "creation-with-upload", "termination", "checksum", "expiration"] {
        assert!(ext.split(',').any(|x| x == e), "{ext}");
    }
    assert_eq!(r.header("tus-checksum-algorithm").as_deref(), Some("sha256"));
    assert_eq!(r.header("tus-max-size").as_deref(), Some("1000000"));

    // Without Tus-Resumable: 412; without a token: 401.
    let r = http_raw(&app.addr, "POST", "/v1/uploads/", &[("Authorization", &auth), ("Upload-Length", "5")], b"").await;
    assert_eq!(r.status, 412);
    let r = http_raw(&app.addr, "POST", "/v1/uploads/", &[TUS, ("Upload-Length", "5")], b"").await;
    assert_eq!(r.status, 401);
    // No length, a deferred length: 400.
    let r = http_raw(&app.addr, "POST", "/v1/uploads/", &[TUS, ("Authorization", &auth)], b"").await;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("upload_length")));
    // Over the maximum size: refused at creation, before any byte (413, file_too_large).
    let r = http_raw(
        &app.addr,
        "POST",
        "/v1/uploads/",
        &[TUS, ("Authorization", &auth), ("Upload-Length", "1000001")],
        b"",
    )
    .await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (413, Some("file_too_large")));
    // A claimed type that is not accepted: 415 — checked below with a deny list.

    // Creation, then HEAD at 0 with an expiry.
    let data = noise(300_000);
    let meta = format!("filename {},filetype {}", b64(b"data.bin"), b64(b"application/x-whatever"));
    let up = create(&app, &ann, data.len(), &meta).await;
    assert!(up.starts_with("/v1/uploads/"), "{up}");
    let h = head(&app, &ann, &up).await;
    assert_eq!((h.status, h.header("upload-offset").as_deref()), (200, Some("0")));
    assert_eq!(h.header("upload-length").as_deref(), Some("300000"));
    assert!(h.header("upload-expires").is_some());
    assert_eq!(h.header("cache-control").as_deref(), Some("no-store"));
    // Someone else's upload does not exist for them.
    assert_eq!(head(&app, &bob, &up).await.status, 404);
    assert_eq!(patch(&app, &bob, &up, 0, &data[..10], &[]).await.status, 404);

    // Quota: 300 000 pending + 1 000 000 > 1 200 000.
    let r = http_raw(
        &app.addr,
        "POST",
        "/v1/uploads/",
        &[TUS, ("Authorization", &auth), ("Upload-Length", "1000000")],
        b"",
    )
    .await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (413, Some("quota_exceeded")));
    assert_eq!(r.json()["code"].as_str(), Some("ERROR_CODE_RESOURCE_EXHAUSTED"));
    assert!(r.header("retry-after").is_none(), "waiting does not free space");

    // A first part; a wrong offset is 409; a wrong content type 415.
    let r = patch(&app, &ann, &up, 0, &data[..100_000], &[]).await;
    assert_eq!((r.status, r.header("upload-offset").as_deref()), (204, Some("100000")));
    let r = patch(&app, &ann, &up, 50_000, &data[50_000..60_000], &[]).await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (409, Some("offset_mismatch")));
    let off = "100000";
    let r = http_raw(
        &app.addr,
        "PATCH",
        &up,
        &[TUS, ("Authorization", &auth), ("Upload-Offset", off), ("Content-Type", "application/json")],
        b"{}",
    )
    .await;
    assert_eq!(r.status, 415);
    // A per-request checksum that does not match: 460, nothing kept.
    let wrong = format!("sha256 {}", b64(&Sha256::digest(b"other")));
    let r = patch(&app, &ann, &up, 100_000, &data[100_000..200_000], &[("Upload-Checksum", &wrong)]).await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (460, Some("checksum_mismatch")));
    assert_eq!(head(&app, &ann, &up).await.header("upload-offset").as_deref(), Some("100000"));
    // Another algorithm: 400.
    let r = patch(&app, &ann, &up, 100_000, &data[100_000..200_000], &[("Upload-Checksum", "md5 AAAA")]).await;
    assert_eq!(r.status, 400);
    // A matching one is kept; more than the length is refused.
    let right = format!("sha256 {}", b64(&Sha256::digest(&data[100_000..200_000])));
    let r = patch(&app, &ann, &up, 100_000, &data[100_000..200_000], &[("Upload-Checksum", &right)]).await;
    assert_eq!((r.status, r.header("upload-offset").as_deref()), (204, Some("200000")));
    let mut too_much = data[200_000..].to_vec();
    too_much.push(0);
    let r = patch(&app, &ann, &up, 200_000, &too_much, &[]).await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (413, Some("upload_length_exceeded")));
    // The last part completes it: the file id comes back, and the stored hash is right.
    let r = patch(&app, &ann, &up, 200_000, &data[200_000..], &[]).await;
    assert_eq!((r.status, r.header("upload-offset").as_deref()), (204, Some("300000")));
    let file_id = r.header("switchboard-file-id").expect("the file id on completion");
    let c = app.http(&ann).await;
    let files: pb::GetFilesResponse =
        c.call("FileService/GetFiles", &pb::GetFilesRequest { file_ids: vec![file_id.clone()] }).await.unwrap();
    let f = &files.files[0];
    assert_eq!(f.sha256, hex(&Sha256::digest(&data)));
    assert_eq!((f.name.as_str(), f.mime.as_str(), f.size), ("data.bin", "application/octet-stream", 300_000));
    assert_eq!(f.state, pb::FileState::Ready as i32, "not an image: nothing to process");
    // HEAD after completion reports the whole length and the file.
    let h = head(&app, &ann, &up).await;
    assert_eq!(h.header("upload-offset").as_deref(), Some("300000"));
    assert_eq!(h.header("switchboard-file-id").as_deref(), Some(file_id.as_str()));

    // A declared whole-file SHA-256 that the bytes do not have: refused at the end, upload gone.
    let meta = format!("filename {},sha256 {}", b64(b"x"), b64(hex(&Sha256::digest(b"not this")).as_bytes()));
    let up2 = create(&app, &ann, 1000, &meta).await;
    let r = patch(&app, &ann, &up2, 0, &noise(1000), &[]).await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (460, Some("checksum_mismatch")));
    assert_eq!(head(&app, &ann, &up2).await.status, 404);
    // An invalid declared SHA-256 is refused at creation.
    let r = http_raw(
        &app.addr,
        "POST",
        "/v1/uploads/",
        &[
            TUS,
            ("Authorization", &auth),
            ("Upload-Length", "3"),
            ("Upload-Metadata", &format!("sha256 {}", b64(b"xyz"))),
        ],
        b"",
    )
    .await;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("sha256")));

    // creation-with-upload: bytes in the POST.
    let small = noise(5000);
    let len = small.len().to_string();
    let r = http_raw(
        &app.addr,
        "POST",
        "/v1/uploads/",
        &[TUS, OCTETS, ("Authorization", &auth), ("Upload-Length", &len)],
        &small,
    )
    .await;
    assert_eq!((r.status, r.header("upload-offset").as_deref()), (201, Some("5000")));
    assert!(r.header("switchboard-file-id").is_some());

    // Termination: 204, then gone.
    let up3 = create(&app, &ann, 10, "").await;
    let r = http_raw(&app.addr, "DELETE", &up3, &[TUS, ("Authorization", &auth)], b"").await;
    assert_eq!(r.status, 204);
    assert_eq!(head(&app, &ann, &up3).await.status, 404);
    assert_eq!(head(&app, &ann, "/v1/uploads/0123456789abcdef").await.status, 404);

    // Expiry: an unfinished upload is gone after upload_expiry_secs (404), and the
    // collector removes it.
    let up4 = create(&app, &ann, 10, "").await;
    patch(&app, &ann, &up4, 0, b"12345", &[]).await;
    app.advance(Duration::from_secs(24 * 3600 + 1));
    let ann = app.login(&ann).await;
    assert_eq!(head(&app, &ann, &up4).await.status, 404);
    assert_eq!(patch(&app, &ann, &up4, 5, b"67890", &[]).await.status, 404);
    let (uploads, _) = app.services().collect_files().await.unwrap();
    assert!(uploads >= 1);
}

#[tokio::test]
async fn denied_types_are_refused_by_claim_and_by_their_bytes() {
    let app =
        TestApp::spawn_with(|c| c.service.files.denied_types = vec!["image/*".into(), "application/pdf".into()]).await;
    let ann = app.register("ann").await;
    let auth = bearer(&ann);
    let meta = format!("filetype {}", b64(b"image/png"));
    let r = http_raw(
        &app.addr,
        "POST",
        "/v1/uploads/",
        &[TUS, ("Authorization", &auth), ("Upload-Length", "9"), ("Upload-Metadata", &meta)],
        b"",
    )
    .await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (415, Some("type_not_allowed")));
    // Claimed harmless, sniffed as a PDF: refused when the bytes are in.
    let up = create(&app, &ann, 9, &format!("filetype {}", b64(b"text/plain"))).await;
    let r = patch(&app, &ann, &up, 0, b"%PDF-1.7\n", &[]).await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (415, Some("type_not_allowed")));
    assert_eq!(head(&app, &ann, &up).await.status, 404);
}

#[tokio::test]
async fn attachments_are_downloaded_by_members_only_whole_by_ranges_and_through_signed_links() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let a = app.client(&ann, Transport::Grpc).await;
    let b = app.client(&bob, Transport::WsJson).await;
    let conv = conv_id(&group(&a, pb::ConversationKind::Group, "team", &[&bob]).await);

    let data = noise(1_000_000);
    let f = upload_once(&app, &ann, "report.bin", &data).await;
    let file_id = f["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/files/{file_id}");
    // Before it is sent, only ann reads it.
    assert_eq!(get(&app, Some(&ann), &path, &[]).await.status, 200);
    assert_eq!(get(&app, Some(&bob), &path, &[]).await.status, 404);
    assert_eq!(get(&app, None, &path, &[]).await.status, 401);

    // Sent as an attachment with a caption: bob sees it in history with its record.
    let sent: pb::SendMessageResponse = a
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv.clone(),
                client_key: "att".into(),
                text: Some(pb::TextContent {
                    text: "the report".into(),
                    attachments: vec![pb::Attachment {
                        file_id: file_id.clone(),
                        alt: "Q3".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let msg = sent.message.unwrap();
    let Some(pb::message::Content::Text(t)) = &msg.content else { panic!("text") };
    assert_eq!(t.attachments[0].file.as_ref().unwrap().size, 1_000_000);
    let h: pb::GetHistoryResponse = b
        .call(
            "MessageService/GetHistory",
            &pb::GetHistoryRequest { conversation_id: conv.clone(), direction: 1, ..Default::default() },
        )
        .await
        .unwrap();
    let last = h.messages.last().unwrap();
    let Some(pb::message::Content::Text(t)) = &last.content else { panic!("text") };
    assert_eq!((t.text.as_str(), t.attachments.len()), ("the report", 1));
    let att = &t.attachments[0];
    assert_eq!((att.alt.as_str(), att.file.as_ref().unwrap().name.as_str()), ("Q3", "report.bin"));
    // Editing the caption keeps the attachment.
    let e: pb::EditMessageResponse = a
        .call(
            "MessageService/EditMessage",
            &pb::EditMessageRequest {
                conversation_id: conv.clone(),
                message_id: msg.id.clone(),
                text: Some(pb::TextContent { text: String::new(), ..Default::default() }),
            },
        )
        .await
        .unwrap();
    let Some(pb::message::Content::Text(t)) = &e.message.unwrap().content else { panic!("text") };
    assert_eq!((t.text.as_str(), t.attachments.len()), ("", 1));

    // bob downloads it whole: identical bytes and the documented headers.
    let r = get(&app, Some(&bob), &path, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body == data, "identical bytes");
    let etag = r.header("etag").unwrap();
    assert_eq!(etag, format!("\"{}\"", hex(&Sha256::digest(&data))));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(r.header("accept-ranges").as_deref(), Some("bytes"));
    assert!(r.header("cache-control").unwrap().starts_with("private"));
    assert_eq!(r.header("content-type").as_deref(), Some("application/octet-stream"));
    assert!(r.header("content-disposition").unwrap().starts_with("attachment; filename=\"report.bin\""));
    // By ranges.
    let r = get(&app, Some(&bob), &path, &[("Range", "bytes=1000-1999")]).await;
    assert_eq!((r.status, r.header("content-range").as_deref()), (206, Some("bytes 1000-1999/1000000")));
    assert!(r.body == data[1000..2000]);
    let r = get(&app, Some(&bob), &path, &[("Range", "bytes=999000-")]).await;
    assert_eq!(r.status, 206);
    assert!(r.body == data[999_000..]);
    let r = get(&app, Some(&bob), &path, &[("Range", "bytes=-10")]).await;
    assert!(r.status == 206 && r.body == data[999_990..]);
    let r = get(&app, Some(&bob), &path, &[("Range", "bytes=2000000-")]).await;
    assert_eq!((r.status, r.header("content-range").as_deref()), (416, Some("bytes */1000000")));
    // Entity tags.
    let r = get(&app, Some(&bob), &path, &[("If-None-Match", &etag)]).await;
    assert_eq!((r.status, r.body.len()), (304, 0));
    let r = get(&app, Some(&bob), &path, &[("Range", "bytes=0-9"), ("If-Range", "\"other\"")]).await;
    assert_eq!(r.status, 200, "a stale If-Range gets the whole file");
    // HEAD: the headers, no body.
    let auth = bearer(&bob);
    let r = http_raw(&app.addr, "HEAD", &path, &[("Authorization", &auth)], b"").await;
    assert_eq!((r.status, r.header("content-length").as_deref(), r.body.len()), (200, Some("1000000"), 0));

    // A stranger: 404, whether by token, GetFiles or an attachment of their own.
    assert_eq!(get(&app, Some(&eve), &path, &[]).await.status, 404);
    let e = app.http(&eve).await;
    let none: pb::GetFilesResponse =
        e.call("FileService/GetFiles", &pb::GetFilesRequest { file_ids: vec![file_id.clone()] }).await.unwrap();
    assert!(none.files.is_empty());
    let err = e
        .call::<_, pb::GetDownloadUrlResponse>(
            "FileService/GetDownloadUrl",
            &pb::GetDownloadUrlRequest { file_id: file_id.clone(), ..Default::default() },
        )
        .await;
    assert_eq!(code_of(err), pb::ErrorCode::NotFound);

    // A signed link works without a token, for bob, until it expires; a changed one never.
    let link: pb::GetDownloadUrlResponse = b
        .call(
            "FileService/GetDownloadUrl",
            &pb::GetDownloadUrlRequest { file_id: file_id.clone(), ..Default::default() },
        )
        .await
        .unwrap();
    let r = get(&app, None, &link.url, &[]).await;
    assert!(r.status == 200 && r.body == data);
    let forged = link.url.replace(&format!("user={}", bob.id), &format!("user={}", eve.id));
    assert_eq!(get(&app, None, &forged, &[]).await.status, 401);
    let tampered = format!("{}x", link.url);
    assert_eq!(get(&app, None, &tampered, &[]).await.status, 401);

    // bob leaves: his token and his link stop working at once.
    let _: pb::LeaveConversationResponse = b
        .call("ConversationService/LeaveConversation", &pb::LeaveConversationRequest { conversation_id: conv.clone() })
        .await
        .unwrap();
    assert_eq!(get(&app, Some(&bob), &path, &[]).await.status, 404);
    assert_eq!(get(&app, None, &link.url, &[]).await.status, 404);

    // Expiry of links.
    let link: pb::GetDownloadUrlResponse = a
        .call(
            "FileService/GetDownloadUrl",
            &pb::GetDownloadUrlRequest { file_id: file_id.clone(), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(get(&app, None, &link.url, &[]).await.status, 200);
    app.advance(Duration::from_secs(901));
    assert_eq!(get(&app, None, &link.url, &[]).await.status, 401);

    // Deleted for everyone: the members lose access (only the owner keeps it).
    let carol = app.register("carol").await;
    let conv2 = conv_id(&group(&a, pb::ConversationKind::Group, "two", &[&carol]).await);
    let m = a
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv2.clone(),
                client_key: "att2".into(),
                text: Some(pb::TextContent {
                    attachments: vec![pb::Attachment { file_id: file_id.clone(), ..Default::default() }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .message
        .unwrap();
    assert_eq!(get(&app, Some(&carol), &path, &[]).await.status, 200);
    let _: pb::DeleteMessagesResponse = a
        .call(
            "MessageService/DeleteMessages",
            &pb::DeleteMessagesRequest { conversation_id: conv2, message_ids: vec![m.id], for_everyone: true },
        )
        .await
        .unwrap();
    assert_eq!(get(&app, Some(&carol), &path, &[]).await.status, 404);
    assert_eq!(get(&app, Some(&ann), &path, &[]).await.status, 200);

    // Someone else's file cannot be attached; too many attachments are refused.
    let err = e
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv.clone(),
                client_key: "steal".into(),
                text: Some(pb::TextContent {
                    attachments: vec![pb::Attachment { file_id: file_id.clone(), ..Default::default() }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code_of(err), pb::ErrorCode::NotFound);
    let many = (0..11).map(|_| pb::Attachment { file_id: file_id.clone(), ..Default::default() }).collect();
    let err = a
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv.clone(),
                client_key: "many".into(),
                text: Some(pb::TextContent { attachments: many, ..Default::default() }),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code_of(err), pb::ErrorCode::InvalidArgument);
}

#[tokio::test]
async fn active_content_is_served_as_an_opaque_attachment() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
    let f = upload_once(&app, &ann, "page.html", html).await;
    assert_eq!(f["mime"].as_str(), Some("text/html"));
    let r = get(&app, Some(&ann), f["url"].as_str().unwrap(), &[]).await;
    assert_eq!(r.header("content-type").as_deref(), Some("application/octet-stream"));
    assert!(r.header("content-disposition").unwrap().starts_with("attachment;"));
    assert!(r.header("content-security-policy").unwrap().contains("sandbox"));
    let text = upload_once(&app, &ann, "notes.txt", b"just some words\n").await;
    let r = get(&app, Some(&ann), text["url"].as_str().unwrap(), &[]).await;
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain"));
    assert!(r.header("content-disposition").unwrap().starts_with("inline;"));
}

#[tokio::test]
async fn uploads_and_files_over_rpc_and_quota_refusals() {
    let app = TestApp::spawn_with(|c| c.service.files.quota_bytes = 10_000).await;
    let ann = app.register("ann").await;
    for transport in [Transport::Grpc, Transport::WsJson, Transport::WsBinary, Transport::Http] {
        let c = app.client(&ann, transport).await;
        let up: pb::CreateUploadResponse = c
            .call(
                "FileService/CreateUpload",
                &pb::CreateUploadRequest { name: "n.bin".into(), length: 100, ..Default::default() },
            )
            .await
            .unwrap();
        let up = up.upload.unwrap();
        assert_eq!((up.offset, up.length, up.url.clone()), (0, 100, format!("/v1/uploads/{}", up.id)));
        let r = patch(&app, &ann, &up.url, 0, &noise(100), &[]).await;
        assert_eq!(r.status, 204);
        let got: pb::GetUploadResponse =
            c.call("FileService/GetUpload", &pb::GetUploadRequest { upload_id: up.id.clone() }).await.unwrap();
        let got = got.upload.unwrap();
        assert_eq!(got.offset, 100);
        let file = got.file.unwrap();
        assert_eq!(file.size, 100);
        let _: pb::DeleteFileResponse =
            c.call("FileService/DeleteFile", &pb::DeleteFileRequest { file_id: file.id.clone() }).await.unwrap();
        assert_eq!(get(&app, Some(&ann), &file.url, &[]).await.status, 404);
        let err = c
            .call::<_, pb::CreateUploadResponse>(
                "FileService/CreateUpload",
                &pb::CreateUploadRequest { name: "big".into(), length: 10_001, ..Default::default() },
            )
            .await;
        assert_eq!(code_of(err), pb::ErrorCode::ResourceExhausted);
    }
}

/// Forwards connections to `target`; a connection whose request is a PATCH is dropped
/// after `cut_after` bytes from the client. Returns the proxy's address.
async fn cutting_proxy(target: String, cut_after: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        // Bounded: the test makes a handful of connections.
        for _ in 0..32 {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let target = target.clone();
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else { return };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    let (mut seen, mut patch) = (0usize, None);
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let is_patch = *patch.get_or_insert_with(|| buf[..n].starts_with(b"PATCH"));
                        let n = if is_patch { n.min(cut_after.saturating_sub(seen)) } else { n };
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                        seen += n;
                        if is_patch && seen >= cut_after {
                            return; // drop both directions
                        }
                    }
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                tokio::select! { _ = up => {}, _ = down => {} }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_real_tus_client_resumes_an_interrupted_upload() {
    let Ok(python) = std::env::var("SWITCHBOARD_TEST_PYTHON") else {
        eprintln!("skipped: SWITCHBOARD_TEST_PYTHON (a Python with tuspy) is not set");
        return;
    };
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let dir = tempfile::tempdir().unwrap();
    let data = noise(6 << 20);
    let path = dir.path().join("video.bin");
    std::fs::write(&path, &data).unwrap();
    // Cut 3.5 MB into the PATCH (its head is a few hundred bytes).
    let proxy = cutting_proxy(app.addr.clone(), 3_500_000).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/tus_client.py");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .arg(format!("http://{proxy}/v1/uploads/"))
        .arg(format!("http://{}/v1/uploads/", app.addr))
        .arg(&ann.token)
        .arg(&path)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let resumed_at = lines[1]["resumed_at"].as_u64().unwrap();
    assert!(resumed_at > 3_000_000 && resumed_at < 3_500_000, "the bytes before the cut were kept: {resumed_at}");
    let url = lines[2]["done"].as_str().unwrap();
    let upload_path = &url[url.find("/v1/").unwrap()..];
    let h = head(&app, &ann, upload_path).await;
    assert_eq!(h.header("upload-offset").as_deref(), Some("6291456"));
    let file_id = h.header("switchboard-file-id").unwrap();
    let c = app.http(&ann).await;
    let files: pb::GetFilesResponse =
        c.call("FileService/GetFiles", &pb::GetFilesRequest { file_ids: vec![file_id] }).await.unwrap();
    assert_eq!(files.files[0].sha256, hex(&Sha256::digest(&data)), "the stored sha256 matches");
    assert_eq!(get(&app, Some(&ann), &files.files[0].url, &[]).await.body, data);
}

#[tokio::test]
async fn a_server_killed_mid_upload_resumes_it_from_the_stored_offset() {
    use crate::cli::{Server, free_port};
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Server::start(dir.path(), port).await;
    let ann = register_at(&addr, Transport::Http, "ann").await;
    let auth = bearer(&ann);
    let data = noise(4_000_000);
    let len = data.len().to_string();
    let r =
        http_raw(&addr, "POST", "/v1/uploads/", &[TUS, ("Authorization", &auth), ("Upload-Length", &len)], b"").await;
    let up = r.header("location").unwrap();
    let r = http_raw(&addr, "PATCH", &up, &[TUS, OCTETS, ("Authorization", &auth), ("Upload-Offset", "1000000")], b"")
        .await;
    assert_eq!(r.status, 409);
    let r = http_raw(
        &addr,
        "PATCH",
        &up,
        &[TUS, OCTETS, ("Authorization", &auth), ("Upload-Offset", "0")],
        &data[..1_000_000],
    )
    .await;
    assert_eq!(r.header("upload-offset").as_deref(), Some("1000000"));

    // The next PATCH is under way (1.5 of its 3 MB sent) when the server is killed.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PATCH {up} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n\
         Authorization: {auth}\r\nUpload-Offset: 1000000\r\nContent-Length: 3000000\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&data[1_000_000..2_500_000]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill().await;
    drop(s);

    let _server = Server::start(dir.path(), port).await;
    let r = http_raw(&addr, "HEAD", &up, &[TUS, ("Authorization", &auth)], b"").await;
    assert_eq!(r.status, 200);
    let offset: usize = r.header("upload-offset").unwrap().parse().unwrap();
    assert_eq!(offset, 1_000_000, "the stored offset survives; the request in flight does not");
    let at = offset.to_string();
    let r = http_raw(
        &addr,
        "PATCH",
        &up,
        &[TUS, OCTETS, ("Authorization", &auth), ("Upload-Offset", &at)],
        &data[offset..],
    )
    .await;
    assert_eq!((r.status, r.header("upload-offset").as_deref()), (204, Some("4000000")));
    let file_id = r.header("switchboard-file-id").unwrap();
    let c = switchboard_client::Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let files: pb::GetFilesResponse =
        c.call("FileService/GetFiles", &pb::GetFilesRequest { file_ids: vec![file_id] }).await.unwrap();
    assert_eq!(files.files[0].sha256, hex(&Sha256::digest(&data)));
    let r = http_raw(&addr, "GET", &files.files[0].url, &[("Authorization", &auth)], b"").await;
    assert!(r.body == data);
}
