//! The three OTLP signals: the domain's vocabulary, the retention settings' unit, and the tag each WAL record
//! carries (the WAL stores the tag byte and gives it no meaning).

/// Which OTLP export service a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    /// `ExportTraceServiceRequest`.
    Traces,
    /// `ExportLogsServiceRequest`.
    Logs,
    /// `ExportMetricsServiceRequest`.
    Metrics,
}

impl Signal {
    /// Every signal, in the order traces, logs, metrics.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Logs, Signal::Metrics];

    /// The WAL record tag of this signal. Stored in every record: never renumber.
    pub const fn wal_kind(self) -> wal::Kind {
        match self {
            Signal::Traces => 0,
            Signal::Logs => 1,
            Signal::Metrics => 2,
        }
    }

    /// The signal a WAL record tag stands for; `None` for a tag no version of ollyscale writes.
    pub fn from_wal_kind(kind: wal::Kind) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.wal_kind() == kind)
    }

    /// Plural noun of the items a request of this signal carries: "spans", "log records", "data points".
    pub fn items(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Logs => "log records",
            Signal::Metrics => "data points",
        }
    }

    /// Lower-case name as used in OTLP/HTTP paths (`traces`, `logs`, `metrics`).
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_name_themselves_and_their_items() {
        let names: Vec<(String, &str)> = Signal::ALL.iter().map(|s| (s.to_string(), s.items())).collect();
        assert_eq!(
            names,
            vec![
                ("traces".to_string(), "spans"),
                ("logs".to_string(), "log records"),
                ("metrics".to_string(), "data points")
            ]
        );
        assert!(Signal::ALL.iter().all(|s| s.as_str() == s.to_string()));
    }

    #[test]
    fn wal_kinds_are_the_tags_existing_logs_hold() {
        // Records written before the tag was a plain byte stored these indexes; they must read back as before.
        let kinds: Vec<u8> = Signal::ALL.iter().map(|s| s.wal_kind()).collect();
        assert_eq!(kinds, vec![0, 1, 2]);
        assert!(Signal::ALL.iter().all(|s| Signal::from_wal_kind(s.wal_kind()) == Some(*s)));
        assert_eq!(Signal::from_wal_kind(3), None);
    }
}
