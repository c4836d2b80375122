//! Shared test support: a real PostgreSQL per test, the real server binary, OTLP helpers.

pub mod otlp;
pub mod pg;
pub mod ports;
pub mod server;
