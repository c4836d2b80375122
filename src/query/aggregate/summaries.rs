//! Summaries: each bucket reports its latest point, as summaries cannot be merged.

use std::collections::BTreeMap;

use super::{Buckets, Dist, QUANTILES};

/// A summary point.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryPoint {
    /// time_unix_nano.
    pub time: u64,
    /// Observation count (as reported).
    pub count: u64,
    /// Sum (as reported).
    pub sum: f64,
    /// Reported quantiles (0..=1) and their values.
    pub quantiles: Vec<(f64, f64)>,
}

/// The value at `q` from reported quantiles: exact when reported, else interpolated between neighbours.
pub(super) fn summary_quantile(reported: &[(f64, f64)], q: f64) -> Option<f64> {
    let mut sorted = reported.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let upper = sorted.iter().position(|(p, _)| *p >= q)?;
    let (qu, vu) = sorted[upper];
    if qu == q || upper == 0 {
        return (qu == q).then_some(vu);
    }
    let (ql, vl) = sorted[upper - 1];
    Some(vl + (vu - vl) * (q - ql) / (qu - ql))
}

/// Summaries cannot be merged: each bucket reports its latest point's count, sum and quantiles.
pub fn summaries(points: &[SummaryPoint], b: &Buckets) -> Vec<Dist> {
    let mut acc: BTreeMap<u64, &SummaryPoint> = BTreeMap::new();
    for p in points {
        if let Some(i) = b.index(p.time) {
            acc.insert(i, p);
        }
    }
    acc.into_iter()
        .map(|(i, p)| Dist {
            time: b.start(i),
            count: p.count,
            sum: Some(p.sum),
            quantiles: QUANTILES.map(|q| summary_quantile(&p.quantiles, q)),
        })
        .collect()
}
