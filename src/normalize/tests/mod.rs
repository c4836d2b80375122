//! Unit tests of prepare/encode (no database; the writer's integration tests load the streams into
//! PostgreSQL).
//!
//! Files: `fixtures.rs` builds the requests (every field of every signal) and resolves ids as the writer
//! would, `copy_rows.rs` reads COPY streams back into rows; the tests, per concept: `batch.rs` (a whole
//! batch: tables, failures, subsets, errors), `fact_ids.rs`, `spans.rs`, `logs.rs`, `metrics.rs`,
//! `attributes.rs`, `dimensions.rs` (dimension rows and identities), `columns.rs` (column lists against the
//! migrations).

mod copy_rows;
mod fixtures;

mod attributes;
mod batch;
mod columns;
mod dimensions;
mod fact_ids;
mod logs;
mod metrics;
mod spans;
