//! The appending half: callers encode their record and queue it; one writer thread gathers the queue into
//! groups, assigns sequences, writes each group as one atomic fjall batch, persists it once per the
//! [`SyncPolicy`], and only then answers every caller of the group.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use fjall::{Keyspace, PersistMode};
use tokio::sync::oneshot;

use crate::handle::{Shared, lock, read_lock};
use crate::layout::{Segment, SegmentRow, encode_row, segment_name, segment_options, segment_row_key};
use crate::record::{UnsealedRecord, key};
use crate::segmenter::{Chore, Segmenter};
use crate::{Kind, SyncPolicy, Wal, WalError};

/// One queued append: the encoded record and where to send its sequence once it is durable.
pub(crate) struct AppendMsg {
    unsealed: UnsealedRecord,
    reply: oneshot::Sender<Result<u64, WalError>>,
}

impl Wal {
    /// Appends one record (`kind` is the caller's tag of the payload); the future resolves with its sequence once the record is durable.
    ///
    /// The record is encoded and queued before this returns, so appends made one after another from one task
    /// get increasing sequences even if their futures are awaited later; dropping the future does not cancel
    /// the append. The future does not need a tokio runtime.
    pub fn append(
        &self,
        kind: Kind,
        received_at_unix_nanos: u64,
        payload: &[u8],
    ) -> impl Future<Output = Result<u64, WalError>> + Send + 'static {
        let queued = self.submit(kind, received_at_unix_nanos, payload);
        async move { queued?.await.map_err(|_| WalError::Closed)? }
    }

    /// Appends one record and blocks the calling thread until it is durable; not for async contexts.
    pub fn append_blocking(&self, kind: Kind, received_at_unix_nanos: u64, payload: &[u8]) -> Result<u64, WalError> {
        self.submit(kind, received_at_unix_nanos, payload)?.blocking_recv().map_err(|_| WalError::Closed)?
    }

    fn submit(
        &self,
        kind: Kind,
        received_at_unix_nanos: u64,
        payload: &[u8],
    ) -> Result<oneshot::Receiver<Result<u64, WalError>>, WalError> {
        self.inner.shared.check_poisoned()?;
        let unsealed = UnsealedRecord::new(kind, received_at_unix_nanos, payload);
        let (reply, rx) = oneshot::channel();
        let tx = read_lock(&self.inner.tx);
        let sender = tx.as_ref().ok_or(WalError::Closed)?;
        sender.send(AppendMsg { unsealed, reply }).map_err(|_| WalError::Closed)?;
        Ok(rx)
    }
}

impl Shared {
    /// The writer thread: commits what is queued, a group at a time, until every sender is gone.
    pub(crate) fn run_writer(&self, rx: mpsc::Receiver<AppendMsg>, segmenter: Segmenter) {
        let mut group = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut bytes = first.unsealed.stored_len();
            group.push(first);
            while group.len() < self.opts.max_group_records && bytes < self.opts.max_group_bytes {
                match rx.try_recv() {
                    Ok(msg) => {
                        bytes += msg.unsealed.stored_len();
                        group.push(msg);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(std::mem::take(&mut group), &segmenter);
        }
    }

    /// Writes one group as a single batch, persists it once, then answers every caller in it.
    fn commit_group(&self, group: Vec<AppendMsg>, segmenter: &Segmenter) {
        if let Err(e) = self.check_poisoned() {
            for msg in group {
                let _ = msg.reply.send(Err(WalError::Poisoned(e.to_string())));
            }
            return;
        }
        let mut accepted = Vec::with_capacity(group.len());
        let mut rolled = Vec::new();
        let mut created = None;
        let mut pending = group.into_iter();
        let written =
            self.write_group(&mut pending, &mut accepted, &mut rolled, &mut created, segmenter).and_then(|()| {
                let (mode, fsync) = match self.opts.sync_policy {
                    SyncPolicy::Sync => (PersistMode::SyncData, true),
                    SyncPolicy::Buffered => (PersistMode::Buffer, false),
                };
                if accepted.is_empty() {
                    return Ok(());
                }
                self.db.persist(mode)?;
                if fsync {
                    self.fsyncs.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            });
        if let Err(e) = written {
            let reason = self.poison(e).to_string();
            for (_, reply) in accepted {
                let _ = reply.send(Err(WalError::Poisoned(reason.clone())));
            }
            for msg in pending {
                let _ = msg.reply.send(Err(WalError::Poisoned(reason.clone())));
            }
            return;
        }
        if let Some((last, _)) = accepted.last() {
            self.publish_durable(last + 1);
            self.groups.fetch_add(1, Ordering::Relaxed);
            self.appends.fetch_add(accepted.len() as u64, Ordering::Relaxed);
        }
        for (seq, reply) in accepted {
            let _ = reply.send(Ok(seq));
        }
        // A full segment gets no more writes: flush its memtable now so its journal can be retired.
        for ks in rolled {
            segmenter.send(Chore::Rotate(ks));
        }
        if let Some(number) = created {
            segmenter.send(Chore::Prepare(number + 1));
        }
    }

    /// Assigns sequences and builds the group's batch under the state lock; answers budget refusals directly.
    fn write_group(
        &self,
        pending: &mut std::vec::IntoIter<AppendMsg>,
        accepted: &mut Vec<(u64, oneshot::Sender<Result<u64, WalError>>)>,
        rolled: &mut Vec<Keyspace>,
        created: &mut Option<u64>,
        segmenter: &Segmenter,
    ) -> Result<(), WalError> {
        let budget = self.opts.disk_budget_bytes;
        let mut st = lock(&self.state);
        let mut batch = self.db.batch();
        let mut touched = Vec::new();
        for msg in pending.by_ref() {
            let size = msg.unsealed.stored_len();
            let used = st.appended_bytes - st.truncated.bytes;
            if used + size > budget {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let _ = msg.reply.send(Err(WalError::OverBudget { used, budget }));
                continue;
            }
            let need_segment = match st.segments.last_key_value() {
                Some((_, seg)) => seg.row.end_offset - seg.row.start_offset >= self.opts.segment_bytes,
                None => true,
            };
            let (seq, offset) = (st.next_seq, st.appended_bytes);
            if need_segment {
                if let Some((_, full)) = st.segments.last_key_value() {
                    rolled.push(full.ks.clone());
                }
                let number = st.next_segment;
                let ks = match segmenter.take(number) {
                    Some(ks) => Ok(ks),
                    None => self.db.keyspace(&segment_name(number), || segment_options(self.opts.segment_bytes)),
                };
                *created = Some(number);
                let ks = match ks {
                    Ok(ks) => ks,
                    Err(e) => {
                        let e = WalError::from(e);
                        let _ = msg.reply.send(Err(WalError::Poisoned(e.to_string())));
                        return Err(e);
                    }
                };
                let row =
                    SegmentRow { number, first_seq: seq, last_seq: seq, start_offset: offset, end_offset: offset };
                st.segments.insert(seq, Segment { ks, row });
                st.next_segment = number + 1;
            }
            let Some((&first, seg)) = st.segments.iter_mut().next_back() else {
                return Err(WalError::Metadata("no segment to append to".into()));
            };
            batch.insert(&seg.ks, key(seq), msg.unsealed.seal(seq, offset));
            seg.row.last_seq = seq;
            seg.row.end_offset = offset + size;
            if touched.last() != Some(&first) {
                touched.push(first);
            }
            st.next_seq = seq + 1;
            st.appended_bytes = offset + size;
            accepted.push((seq, msg.reply));
        }
        for first in touched {
            if let Some(seg) = st.segments.get(&first) {
                batch.insert(&self.meta, segment_row_key(first), encode_row(&seg.row));
            }
        }
        if !batch.is_empty() {
            batch.commit()?;
        }
        Ok(())
    }
}
