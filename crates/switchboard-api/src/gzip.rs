//! gzip for the Connect protocol: request bodies and stream messages a client compressed,
//! and responses for clients that accept it. Decompression is bounded: a body that inflates
//! past the frame limit is refused, however small it was on the wire.

use std::io::{Read, Write};

use axum::http::HeaderMap;
use bytes::Bytes;
use switchboard_service::ServiceError;

use crate::error::ApiError;

/// Responses and messages smaller than this are sent as they are.
pub(crate) const MIN_BYTES: usize = 1024;

/// What a content-encoding header names: no compression, gzip, or something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `identity`, or no header.
    Identity,
    /// `gzip`.
    Gzip,
}

/// The encoding a request's `header` (`content-encoding`, `connect-content-encoding`)
/// declares; one other than gzip is `unimplemented`.
pub(crate) fn declared(headers: &HeaderMap, header: &str) -> Result<Encoding, ApiError> {
    match headers.get(header).map(|v| v.to_str().unwrap_or_default().trim().to_ascii_lowercase()) {
        None => Ok(Encoding::Identity),
        Some(v) if v.is_empty() || v == "identity" => Ok(Encoding::Identity),
        Some(v) if v == "gzip" => Ok(Encoding::Gzip),
        Some(v) => {
            let shown: String = v.chars().take(40).collect();
            Err(ApiError(ServiceError::new(
                switchboard_core::ErrorCode::Unimplemented,
                format!("{header} {shown:?} is not supported: use gzip or identity"),
            )))
        }
    }
}

/// Whether the client lists gzip in `header` (`accept-encoding`, `connect-accept-encoding`).
pub(crate) fn accepted(headers: &HeaderMap, header: &str) -> bool {
    headers.get_all(header).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let refused = parts
            .any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.trim().parse::<f32>().is_ok_and(|q| q == 0.0)));
        name.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// gzip of `data`.
pub(crate) fn compress(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 2 + 64), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// The inflated `data`, refused past `max` bytes or when it is not gzip.
pub(crate) fn decompress(data: &[u8], max: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    let read = flate2::read::GzDecoder::new(data).take(max as u64 + 1).read_to_end(&mut out);
    match read {
        Err(e) => Err(ApiError::invalid("body", format!("the body is not valid gzip: {e}"))),
        Ok(n) if n > max => Err(ApiError::invalid("body", format!("request bodies are limited to {max} bytes"))),
        Ok(_) => Ok(Bytes::from(out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips_and_inflation_is_bounded() {
        let data = vec![b'a'; 100_000];
        let packed = compress(&data);
        assert!(packed.len() < 1_000);
        assert_eq!(decompress(&packed, 100_000).unwrap().len(), 100_000);
        assert!(decompress(&packed, 99_999).is_err());
        assert!(decompress(b"not gzip", 10).is_err());
    }

    #[test]
    fn accepted_encodings_are_read_from_lists() {
        let mut h = HeaderMap::new();
        h.insert("accept-encoding", "br, gzip;q=0.5".parse().unwrap());
        assert!(accepted(&h, "accept-encoding"));
        h.insert("accept-encoding", "gzip;q=0, br".parse().unwrap());
        assert!(!accepted(&h, "accept-encoding"));
        assert!(!accepted(&h, "connect-accept-encoding"));
    }
}
