//! Normalization, pure CPU and no database: WAL records -> [`prepare`] (decode, identities, the dimension rows
//! and attribute keys the writer must resolve, fact counts for id allocation) -> the writer resolves ids ->
//! [`encode`] (PostgreSQL binary COPY streams for every fact and fact-attribute table, straight from the
//! decoded protobuf, no intermediate row structs). Invariants: docs/ARCHITECTURE.md; identities are
//! documented in docs/schema.md, "Resource and scope identity".
//!
//! Files, in pipeline order:
//! - [`prepare`] (`prepare.rs`): decode the batch's records and merge what each walk found into [`PreparedBatch`];
//!   `walk.rs` is what one walk gathers, `traces.rs`, `logs.rs` and `metrics.rs` walk each signal's request,
//!   [`identity`] hashes resources, scopes, metrics and series, `checks.rs` asserts values are storable.
//! - `dimensions.rs`: the dimension rows the writer upserts; `ids.rs`: fact counts, fact id blocks and the ids the
//!   writer resolved.
//! - [`encode`] (`encode.rs`): COPY streams per table; the same per-signal files write the fact rows, `attrs.rs`
//!   the attribute rows (deciding typed table or `_other` with [`promotion`]), [`anyvalue`] the typed JSON,
//!   [`copy`] the binary COPY format, `tables.rs` the table registry and the streams.
//! - [`rollup`]: per-minute span rollups of a prepared batch.

pub mod anyvalue;
pub(crate) mod attrs;
mod checks;
pub mod copy;
mod dimensions;
mod encode;
pub mod identity;
mod ids;
mod logs;
mod metrics;
mod prepare;
pub mod promotion;
pub mod rollup;
pub(crate) mod tables;
mod traces;
mod walk;

pub use dimensions::{AttrSetDim, MetricDim, ResourceDim, ScopeDim, SeriesDim};
pub use encode::{EncodeError, Encoded, encode, encode_dimension_attributes};
pub use identity::Hash;
pub use ids::{FactCounts, FactIds, Ids};
pub use prepare::{PreparedBatch, prepare};
pub use promotion::{Decision, Promotion, PromotionError};
pub use tables::TableData;

#[cfg(test)]
mod rollup_tests;
#[cfg(test)]
mod tests;
