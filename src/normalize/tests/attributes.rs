//! Attribute rows: typed table or `_other`, the promoted keys, resource and scope attributes.

use super::copy_rows::*;
use super::fixtures::*;
use crate::normalize::*;
use crate::schema::Signal;
use opentelemetry_proto::tonic::common::v1::ArrayValue;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

#[test]
fn attribute_rows_go_to_their_typed_table_or_other() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals()[..1], &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    // Span events keep typed rows (spans and log records have sets: see below).
    let event_row_id = i64_of(&rows(&tables, "otel_span_events")[0][0]);
    let key = |k: &str| ids.keys[k];

    let s = &rows(&tables, "otel_span_event_attrs_string")[0];
    assert_eq!(i64_of(&s[0]), event_row_id);
    assert_eq!(i64_of(&s[1]), time_of(T0), "the span's start time");
    assert_eq!((i32_of(&s[2]), text_of(&s[3])), (key("s"), "text".into()));
    let i = &rows(&tables, "otel_span_event_attrs_int")[0];
    assert_eq!((i32_of(&i[2]), i64_of(&i[3])), (key("i"), -7));
    let d = &rows(&tables, "otel_span_event_attrs_double")[0];
    assert_eq!((i32_of(&d[2]), f64::from_bits(i64_of(&d[3]) as u64)), (key("d"), 2.0));
    let b = &rows(&tables, "otel_span_event_attrs_bool")[0];
    assert_eq!((i32_of(&b[2]), b[3].clone()), (key("b"), Some(vec![1])));
    let y = &rows(&tables, "otel_span_event_attrs_bytes")[0];
    assert_eq!((i32_of(&y[2]), y[3].clone()), (key("y"), Some(vec![0, 1, 2])));
    let other = &rows(&tables, "otel_span_event_attrs_other")[0];
    assert_eq!(other.len(), 3);
    assert_eq!(
        json_of(&other[2]),
        r#"{"n":"not an int","arr":[1,"two"],"map":{"kvlist":{"inner":{"double":"NaN"}}},"empty":null,"plain":"unpromoted"}"#
    );
    // At span level the promoted keys are high-cardinality in test_promotion: everything is on the span's
    // own row, in the order sent, and nothing in the span's typed or _other tables.
    let spans = rows(&tables, "otel_spans_fact");
    assert_eq!(
        json_of(spans[0].last().unwrap()),
        r#"{"s":"text","i":-7,"d":2.0,"b":true,"y":{"bytes":"AAEC"},"n":"not an int","arr":[1,"two"],"map":{"kvlist":{"inner":{"double":"NaN"}}},"empty":null,"plain":"unpromoted"}"#
    );
    assert_eq!(json_of(spans[1].last().unwrap()), "{}", "a span without attributes");
    assert!(tables.iter().all(|t| !t.table.starts_with("otel_span_attrs_")), "no span attribute rows");
    // The dropped secret is nowhere.
    for t in &tables {
        let haystack = String::from_utf8_lossy(&t.data);
        assert!(!haystack.contains("hunter2"), "{}", t.table);
        assert!(!haystack.contains("secret.token"), "{}", t.table);
    }
}

#[test]
fn keys_are_the_promoted_ones_sorted_and_unique() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    // "n" arrives as a string but is promoted as int: it goes to _other and needs no key id.
    assert_eq!(prepared.keys(), ["b", "d", "host.name", "i", "s", "service.name", "service.namespace", "y"]);
}

#[test]
fn resource_attributes_of_every_type_reach_their_table() {
    let promotion = Promotion::from_toml_str("[resource]\nany = [\"*\"]\n").unwrap();
    let mut req = traces_request();
    req.resource_spans[0].resource = Some(Resource {
        attributes: vec![
            kv("service.name", Value::IntValue(5)),
            kv("d", Value::DoubleValue(-0.0)),
            kv("b", Value::BoolValue(false)),
            kv("y", Value::BytesValue(vec![])),
            kv("s", string("")),
            kv("list", Value::ArrayValue(ArrayValue::default())),
        ],
        ..Default::default()
    });
    req.resource_spans[0].scope_spans[0].scope =
        Some(InstrumentationScope { name: "only name".into(), ..Default::default() });
    let prepared = prepare(&[record(1, Signal::Traces, req.encode_to_vec())], &promotion);
    let r = &prepared.resources()[0];
    assert_eq!(r.service_name, None, "service.name is not a string");
    assert_eq!(prepared.scopes()[0].version, "");
    let ids = resolve(&prepared);
    let tables = encode_dimension_attributes(&[(1, r)], &[], &ids, &promotion).unwrap();
    let mut got: Vec<(&str, u64)> = tables.iter().map(|t| (t.table, t.rows)).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("otel_resource_attrs_bool", 1),
            ("otel_resource_attrs_bytes", 1),
            ("otel_resource_attrs_double", 1),
            ("otel_resource_attrs_int", 1),
            ("otel_resource_attrs_other", 1),
            ("otel_resource_attrs_string", 1),
        ]
    );
    assert_eq!(i64_of(&rows(&tables, "otel_resource_attrs_int")[0][2]), 5);
    assert_eq!(rows(&tables, "otel_resource_attrs_double")[0][2], Some((-0.0f64).to_bits().to_be_bytes().to_vec()));
    assert_eq!(rows(&tables, "otel_resource_attrs_bytes")[0][2], Some(vec![]), "empty bytes are not NULL");
    assert_eq!(json_of(&rows(&tables, "otel_resource_attrs_other")[0][1]), r#"{"list":[]}"#);
}

#[test]
fn dimension_attributes_are_encoded_for_new_dimensions() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    let ids = resolve(&prepared);
    let r = &prepared.resources()[0];
    let s = &prepared.scopes()[0];
    let tables = encode_dimension_attributes(&[(41, r)], &[(42, s)], &ids, &promotion).unwrap();
    let mut got: Vec<(&str, u64)> = tables.iter().map(|t| (t.table, t.rows)).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("otel_resource_attrs_other", 1),
            ("otel_resource_attrs_string", 3),
            ("otel_scope_attrs_other", 1),
            ("otel_scope_attrs_string", 1),
        ]
    );
    let strings = rows(&tables, "otel_resource_attrs_string");
    assert_eq!(strings[0].len(), 3, "no time column on resource attributes");
    assert_eq!(i64_of(&strings[0][0]), 41);
    let values: Vec<String> = strings.iter().map(|r| text_of(&r[2])).collect();
    assert_eq!(values, ["h1", "checkout", "shop"]);
    assert_eq!(json_of(&rows(&tables, "otel_resource_attrs_other")[0][1]), r#"{"process.pid":42}"#);
    assert_eq!(json_of(&rows(&tables, "otel_scope_attrs_other")[0][1]), r#"{"other":1}"#);
    // No new dimensions, no rows.
    assert!(encode_dimension_attributes(&[], &[], &ids, &promotion).unwrap().is_empty());
    // A promoted key without a resolved id is an error, not a panic or a lost row.
    let mut missing = ids.clone();
    missing.keys.remove("service.name");
    let err = encode_dimension_attributes(&[(41, r)], &[], &missing, &promotion).unwrap_err();
    assert!(err.to_string().contains("service.name"), "{err}");
}

/// `attr_set_key` of a fact table's COPY row (the column before the row's `attributes`, which ends it).
fn set_key_of(row: &[Option<Vec<u8>>]) -> Option<i64> {
    row[row.len() - 2].as_ref().map(|b| i64::from_be_bytes(b.as_slice().try_into().unwrap()))
}

#[test]
fn promoted_span_attributes_form_one_set_per_distinct_combination() {
    let promotion = set_promotion();
    let mut req = traces_request();
    let spans = &mut req.resource_spans[0].scope_spans[0].spans;
    // Same set attributes as the first span, in another order and with other unpromoted values.
    let mut reordered = spans[0].clone();
    reordered.span_id = vec![7; 8];
    reordered.attributes.reverse();
    reordered.attributes.push(kv("plain", string("another unpromoted value")));
    spans.push(reordered);
    // A span whose only promoted attribute is high-cardinality at span level: no set.
    let mut only_high = spans[1].clone();
    only_high.span_id = vec![8; 8];
    only_high.attributes = vec![kv("s", string("unique"))];
    spans.push(only_high);
    let prepared = prepare(&[record(1, Signal::Traces, req.encode_to_vec())], &promotion);
    let ids = resolve(&prepared);
    let encoded = encode(&prepared, &ids, &promotion).unwrap();

    assert_eq!(encoded.attr_sets.len(), 1, "{:?}", encoded.attr_sets);
    let set = &encoded.attr_sets[0];
    assert_eq!(set.level, crate::schema::PromotionLevel::Span);
    // Canonical order; "n" arrived as a string, not the promoted int: it stays unpromoted.
    assert_eq!(set.attributes, r#"{"b":true,"d":2.0,"i":-7,"y":{"bytes":"AAEC"}}"#);
    let keys: Vec<Option<i64>> = rows(&encoded.tables, "otel_spans_fact").iter().map(|r| set_key_of(r)).collect();
    assert_eq!(keys, [Some(set.key), None, Some(set.key), None]);
    // The high-cardinality key stays on the span's row with the unpromoted ones; no span attribute rows.
    let spans = rows(&encoded.tables, "otel_spans_fact");
    assert_eq!(json_of(spans[3].last().unwrap()), r#"{"s":"unique"}"#);
    assert!(json_of(spans[0].last().unwrap()).starts_with(r#"{"s":"text","n":"not an int""#));
    assert!(encoded.tables.iter().all(|d| !d.table.starts_with("otel_span_attrs_")));
    // Events keep typed rows (one event with attributes on each of the two full spans): only spans and log
    // records have sets.
    assert_eq!(table(&encoded.tables, "otel_span_event_attrs_int").rows, 2);
}

#[test]
fn promoted_log_attributes_form_a_set_at_log_level() {
    let promotion = set_promotion();
    let prepared = prepare(&[record(1, Signal::Logs, logs_request().encode_to_vec())], &promotion);
    let ids = resolve(&prepared);
    let encoded = encode(&prepared, &ids, &promotion).unwrap();
    assert_eq!(encoded.attr_sets.len(), 1);
    let set = &encoded.attr_sets[0];
    assert_eq!(set.level, crate::schema::PromotionLevel::Log);
    // "s" is high-cardinality at span level only.
    assert_eq!(set.attributes, r#"{"b":true,"d":2.0,"i":-7,"s":"text","y":{"bytes":"AAEC"}}"#);
    let logs = rows(&encoded.tables, "otel_logs_fact");
    assert_eq!(set_key_of(&logs[0]), Some(set.key));
    assert!(logs[1..].iter().all(|r| set_key_of(r).is_none()));
    // Set members are stored by key text: they need no key id.
    assert!(prepared.keys().iter().all(|k| !["s", "i", "d", "b", "y"].contains(&k.as_str())), "{:?}", prepared.keys());
    assert!(
        encoded.tables.iter().all(|d| !d.table.starts_with("otel_log_attrs_") || d.table == "otel_log_attrs_other")
    );
}
