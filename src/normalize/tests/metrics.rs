//! Data point and exemplar rows of every metric type.

use super::copy_rows::*;
use super::fixtures::*;
use crate::normalize::*;

#[test]
fn metric_rows_carry_every_field() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals()[2..], &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    let metric_id = |name: &str| ids.metrics[&prepared.metrics().iter().find(|m| m.name == name).unwrap().hash];

    let number = rows(&tables, "otel_metrics_data_points_number");
    assert_eq!(i64_of(&number[0][1]), metric_id("gauge"));
    assert_eq!(i64_of(&number[0][4]), time_of(T0));
    assert_eq!(i64_of(&number[0][6]), time_of(T0 - 1_000));
    assert_eq!(i32_of(&number[0][8]), 1);
    assert_eq!((i64_of(&number[0][9]), number[0][10].clone()), (3, None));
    assert_eq!(i64_of(&number[1][1]), metric_id("sum"));
    assert_eq!(number[1][9], None);
    assert_eq!(f64::from_bits(i64_of(&number[1][10]) as u64), 1.5);
    // The series key ends the row: one per (metric, resource, attribute set).
    assert_ne!(i64_of(&number[0][11]), i64_of(&number[1][11]));
    let encoded = encode(&prepared, &ids, &promotion).unwrap();
    let series: Vec<i64> = encoded.series.iter().map(|s| s.key).collect();
    assert!(series.contains(&i64_of(&number[0][11])) && series.contains(&i64_of(&number[1][11])));
    assert!(series.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");

    let h = &rows(&tables, "otel_metrics_data_points_histogram")[0];
    assert_eq!(i64_of(&h[9]), 6);
    assert_eq!(f64::from_bits(i64_of(&h[10]) as u64), 12.0);
    assert_eq!(f64::from_bits(i64_of(&h[11]) as u64), 0.5);
    assert_eq!(h[12], None, "max not sent");
    let mut buckets = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 1];
    for c in [1i64, 2, 3] {
        buckets.extend_from_slice(&[0, 0, 0, 8]);
        buckets.extend_from_slice(&c.to_be_bytes());
    }
    assert_eq!(h[13], Some(buckets));
    assert_eq!(&h[14].as_ref().unwrap()[8..12], &701i32.to_be_bytes());

    let e = &rows(&tables, "otel_metrics_data_points_exp_histogram")[0];
    assert_eq!(e[6], None, "start time 0 is NULL");
    assert_eq!((i64_of(&e[9]), e[10].clone()), (10, None));
    assert_eq!(i32_of(&e[13]), -3);
    assert_eq!(i64_of(&e[14]), 1);
    assert_eq!(f64::from_bits(i64_of(&e[15]) as u64), 0.001);
    assert_eq!(i32_of(&e[16]), -2);
    assert_eq!(e[17].as_ref().unwrap().len(), 20 + 2 * 12);
    assert_eq!(i32_of(&e[18]), 0);
    assert_eq!(e[19], Some(vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20]), "no negative buckets: empty array");

    let s = &rows(&tables, "otel_metrics_data_points_summary")[0];
    assert_eq!((i64_of(&s[9]), f64::from_bits(i64_of(&s[10]) as u64)), (4, 8.0));
    assert_eq!(s[11].as_ref().unwrap().len(), 20 + 2 * 12);

    let ex = rows(&tables, "otel_metrics_exemplars");
    let kinds: Vec<i16> = ex.iter().map(|r| i16_of(&r[2])).collect();
    assert_eq!(kinds, [1, 1, 3, 4]);
    assert_eq!(i64_of(&ex[0][0]), i64_of(&number[0][0]));
    assert_eq!(i64_of(&ex[0][1]), time_of(T0));
    assert_eq!(i32_of(&ex[0][3]), 0);
    assert_eq!(i64_of(&ex[0][4]), time_of(T0 + 5));
    assert_eq!((ex[0][6].clone(), f64::from_bits(i64_of(&ex[0][7]) as u64)), (None, 0.25));
    assert_eq!((ex[0][8].clone(), ex[0][9].clone()), (Some(vec![1; 16]), Some(vec![2; 8])));
    assert_eq!(json_of(&ex[0][10]), r#"{"user":"u1"}"#, "dropped key removed");
}
