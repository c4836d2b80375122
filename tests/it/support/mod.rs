//! Shared test support: a real PostgreSQL per test, helpers to run the real binary.

pub mod pg;
