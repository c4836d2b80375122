//! Durable, group-committed write-ahead log of received OTLP export requests, over fjall.
//!
//! Receivers [`Wal::append`] each export request (signal, receive time, protobuf payload) and answer their client
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

#![warn(missing_docs)]

mod error;
mod record;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use tokio::sync::{oneshot, watch};

pub use error::{AppendError, WalError};
use record::{KEY_LEN, Prepared, decode, key, seq_of_key};
pub use record::{Record, RecordSummary, Signal};

const META_KEYSPACE: &str = "wal_meta";
const SEGMENT_PREFIX: &str = "seg-";
const ID_KEY: &[u8] = b"id";
const TRUNCATED_KEY: &[u8] = b"truncated";
const SEGMENT_ROW_PREFIX: &[u8] = b"seg/";

/// When an append is acknowledged, relative to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The append's future resolves only after an `fdatasync` of the fjall journal that covers the record: an
    /// acknowledged record survives a process crash, a kernel panic and a power cut (as far as the disk honours
    /// fsync). Concurrent appends share one fsync (group commit).
    #[default]
    Sync,
    /// The append's future resolves once the record is written to the operating system's page cache, without
    /// fsync: an acknowledged record survives a crash or kill of this process, but the last seconds of
    /// acknowledged records can be lost on a power cut or kernel crash (the kernel writes dirty pages back on its
    /// own schedule, typically within 30 s). After such a loss, sequence numbers are reused, so a downstream
    /// checkpoint may already cover numbers the WAL hands out again.
    Buffered,
}

/// How to open a WAL.
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// When appends are acknowledged; see [`Durability`].
    pub durability: Durability,
    /// Live record bytes beyond which appends are refused with [`WalError::OverBudget`] (default 10 GiB).
    pub disk_budget_bytes: u64,
    /// Record bytes per segment (fjall keyspace); disk space is reclaimed a whole segment at a time (default 64 MiB).
    pub segment_bytes: u64,
    /// Most appends gathered into one group commit (default 4096).
    pub max_group_records: usize,
    /// Most record bytes gathered into one group commit (default 32 MiB).
    pub max_group_bytes: u64,
    /// fjall block cache size in bytes (default 32 MiB).
    pub cache_bytes: u64,
    /// Journal size at which fjall forces flushes so old journal files can be deleted (default and minimum 64 MiB).
    pub max_journal_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            durability: Durability::Sync,
            disk_budget_bytes: 10 << 30,
            segment_bytes: 64 << 20,
            max_group_records: 4096,
            max_group_bytes: 32 << 20,
            cache_bytes: 32 << 20,
            max_journal_bytes: 64 << 20,
        }
    }
}

impl WalOptions {
    fn validate(&self) -> Result<(), WalError> {
        let bad = |m: &str| Err(WalError::InvalidOptions(m.to_string()));
        if self.segment_bytes == 0 {
            return bad("segment_bytes must be at least 1");
        }
        if self.max_group_records == 0 || self.max_group_bytes == 0 {
            return bad("max_group_records and max_group_bytes must be at least 1");
        }
        if self.max_journal_bytes < 64 << 20 {
            return bad("max_journal_bytes must be at least 64 MiB (fjall's minimum)");
        }
        Ok(())
    }
}

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

/// Where one segment's records lie, stored in the metadata keyspace and updated with every group commit.
#[derive(Debug, Clone, Copy, bincode::Encode, bincode::Decode)]
struct SegmentRow {
    /// Names the segment's keyspace; segments are numbered 1, 2, 3... in creation order.
    number: u64,
    first_seq: u64,
    last_seq: u64,
    start_offset: u64,
    end_offset: u64,
}

/// The release watermark: records through `seq` are gone, and so are the first `bytes` appended bytes.
#[derive(Debug, Clone, Copy, Default, bincode::Encode, bincode::Decode)]
struct Truncation {
    seq: u64,
    bytes: u64,
}

struct Segment {
    ks: Keyspace,
    row: SegmentRow,
}

/// Mutable log layout, changed only by the writer thread and by truncation.
struct State {
    /// Live segments by first sequence; the last one receives appends and is never deleted.
    segments: BTreeMap<u64, Segment>,
    next_seq: u64,
    /// Number of the next segment to create.
    next_segment: u64,
    /// Total record bytes ever appended: the end offset of the log.
    appended_bytes: u64,
    truncated: Truncation,
}

struct Shared {
    db: Database,
    meta: Keyspace,
    opts: WalOptions,
    id: String,
    state: Mutex<State>,
    /// One past the newest record that is durable (per the durability mode); readers never go beyond it.
    durable_next: AtomicU64,
    durable_changed: watch::Sender<u64>,
    durable_lock: Mutex<()>,
    durable_cv: Condvar,
    closed: AtomicBool,
    poisoned: Mutex<Option<String>>,
    appends: AtomicU64,
    refused: AtomicU64,
    groups: AtomicU64,
    fsyncs: AtomicU64,
}

struct AppendMsg {
    prepared: Prepared,
    reply: oneshot::Sender<Result<u64, WalError>>,
}

struct Handle {
    shared: Arc<Shared>,
    tx: RwLock<Option<mpsc::Sender<AppendMsg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
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

/// The write-ahead log. Cheap to clone; all clones share one writer. Dropping the last clone closes it.
#[derive(Clone)]
pub struct Wal {
    inner: Arc<Handle>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data that is still consistent enough to report
    // errors with; refusing all further use would turn one bug into an outage.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn write_lock<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

fn read_lock<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

/// Keyspace name of segment `number`.
///
/// Segments are named by creation number, not by first sequence, so that a keyspace created just before a crash
/// (its first batch lost) is exactly the one the next roll would create, and gets reused. Deleting it instead would
/// free the highest keyspace id, which fjall 3.1 reuses after a restart; the reused id's mapping can then be
/// shadowed by the deleted keyspace's tombstone at the next restart, losing the new keyspace and its records
/// (found by the SIGKILL test).
fn segment_name(number: u64) -> String {
    format!("{SEGMENT_PREFIX}{number:020}")
}

fn segment_row_key(first_seq: u64) -> Vec<u8> {
    let mut k = SEGMENT_ROW_PREFIX.to_vec();
    k.extend_from_slice(&first_seq.to_be_bytes());
    k
}

/// Options of a new segment keyspace holding up to `segment_bytes` of records.
fn segment_options(segment_bytes: u64) -> KeyspaceCreateOptions {
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

fn encode_row<T: bincode::Encode>(value: &T) -> Vec<u8> {
    // Encoding fixed-size integer structs into a Vec cannot fail.
    bincode::encode_to_vec(value, bincode::config::standard()).unwrap_or_default()
}

fn decode_row<T: bincode::Decode<()>>(what: &str, bytes: &[u8]) -> Result<T, WalError> {
    bincode::decode_from_slice(bytes, bincode::config::standard())
        .map(|(v, _)| v)
        .map_err(|e| WalError::Metadata(format!("{what}: {e}")))
}

/// What a read hands out when it met a corrupt record: the good records before it, or the error if there are none.
fn good_prefix<T>(scanned: Result<(), WalError>, out: Vec<T>) -> Result<Vec<T>, WalError> {
    match scanned {
        Err(WalError::Corrupt { .. }) if !out.is_empty() => Ok(out),
        Err(e) => Err(e),
        Ok(()) => Ok(out),
    }
}

fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl Wal {
    /// Opens (creating if needed) the WAL in directory `path`; reads only metadata, never the records.
    pub fn open(path: impl AsRef<Path>, opts: WalOptions) -> Result<Wal, WalError> {
        opts.validate()?;
        let path = path.as_ref();
        std::fs::create_dir_all(path)?;
        let started = Instant::now();
        let db = Database::builder(path)
            .manual_journal_persist(true)
            .cache_size(opts.cache_bytes)
            .max_journaling_size(opts.max_journal_bytes)
            // One background worker: with two, fjall 3.1's worker 0 re-queues every compaction message for the
            // other worker and spins while that one flushes (a quarter of the CPU in a profile here). Segments
            // are flushed once and barely compacted, so one worker keeps up.
            .worker_threads(1)
            // fjall compresses journal values of 4 KiB and more with lz4 by default, on the appending thread: that
            // was most of the WAL writer's CPU time, in series with every acknowledgement. The segment tables are
            // compressed instead (see segment_options), on fjall's worker thread.
            .journal_compression(fjall::CompressionType::None)
            .open()?;
        let meta = db.keyspace(META_KEYSPACE, KeyspaceCreateOptions::default)?;

        let id = match meta.get(ID_KEY)? {
            Some(v) => {
                let id =
                    String::from_utf8(v.to_vec()).map_err(|_| WalError::Metadata("identity is not text".into()))?;
                if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(WalError::Metadata(format!("identity {id:?} is not 32 hex digits")));
                }
                id
            }
            None => {
                let id = new_id();
                meta.insert(ID_KEY, id.as_bytes())?;
                db.persist(PersistMode::SyncAll)?;
                id
            }
        };

        let truncated: Truncation = match meta.get(TRUNCATED_KEY)? {
            Some(v) => decode_row("truncation watermark", &v)?,
            None => Truncation::default(),
        };
        let mut rows = Vec::new();
        for guard in meta.prefix(SEGMENT_ROW_PREFIX) {
            let (_, v) = guard.into_inner()?;
            rows.push(decode_row::<SegmentRow>("segment row", &v)?);
        }
        let (next_seq, appended_bytes, next_segment) = match rows.last() {
            Some(last) => (last.last_seq.max(truncated.seq) + 1, last.end_offset.max(truncated.bytes), last.number + 1),
            None => (truncated.seq + 1, truncated.bytes, 1),
        };

        // A crash can leave fully truncated segments whose deletion did not happen yet, and keyspaces whose row was
        // removed by truncation: finish those steps. A keyspace created for a segment whose first batch never
        // committed is the next segment's, and is reused.
        let mut segments = BTreeMap::new();
        let last_first = rows.last().map(|r| r.first_seq);
        let mut stale_rows = db.batch();
        for row in rows {
            let name = segment_name(row.number);
            if row.last_seq <= truncated.seq && Some(row.first_seq) != last_first {
                stale_rows.remove(&meta, segment_row_key(row.first_seq));
                continue;
            }
            if !db.keyspace_exists(&name) {
                tracing::error!(segment = %name, "WAL segment keyspace is missing; its records will read as corrupt");
            }
            let ks = db.keyspace(&name, || segment_options(opts.segment_bytes))?;
            segments.insert(row.first_seq, Segment { ks, row });
        }
        if !stale_rows.is_empty() {
            stale_rows.commit()?;
            db.persist(PersistMode::SyncAll)?;
        }
        let live: std::collections::HashSet<u64> = segments.values().map(|s: &Segment| s.row.number).collect();
        for name in db.list_keyspace_names() {
            let name: &str = &name;
            let Some(number) = name.strip_prefix(SEGMENT_PREFIX).and_then(|s| s.parse::<u64>().ok()) else {
                continue;
            };
            if live.contains(&number) || number >= next_segment {
                continue;
            }
            tracing::info!(segment = %name, "deleting WAL segment left over by an interrupted truncation");
            let ks = db.keyspace(name, || segment_options(opts.segment_bytes))?;
            db.delete_keyspace(ks)?;
        }

        let (durable_changed, _) = watch::channel(next_seq);
        let shared = Arc::new(Shared {
            db,
            meta,
            opts,
            id,
            state: Mutex::new(State { segments, next_seq, next_segment, appended_bytes, truncated }),
            durable_next: AtomicU64::new(next_seq),
            durable_changed,
            durable_lock: Mutex::new(()),
            durable_cv: Condvar::new(),
            closed: AtomicBool::new(false),
            poisoned: Mutex::new(None),
            appends: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            groups: AtomicU64::new(0),
            fsyncs: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::channel();
        let segmenter = Segmenter::start(shared.db.clone(), shared.opts.segment_bytes)?;
        segmenter.send(Chore::Prepare(lock(&shared.state).next_segment));
        let writer_shared = shared.clone();
        let writer = std::thread::Builder::new()
            .name("wal-writer".into())
            .spawn(move || writer_shared.run_writer(rx, segmenter))?;
        tracing::info!(
            path = %path.display(),
            id = %shared.id,
            next_seq,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "WAL opened"
        );
        Ok(Wal { inner: Arc::new(Handle { shared, tx: RwLock::new(Some(tx)), writer: Mutex::new(Some(writer)) }) })
    }

    /// The WAL's persistent identity: 32 hex digits, created with the directory, stable across restarts.
    pub fn id(&self) -> &str {
        &self.inner.shared.id
    }

    /// Appends one export request; the future resolves with its sequence once the record is durable.
    ///
    /// The record is encoded and queued before this returns, so appends made one after another from one task
    /// get increasing sequences even if their futures are awaited later; dropping the future does not cancel
    /// the append. The future does not need a tokio runtime.
    pub fn append(
        &self,
        signal: Signal,
        received_at_unix_nanos: u64,
        payload: &[u8],
    ) -> impl Future<Output = Result<u64, WalError>> + Send + 'static {
        let queued = self.submit(signal, received_at_unix_nanos, payload);
        async move { queued?.await.map_err(|_| WalError::Closed)? }
    }

    /// Appends one export request and blocks the calling thread until it is durable; not for async contexts.
    pub fn append_blocking(
        &self,
        signal: Signal,
        received_at_unix_nanos: u64,
        payload: &[u8],
    ) -> Result<u64, WalError> {
        self.submit(signal, received_at_unix_nanos, payload)?.blocking_recv().map_err(|_| WalError::Closed)?
    }

    fn submit(
        &self,
        signal: Signal,
        received_at_unix_nanos: u64,
        payload: &[u8],
    ) -> Result<oneshot::Receiver<Result<u64, WalError>>, WalError> {
        self.inner.shared.check_poisoned()?;
        let prepared = Prepared::new(signal, received_at_unix_nanos, payload);
        let (reply, rx) = oneshot::channel();
        let tx = read_lock(&self.inner.tx);
        let sender = tx.as_ref().ok_or(WalError::Closed)?;
        sender.send(AppendMsg { prepared, reply }).map_err(|_| WalError::Closed)?;
        Ok(rx)
    }

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
                signal: d.signal,
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
                signal: d.signal,
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

/// Segment chores that take fjall tens of milliseconds, done off the writer thread so appends do not wait.
enum Chore {
    /// Create the keyspace of segment `n` before the writer needs it.
    Prepare(u64),
    /// Flush a full segment's memtable into its table, so the journal holding it can be deleted.
    Rotate(Keyspace),
}

/// The helper thread that runs [`Chore`]s, and the keyspace it prepared.
///
/// A prepared keyspace without records is safe across a crash: open keeps keyspaces numbered at or beyond the
/// next segment, and the next roll reuses it.
struct Segmenter {
    chores: Option<mpsc::Sender<Chore>>,
    prepared: Arc<Mutex<Option<(u64, Keyspace)>>>,
    thread: Option<JoinHandle<()>>,
}

impl Segmenter {
    fn start(db: Database, segment_bytes: u64) -> Result<Segmenter, WalError> {
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
    fn take(&self, number: u64) -> Option<Keyspace> {
        let mut slot = lock(&self.prepared);
        match slot.take() {
            Some((n, ks)) if n == number => Some(ks),
            other => {
                *slot = other;
                None
            }
        }
    }

    fn send(&self, chore: Chore) {
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

impl Shared {
    fn check_poisoned(&self) -> Result<(), WalError> {
        match lock(&self.poisoned).as_ref() {
            Some(reason) => Err(WalError::Poisoned(reason.clone())),
            None => Ok(()),
        }
    }

    /// Records that the on-disk state is unknown after `err`; every later write is refused (Vector's rule).
    fn poison(&self, err: WalError) -> WalError {
        tracing::error!(error = %err, "WAL write failed; refusing further writes until reopened");
        lock(&self.poisoned).get_or_insert_with(|| err.to_string());
        err
    }

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

    fn publish_durable(&self, next: u64) {
        // fetch_max: resume_after may have moved the end past a group that is being answered.
        let next = self.durable_next.fetch_max(next, Ordering::AcqRel).max(next);
        {
            let _guard = lock(&self.durable_lock);
            self.durable_cv.notify_all();
        }
        self.durable_changed.send_replace(next);
    }

    fn run_writer(&self, rx: mpsc::Receiver<AppendMsg>, segmenter: Segmenter) {
        let mut group = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut bytes = first.prepared.stored_len();
            group.push(first);
            while group.len() < self.opts.max_group_records && bytes < self.opts.max_group_bytes {
                match rx.try_recv() {
                    Ok(msg) => {
                        bytes += msg.prepared.stored_len();
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
                let (mode, fsync) = match self.opts.durability {
                    Durability::Sync => (PersistMode::SyncData, true),
                    Durability::Buffered => (PersistMode::Buffer, false),
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
            let size = msg.prepared.stored_len();
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
            batch.insert(&seg.ks, key(seq), msg.prepared.seal(seq, offset));
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
