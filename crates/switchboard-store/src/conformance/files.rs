//! The conformance checks of the files aggregate.

use switchboard_core::FileId;
use switchboard_core::model::{Content, ConversationKind};

use super::{group, text, users};
use crate::{CreatedUpload, FileFacts, NewFile, NewUpload, Store, StoreError};

/// Uploads respect the quota, advance only from where they are, become one file; files get
/// facts and thumbnails; carriers are the messages not deleted; unused blobs are collected
/// in two steps and a claim waits while one is being deleted.
pub async fn uploads_become_files_once_within_quota_and_blobs_are_collected_safely<S: Store>(s: &S) {
    use switchboard_core::model::{Attachment, FileState, Thumbnail};
    let ids = users(s, &["ann", "bob"]).await;
    let (ann, bob) = (ids[0], ids[1]);
    let upload = |id: &str, length: u64| NewUpload {
        id: id.into(),
        owner_id: ann,
        name: "a.bin".into(),
        declared_mime: "application/x-test".into(),
        length,
        declared_sha256: None,
        public: false,
        waveform: vec![3, 200, 9],
        quota: Some(1_000),
        now_ms: 10_000,
        expires_at_ms: 20_000,
    };
    let CreatedUpload::Created(up) = s.create_upload(upload("u1", 600)).await.unwrap() else { panic!("refused") };
    assert_eq!((up.offset, up.parts.len(), up.file_id), (0, 0, None));
    // 600 pending + 500 > 1000.
    assert_eq!(s.create_upload(upload("u2", 500)).await.unwrap(), CreatedUpload::OverQuota { used: 600 });
    let parts = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(s.advance_upload("u1", 0, 300, parts(&["p0"])).await.unwrap().is_some());
    assert!(s.advance_upload("u1", 0, 400, parts(&["q0"])).await.unwrap().is_none(), "a stale offset is refused");
    assert!(s.advance_upload("u1", 300, 601, parts(&["p0", "p1"])).await.unwrap().is_none(), "past the length");
    let up = s.advance_upload("u1", 300, 600, parts(&["p0", "p1"])).await.unwrap().unwrap();
    assert_eq!((up.offset, up.parts), (600, parts(&["p0", "p1"])));

    let sha = "ab".repeat(32);
    let new_file = NewFile {
        name: "a.bin".into(),
        mime: "image/png".into(),
        size: 600,
        sha256: sha.clone(),
        state: FileState::Processing,
        now_ms: 11_000,
    };
    assert!(matches!(s.complete_upload("u1", new_file.clone()).await, Err(StoreError::Conflict(_))), "unclaimed blob");
    assert!(s.claim_blob(&sha, 600, 11_000).await.unwrap());
    let f = s.complete_upload("u1", new_file.clone()).await.unwrap();
    assert_eq!(s.complete_upload("u1", new_file).await.unwrap().id, f.id, "completing twice gives the same file");
    assert_eq!((f.owner_id, f.size, f.state, f.public), (ann, 600, FileState::Processing, false));
    assert_eq!(f.waveform, vec![3, 200, 9], "the client's waveform goes with the file");
    assert_eq!(s.upload("u1").await.unwrap().unwrap().file_id, Some(f.id));
    assert_eq!(s.file_usage(ann, 12_000).await.unwrap(), 600);
    assert_eq!(s.processing_files(10).await.unwrap().iter().map(|f| f.id).collect::<Vec<_>>(), vec![f.id]);

    let thumb_sha = "cd".repeat(32);
    assert!(s.claim_blob(&thumb_sha, 40, 11_000).await.unwrap());
    let thumb = Thumbnail {
        size: "small".into(),
        width: 32,
        height: 16,
        sha256: thumb_sha.clone(),
        bytes: 40,
        mime: "image/webp".into(),
    };
    let facts = FileFacts {
        width: Some(64),
        height: Some(32),
        blurhash: Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj".into()),
        waveform: vec![0, 7, 255],
        thumbnails: vec![thumb.clone()],
        ..FileFacts::default()
    };
    let ready = s.set_file_facts(f.id, facts).await.unwrap().unwrap();
    assert_eq!((ready.state, ready.width, ready.height), (FileState::Ready, Some(64), Some(32)));
    assert_eq!((ready.waveform.clone(), ready.thumbnails.clone()), (vec![0, 7, 255], vec![thumb]));
    assert_eq!(s.files(&[FileId::from_raw(999_999), f.id]).await.unwrap(), vec![ready.clone()]);
    assert!(s.processing_files(10).await.unwrap().is_empty());

    // Carriers: messages not deleted for everyone.
    let conv = group(s, ConversationKind::Group, ann, &[bob]).await;
    let mut m = text(conv, ann, "look", Some("att-1"));
    m.content = Content::Text { text: "look".into(), entities: vec![], attachments: vec![Attachment::of(f.id)] };
    let sent = s.append_message(m, 12_000).await.unwrap().event;
    assert_eq!(s.file_carriers(f.id, 10).await.unwrap(), vec![(conv, sent.seq)]);
    s.delete_messages(conv, &[sent.message.id], ann, 13_000).await.unwrap();
    assert!(s.file_carriers(f.id, 10).await.unwrap().is_empty());

    // Collection: nothing in use or recent goes; an unused old blob is marked, then a
    // claim waits until it is dropped.
    let spare = "ef".repeat(32);
    assert!(s.claim_blob(&spare, 1, 5_000).await.unwrap());
    assert_eq!(s.collectable_blobs(9_000, 10).await.unwrap(), vec![spare.clone()]);
    assert!(!s.claim_blob(&spare, 1, 14_000).await.unwrap(), "a blob being deleted cannot be claimed");
    assert_eq!(s.collectable_blobs(9_000, 10).await.unwrap(), vec![spare.clone()], "marked ones come back");
    s.drop_blob(&spare).await.unwrap();
    assert!(s.collectable_blobs(9_000, 10).await.unwrap().is_empty());
    assert!(s.claim_blob(&spare, 1, 14_000).await.unwrap(), "claimed afresh once dropped");
    // Deleting the file frees its blobs once they are old enough.
    assert!(s.delete_file(f.id).await.unwrap());
    assert!(s.file(f.id).await.unwrap().is_none());
    let mut freed = s.collectable_blobs(20_000, 10).await.unwrap();
    freed.sort();
    assert_eq!(freed, vec![sha, thumb_sha, spare]);

    // Expiry lists old uploads; deleting one is once.
    assert_eq!(s.expired_uploads(30_000, 10).await.unwrap().len(), 1);
    assert!(s.delete_upload("u1").await.unwrap());
    assert!(!s.delete_upload("u1").await.unwrap());
}
