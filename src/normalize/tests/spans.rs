//! Span, span event and span link rows.

use super::copy_rows::*;
use super::fixtures::*;
use crate::normalize::*;

#[test]
fn span_rows_carry_every_field() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals()[..1], &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    let spans = rows(&tables, "otel_spans_fact");
    let full = &spans[0];
    assert_eq!(i64_of(&full[1]), time_of(T0));
    assert_eq!(i16_of(&full[2]), 1); // T0 ends in ...001 ns
    assert_eq!(i64_of(&full[3]), time_of(T0 + 1_500));
    assert_eq!(i16_of(&full[4]), 501);
    assert_eq!(i64_of(&full[5]), 1_500);
    assert_eq!(full[6], Some(vec![1; 16]));
    assert_eq!(full[7], Some(vec![2; 8]));
    assert_eq!(full[8], Some(vec![3; 8]));
    assert_eq!(text_of(&full[9]), "k=v");
    assert_eq!(i32_of(&full[10]), 0x8000_0301u32 as i32);
    assert_eq!(text_of(&full[11]), "GET /");
    assert_eq!(i16_of(&full[12]), 2);
    assert_eq!(i16_of(&full[13]), 2);
    assert_eq!(text_of(&full[14]), "boom");
    assert_eq!([i32_of(&full[15]), i32_of(&full[16]), i32_of(&full[17])], [4, 6, 8]);
    assert_eq!(i64_of(&full[18]), ids.resources[&prepared.resources()[0].hash]);
    assert_eq!(i64_of(&full[19]), ids.scopes[&prepared.scopes()[0].hash]);
    let root = &spans[1];
    assert_eq!(root[8], None, "empty parent_span_id is NULL");
    assert_eq!((i16_of(&root[13]), text_of(&root[14])), (0, String::new()));
    assert_eq!(i64_of(&root[5]), 0);

    let events = rows(&tables, "otel_span_events");
    assert_eq!(i64_of(&events[0][1]), i64_of(&full[0]));
    assert_eq!(i64_of(&events[0][2]), time_of(T0), "partition key copied from the span");
    assert_eq!((i32_of(&events[0][3]), i32_of(&events[1][3])), (0, 1));
    assert_eq!(i64_of(&events[0][4]), time_of(T0 + 10));
    assert_eq!(i16_of(&events[0][5]), 11);
    assert_eq!((events[1][4].clone(), i16_of(&events[1][5])), (None, 0), "unset event time is NULL");
    assert_eq!(text_of(&events[0][6]), "exception");
    assert_eq!(i32_of(&events[0][7]), 5);

    let links = rows(&tables, "otel_span_links");
    let link = &links[0];
    assert_eq!(i64_of(&link[1]), i64_of(&full[0]));
    assert_eq!(i32_of(&link[3]), 0);
    assert_eq!((link[4].clone(), link[5].clone()), (Some(vec![4; 16]), Some(vec![5; 8])));
    assert_eq!(text_of(&link[6]), "l=1");
    assert_eq!((i32_of(&link[7]), i32_of(&link[8])), (1, 7));
}
