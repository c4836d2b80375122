//! The server's own metrics, rendered in the Prometheus text format at `/metrics`.
//!
//! Plain atomics rather than a metrics framework: the set is small and fixed, and updates on the ingest
//! hot path cost one relaxed add.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::otlp::Signal;

/// Per-signal counter: traces, logs, metrics.
#[derive(Default)]
pub struct PerSignal([AtomicU64; 3]);

impl PerSignal {
    /// Adds `n` to the signal's count.
    pub fn add(&self, signal: Signal, n: u64) {
        self.0[index(signal)].fetch_add(n, Ordering::Relaxed);
    }

    /// The signal's count.
    pub fn get(&self, signal: Signal) -> u64 {
        self.0[index(signal)].load(Ordering::Relaxed)
    }
}

fn index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Logs => 1,
        Signal::Metrics => 2,
    }
}

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0];

/// A cumulative latency histogram.
#[derive(Default)]
pub struct Latency {
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Latency {
    /// Records one observation.
    pub fn observe(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", bucket.load(Ordering::Relaxed));
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// WAL figures sampled at scrape time.
#[derive(Clone, Copy, Debug, Default)]
pub struct WalGauges {
    /// Records not yet released.
    pub records: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// Age of the oldest unreleased record, seconds.
    pub oldest_age_secs: f64,
}

/// Every counter the server keeps.
#[derive(Default)]
pub struct Telemetry {
    /// Items (spans, log records, data points) in decoded export requests.
    pub received: PerSignal,
    /// Items durably appended to the WAL and acknowledged.
    pub accepted: PerSignal,
    /// Items refused: invalid ones (partial success) and whole requests refused.
    pub rejected: PerSignal,
    /// Export requests refused with retryable push-back (WAL over budget or failing).
    pub pushed_back: PerSignal,
    /// Time from request decoded to WAL append durable.
    pub ack_latency: Latency,
    /// Batches committed to PostgreSQL.
    pub batches_written: AtomicU64,
    /// Batches whose rows were loaded while the batch before them was still uncommitted.
    pub batches_overlapped: AtomicU64,
    /// Rows written per table.
    pub rows_written: Mutex<BTreeMap<&'static str, u64>>,
    /// Duration of a batch's transaction.
    pub write_latency: Latency,
    /// Write attempts that failed and were retried.
    pub write_retries: AtomicU64,
    /// Records moved to the dead-letter store.
    pub dead_letters: AtomicU64,
    /// Dimension cache hits and misses (resources, scopes, keys, metrics).
    pub cache_hits: AtomicU64,
    /// See `cache_hits`.
    pub cache_misses: AtomicU64,
}

impl Telemetry {
    /// Adds rows written to `table`.
    pub fn add_rows(&self, table: &'static str, n: u64) {
        if let Ok(mut rows) = self.rows_written.lock() {
            *rows.entry(table).or_default() += n;
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, wal: Option<WalGauges>) -> String {
        let mut out = String::with_capacity(4096);
        let per_signal = |out: &mut String, name: &str, help: &str, c: &PerSignal| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for s in Signal::ALL {
                let _ = writeln!(out, "{name}{{signal=\"{}\"}} {}", s.as_str(), c.get(s));
            }
        };
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        let _ = writeln!(
            out,
            "# HELP ollyscale_build_info Build of this process.\n# TYPE ollyscale_build_info gauge\nollyscale_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        per_signal(&mut out, "ollyscale_items_received_total", "Items in decoded export requests.", &self.received);
        per_signal(
            &mut out,
            "ollyscale_items_accepted_total",
            "Items durably in the WAL and acknowledged.",
            &self.accepted,
        );
        per_signal(&mut out, "ollyscale_items_rejected_total", "Items refused as invalid.", &self.rejected);
        per_signal(
            &mut out,
            "ollyscale_requests_pushed_back_total",
            "Export requests refused with a retryable error.",
            &self.pushed_back,
        );
        self.ack_latency.render(&mut out, "ollyscale_ack_latency_seconds", "Decoded request to durable WAL append.");
        if let Some(wal) = wal {
            let _ = writeln!(
                out,
                "# HELP ollyscale_wal_records Records in the WAL not yet released.\n# TYPE ollyscale_wal_records gauge\nollyscale_wal_records {}",
                wal.records
            );
            let _ = writeln!(
                out,
                "# HELP ollyscale_wal_bytes Disk bytes used by the WAL.\n# TYPE ollyscale_wal_bytes gauge\nollyscale_wal_bytes {}",
                wal.bytes
            );
            let _ = writeln!(
                out,
                "# HELP ollyscale_wal_oldest_age_seconds Age of the oldest unreleased WAL record.\n# TYPE ollyscale_wal_oldest_age_seconds gauge\nollyscale_wal_oldest_age_seconds {}",
                wal.oldest_age_secs
            );
        }
        counter(
            &mut out,
            "ollyscale_batches_written_total",
            "Batches committed to PostgreSQL.",
            self.batches_written.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "ollyscale_batches_overlapped_total",
            "Batches whose rows were loaded while the batch before them was still uncommitted.",
            self.batches_overlapped.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP ollyscale_rows_written_total Rows written per table.\n# TYPE ollyscale_rows_written_total counter"
        );
        if let Ok(rows) = self.rows_written.lock() {
            for (table, n) in rows.iter() {
                let _ = writeln!(out, "ollyscale_rows_written_total{{table=\"{table}\"}} {n}");
            }
        }
        self.write_latency.render(&mut out, "ollyscale_write_latency_seconds", "Duration of a batch's transaction.");
        counter(
            &mut out,
            "ollyscale_write_retries_total",
            "Failed write attempts that were retried.",
            self.write_retries.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "ollyscale_dead_letters_total",
            "Records moved to the dead-letter store.",
            self.dead_letters.load(Ordering::Relaxed),
        );
        let hits = self.cache_hits.load(Ordering::Relaxed);
        let misses = self.cache_misses.load(Ordering::Relaxed);
        counter(&mut out, "ollyscale_cache_hits_total", "Dimension cache hits.", hits);
        counter(&mut out, "ollyscale_cache_misses_total", "Dimension cache misses.", misses);
        let ratio = if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 };
        let _ = writeln!(
            out,
            "# HELP ollyscale_cache_hit_ratio Dimension cache hit ratio.\n# TYPE ollyscale_cache_hit_ratio gauge\nollyscale_cache_hit_ratio {ratio}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_per_signal_and_histograms() {
        let t = Telemetry::default();
        t.received.add(Signal::Traces, 5);
        t.accepted.add(Signal::Logs, 2);
        t.ack_latency.observe(std::time::Duration::from_millis(3));
        t.add_rows("otel_spans_fact", 7);
        let text = t.render(Some(WalGauges { records: 4, bytes: 1024, oldest_age_secs: 1.5 }));
        assert!(text.contains("ollyscale_items_received_total{signal=\"traces\"} 5"), "{text}");
        assert!(text.contains("ollyscale_items_accepted_total{signal=\"logs\"} 2"));
        assert!(text.contains("ollyscale_ack_latency_seconds_bucket{le=\"0.002\"} 0"));
        assert!(text.contains("ollyscale_ack_latency_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("ollyscale_rows_written_total{table=\"otel_spans_fact\"} 7"));
        assert!(text.contains("ollyscale_wal_records 4"));
    }
}
