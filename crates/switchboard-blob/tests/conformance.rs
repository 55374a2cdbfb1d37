//! The blob-store contract, run on both engines: the data directory always, and S3 when
//! `SWITCHBOARD_TEST_S3_URL` names a bucket (`http://127.0.0.1:5055/switchboard-test`; CI
//! starts moto there). Without it the S3 runs print why and pass.

use bytes::Bytes;
use futures_util::StreamExt;
use switchboard_blob::{BlobError, BlobId, BlobStore, ByteStream, S3Options};

/// Each test's own store: a fresh directory, or a fresh prefix of the test bucket.
async fn engines() -> Vec<(BlobStore, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = vec![(BlobStore::filesystem(&dir.path().join("files")).unwrap(), Some(dir))];
    match std::env::var("SWITCHBOARD_TEST_S3_URL") {
        Ok(url) => {
            let (endpoint, bucket) = url.trim_end_matches('/').rsplit_once('/').expect("URL ends with the bucket");
            let options = S3Options {
                endpoint: endpoint.to_owned(),
                bucket: bucket.to_owned(),
                region: "us-east-1".into(),
                access_key_id: std::env::var("SWITCHBOARD_TEST_S3_KEY").unwrap_or_else(|_| "test".into()),
                secret_access_key: std::env::var("SWITCHBOARD_TEST_S3_SECRET").unwrap_or_else(|_| "test".into()),
                prefix: format!("t{:x}", rand::random::<u64>()),
            };
            out.push((BlobStore::s3(&options).unwrap(), None));
        }
        Err(_) => eprintln!("skipped on S3: SWITCHBOARD_TEST_S3_URL is not set"),
    }
    out
}

/// `total` bytes of a repeatable pattern, in chunks of `chunk`.
fn pattern(total: usize) -> Vec<u8> {
    (0..total).map(|i| (i * 31 % 251) as u8).collect()
}

fn chunked(bytes: Vec<u8>, chunk: usize) -> ByteStream {
    let chunks: Vec<Result<Bytes, BlobError>> = bytes.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    futures_util::stream::iter(chunks).boxed()
}

async fn read(s: ByteStream) -> Vec<u8> {
    let parts: Vec<_> = s.collect().await;
    parts.into_iter().flat_map(|p| p.unwrap().to_vec()).collect()
}

#[tokio::test]
async fn bytes_come_back_as_they_went_in_under_their_sha256() {
    for (store, _dir) in engines().await {
        let data = pattern(100_000);
        let stored = store.put(chunked(data.clone(), 4096), None, u64::MAX).await.unwrap();
        assert_eq!(stored.id, BlobId::of(&data), "{store:?}");
        assert_eq!((stored.size, stored.new), (100_000, true));
        assert_eq!(store.size(&stored.id).await.unwrap(), Some(100_000));
        assert_eq!(store.get_bytes(&stored.id).await.unwrap(), data, "{store:?}");
        assert_eq!(BlobId::parse(&stored.id.hex()), Some(stored.id));
        // The empty blob is a blob too.
        let empty = store.put_bytes(Bytes::new()).await.unwrap();
        assert_eq!(empty.size, 0);
        assert!(store.get_bytes(&empty.id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_same_bytes_are_stored_once() {
    for (store, _dir) in engines().await {
        let data = pattern(10_000);
        let first = store.put(chunked(data.clone(), 1000), None, u64::MAX).await.unwrap();
        let second = store.put(chunked(data.clone(), 333), Some(first.id), u64::MAX).await.unwrap();
        assert_eq!(first.id, second.id);
        assert!(first.new && !second.new, "{store:?}");
        let listed: Vec<BlobId> = store.list().map(|r| r.unwrap()).collect().await;
        assert_eq!(listed, vec![first.id], "{store:?}: the listing shows one blob, and no incoming leftovers");
        // Concurrent writers of the same bytes end with one blob.
        let other = pattern(50_000);
        let puts = (0..4).map(|_| store.put(chunked(other.clone(), 7000), None, u64::MAX));
        let results = futures_util::future::join_all(puts).await;
        assert!(results.iter().all(|r| r.as_ref().unwrap().id == BlobId::of(&other)));
        assert_eq!(store.list().count().await, 2);
    }
}

#[tokio::test]
async fn a_wrong_checksum_or_too_many_bytes_store_nothing() {
    for (store, _dir) in engines().await {
        let data = pattern(20_000);
        let declared = BlobId::of(b"something else");
        let err = store.put(chunked(data.clone(), 1000), Some(declared), u64::MAX).await.unwrap_err();
        assert_eq!(err, BlobError::Mismatch { declared, received: BlobId::of(&data) }, "{store:?}");
        let err = store.put(chunked(data.clone(), 1000), None, 19_999).await.unwrap_err();
        assert_eq!(err, BlobError::TooLarge { limit: 19_999 });
        // A stream that fails mid-way (the client went away).
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"half")),
            Err(BlobError::Incoming("connection reset".into())),
        ])
        .boxed();
        assert!(matches!(store.put(broken, None, u64::MAX).await, Err(BlobError::Incoming(_))));
        assert_eq!(store.size(&BlobId::of(&data)).await.unwrap(), None);
        assert_eq!(store.list().count().await, 0, "{store:?}");
        // Nothing half-written is left behind either.
        assert_eq!(store.collect_incoming(std::time::Duration::ZERO).await.unwrap(), 0, "{store:?}");
    }
}

#[tokio::test]
async fn ranges_read_exactly_their_bytes() {
    for (store, _dir) in engines().await {
        let data = pattern(65_537);
        let id = store.put_bytes(Bytes::from(data.clone())).await.unwrap().id;
        for range in [0..1, 0..65_537, 1000..2000, 65_536..65_537, 60_000..u64::MAX] {
            let got = read(store.get(&id, Some(range.clone())).await.unwrap()).await;
            let end = range.end.min(65_537) as usize;
            assert_eq!(got, data[range.start as usize..end], "{store:?} {range:?}");
        }
        for range in [65_537..65_600, 70_000..80_000, 10..10] {
            assert_eq!(
                store.get(&id, Some(range.clone())).await.err(),
                Some(BlobError::RangeNotSatisfiable { size: 65_537 }),
                "{store:?} {range:?}"
            );
        }
    }
}

#[tokio::test]
async fn missing_blobs_are_not_found_and_deletes_are_idempotent() {
    for (store, _dir) in engines().await {
        let nobody = BlobId::of(b"never stored");
        assert_eq!(store.size(&nobody).await.unwrap(), None);
        assert_eq!(store.get(&nobody, None).await.err(), Some(BlobError::NotFound), "{store:?}");
        assert_eq!(store.get(&nobody, Some(0..10)).await.err(), Some(BlobError::NotFound));
        store.delete(&nobody).await.unwrap();
        let id = store.put_bytes(Bytes::from_static(b"short-lived")).await.unwrap().id;
        store.delete(&id).await.unwrap();
        store.delete(&id).await.unwrap();
        assert_eq!(store.size(&id).await.unwrap(), None);
        store.check().await.unwrap();
    }
}

/// Larger than several multipart parts, streamed in small chunks: stored whole, read back
/// whole and by a range across a part boundary.
#[tokio::test]
async fn a_blob_of_many_parts_streams_through() {
    for (store, _dir) in engines().await {
        let data = pattern(20 << 20);
        let stored = store.put(chunked(data.clone(), 64 << 10), None, u64::MAX).await.unwrap();
        assert_eq!(stored.size, 20 << 20);
        assert_eq!(stored.id, BlobId::of(&data));
        let across = (8 << 20) - 10..(8 << 20) + 10;
        let got = read(store.get(&stored.id, Some(across.clone())).await.unwrap()).await;
        assert_eq!(got, data[across.start as usize..across.end as usize], "{store:?}");
        assert_eq!(store.get_bytes(&stored.id).await.unwrap().len(), 20 << 20);
    }
}

#[tokio::test]
async fn upload_parts_keep_what_arrived_and_join_into_one_blob() {
    for (store, _dir) in engines().await {
        let data = pattern(300_000);
        let mut seen = 0u64;
        let (n, broke) = store
            .put_part("up1", "a", chunked(data[..100_000].to_vec(), 7000), 1 << 20, |c| seen += c.len() as u64)
            .await
            .unwrap();
        assert_eq!((n, broke, seen), (100_000, None, 100_000), "{store:?}");
        // A stream that fails midway keeps the bytes that arrived.
        let half: Vec<Result<Bytes, BlobError>> = vec![
            Ok(Bytes::copy_from_slice(&data[100_000..150_000])),
            Err(BlobError::Incoming("client went away".into())),
        ];
        let (n, broke) =
            store.put_part("up1", "b", futures_util::stream::iter(half).boxed(), 1 << 20, |_| {}).await.unwrap();
        assert_eq!(n, 50_000);
        assert!(matches!(broke, Some(BlobError::Incoming(_))));
        // Too much is refused and keeps nothing; the part is written again.
        let err = store.put_part("up1", "c", chunked(data[150_000..].to_vec(), 4096), 1000, |_| {}).await.unwrap_err();
        assert_eq!(err, BlobError::TooLarge { limit: 1000 });
        store.put_part("up1", "c", chunked(data[150_000..].to_vec(), 4096), 1 << 20, |_| {}).await.unwrap();
        assert_eq!(read(store.parts("up1", &names(&["a", "b", "c"])).unwrap()).await, data, "{store:?}");
        let id = BlobId::of(&data);
        let stored = store.join_parts("up1", &names(&["a", "b", "c"]), id, 300_000).await.unwrap();
        assert_eq!((stored.id, stored.new), (id, true));
        assert_eq!(store.get_bytes(&id).await.unwrap(), data);
        assert!(store.get(&id, None).await.is_ok());
        assert!(read(store.parts("up1", &[]).unwrap()).await.is_empty());
        // One part is moved into place; joining bytes already stored keeps one copy.
        store.put_part("up2", "x", chunked(data.clone(), 65_536), 1 << 20, |_| {}).await.unwrap();
        assert!(!store.join_parts("up2", &names(&["x"]), id, 300_000).await.unwrap().new);
        let single = pattern(5000);
        store.put_part("up3", "y", chunked(single.clone(), 999), 1 << 20, |_| {}).await.unwrap();
        let s = store.join_parts("up3", &names(&["y"]), BlobId::of(&single), 5000).await.unwrap();
        assert!(s.new);
        assert_eq!(store.get_bytes(&s.id).await.unwrap(), single);
        // Ids that could be paths are refused.
        assert!(store.put_part("../x", "a", chunked(vec![1], 1), 10, |_| {}).await.is_err());
        store.delete_parts("up9").await.unwrap();
        store.put_part("up4", "z", chunked(vec![1, 2, 3], 1), 10, |_| {}).await.unwrap();
        store.delete_part("up4", "z").await.unwrap();
        assert!(store.parts("up4", &names(&["z"])).is_ok());
        assert!(read_result(store.parts("up4", &names(&["z"])).unwrap()).await.is_err(), "a deleted part is gone");
    }
}

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

async fn read_result(s: ByteStream) -> Result<Vec<u8>, BlobError> {
    let mut out = Vec::new();
    let parts: Vec<_> = s.collect().await;
    for p in parts {
        out.extend_from_slice(&p?);
    }
    Ok(out)
}
