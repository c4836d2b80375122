//! Gauge-like points: the latest, mean, smallest or largest value per bucket.

use std::collections::BTreeMap;

use super::Buckets;

/// How a bucket of gauge-like values is reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueAgg {
    /// The latest value.
    Last,
    /// The mean.
    Avg,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
}

/// Reduces gauge-like points `(time, value)` (sorted by time) per bucket.
pub fn values(points: &[(u64, f64)], b: &Buckets, agg: ValueAgg) -> Vec<(u64, f64)> {
    let mut acc: BTreeMap<u64, (f64, f64, usize)> = BTreeMap::new();
    for &(t, v) in points {
        let Some(i) = b.index(t) else { continue };
        let e = acc.entry(i).or_insert((v, 0.0, 0));
        e.0 = match agg {
            ValueAgg::Last => v,
            ValueAgg::Min => e.0.min(v),
            ValueAgg::Max => e.0.max(v),
            ValueAgg::Avg => e.0,
        };
        e.1 += v;
        e.2 += 1;
    }
    acc.into_iter()
        .map(|(i, (x, sum, n))| {
            let v = if agg == ValueAgg::Avg { sum / n as f64 } else { x };
            (b.start(i), v)
        })
        .collect()
}
