//! Span rollups that batches defer while the writer is behind (write/rollup_pending.rs): a later batch of the
//! same WAL adds them, or the pipeline on start; either way the tables end as if every batch had added its own.

use super::rollups::{RollupRow, callee, caller, edges, frontend_to_checkout, stored_rollups};
use super::*;
use ollyscale::write::batch::Turn;
use ollyscale::write::rollup_pending::RollupPlan;

/// Writes `req` as one batch of `env`'s WAL, its rollups as `plan` says.
async fn write(env: &Env, req: &ExportTraceServiceRequest, plan: RollupPlan) {
    let records = Arc::new(vec![env.traces_record(req)]);
    env.writer.write_records_in_turn(&records, Turn::default(), plan).await.unwrap();
}

async fn pending(env: &Env) -> i64 {
    env.count("otel_span_rollups_pending").await
}

/// The three tables after batches of callers and callees written with `plans`, in order.
async fn rollups_after(plans: &[RollupPlan]) -> (Env, Vec<RollupRow>) {
    let env = env().await;
    for (i, plan) in plans.iter().enumerate() {
        let t = (i / 2 + 1) as u8;
        let req = if i % 2 == 0 { caller(t) } else { callee(t) };
        write(&env, &req, *plan).await;
    }
    let rows = stored_rollups(&env).await;
    (env, rows)
}

#[tokio::test]
async fn a_batch_that_adds_takes_what_the_batches_before_it_deferred() {
    use RollupPlan::{Add, Defer};
    let (deferring, _) = rollups_after(&[Defer, Defer, Defer]).await;
    // Deferred: in the batches' transactions, but not in the tables yet; the callee's pair with the caller
    // committed before it was found then, not later.
    assert_eq!(pending(&deferring).await, 3);
    assert_eq!(stored_rollups(&deferring).await, []);
    assert_eq!(edges(&deferring).await, []);

    let (deferring, deferred) = rollups_after(&[Defer, Defer, Defer, Add]).await;
    let (_, added) = rollups_after(&[Add, Add, Add, Add]).await;
    assert!(!added.is_empty());
    assert_eq!(deferred, added, "deferring changes no sum");
    assert_eq!(pending(&deferring).await, 0);
    assert_eq!(edges(&deferring).await, frontend_to_checkout(2, 2));
    let spans: i64 = deferring.scalar("SELECT sum(span_count)::bigint FROM otel_service_rollups").await;
    assert_eq!(spans, deferring.count("otel_spans_fact").await);
}

#[tokio::test]
async fn rollups_deferred_before_a_stop_are_added_when_the_pipeline_starts() {
    use RollupPlan::{Add, Defer};
    let (env, _) = rollups_after(&[Defer, Defer]).await;
    assert_eq!(env.writer.add_deferred_rollups().await.unwrap(), 2);
    let (_, added) = rollups_after(&[Add, Add]).await;
    assert_eq!(stored_rollups(&env).await, added);
    assert_eq!(env.writer.add_deferred_rollups().await.unwrap(), 0, "taken once");
    assert_eq!(stored_rollups(&env).await, added);
}

#[tokio::test]
async fn a_rolled_back_batch_leaves_the_deferred_rollups_for_the_next() {
    use RollupPlan::{Add, Defer};
    let (env, _) = rollups_after(&[Defer, Defer]).await;
    // A batch whose rollups PostgreSQL refuses (a constraint put there to make it fail after it took the
    // deferred rows) rolls back, and the rows it took with it.
    let refuse = "ALTER TABLE otel_operation_rollups ADD CONSTRAINT refuse_all CHECK (span_count < 0)";
    sqlx::query(refuse).execute(env.pool()).await.unwrap();
    let records = Arc::new(vec![env.traces_record(&caller(3))]);
    let err = env.writer.write_records_in_turn(&records, Turn::default(), Add).await.unwrap_err();
    assert!(err.to_string().contains("refuse_all"), "{err}");
    sqlx::query("ALTER TABLE otel_operation_rollups DROP CONSTRAINT refuse_all").execute(env.pool()).await.unwrap();
    assert_eq!(pending(&env).await, 2);
    write(&env, &caller(3), Add).await;
    assert_eq!(pending(&env).await, 0);
    let (_, added) = rollups_after(&[Add, Add, Add]).await;
    assert_eq!(stored_rollups(&env).await, added);
}
