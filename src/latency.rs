//! Latency histograms of the span rollups (`otel_service_rollups`, `otel_operation_rollups`,
//! `otel_service_edges`): the one bucketing and the one quantile estimate, shared by the writer that fills
//! them and the API that reads them.
//!
//! Buckets are log-scale with 8 per power of two: bucket `b` holds durations `d` (ns) with
//! `floor(8 * log2(d)) = b`, each bucket 9% wider than the one below; durations of 1 ns or less (and negative
//! ones, from senders that reversed start and end) are bucket 0. A quantile is read by nearest rank and
//! answered with its bucket's geometric midpoint, clamped to the observed minimum and maximum (the first and
//! last ranks are answered exactly by them), so it is within 4.5% of the exact nearest-rank value. Rollups merge by adding counts, which is what lets a writer add a
//! batch to a minute that already has rows, and the API add minutes into a window.
//!
//! Stored sparse in a `BIGINT[]`: one element per non-empty bucket, `bucket << 40 | count`, ascending by
//! bucket; the SQL function `ollyscale_latency_merge` (migrations/0009, 0015) adds two of them.
//!
//! In memory the counts are a vector sorted by bucket, not a map: the API merges thousands of stored rows
//! per request, and a merge of two sorted runs, without a node allocation per bucket, is several times
//! cheaper.

/// Buckets per power of two.
const PER_OCTAVE: f64 = 8.0;
/// Bits of an element that hold the count; the bucket index sits above them.
const COUNT_BITS: u32 = 40;
const COUNT_MASK: i64 = (1 << COUNT_BITS) - 1;
/// The highest bucket: `floor(8 * log2(i64::MAX))`, where `i64::MAX as f64` rounds up to 2^63.
const MAX_BUCKET: i64 = 504;

/// The bucket of a duration in nanoseconds.
pub fn bucket(duration_ns: i64) -> u16 {
    if duration_ns <= 1 {
        return 0;
    }
    // log2 of an i64 (as f64) is at most 63, so the product is at most 504 and fits.
    (PER_OCTAVE * (duration_ns as f64).log2()).floor() as u16
}

/// A duration histogram with the observed extremes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// (bucket, count), ascending by bucket, counts non-zero.
    counts: Vec<(u16, u64)>,
    total: u64,
    min: i64,
    max: i64,
}

impl Histogram {
    /// Counts one duration.
    pub fn record(&mut self, duration_ns: i64) {
        let b = bucket(duration_ns);
        match self.counts.binary_search_by_key(&b, |e| e.0) {
            Ok(i) => self.counts[i].1 += 1,
            Err(i) => self.counts.insert(i, (b, 1)),
        }
        self.note_extremes(duration_ns, duration_ns);
        self.total += 1;
    }

    fn note_extremes(&mut self, min: i64, max: i64) {
        if self.total == 0 {
            (self.min, self.max) = (min, max);
        } else {
            self.min = self.min.min(min);
            self.max = self.max.max(max);
        }
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        if other.total == 0 {
            return;
        }
        self.add_sorted(other.counts.iter().copied());
        self.note_extremes(other.min, other.max);
        self.total += other.total;
    }

    /// Merges (bucket, count) pairs ascending by bucket into the counts, in one pass over both runs.
    fn add_sorted(&mut self, other: impl ExactSizeIterator<Item = (u16, u64)>) {
        if self.counts.is_empty() {
            self.counts.extend(other);
            return;
        }
        let mut merged = Vec::with_capacity(self.counts.len() + other.len());
        let mut mine = self.counts.iter().copied().peekable();
        for (b, c) in other {
            while let Some(&(mb, mc)) = mine.peek() {
                if mb >= b {
                    break;
                }
                merged.push((mb, mc));
                mine.next();
            }
            match mine.peek() {
                Some(&(mb, mc)) if mb == b => {
                    merged.push((b, mc + c));
                    mine.next();
                }
                _ => merged.push((b, c)),
            }
        }
        merged.extend(mine);
        self.counts = merged;
    }

    /// Adds a stored histogram (the form [`Histogram::encode`] writes, with its extremes) without decoding it
    /// into a histogram of its own first: the API's per-row merge.
    pub fn merge_stored(&mut self, elements: &[i64], min: i64, max: i64) -> Result<(), String> {
        let pairs = pairs(elements)?;
        let total: u64 = pairs.iter().map(|p| p.1).sum();
        if total == 0 {
            return Ok(());
        }
        self.add_sorted(pairs.into_iter());
        self.note_extremes(min, max);
        self.total += total;
        Ok(())
    }

    /// Durations counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The smallest duration counted (0 when empty).
    pub fn min(&self) -> i64 {
        self.min
    }

    /// The largest duration counted (0 when empty).
    pub fn max(&self) -> i64 {
        self.max
    }

    /// Adds the latency columns of a span rollup row (`latency`, `latency_min_ns`, `latency_max_ns`): what the
    /// API and compaction do with every row they read.
    pub fn merge_row(&mut self, row: &sqlx::postgres::PgRow) -> Result<(), sqlx::Error> {
        use sqlx::Row;
        let elements: Vec<i64> = row.try_get("latency")?;
        let min: Option<i64> = row.try_get("latency_min_ns")?;
        let max: Option<i64> = row.try_get("latency_max_ns")?;
        self.merge_stored(&elements, min.unwrap_or(0), max.unwrap_or(0)).map_err(|e| sqlx::Error::Decode(e.into()))
    }

    /// The stored form of the bucket counts: `bucket << 40 | count` per non-empty bucket, ascending.
    pub fn encode(&self) -> Vec<i64> {
        // A count past the element's 40 bits saturates rather than wrapping into the bucket.
        self.counts.iter().map(|(b, c)| (i64::from(*b) << COUNT_BITS) | (*c).min(COUNT_MASK as u64) as i64).collect()
    }

    /// A histogram from its stored bucket counts and extremes; an element with a bucket beyond the range or a
    /// zero count, or elements out of order, are refused, since only [`Histogram::encode`] and the SQL merge
    /// write them.
    pub fn decode(elements: &[i64], min: i64, max: i64) -> Result<Histogram, String> {
        let mut h = Histogram::default();
        h.merge_stored(elements, min, max)?;
        Ok(h)
    }

    /// The nearest-rank `q` quantile (0 < q <= 1), estimated; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<i64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        // The extremes are known exactly.
        if rank == self.total {
            return Some(self.max);
        }
        if rank == 1 {
            return Some(self.min);
        }
        let mut seen = 0;
        for (b, c) in &self.counts {
            seen += c;
            if seen >= rank {
                let mid = if *b == 0 { 1.0 } else { 2f64.powf((f64::from(*b) + 0.5) / PER_OCTAVE) };
                return Some((mid.round() as i64).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }
}

/// The (bucket, count) pairs of stored elements, checked: buckets in range and strictly ascending, counts
/// non-zero.
fn pairs(elements: &[i64]) -> Result<Vec<(u16, u64)>, String> {
    let mut out: Vec<(u16, u64)> = Vec::with_capacity(elements.len());
    for &e in elements {
        let (b, c) = (e >> COUNT_BITS, e & COUNT_MASK);
        if !(0..=MAX_BUCKET).contains(&b) || c == 0 {
            return Err(format!("latency histogram element {e:#x} is not bucket << 40 | count"));
        }
        let b = b as u16;
        if out.last().is_some_and(|last| last.0 >= b) {
            return Err(format!("latency histogram elements are not ascending by bucket at {e:#x}"));
        }
        out.push((b, c as u64));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact nearest-rank quantile of a sorted sample.
    fn exact(sorted: &[i64], q: f64) -> i64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    #[test]
    fn buckets_are_log_scale_eight_per_octave() {
        assert_eq!(bucket(i64::MIN), 0);
        assert_eq!(bucket(-5), 0);
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(1), 0);
        assert_eq!(bucket(2), 8);
        assert_eq!(bucket(1024), 80);
        assert_eq!(bucket(1023), 79);
        assert_eq!(i64::from(bucket(i64::MAX)), MAX_BUCKET);
        // Monotonic.
        let mut last = 0;
        for d in (1..2_000_000).step_by(997) {
            assert!(bucket(d) >= last);
            last = bucket(d);
        }
    }

    #[test]
    fn quantiles_are_within_the_bucket_error_of_the_exact_nearest_rank() {
        // A skewed sample: many fast requests and a slow tail, 1 µs to 20 s.
        let mut sample: Vec<i64> = (0..5_000).map(|i| 1_000 + (i * i * 797) % 20_000_000_000).collect();
        let mut h = Histogram::default();
        for d in &sample {
            h.record(*d);
        }
        sample.sort_unstable();
        for q in [0.01, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let (got, want) = (h.quantile(q).unwrap(), exact(&sample, q));
            let err = (got - want).abs() as f64 / want as f64;
            assert!(err <= 0.045, "q{q}: {got} vs exact {want} ({err:.3})");
        }
        assert_eq!(h.count(), 5_000);
        assert_eq!(h.quantile(1.0), Some(*sample.last().unwrap()));
    }

    #[test]
    fn a_count_past_forty_bits_saturates_in_its_bucket() {
        let mut h = Histogram::default();
        h.record(1_000);
        h.counts[0].1 = 1 << 41;
        let stored = h.encode();
        assert_eq!(stored, [(i64::from(bucket(1_000)) << COUNT_BITS) | COUNT_MASK]);
        let back = Histogram::decode(&stored, 1_000, 1_000).unwrap();
        assert_eq!(back.count(), COUNT_MASK as u64);
    }

    #[test]
    fn small_samples_are_clamped_to_what_was_seen() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        h.record(100_000_000);
        h.record(300_000_000);
        // Nearest rank: p50 is the 100 ms sample, p99 the 300 ms one.
        let p50 = h.quantile(0.5).unwrap();
        assert!((100_000_000..=104_500_000).contains(&p50), "{p50}");
        assert_eq!(h.quantile(0.99), Some(300_000_000));
        let mut one = Histogram::default();
        one.record(-7);
        assert_eq!(one.quantile(0.5), Some(-7));
    }

    #[test]
    fn merged_histograms_equal_one_built_from_both_samples() {
        let (mut a, mut b, mut both) = (Histogram::default(), Histogram::default(), Histogram::default());
        for d in [5, 900, 1_000_000, 7] {
            a.record(d);
            both.record(d);
        }
        for d in [3, 2_000_000_000, 900] {
            b.record(d);
            both.record(d);
        }
        a.merge(&b);
        assert_eq!(a, both);
        a.merge(&Histogram::default());
        assert_eq!(a, both);
        let mut empty = Histogram::default();
        empty.merge(&b);
        assert_eq!(empty, b);
        // The API's merge of a stored row gives the same.
        let mut stored = Histogram::default();
        for h in [&a, &b, &Histogram::default()] {
            stored.merge_stored(&h.encode(), h.min(), h.max()).unwrap();
        }
        let mut want = a.clone();
        want.merge(&b);
        assert_eq!(stored, want);
    }

    #[test]
    fn encoding_round_trips_and_refuses_foreign_elements() {
        let mut h = Histogram::default();
        for d in [1, 50, 50, 1_000_000_000_000, i64::MAX] {
            h.record(d);
        }
        let stored = h.encode();
        assert!(stored.windows(2).all(|w| w[0] < w[1]), "ascending: {stored:?}");
        assert_eq!(Histogram::decode(&stored, h.min(), h.max()).unwrap(), h);
        assert_eq!(Histogram::decode(&[], 0, 0).unwrap(), Histogram::default());
        assert!(Histogram::decode(&[5 << 40], 0, 0).is_err(), "zero count");
        assert!(Histogram::decode(&[-1], 0, 0).is_err(), "negative bucket");
        assert!(Histogram::decode(&[(MAX_BUCKET + 1) << 40 | 1], 0, 0).is_err(), "bucket out of range");
        assert!(Histogram::decode(&[6 << 40 | 1, 5 << 40 | 1], 0, 0).is_err(), "descending");
        assert!(Histogram::decode(&[5 << 40 | 1, 5 << 40 | 1], 0, 0).is_err(), "repeated bucket");
    }
}
