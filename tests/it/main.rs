//! The integration tests: one binary, so that the whole run links once and shares one PostgreSQL.

mod api;
mod bad_neighbours;
mod cli;
mod compat;
mod crash;
mod db_tls;
mod deploy;
mod e2e;
mod fuzz_corpus;
mod receive;
mod schema;
mod storage;
mod support;
mod ui;
