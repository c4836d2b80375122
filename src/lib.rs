//! ollyscale: an OTLP ingestion and query server.
//!
//! Data flows receive -> wal -> normalize -> write -> query; see docs/ARCHITECTURE.md.

pub mod api;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod compat;
pub mod config;
pub mod db;
pub mod hostile_input;
pub mod ids;
pub mod latency;
pub mod loadgen;
pub mod logging;
pub mod normalize;
pub mod otlp;
pub mod query;
pub mod receive;
pub mod retry;
pub mod schema;
pub mod telemetry;
pub mod time;
pub mod ui;
pub mod units;
pub mod write;
