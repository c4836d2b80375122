//! Log rows, and a small log's COPY stream byte by byte.

use super::copy_rows::*;
use super::fixtures::*;
use crate::normalize::*;
use crate::schema::Signal;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;

#[test]
fn log_rows_carry_every_body_type_and_time_fallbacks() {
    let promotion = test_promotion();
    let mut req = logs_request();
    let records = &mut req.resource_logs[0].scope_logs[0].log_records;
    records[1].time_unix_nano = 0; // falls back to observed time
    records[2].time_unix_nano = 0;
    records[2].observed_time_unix_nano = 0; // falls back to the receive time
    records[3].trace_id.clear();
    records[3].span_id.clear();
    records[4].flags = u32::MAX;
    let prepared = prepare(&[record(3, Signal::Logs, req.encode_to_vec())], &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    let logs = rows(&tables, "otel_logs_fact");
    assert_eq!(logs.len(), 8);
    // body_type and which of body_string..body_json (columns 9..=14) is set.
    for (i, row) in logs.iter().enumerate() {
        assert_eq!(i16_of(&row[8]), i as i16, "body_type of record {i}");
        let set: Vec<usize> = (9..=14).filter(|c| row[*c].is_some()).collect();
        let expected: Vec<usize> = match i {
            0 => vec![],
            1..=5 => vec![8 + i],
            _ => vec![14],
        };
        assert_eq!(set, expected, "record {i}");
    }
    assert_eq!(text_of(&logs[1][9]), "hello");
    assert_eq!(i64_of(&logs[2][10]), i64::MIN);
    assert_eq!(f64::from_bits(i64_of(&logs[3][11]) as u64), 0.5);
    assert_eq!(logs[4][12], Some(vec![0]));
    assert_eq!(logs[5][13], Some(vec![0xff]));
    assert_eq!(json_of(&logs[6][14]), "[true]");
    assert_eq!(json_of(&logs[7][14]), r#"{"kvlist":{"a":1}}"#);

    // time / time_unset / observed_time
    assert_eq!((i64_of(&logs[0][1]), logs[0][3].clone()), (time_of(T0), Some(vec![0])));
    assert_eq!(i64_of(&logs[0][4]), time_of(T0 + 1));
    assert_eq!((i64_of(&logs[1][1]), i16_of(&logs[1][2])), (time_of(T0 + 1), 2));
    assert_eq!(logs[1][3], Some(vec![1]));
    assert_eq!(i64_of(&logs[2][1]), time_of(RECEIVED));
    assert_eq!(i16_of(&logs[2][2]), 789);
    assert_eq!((logs[2][3].clone(), logs[2][4].clone()), (Some(vec![1]), None));
    // severity, ids, flags, event name, dropped count
    assert_eq!((i16_of(&logs[0][6]), text_of(&logs[0][7])), (17, "ERROR".into()));
    assert_eq!((logs[0][15].clone(), logs[0][16].clone()), (Some(vec![1; 16]), Some(vec![2; 8])));
    assert_eq!((logs[3][15].clone(), logs[3][16].clone()), (None, None));
    assert_eq!(i32_of(&logs[4][17]), -1);
    assert_eq!(text_of(&logs[0][18]), "ev");
    assert_eq!(i32_of(&logs[0][19]), 2);
    // The attributes are on the record's own row ("s" .. "y" are high-cardinality in test_promotion).
    assert!(json_of(logs[0].last().unwrap()).starts_with(r#"{"s":"text","i":-7"#));
    assert_eq!(json_of(logs[1].last().unwrap()), "{}");
    assert!(tables.iter().all(|t| !t.table.starts_with("otel_log_attrs_")));
}

#[test]
fn hand_built_copy_stream_for_a_small_log() {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: None,
            scope_logs: vec![ScopeLogs {
                scope: None,
                log_records: vec![LogRecord {
                    time_unix_nano: 946_684_800_000_002_003, // 2000-01-01T00:00:00.000002003Z
                    severity_number: 9,
                    body: Some(av(string("hi"))),
                    attributes: vec![kv("s", string("v")), kv("z", Value::IntValue(1))],
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let promotion = test_promotion();
    let prepared = prepare(&[record(1, Signal::Logs, req.encode_to_vec())], &promotion);
    let mut ids = resolve(&prepared);
    ids.resources.values_mut().for_each(|v| *v = 3);
    ids.scopes.values_mut().for_each(|v| *v = 4);
    ids.keys.insert("s".into(), 5);
    ids.facts.blocks = vec![2];
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    assert_eq!(tables.iter().map(|t| t.table).collect::<Vec<_>>(), ["otel_logs_fact"]);

    let be32 = |v: i32| v.to_be_bytes().to_vec();
    let field = |bytes: &[u8]| [be32(bytes.len() as i32), bytes.to_vec()].concat();
    let null = be32(-1);
    let log_id = 2i64 * 65_536;
    let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
    expected.extend_from_slice(&[0; 8]);
    expected.extend_from_slice(&24i16.to_be_bytes());
    expected.extend(field(&log_id.to_be_bytes()));
    expected.extend(field(&2i64.to_be_bytes())); // time: 2 us after 2000-01-01
    expected.extend(field(&3i16.to_be_bytes())); // fraction
    expected.extend(field(&[0])); // time_unset false
    expected.extend(null.clone()); // observed_time
    expected.extend(field(&0i16.to_be_bytes()));
    expected.extend(field(&9i16.to_be_bytes())); // severity INFO
    expected.extend(field(b"")); // severity_text
    expected.extend(field(&1i16.to_be_bytes())); // body_type string
    expected.extend(field(b"hi"));
    for _ in 0..5 {
        expected.extend(null.clone()); // body_int .. body_json
    }
    expected.extend(null.clone()); // trace_id
    expected.extend(null.clone()); // span_id
    expected.extend(field(&0i32.to_be_bytes())); // flags
    expected.extend(field(b"")); // event_name
    expected.extend(field(&0i32.to_be_bytes())); // dropped_attributes_count
    expected.extend(field(&3i64.to_be_bytes())); // resource_id
    expected.extend(field(&4i64.to_be_bytes())); // scope_id
    expected.extend(null.clone()); // attr_set_key: "s" is high-cardinality in test_promotion
    expected.extend(field(b"\x01{\"s\":\"v\",\"z\":1}")); // attributes: jsonb version 1, then the text
    expected.extend_from_slice(&[0xff, 0xff]);
    assert_eq!(table(&tables, "otel_logs_fact").data, expected);
    assert!(
        table(&tables, "otel_logs_fact")
            .copy_statement()
            .ends_with("resource_id, scope_id, attr_set_key, attributes) FROM STDIN (FORMAT binary)")
    );
}
