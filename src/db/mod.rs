//! PostgreSQL: connection, embedded migrations, the locally managed cluster and partition maintenance.

pub mod connect;
pub mod local_cluster;
pub mod migrate;
pub mod partitions;
