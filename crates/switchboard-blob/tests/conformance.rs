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
