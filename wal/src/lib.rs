//! Durable, group-committed write-ahead log over fjall. ollyscale appends each received OTLP export request to
//! it; the log itself knows nothing of OTLP or PostgreSQL: a record is a caller-chosen [`Kind`] byte, a receive
//! time and an opaque payload.
//!
//! Receivers [`Wal::append`] each export request (kind, receive time, payload) and answer their client
//! only when the returned future resolves; the pipeline tails the log with [`Wal::read_from`] and
//! [`Wal::wait_for_records_after`], and releases what PostgreSQL has committed with [`Wal::truncate_through`].
//! At startup, before the receivers append, the pipeline calls [`Wal::resume_after`] with its checkpoint (stored
//! under [`Wal::id`]), which also covers a buffered WAL that lost its tail.
//!
//! # Design
//! - Records are keyed by a dense, increasing `u64` sequence (big-endian keys). Each stored value carries a
//!   blake3 checksum over the record and its sequence, so corruption is reported as [`WalError::Corrupt`] naming
//!   the sequence, never handed out.
//! - The log is split into segments: one fjall keyspace per `segment_bytes` of records. Truncation only moves a
//!   watermark; segments whose records are all truncated are deleted whole, which frees their files without
//!   tombstones or compaction (the lesson of Vector's disk buffer).
//! - One writer thread gathers concurrent appends into a group, writes the group as one atomic fjall batch
//!   (records plus the segment table row), persists once, then answers every caller of the group.
//! - The segment table (first/last sequence and byte offsets per segment) and the truncation watermark live in
//!   a small metadata keyspace, so opening reads a handful of rows, never the records.
//! - The disk budget counts live record bytes (key, header and encoded body of every record not yet truncated).
//!   fjall's own overhead comes on top: the journal (the not-yet-flushed records, about 64 MiB to
//!   `max_journal_bytes`), the part of the oldest segment that is truncated but not yet deleted (at most one
//!   segment), and LSM metadata. [`WalStats::disk_bytes`] reports the real footprint.
//!
//! # Invariants
//! - An append is answered `Ok` only after the batch holding it is persisted as the WAL's [`SyncPolicy`] demands.
//! - Readers never read past the durable end (one past the newest record whose group was persisted), so the
//!   pipeline never writes downstream a record whose append could still fail.
//! - The truncation watermark is fsynced before any segment it releases is deleted, so every crash point leaves
//!   a state that [`Wal::open`] accepts and completes.
//! - After a failed write or fsync the on-disk state is unknown: the WAL refuses every later write
//!   ([`WalError::Poisoned`]) until it is reopened.
//!
//! # Where things are
//! The appending half is `append.rs` (queue, writer thread, group commit); the reading half is `tail.rs`. One
//! [`Wal`] handle serves both, because a reader keeps no state of its own: the downstream checkpoint is its
//! cursor. `recovery.rs` opens the log, `truncate.rs` releases it, `segmenter.rs` is the helper thread that
//! prepares and flushes segments, `layout.rs` is how the log lies in fjall and `record.rs` how one record is
//! stored. `handle.rs` holds the state the handle, the readers and the writer share; `options.rs` and `stats.rs`
//! are what goes in and what comes out.

#![warn(missing_docs)]

mod append;
mod error;
mod handle;
mod layout;
mod options;
mod record;
mod recovery;
mod segmenter;
mod stats;
mod tail;
mod truncate;

pub use error::{AppendError, WalError};
pub use handle::Wal;
pub use options::{SyncPolicy, WalOptions};
pub use record::{Kind, Record, RecordSummary};
pub use stats::WalStats;
