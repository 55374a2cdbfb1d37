//! Media processing, free of I/O: what type bytes are (sniffed, never taken from a client),
//! metadata removal from images that are served, and the facts and previews of an image
//! (dimensions after EXIF orientation, thumbnails, a blurhash), with a pixel-count guard
//! read from the header before anything is decoded.
//!
//! Formats: JPEG, PNG, WebP and GIF (its first frame) are decoded by the `image` crate.
//! Other types (HEIC among them, for which no pure-Rust decoder exists) are stored and
//! served without previews. Audio and video (MP3, Ogg, MP4/M4A, WebM/Matroska) get their
//! duration from their container (`symphonia`'s demuxers, nothing is decoded) and video
//! its dimensions (`mp4` for MP4, `matroska` for WebM).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, metadata::Orientation};
use img_parts::{Bytes, ImageEXIF};

/// Bytes [`sniff`] needs from the start of a file.
pub const SNIFF_BYTES: usize = 8192;

/// The type of a file, from its first bytes; `application/octet-stream` when unknown.
pub fn sniff(head: &[u8]) -> &'static str {
    match infer::get(head) {
        Some(t) => t.mime_type(),
        None if looks_like_text(head) => "text/plain",
        None => "application/octet-stream",
    }
}

/// Valid UTF-8 without control characters other than whitespace (a cut multi-byte
/// character at the end of the sample is allowed).
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
        Err(_) => return false,
    };
    !valid.is_empty() && valid.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

/// The image formats processed here, by sniffed type.
fn format_of(mime: &str) -> Option<ImageFormat> {
    match mime {
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        "image/webp" => Some(ImageFormat::WebP),
        "image/gif" => Some(ImageFormat::Gif),
        _ => None,
    }
}

/// True for the image types this crate decodes (they get previews and metadata removal).
pub fn is_processed_image(mime: &str) -> bool {
    format_of(mime).is_some()
}

/// Why an image was not processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// More pixels than allowed (a decompression bomb, or simply too large).
    #[error("the image has {width}x{height} pixels, more than the {limit} allowed")]
    TooManyPixels {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The limit.
        limit: u64,
    },
    /// The bytes are not a readable image of their type.
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
}

/// What to make of an image.
#[derive(Debug, Clone)]
pub struct ImageOptions {
    /// Most pixels (width × height) an image may have to be decoded.
    pub max_pixels: u64,
    /// Thumbnails to make: a name and the longest side in pixels. Sides smaller than the
    /// image's are skipped, except the first (there is always one preview).
    pub thumbnails: Vec<(String, u32)>,
}

impl Default for ImageOptions {
    fn default() -> Self {
        Self { max_pixels: 100_000_000, thumbnails: vec![("small".into(), 320), ("large".into(), 1280)] }
    }
}

/// One preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Its name (from [`ImageOptions::thumbnails`], or `avatar`).
    pub size: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Encoded bytes.
    pub bytes: Vec<u8>,
    /// `image/jpeg`, or `image/png` for images with transparency.
    pub mime: &'static str,
}

/// What an image is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    /// Pixels, after orientation.
    pub width: u32,
    /// Pixels, after orientation.
    pub height: u32,
    /// A blurred placeholder (4×3 components).
    pub blurhash: String,
    /// Previews, smallest first.
    pub previews: Vec<Preview>,
}

/// The pixel dimensions an image's header gives, checked against `max_pixels` before any
/// pixel is decoded.
pub fn check_dimensions(bytes: &[u8], mime: &str, max_pixels: u64) -> Result<(u32, u32), MediaError> {
    let decoder = decoder(bytes, mime, max_pixels)?;
    Ok(decoder.dimensions())
}

fn decoder<'a>(bytes: &'a [u8], mime: &str, max_pixels: u64) -> Result<impl ImageDecoder + 'a, MediaError> {
    let format = format_of(mime).ok_or_else(|| MediaError::Unreadable(format!("{mime} is not decoded here")))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The decoder's own allocation cap, as a second line behind the pixel check: four
    // bytes per pixel plus room for the decoder's buffers.
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|e| MediaError::Unreadable(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(MediaError::TooManyPixels { width, height, limit: max_pixels });
    }
    Ok(decoder)
}

/// Decodes an image (a GIF's first frame), applies its EXIF orientation, and makes its
/// previews and blurhash.
pub fn process_image(bytes: &[u8], mime: &str, options: &ImageOptions) -> Result<ImageFacts, MediaError> {
    let mut decoder = decoder(bytes, mime, options.max_pixels)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Unreadable(e.to_string()))?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    let mut previews = Vec::new();
    for (i, (name, side)) in options.thumbnails.iter().enumerate() {
        if i > 0 && width.max(height) <= previews.last().map_or(0, |p: &Preview| p.width.max(p.height)) {
            break;
        }
        let thumb = if width.max(height) > *side { image.thumbnail(*side, *side) } else { image.clone() };
        previews.push(encode_preview(name, &thumb)?);
    }
    Ok(ImageFacts { width, height, blurhash: blurhash_of(&image)?, previews })
}

/// A square crop of the middle of an image, `side` pixels wide (avatars).
pub fn square_preview(bytes: &[u8], mime: &str, side: u32, max_pixels: u64) -> Result<Preview, MediaError> {
    let mut decoder = decoder(bytes, mime, max_pixels)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Unreadable(e.to_string()))?;
    image.apply_orientation(orientation);
    let side = side.min(image.width()).min(image.height()).max(1);
    let square = image.resize_to_fill(side, side, image::imageops::FilterType::Triangle);
    encode_preview("avatar", &square)
}

fn encode_preview(name: &str, image: &DynamicImage) -> Result<Preview, MediaError> {
    let mut out = Cursor::new(Vec::new());
    let (mime, result) = if image.color().has_alpha() {
        ("image/png", image.write_to(&mut out, ImageFormat::Png))
    } else {
        let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82);
        ("image/jpeg", rgb.write_with_encoder(encoder))
    };
    result.map_err(|e| MediaError::Unreadable(format!("encode preview: {e}")))?;
    Ok(Preview { size: name.to_owned(), width: image.width(), height: image.height(), bytes: out.into_inner(), mime })
}

fn blurhash_of(image: &DynamicImage) -> Result<String, MediaError> {
    // The hash of a 32-pixel version is the same picture, computed 1000× faster.
    let small = image.thumbnail(32, 32).to_rgba8();
    blurhash::encode(4, 3, small.width(), small.height(), small.as_raw())
        .map_err(|e| MediaError::Unreadable(format!("blurhash: {e:?}")))
}

/// The bytes of an image without its metadata (EXIF with GPS position and camera serial,
/// XMP, IPTC, comments, text chunks), or `None` when it carries none. A JPEG keeps its
/// orientation (a minimal EXIF block with that one tag) so that it still shows upright.
/// Pixels are not touched: the image is not re-encoded.
pub fn strip_metadata(bytes: &[u8], mime: &str) -> Result<Option<Vec<u8>>, MediaError> {
    let unreadable = |e: img_parts::Error| MediaError::Unreadable(e.to_string());
    let input = Bytes::copy_from_slice(bytes);
    let out = match mime {
        "image/jpeg" => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(input).map_err(unreadable)?;
            let orientation = jpeg.exif().and_then(|e| Orientation::from_exif_chunk(&e));
            let before = jpeg.segments().len();
            // APP1 (EXIF, XMP), APP12-APP13 (Photoshop, IPTC), COM.
            jpeg.segments_mut().retain(|s| !matches!(s.marker(), 0xE1 | 0xEC | 0xED | 0xFE));
            let had_exif = jpeg.segments().len() != before;
            if !had_exif {
                return Ok(None);
            }
            if let Some(o) = orientation.filter(|o| *o != Orientation::NoTransforms) {
                jpeg.set_exif(Some(Bytes::from(orientation_exif(o))));
            }
            jpeg.encoder().bytes()
        }
        "image/png" => {
            let mut png = img_parts::png::Png::from_bytes(input).map_err(unreadable)?;
            let before = png.chunks().len();
            png.chunks_mut().retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME"));
            if png.chunks().len() == before {
                return Ok(None);
            }
            png.encoder().bytes()
        }
        "image/webp" => {
            let mut webp = img_parts::webp::WebP::from_bytes(input).map_err(unreadable)?;
            let had = webp.exif().is_some() || webp.chunk_by_id(img_parts::webp::CHUNK_XMP).is_some();
            if !had {
                return Ok(None);
            }
            webp.set_exif(None);
            webp.remove_chunks_by_id(img_parts::webp::CHUNK_XMP);
            webp.encoder().bytes()
        }
        _ => return Ok(None),
    };
    Ok(Some(out.to_vec()))
}

/// A TIFF-structured EXIF block holding only the orientation tag (0x0112).
fn orientation_exif(o: Orientation) -> Vec<u8> {
    let value: u16 = match o {
        Orientation::NoTransforms => 1,
        Orientation::FlipHorizontal => 2,
        Orientation::Rotate180 => 3,
        Orientation::FlipVertical => 4,
        Orientation::Rotate90FlipH => 5,
        Orientation::Rotate90 => 6,
        Orientation::Rotate270FlipH => 7,
        Orientation::Rotate270 => 8,
    };
    let mut out = Vec::with_capacity(26);
    out.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian TIFF header, IFD at 8
    out.extend_from_slice(&1u16.to_be_bytes()); // one entry
    out.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    out.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    out.extend_from_slice(&1u32.to_be_bytes()); // count 1
    out.extend_from_slice(&value.to_be_bytes());
    out.extend_from_slice(&[0, 0]); // value padding
    out.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    out
}

/// What an audio or video file's container says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AvFacts {
    /// Length of the longest track.
    pub duration_ms: Option<u64>,
    /// Pixels of the video track (MP4, WebM/Matroska).
    pub width: Option<u32>,
    /// Pixels of the video track (MP4, WebM/Matroska).
    pub height: Option<u32>,
}

/// True for the audio and video types whose container is read here.
pub fn is_probed_av(mime: &str) -> bool {
    av_extension(mime).is_some()
}

fn av_extension(mime: &str) -> Option<&'static str> {
    match mime {
        "audio/mpeg" => Some("mp3"),
        "audio/ogg" | "audio/opus" => Some("ogg"),
        "video/mp4" | "audio/mp4" | "audio/m4a" | "video/quicktime" => Some("mp4"),
        "video/webm" | "audio/webm" | "video/x-matroska" | "audio/x-matroska" => Some("mkv"),
        _ => None,
    }
}

/// Reads an audio or video file's duration (and a video's dimensions) from its container.
/// What the container does not say stays `None`; unreadable bytes give all `None`.
pub fn probe_av(bytes: &[u8], mime: &str) -> AvFacts {
    let mut facts = AvFacts { duration_ms: container_duration(bytes, mime), ..AvFacts::default() };
    if av_extension(mime) == Some("mp4")
        && let Ok(reader) = mp4::Mp4Reader::read_header(Cursor::new(bytes), bytes.len() as u64)
    {
        if let Some(video) = reader.tracks().values().find(|t| matches!(t.track_type(), Ok(mp4::TrackType::Video))) {
            facts.width = Some(u32::from(video.width()));
            facts.height = Some(u32::from(video.height()));
        }
        if facts.duration_ms.is_none() {
            facts.duration_ms = Some(reader.duration().as_millis() as u64).filter(|d| *d > 0);
        }
    }
    if av_extension(mime) == Some("mkv")
        && let Ok(mkv) = matroska::Matroska::open(Cursor::new(bytes))
    {
        if let Some(v) = mkv.tracks.iter().find_map(|t| match &t.settings {
            matroska::Settings::Video(v) => Some(v),
            _ => None,
        }) {
            facts.width = u32::try_from(v.pixel_width).ok();
            facts.height = u32::try_from(v.pixel_height).ok();
        }
        if facts.duration_ms.is_none() {
            facts.duration_ms = mkv.info.duration.map(|d| d.as_millis() as u64).filter(|d| *d > 0);
        }
    }
    facts
}

fn container_duration(bytes: &[u8], mime: &str) -> Option<u64> {
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;
    let mut hint = Hint::new();
    hint.with_extension(av_extension(mime)?);
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), MediaSourceStreamOptions::default());
    let probed = symphonia::default::get_probe()
        .format(&hint, source, &FormatOptions::default(), &MetadataOptions::default())
        .ok()?;
    probed
        .format
        .tracks()
        .iter()
        .filter_map(|t| {
            let p = &t.codec_params;
            let frames = p.n_frames?;
            let tb = p.time_base.or_else(|| p.sample_rate.map(|r| symphonia::core::units::TimeBase::new(1, r)))?;
            let time = tb.calc_time(frames);
            Some(time.seconds * 1000 + (time.frac * 1000.0) as u64)
        })
        .max()
        .filter(|d| *d > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn audio_and_video_containers_give_their_duration_and_video_its_dimensions() {
        // Made with ffmpeg: a 2.5 s Opus voice note, a 3 s MP3, 2 s of 160x90 video twice.
        let cases = [
            ("voice.ogg", "audio/opus", 2500, None),
            ("tone.mp3", "audio/mpeg", 3000, None),
            ("clip.mp4", "video/mp4", 2000, Some((160, 90))),
            ("clip.webm", "video/webm", 2000, Some((160, 90))),
        ];
        for (name, mime, ms, dims) in cases {
            let bytes = fixture(name);
            assert_eq!(sniff(&bytes), mime, "{name}");
            let facts = probe_av(&bytes, mime);
            let d = facts.duration_ms.unwrap_or_else(|| panic!("{name}: no duration"));
            assert!(d.abs_diff(ms) <= 150, "{name}: {d} ms, expected about {ms}");
            assert_eq!(facts.width.zip(facts.height), dims, "{name}");
        }
        assert_eq!(probe_av(b"not media at all", "audio/mpeg"), AvFacts::default());
    }

    #[test]
    fn an_animated_gif_gives_its_first_frame() {
        use image::codecs::gif::GifEncoder;
        use image::{Delay, Frame, RgbaImage};
        let mut out = Vec::new();
        {
            let mut enc = GifEncoder::new(&mut out);
            let red = RgbaImage::from_pixel(60, 40, image::Rgba([255, 0, 0, 255]));
            let blue = RgbaImage::from_pixel(60, 40, image::Rgba([0, 0, 255, 255]));
            for f in [red, blue] {
                enc.encode_frame(Frame::from_parts(f, 0, 0, Delay::from_numer_denom_ms(100, 1))).unwrap();
            }
        }
        assert_eq!(sniff(&out), "image/gif");
        let facts = process_image(&out, "image/gif", &ImageOptions::default()).unwrap();
        assert_eq!((facts.width, facts.height), (60, 40));
        let preview = image::load_from_memory(&facts.previews[0].bytes).unwrap().to_rgb8();
        let px = preview.get_pixel(30, 20);
        assert!(px[0] > 200 && px[2] < 60, "the first (red) frame, got {px:?}");
    }

    #[test]
    fn types_are_sniffed_from_bytes() {
        assert_eq!(sniff(&jpeg(8, 8)), "image/jpeg");
        assert_eq!(sniff(b"hello\nworld"), "text/plain");
        assert_eq!(sniff(&[0, 1, 2, 3, 0xff]), "application/octet-stream");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
    }

    #[test]
    fn images_get_previews_a_blurhash_and_their_dimensions() {
        let facts = process_image(&jpeg(2000, 1000), "image/jpeg", &ImageOptions::default()).unwrap();
        assert_eq!((facts.width, facts.height), (2000, 1000));
        let sizes: Vec<_> = facts.previews.iter().map(|p| (p.size.as_str(), p.width, p.height)).collect();
        assert_eq!(sizes, vec![("small", 320, 160), ("large", 1280, 640)]);
        assert!(facts.previews.iter().all(|p| sniff(&p.bytes) == "image/jpeg"));
        assert!((6..=40).contains(&facts.blurhash.len()), "{}", facts.blurhash);
        // A small image gets one preview, its own size.
        let small = process_image(&jpeg(100, 50), "image/jpeg", &ImageOptions::default()).unwrap();
        assert_eq!(small.previews.iter().map(|p| (p.width, p.height)).collect::<Vec<_>>(), vec![(100, 50)]);
    }

    #[test]
    fn too_many_pixels_are_refused_from_the_header() {
        let err = check_dimensions(&jpeg(400, 300), "image/jpeg", 100_000).unwrap_err();
        assert_eq!(err, MediaError::TooManyPixels { width: 400, height: 300, limit: 100_000 });
        assert!(matches!(
            process_image(b"not an image", "image/png", &ImageOptions::default()),
            Err(MediaError::Unreadable(_))
        ));
    }

    #[test]
    fn jpeg_metadata_goes_and_the_orientation_stays() {
        let mut j = img_parts::jpeg::Jpeg::from_bytes(Bytes::from(jpeg(40, 20))).unwrap();
        let mut exif = orientation_exif(Orientation::Rotate90);
        exif.extend_from_slice(b"GPS secret 51.5N 0.1W");
        j.set_exif(Some(Bytes::from(exif)));
        let tagged = j.encoder().bytes().to_vec();
        assert!(tagged.windows(10).any(|w| w == b"GPS secret"));
        let clean = strip_metadata(&tagged, "image/jpeg").unwrap().unwrap();
        assert!(!clean.windows(10).any(|w| w == b"GPS secret"));
        // Still upright: rotated 90°, so 20 wide and 40 high.
        let facts = process_image(&clean, "image/jpeg", &ImageOptions::default()).unwrap();
        assert_eq!((facts.width, facts.height), (20, 40));
        assert_eq!(strip_metadata(&clean, "image/jpeg").unwrap().map(|c| c.len()), Some(clean.len()));
        assert_eq!(strip_metadata(&jpeg(8, 8), "image/jpeg").unwrap(), None);
    }
}
