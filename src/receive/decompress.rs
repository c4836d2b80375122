//! Request body decompression per HTTP Content-Encoding, bounded by the body size limit: a decompression bomb
//! costs at most the limit plus one byte of output before it is refused.
//!
//! By hand rather than with tower-http's `RequestDecompressionLayer` and `RequestBodyLimitLayer`: those match
//! the Content-Encoding byte for byte (no `x-gzip`, no case or spaces), read "deflate" as zlib only (no raw
//! deflate), answer 415 with an empty body and 413 with a plain-text one where OTLP/HTTP requires a
//! `google.rpc.Status` in the request's encoding, and would leave the fuzz target and `hostile_input.rs`
//! without a plain function to call.

use std::io::Read;

use bytes::Bytes;

/// Why a body could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecompressError {
    /// The Content-Encoding is not one the receivers accept (415).
    #[error("unsupported Content-Encoding `{0}`; use gzip, zstd, deflate or none")]
    Unsupported(String),
    /// The body is not a valid stream of its encoding (400).
    #[error("invalid {encoding} body: {reason}")]
    Invalid {
        /// The Content-Encoding, lowercased.
        encoding: String,
        /// What the decoder reported.
        reason: String,
    },
    /// The decompressed body exceeds the limit (413).
    #[error("request body exceeds the limit of {limit} bytes after decompression")]
    TooLarge {
        /// The limit, bytes.
        limit: usize,
    },
}

/// Decompresses `body` per the Content-Encoding `encoding` (case and surrounding space ignored; empty or
/// `identity` returns it unchanged), reading at most `max + 1` bytes of output.
pub fn decompress(encoding: &str, body: Bytes, max: usize) -> Result<Bytes, DecompressError> {
    let encoding = encoding.trim().to_ascii_lowercase();
    let invalid = |reason: String| DecompressError::Invalid { encoding: encoding.clone(), reason };
    let reader: Box<dyn Read + '_> = match encoding.as_str() {
        "" | "identity" => return Ok(body),
        "gzip" | "x-gzip" => Box::new(flate2::read::GzDecoder::new(&body[..])),
        // HTTP's "deflate" is zlib-wrapped; some senders send a raw deflate stream instead.
        "deflate" if body.first().is_some_and(|b| b & 0x0f == 8) => Box::new(flate2::read::ZlibDecoder::new(&body[..])),
        "deflate" => Box::new(flate2::read::DeflateDecoder::new(&body[..])),
        "zstd" => Box::new(zstd::stream::read::Decoder::new(&body[..]).map_err(|e| invalid(e.to_string()))?),
        _ => return Err(DecompressError::Unsupported(encoding)),
    };
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(max));
    reader.take(max as u64 + 1).read_to_end(&mut out).map_err(|e| invalid(e.to_string()))?;
    if out.len() > max {
        return Err(DecompressError::TooLarge { limit: max });
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const LIMIT: usize = 1024;

    fn gzip(plain: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(plain).unwrap();
        enc.finish().unwrap()
    }

    fn zlib(plain: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(plain).unwrap();
        enc.finish().unwrap()
    }

    fn raw_deflate(plain: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(plain).unwrap();
        enc.finish().unwrap()
    }

    fn run(encoding: &str, body: Vec<u8>) -> Result<Bytes, DecompressError> {
        decompress(encoding, Bytes::from(body), LIMIT)
    }

    #[test]
    fn every_encoding_round_trips_up_to_the_limit() {
        let plain = b"ollyscale ".repeat(LIMIT / 10);
        assert!(plain.len() <= LIMIT);
        for (encoding, body) in [
            ("gzip", gzip(&plain)),
            ("X-GZIP", gzip(&plain)),
            (" deflate ", zlib(&plain)),
            ("deflate", raw_deflate(&plain)),
            ("zstd", zstd::stream::encode_all(&plain[..], 3).unwrap()),
            ("", plain.clone()),
            ("identity", plain.clone()),
        ] {
            assert_eq!(run(encoding, body).unwrap(), plain, "{encoding}");
        }
    }

    #[test]
    fn bombs_stop_at_the_limit_plus_one_byte() {
        let bomb = vec![0u8; 64 * LIMIT];
        for (encoding, body) in [
            ("gzip", gzip(&bomb)),
            ("deflate", zlib(&bomb)),
            ("deflate", raw_deflate(&bomb)),
            ("zstd", zstd::stream::encode_all(&bomb[..], 19).unwrap()),
        ] {
            assert!(body.len() < LIMIT, "{encoding}: the bomb itself fits the limit");
            assert_eq!(run(encoding, body), Err(DecompressError::TooLarge { limit: LIMIT }), "{encoding}");
        }
        let just_over = vec![7u8; LIMIT + 1];
        assert_eq!(run("gzip", gzip(&just_over)), Err(DecompressError::TooLarge { limit: LIMIT }));
        assert_eq!(run("gzip", gzip(&just_over[..LIMIT])).unwrap().len(), LIMIT);
    }

    #[test]
    fn damaged_and_unknown_encodings_are_errors() {
        let mut truncated = gzip(b"some body that is long enough to be cut");
        truncated.truncate(truncated.len() - 6);
        assert!(matches!(run("gzip", truncated), Err(DecompressError::Invalid { encoding, .. }) if encoding == "gzip"));
        assert!(matches!(run("zstd", b"not zstd".to_vec()), Err(DecompressError::Invalid { .. })));
        assert_eq!(run("BR", b"x".to_vec()), Err(DecompressError::Unsupported("br".into())));
        assert_eq!(
            DecompressError::Unsupported("br".into()).to_string(),
            "unsupported Content-Encoding `br`; use gzip, zstd, deflate or none"
        );
    }
}
