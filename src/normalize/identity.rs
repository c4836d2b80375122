//! THE identity hashing routine: blake3 over a canonical byte encoding of a resource, an instrumentation
//! scope or a metric description. Equal content gives an equal hash whatever the attribute order or the wire
//! format (protobuf or JSON) it arrived in; documented in docs/schema.md, "Resource and scope identity".
//!
//! Canonical encoding (all integers little-endian):
//! - a domain tag first (`ollyscale.resource.v1`, `ollyscale.scope.v1`, `ollyscale.metric.v1`, written as a
//!   string), so that a resource and a scope with the same bytes cannot collide;
//! - string / bytes: u64 length, then the bytes (so ("ab","c") != ("a","bc"));
//! - AnyValue: one tag byte, then: 0 empty (no value, or the profiles-only strindex); 1 string; 2 bool (one
//!   byte 0/1); 3 int (i64); 4 double (u64 of the IEEE bits, every NaN as the one quiet NaN 0x7ff8000000000000);
//!   5 bytes; 6 array (u64 count, then each value); 7 kvlist (an attribute list);
//! - attribute list: sorted by key (byte order); for a repeated key only the last occurrence counts; then u64
//!   count and each key (string) followed by its value. Keys the promotion config drops are left out;
//! - resource: tag, attributes, schema_url. `dropped_attributes_count` is not part of the identity;
//! - scope: tag, name, version, attributes, schema_url;
//! - metric: tag, name, type (u8, 1 gauge .. 5 summary), unit, description, temporality (u8 0 absent / 1 then
//!   i32), monotonic (u8: 0 absent, 1 false, 2 true), metadata (attribute list);
//! - series (`ollyscale.series.v1`): tag, metric_id (u64 of the i64), resource_id (likewise), the data point's
//!   attribute list; the key is the hash's first 8 bytes as a little-endian i64. Ids rather than hashes: a
//!   series only exists within one database, where its metric and resource ids are fixed.
//! - attribute set (`ollyscale.attribute_set.v1`): tag, the promotion level (u8), the set's attribute list;
//!   the key is the hash's first 8 bytes as a little-endian i64, like a series key.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

/// A 32-byte blake3 identity hash.
pub type Hash = [u8; 32];

const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// Builds the canonical encoding into a reusable buffer and hashes it.
#[derive(Debug, Default)]
pub struct IdentityHasher {
    buf: Vec<u8>,
}

impl IdentityHasher {
    /// A hasher with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resource identity: attributes (minus `dropped` keys) and the ResourceX.schema_url.
    pub fn resource(&mut self, attributes: &[&KeyValue], schema_url: &str) -> Hash {
        self.buf.clear();
        put_str(&mut self.buf, "ollyscale.resource.v1");
        put_sorted_attributes(&mut self.buf, attributes);
        put_str(&mut self.buf, schema_url);
        *blake3::hash(&self.buf).as_bytes()
    }

    /// Scope identity: name, version, attributes (minus dropped keys) and the ScopeX.schema_url.
    pub fn scope(&mut self, name: &str, version: &str, attributes: &[&KeyValue], schema_url: &str) -> Hash {
        self.buf.clear();
        put_str(&mut self.buf, "ollyscale.scope.v1");
        put_str(&mut self.buf, name);
        put_str(&mut self.buf, version);
        put_sorted_attributes(&mut self.buf, attributes);
        put_str(&mut self.buf, schema_url);
        *blake3::hash(&self.buf).as_bytes()
    }

    /// Metric identity: everything of a Metric except its data points.
    #[allow(clippy::too_many_arguments)]
    pub fn metric(
        &mut self,
        name: &str,
        metric_type: i16,
        unit: &str,
        description: &str,
        temporality: Option<i32>,
        is_monotonic: Option<bool>,
        metadata: &[&KeyValue],
    ) -> Hash {
        self.buf.clear();
        put_str(&mut self.buf, "ollyscale.metric.v1");
        put_str(&mut self.buf, name);
        self.buf.push(metric_type as u8);
        put_str(&mut self.buf, unit);
        put_str(&mut self.buf, description);
        match temporality {
            None => self.buf.push(0),
            Some(t) => {
                self.buf.push(1);
                self.buf.extend_from_slice(&t.to_le_bytes());
            }
        }
        self.buf.push(match is_monotonic {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        put_sorted_attributes(&mut self.buf, metadata);
        *blake3::hash(&self.buf).as_bytes()
    }

    /// Series key (`series_key`): a metric, a resource and a data point attribute set (minus dropped keys).
    pub fn series(&mut self, metric_id: i64, resource_id: i64, attributes: &[&KeyValue]) -> i64 {
        self.buf.clear();
        put_str(&mut self.buf, "ollyscale.series.v1");
        put_u64(&mut self.buf, metric_id as u64);
        put_u64(&mut self.buf, resource_id as u64);
        put_sorted_attributes(&mut self.buf, attributes);
        short_key(&self.buf)
    }

    /// Attribute set key (`attr_set_key`): the promotion level of the owners and the set's attributes.
    pub fn attr_set(&mut self, level: crate::schema::PromotionLevel, attributes: &[&KeyValue]) -> i64 {
        self.buf.clear();
        put_str(&mut self.buf, "ollyscale.attribute_set.v1");
        self.buf.push(level as u8);
        put_sorted_attributes(&mut self.buf, attributes);
        short_key(&self.buf)
    }
}

/// The first 8 bytes of the blake3 hash of `canonical`, as a little-endian i64: a key the writer can stamp
/// on records without a lookup.
fn short_key(canonical: &[u8]) -> i64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&blake3::hash(canonical).as_bytes()[..8]);
    i64::from_le_bytes(first)
}

/// The canonical attribute list: sorted by key, a repeated key keeping its last occurrence.
pub fn canonical_attributes<'a>(attributes: &[&'a KeyValue]) -> Vec<&'a KeyValue> {
    let mut sorted: Vec<&KeyValue> = attributes.to_vec();
    // Stable, so equal keys keep their order and the last one is the one kept.
    sorted.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    let mut out: Vec<&KeyValue> = Vec::with_capacity(sorted.len());
    for kv in sorted {
        match out.last_mut() {
            Some(last) if last.key == kv.key => *last = kv,
            _ => out.push(kv),
        }
    }
    out
}

fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_bytes(buf, s.as_bytes());
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_u64(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

fn put_sorted_attributes(buf: &mut Vec<u8>, attributes: &[&KeyValue]) {
    let canonical = canonical_attributes(attributes);
    put_u64(buf, canonical.len() as u64);
    for kv in canonical {
        put_str(buf, &kv.key);
        put_value(buf, kv.value.as_ref());
    }
}

fn put_value(buf: &mut Vec<u8>, value: Option<&AnyValue>) {
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => buf.push(0),
        Some(Value::StringValue(s)) => {
            buf.push(1);
            put_str(buf, s);
        }
        Some(Value::BoolValue(b)) => {
            buf.push(2);
            buf.push(u8::from(*b));
        }
        Some(Value::IntValue(i)) => {
            buf.push(3);
            buf.extend_from_slice(&i.to_le_bytes());
        }
        Some(Value::DoubleValue(d)) => {
            buf.push(4);
            let bits = if d.is_nan() { CANONICAL_NAN } else { d.to_bits() };
            put_u64(buf, bits);
        }
        Some(Value::BytesValue(b)) => {
            buf.push(5);
            put_bytes(buf, b);
        }
        Some(Value::ArrayValue(a)) => {
            buf.push(6);
            put_u64(buf, a.values.len() as u64);
            for v in &a.values {
                put_value(buf, Some(v));
            }
        }
        Some(Value::KvlistValue(kv)) => {
            buf.push(7);
            let refs: Vec<&KeyValue> = kv.values.iter().collect();
            put_sorted_attributes(buf, &refs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn kv(k: &str, v: Value) -> KeyValue {
        KeyValue { key: k.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
    }
    fn res(attrs: &[KeyValue], url: &str) -> Hash {
        let refs: Vec<&KeyValue> = attrs.iter().collect();
        IdentityHasher::new().resource(&refs, url)
    }

    #[test]
    fn attribute_order_does_not_matter() {
        let a = [
            kv("service.name", Value::StringValue("api".into())),
            kv("host.name", Value::StringValue("h1".into())),
            kv("n", Value::IntValue(3)),
        ];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(res(&a, ""), res(&b, ""));
    }

    #[test]
    fn nested_kvlist_order_does_not_matter() {
        let inner = |order: bool| {
            let mut vs = vec![kv("x", Value::IntValue(1)), kv("y", Value::BoolValue(true))];
            if order {
                vs.reverse();
            }
            Value::KvlistValue(KeyValueList { values: vs })
        };
        assert_eq!(res(&[kv("k", inner(true))], ""), res(&[kv("k", inner(false))], ""));
        // Array order does matter.
        let arr = |vs: Vec<i64>| {
            Value::ArrayValue(ArrayValue {
                values: vs.into_iter().map(|i| AnyValue { value: Some(Value::IntValue(i)) }).collect(),
            })
        };
        assert_ne!(res(&[kv("k", arr(vec![1, 2]))], ""), res(&[kv("k", arr(vec![2, 1]))], ""));
    }

    #[test]
    fn changed_value_type_or_schema_gives_a_new_hash() {
        let base = res(&[kv("a", Value::IntValue(1))], "");
        assert_ne!(base, res(&[kv("a", Value::IntValue(2))], ""));
        assert_ne!(base, res(&[kv("a", Value::DoubleValue(1.0))], ""));
        assert_ne!(base, res(&[kv("a", Value::StringValue("1".into()))], ""));
        assert_ne!(base, res(&[kv("b", Value::IntValue(1))], ""));
        assert_ne!(base, res(&[kv("a", Value::IntValue(1))], "https://opentelemetry.io/schemas/1.26.0"));
        assert_ne!(base, res(&[], ""));
        assert_eq!(base, res(&[kv("a", Value::IntValue(1))], ""));
    }

    #[test]
    fn strings_are_length_prefixed() {
        assert_ne!(
            res(&[kv("ab", Value::StringValue("c".into()))], ""),
            res(&[kv("a", Value::StringValue("bc".into()))], "")
        );
        let mut h = IdentityHasher::new();
        assert_ne!(h.scope("ab", "c", &[], ""), h.scope("a", "bc", &[], ""));
        assert_ne!(h.scope("", "", &[], "x"), h.scope("", "x", &[], ""));
    }

    #[test]
    fn resource_and_scope_domains_differ() {
        let mut h = IdentityHasher::new();
        assert_ne!(h.resource(&[], ""), h.scope("", "", &[], ""));
    }

    #[test]
    fn repeated_key_keeps_the_last_value() {
        let dup = [kv("a", Value::IntValue(1)), kv("a", Value::IntValue(2))];
        assert_eq!(res(&dup, ""), res(&[kv("a", Value::IntValue(2))], ""));
    }

    #[test]
    fn nan_payloads_share_one_identity() {
        let other_nan = f64::from_bits(0x7ff8_0000_0000_0001);
        assert!(other_nan.is_nan());
        assert_eq!(
            res(&[kv("a", Value::DoubleValue(f64::NAN))], ""),
            res(&[kv("a", Value::DoubleValue(other_nan))], "")
        );
        assert_ne!(res(&[kv("a", Value::DoubleValue(0.0))], ""), res(&[kv("a", Value::DoubleValue(-0.0))], ""));
    }

    #[test]
    fn metric_identity_covers_every_descriptive_field() {
        let mut h = IdentityHasher::new();
        let base = h.metric("m", 2, "s", "d", Some(2), Some(true), &[]);
        assert_eq!(base, h.metric("m", 2, "s", "d", Some(2), Some(true), &[]));
        assert_ne!(base, h.metric("m", 1, "s", "d", Some(2), Some(true), &[]));
        assert_ne!(base, h.metric("m", 2, "ms", "d", Some(2), Some(true), &[]));
        assert_ne!(base, h.metric("m", 2, "s", "", Some(2), Some(true), &[]));
        assert_ne!(base, h.metric("m", 2, "s", "d", Some(1), Some(true), &[]));
        assert_ne!(base, h.metric("m", 2, "s", "d", None, Some(true), &[]));
        assert_ne!(base, h.metric("m", 2, "s", "d", Some(2), Some(false), &[]));
        assert_ne!(base, h.metric("m", 2, "s", "d", Some(2), None, &[]));
        let meta = kv("k", Value::StringValue("v".into()));
        assert_ne!(base, h.metric("m", 2, "s", "d", Some(2), Some(true), &[&meta]));
    }

    #[test]
    fn series_key_is_the_metric_resource_and_attribute_set() {
        let mut h = IdentityHasher::new();
        let (a, b) = (kv("a", Value::StringValue("1".into())), kv("b", Value::IntValue(1)));
        let base = h.series(7, 9, &[&a, &b]);
        assert_eq!(base, h.series(7, 9, &[&b, &a]));
        assert_ne!(base, h.series(8, 9, &[&a, &b]));
        assert_ne!(base, h.series(7, 8, &[&a, &b]));
        assert_ne!(base, h.series(7, 9, &[&a]));
        let typed = kv("b", Value::StringValue("1".into()));
        assert_ne!(base, h.series(7, 9, &[&a, &typed]));
        assert_ne!(h.series(7, 9, &[]), h.series(9, 7, &[]));
    }

    #[test]
    fn attribute_set_key_is_the_level_and_the_attribute_set() {
        use crate::schema::PromotionLevel::{Log, Span};
        let mut h = IdentityHasher::new();
        let (a, b) = (kv("a", Value::StringValue("1".into())), kv("b", Value::IntValue(1)));
        let base = h.attr_set(Span, &[&a, &b]);
        assert_eq!(base, h.attr_set(Span, &[&b, &a]));
        assert_ne!(base, h.attr_set(Log, &[&a, &b]));
        assert_ne!(base, h.attr_set(Span, &[&a]));
        let typed = kv("b", Value::StringValue("1".into()));
        assert_ne!(base, h.attr_set(Span, &[&a, &typed]));
    }
}
