//! One module per subcommand.

pub mod maintain;
pub mod migrate;
pub mod serve;
pub mod wal;
