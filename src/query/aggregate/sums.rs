//! Sums: the increase of each point across cumulative resets, summed per bucket.

use std::collections::BTreeMap;

use super::Buckets;

/// One point of a sum: time, start time (0 when unset) and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SumPoint {
    /// time_unix_nano.
    pub time: u64,
    /// start_time_unix_nano (0: unset).
    pub start: u64,
    /// The value.
    pub value: f64,
}

/// The increase each point contributes: a delta point is its own increase; a cumulative point adds what it
/// gained over the previous point, or all of its value after a reset (value went down on a monotonic sum, or
/// the start time changed). A first cumulative point counts only if its series started at or after
/// `baseline_from` (else there is nothing to compare it with).
pub fn increases(points: &[SumPoint], cumulative: bool, monotonic: bool, baseline_from: u64) -> Vec<(u64, f64)> {
    if !cumulative {
        return points.iter().map(|p| (p.time, p.value)).collect();
    }
    let mut out = Vec::with_capacity(points.len());
    let mut prev: Option<SumPoint> = None;
    for &p in points {
        let inc = match prev {
            Some(q) => {
                let restarted = p.start != 0 && q.start != 0 && p.start != q.start;
                if restarted || (monotonic && p.value < q.value) { Some(p.value) } else { Some(p.value - q.value) }
            }
            None if p.start != 0 && p.start >= baseline_from => Some(p.value),
            None => None,
        };
        if let Some(inc) = inc {
            out.push((p.time, inc));
        }
        prev = Some(p);
    }
    out
}

/// Sums increases per bucket: the delta of each bucket (rate: divide by the step in seconds).
pub fn deltas(increases: &[(u64, f64)], b: &Buckets) -> Vec<(u64, f64)> {
    let mut acc: BTreeMap<u64, f64> = BTreeMap::new();
    for &(t, v) in increases {
        if let Some(i) = b.index(t) {
            *acc.entry(i).or_default() += v;
        }
    }
    acc.into_iter().map(|(i, v)| (b.start(i), v)).collect()
}
