//! Record types and their stored form: a small header with a checksum, then the bincode-encoded body.
//!
//! Stored value layout (format 1):
//! `[format: u8][start_offset: u64 BE][checksum: 16 bytes][bincode body]`, where `start_offset` is the number of
//! stored bytes appended to the WAL before this record (it lets truncation account freed bytes with one point
//! read) and the checksum is the first 16 bytes of blake3 over body, format, sequence and start offset, so a
//! value moved to another key is caught as well as flipped bits.

use crate::WalError;

const FORMAT_V1: u8 = 1;
/// Bytes before the bincode body.
pub(crate) const HEADER_LEN: usize = 1 + 8 + 16;
/// Bytes of a record key (big-endian sequence number).
pub(crate) const KEY_LEN: u64 = 8;

/// The caller's tag of a record: what its payload is. The WAL stores and returns it and attaches no meaning to
/// it (ollyscale tags each export request with its signal).
pub type Kind = u8;

/// One appended record (for ollyscale, an acknowledged export request), as read back from the WAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the log; dense and increasing.
    pub seq: u64,
    /// The caller's tag of the payload.
    pub kind: Kind,
    /// When the caller received the payload, unix nanoseconds.
    pub received_at_unix_nanos: u64,
    /// The payload as appended.
    pub payload: Vec<u8>,
}

/// A record without its payload, for `ollyscale wal dump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSummary {
    /// Position in the log.
    pub seq: u64,
    /// The caller's tag of the payload.
    pub kind: Kind,
    /// When the caller received the payload, unix nanoseconds.
    pub received_at_unix_nanos: u64,
    /// Size of the payload in bytes.
    pub payload_len: usize,
    /// Bytes the record occupies in the WAL's accounting (key, header, encoded body).
    pub stored_len: u64,
}

#[derive(bincode::Encode, bincode::BorrowDecode)]
struct Body<'a> {
    // One byte in bincode's standard encoding, as the three-variant enum it replaced was: same stored bytes.
    kind: Kind,
    received_at_unix_nanos: u64,
    payload: &'a [u8],
}

/// A record encoded by the appending thread, waiting for the writer to give it a sequence and offset.
pub(crate) struct UnsealedRecord {
    buf: Vec<u8>,
    hasher: blake3::Hasher,
}

impl UnsealedRecord {
    /// Encodes the body and hashes it; the expensive part of sealing, done outside the writer thread.
    pub(crate) fn new(kind: Kind, received_at_unix_nanos: u64, payload: &[u8]) -> UnsealedRecord {
        // Exact worst case (kind byte, two varints), so the buffer never reallocates and fjall can keep it as is.
        let mut buf = Vec::with_capacity(HEADER_LEN + 1 + 9 + 9 + payload.len());
        buf.resize(HEADER_LEN, 0);
        let body = Body { kind, received_at_unix_nanos, payload };
        // Encoding into a Vec cannot fail: the writer is infallible and the body has no fallible fields.
        if let Err(e) = bincode::encode_into_std_write(&body, &mut buf, bincode::config::standard()) {
            unreachable!("bincode encoding into a Vec failed: {e}");
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&buf[HEADER_LEN..]);
        UnsealedRecord { buf, hasher }
    }

    /// Bytes this record adds to the WAL's accounting.
    pub(crate) fn stored_len(&self) -> u64 {
        KEY_LEN + self.buf.len() as u64
    }

    /// Fills in the header for position `seq` at byte offset `start_offset` and returns the stored value.
    pub(crate) fn seal(self, seq: u64, start_offset: u64) -> Vec<u8> {
        let UnsealedRecord { mut buf, mut hasher } = self;
        hasher.update(&[FORMAT_V1]);
        hasher.update(&seq.to_be_bytes());
        hasher.update(&start_offset.to_be_bytes());
        buf[0] = FORMAT_V1;
        buf[1..9].copy_from_slice(&start_offset.to_be_bytes());
        buf[9..HEADER_LEN].copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        buf
    }
}

/// The key of record `seq`: big-endian so that keys sort like sequences.
pub(crate) fn key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// The sequence number of a record key.
pub(crate) fn seq_of_key(seq_hint: u64, key: &[u8]) -> Result<u64, WalError> {
    let bytes: [u8; 8] = key.try_into().map_err(|_| WalError::Corrupt {
        seq: seq_hint,
        reason: format!("record key has {} bytes, expected 8", key.len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// A verified record, borrowing its payload from the stored value.
pub(crate) struct Decoded<'a> {
    pub(crate) start_offset: u64,
    pub(crate) kind: Kind,
    pub(crate) received_at_unix_nanos: u64,
    pub(crate) payload: &'a [u8],
}

fn corrupt(seq: u64, reason: impl Into<String>) -> WalError {
    WalError::Corrupt { seq, reason: reason.into() }
}

/// Checks the header and checksum of the value stored under `seq`, then decodes it.
pub(crate) fn decode(seq: u64, value: &[u8]) -> Result<Decoded<'_>, WalError> {
    if value.len() < HEADER_LEN {
        return Err(corrupt(seq, format!("stored value has {} bytes, shorter than the header", value.len())));
    }
    if value[0] != FORMAT_V1 {
        return Err(corrupt(seq, format!("unknown record format {}", value[0])));
    }
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&value[1..9]);
    let body = &value[HEADER_LEN..];
    let mut hasher = blake3::Hasher::new();
    hasher.update(body);
    hasher.update(&[FORMAT_V1]);
    hasher.update(&seq.to_be_bytes());
    hasher.update(&offset);
    if hasher.finalize().as_bytes()[..16] != value[9..HEADER_LEN] {
        return Err(corrupt(seq, "checksum mismatch"));
    }
    let (body, used): (Body<'_>, usize) = bincode::borrow_decode_from_slice(body, bincode::config::standard())
        .map_err(|e| corrupt(seq, format!("undecodable body: {e}")))?;
    if used != value.len() - HEADER_LEN {
        return Err(corrupt(seq, "trailing bytes after the body"));
    }
    Ok(Decoded {
        start_offset: u64::from_be_bytes(offset),
        kind: body.kind,
        received_at_unix_nanos: body.received_at_unix_nanos,
        payload: body.payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_records_decode_to_what_was_appended() {
        let value = UnsealedRecord::new(2, 42, b"payload").seal(7, 1000);
        let d = decode(7, &value).unwrap();
        assert_eq!((d.start_offset, d.kind, d.received_at_unix_nanos, d.payload), (1000, 2, 42, &b"payload"[..]));
    }

    #[test]
    fn the_body_keeps_the_format_of_logs_written_with_a_signal_enum() {
        // Format 1 was first written with a three-variant enum in the kind's place, which bincode's standard
        // encoding stores as its index in one byte: a kind byte must produce the very same bytes, so existing
        // logs read back unchanged.
        let value = UnsealedRecord::new(2, 42, b"payload").seal(7, 1000);
        assert_eq!(&value[HEADER_LEN..], b"\x02\x2a\x07payload");
    }

    #[test]
    fn every_flipped_bit_and_a_moved_value_are_detected() {
        let value = UnsealedRecord::new(1, 1, &[9; 40]).seal(3, 0);
        for i in 0..value.len() {
            for bit in 0..8 {
                let mut bad = value.clone();
                bad[i] ^= 1 << bit;
                assert!(matches!(decode(3, &bad), Err(WalError::Corrupt { seq: 3, .. })), "byte {i} bit {bit}");
            }
        }
        assert!(matches!(decode(4, &value), Err(WalError::Corrupt { seq: 4, .. })), "value under another key");
        assert!(matches!(decode(3, &value[..10]), Err(WalError::Corrupt { .. })), "truncated value");
    }
}
