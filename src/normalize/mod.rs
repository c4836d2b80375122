//! Normalization: WAL records -> decoded requests with identities -> PostgreSQL binary COPY streams.

pub mod anyvalue;
pub mod copy;
pub mod identity;
pub mod promotion;
