//! The figures `ollyscale wal stats` and the metrics report: sizes, sequences, and counters since open.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::handle::lock;
use crate::{Wal, WalError};

/// A snapshot of the WAL's size and activity, for `ollyscale wal stats` and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalStats {
    /// Records appended durably and not yet truncated.
    pub records: u64,
    /// Live record bytes, the quantity the disk budget limits.
    pub bytes: u64,
    /// Bytes the WAL directory's fjall database occupies on disk (journal and tables).
    pub disk_bytes: u64,
    /// The configured disk budget in bytes.
    pub budget_bytes: u64,
    /// Sequence of the oldest readable record.
    pub first_seq: Option<u64>,
    /// Sequence of the newest durable record.
    pub last_seq: Option<u64>,
    /// Records up to and including this sequence have been released.
    pub truncated_through: Option<u64>,
    /// Receive time of the oldest readable record (None if there is none or it is unreadable).
    pub oldest_received_at_unix_nanos: Option<u64>,
    /// Number of live segments (fjall keyspaces).
    pub segments: usize,
    /// Appends acknowledged since open.
    pub appends: u64,
    /// Appends refused for the budget since open.
    pub refused: u64,
    /// Group commits since open.
    pub groups: u64,
    /// fsyncs made to acknowledge appends since open (0 in buffered mode; truncation's own fsyncs not counted).
    pub fsyncs: u64,
}

impl WalStats {
    /// Age of the oldest readable record, relative to the system clock now.
    pub fn oldest_age(&self) -> Option<Duration> {
        let oldest = self.oldest_received_at_unix_nanos?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_nanos();
        Some(Duration::from_nanos(u64::try_from(now.saturating_sub(u128::from(oldest))).unwrap_or(u64::MAX)))
    }
}

impl Wal {
    /// Current size and activity figures; reads one record (the oldest) for its receive time.
    pub fn stats(&self) -> Result<WalStats, WalError> {
        let shared = &self.inner.shared;
        let (truncated, live_bytes, segments) = {
            let st = lock(&shared.state);
            (st.truncated, st.appended_bytes - st.truncated.bytes, st.segments.len())
        };
        let last_seq = self.last_seq();
        let records = last_seq.map_or(0, |last| last.saturating_sub(truncated.seq));
        let first_seq = (records > 0).then_some(truncated.seq + 1);
        let oldest_received_at_unix_nanos = match first_seq {
            Some(first) => match self.summaries(first, 1) {
                Ok(s) => s.first().map(|s| s.received_at_unix_nanos),
                Err(WalError::Corrupt { seq, reason }) => {
                    tracing::warn!(seq, %reason, "oldest WAL record is unreadable");
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        Ok(WalStats {
            records,
            bytes: live_bytes,
            disk_bytes: shared.db.disk_space()?,
            budget_bytes: shared.opts.disk_budget_bytes,
            first_seq,
            last_seq,
            truncated_through: (truncated.seq > 0).then_some(truncated.seq),
            oldest_received_at_unix_nanos,
            segments,
            appends: shared.appends.load(Ordering::Relaxed),
            refused: shared.refused.load(Ordering::Relaxed),
            groups: shared.groups.load(Ordering::Relaxed),
            fsyncs: shared.fsyncs.load(Ordering::Relaxed),
        })
    }
}
