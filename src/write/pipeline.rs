//! The task that tails the WAL into PostgreSQL.
//!
//! A reader reads batches from the WAL, bounded by records, payload bytes and time (a batch is flushed when
//! it is full or `max_batch_delay` after its first record), and sends them over a bounded channel, so at
//! most `read_ahead` batches wait in memory however long the backlog. The writer loads each batch with
//! [`Writer::ingest`] (exactly once, retries, dead letters) and then truncates the WAL through the committed
//! checkpoint. On start, the reader begins after the checkpoint, and the WAL records it covers are truncated
//! at once: a crash between COMMIT and truncation writes nothing twice.
//!
//! Writes overlap: up to `writes_in_flight` batches are in flight at once, each in its own transaction, with
//! their commits kept in WAL order ([`Turn`]), so the checkpoint stays the end of a committed prefix of the
//! WAL. While one batch's rows are loaded, the next is decoded, resolved and loaded too: the pipeline uses a
//! second core of PostgreSQL's instead of waiting on one. A batch that fails in flight (and every batch after
//! it, which cannot commit before it) is written again through [`Writer::ingest`], one at a time, with its
//! retries, bisection and dead letters.
//!
//! While records wait behind a batch, the batch defers its span rollups ([`super::rollup_pending`]) and a later one
//! adds them all, so that the rollup rows of a minute are upserted once per few batches instead of once per
//! batch. [`Deferral`] bounds how far the rollup tables may trail the spans; a batch with nothing behind it,
//! and every batch written through [`Writer::ingest`], adds them at once.
//!
//! The batch bound counts WAL records (export requests) and their payload bytes, not items: items are only
//! known after decoding, and payload bytes track the load's size well enough to bound memory and latency.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wal::{Wal, WalError};

use super::batch::{Predecessor, Turn, Writer, Written};
use super::dead_letter::{DeadLetter, DeadLetterStore};
use super::dims::{CacheOptions, DimCaches};
use super::rollup_pending::RollupPlan;
use crate::normalize::Promotion;
use crate::retry::RetryPolicy;
use crate::telemetry::Telemetry;

/// Batching, read-ahead, retry and cache settings of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Most WAL records (export requests) per batch.
    pub max_batch_records: usize,
    /// Most payload bytes per batch (a single larger record still forms a batch of its own).
    pub max_batch_bytes: usize,
    /// A batch is flushed at most this long after its first record was read, full or not.
    pub max_batch_delay: Duration,
    /// Batches read ahead of the ones being written.
    pub read_ahead: usize,
    /// Batches written at once, each in its own transaction, committed in WAL order (1: one at a time).
    pub writes_in_flight: usize,
    /// Backoff after transient database errors.
    pub retry: RetryPolicy,
    /// Dimension cache sizes.
    pub caches: CacheOptions,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            max_batch_records: 512,
            max_batch_bytes: 32 << 20,
            max_batch_delay: Duration::from_millis(100),
            read_ahead: 2,
            writes_in_flight: 2,
            retry: RetryPolicy::default(),
            caches: CacheOptions::default(),
        }
    }
}

/// Why the pipeline stopped other than by shutdown.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The WAL failed in a way the pipeline cannot skip (closed, poisoned, unreadable metadata).
    #[error("WAL: {0}")]
    Wal(#[from] WalError),
    /// A write failed in a way that must stop ingestion (the dead-letter store is unwritable).
    #[error("write: {0}")]
    Write(#[from] super::WriteError),
}

/// Starts the pipeline for `wal`: returns at once; the task runs until `shutdown` is cancelled (it then finishes
/// or abandons the batch in hand, never truncating what is not committed) or the WAL is closed.
pub fn spawn(
    wal: Wal,
    pool: PgPool,
    promotion: Arc<Promotion>,
    telemetry: Arc<Telemetry>,
    dead_letters: PathBuf,
    options: PipelineOptions,
    shutdown: CancellationToken,
) -> JoinHandle<Result<(), PipelineError>> {
    let caches = Arc::new(DimCaches::new(&options.caches));
    let writer = Writer::new(pool, caches, promotion, telemetry, wal.id(), DeadLetterStore::new(dead_letters))
        .with_retry(options.retry);
    tokio::spawn(run(wal, writer, options, shutdown))
}

/// The pipeline body, for callers that build their own [`Writer`] (shared caches, tests).
pub async fn run(
    wal: Wal,
    writer: Writer,
    options: PipelineOptions,
    shutdown: CancellationToken,
) -> Result<(), PipelineError> {
    let Some(checkpoint) = initial_checkpoint(&wal, &writer, &options, &shutdown).await else {
        return Ok(());
    };
    let wal_last = wal.last_seq().unwrap_or(0);
    if checkpoint > wal_last {
        // Only a WAL in buffered mode that lost its tail (power cut) gets here: it hands out sequences the
        // checkpoint already covers, and those records would be skipped as committed. Rewinding the checkpoint
        // cannot tell reused sequences from committed ones, so the operator must know.
        tracing::error!(
            wal_id = wal.id(),
            checkpoint,
            wal_last,
            "the ingest checkpoint is ahead of the WAL (records lost by a buffered WAL?): new records with \
             sequences up to the checkpoint will be treated as already committed"
        );
    }
    add_deferred_rollups(&writer, &options, &shutdown).await;
    if checkpoint > 0 {
        // Releases what the checkpoint covers and, if the WAL ends before it (and nothing was appended
        // since), makes the next append get checkpoint + 1 so no sequence is handed out twice.
        let w = wal.clone();
        tokio::task::spawn_blocking(move || w.resume_after(checkpoint))
            .await
            .map_err(|e| WalError::Poisoned(format!("resume task failed: {e}")))??;
    }
    let (tx, mut rx) = mpsc::channel::<Vec<wal::Record>>(options.read_ahead.max(1));
    let reader = tokio::spawn(read_loop(
        wal.clone(),
        checkpoint + 1,
        options.clone(),
        tx,
        shutdown.clone(),
        writer.wal_id().to_string(),
        writer.dead_letter_store().clone(),
    ));
    let writer = Arc::new(writer);
    let depth = options.writes_in_flight.max(1);
    let mut in_flight: VecDeque<InFlight> = VecDeque::with_capacity(depth);
    let mut predecessor: Option<Predecessor> = None;
    let mut deferral = Deferral::default();
    let mut result = Ok(());
    let mut reading = true;
    loop {
        let room = reading && in_flight.len() < depth;
        let event = match in_flight.front_mut() {
            None if !reading => break,
            None => Event::Batch(rx.recv().await),
            Some(oldest) => tokio::select! {
                biased;
                done = &mut oldest.task => Event::Done(done),
                batch = rx.recv(), if room => Event::Batch(batch),
                () = shutdown.cancelled() => Event::Shutdown,
            },
        };
        match event {
            Event::Shutdown => break,
            // The reader is gone: finish what is in flight.
            Event::Batch(None) => reading = false,
            // Batches read ahead stay in the WAL for the next start rather than delaying shutdown.
            Event::Batch(Some(_)) if shutdown.is_cancelled() => break,
            Event::Batch(Some(batch)) => {
                let (turn, next) = Turn::after(predecessor.take());
                predecessor = Some(next);
                let behind = match (batch.last(), wal.last_seq()) {
                    (Some(r), Some(last)) => last > r.seq,
                    _ => false,
                };
                let plan = deferral.plan(behind, Instant::now());
                let records = Arc::new(batch);
                let (w, r) = (writer.clone(), records.clone());
                let task = tokio::spawn(async move { w.write_records_in_turn(&r, turn, plan).await });
                in_flight.push_back(InFlight { records, task });
            }
            Event::Done(done) => {
                // Taken out before anything else: its task has ended and must not be awaited again.
                let Some(oldest) = in_flight.pop_front() else { continue };
                if shutdown.is_cancelled() {
                    break;
                }
                match settle(&wal, &writer, done, oldest.records, &mut in_flight, &mut predecessor, &shutdown).await {
                    Ok(()) => {}
                    Err(PipelineError::Write(super::WriteError::Shutdown)) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "ingest pipeline stopped");
                        result = Err(e);
                        break;
                    }
                }
            }
        }
    }
    // On shutdown, what is still in flight gets a moment to commit; what does not is written on the next start.
    let grace = tokio::time::Instant::now() + Duration::from_secs(5);
    for mut b in in_flight {
        if tokio::time::timeout_at(grace, &mut b.task).await.is_err() {
            b.task.abort();
        }
    }
    drop(rx);
    if result.is_err() {
        // The reader may be waiting for new records, which could take forever: it holds nothing to finish.
        reader.abort();
    }
    match reader.await {
        Ok(Err(e)) if result.is_ok() => result = Err(e),
        Err(e) if result.is_ok() && !e.is_cancelled() => {
            tracing::error!(error = %e, "WAL reader task failed");
        }
        _ => {}
    }
    result
}

/// Most batches in a row that defer their rollups.
const MAX_DEFERRED_BATCHES: u32 = 16;

/// Longest a batch defers its rollups after the first batch that did, since the last one that added them.
const MAX_ROLLUP_DELAY: Duration = Duration::from_secs(10);

/// Which batches defer their span rollups ([`super::rollup_pending`]): those with records behind them, at most
/// [`MAX_DEFERRED_BATCHES`] in a row and within [`MAX_ROLLUP_DELAY`] of the first; the next one adds them.
#[derive(Debug, Default)]
struct Deferral {
    /// Batches that deferred since the last that added, and when the first of them was launched.
    deferred: Option<(u32, Instant)>,
}

impl Deferral {
    /// The plan of the next batch, launched at `now`, with (`behind`) or without records waiting behind it.
    fn plan(&mut self, behind: bool, now: Instant) -> RollupPlan {
        let (count, first) = self.deferred.unwrap_or((0, now));
        if behind && count < MAX_DEFERRED_BATCHES && now.duration_since(first) < MAX_ROLLUP_DELAY {
            self.deferred = Some((count + 1, first));
            RollupPlan::Defer
        } else {
            self.deferred = None;
            RollupPlan::Add
        }
    }
}

/// Adds what this WAL's batches deferred before the pipeline last stopped, retrying whatever the error (a
/// WAL with no new records would otherwise leave them out of the rollups); gives up only on shutdown.
async fn add_deferred_rollups(writer: &Writer, options: &PipelineOptions, shutdown: &CancellationToken) {
    let notify = |e: &super::WriteError, delay| {
        tracing::warn!(wal_id = writer.wal_id(), error = %e, retry_in = ?delay, "cannot add the deferred span rollups; retrying");
    };
    let added = options.retry.retry(shutdown, |_| true, notify, || writer.add_deferred_rollups()).await;
    if let Ok(n @ 1..) = added {
        tracing::info!(wal_id = writer.wal_id(), batches = n, "added span rollups that batches had deferred");
    }
}

/// A batch being written in its turn.
struct InFlight {
    records: Arc<Vec<wal::Record>>,
    task: JoinHandle<Result<Written, super::WriteError>>,
}

/// What the pipeline's loop waits for: the next batch from the reader, or the oldest write in flight to end.
enum Event {
    /// A batch, or `None` once the reader has stopped.
    Batch(Option<Vec<wal::Record>>),
    /// The oldest write in flight ended.
    Done(Result<Result<Written, super::WriteError>, tokio::task::JoinError>),
    /// Shutdown was requested while writes were in flight.
    Shutdown,
}

/// Takes the outcome of the oldest batch in flight (`records`) and truncates the WAL through what it
/// committed. If it failed, the batches after it fail too (none may commit before it), and all of them are
/// written again, in order, through [`Writer::ingest`].
async fn settle(
    wal: &Wal,
    writer: &Writer,
    done: Result<Result<Written, super::WriteError>, tokio::task::JoinError>,
    records: Arc<Vec<wal::Record>>,
    in_flight: &mut VecDeque<InFlight>,
    predecessor: &mut Option<Predecessor>,
    shutdown: &CancellationToken,
) -> Result<(), PipelineError> {
    match done {
        Ok(Ok(written)) => {
            truncate(wal, written.checkpoint).await?;
            return Ok(());
        }
        Ok(Err(e)) => tracing::debug!(error = %e, "batch not written in flight; writing it again on its own"),
        Err(e) => tracing::error!(error = %e, "batch write task failed; writing the batch again on its own"),
    }
    *predecessor = None;
    let mut again = vec![records];
    for b in in_flight.drain(..) {
        // Cannot have committed (its predecessor did not); awaited so that its records are free to write.
        let _ = b.task.await;
        again.push(b.records);
    }
    for records in again {
        let records = Arc::try_unwrap(records).unwrap_or_else(|shared| (*shared).clone());
        let report = writer.ingest(records, shutdown).await?;
        if report.checkpoint > 0 {
            truncate(wal, report.checkpoint).await?;
        }
    }
    Ok(())
}

/// Reads the checkpoint, retrying whatever the error (until it is known, the pipeline can do nothing else);
/// `None` on shutdown.
async fn initial_checkpoint(
    wal: &Wal,
    writer: &Writer,
    options: &PipelineOptions,
    shutdown: &CancellationToken,
) -> Option<u64> {
    let notify = |e: &sqlx::Error, delay| {
        tracing::warn!(wal_id = wal.id(), error = %e, retry_in = ?delay, "cannot read the ingest checkpoint; retrying");
    };
    let read = options.retry.retry(shutdown, |_| true, notify, || writer.checkpoint()).await;
    read.ok().map(|cp| cp.unwrap_or(0))
}

async fn truncate(wal: &Wal, seq: u64) -> Result<u64, WalError> {
    let wal = wal.clone();
    match tokio::task::spawn_blocking(move || wal.truncate_through(seq)).await {
        Ok(r) => r,
        Err(e) => Err(WalError::Metadata(format!("truncation task failed: {e}"))),
    }
}

async fn read(wal: &Wal, from: u64, max_records: usize, max_bytes: usize) -> Result<Vec<wal::Record>, WalError> {
    let wal = wal.clone();
    match tokio::task::spawn_blocking(move || wal.read_from(from, max_records, max_bytes)).await {
        Ok(r) => r,
        Err(e) => Err(WalError::Metadata(format!("read task failed: {e}"))),
    }
}

/// Forms batches and sends them to the writer; stops on shutdown, when the writer is gone, or when the WAL is
/// closed. A corrupt WAL record is dead-lettered (without payload) and skipped.
async fn read_loop(
    wal: Wal,
    mut next: u64,
    options: PipelineOptions,
    tx: mpsc::Sender<Vec<wal::Record>>,
    shutdown: CancellationToken,
    wal_id: String,
    dead_letters: DeadLetterStore,
) -> Result<(), PipelineError> {
    let max_records = options.max_batch_records.max(1);
    let max_bytes = options.max_batch_bytes.max(1);
    loop {
        // Wait for the first record of the next batch.
        tokio::select! {
            r = wal.wait_for_records_after(next.saturating_sub(1)) => match r {
                Ok(_) => {}
                Err(WalError::Closed) => return Ok(()),
                Err(e) => return Err(e.into()),
            },
            () = shutdown.cancelled() => return Ok(()),
        }
        let deadline = tokio::time::Instant::now() + options.max_batch_delay;
        let mut batch: Vec<wal::Record> = Vec::new();
        let mut bytes = 0usize;
        loop {
            let room = max_records - batch.len();
            let byte_room = max_bytes.saturating_sub(bytes).max(1);
            match read(&wal, next, room, byte_room).await {
                Ok(records) => {
                    // A record that does not fit the byte budget left is still returned first by read_from;
                    // keep it for the next batch unless this batch is empty.
                    for r in records {
                        if !batch.is_empty() && bytes + r.payload.len() > max_bytes {
                            break;
                        }
                        next = r.seq + 1;
                        bytes += r.payload.len();
                        batch.push(r);
                    }
                }
                Err(WalError::Corrupt { seq, reason }) if seq >= next => {
                    tracing::error!(wal_id, seq, reason, "WAL record is corrupt; dead-lettering and skipping it");
                    let letter = DeadLetter {
                        wal_id: wal_id.clone(),
                        seq,
                        signal: None,
                        received_at_unix_nanos: 0,
                        error: format!("corrupt WAL record: {reason}"),
                        payload: Vec::new(),
                    };
                    let notify = |e: &super::DeadLetterError, delay| {
                        tracing::warn!(wal_id, seq, error = %e, retry_in = ?delay, "cannot write a dead letter; retrying");
                    };
                    let put = || async { dead_letters.put(&letter) };
                    // Every error is retried, so only shutdown ends it early.
                    if options.retry.retry(&shutdown, |_| true, notify, put).await.is_err() {
                        return Ok(());
                    }
                    next = seq + 1;
                }
                Err(WalError::Closed) => break,
                Err(e) => return Err(e.into()),
            }
            if batch.is_empty() {
                // wait_for_records_after said a record exists, yet none was readable: do not spin on it.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            if batch.len() >= max_records || bytes >= max_bytes {
                break;
            }
            tokio::select! {
                r = wal.wait_for_records_after(next.saturating_sub(1)) => match r {
                    Ok(_) => {}
                    Err(_) => break,
                },
                _ = tokio::time::sleep_until(deadline) => break,
                () = shutdown.cancelled() => return Ok(()),
            }
        }
        if batch.is_empty() {
            continue;
        }
        if tx.send(batch).await.is_err() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_defer_only_with_records_behind_them_and_within_the_bounds() {
        use RollupPlan::{Add, Defer};
        let t0 = Instant::now();
        let mut d = Deferral::default();
        assert_eq!(d.plan(false, t0), Add, "nothing behind: add at once");
        let plans: Vec<_> = (0..=MAX_DEFERRED_BATCHES).map(|_| d.plan(true, t0)).collect();
        assert!(plans[..MAX_DEFERRED_BATCHES as usize].iter().all(|p| *p == Defer), "{plans:?}");
        assert_eq!(plans.last(), Some(&Add), "the batch after the most in a row adds");
        assert_eq!(d.plan(true, t0), Defer, "and the count starts again");
        assert_eq!(d.plan(true, t0 + MAX_ROLLUP_DELAY / 2), Defer);
        assert_eq!(d.plan(true, t0 + MAX_ROLLUP_DELAY), Add, "too long since the first deferred");
        assert_eq!(d.plan(true, t0 + MAX_ROLLUP_DELAY), Defer);
        assert_eq!(d.plan(false, t0 + MAX_ROLLUP_DELAY), Add, "caught up: add at once");
    }
}
