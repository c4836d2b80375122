//! How the log lies in fjall: one keyspace per segment of records, and a metadata keyspace holding the WAL's
//! identity, the segment table and the truncation watermark.
//!
//! The layout of a record's stored value is in `record.rs`.

use fjall::{Keyspace, KeyspaceCreateOptions};

use crate::WalError;

/// The keyspace of the identity, the segment table and the truncation watermark.
pub(crate) const META_KEYSPACE: &str = "wal_meta";
/// Segment keyspaces are named this, then their creation number.
pub(crate) const SEGMENT_PREFIX: &str = "seg-";
/// Metadata key of the WAL's identity (32 hex digits).
pub(crate) const ID_KEY: &[u8] = b"id";
/// Metadata key of the [`Truncation`] watermark.
pub(crate) const TRUNCATED_KEY: &[u8] = b"truncated";
/// Metadata keys of [`SegmentRow`]s are this, then the segment's first sequence (big-endian).
pub(crate) const SEGMENT_ROW_PREFIX: &[u8] = b"seg/";

/// Where one segment's records lie, stored in the metadata keyspace and updated with every group commit.
#[derive(Debug, Clone, Copy, bincode::Encode, bincode::Decode)]
pub(crate) struct SegmentRow {
    /// Names the segment's keyspace; segments are numbered 1, 2, 3... in creation order.
    pub(crate) number: u64,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    pub(crate) start_offset: u64,
    pub(crate) end_offset: u64,
}

/// The release watermark: records through `seq` are gone, and so are the first `bytes` appended bytes.
#[derive(Debug, Clone, Copy, Default, bincode::Encode, bincode::Decode)]
pub(crate) struct Truncation {
    pub(crate) seq: u64,
    pub(crate) bytes: u64,
}

/// A live segment: its open keyspace and its row of the segment table.
pub(crate) struct Segment {
    pub(crate) ks: Keyspace,
    pub(crate) row: SegmentRow,
}

/// Keyspace name of segment `number`.
///
/// Segments are named by creation number, not by first sequence, so that a keyspace created just before a crash
/// (its first batch lost) is exactly the one the next roll would create, and gets reused. Deleting it instead would
/// free the highest keyspace id, which fjall 3.1 reuses after a restart; the reused id's mapping can then be
/// shadowed by the deleted keyspace's tombstone at the next restart, losing the new keyspace and its records
/// (found by the SIGKILL test).
pub(crate) fn segment_name(number: u64) -> String {
    format!("{SEGMENT_PREFIX}{number:020}")
}

/// Metadata key of the row of the segment that starts at `first_seq`.
pub(crate) fn segment_row_key(first_seq: u64) -> Vec<u8> {
    let mut k = SEGMENT_ROW_PREFIX.to_vec();
    k.extend_from_slice(&first_seq.to_be_bytes());
    k
}

/// Options of a new segment keyspace holding up to `segment_bytes` of records.
pub(crate) fn segment_options(segment_bytes: u64) -> KeyspaceCreateOptions {
    // The memtable holds a whole segment, so a full segment is flushed once (at the roll) into one table and never
    // compacted: records are written twice in all (journal, table). Values stay inline (no key-value separation):
    // measured here, scans of inline values read a backlog back 35% faster than blob files, and with one table
    // per segment there is no compaction for separation to save.
    let memtable = segment_bytes.saturating_add(segment_bytes / 4).max(1 << 20);
    KeyspaceCreateOptions::default()
        .max_memtable_size(memtable)
        // Segments are read sequentially, never by point lookups: large blocks mean fewer reads per record.
        .data_block_size_policy(fjall::config::BlockSizePolicy::all(64 * 1024))
        // lz4 on the tables (fjall's default leaves level 0 uncompressed): a segment's flush writes a third of its
        // bytes (64 MiB of OTLP protobuf became 18 MiB here), so the flush's writeback stalls the journal's
        // fdatasync for less time (instrumented: stalls of up to 175 ms became at most ~20 ms), and a backlog
        // takes a third of the disk. The compression runs on fjall's worker thread, not on the appending one.
        .data_block_compression_policy(fjall::config::CompressionPolicy::all(fjall::CompressionType::Lz4))
}

/// The stored form of a metadata row.
pub(crate) fn encode_row<T: bincode::Encode>(value: &T) -> Vec<u8> {
    // Encoding fixed-size integer structs into a Vec cannot fail.
    bincode::encode_to_vec(value, bincode::config::standard()).unwrap_or_default()
}

/// Decodes a metadata row; `what` names it in the error.
pub(crate) fn decode_row<T: bincode::Decode<()>>(what: &str, bytes: &[u8]) -> Result<T, WalError> {
    bincode::decode_from_slice(bytes, bincode::config::standard())
        .map(|(v, _)| v)
        .map_err(|e| WalError::Metadata(format!("{what}: {e}")))
}
