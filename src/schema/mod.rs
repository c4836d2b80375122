//! The schema's vocabulary, defined once: which tables exist, what partitions them, which attribute levels
//! own which tables, and the names of the stored enumerations. `normalize` (COPY streams), `write`, `query`
//! (SQL and answers), `otlp` (enum names in OTLP/JSON) and `db::partitions` (daily partitions) read it here
//! instead of spelling it out; the SQL itself lives in `migrations/` and is described in docs/schema.md.
//!
//! Map:
//! - [`tables`]: the fact tables and the span rollups, each with its partition column and signal.
//! - [`attributes`]: the attribute levels (owner, table prefix, partition column, signal, promotion level),
//!   the typed value tables every level has, and the promotion config's levels.
//! - [`enums`]: span kind, status code, severity number and aggregation temporality, named from
//!   `opentelemetry-proto`'s generated enums (the facts store their protobuf values), and the severity classes.
//! - [`signal`]: the three OTLP signals, and the tag each one has in the WAL.
//! - [`metrics`]: the metric types (ollyscale's own ids) and the data point table and attribute level of each.
//!
//! Pure data and lookups: no I/O, no dependency on the rest of the crate (the WAL's tag type aside).

pub mod attributes;
pub mod enums;
pub mod metrics;
pub mod signal;
pub mod tables;

pub use attributes::{ATTR_LEVELS, AttrLevel, PromotionLevel, ValueType};
pub use enums::OtlpEnum;
pub use metrics::{DataPoints, MetricType};
pub use tables::PartitionedTable;

pub use signal::Signal;
