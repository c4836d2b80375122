//! Pure time-bucket aggregation of metric points (no database): gauges, sums (rate / delta across cumulative
//! resets), explicit-bucket and exponential histograms (quantiles, count, sum), summaries.
//!
//! Files, one per kind of point: `gauges.rs` (reduced per bucket), `sums.rs` (increases and deltas across
//! resets), `histograms.rs` (explicit buckets), `exp_histograms.rs` (exponential buckets, merged across
//! scales), `summaries.rs`; this file holds the time buckets and the distribution statistics they share.

mod exp_histograms;
mod gauges;
mod histograms;
mod summaries;
mod sums;
#[cfg(test)]
mod tests;

pub use exp_histograms::{ExpPoint, exp_histograms};
pub use gauges::{ValueAgg, values};
pub use histograms::{HistPoint, bucket_quantile, histograms};
pub use summaries::{SummaryPoint, summaries};
pub use sums::{SumPoint, deltas, increases};

/// The quantiles reported for histograms and summaries.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// Time buckets `[from + i*step, from + (i+1)*step)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    /// Start of bucket 0 (unix nanoseconds).
    pub from: u64,
    /// End of the last bucket (exclusive).
    pub to: u64,
    /// Width of a bucket in nanoseconds (> 0).
    pub step: u64,
}

impl Buckets {
    /// The bucket of time `t`, None outside `[from, to)`.
    pub fn index(&self, t: u64) -> Option<u64> {
        (t >= self.from && t < self.to).then(|| (t - self.from) / self.step)
    }

    /// Start time of bucket `i`.
    pub fn start(&self, i: u64) -> u64 {
        self.from + i * self.step
    }
}

/// Distribution statistics of one bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist {
    /// Bucket start time.
    pub time: u64,
    /// Observations.
    pub count: u64,
    /// Sum of observations (None when not reported).
    pub sum: Option<f64>,
    /// Values at [`QUANTILES`] (None when there are no observations).
    pub quantiles: [Option<f64>; 4],
}
