//! The dead-letter store: WAL records that PostgreSQL rejected permanently or that failed to decode.
//!
//! One JSON file per record under `<data_dir>/dead-letters/`, named by WAL id and sequence so that writing the
//! same record again (a replay after a crash) overwrites instead of duplicating. Each file is written to a
//! temporary name, fsynced, renamed and the directory fsynced, all before the WAL may be truncated past the
//! record: a dead letter is never lost between the WAL and this store.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::schema::Signal;

/// Errors of the dead-letter store.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// A file-system operation on the store failed.
    #[error("dead-letter store {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file in the store is not a dead letter this version can read.
    #[error("dead letter {path} is unreadable: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// One rejected WAL record with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The WAL the record came from.
    pub wal_id: String,
    /// The record's WAL sequence.
    pub seq: u64,
    /// The record's signal (`None` when the WAL record itself was unreadable or of a kind no version writes).
    pub signal: Option<Signal>,
    /// When the receiver got the request, unix nanoseconds.
    pub received_at_unix_nanos: u64,
    /// Why it was rejected (the decode, encode or PostgreSQL error).
    pub error: String,
    /// The protobuf export request as received (empty when the WAL record itself was unreadable).
    pub payload: Vec<u8>,
}

/// The on-disk form: the payload as base64 so that the files stay inspectable with any text tool.
#[derive(Serialize, Deserialize)]
struct Stored {
    wal_id: String,
    seq: u64,
    signal: String,
    received_at_unix_nanos: u64,
    error: String,
    payload_base64: String,
}

/// A dead-letter directory.
#[derive(Debug, Clone)]
pub struct DeadLetterStore {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DeadLetterError + '_ {
    move |source| DeadLetterError::Io { path: path.to_path_buf(), source }
}

fn parse_signal(s: &str) -> Option<Option<Signal>> {
    match s {
        "traces" => Some(Some(Signal::Traces)),
        "logs" => Some(Some(Signal::Logs)),
        "metrics" => Some(Some(Signal::Metrics)),
        "unknown" => Some(None),
        _ => None,
    }
}

impl DeadLetterStore {
    /// A store in `dir` (usually `<data_dir>/dead-letters`); the directory is created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DeadLetterStore { dir: dir.into() }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one dead letter durably (file and directory entry fsynced) and returns its path.
    pub fn put(&self, letter: &DeadLetter) -> Result<PathBuf, DeadLetterError> {
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let stored = Stored {
            wal_id: letter.wal_id.clone(),
            seq: letter.seq,
            signal: letter.signal.map_or("unknown", |s| s.as_str()).to_string(),
            received_at_unix_nanos: letter.received_at_unix_nanos,
            error: letter.error.clone(),
            payload_base64: B64.encode(&letter.payload),
        };
        let text = serde_json::to_vec_pretty(&stored)
            .map_err(|e| DeadLetterError::Invalid { path: self.dir.clone(), reason: e.to_string() })?;
        // The WAL id is 32 hex digits, so the name is safe; the zero-padded sequence keeps names in order.
        let name = format!("{}-{:020}.json", letter.wal_id, letter.seq);
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        {
            let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&text).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io(&path))?;
        fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io(&self.dir))?;
        Ok(path)
    }

    /// Every dead letter in the store, ordered by WAL id and sequence; an empty list if the directory is absent.
    pub fn list(&self) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry.map_err(io(&self.dir))?.path();
            let is_letter =
                path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".json") && !n.starts_with('.'));
            if is_letter {
                paths.push(path);
            }
        }
        paths.sort();
        paths.iter().map(|p| Self::read(p)).collect()
    }

    fn read(path: &Path) -> Result<DeadLetter, DeadLetterError> {
        let invalid = |reason: String| DeadLetterError::Invalid { path: path.to_path_buf(), reason };
        let bytes = fs::read(path).map_err(io(path))?;
        let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        let signal =
            parse_signal(&stored.signal).ok_or_else(|| invalid(format!("unknown signal {:?}", stored.signal)))?;
        let payload =
            B64.decode(stored.payload_base64.as_bytes()).map_err(|e| invalid(format!("payload is not base64: {e}")))?;
        Ok(DeadLetter {
            wal_id: stored.wal_id,
            seq: stored.seq,
            signal,
            received_at_unix_nanos: stored.received_at_unix_nanos,
            error: stored.error,
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(seq: u64) -> DeadLetter {
        DeadLetter {
            wal_id: "0123456789abcdef0123456789abcdef".into(),
            seq,
            signal: Some(Signal::Logs),
            received_at_unix_nanos: 1_700_000_000_123_456_789,
            error: "value too long: ü".into(),
            payload: vec![0, 1, 2, 255],
        }
    }

    #[test]
    fn put_then_list_returns_every_field_in_sequence_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = DeadLetterStore::new(dir.path().join("dead-letters"));
        assert!(store.list().unwrap().is_empty());
        store.put(&letter(12)).unwrap();
        store.put(&letter(3)).unwrap();
        let listed = store.list().unwrap();
        assert_eq!(listed, vec![letter(3), letter(12)]);
    }

    #[test]
    fn writing_the_same_record_again_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let store = DeadLetterStore::new(dir.path());
        store.put(&letter(7)).unwrap();
        let mut again = letter(7);
        again.error = "second attempt".into();
        store.put(&again).unwrap();
        assert_eq!(store.list().unwrap(), vec![again]);
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = DeadLetterStore::new(dir.path());
        fs::write(dir.path().join("x-1.json"), b"{not json").unwrap();
        let err = store.list().unwrap_err();
        assert!(matches!(err, DeadLetterError::Invalid { .. }), "{err}");
    }
}
