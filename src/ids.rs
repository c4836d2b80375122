//! The one id encoding: OTLP trace ids (16 bytes) and span ids (8 bytes) as lowercase hex.

/// Length of an OTLP trace id in bytes.
pub const TRACE_ID_LEN: usize = 16;
/// Length of an OTLP span id in bytes.
pub const SPAN_ID_LEN: usize = 8;

/// A trace id: 16 bytes.
pub type TraceId = [u8; TRACE_ID_LEN];
/// A span id: 8 bytes.
pub type SpanId = [u8; SPAN_ID_LEN];

/// Errors of id decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id has the wrong number of bytes (or hex digits / 2).
    #[error("{what} must be {expected} bytes ({} hex digits), got {got} bytes", expected * 2)]
    WrongLength {
        /// "trace id" or "span id".
        what: &'static str,
        /// Expected byte length.
        expected: usize,
        /// Actual byte length (half the hex digits, rounded down).
        got: usize,
    },
    /// The text has an odd number of characters or a character that is not a hex digit.
    #[error("{what} is not hex: {reason}")]
    NotHex {
        /// "trace id" or "span id".
        what: &'static str,
        /// Which character is wrong, or odd length.
        reason: String,
    },
}

/// Encodes bytes (an id) as lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Decodes hex (upper or lower case) into exactly N bytes.
fn parse_fixed<const N: usize>(what: &'static str, text: &str) -> Result<[u8; N], IdError> {
    if text.len() != N * 2 {
        if text.len().is_multiple_of(2) {
            // Report the length first when the text looks like hex of another size.
            if let Some((i, c)) = first_non_hex(text) {
                return Err(not_hex(what, i, c));
            }
        }
        return Err(IdError::WrongLength { what, expected: N, got: text.len() / 2 });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| match first_non_hex(text) {
        Some((i, c)) => not_hex(what, i, c),
        None => IdError::NotHex { what, reason: "odd number of hex digits".into() },
    })?;
    Ok(out)
}

fn first_non_hex(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit())
}

fn not_hex(what: &'static str, index: usize, c: char) -> IdError {
    IdError::NotHex { what, reason: format!("character {c:?} at position {index}") }
}

/// Parses a trace id from 32 hex digits (upper or lower case).
pub fn parse_trace_id(text: &str) -> Result<TraceId, IdError> {
    parse_fixed("trace id", text)
}

/// Parses a span id from 16 hex digits (upper or lower case).
pub fn parse_span_id(text: &str) -> Result<SpanId, IdError> {
    parse_fixed("span id", text)
}

/// Encodes a trace id (16 bytes) as 32 lowercase hex digits.
pub fn trace_id_hex(id: &TraceId) -> String {
    to_hex(id)
}

/// Encodes a span id (8 bytes) as 16 lowercase hex digits.
pub fn span_id_hex(id: &SpanId) -> String {
    to_hex(id)
}

/// Takes a trace id from OTLP bytes: exactly 16 bytes.
pub fn trace_id_from_bytes(bytes: &[u8]) -> Result<TraceId, IdError> {
    bytes.try_into().map_err(|_| IdError::WrongLength { what: "trace id", expected: TRACE_ID_LEN, got: bytes.len() })
}

/// Takes a span id from OTLP bytes: exactly 8 bytes.
pub fn span_id_from_bytes(bytes: &[u8]) -> Result<SpanId, IdError> {
    bytes.try_into().map_err(|_| IdError::WrongLength { what: "span id", expected: SPAN_ID_LEN, got: bytes.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: [u8; 16] =
        [0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c];

    #[test]
    fn hex_round_trip_lowercase() {
        let hex = trace_id_hex(&TRACE);
        assert_eq!(hex, "5b8efff798038103d269b633813fc60c");
        assert_eq!(parse_trace_id(&hex).unwrap(), TRACE);
        let span = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];
        assert_eq!(span_id_hex(&span), "eee19b7ec3c1b174");
        assert_eq!(parse_span_id("eee19b7ec3c1b174").unwrap(), span);
        assert_eq!(parse_span_id("EEE19B7EC3C1B174").unwrap(), span);
        assert_eq!(parse_trace_id("5B8EFFF798038103D269B633813FC60C").unwrap(), TRACE);
        assert_eq!(parse_trace_id("5b8EFFF798038103d269B633813fc60c").unwrap(), TRACE);
    }

    #[test]
    fn wrong_length() {
        assert_eq!(
            parse_trace_id("5b8efff798038103d269b633813fc6"),
            Err(IdError::WrongLength { what: "trace id", expected: 16, got: 15 })
        );
        assert_eq!(parse_span_id(""), Err(IdError::WrongLength { what: "span id", expected: 8, got: 0 }));
        let err = parse_span_id("eee19b7ec3c1b17400").unwrap_err();
        assert_eq!(err.to_string(), "span id must be 8 bytes (16 hex digits), got 9 bytes");
        assert!(matches!(parse_span_id("eee19b7ec3c1b17"), Err(IdError::WrongLength { got: 7, .. })));
    }

    #[test]
    fn not_hex() {
        let err = parse_span_id("eee19b7ec3c1b17g").unwrap_err();
        assert_eq!(err, IdError::NotHex { what: "span id", reason: "character 'g' at position 15".into() });
        assert!(matches!(parse_trace_id("zz8efff798038103d269b633813fc6"), Err(IdError::NotHex { .. })));
        // Multi-byte characters must not panic or slice inside a char.
        assert!(parse_span_id("ééééééééé").is_err());
        assert!(parse_span_id("éé1b7ec3c1b174").is_err());
        assert!(matches!(parse_span_id("0x19b7ec3c1b1740"), Err(IdError::NotHex { .. })));
    }

    #[test]
    fn from_bytes() {
        assert_eq!(trace_id_from_bytes(&TRACE).unwrap(), TRACE);
        assert_eq!(
            trace_id_from_bytes(&TRACE[..15]),
            Err(IdError::WrongLength { what: "trace id", expected: 16, got: 15 })
        );
        assert!(span_id_from_bytes(&[1; 9]).is_err());
        assert_eq!(span_id_from_bytes(&[1; 8]).unwrap(), [1; 8]);
    }
}
