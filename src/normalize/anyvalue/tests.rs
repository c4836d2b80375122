use super::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};

fn s(v: &str) -> AnyValue {
    AnyValue { value: Some(Value::StringValue(v.to_string())) }
}
fn i(v: i64) -> AnyValue {
    AnyValue { value: Some(Value::IntValue(v)) }
}
fn d(v: f64) -> AnyValue {
    AnyValue { value: Some(Value::DoubleValue(v)) }
}
fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue { key: k.to_string(), value: Some(v), ..Default::default() }
}
fn arr(vs: Vec<AnyValue>) -> AnyValue {
    AnyValue { value: Some(Value::ArrayValue(ArrayValue { values: vs })) }
}
fn kvl(vs: Vec<KeyValue>) -> AnyValue {
    AnyValue { value: Some(Value::KvlistValue(KeyValueList { values: vs })) }
}
fn bytes(b: &[u8]) -> AnyValue {
    AnyValue { value: Some(Value::BytesValue(b.to_vec())) }
}

/// Compares doubles bit for bit (NaN == NaN, -0.0 != 0.0), which prost's PartialEq does not.
fn same(a: &AnyValue, b: &AnyValue) -> bool {
    match (&a.value, &b.value) {
        (Some(Value::DoubleValue(x)), Some(Value::DoubleValue(y))) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Some(Value::ArrayValue(x)), Some(Value::ArrayValue(y))) => {
            x.values.len() == y.values.len() && x.values.iter().zip(&y.values).all(|(a, b)| same(a, b))
        }
        (Some(Value::KvlistValue(x)), Some(Value::KvlistValue(y))) => same_kvs(&x.values, &y.values),
        _ => a == b,
    }
}
fn same_kvs(x: &[KeyValue], y: &[KeyValue]) -> bool {
    x.len() == y.len()
        && x.iter().zip(y).all(|(a, b)| {
            a.key == b.key
                && same(
                    a.value.as_ref().unwrap_or(&AnyValue::default()),
                    b.value.as_ref().unwrap_or(&AnyValue::default()),
                )
        })
}

fn round_trip(v: AnyValue) {
    let json = any_value_to_json(&v);
    let back = any_value_from_json(&json).unwrap();
    assert!(same(&v, &back), "{v:?} -> {json} -> {back:?}");
}

#[test]
fn scalars_encode_as_documented() {
    assert_eq!(any_value_to_json(&s("a\"b\\c\n\u{1}é")), r#""a\"b\\c\n\u0001é""#);
    assert_eq!(any_value_to_json(&i(-5)), "-5");
    assert_eq!(any_value_to_json(&d(2.0)), "2.0");
    assert_eq!(any_value_to_json(&d(-1.5)), "-1.5");
    assert_eq!(any_value_to_json(&d(1e-7)), "0.0000001");
    assert_eq!(any_value_to_json(&d(1e21)), "1000000000000000000000.0");
    assert_eq!(any_value_to_json(&d(f64::NAN)), r#"{"double":"NaN"}"#);
    assert_eq!(any_value_to_json(&d(f64::INFINITY)), r#"{"double":"Infinity"}"#);
    assert_eq!(any_value_to_json(&d(f64::NEG_INFINITY)), r#"{"double":"-Infinity"}"#);
    assert_eq!(any_value_to_json(&d(-0.0)), r#"{"double":"-0.0"}"#);
    assert_eq!(any_value_to_json(&d(0.0)), "0.0");
    assert_eq!(any_value_to_json(&AnyValue { value: Some(Value::BoolValue(true)) }), "true");
    assert_eq!(any_value_to_json(&bytes(&[0, 1, 2, 255])), r#"{"bytes":"AAEC/w=="}"#);
    assert_eq!(any_value_to_json(&AnyValue::default()), "null");
    assert_eq!(any_value_to_json(&AnyValue { value: Some(Value::StringValueStrindex(3)) }), "null");
}

#[test]
fn containers_encode_as_documented() {
    let v = kvl(vec![
        kv("a", arr(vec![i(1), d(1.0), s("x")])),
        kv("b", kvl(vec![])),
        KeyValue { key: "c".into(), value: None, ..Default::default() },
    ]);
    assert_eq!(any_value_to_json(&v), r#"{"kvlist":{"a":[1,1.0,"x"],"b":{"kvlist":{}},"c":null}}"#);
    assert_eq!(attributes_to_json(&[kv("k", s("v")), kv("n", i(2))]), r#"{"k":"v","n":2}"#);
    assert_eq!(attributes_to_json(&[]), "{}");
}

#[test]
fn every_kind_round_trips() {
    for v in [
        s(""),
        s("plain"),
        s("unicode: 日本語 🚀 \u{0}\u{1f} \"quoted\" back\\slash"),
        i(0),
        i(i64::MIN),
        i(i64::MAX),
        d(0.0),
        d(-0.0),
        d(2.0),
        d(0.1),
        d(-123.456e-300),
        d(f64::MAX),
        d(f64::MIN_POSITIVE),
        d(5e-324),
        d(f64::NAN),
        d(f64::INFINITY),
        d(f64::NEG_INFINITY),
        AnyValue { value: Some(Value::BoolValue(false)) },
        bytes(&[]),
        bytes(&[0, 159, 146, 150, 255]),
        AnyValue::default(),
        arr(vec![]),
        kvl(vec![]),
        arr(vec![i(1), arr(vec![d(2.5), AnyValue::default()]), kvl(vec![kv("x", bytes(b"y"))])]),
        kvl(vec![
            kv("nested", kvl(vec![kv("deeper", kvl(vec![kv("n", d(f64::NAN))]))])),
            kv("ключ", s("значение")),
            kv("", s("empty key")),
        ]),
    ] {
        round_trip(v);
    }
}

#[test]
fn random_doubles_round_trip_exactly() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        // xorshift: covers exponents and mantissas evenly by bits.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = f64::from_bits(x);
        round_trip(d(v));
    }
}

#[test]
fn attribute_lists_round_trip_in_order() {
    let attrs = vec![kv("z", i(1)), kv("a", d(3.0)), kv("m", arr(vec![s("q")]))];
    let json = attributes_to_json(&attrs);
    assert!(same_kvs(&attrs, &attributes_from_json(&json).unwrap()));
}

#[test]
fn decodes_postgres_jsonb_output_form() {
    // jsonb prints with spaces and reorders keys; the types must still come back.
    let back = attributes_from_json(r#"{"a": 2.0, "b": 2, "c": {"kvlist": {"x": [1, 1.50]}}, "d": {"bytes": "AQ=="}}"#)
        .unwrap();
    assert_eq!(back[0].value, Some(d(2.0)));
    assert_eq!(back[1].value, Some(i(2)));
    assert_eq!(back[2].value, Some(kvl(vec![kv("x", arr(vec![i(1), d(1.5)]))])));
    assert_eq!(back[3].value, Some(bytes(&[1])));
    // A scientific-notation number without a '.' is still a double.
    assert_eq!(any_value_from_json("1e3").unwrap(), d(1000.0));
    // Escapes a producer other than ours may use.
    assert_eq!(any_value_from_json(r#""\/\b\f\ud83d\ude80""#).unwrap(), s("/\u{8}\u{c}🚀"));
}

#[test]
fn bad_json_is_an_error_not_a_panic() {
    for bad in [
        "",
        "{",
        "[1,",
        "\"abc",
        "01x",
        "-",
        "1.",
        "99999999999999999999",
        r#"{"unknown":1}"#,
        r#"{"bytes":"***"}"#,
        r#"{"double":"nope"}"#,
        r#"{"kvlist":[]}"#,
        r#""\ud800""#,
        r#""\x""#,
        "tru",
        "1 2",
        "\"a\u{1}\"",
    ] {
        assert!(any_value_from_json(bad).is_err(), "{bad:?} should fail");
    }
    assert!(attributes_from_json("[]").is_err());
    let deep = "[".repeat(500) + &"]".repeat(500);
    assert!(any_value_from_json(&deep).is_err());
}
