//! Attribute rows: promotion decisions cached per key, typed rows and the one `_other` JSONB row per owner,
//! or at the levels that have sets the owner's attribute set and the JSON object of its own row.

use super::anyvalue::write_member;
use super::copy::CopyWriter;
use super::dimensions::AttrSetDim;
use super::encode::EncodeError;
use super::identity::{IdentityHasher, canonical_attributes};
use super::promotion::{Decision, KeyRule, Promotion};
use super::tables::{OTHER, TableSet, attr_table};
use crate::schema::{AttrLevel, PromotionLevel};
use crate::time::PgTime;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use std::collections::HashMap;

/// Promotion rules looked up once per distinct key of a request (the keys borrow from the request), each
/// with what was already reported of the key: promoted (anywhere), and the levels it went to `_other` at
/// (a bit per [`PromotionLevel`]).
pub(crate) struct RuleCache<'a> {
    promotion: &'a Promotion,
    rules: HashMap<&'a str, (KeyRule, bool, u8)>,
}

impl<'a> RuleCache<'a> {
    pub fn new(promotion: &'a Promotion) -> Self {
        RuleCache { promotion, rules: HashMap::new() }
    }

    #[inline]
    fn entry(&mut self, key: &'a str) -> &mut (KeyRule, bool, u8) {
        let promotion = self.promotion;
        self.rules.entry(key).or_insert_with(|| (promotion.rule(key), false, 0))
    }

    /// The attributes that are not dropped.
    pub fn kept(&mut self, attrs: &'a [KeyValue]) -> Vec<&'a KeyValue> {
        attrs.iter().filter(|kv| !self.entry(&kv.key).0.is_dropped()).collect()
    }

    /// Adds to `promoted` every key of `attrs` that goes to a typed table at `level`, and to `other` every
    /// (level, key) of `attrs` that goes to `_other`, each once.
    pub fn collect_keys(
        &mut self,
        level: PromotionLevel,
        attrs: &'a [KeyValue],
        promoted: &mut Vec<&'a str>,
        other: &mut Vec<(PromotionLevel, &'a str)>,
    ) {
        let bit = 1u8 << (level as u8);
        for kv in attrs {
            let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
            let entry = self.entry(&kv.key);
            match entry.0.decide(level, value) {
                // Set members are stored by key text in the set's JSON: they need no key_id.
                Decision::Typed(_) if !entry.1 => {
                    entry.1 = true;
                    promoted.push(&kv.key);
                }
                Decision::Other if entry.2 & bit == 0 => {
                    entry.2 |= bit;
                    other.push((level, &kv.key));
                }
                _ => {}
            }
        }
    }
}

/// Writes the attribute rows of owners, with a per-request cache of rules and key ids.
pub(crate) struct AttrEncoder<'a> {
    promotion: &'a Promotion,
    key_ids: &'a HashMap<String, i32>,
    cache: HashMap<&'a str, (KeyRule, Option<i32>)>,
    other: Vec<u8>,
    /// The current owner's attributes that go to its attribute set.
    set_members: Vec<&'a KeyValue>,
    hasher: IdentityHasher,
    /// The WAL record being encoded; `None` for dimension attributes.
    seq: Option<u64>,
}

impl<'a> AttrEncoder<'a> {
    pub fn new(promotion: &'a Promotion, key_ids: &'a HashMap<String, i32>, seq: Option<u64>) -> Self {
        AttrEncoder {
            promotion,
            key_ids,
            cache: HashMap::new(),
            other: Vec::new(),
            set_members: Vec::new(),
            hasher: IdentityHasher::new(),
            seq,
        }
    }

    #[inline]
    fn lookup(&mut self, key: &'a str) -> (KeyRule, Option<i32>) {
        let (promotion, key_ids) = (self.promotion, self.key_ids);
        *self.cache.entry(key).or_insert_with(|| (promotion.rule(key), key_ids.get(key).copied()))
    }

    /// Whether the promotion config drops `key` everywhere.
    pub fn is_dropped(&mut self, key: &'a str) -> bool {
        self.lookup(key).0.is_dropped()
    }

    /// The attributes that are not dropped.
    pub fn kept(&mut self, attrs: &'a [KeyValue]) -> Vec<&'a KeyValue> {
        attrs.iter().filter(|kv| !self.is_dropped(&kv.key)).collect()
    }

    /// Writes one owner's attributes. At the levels with attribute sets: its set (registered in `tables`, its
    /// key returned), and every other kept attribute kept for the owner's own row ([`Self::write_row_json`]).
    /// At the other levels: a row in a typed table per promoted attribute, and one `_other` row with every
    /// other kept attribute. `time` is the partition time column of partitioned levels, `None` for resource
    /// and scope.
    pub fn write(
        &mut self,
        tables: &mut TableSet,
        level: AttrLevel,
        owner: i64,
        time: Option<PgTime>,
        attrs: &'a [KeyValue],
    ) -> Result<Option<i64>, EncodeError> {
        self.other.clear();
        self.set_members.clear();
        if attrs.is_empty() {
            return Ok(None);
        }
        let with_time = time.is_some();
        let fields = if with_time { 4 } else { 3 };
        for kv in attrs {
            let (rule, key_id) = self.lookup(&kv.key);
            let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
            match rule.decide(level.promotion, value) {
                Decision::Drop => {}
                Decision::Set(_) => self.set_members.push(kv),
                Decision::Other => {
                    if !self.other.is_empty() {
                        self.other.push(b',');
                    }
                    write_member(&mut self.other, &kv.key, kv.value.as_ref());
                }
                Decision::Typed(t) => {
                    let Some(key_id) = key_id else {
                        let problem = format!("no key_id resolved for promoted attribute key {:?}", kv.key);
                        return Err(match self.seq {
                            Some(seq) => EncodeError::Record { seq, problem },
                            None => EncodeError::Dimension { problem },
                        });
                    };
                    let w = tables.w(attr_table(level, t as usize));
                    w.row(fields);
                    w.i64(owner);
                    if let Some(time) = time {
                        w.timestamptz(time);
                    }
                    w.i32(key_id);
                    match value {
                        Some(Value::StringValue(s)) => w.text(s),
                        Some(Value::IntValue(i)) => w.i64(*i),
                        Some(Value::DoubleValue(d)) => w.f64(*d),
                        Some(Value::BoolValue(b)) => w.bool(*b),
                        Some(Value::BytesValue(b)) => w.bytea(b),
                        // decide() returns Typed only for the five scalar cases above.
                        _ => w.null(),
                    }
                }
            }
        }
        if !self.other.is_empty() && level.sets.is_none() {
            let w = tables.w(attr_table(level, OTHER));
            w.row(fields - 1);
            w.i64(owner);
            if let Some(time) = time {
                w.timestamptz(time);
            }
            let other = &self.other;
            w.jsonb_with(|buf| {
                buf.push(b'{');
                buf.extend_from_slice(other);
                buf.push(b'}');
            });
        }
        Ok(self.register_set(tables, level))
    }

    /// Writes the `attributes` field of the record [`Self::write`] last wrote (at a level with attribute sets):
    /// its attributes outside the set as one typed JSON object, `{}` when it has none. Never NULL: NULL marks a
    /// record written before the column, whose attributes are in the typed and `_other` tables.
    pub fn write_row_json(&self, w: &mut CopyWriter) {
        w.jsonb_with(|buf| {
            buf.push(b'{');
            buf.extend_from_slice(&self.other);
            buf.push(b'}');
        });
    }

    /// The key of the current owner's attribute set, registering the set in `tables` on first sight; `None`
    /// when the owner has no set attribute.
    fn register_set(&mut self, tables: &mut TableSet, level: AttrLevel) -> Option<i64> {
        if self.set_members.is_empty() {
            return None;
        }
        let canonical = canonical_attributes(&self.set_members);
        let key = self.hasher.attr_set(level.promotion, &canonical);
        tables.attr_sets.entry(key).or_insert_with(|| {
            let mut json = vec![b'{'];
            for (i, kv) in canonical.iter().enumerate() {
                if i > 0 {
                    json.push(b',');
                }
                write_member(&mut json, &kv.key, kv.value.as_ref());
            }
            json.push(b'}');
            // write_member writes JSON text, which is UTF-8.
            AttrSetDim { key, level: level.promotion, attributes: String::from_utf8_lossy(&json).into_owned() }
        });
        Some(key)
    }
}
