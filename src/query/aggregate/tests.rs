use super::exp_histograms::Sparse;
use super::summaries::summary_quantile;
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
    let pts = [p(90, 10, 5.0), p(120, 10, 8.0), p(180, 10, 11.0), p(220, 10, 2.0), p(260, 250, 4.0), p(310, 250, 10.0)];
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
        &[s(110, 3, vec![(0.5, 1.0), (0.99, 9.0)]), s(150, 5, vec![(0.0, 0.5), (0.5, 2.0), (0.9, 4.0), (1.0, 8.0)])],
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
