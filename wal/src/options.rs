//! How a WAL is opened: when appends are acknowledged, the disk budget, segment and group sizes.

use crate::WalError;

/// When an append is acknowledged, relative to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// The append's future resolves only after an `fdatasync` of the fjall journal that covers the record: an
    /// acknowledged record survives a process crash, a kernel panic and a power cut (as far as the disk honours
    /// fsync). Concurrent appends share one fsync (group commit).
    #[default]
    Sync,
    /// The append's future resolves once the record is written to the operating system's page cache, without
    /// fsync: an acknowledged record survives a crash or kill of this process, but the last seconds of
    /// acknowledged records can be lost on a power cut or kernel crash (the kernel writes dirty pages back on its
    /// own schedule, typically within 30 s). After such a loss, sequence numbers are reused, so a downstream
    /// checkpoint may already cover numbers the WAL hands out again.
    Buffered,
}

/// How to open a WAL.
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// When appends are acknowledged; see [`SyncPolicy`].
    pub sync_policy: SyncPolicy,
    /// Live record bytes beyond which appends are refused with [`WalError::OverBudget`] (default 10 GiB).
    pub disk_budget_bytes: u64,
    /// Record bytes per segment (fjall keyspace); disk space is reclaimed a whole segment at a time (default 64 MiB).
    pub segment_bytes: u64,
    /// Most appends gathered into one group commit (default 4096).
    pub max_group_records: usize,
    /// Most record bytes gathered into one group commit (default 32 MiB).
    pub max_group_bytes: u64,
    /// fjall block cache size in bytes (default 32 MiB).
    pub cache_bytes: u64,
    /// Journal size at which fjall forces flushes so old journal files can be deleted (default and minimum 64 MiB).
    pub max_journal_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            sync_policy: SyncPolicy::Sync,
            disk_budget_bytes: 10 << 30,
            segment_bytes: 64 << 20,
            max_group_records: 4096,
            max_group_bytes: 32 << 20,
            cache_bytes: 32 << 20,
            max_journal_bytes: 64 << 20,
        }
    }
}

impl WalOptions {
    /// Refuses options the WAL cannot work with, before anything is opened.
    pub(crate) fn validate(&self) -> Result<(), WalError> {
        let bad = |m: &str| Err(WalError::InvalidOptions(m.to_string()));
        if self.segment_bytes == 0 {
            return bad("segment_bytes must be at least 1");
        }
        if self.max_group_records == 0 || self.max_group_bytes == 0 {
            return bad("max_group_records and max_group_bytes must be at least 1");
        }
        if self.max_journal_bytes < 64 << 20 {
            return bad("max_journal_bytes must be at least 64 MiB (fjall's minimum)");
        }
        Ok(())
    }
}
