//! The integration tests: one binary, so that the whole run links once and shares one PostgreSQL.

mod api;
mod cli;
mod crash;
mod e2e;
mod fuzz_corpus;
mod receive;
mod schema;
mod storage;
mod support;
