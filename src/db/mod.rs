//! PostgreSQL: connection, embedded migrations, the locally managed cluster, partition maintenance and
//! planner statistics.

pub mod connect;
pub mod local_cluster;
pub mod migrate;
pub mod partitions;
pub mod statistics;
