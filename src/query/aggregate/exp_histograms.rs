//! Exponential histograms: points in a sparse form that merges across scales, and count, sum and quantiles
//! per bucket.

use std::collections::BTreeMap;

use super::{Buckets, Dist, QUANTILES};

/// An exponential histogram point.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpPoint {
    /// time_unix_nano.
    pub time: u64,
    /// start_time_unix_nano (0: unset).
    pub start: u64,
    /// Observation count.
    pub count: u64,
    /// Sum of observations.
    pub sum: Option<f64>,
    /// Resolution: bucket i covers (base^i, base^(i+1)] with base = 2^(2^-scale).
    pub scale: i32,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Positive buckets: offset and counts.
    pub positive: (i32, Vec<u64>),
    /// Negative buckets (mirrored): offset and counts.
    pub negative: (i32, Vec<u64>),
}

/// Sparse form at one scale: bucket index -> count.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Sparse {
    scale: i32,
    zero: u64,
    pos: BTreeMap<i64, u64>,
    neg: BTreeMap<i64, u64>,
    count: u64,
    sum: Option<f64>,
}

impl Sparse {
    /// The buckets of one point.
    pub(super) fn of(p: &ExpPoint) -> Sparse {
        let side = |(off, counts): &(i32, Vec<u64>)| {
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, c)| (i64::from(*off) + i as i64, *c))
                .collect::<BTreeMap<_, _>>()
        };
        Sparse {
            scale: p.scale,
            zero: p.zero_count,
            pos: side(&p.positive),
            neg: side(&p.negative),
            count: p.count,
            sum: p.sum,
        }
    }

    /// The same observations at a coarser (smaller) scale.
    fn downscale(&self, scale: i32) -> Sparse {
        if scale >= self.scale {
            return self.clone();
        }
        // Stored scales are not range-checked: compute in i64 so that absurd ones cannot overflow.
        let shift = (i64::from(self.scale) - i64::from(scale)).clamp(0, 62) as u32;
        let re = |m: &BTreeMap<i64, u64>| {
            let mut out = BTreeMap::new();
            for (i, c) in m {
                let e = out.entry(i >> shift).or_insert(0u64);
                *e = e.saturating_add(*c);
            }
            out
        };
        Sparse { scale, zero: self.zero, pos: re(&self.pos), neg: re(&self.neg), count: self.count, sum: self.sum }
    }

    fn add(&mut self, other: &Sparse) {
        let scale = self.scale.min(other.scale);
        *self = self.downscale(scale);
        let o = other.downscale(scale);
        self.zero = self.zero.saturating_add(o.zero);
        for (i, c) in o.pos {
            let e = self.pos.entry(i).or_insert(0);
            *e = e.saturating_add(c);
        }
        for (i, c) in o.neg {
            let e = self.neg.entry(i).or_insert(0);
            *e = e.saturating_add(c);
        }
        self.count = self.count.saturating_add(o.count);
        self.sum = match (self.sum, o.sum) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }

    /// `self - prev`, None when a count went down (a reset).
    fn minus(&self, prev: &Sparse) -> Option<Sparse> {
        let scale = self.scale.min(prev.scale);
        let cur = self.downscale(scale);
        let p = prev.downscale(scale);
        let sub = |a: &BTreeMap<i64, u64>, b: &BTreeMap<i64, u64>| -> Option<BTreeMap<i64, u64>> {
            let mut out = a.clone();
            for (i, c) in b {
                let e = out.get_mut(i)?;
                *e = e.checked_sub(*c)?;
            }
            Some(out)
        };
        Some(Sparse {
            scale,
            zero: cur.zero.checked_sub(p.zero)?,
            pos: sub(&cur.pos, &p.pos)?,
            neg: sub(&cur.neg, &p.neg)?,
            count: cur.count.checked_sub(p.count)?,
            sum: match (cur.sum, p.sum) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            },
        })
    }

    /// The value at quantile `q`.
    pub(super) fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.pos.values().chain(self.neg.values()).fold(self.zero, |a, c| a.saturating_add(*c));
        if total == 0 {
            return None;
        }
        let base = 2f64.powf(2f64.powf(-f64::from(self.scale)));
        let rank = q * total as f64;
        let mut before = 0u64;
        let within = |lo: f64, hi: f64, c: u64, before: u64| {
            lo + (hi - lo) * ((rank - before as f64) / c as f64).clamp(0.0, 1.0)
        };
        // Most negative first: negative bucket i holds values in [-base^(i+1), -base^i).
        for (&i, &c) in self.neg.iter().rev() {
            if c > 0 && before.saturating_add(c) as f64 >= rank {
                return Some(within(-base.powf((i + 1) as f64), -base.powf(i as f64), c, before));
            }
            before = before.saturating_add(c);
        }
        if self.zero > 0 && before.saturating_add(self.zero) as f64 >= rank {
            return Some(0.0);
        }
        before = before.saturating_add(self.zero);
        for (&i, &c) in &self.pos {
            if c > 0 && before.saturating_add(c) as f64 >= rank {
                return Some(within(base.powf(i as f64), base.powf((i + 1) as f64), c, before));
            }
            before = before.saturating_add(c);
        }
        self.pos.keys().next_back().map(|&i| base.powf((i + 1) as f64))
    }
}

/// Exponential histogram buckets: count, sum and quantiles of the observations in each bucket; points of
/// different scales are merged at the coarser one.
pub fn exp_histograms(points: &[ExpPoint], cumulative: bool, baseline_from: u64, b: &Buckets) -> Vec<Dist> {
    let mut incs: Vec<(u64, Sparse)> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let cur = Sparse::of(p);
        if !cumulative {
            incs.push((p.time, cur));
            continue;
        }
        match i.checked_sub(1).map(|j| &points[j]) {
            Some(prev) => {
                let restarted = p.start != 0 && prev.start != 0 && p.start != prev.start;
                let d = if restarted { None } else { cur.minus(&Sparse::of(prev)) };
                incs.push((p.time, d.unwrap_or(cur)));
            }
            None if p.start != 0 && p.start >= baseline_from => incs.push((p.time, cur)),
            None => {}
        }
    }
    let mut acc: BTreeMap<u64, Sparse> = BTreeMap::new();
    for (t, s) in incs {
        let Some(i) = b.index(t) else { continue };
        match acc.get_mut(&i) {
            Some(a) => a.add(&s),
            None => {
                acc.insert(i, s);
            }
        }
    }
    acc.into_iter()
        .map(|(i, s)| Dist {
            time: b.start(i),
            count: s.count,
            sum: s.sum,
            quantiles: QUANTILES.map(|q| s.quantile(q)),
        })
        .collect()
}
