//! One module per subcommand.

pub mod drain;
pub mod health;
pub mod maintain;
pub mod migrate;
pub mod serve;
pub mod wal;
