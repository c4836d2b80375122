//! The writer: WAL records -> PostgreSQL, exactly once.
//!
//! [`pipeline::spawn`] tails the WAL from the ingest checkpoint, forms bounded batches, normalizes them on
//! rayon and hands them to [`batch::Writer`], which loads each batch in one transaction (dimension rows,
//! binary COPY of every table, the checkpoint) and only then lets the pipeline truncate the WAL. Transient
//! database errors are retried with capped backoff; a batch PostgreSQL rejects permanently is bisected until
//! the bad records are isolated in the [`dead_letter`] store. Invariants: docs/ARCHITECTURE.md.

pub mod batch;
pub mod compact;
pub mod cpu;
pub mod dead_letter;
pub mod dims;
pub mod pipeline;
pub mod rollup_pending;
pub mod rollup_tables;
pub mod rollups;

pub use crate::retry::RetryPolicy;
pub use batch::{IngestReport, Writer, Written, may_skip_reference_checks, read_checkpoint};
pub use dead_letter::{DeadLetter, DeadLetterError, DeadLetterStore};
pub use dims::{CacheOptions, DimCaches};
pub use pipeline::{PipelineError, PipelineOptions, spawn};

use crate::normalize::EncodeError;

/// Everything that can make one batch write fail.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// PostgreSQL (or the connection to it) reported an error.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A record's data cannot be encoded for the schema.
    #[error("encoding failed: {0}")]
    Encode(#[from] EncodeError),
    /// A dimension row could not be resolved to an id (it vanished mid-transaction); retrying resolves it.
    #[error("{0}")]
    Unresolved(String),
    /// The batch starts at or below the committed checkpoint: (part of) it is already in the database.
    #[error("the batch starts at WAL sequence {first_seq}, but the checkpoint is already at {checkpoint}")]
    AlreadyCommitted {
        /// The batch's first sequence.
        first_seq: u64,
        /// The committed checkpoint.
        checkpoint: u64,
    },
    /// A WAL sequence does not fit PostgreSQL's BIGINT.
    #[error("WAL sequence {0} exceeds the BIGINT range of ingest_checkpoints.last_seq")]
    SeqOutOfRange(u64),
    /// The CPU work of a batch (normalize, encode) panicked or was cancelled.
    #[error("normalization task failed: {0}")]
    Task(String),
    /// The dead-letter store could not take a record; the WAL must not be truncated past it.
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
    /// The write was abandoned because the pipeline is shutting down.
    #[error("shutting down")]
    Shutdown,
    /// A pipelined batch was not written in its turn (the batch before it failed, or it has records to
    /// dead-letter); the pipeline writes it again through [`Writer::ingest`].
    #[error("batch not written in turn: {0}")]
    NotInTurn(&'static str),
}

/// How a failed write is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Retry the same batch after a backoff: the database is unreachable, restarting, overloaded, or the
    /// transaction lost a race (serialization failure, deadlock).
    Transient,
    /// The data itself is refused (constraint violation, invalid value): retrying cannot help, so the batch is
    /// split to find the records at fault.
    Permanent,
}

impl WriteError {
    /// Whether to retry the same batch or isolate bad records.
    pub fn class(&self) -> ErrorClass {
        match self {
            WriteError::Db(e) => classify_db(e),
            WriteError::Unresolved(_)
            | WriteError::AlreadyCommitted { .. }
            | WriteError::Shutdown
            | WriteError::NotInTurn(_) => ErrorClass::Transient,
            WriteError::DeadLetter(_) => ErrorClass::Transient,
            WriteError::Encode(_) | WriteError::SeqOutOfRange(_) | WriteError::Task(_) => ErrorClass::Permanent,
        }
    }

    /// The WAL sequence a permanent error names, when it names exactly one record.
    pub fn record_seq(&self) -> Option<u64> {
        match self {
            WriteError::Encode(EncodeError::Record { seq, .. }) => Some(*seq),
            _ => None,
        }
    }
}

/// Classifies a sqlx error by SQLSTATE class. Only data errors are permanent: class 22 (data exception: value
/// out of range, invalid text, bad JSON), 23 (integrity: CHECK, NOT NULL, FK, unique) and 54 (program limit
/// exceeded: a row or value too large). Everything else is retried, including schema errors (class 42, 3D,
/// 28): those are an operator's problem (missing migration, wrong database, credentials), and dead-lettering
/// every record while they last would turn an outage into data loss.
///
/// One 23514 is not about the data: a row routed to a default partition while partition maintenance attaches
/// the partition for its day is refused with "violates partition constraint"; routed again, it lands.
pub fn classify_db(e: &sqlx::Error) -> ErrorClass {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23514") && is_partition_race(db.message()) => {
            ErrorClass::Transient
        }
        sqlx::Error::Database(db) => match db.code() {
            Some(code) if code.starts_with("22") || code.starts_with("23") || code.starts_with("54") => {
                ErrorClass::Permanent
            }
            _ => ErrorClass::Transient,
        },
        _ => ErrorClass::Transient,
    }
}

/// Whether a check violation is PostgreSQL's partition-routing check rather than one of the schema's CHECKs.
fn is_partition_race(message: &str) -> bool {
    message.contains("violates partition constraint")
}
