//! Opening a WAL: the fjall database, the identity, and the log layout recovered from the metadata keyspace
//! alone (never from the records), finishing whatever a crash interrupted; then the writer and segment threads.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex, RwLock, mpsc};
use std::time::Instant;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use tokio::sync::watch;

use crate::handle::{Handle, Shared, State, lock};
use crate::layout::{
    ID_KEY, META_KEYSPACE, SEGMENT_PREFIX, SEGMENT_ROW_PREFIX, Segment, SegmentRow, TRUNCATED_KEY, Truncation,
    decode_row, segment_name, segment_options, segment_row_key,
};
use crate::segmenter::{Chore, Segmenter};
use crate::{Wal, WalError, WalOptions};

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
        let id = identity(&db, &meta)?;
        let state = recover(&db, &meta, opts.segment_bytes)?;
        let next_seq = state.next_seq;

        let (durable_changed, _) = watch::channel(next_seq);
        let shared = Arc::new(Shared {
            db,
            meta,
            opts,
            id,
            state: Mutex::new(state),
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
}

/// The stored identity, or a new one made durable before anything else is written.
fn identity(db: &Database, meta: &Keyspace) -> Result<String, WalError> {
    match meta.get(ID_KEY)? {
        Some(v) => {
            let id = String::from_utf8(v.to_vec()).map_err(|_| WalError::Metadata("identity is not text".into()))?;
            if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(WalError::Metadata(format!("identity {id:?} is not 32 hex digits")));
            }
            Ok(id)
        }
        None => {
            let id = format!("{:032x}", rand::random::<u128>());
            meta.insert(ID_KEY, id.as_bytes())?;
            db.persist(PersistMode::SyncAll)?;
            Ok(id)
        }
    }
}

/// The log layout from the truncation watermark and the segment table.
fn recover(db: &Database, meta: &Keyspace, segment_bytes: u64) -> Result<State, WalError> {
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
            stale_rows.remove(meta, segment_row_key(row.first_seq));
            continue;
        }
        if !db.keyspace_exists(&name) {
            tracing::error!(segment = %name, "WAL segment keyspace is missing; its records will read as corrupt");
        }
        let ks = db.keyspace(&name, || segment_options(segment_bytes))?;
        segments.insert(row.first_seq, Segment { ks, row });
    }
    if !stale_rows.is_empty() {
        stale_rows.commit()?;
        db.persist(PersistMode::SyncAll)?;
    }
    let live: HashSet<u64> = segments.values().map(|s: &Segment| s.row.number).collect();
    for name in db.list_keyspace_names() {
        let name: &str = &name;
        let Some(number) = name.strip_prefix(SEGMENT_PREFIX).and_then(|s| s.parse::<u64>().ok()) else {
            continue;
        };
        if live.contains(&number) || number >= next_segment {
            continue;
        }
        tracing::info!(segment = %name, "deleting WAL segment left over by an interrupted truncation");
        let ks = db.keyspace(name, || segment_options(segment_bytes))?;
        db.delete_keyspace(ks)?;
    }
    Ok(State { segments, next_seq, next_segment, appended_bytes, truncated })
}
