//! The [`Wal`] handle and the state its clones share with the writer thread: the log layout, the durable end,
//! the poison flag and the counters.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, mpsc};
use std::thread::JoinHandle;

use fjall::{Database, Keyspace};
use tokio::sync::watch;

use crate::append::AppendMsg;
use crate::layout::{Segment, Truncation};
use crate::{WalError, WalOptions};

/// The write-ahead log. Cheap to clone; all clones share one writer. Dropping the last clone closes it.
#[derive(Clone)]
pub struct Wal {
    pub(crate) inner: Arc<Handle>,
}

/// What all clones of a [`Wal`] hold: the shared state, the writer's queue and the writer thread.
pub(crate) struct Handle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) tx: RwLock<Option<mpsc::Sender<AppendMsg>>>,
    pub(crate) writer: Mutex<Option<JoinHandle<()>>>,
}

/// Mutable log layout, changed only by the writer thread and by truncation.
pub(crate) struct State {
    /// Live segments by first sequence; the last one receives appends and is never deleted.
    pub(crate) segments: BTreeMap<u64, Segment>,
    pub(crate) next_seq: u64,
    /// Number of the next segment to create.
    pub(crate) next_segment: u64,
    /// Total record bytes ever appended: the end offset of the log.
    pub(crate) appended_bytes: u64,
    pub(crate) truncated: Truncation,
}

/// Everything the handle, the readers and the writer thread share.
pub(crate) struct Shared {
    pub(crate) db: Database,
    pub(crate) meta: Keyspace,
    pub(crate) opts: WalOptions,
    pub(crate) id: String,
    pub(crate) state: Mutex<State>,
    /// One past the newest record that is durable (per the sync policy); readers never go beyond it.
    pub(crate) durable_next: AtomicU64,
    pub(crate) durable_changed: watch::Sender<u64>,
    pub(crate) durable_lock: Mutex<()>,
    pub(crate) durable_cv: Condvar,
    pub(crate) closed: AtomicBool,
    pub(crate) poisoned: Mutex<Option<String>>,
    pub(crate) appends: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) groups: AtomicU64,
    pub(crate) fsyncs: AtomicU64,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.close();
    }
}

impl Handle {
    fn close(&self) {
        // Dropping the sender lets the writer finish the appends already queued, then exit.
        *write_lock(&self.tx) = None;
        if let Some(writer) = lock(&self.writer).take()
            && writer.join().is_err()
        {
            tracing::error!("WAL writer thread panicked");
        }
        self.shared.closed.store(true, Ordering::Release);
        self.shared.publish_durable(self.shared.durable_next.load(Ordering::Acquire));
    }
}

impl Wal {
    /// The WAL's persistent identity: 32 hex digits, created with the directory, stable across restarts.
    pub fn id(&self) -> &str {
        &self.inner.shared.id
    }

    /// Whether appends can still succeed: [`WalError::Closed`] once closed, [`WalError::Poisoned`] after a
    /// failed write left the disk state unknown (for liveness probes: such a WAL needs a restart).
    pub fn check_writable(&self) -> Result<(), WalError> {
        let shared = &self.inner.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(WalError::Closed);
        }
        shared.check_poisoned()
    }

    /// Stops accepting appends, lets the queued ones finish, and stops the writer; other clones see `Closed`.
    pub fn close(&self) {
        self.inner.close();
    }
}

impl Shared {
    pub(crate) fn check_poisoned(&self) -> Result<(), WalError> {
        match lock(&self.poisoned).as_ref() {
            Some(reason) => Err(WalError::Poisoned(reason.clone())),
            None => Ok(()),
        }
    }

    /// Records that the on-disk state is unknown after `err`; every later write is refused (Vector's rule).
    pub(crate) fn poison(&self, err: WalError) -> WalError {
        tracing::error!(error = %err, "WAL write failed; refusing further writes until reopened");
        lock(&self.poisoned).get_or_insert_with(|| err.to_string());
        err
    }

    /// Moves the durable end to `next` and wakes the readers waiting for new records.
    pub(crate) fn publish_durable(&self, next: u64) {
        // fetch_max: resume_after may have moved the end past a group that is being answered.
        let next = self.durable_next.fetch_max(next, Ordering::AcqRel).max(next);
        {
            let _guard = lock(&self.durable_lock);
            self.durable_cv.notify_all();
        }
        self.durable_changed.send_replace(next);
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data that is still consistent enough to report
    // errors with; refusing all further use would turn one bug into an outage.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write_lock<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn read_lock<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}
