//! The segment helper thread: creates the next segment's keyspace and flushes full segments, both of which take
//! fjall tens of milliseconds, off the writer thread.

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use fjall::{Database, Keyspace};

use crate::WalError;
use crate::handle::lock;
use crate::layout::{segment_name, segment_options};

/// Segment chores that take fjall tens of milliseconds, done off the writer thread so appends do not wait.
pub(crate) enum Chore {
    /// Create the keyspace of segment `n` before the writer needs it.
    Prepare(u64),
    /// Flush a full segment's memtable into its table, so the journal holding it can be deleted.
    Rotate(Keyspace),
}

/// The helper thread that runs [`Chore`]s, and the keyspace it prepared.
///
/// A prepared keyspace without records is safe across a crash: open keeps keyspaces numbered at or beyond the
/// next segment, and the next roll reuses it.
pub(crate) struct Segmenter {
    chores: Option<mpsc::Sender<Chore>>,
    prepared: Arc<Mutex<Option<(u64, Keyspace)>>>,
    thread: Option<JoinHandle<()>>,
}

impl Segmenter {
    /// Starts the helper thread on `db`, for segments of `segment_bytes`.
    pub(crate) fn start(db: Database, segment_bytes: u64) -> Result<Segmenter, WalError> {
        let (tx, rx) = mpsc::channel();
        let prepared = Arc::new(Mutex::new(None));
        let slot = prepared.clone();
        let thread = std::thread::Builder::new().name("wal-segments".into()).spawn(move || {
            for chore in rx {
                match chore {
                    Chore::Prepare(n) => match db.keyspace(&segment_name(n), || segment_options(segment_bytes)) {
                        Ok(ks) => *lock(&slot) = Some((n, ks)),
                        Err(e) => {
                            tracing::warn!(error = %e, "could not prepare the next WAL segment")
                        }
                    },
                    Chore::Rotate(ks) => {
                        if let Err(e) = ks.rotate_memtable() {
                            tracing::warn!(error = %e, "could not flush a full WAL segment");
                        }
                    }
                }
            }
        })?;
        Ok(Segmenter { chores: Some(tx), prepared, thread: Some(thread) })
    }

    /// The prepared keyspace of segment `number`, if the helper has made it.
    pub(crate) fn take(&self, number: u64) -> Option<Keyspace> {
        let mut slot = lock(&self.prepared);
        match slot.take() {
            Some((n, ks)) if n == number => Some(ks),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// Queues `chore`; a helper that is gone only costs the chore, never an append.
    pub(crate) fn send(&self, chore: Chore) {
        if let Some(tx) = &self.chores
            && tx.send(chore).is_err()
        {
            tracing::warn!("WAL segment helper thread is gone");
        }
    }
}

impl Drop for Segmenter {
    fn drop(&mut self) {
        // Closing the channel ends the helper after its queued chores; joining it releases its database handle.
        self.chores = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("WAL segment helper thread panicked");
        }
    }
}
