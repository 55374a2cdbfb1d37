//! Media over the real protocols: image previews, blurhash and metadata removal, the
//! pixel guard, avatars, voice notes and audio/video facts, and collection of the bytes
//! nobody uses.

use std::time::Duration;

use sha2::{Digest, Sha256};
use switchboard_client::Transport;
use switchboard_client::proto as pb;

use crate::files::*;
use crate::helpers::*;

/// A JPEG with an EXIF block carrying a GPS position (and the orientation tag).
pub fn photo_with_gps(width: u32, height: u32) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x / 8 % 256) as u8, (y / 8 % 256) as u8, 128]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let mut j = img_parts::jpeg::Jpeg::from_bytes(jpeg.into_inner().into()).unwrap();
    // A TIFF header and one IFD entry (orientation 1), then the position as text a reader
    // would find.
    let mut exif = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x01\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPSLatitude 51.5007N GPSLongitude 0.1246W");
    use img_parts::ImageEXIF;
    j.set_exif(Some(exif.into()));
    j.encoder().bytes().to_vec()
}

/// A PNG whose header claims 60000 × 60000 pixels (a decompression bomb's shape).
fn png_bomb() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

#[tokio::test]
async fn photos_get_previews_and_a_blurhash_lose_their_gps_and_bombs_are_refused() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let a = app.client(&ann, Transport::Grpc).await;
    let mut b = app.client(&bob, Transport::WsBinary).await;
    let conv = conv_id(&group(&a, pb::ConversationKind::Group, "pics", &[&bob]).await);
    let mut events = b.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;

    let photo = photo_with_gps(1600, 1200);
    assert!(photo.windows(11).any(|w| w == b"GPSLatitude"));
    let f = upload_once(&app, &ann, "beach.jpg", &photo).await;
    let file_id = f["id"].as_str().unwrap().to_owned();
    assert_eq!(f["mime"].as_str(), Some("image/jpeg"));
    assert_eq!(f["state"].as_str(), Some("FILE_STATE_PROCESSING"));
    // Sent while processing: bob hears FileReady once previews exist.
    let _: pb::SendMessageResponse = a
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv.clone(),
                client_key: "pic".into(),
                text: Some(pb::TextContent {
                    text: "look".into(),
                    attachments: vec![pb::Attachment { file_id: file_id.clone(), ..Default::default() }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ready = wait_for(&mut events, 20, |e| matches!(e.kind, Some(pb::event::Kind::FileReady(_)))).await;
    let Some(pb::event::Kind::FileReady(ready)) = ready.kind else { unreachable!() };
    let file = ready.file.unwrap();
    assert_eq!(file.id, file_id);
    assert_eq!((file.state, file.width, file.height), (pb::FileState::Ready as i32, 1600, 1200));
    assert!(file.blurhash.len() >= 6, "{}", file.blurhash);
    let sizes: Vec<_> = file.thumbnails.iter().map(|t| (t.size.as_str(), t.width, t.height)).collect();
    assert_eq!(sizes, vec![("small", 320, 240), ("large", 1280, 960)]);

    // What is served has no GPS, still decodes, and is what the record's hash says.
    let served = get(&app, Some(&bob), &file.url, &[]).await;
    assert_eq!(served.status, 200);
    assert!(!served.body.windows(11).any(|w| w == b"GPSLatitude"), "EXIF GPS is gone");
    assert_eq!(hex(&Sha256::digest(&served.body)), file.sha256);
    assert_eq!(served.header("content-type").as_deref(), Some("image/jpeg"));
    assert!(served.header("content-disposition").unwrap().starts_with("inline;"));
    let decoded = image::load_from_memory(&served.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1600, 1200));
    // The previews download, by token and by signed link.
    let small = get(&app, Some(&bob), &file.thumbnails[0].url, &[]).await;
    assert_eq!(small.status, 200);
    let t = image::load_from_memory(&small.body).unwrap();
    assert_eq!((t.width(), t.height()), (320, 240));
    let link: pb::GetDownloadUrlResponse = b
        .call(
            "FileService/GetDownloadUrl",
            &pb::GetDownloadUrlRequest { file_id: file_id.clone(), thumbnail: "large".into() },
        )
        .await
        .unwrap();
    let large = get(&app, None, &link.url, &[]).await;
    assert_eq!(large.status, 200);
    assert_eq!(image::load_from_memory(&large.body).unwrap().width(), 1280);
    assert_eq!(get(&app, Some(&bob), &format!("/v1/files/{file_id}/thumbnails/huge"), &[]).await.status, 404);

    // A decompression bomb: refused from its header when the upload completes.
    let bomb = png_bomb();
    let auth = bearer(&ann);
    let r = http_raw(&app.addr, "POST", "/v1/files?name=bomb.png", &[("Authorization", &auth)], &bomb).await;
    assert_eq!((r.status, r.json()["reason"].as_str()), (400, Some("image_too_large")), "{:?}", r.json());
}

/// Uploads `bytes` as a public file in one request; returns its id.
async fn upload_public(app: &TestApp, user: &TestUser, bytes: &[u8]) -> String {
    let auth = bearer(user);
    let r = http_raw(&app.addr, "POST", "/v1/files?name=me.jpg&public=true", &[("Authorization", &auth)], bytes).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["id"].as_str().unwrap().to_owned()
}

/// Waits until a file's processing is done; returns its record.
async fn ready(c: &switchboard_client::Client, id: &str) -> pb::File {
    for _ in 0..200 {
        let r: pb::GetFilesResponse =
            c.call("FileService/GetFiles", &pb::GetFilesRequest { file_ids: vec![id.to_owned()] }).await.unwrap();
        if r.files[0].state == pb::FileState::Ready as i32 {
            return r.files[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("file {id} never became ready");
}

#[tokio::test]
async fn avatars_of_users_groups_and_spaces_are_square_public_previews_shown_everywhere() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let a = app.client(&ann, Transport::Grpc).await;
    let b = app.client(&bob, Transport::WsJson).await;

    // A private file, or someone else's, is no avatar.
    let private = upload_once(&app, &ann, "p.jpg", &photo_with_gps(300, 200)).await;
    let err = a
        .call::<_, pb::UpdateProfileResponse>(
            "UserService/UpdateProfile",
            &pb::UpdateProfileRequest {
                avatar_file_id: Some(private["id"].as_str().unwrap().into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code_of(err), pb::ErrorCode::InvalidArgument);
    let bobs = upload_public(&app, &bob, &photo_with_gps(300, 200)).await;
    let err = a
        .call::<_, pb::UpdateProfileResponse>(
            "UserService/UpdateProfile",
            &pb::UpdateProfileRequest { avatar_file_id: Some(bobs), ..Default::default() },
        )
        .await;
    assert_eq!(code_of(err), pb::ErrorCode::NotFound);

    // A public photo: its square preview is readable by anyone signed in.
    let id = upload_public(&app, &ann, &photo_with_gps(640, 400)).await;
    let f = ready(&a, &id).await;
    let sq = f.thumbnails.iter().find(|t| t.size == "avatar").expect("an avatar preview");
    assert_eq!((sq.width, sq.height), (256, 256));
    let r: pb::UpdateProfileResponse = a
        .call(
            "UserService/UpdateProfile",
            &pb::UpdateProfileRequest { avatar_file_id: Some(id.clone()), ..Default::default() },
        )
        .await
        .unwrap();
    let me = r.user.unwrap();
    assert_eq!(
        (me.avatar_file_id.as_str(), me.avatar_url.clone()),
        (id.as_str(), format!("/v1/files/{id}/thumbnails/avatar"))
    );
    let seen: pb::GetUsersResponse =
        b.call("UserService/GetUsers", &pb::GetUsersRequest { user_ids: vec![ann.id.clone()] }).await.unwrap();
    assert_eq!(seen.users[0].avatar_url, me.avatar_url);
    let img = get(&app, Some(&bob), &me.avatar_url, &[]).await;
    assert_eq!(img.status, 200);
    let decoded = image::load_from_memory(&img.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 256));

    // A group's avatar, with a service message; removed again with "".
    let g = group(&a, pb::ConversationKind::Group, "team", &[&bob]).await;
    let gid = conv_id(&g);
    let r: pb::UpdateConversationResponse = a
        .call(
            "ConversationService/UpdateConversation",
            &pb::UpdateConversationRequest {
                conversation_id: gid.clone(),
                avatar_file_id: Some(id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.conversation.unwrap().conversation.unwrap().avatar_file_id, id);
    let v = view(&b, &gid).await;
    assert_eq!(v.conversation.as_ref().unwrap().avatar_url, me.avatar_url);
    let Some(pb::message::Content::Service(s)) = v.last_message.unwrap().content else { panic!("a service message") };
    assert_eq!((s.action, s.target_id.as_str()), (pb::ServiceAction::AvatarChanged as i32, id.as_str()));
    // bob is a plain member: no edit-info right.
    let err = b
        .call::<_, pb::UpdateConversationResponse>(
            "ConversationService/UpdateConversation",
            &pb::UpdateConversationRequest {
                conversation_id: gid.clone(),
                avatar_file_id: Some(String::new()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code_of(err), pb::ErrorCode::PermissionDenied);
    let r: pb::UpdateConversationResponse = a
        .call(
            "ConversationService/UpdateConversation",
            &pb::UpdateConversationRequest {
                conversation_id: gid.clone(),
                avatar_file_id: Some(String::new()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(r.conversation.unwrap().conversation.unwrap().avatar_file_id.is_empty());

    // A space's avatar.
    let s: pb::CreateSpaceResponse = a
        .call("SpaceService/CreateSpace", &pb::CreateSpaceRequest { name: "Club".into(), ..Default::default() })
        .await
        .unwrap();
    let sid = s.space.unwrap().id;
    let r: pb::UpdateSpaceResponse = a
        .call(
            "SpaceService/UpdateSpace",
            &pb::UpdateSpaceRequest { space_id: sid, avatar_file_id: Some(id.clone()), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(r.space.unwrap().avatar_url, me.avatar_url);

    // Deleting the file takes the avatars with it.
    let _: pb::DeleteFileResponse =
        a.call("FileService/DeleteFile", &pb::DeleteFileRequest { file_id: id }).await.unwrap();
    let me: pb::GetMeResponse = a.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
    assert!(me.user.unwrap().avatar_url.is_empty());
}

fn media_fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../switchboard-media/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn voice_notes_keep_their_waveform_and_audio_and_video_get_durations() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let c = app.http(&ann).await;
    // A voice note over tus, with the waveform the recording client computed.
    let voice = media_fixture("voice.ogg");
    let wave: Vec<u8> = (0..50u8).map(|i| i * 5).collect();
    let meta = format!("filename {},waveform {}", b64(b"note.ogg"), b64(&wave));
    let up = create(&app, &ann, voice.len(), &meta).await;
    let r = patch(&app, &ann, &up, 0, &voice, &[]).await;
    let id = r.header("switchboard-file-id").unwrap();
    let f = ready(&c, &id).await;
    assert_eq!((f.mime.as_str(), f.waveform.clone()), ("audio/opus", wave));
    assert!(f.duration_ms.abs_diff(2500) <= 150, "{}", f.duration_ms);
    // A video in one request: duration and dimensions.
    let clip = upload_once(&app, &ann, "clip.mp4", &media_fixture("clip.mp4")).await;
    let f = ready(&c, clip["id"].as_str().unwrap()).await;
    assert_eq!((f.width, f.height), (160, 90));
    assert!(f.duration_ms.abs_diff(2000) <= 150, "{}", f.duration_ms);
    // Too long a waveform is refused at creation.
    let err = c
        .call::<_, pb::CreateUploadResponse>(
            "FileService/CreateUpload",
            &pb::CreateUploadRequest { name: "n".into(), length: 10, waveform: vec![1; 101], ..Default::default() },
        )
        .await;
    assert_eq!(code_of(err), pb::ErrorCode::InvalidArgument);
}

#[tokio::test]
async fn the_bytes_of_deleted_files_are_collected_after_the_grace_period() {
    let app = TestApp::spawn_with(|c| c.service.files.blob_grace_secs = 60).await;
    let ann = app.register("ann").await;
    let c = app.http(&ann).await;
    let f = upload_once(&app, &ann, "gone.bin", &noise(10_000)).await;
    let kept = upload_once(&app, &ann, "kept.bin", &noise(20_000)).await;
    let sha = f["sha256"].as_str().unwrap().to_owned();
    let blobs = app.services().blobs().clone();
    let id = switchboard_service::BlobId::parse(&sha).unwrap();
    assert!(blobs.size(&id).await.unwrap().is_some());
    let _: pb::DeleteFileResponse = c
        .call("FileService/DeleteFile", &pb::DeleteFileRequest { file_id: f["id"].as_str().unwrap().into() })
        .await
        .unwrap();
    // Within the grace period nothing goes.
    assert_eq!(app.services().collect_files().await.unwrap().1, 0);
    assert!(blobs.size(&id).await.unwrap().is_some());
    app.advance(Duration::from_secs(61));
    assert_eq!(app.services().collect_files().await.unwrap().1, 1);
    assert!(blobs.size(&id).await.unwrap().is_none(), "the unused blob is gone");
    assert_eq!(get(&app, Some(&ann), kept["url"].as_str().unwrap(), &[]).await.status, 200, "a used one stays");
}
