//! The crate's one error type.

/// Everything that can go wrong in the WAL.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A file-system operation outside fjall failed (creating the directory).
    #[error("WAL I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The fjall storage engine reported an error (I/O, locked directory, corrupt journal).
    #[error("WAL storage error: {0}")]
    Storage(#[from] fjall::Error),
    /// A stored record failed its checksum, could not be decoded, or is missing from the sequence.
    #[error("WAL record {seq} is corrupt: {reason}")]
    Corrupt {
        /// Sequence number of the bad or missing record.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The WAL's own metadata (identity, segment table, truncation point) is unreadable.
    #[error("WAL metadata is corrupt: {0}")]
    Metadata(String),
    /// Accepting the record would exceed the disk budget; retry after the pipeline truncates.
    #[error("WAL is over its disk budget ({used} of {budget} bytes used); retry later")]
    OverBudget {
        /// Live bytes in the WAL when the append was refused.
        used: u64,
        /// The configured budget in bytes.
        budget: u64,
    },
    /// The WAL was closed (or its writer thread is gone); nothing more is accepted.
    #[error("WAL is closed")]
    Closed,
    /// An earlier write or fsync failed: what is on disk is unknown, so the WAL refuses to go on until reopened.
    #[error("WAL stopped after a failed write ({0}); reopen it to recover")]
    Poisoned(String),
    /// The options passed to `Wal::open` are unusable.
    #[error("invalid WAL options: {0}")]
    InvalidOptions(String),
}

/// The name receivers match on for append failures (`AppendError::OverBudget { .. }`); the same type as [`WalError`].
pub type AppendError = WalError;
