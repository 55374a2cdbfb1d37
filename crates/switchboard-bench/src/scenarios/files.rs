//! Files: upload and download throughput of one large file over loopback (one tus
//! creation-with-upload request, sha256 computed by the server; one GET), the server's
//! memory growth during each transfer, concurrent photo uploads timed until their
//! `file_ready` event, and the preview latency of one 12-megapixel JPEG.

use std::collections::HashMap;
use std::io::Cursor;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use switchboard_client::proto as pb;
use switchboard_client::{Client, StreamEvent, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

use super::result;
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};
use crate::{Target, stats::Samples};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Bytes of the large file.
    pub file_bytes: u64,
    /// Photos uploaded at once.
    pub photos: usize,
    /// Pixels of each photo (width; height is two thirds of it).
    pub photo_width: u32,
    /// Width of the large photo whose preview latency is measured (4000 = 12 MP).
    pub big_photo_width: u32,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { file_bytes: 32 << 20, photos: 8, photo_width: 1200, big_photo_width: 1500 }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { file_bytes: 1 << 30, photos: 100, photo_width: 2700, big_photo_width: 4000 }
    }
}

#[derive(Serialize)]
struct Metrics {
    upload_mb_per_sec: f64,
    upload_rss_growth_mb: Option<f64>,
    download_mb_per_sec: f64,
    download_rss_growth_mb: Option<f64>,
    photo_bytes: usize,
    photos_until_ready: crate::stats::Summary,
    big_photo_preview_ms: f64,
}

/// Samples the server's memory every 50 ms until dropped; the peak above the start.
struct RssWatch {
    task: tokio::task::JoinHandle<u64>,
    stop: tokio::sync::watch::Sender<bool>,
    start: Option<u64>,
}

impl RssWatch {
    fn start(target: &Target) -> Self {
        let t = target.clone();
        let start = t.server_rss();
        let (stop, mut rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut peak = 0;
            loop {
                peak = peak.max(t.server_rss().unwrap_or(0));
                tokio::select! {
                    _ = rx.changed() => return peak,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        });
        Self { task, stop, start }
    }

    async fn growth_mb(self) -> Option<f64> {
        let _ = self.stop.send(true);
        let peak = self.task.await.ok()?;
        Some(peak.saturating_sub(self.start?) as f64 / 1e6)
    }
}

/// Sends a request head, then `body_len` bytes from `fill`, and reads the reply head.
async fn request(
    addr: &str,
    head: String,
    body_len: u64,
    mut fill: impl FnMut(&mut [u8]),
) -> anyhow::Result<(u16, String, BufReader<tokio::net::TcpStream>)> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    s.write_all(head.as_bytes()).await?;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        fill(&mut buf[..n]);
        s.write_all(&buf[..n]).await?;
        left -= n as u64;
    }
    let mut r = BufReader::new(s);
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let b = r.read_u8().await.context("reply head")?;
        head.push(b);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).context("status")?;
    Ok((status, head, r))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).map(str::trim)
}

/// Uploads `len` bytes (or `bytes`) with tus creation-with-upload; returns the file id.
async fn upload(addr: &str, token: &str, len: u64, fill: impl FnMut(&mut [u8])) -> anyhow::Result<String> {
    let head = format!(
        "POST /v1/uploads/ HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Length: {len}\r\nContent-Length: {len}\r\n\
         Connection: close\r\n\r\n"
    );
    let (status, head, _) = request(addr, head, len, fill).await?;
    anyhow::ensure!(status == 201, "upload answered {status}");
    header(&head, "switchboard-file-id").map(str::to_owned).context("no file id")
}

/// A noisy JPEG photo of `width` × 2/3 `width` (photo-like size per pixel).
fn photo(width: u32) -> Vec<u8> {
    let height = width * 2 / 3;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed & 0x3f) as u8;
        image::Rgb([((x / 3) as u8).wrapping_add(n), ((y / 3) as u8).wrapping_add(n), 96u8.wrapping_add(n)])
    });
    let mut out = Cursor::new(Vec::new());
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92);
    image::DynamicImage::ImageRgb8(img).write_with_encoder(enc).expect("encode");
    out.into_inner()
}

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let addr = target.addr.as_str();
    let user = setup::users(addr, &format!("fi{}_", now_micros() % 1_000_000), 1, 1).await?.remove(0);

    // One large file up, then down.
    let watch = RssWatch::start(target);
    let t = Instant::now();
    let mut counter = 0u64;
    let id = upload(addr, &user.token, p.file_bytes, |b| {
        for chunk in b.chunks_mut(8) {
            counter = counter.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let bytes = counter.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    })
    .await?;
    let upload_secs = t.elapsed().as_secs_f64();
    let upload_rss = watch.growth_mb().await;

    let watch = RssWatch::start(target);
    let t = Instant::now();
    let head = format!(
        "GET /v1/files/{id} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        user.token
    );
    let (status, _, mut body) = request(addr, head, 0, |_| {}).await?;
    anyhow::ensure!(status == 200, "download answered {status}");
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    loop {
        let n = body.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    anyhow::ensure!(got == p.file_bytes, "downloaded {got} of {} bytes", p.file_bytes);
    let download_secs = t.elapsed().as_secs_f64();
    let download_rss = watch.growth_mb().await;

    // Photos at once, each timed from the start of its upload to its file_ready event.
    let mut c = Client::connect(addr, Transport::WsBinary, Some(&user.token)).await?;
    let mut events = c.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await?;
    loop {
        match events.next_within(Duration::from_secs(30)).await {
            Some(StreamEvent::Event(e)) if matches!(e.kind, Some(pb::event::Kind::CaughtUp(_))) => break,
            Some(StreamEvent::Event(_)) => {}
            _ => anyhow::bail!("no caught_up"),
        }
    }
    let base = photo(p.photo_width);
    let photo_bytes = base.len();
    let begun = Instant::now();
    let uploads: Vec<_> = (0..p.photos)
        .map(|i| {
            // Distinct bytes after the end of the image keep each photo its own blob.
            let mut bytes = base.clone();
            bytes.extend_from_slice(format!("photo {i} {}", now_micros()).as_bytes());
            let (addr, token) = (addr.to_owned(), user.token.clone());
            tokio::spawn(async move {
                let mut at = 0usize;
                let len = bytes.len() as u64;
                let id = upload(&addr, &token, len, |b| {
                    b.copy_from_slice(&bytes[at..at + b.len()]);
                    at += b.len();
                })
                .await?;
                anyhow::Ok(id)
            })
        })
        .collect();
    let mut pending: HashMap<String, ()> = HashMap::new();
    for u in uploads {
        pending.insert(u.await??, ());
    }
    let mut samples = Samples::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match events.next_within(left).await {
            Some(StreamEvent::Event(e)) => {
                if let Some(pb::event::Kind::FileReady(r)) = e.kind
                    && let Some(f) = r.file
                    && pending.remove(&f.id).is_some()
                {
                    samples.push(begun.elapsed().as_micros() as u64);
                }
            }
            _ => anyhow::bail!("{} photos never became ready", pending.len()),
        }
    }

    // One 12-megapixel photo: from its stored upload to its previews.
    let big = photo(p.big_photo_width);
    let mut at = 0usize;
    let big_id = upload(addr, &user.token, big.len() as u64, |b| {
        b.copy_from_slice(&big[at..at + b.len()]);
        at += b.len();
    })
    .await?;
    let t = Instant::now();
    loop {
        match events.next_within(Duration::from_secs(120)).await {
            Some(StreamEvent::Event(e)) => {
                if let Some(pb::event::Kind::FileReady(r)) = e.kind
                    && r.file.is_some_and(|f| f.id == big_id)
                {
                    break;
                }
            }
            _ => anyhow::bail!("the big photo never became ready"),
        }
    }
    let big_ms = t.elapsed().as_secs_f64() * 1000.0;
    c.close().await;

    let mb = p.file_bytes as f64 / 1e6;
    let metrics = Metrics {
        upload_mb_per_sec: mb / upload_secs,
        upload_rss_growth_mb: upload_rss,
        download_mb_per_sec: mb / download_secs,
        download_rss_growth_mb: download_rss,
        photo_bytes,
        photos_until_ready: samples.summary(),
        big_photo_preview_ms: big_ms,
    };
    Ok(result("files", p, &metrics, started))
}
