//! One transaction per batch: dimension ids, fact id blocks, binary COPY of every table, the span rollups,
//! the ingest checkpoint, COMMIT. [`Writer::ingest`] adds the policy around it: skip what the checkpoint covers, dead-letter
//! records that fail to decode, retry transient errors with capped backoff, bisect permanent ones.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use super::dead_letter::{DeadLetter, DeadLetterStore};
use super::dims::{self, DimCaches};
use super::rollup_pending::{self, RollupPlan};
use super::rollups;
use super::{ErrorClass, WriteError};
use crate::normalize::rollup::{self, SpanRollups};
use crate::normalize::{self, Encoded, FactIds, PreparedBatch, Promotion, TableData};
use crate::retry::{Backoff, RetryError, RetryPolicy};
use crate::schema::Signal;
use crate::telemetry::Telemetry;

mod checkpoint;
mod isolate;
mod turn;

pub(crate) use super::cpu::on_rayon;
pub use checkpoint::read_checkpoint;
use checkpoint::{lock_checkpoint, seq_i64, upsert_checkpoint};
pub use turn::{Predecessor, Turn};

/// What one committed transaction wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// The checkpoint now committed (the batch's last WAL sequence).
    pub checkpoint: u64,
    /// Rows loaded per table, in load order.
    pub tables: Vec<(&'static str, u64)>,
}

/// The outcome of [`Writer::ingest`]: everything up to `checkpoint` is committed or dead-lettered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// The committed checkpoint after the call; the WAL may be truncated through it.
    pub checkpoint: u64,
    /// Records skipped because the checkpoint already covered them (a replay).
    pub skipped: u64,
    /// Transactions committed.
    pub transactions: u64,
    /// Rows loaded, all tables together.
    pub rows: u64,
    /// Sequences moved to the dead-letter store.
    pub dead_lettered: Vec<u64>,
    /// Attempts that failed transiently and were retried.
    pub retries: u64,
}

/// How a write's transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finish {
    /// The normal end: the batch and its checkpoint become durable.
    Commit,
    /// A probe: PostgreSQL checked every row, nothing stays.
    RollBack,
}

/// Loads batches of one WAL into PostgreSQL.
pub struct Writer {
    pool: PgPool,
    caches: Arc<DimCaches>,
    promotion: Arc<Promotion>,
    telemetry: Arc<Telemetry>,
    wal_id: String,
    dead_letters: DeadLetterStore,
    retry: RetryPolicy,
    /// Whether this role may skip the reference-table foreign-key probes; found out once.
    skip_reference_checks: tokio::sync::OnceCell<bool>,
}

/// Whether the connected role may set `session_replication_role` (a superuser, or on PostgreSQL 15+ a role
/// granted `SET` on it), which lets the writer skip the per-row foreign-key probes into the reference tables.
pub async fn may_skip_reference_checks(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    let superuser: bool = sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or(false);
    if superuser {
        return Ok(true);
    }
    let version: i32 =
        sqlx::query_scalar("SELECT current_setting('server_version_num')::int").fetch_one(&mut *conn).await?;
    if version < 150_000 {
        return Ok(false);
    }
    sqlx::query_scalar("SELECT has_parameter_privilege('session_replication_role', 'SET')").fetch_one(&mut *conn).await
}

async fn copy_table(conn: &mut PgConnection, t: &TableData) -> Result<u64, sqlx::Error> {
    let mut copy = conn.copy_in_raw(&t.copy_statement()).await?;
    copy.send(t.data.as_slice()).await?;
    copy.finish().await
}

impl Writer {
    /// A writer for the WAL `wal_id`, sharing `caches` with the other writers of this process.
    pub fn new(
        pool: PgPool,
        caches: Arc<DimCaches>,
        promotion: Arc<Promotion>,
        telemetry: Arc<Telemetry>,
        wal_id: impl Into<String>,
        dead_letters: DeadLetterStore,
    ) -> Self {
        Writer {
            pool,
            caches,
            promotion,
            telemetry,
            wal_id: wal_id.into(),
            dead_letters,
            retry: RetryPolicy::default(),
            skip_reference_checks: tokio::sync::OnceCell::new(),
        }
    }

    /// Replaces the retry backoff.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The WAL id whose checkpoint this writer keeps.
    pub fn wal_id(&self) -> &str {
        &self.wal_id
    }

    /// Where rejected records go.
    pub fn dead_letter_store(&self) -> &DeadLetterStore {
        &self.dead_letters
    }

    /// The dimension caches.
    pub fn caches(&self) -> &DimCaches {
        &self.caches
    }

    /// The committed checkpoint of this writer's WAL.
    pub async fn checkpoint(&self) -> Result<Option<u64>, sqlx::Error> {
        read_checkpoint(&self.pool, &self.wal_id).await
    }

    /// Decodes `records` and writes them as one batch in its turn ([`Writer::write_in_turn`]), its rollups as
    /// `plan` says. Records that do not decode are left to [`Writer::ingest`], which dead-letters them: the
    /// batch is then not written.
    pub async fn write_records_in_turn(
        &self,
        records: &Arc<Vec<wal::Record>>,
        turn: Turn,
        plan: RollupPlan,
    ) -> Result<Written, WriteError> {
        let (promotion, r) = (self.promotion.clone(), records.clone());
        let prepared = on_rayon(move || normalize::prepare(&r, &promotion)).await?;
        if !prepared.failures().is_empty() {
            return Err(WriteError::NotInTurn("it has records that do not decode"));
        }
        self.transaction(Arc::new(prepared), turn, plan, Finish::Commit).await
    }

    /// Writes one prepared batch in one transaction and sets the checkpoint to its last sequence; its rollups
    /// are added with any this WAL's batches deferred. No retries: an error rolls everything back (and caches
    /// nothing).
    pub async fn write(&self, prepared: Arc<PreparedBatch>) -> Result<Written, WriteError> {
        self.write_in_turn(prepared, Turn::default(), RollupPlan::Add).await
    }

    /// [`Writer::write`] as one batch of a chain of pipelined writes, in the order [`Turn`] describes, its
    /// rollups as `plan` says.
    pub async fn write_in_turn(
        &self,
        prepared: Arc<PreparedBatch>,
        turn: Turn,
        plan: RollupPlan,
    ) -> Result<Written, WriteError> {
        self.transaction(prepared, turn, plan, Finish::Commit).await
    }

    /// Adds the rollups this WAL's batches deferred (a pipeline stopped before a batch added them) to the
    /// rollup tables, in a transaction of its own; returns the deferred rows taken. Only while no batch of
    /// this WAL is being written.
    pub async fn add_deferred_rollups(&self) -> Result<u64, WriteError> {
        let mut tx = self.pool.begin().await?;
        let mut rollups = SpanRollups::default();
        let taken = rollup_pending::take(&mut tx, &self.wal_id, &mut rollups).await?;
        if taken > 0 {
            rollups::write(&mut tx, &rollups, 1).await?;
        }
        tx.commit().await?;
        Ok(taken)
    }

    /// Writes `prepared` as [`Writer::write`] would and rolls it back: whether PostgreSQL takes it, with nothing
    /// committed, cached or counted.
    pub(super) async fn probe(&self, prepared: Arc<PreparedBatch>) -> Result<(), WriteError> {
        self.transaction(prepared, Turn::default(), RollupPlan::Add, Finish::RollBack).await.map(|_| ())
    }

    async fn transaction(
        &self,
        prepared: Arc<PreparedBatch>,
        mut turn: Turn,
        plan: RollupPlan,
        finish: Finish,
    ) -> Result<Written, WriteError> {
        turn.wait_registered().await;
        let started = Instant::now();
        let last_seq = seq_i64(prepared.last_seq())?;
        let mut tx = self.pool.begin().await?;
        // The foreign keys from fact columns to the reference tables (span kinds, status codes, severities, body
        // types, metric types) cost PostgreSQL a probe per row and per key (docs/benchmarks.md). Validation refuses
        // every value those tables do not hold before the WAL (`otlp::storable`) and normalize asserts it, so
        // where the role may, the batch runs as a replica session, which skips foreign-key triggers. The
        // constraints stay in the schema for every other writer; a role that may not set it keeps them.
        let skip = self.skip_reference_checks.get_or_try_init(|| may_skip_reference_checks(&mut tx)).await?;
        if *skip {
            sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await?;
        }

        let resolved = dims::resolve(&mut tx, &self.caches, &prepared, &self.telemetry).await?;
        let mut ids = resolved.ids;
        let blocks = FactIds::blocks_needed(prepared.counts().ids());
        if blocks > 0 {
            ids.facts.blocks =
                sqlx::query_scalar("SELECT nextval('otel_id_block_seq') FROM generate_series(1, $1::int8)")
                    .bind(seq_i64(blocks)?)
                    .fetch_all(&mut *tx)
                    .await?;
        }

        let own_blocks = ids.facts.blocks.clone();
        let new_resources = resolved.new_resources;
        let new_scopes = resolved.new_scopes;
        let promotion = self.promotion.clone();
        let p = prepared.clone();
        let (encoded, mut rollups) = on_rayon(move || -> Result<(Encoded, SpanRollups), WriteError> {
            let res: Vec<_> =
                new_resources.iter().filter_map(|&(id, i)| p.resources().get(i).map(|d| (id, d))).collect();
            let scs: Vec<_> = new_scopes.iter().filter_map(|&(id, i)| p.scopes().get(i).map(|d| (id, d))).collect();
            let mut tables = normalize::encode_dimension_attributes(&res, &scs, &ids, &promotion)?;
            let facts = normalize::encode(&p, &ids, &promotion)?;
            tables.extend(facts.tables);
            let rollups = if p.counts().spans > 0 { rollup::spans(&p) } else { SpanRollups::default() };
            Ok((Encoded { tables, series: facts.series, attr_sets: facts.attr_sets }, rollups))
        })
        .await??;
        let Encoded { tables, series, attr_sets } = encoded;
        let mut updates = resolved.updates;
        let seen = dims::seen_at(prepared.max_received_at_unix_nanos());
        dims::register_series(&mut tx, &self.caches, &series, seen, &mut updates).await?;
        dims::register_attr_sets(&mut tx, &self.caches, &attr_sets, seen, &mut updates).await?;
        turn.registered();

        let mut written = Written { checkpoint: prepared.last_seq(), tables: Vec::with_capacity(tables.len() + 3) };
        for t in &tables {
            let n = copy_table(&mut tx, t).await?;
            written.tables.push((t.table, n));
        }
        let overlapped = turn.wait_committed().await?;
        lock_checkpoint(&mut tx, &self.wal_id, prepared.first_seq()).await?;
        // After the predecessor committed, so that its spans pair with this batch's.
        rollups::pair_with_committed(&mut tx, &mut rollups, &own_blocks).await?;
        match plan {
            RollupPlan::Defer if rollups.has_rows() => {
                rollup_pending::defer(&mut tx, &self.wal_id, last_seq, &rollups).await?;
                written.tables.push((rollup_pending::TABLE, 1));
            }
            RollupPlan::Defer => {}
            RollupPlan::Add => {
                rollup_pending::take(&mut tx, &self.wal_id, &mut rollups).await?;
                if rollups.has_rows() {
                    written.tables.extend(rollups::write(&mut tx, &rollups, 1).await?);
                }
            }
        }
        upsert_checkpoint(&mut tx, &self.wal_id, last_seq).await?;
        if finish == Finish::RollBack {
            tx.rollback().await?;
            return Ok(written);
        }
        tx.commit().await?;
        turn.committed();
        PreparedBatch::release(prepared);

        self.caches.apply(updates);
        self.telemetry.batches_written.fetch_add(1, Ordering::Relaxed);
        if overlapped {
            self.telemetry.batches_overlapped.fetch_add(1, Ordering::Relaxed);
        }
        for (table, n) in &written.tables {
            self.telemetry.add_rows(table, *n);
        }
        self.telemetry.write_latency.observe(started.elapsed());
        Ok(written)
    }

    /// Decodes and prepares `records` on the rayon pool.
    async fn prepare(&self, records: Vec<wal::Record>) -> Result<PreparedBatch, WriteError> {
        Ok(self.prepare_keeping(records).await?.0)
    }

    /// [`Writer::prepare`], handing the records back (a batch's payloads are not copied to keep them).
    async fn prepare_keeping(
        &self,
        records: Vec<wal::Record>,
    ) -> Result<(PreparedBatch, Vec<wal::Record>), WriteError> {
        let promotion = self.promotion.clone();
        on_rayon(move || (normalize::prepare(&records, &promotion), records)).await
    }

    /// Advances the checkpoint alone (after the batch's last records were dead-lettered).
    pub async fn write_checkpoint(&self, seq: u64) -> Result<(), WriteError> {
        let mut conn = self.pool.acquire().await?;
        upsert_checkpoint(&mut conn, &self.wal_id, seq_i64(seq)?).await?;
        Ok(())
    }

    fn dead_letter(&self, record: &wal::Record, error: &str) -> Result<(), WriteError> {
        tracing::error!(
            wal_id = %self.wal_id,
            seq = record.seq,
            kind = record.kind,
            error,
            "WAL record rejected permanently; moved to the dead-letter store"
        );
        self.dead_letters.put(&DeadLetter {
            wal_id: self.wal_id.clone(),
            seq: record.seq,
            signal: Signal::from_wal_kind(record.kind),
            received_at_unix_nanos: record.received_at_unix_nanos,
            error: error.to_string(),
            payload: record.payload.clone(),
        })?;
        self.telemetry.dead_letters.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Dead-letters `record`, retrying with backoff while the store cannot take it (disk full, permissions):
    /// the WAL must not be truncated past a record that is in neither PostgreSQL nor the store.
    async fn dead_letter_durably(
        &self,
        record: &wal::Record,
        error: &str,
        shutdown: &CancellationToken,
        report: &mut IngestReport,
    ) -> Result<(), WriteError> {
        self.retry_transient(shutdown, report, || async { self.dead_letter(record, error) }).await?;
        report.dead_lettered.push(record.seq);
        Ok(())
    }

    /// Waits out one backoff step; `Err(Shutdown)` if shutdown is requested meanwhile.
    async fn backoff(&self, backoff: &mut Backoff, shutdown: &CancellationToken) -> Result<(), WriteError> {
        self.telemetry.write_retries.fetch_add(1, Ordering::Relaxed);
        if backoff.wait(shutdown).await { Ok(()) } else { Err(WriteError::Shutdown) }
    }

    /// Retries `f` while it fails transiently ([`WriteError::class`]) until it succeeds or shutdown is requested;
    /// a permanent error is returned.
    async fn retry_transient<T, F, Fut>(
        &self,
        shutdown: &CancellationToken,
        report: &mut IngestReport,
        f: F,
    ) -> Result<T, WriteError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, WriteError>>,
    {
        let notify = |e: &WriteError, delay: Duration| {
            tracing::warn!(wal_id = %self.wal_id, error = %e, retry_in = ?delay, "write failed; retrying");
            report.retries += 1;
            self.telemetry.write_retries.fetch_add(1, Ordering::Relaxed);
        };
        let transient = |e: &WriteError| e.class() == ErrorClass::Transient;
        self.retry.retry(shutdown, transient, notify, f).await.map_err(|e| match e {
            RetryError::Permanent(e) => e,
            RetryError::Shutdown => WriteError::Shutdown,
        })
    }

    /// Loads `records` (consecutive WAL records of this writer's WAL, ascending) exactly once: records the
    /// checkpoint covers are skipped, undecodable and permanently rejected records go to the dead-letter store,
    /// transient errors are retried until they pass. Returns when the checkpoint covers every record; only
    /// shutdown ([`WriteError::Shutdown`]) or a failing dead-letter store end it early, with the checkpoint
    /// wherever the last commit left it.
    pub async fn ingest(
        &self,
        mut records: Vec<wal::Record>,
        shutdown: &CancellationToken,
    ) -> Result<IngestReport, WriteError> {
        let mut report = IngestReport::default();
        let Some(batch_last) = records.iter().map(|r| r.seq).max() else {
            return Ok(report);
        };
        let committed = self
            .retry_transient(shutdown, &mut report, || async { Ok(read_checkpoint(&self.pool, &self.wal_id).await?) })
            .await?;
        let before = records.len();
        if let Some(cp) = committed {
            records.retain(|r| r.seq > cp);
        }
        report.skipped = (before - records.len()) as u64;
        report.checkpoint = committed.unwrap_or(0);
        if records.is_empty() {
            return Ok(report);
        }

        let (mut prepared, records) = self.prepare_keeping(records).await?;
        // Records already narrowed to their storable items, as they were in the WAL.
        let mut isolated: HashMap<u64, wal::Record> = HashMap::new();
        let mut by_seq: HashMap<u64, wal::Record> = records.into_iter().map(|r| (r.seq, r)).collect();
        // Records normalize refuses (undecodable, or refused by its assertions) are narrowed to their storable
        // items before anything is written; nothing is committed meanwhile, so WAL order is kept.
        if !prepared.failures().is_empty() {
            for (seq, error) in prepared.failures().to_vec() {
                let Some(record) = by_seq.remove(&seq) else { continue };
                let reason = format!("not storable: {error}");
                if let Some(rest) = self.isolate(&record, &reason, shutdown, &mut report).await? {
                    by_seq.insert(seq, rest);
                }
                isolated.insert(seq, record);
            }
            prepared = self.prepare(sorted(&by_seq, by_seq.keys().copied().collect())).await?;
        }

        // Parts still to write, in WAL order; a permanently failing part is replaced by its two halves, and a
        // refused record by its storable items ([`Writer::isolate`]), once.
        let mut parts: VecDeque<Arc<PreparedBatch>> = VecDeque::from([Arc::new(prepared)]);
        let mut backoff = self.retry.backoff();
        while let Some(part) = parts.pop_front() {
            match self.write(part.clone()).await {
                Ok(w) => {
                    report.transactions += 1;
                    report.rows += w.tables.iter().map(|(_, n)| n).sum::<u64>();
                    report.checkpoint = report.checkpoint.max(w.checkpoint);
                    backoff = self.retry.backoff();
                }
                Err(WriteError::AlreadyCommitted { checkpoint, .. }) => {
                    // Another writer of this WAL committed meanwhile: keep only what is still missing.
                    report.checkpoint = report.checkpoint.max(checkpoint);
                    let rest: Vec<u64> = part.seqs().into_iter().filter(|&s| s > checkpoint).collect();
                    if !rest.is_empty() {
                        parts.push_front(Arc::new(part.subset(&rest)));
                    }
                }
                Err(e) if e.class() == ErrorClass::Transient => {
                    tracing::warn!(wal_id = %self.wal_id, first_seq = part.first_seq(), last_seq = part.last_seq(),
                        error = %e, retry_in = ?backoff.delay(), "batch write failed; retrying");
                    report.retries += 1;
                    self.backoff(&mut backoff, shutdown).await?;
                    parts.push_front(part);
                }
                Err(e) => {
                    let seqs = part.seqs();
                    let culprit = e.record_seq().filter(|s| seqs.contains(s));
                    if let Some(bad) = culprit.or_else(|| (seqs.len() == 1).then(|| seqs[0])) {
                        // The refused record is replaced by its storable items in the same part, so they are
                        // written in its place in WAL order; a record refused again after that goes whole.
                        let Some(record) = by_seq.remove(&bad) else { continue };
                        let rest = match isolated.get(&bad) {
                            // The whole record as it was in the WAL: its letter replaces the refused items' one.
                            Some(original) => {
                                self.dead_letter_durably(original, &e.to_string(), shutdown, &mut report).await?;
                                None
                            }
                            None => {
                                let rest = self.isolate(&record, &e.to_string(), shutdown, &mut report).await?;
                                isolated.insert(bad, record);
                                rest
                            }
                        };
                        if let Some(rest) = rest {
                            by_seq.insert(bad, rest);
                        }
                        let seqs: Vec<u64> = seqs.into_iter().filter(|s| by_seq.contains_key(s)).collect();
                        if !seqs.is_empty() {
                            parts.push_front(Arc::new(self.prepare(sorted(&by_seq, seqs)).await?));
                        }
                    } else if seqs.is_empty() {
                        // Nothing decodable left, yet the checkpoint-only transaction failed permanently:
                        // the checkpoint itself is refused, which only a sequence beyond BIGINT can cause.
                        return Err(e);
                    } else {
                        tracing::warn!(wal_id = %self.wal_id, records = seqs.len(), error = %e,
                            "batch rejected permanently; splitting it to isolate the bad records");
                        let (left, right) = seqs.split_at(seqs.len() / 2);
                        parts.push_front(Arc::new(part.subset(right)));
                        parts.push_front(Arc::new(part.subset(left)));
                    }
                }
            }
        }

        if report.checkpoint < batch_last {
            let mut r2 = IngestReport::default();
            self.retry_transient(shutdown, &mut r2, || self.write_checkpoint(batch_last)).await?;
            report.retries += r2.retries;
            report.checkpoint = batch_last;
        }
        report.dead_lettered.sort_unstable();
        report.dead_lettered.dedup();
        Ok(report)
    }
}

/// The records of `seqs` (known to `by_seq`), in WAL order.
fn sorted(by_seq: &HashMap<u64, wal::Record>, mut seqs: Vec<u64>) -> Vec<wal::Record> {
    seqs.sort_unstable();
    seqs.iter().filter_map(|s| by_seq.get(s).cloned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_errors_are_permanent() {
        assert_eq!(WriteError::Unresolved("x".into()).class(), ErrorClass::Transient);
        let enc = WriteError::Encode(normalize::EncodeError::Record { seq: 9, problem: "p".into() });
        assert_eq!(enc.class(), ErrorClass::Permanent);
        assert_eq!(enc.record_seq(), Some(9));
        assert_eq!(WriteError::Db(sqlx::Error::PoolClosed).class(), ErrorClass::Transient);
    }
}
