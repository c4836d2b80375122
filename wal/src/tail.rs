//! The reading half: records from a sequence on, in order, up to the durable end; and the waits for new ones.
//!
//! Readers keep no cursor here: the pipeline's checkpoint is the cursor, so any clone of a [`Wal`] can read
//! from any sequence.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fjall::Keyspace;

use crate::handle::{Shared, lock};
use crate::record::{KEY_LEN, decode, key, seq_of_key};
use crate::{Record, RecordSummary, Wal, WalError};

impl Wal {
    /// Reads records from `from_seq` on, in order: at most `max_records`, and no more payload bytes than
    /// `max_bytes` except that the first record is always returned. Starts at the oldest record if `from_seq` is
    /// older; returns an empty list when there is nothing durable at or after `from_seq`.
    ///
    /// A record that fails its checksum or is missing ends the list before it; a call that starts at it yields
    /// [`WalError::Corrupt`] naming it. Read on from the next sequence, or truncate through it, to skip it.
    pub fn read_from(&self, from_seq: u64, max_records: usize, max_bytes: usize) -> Result<Vec<Record>, WalError> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let scanned = self.inner.shared.scan(from_seq, |seq, value| {
            if out.len() >= max_records {
                return Ok(false);
            }
            let d = decode(seq, value)?;
            if !out.is_empty() && bytes + d.payload.len() > max_bytes {
                return Ok(false);
            }
            bytes += d.payload.len();
            out.push(Record {
                seq,
                kind: d.kind,
                received_at_unix_nanos: d.received_at_unix_nanos,
                payload: d.payload.to_vec(),
            });
            Ok(true)
        });
        good_prefix(scanned, out)
    }

    /// Summaries (no payloads) of up to `limit` records from `from_seq` on, for `ollyscale wal dump`; a corrupt
    /// record is handled as in [`Wal::read_from`].
    pub fn summaries(&self, from_seq: u64, limit: usize) -> Result<Vec<RecordSummary>, WalError> {
        let mut out = Vec::new();
        let scanned = self.inner.shared.scan(from_seq, |seq, value| {
            if out.len() >= limit {
                return Ok(false);
            }
            let d = decode(seq, value)?;
            out.push(RecordSummary {
                seq,
                kind: d.kind,
                received_at_unix_nanos: d.received_at_unix_nanos,
                payload_len: d.payload.len(),
                stored_len: KEY_LEN + value.len() as u64,
            });
            Ok(true)
        });
        good_prefix(scanned, out)
    }

    /// Sequence of the newest durable record, if any was ever appended.
    pub fn last_seq(&self) -> Option<u64> {
        let next = self.inner.shared.durable_next.load(Ordering::Acquire);
        (next > 1).then(|| next - 1)
    }

    /// Waits until a durable record newer than `seq` exists and returns the newest durable sequence.
    ///
    /// Returns at once if there already is one; [`WalError::Closed`] once the WAL is closed.
    pub async fn wait_for_records_after(&self, seq: u64) -> Result<u64, WalError> {
        let shared = &self.inner.shared;
        let mut rx = shared.durable_changed.subscribe();
        loop {
            if let Some(last) = self.last_seq().filter(|&last| last > seq) {
                return Ok(last);
            }
            if shared.closed.load(Ordering::Acquire) {
                return Err(WalError::Closed);
            }
            if rx.changed().await.is_err() {
                return Err(WalError::Closed);
            }
        }
    }

    /// Blocking form of [`Wal::wait_for_records_after`]: `Ok(None)` if nothing newer arrives within `timeout`.
    pub fn wait_for_records_after_blocking(&self, seq: u64, timeout: Duration) -> Result<Option<u64>, WalError> {
        let shared = &self.inner.shared;
        let deadline = Instant::now() + timeout;
        let mut guard = lock(&shared.durable_lock);
        loop {
            if let Some(last) = self.last_seq().filter(|&last| last > seq) {
                return Ok(Some(last));
            }
            if shared.closed.load(Ordering::Acquire) {
                return Err(WalError::Closed);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            guard = shared.durable_cv.wait_timeout(guard, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

impl Shared {
    /// Calls `f` on each durable, untruncated stored record from `from_seq` on, in order, until it returns false.
    fn scan(&self, from_seq: u64, mut f: impl FnMut(u64, &[u8]) -> Result<bool, WalError>) -> Result<(), WalError> {
        let (start, end, segments) = {
            let st = lock(&self.state);
            let end = self.durable_next.load(Ordering::Acquire);
            let start = from_seq.max(st.truncated.seq + 1);
            let first_seg = st.segments.range(..=start).next_back().map_or(start, |(first, _)| *first);
            let segments: Vec<Keyspace> = st.segments.range(first_seg..end).map(|(_, s)| s.ks.clone()).collect();
            (start, end, segments)
        };
        let mut expected = start;
        for ks in segments {
            if expected >= end {
                break;
            }
            for guard in ks.range(key(expected)..key(end)) {
                let (k, v) = guard.into_inner()?;
                let seq = seq_of_key(expected, &k)?;
                if seq != expected {
                    return Err(WalError::Corrupt { seq: expected, reason: "record is missing from the log".into() });
                }
                if !f(seq, &v)? {
                    return Ok(());
                }
                expected += 1;
            }
        }
        if expected < end {
            return Err(WalError::Corrupt { seq: expected, reason: "record is missing from the log".into() });
        }
        Ok(())
    }
}

/// What a read hands out when it met a corrupt record: the good records before it, or the error if there are none.
fn good_prefix<T>(scanned: Result<(), WalError>, out: Vec<T>) -> Result<Vec<T>, WalError> {
    match scanned {
        Err(WalError::Corrupt { .. }) if !out.is_empty() => Ok(out),
        Err(e) => Err(e),
        Ok(()) => Ok(out),
    }
}
