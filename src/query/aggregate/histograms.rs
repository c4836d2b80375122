//! Explicit-bucket histograms: per-point increments of cumulative series, and count, sum and quantiles per
//! bucket.

use std::collections::BTreeMap;

use super::{Buckets, Dist, QUANTILES};

/// An explicit-bucket histogram point.
#[derive(Debug, Clone, PartialEq)]
pub struct HistPoint {
    /// time_unix_nano.
    pub time: u64,
    /// start_time_unix_nano (0: unset).
    pub start: u64,
    /// Observation count.
    pub count: u64,
    /// Sum of observations.
    pub sum: Option<f64>,
    /// Upper bounds of all buckets but the last.
    pub bounds: Vec<f64>,
    /// Count per bucket (bounds.len() + 1).
    pub counts: Vec<u64>,
}

/// Subtracts `prev` from `cur` when both describe the same series run; None on a reset.
fn hist_diff(cur: &HistPoint, prev: &HistPoint) -> Option<HistPoint> {
    if cur.bounds != prev.bounds
        || cur.counts.len() != prev.counts.len()
        || cur.count < prev.count
        || (cur.start != 0 && prev.start != 0 && cur.start != prev.start)
    {
        return None;
    }
    let mut counts = Vec::with_capacity(cur.counts.len());
    for (c, p) in cur.counts.iter().zip(&prev.counts) {
        counts.push(c.checked_sub(*p)?);
    }
    Some(HistPoint {
        time: cur.time,
        start: cur.start,
        count: cur.count - prev.count,
        sum: match (cur.sum, prev.sum) {
            (Some(a), Some(b)) => Some(a - b),
            _ => None,
        },
        bounds: cur.bounds.clone(),
        counts,
    })
}

/// Per-point increments of a histogram series (see [`increases`](super::increases) for the cumulative rules).
fn hist_increments(points: &[HistPoint], cumulative: bool, baseline_from: u64) -> Vec<HistPoint> {
    if !cumulative {
        return points.to_vec();
    }
    let mut out = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match i.checked_sub(1).map(|j| &points[j]) {
            Some(prev) => out.push(hist_diff(p, prev).unwrap_or_else(|| p.clone())),
            None if p.start != 0 && p.start >= baseline_from => out.push(p.clone()),
            None => {}
        }
    }
    out
}

/// The value at quantile `q` of buckets with upper `bounds`, interpolating linearly inside a bucket
/// (the first bucket starts at 0 when its bound is positive; the overflow bucket reports the last bound).
pub fn bucket_quantile(q: f64, bounds: &[f64], counts: &[u64]) -> Option<f64> {
    let total = counts.iter().fold(0u64, |a, c| a.saturating_add(*c));
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut before = 0u64;
    for (i, &c) in counts.iter().enumerate() {
        if c > 0 && before.saturating_add(c) as f64 >= rank {
            if i >= bounds.len() {
                return bounds.last().copied().or(Some(0.0));
            }
            let upper = bounds[i];
            let lower = if i == 0 { if upper > 0.0 { 0.0 } else { upper } } else { bounds[i - 1] };
            let frac = ((rank - before as f64) / c as f64).clamp(0.0, 1.0);
            return Some(lower + (upper - lower) * frac);
        }
        before = before.saturating_add(c);
    }
    bounds.last().copied()
}

/// Histogram buckets: count, sum and quantiles of the observations made in each bucket.
pub fn histograms(points: &[HistPoint], cumulative: bool, baseline_from: u64, b: &Buckets) -> Vec<Dist> {
    let mut acc: BTreeMap<u64, HistPoint> = BTreeMap::new();
    for inc in hist_increments(points, cumulative, baseline_from) {
        let Some(i) = b.index(inc.time) else { continue };
        match acc.get_mut(&i) {
            None => {
                acc.insert(i, inc);
            }
            // Increments with other bounds cannot be merged bucket by bucket: the bucket keeps the first layout.
            Some(a) if a.bounds == inc.bounds && a.counts.len() == inc.counts.len() => {
                a.count = a.count.saturating_add(inc.count);
                a.sum = match (a.sum, inc.sum) {
                    (Some(x), Some(y)) => Some(x + y),
                    _ => None,
                };
                for (x, y) in a.counts.iter_mut().zip(&inc.counts) {
                    *x = x.saturating_add(*y);
                }
            }
            Some(_) => {}
        }
    }
    acc.into_iter()
        .map(|(i, h)| Dist {
            time: b.start(i),
            count: h.count,
            sum: h.sum,
            quantiles: QUANTILES.map(|q| bucket_quantile(q, &h.bounds, &h.counts)),
        })
        .collect()
}
