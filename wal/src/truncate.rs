//! Releasing records the downstream has committed: the truncation watermark, made durable before any segment
//! whose records it covers is deleted, and resuming after a checkpoint the log does not reach.

use std::sync::atomic::Ordering;

use fjall::{Keyspace, PersistMode};

use crate::handle::{Shared, State, lock};
use crate::layout::{TRUNCATED_KEY, Truncation, encode_row, segment_row_key};
use crate::record::{KEY_LEN, decode, key};
use crate::{Wal, WalError};

impl Wal {
    /// Releases every record through `seq` (clamped to the newest durable record) once it is committed
    /// downstream; returns the new truncation point.
    ///
    /// The watermark is made durable (fsync) before any segment is deleted, so every crash point leaves a state
    /// that open accepts. Segments whose records are all released are deleted whole; the segment receiving
    /// appends is kept until it is no longer the newest. Truncated records are no longer readable and their
    /// bytes stop counting against the budget at once.
    pub fn truncate_through(&self, seq: u64) -> Result<u64, WalError> {
        let shared = &self.inner.shared;
        shared.check_poisoned()?;
        let (through, released) = shared.truncate_locked(&mut lock(&shared.state), seq)?;
        shared.delete_segments(released)?;
        Ok(through)
    }

    /// Resumes after a downstream checkpoint: like [`Wal::truncate_through`], and if the log ends before `seq`, the
    /// next append gets `seq + 1`; returns the new truncation point. Call it at startup with the checkpoint stored
    /// under [`Wal::id`], before appending.
    ///
    /// In buffered mode a power cut can lose the newest records after the pipeline committed them downstream;
    /// without this, their sequence numbers would be handed out again and the new records taken for already
    /// committed ones. While appends are in flight it only truncates (it never hides an acknowledged record).
    pub fn resume_after(&self, seq: u64) -> Result<u64, WalError> {
        let shared = &self.inner.shared;
        shared.check_poisoned()?;
        let mut st = lock(&shared.state);
        let in_flight = st.next_seq != shared.durable_next.load(Ordering::Acquire);
        if seq < st.next_seq || in_flight {
            let (through, released) = shared.truncate_locked(&mut st, seq)?;
            drop(st);
            shared.delete_segments(released)?;
            return Ok(through);
        }
        tracing::warn!(
            checkpoint = seq,
            wal_end = st.next_seq - 1,
            "the WAL ends before the downstream checkpoint (records lost in buffered mode?); continuing after it"
        );
        let truncation = Truncation { seq, bytes: st.appended_bytes };
        let released = shared.release(&mut st, truncation)?;
        st.next_seq = seq + 1;
        shared.publish_durable(seq + 1);
        drop(st);
        shared.delete_segments(released)?;
        Ok(seq)
    }
}

impl Shared {
    /// Truncation under the state lock; see [`Wal::truncate_through`].
    /// Returns the truncation point and the released segments, to be deleted once the lock is released.
    fn truncate_locked(&self, st: &mut State, seq: u64) -> Result<(u64, Vec<Keyspace>), WalError> {
        let durable_last = self.durable_next.load(Ordering::Acquire).saturating_sub(1);
        let seq = seq.min(durable_last);
        if seq <= st.truncated.seq {
            return Ok((st.truncated.seq, Vec::new()));
        }
        let Some((_, seg)) = st.segments.range(..=seq).next_back() else {
            return Err(WalError::Metadata(format!("no segment holds durable record {seq}")));
        };
        let freed = if seg.row.last_seq == seq {
            seg.row.end_offset
        } else {
            match seg.ks.get(key(seq))? {
                Some(v) => match decode(seq, &v) {
                    Ok(d) => d.start_offset + KEY_LEN + v.len() as u64,
                    // Without a trustworthy offset, count the whole segment as live until it is deleted.
                    Err(e) => {
                        tracing::warn!(error = %e, "truncating through a corrupt WAL record");
                        seg.row.start_offset
                    }
                },
                None => seg.row.start_offset,
            }
        };
        let truncation = Truncation { seq, bytes: freed.max(st.truncated.bytes) };
        Ok((seq, self.release(st, truncation)?))
    }

    /// Makes `truncation` durable and takes the segments it fully covers (except the newest) out of the log;
    /// returns them for [`Shared::delete_segments`].
    fn release(&self, st: &mut State, truncation: Truncation) -> Result<Vec<Keyspace>, WalError> {
        let seq = truncation.seq;
        let newest = st.segments.last_key_value().map(|(first, _)| *first);
        let released: Vec<u64> = st
            .segments
            .iter()
            .filter(|(first, s)| s.row.last_seq <= seq && Some(**first) != newest)
            .map(|(first, _)| *first)
            .collect();
        let mut batch = self.db.batch();
        batch.insert(&self.meta, TRUNCATED_KEY, encode_row(&truncation));
        for first in &released {
            batch.remove(&self.meta, segment_row_key(*first));
        }
        batch.commit().map_err(|e| self.poison(e.into()))?;
        self.db.persist(PersistMode::SyncAll).map_err(|e| self.poison(e.into()))?;
        st.truncated = truncation;
        Ok(released.into_iter().filter_map(|first| st.segments.remove(&first).map(|seg| seg.ks)).collect())
    }

    /// Deletes released segment keyspaces, outside the state lock: each deletion costs fjall tens of
    /// milliseconds (metadata ingestion and compaction), which appends must not wait for. A crash before this
    /// leaves keyspaces without rows, which open deletes.
    fn delete_segments(&self, released: Vec<Keyspace>) -> Result<(), WalError> {
        for ks in released {
            self.db.delete_keyspace(ks)?;
        }
        Ok(())
    }
}
