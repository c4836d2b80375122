//! The subset of TraceQL that Grafana's Tempo search builder writes: one spanset `{ ... }` of comparisons
//! joined by `&&` and `||` (with parentheses), on `resource.` and `span.` attributes and the intrinsics
//! `name`, `status`, `kind`, `duration`, `rootName`, `rootServiceName` and `traceDuration`, with the
//! operators `= != =~ !~ > >= < <=`. Anything else (pipelines, structural operators, several spansets,
//! aggregates) is refused with the position it starts at.
//!
//! A query becomes a few [`Plan`]s, one per alternative of its `||`s, each a [`TraceQuery`] of the one
//! trace search (span conditions) plus conditions on the whole trace (root span, trace duration) checked
//! on each found trace's summary. Regular expressions match the whole value, as in Tempo. Alternatives of
//! plain values (`=~ "a|b"`, what the builder writes for a multi-select) are read as `= "a" || = "b"`, which
//! the indexes serve; any other pattern is checked and evaluated as [`crate::query::pattern`] says (on
//! string values; status and kind take only alternatives of their values).
//!
//! Files: `syntax.rs` is the parsed query (comparisons joined by `&&` and `||`) and its [`ParseError`],
//! `parse.rs` the lexer and the recursive-descent parser, `plan.rs` the translation into [`Plan`]s and the
//! trace-level check [`trace_matches`].
//!
//! [`TraceQuery`]: crate::query::traces::TraceQuery

mod parse;
mod plan;
mod syntax;
#[cfg(test)]
mod tests;

pub use parse::parse;
pub use plan::{Plan, TraceCondition, plans, trace_matches};
pub use syntax::{CmpOp, Comparison, Expr, Field, Literal, ParseError};
