//! Pure time-bucket aggregation of metric points (no database): gauges, sums (rate / delta across cumulative
//! resets), explicit-bucket and exponential histograms (quantiles, count, sum), summaries.

use std::collections::BTreeMap;

/// The quantiles reported for histograms and summaries.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

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

/// Per-point increments of a histogram series (see [`increases`] for the cumulative rules).
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
struct Sparse {
    scale: i32,
    zero: u64,
    pos: BTreeMap<i64, u64>,
    neg: BTreeMap<i64, u64>,
    count: u64,
    sum: Option<f64>,
}

impl Sparse {
    fn of(p: &ExpPoint) -> Sparse {
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

    fn quantile(&self, q: f64) -> Option<f64> {
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
fn summary_quantile(reported: &[(f64, f64)], q: f64) -> Option<f64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const B: Buckets = Buckets { from: 100, to: 400, step: 100 };

    #[test]
    fn gauge_aggregations() {
        let pts = [(90, 50.0), (100, 1.0), (150, 3.0), (199, 2.0), (250, 7.0), (400, 9.0)];
        assert_eq!(values(&pts, &B, ValueAgg::Last), [(100, 2.0), (200, 7.0)]);
        assert_eq!(values(&pts, &B, ValueAgg::Avg), [(100, 2.0), (200, 7.0)]);
        assert_eq!(values(&pts, &B, ValueAgg::Min), [(100, 1.0), (200, 7.0)]);
        assert_eq!(values(&pts, &B, ValueAgg::Max), [(100, 3.0), (200, 7.0)]);
    }

    #[test]
    fn cumulative_sums_with_resets() {
        let p = |time, start, value| SumPoint { time, start, value };
        // Baseline before the window, growth, a drop (reset) and a start-time change (restart).
        let pts =
            [p(90, 10, 5.0), p(120, 10, 8.0), p(180, 10, 11.0), p(220, 10, 2.0), p(260, 250, 4.0), p(310, 250, 10.0)];
        let inc = increases(&pts, true, true, 100);
        assert_eq!(inc, [(120, 3.0), (180, 3.0), (220, 2.0), (260, 4.0), (310, 6.0)]);
        assert_eq!(deltas(&inc, &B), [(100, 6.0), (200, 6.0), (300, 6.0)]);
        // No baseline: a series that started before the fetched range contributes from its second point.
        let inc = increases(&pts[1..], true, true, 100);
        assert_eq!(inc[0], (180, 3.0));
        // A series that started inside the range counts its first value.
        assert_eq!(increases(&[p(150, 120, 4.0)], true, true, 100), [(150, 4.0)]);
        // Non-monotonic sums go down without resetting.
        assert_eq!(increases(&[p(120, 10, 8.0), p(150, 10, 5.0)], true, false, 100), [(150, -3.0)]);
        // Delta points are their own increase.
        assert_eq!(increases(&[p(120, 110, 8.0)], false, true, 100), [(120, 8.0)]);
    }

    #[test]
    fn explicit_bucket_quantiles() {
        // 10 observations: 5 in (0, 10], 5 in (10, 20].
        let bounds = [10.0, 20.0];
        assert_eq!(bucket_quantile(0.5, &bounds, &[5, 5, 0]), Some(10.0));
        assert_eq!(bucket_quantile(0.25, &bounds, &[5, 5, 0]), Some(5.0));
        assert_eq!(bucket_quantile(0.9, &bounds, &[5, 5, 0]), Some(18.0));
        // The overflow bucket reports the highest bound.
        assert_eq!(bucket_quantile(0.99, &bounds, &[0, 0, 3]), Some(20.0));
        assert_eq!(bucket_quantile(0.5, &bounds, &[0, 0, 0]), None);
        // No bounds: everything in one bucket.
        assert_eq!(bucket_quantile(0.5, &[], &[4]), Some(0.0));
    }

    #[test]
    fn cumulative_histograms_are_differenced_per_bucket() {
        let h = |time, count: u64, counts: Vec<u64>, sum| HistPoint {
            time,
            start: 10,
            count,
            sum: Some(sum),
            bounds: vec![10.0, 20.0],
            counts,
        };
        let pts = [
            h(90, 4, vec![4, 0, 0], 20.0),
            h(150, 14, vec![9, 5, 0], 95.0),
            // Reset: counts go down.
            h(250, 2, vec![0, 2, 0], 30.0),
        ];
        let d = histograms(&pts, true, 100, &B);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].time, d[0].count, d[0].sum), (100, 10, Some(75.0)));
        assert_eq!(d[0].quantiles[0], Some(10.0));
        assert_eq!((d[1].time, d[1].count, d[1].sum), (200, 2, Some(30.0)));
        assert_eq!(d[1].quantiles[0], Some(15.0));
        // Delta histograms add up within a bucket.
        let d = histograms(&[h(110, 2, vec![2, 0, 0], 4.0), h(120, 2, vec![0, 2, 0], 30.0)], false, 100, &B);
        assert_eq!((d[0].count, d[0].sum), (4, Some(34.0)));
        assert_eq!(d[0].quantiles[0], Some(10.0));
    }

    #[test]
    fn exponential_histogram_quantiles_and_scales() {
        // Scale 0: bucket i covers (2^i, 2^(i+1)]. 4 observations in (1, 2], 4 in (2, 4].
        let e = |time, scale, offset, counts: Vec<u64>| ExpPoint {
            time,
            start: 10,
            count: counts.iter().sum(),
            sum: Some(1.0),
            scale,
            zero_count: 0,
            positive: (offset, counts),
            negative: (0, vec![]),
        };
        let d = exp_histograms(&[e(150, 0, 0, vec![4, 4])], false, 100, &B);
        assert_eq!(d[0].count, 8);
        assert_eq!(d[0].quantiles[0], Some(2.0));
        assert!((d[0].quantiles[1].unwrap() - 3.6).abs() < 1e-9);
        // Scale 1 (base sqrt 2) merged with scale 0: indexes 0,1 at scale 1 are index 0 at scale 0.
        let d = exp_histograms(&[e(110, 1, 0, vec![2, 2]), e(120, 0, 1, vec![4])], false, 100, &B);
        assert_eq!(d[0].count, 8);
        assert_eq!(d[0].quantiles[0], Some(2.0));
        // Negative values and the zero bucket.
        let p = ExpPoint {
            time: 150,
            start: 10,
            count: 4,
            sum: None,
            scale: 0,
            zero_count: 2,
            positive: (0, vec![1]),
            negative: (0, vec![1]),
        };
        let d = exp_histograms(std::slice::from_ref(&p), false, 100, &B);
        assert_eq!(d[0].quantiles[0], Some(0.0));
        assert!(d[0].quantiles[3].unwrap() > 1.0);
        let low = Sparse::of(&p).quantile(0.1).unwrap();
        assert!((-2.0..=-1.0).contains(&low), "{low}");
        // Cumulative: differences between points.
        let d = exp_histograms(&[e(90, 0, 0, vec![1, 1]), e(150, 0, 0, vec![1, 5])], true, 100, &B);
        assert_eq!(d[0].count, 4);
        assert_eq!(d[0].quantiles[0], Some(3.0));
    }

    #[test]
    fn absurd_stored_values_do_not_panic() {
        let e = |scale, counts: Vec<u64>| ExpPoint {
            time: 150,
            start: 10,
            count: u64::MAX,
            sum: None,
            scale,
            zero_count: u64::MAX,
            positive: (i32::MAX, counts),
            negative: (i32::MIN, vec![u64::MAX]),
        };
        let d = exp_histograms(&[e(i32::MIN, vec![u64::MAX, 1]), e(i32::MAX, vec![u64::MAX])], false, 100, &B);
        assert_eq!(d.len(), 1);
        let h = HistPoint {
            time: 150,
            start: 10,
            count: u64::MAX,
            sum: None,
            bounds: vec![1.0],
            counts: vec![u64::MAX, u64::MAX],
        };
        let d = histograms(&[h.clone(), h], false, 100, &B);
        assert_eq!(d[0].count, u64::MAX);
    }

    #[test]
    fn summary_quantiles() {
        let s = |time, count, q: Vec<(f64, f64)>| SummaryPoint { time, count, sum: 10.0, quantiles: q };
        let d = summaries(
            &[
                s(110, 3, vec![(0.5, 1.0), (0.99, 9.0)]),
                s(150, 5, vec![(0.0, 0.5), (0.5, 2.0), (0.9, 4.0), (1.0, 8.0)]),
            ],
            &B,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].count, 5);
        assert_eq!(d[0].quantiles[0], Some(2.0));
        assert_eq!(d[0].quantiles[1], Some(4.0));
        assert!((d[0].quantiles[2].unwrap() - 6.0).abs() < 1e-9);
        assert!((d[0].quantiles[3].unwrap() - 7.6).abs() < 1e-9);
        assert_eq!(summary_quantile(&[(0.9, 1.0)], 0.5), None);
    }
}
