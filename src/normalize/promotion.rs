//! Attribute promotion: which attribute keys go to the typed, indexed tables at each level, and which keys
//! are dropped everywhere. Read from a TOML file; the defaults ship embedded (`default_promotion.toml`).
//!
//! Rules, for a key at a level:
//! 1. a key matching `drop` (exact or prefix pattern) is removed, whatever else is configured;
//! 2. if the key is listed exactly at that level (under any type), those exact entries alone decide;
//! 3. else the longest prefix pattern listed at that level decides (the union of the types it is listed under);
//! 4. the value is promoted if its type (or `any`) was chosen, else it goes to `_other`. Arrays, kvlists and
//!    empty values always go to `_other`;
//! 5. at the levels with attribute sets (span and log record), a promoted value joins the record's
//!    deduplicated attribute set, unless the key matches the level's `high_cardinality` list (exact or
//!    prefix): then it stays on the record's own row with the unpromoted ones. A set per distinct value
//!    would not deduplicate, so keys whose values are nearly unique per record (URLs, statements, messages,
//!    ids) belong on that list. At the other levels a promoted value is one typed row per owner.
//!
//! A lookup is one hash probe for exactly listed keys and a scan of the (short) prefix list otherwise;
//! callers that see the same key many times cache the [`KeyRule`] (see `super::attrs`).

use crate::schema::{PromotionLevel, ValueType};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use toml::Spanned;

/// The promotion bit of a value type.
fn bit(t: ValueType) -> u8 {
    1 << (t as u8)
}

/// Number of promotion levels: the length of the per-level arrays.
const LEVELS: usize = PromotionLevel::ALL.len();

const ANY_MASK: u8 = 0b1_1111;

/// Where one attribute goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Removed (the key matches `drop`).
    Drop,
    /// Part of the record's deduplicated attribute set (`otel_attribute_sets`), typed as this type.
    Set(ValueType),
    /// Stored in the typed table of this type, one row per owner (levels without attribute sets).
    Typed(ValueType),
    /// Stored in the owner's typed JSON object of everything else: the level's `_other` table, or at the
    /// levels with attribute sets the record's own `attributes` column.
    Other,
}

/// The resolved rule of one key at every level: whether it is dropped, and per level the promoted types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyRule {
    drop: bool,
    masks: [u8; LEVELS],
    /// A bit per level at which the key is listed as high-cardinality.
    high_cardinality: u8,
}

impl KeyRule {
    /// Where a value of this key goes at `level`.
    #[inline]
    pub fn decide(&self, level: PromotionLevel, value: Option<&Value>) -> Decision {
        if self.drop {
            return Decision::Drop;
        }
        match ValueType::of(value) {
            Some(t) if self.masks[level as usize] & bit(t) != 0 => {
                if !level.has_attribute_sets() {
                    Decision::Typed(t)
                } else if self.high_cardinality & (1 << level as u8) == 0 {
                    Decision::Set(t)
                } else {
                    Decision::Other
                }
            }
            _ => Decision::Other,
        }
    }

    /// Whether the key is dropped everywhere.
    pub fn is_dropped(&self) -> bool {
        self.drop
    }
}

/// Why a promotion config was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromotionError {
    /// The file could not be read.
    #[error("cannot read promotion config {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The content is invalid; `line` is 1-based.
    #[error("{source_name} line {line}: {reason}")]
    Invalid {
        /// The file path, or "promotion config" for text.
        source_name: String,
        /// 1-based line of the problem (1 when the parser gave no position).
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The parsed promotion config, ready for lookups.
#[derive(Debug, Clone, Default)]
pub struct Promotion {
    /// Keys listed exactly somewhere (a level list or `drop`), with their fully resolved rule.
    exact: HashMap<String, KeyRule>,
    /// Prefix patterns (without the '*'), longest first, with the promoted types per level (None: not listed).
    prefixes: Vec<(String, [Option<u8>; LEVELS])>,
    /// Drop prefix patterns (without the '*').
    drop_prefixes: Vec<String>,
    /// `high_cardinality` keys listed exactly, with a bit per level.
    high_cardinality: HashMap<String, u8>,
    /// `high_cardinality` prefix patterns (without the '*'), with a bit per level.
    high_cardinality_prefixes: Vec<(String, u8)>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    drop: Vec<Spanned<String>>,
    resource: Option<LevelConfig>,
    scope: Option<LevelConfig>,
    log: Option<LevelConfig>,
    span: Option<LevelConfig>,
    span_event: Option<LevelConfig>,
    span_link: Option<LevelConfig>,
    data_point: Option<LevelConfig>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LevelConfig {
    #[serde(default)]
    string: Vec<Spanned<String>>,
    #[serde(default)]
    int: Vec<Spanned<String>>,
    #[serde(default)]
    double: Vec<Spanned<String>>,
    #[serde(default)]
    bool: Vec<Spanned<String>>,
    #[serde(default)]
    bytes: Vec<Spanned<String>>,
    #[serde(default)]
    any: Vec<Spanned<String>>,
    #[serde(default)]
    high_cardinality: Vec<Spanned<String>>,
}

const DEFAULT_TOML: &str = include_str!("default_promotion.toml");

/// 1-based line of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

enum Pattern<'a> {
    Exact(&'a str),
    Prefix(&'a str),
}

fn parse_pattern(p: &str) -> Result<Pattern<'_>, String> {
    if p.is_empty() {
        return Err("empty key pattern".into());
    }
    match p.find('*') {
        None => Ok(Pattern::Exact(p)),
        Some(i) if i == p.len() - 1 => Ok(Pattern::Prefix(&p[..i])),
        Some(_) => Err(format!(
            "invalid key pattern {p:?}: '*' is allowed only once, at the end (a prefix pattern such as \"http.*\")"
        )),
    }
}

impl Promotion {
    /// The shipped defaults (the embedded `default_promotion.toml`).
    pub fn defaults() -> Promotion {
        // The embedded file is part of the program and a unit test parses it.
        Promotion::from_toml_str(DEFAULT_TOML)
            .unwrap_or_else(|e| panic!("embedded default_promotion.toml is invalid: {e}"))
    }

    /// The text of the shipped defaults, e.g. to write out as a starting point.
    pub fn default_toml() -> &'static str {
        DEFAULT_TOML
    }

    /// A config that promotes nothing and drops nothing: every attribute goes to `_other`.
    pub fn empty() -> Promotion {
        Promotion::default()
    }

    /// Reads and parses a config file; errors name the file and line.
    pub fn from_file(path: &Path) -> Result<Promotion, PromotionError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PromotionError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        Promotion::parse(&text, &path.display().to_string())
    }

    /// Parses config text; errors name the line.
    pub fn from_toml_str(text: &str) -> Result<Promotion, PromotionError> {
        Promotion::parse(text, "promotion config")
    }

    fn parse(text: &str, source_name: &str) -> Result<Promotion, PromotionError> {
        let invalid = |offset: Option<usize>, reason: String| PromotionError::Invalid {
            source_name: source_name.to_string(),
            line: offset.map_or(1, |o| line_of(text, o)),
            reason,
        };
        let file: FileConfig =
            toml::from_str(text).map_err(|e| invalid(e.span().map(|s| s.start), e.message().to_string()))?;

        let mut exact_masks: HashMap<String, [Option<u8>; LEVELS]> = HashMap::new();
        let mut exact_drop: HashMap<String, ()> = HashMap::new();
        let mut prefix_masks: HashMap<String, [Option<u8>; LEVELS]> = HashMap::new();
        let mut drop_prefixes = Vec::new();

        for p in &file.drop {
            match parse_pattern(p.get_ref()).map_err(|r| invalid(Some(p.span().start), r))? {
                Pattern::Exact(k) => {
                    exact_drop.insert(k.to_string(), ());
                }
                Pattern::Prefix(k) => drop_prefixes.push(k.to_string()),
            }
        }
        let levels =
            [&file.resource, &file.scope, &file.log, &file.span, &file.span_event, &file.span_link, &file.data_point];
        let mut high_cardinality: HashMap<String, u8> = HashMap::new();
        let mut high_cardinality_prefixes: HashMap<String, u8> = HashMap::new();
        for (level, config) in levels.into_iter().enumerate() {
            let Some(config) = config else { continue };
            if let Some(p) = config.high_cardinality.first()
                && !PromotionLevel::ALL[level].has_attribute_sets()
            {
                let with_sets: Vec<&str> =
                    PromotionLevel::ALL.iter().filter(|l| l.has_attribute_sets()).map(|l| l.name()).collect();
                return Err(invalid(
                    Some(p.span().start),
                    format!(
                        "high_cardinality is only meaningful at the levels with attribute sets ({}), not at {}",
                        with_sets.join(", "),
                        PromotionLevel::ALL[level].name()
                    ),
                ));
            }
            for p in &config.high_cardinality {
                let (map, key) = match parse_pattern(p.get_ref()).map_err(|r| invalid(Some(p.span().start), r))? {
                    Pattern::Exact(k) => (&mut high_cardinality, k),
                    Pattern::Prefix(k) => (&mut high_cardinality_prefixes, k),
                };
                *map.entry(key.to_string()).or_default() |= 1 << level;
            }
            let lists = [
                (&config.string, bit(ValueType::String)),
                (&config.int, bit(ValueType::Int)),
                (&config.double, bit(ValueType::Double)),
                (&config.bool, bit(ValueType::Bool)),
                (&config.bytes, bit(ValueType::Bytes)),
                (&config.any, ANY_MASK),
            ];
            for (list, bits) in lists {
                for p in list {
                    let pattern = parse_pattern(p.get_ref()).map_err(|r| invalid(Some(p.span().start), r))?;
                    let (map, key) = match pattern {
                        Pattern::Exact(k) => (&mut exact_masks, k),
                        Pattern::Prefix(k) => (&mut prefix_masks, k),
                    };
                    let masks = map.entry(key.to_string()).or_default();
                    *masks[level].get_or_insert(0) |= bits;
                }
            }
        }

        let mut prefixes: Vec<(String, [Option<u8>; LEVELS])> = prefix_masks.into_iter().collect();
        prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let mut promotion = Promotion {
            exact: HashMap::new(),
            prefixes,
            drop_prefixes,
            high_cardinality,
            high_cardinality_prefixes: high_cardinality_prefixes.into_iter().collect(),
        };
        let mut exact = HashMap::new();
        for key in exact_masks.keys().chain(exact_drop.keys()) {
            let mut rule = promotion.prefix_rule(key);
            if let Some(masks) = exact_masks.get(key) {
                for (level, m) in masks.iter().enumerate() {
                    if let Some(m) = m {
                        rule.masks[level] = *m;
                    }
                }
            }
            rule.drop |= exact_drop.contains_key(key);
            exact.insert(key.clone(), rule);
        }
        promotion.exact = exact;
        Ok(promotion)
    }

    /// The rule from prefix patterns only.
    fn prefix_rule(&self, key: &str) -> KeyRule {
        let high_cardinality = self.high_cardinality.get(key).copied().unwrap_or(0)
            | self
                .high_cardinality_prefixes
                .iter()
                .filter(|(p, _)| key.starts_with(p.as_str()))
                .fold(0, |acc, (_, bits)| acc | bits);
        let mut rule = KeyRule {
            drop: self.drop_prefixes.iter().any(|p| key.starts_with(p.as_str())),
            masks: [0; LEVELS],
            high_cardinality,
        };
        let mut decided = [false; LEVELS];
        for (prefix, masks) in &self.prefixes {
            if !key.starts_with(prefix.as_str()) {
                continue;
            }
            for level in 0..LEVELS {
                if let (false, Some(m)) = (decided[level], masks[level]) {
                    rule.masks[level] = m;
                    decided[level] = true;
                }
            }
        }
        rule
    }

    /// The resolved rule of a key at every level.
    pub fn rule(&self, key: &str) -> KeyRule {
        match self.exact.get(key) {
            Some(rule) => *rule,
            None => self.prefix_rule(key),
        }
    }

    /// Where a value of `key` goes at `level`.
    pub fn decide(&self, level: PromotionLevel, key: &str, value: Option<&Value>) -> Decision {
        self.rule(key).decide(level, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Value {
        Value::StringValue(s.into())
    }

    #[test]
    fn defaults_load_and_cover_the_semantic_conventions() {
        let p = Promotion::defaults();
        let typed_string = Decision::Typed(ValueType::String);
        for key in [
            "service.name",
            "service.namespace",
            "deployment.environment",
            "deployment.environment.name",
            "k8s.pod.name",
            "cloud.region",
            "host.name",
        ] {
            assert_eq!(p.decide(PromotionLevel::Resource, key, Some(&string("x"))), typed_string, "{key}");
        }
        for key in [
            "http.request.method",
            "http.route",
            "db.system",
            "rpc.method",
            "messaging.system",
            "exception.type",
            "error.type",
            "gen_ai.operation.name",
        ] {
            assert_eq!(
                p.decide(PromotionLevel::Span, key, Some(&string("x"))),
                Decision::Set(ValueType::String),
                "{key}"
            );
        }
        assert_eq!(
            p.decide(PromotionLevel::Span, "http.response.status_code", Some(&Value::IntValue(200))),
            Decision::Set(ValueType::Int)
        );
        // Values nearly unique per span stay on the span's row, out of its set.
        for key in ["url.full", "url.path", "db.query.text", "db.statement", "exception.message", "client.address"] {
            assert_eq!(p.decide(PromotionLevel::Span, key, Some(&string("x"))), Decision::Other, "{key}");
            assert_eq!(p.decide(PromotionLevel::Log, key, Some(&string("x"))), Decision::Other, "{key}");
        }
        for key in ["http.response.body.size", "network.peer.port", "gen_ai.usage.input_tokens", "thread.id"] {
            assert_eq!(p.decide(PromotionLevel::Span, key, Some(&Value::IntValue(1))), Decision::Other, "{key}");
        }
        assert_eq!(p.decide(PromotionLevel::SpanEvent, "exception.message", Some(&string("boom"))), typed_string);
        assert_eq!(p.decide(PromotionLevel::DataPoint, "http.request.method", Some(&string("GET"))), typed_string);
        assert_eq!(p.decide(PromotionLevel::Span, "my.custom", Some(&string("x"))), Decision::Other);
        assert_eq!(Promotion::default_toml(), DEFAULT_TOML);
    }

    #[test]
    fn custom_config_loads_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("promotion.toml");
        std::fs::write(&path, "[log]\nstring = [\"app.user\"]\n").unwrap();
        let p = Promotion::from_file(&path).unwrap();
        assert_eq!(p.decide(PromotionLevel::Log, "app.user", Some(&string("u"))), Decision::Set(ValueType::String));
        // Only what the file lists: defaults are not merged in.
        assert_eq!(p.decide(PromotionLevel::Span, "http.request.method", Some(&string("GET"))), Decision::Other);
        let missing = Promotion::from_file(&dir.path().join("nope.toml")).unwrap_err();
        assert!(matches!(missing, PromotionError::Read { .. }), "{missing}");
        assert!(missing.to_string().contains("nope.toml"));
    }

    #[test]
    fn invalid_toml_names_the_line() {
        let err = Promotion::from_toml_str("[span]\nstring = [\"a\",\n\nint = 3\n").unwrap_err();
        let PromotionError::Invalid { line, .. } = &err else { panic!("{err}") };
        assert!(*line >= 2, "{err}");
        assert!(err.to_string().starts_with("promotion config line"), "{err}");
    }

    #[test]
    fn unknown_level_is_an_error_naming_the_line() {
        let err = Promotion::from_toml_str("drop = []\n\n[spans]\nstring = [\"a\"]\n").unwrap_err();
        assert!(matches!(&err, PromotionError::Invalid { line: 3, reason, .. } if reason.contains("spans")), "{err}");
    }

    #[test]
    fn unknown_type_or_field_is_an_error_naming_the_line() {
        let err = Promotion::from_toml_str("[span]\nstring = []\nfloat = [\"a\"]\n").unwrap_err();
        assert!(matches!(&err, PromotionError::Invalid { line: 3, reason, .. } if reason.contains("float")), "{err}");
        let err = Promotion::from_toml_str("[span]\nstring = \"a\"\n").unwrap_err();
        assert!(matches!(&err, PromotionError::Invalid { line: 2, .. }), "{err}");
    }

    #[test]
    fn bad_pattern_is_an_error_naming_the_line() {
        for bad in ["\"http.*.method\"", "\"\"", "\"**\"", "\"*a\""] {
            let text = format!("[span]\nstring = [\n  \"ok\",\n  {bad},\n]\n");
            let err = Promotion::from_toml_str(&text).unwrap_err();
            assert!(matches!(&err, PromotionError::Invalid { line: 4, .. }), "{bad}: {err}");
        }
        let err = Promotion::from_toml_str("drop = [\"a*b\"]\n").unwrap_err();
        assert!(matches!(&err, PromotionError::Invalid { line: 1, .. }), "{err}");
    }

    #[test]
    fn lookup_is_per_level_and_per_type() {
        let p = Promotion::from_toml_str(
            "[span]\nint = [\"n\"]\nbool = [\"b\"]\ndouble = [\"d\"]\nbytes = [\"y\"]\nstring = [\"s\"]\n[log]\nstring = [\"n\"]\n",
        )
        .unwrap();
        assert_eq!(p.decide(PromotionLevel::Span, "n", Some(&Value::IntValue(1))), Decision::Set(ValueType::Int));
        assert_eq!(p.decide(PromotionLevel::Log, "n", Some(&string("1"))), Decision::Set(ValueType::String));
        assert_eq!(p.decide(PromotionLevel::Log, "n", Some(&Value::IntValue(1))), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Resource, "n", Some(&Value::IntValue(1))), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "b", Some(&Value::BoolValue(true))), Decision::Set(ValueType::Bool));
        assert_eq!(
            p.decide(PromotionLevel::Span, "d", Some(&Value::DoubleValue(1.0))),
            Decision::Set(ValueType::Double)
        );
        assert_eq!(
            p.decide(PromotionLevel::Span, "y", Some(&Value::BytesValue(vec![1]))),
            Decision::Set(ValueType::Bytes)
        );
        assert_eq!(p.decide(PromotionLevel::Span, "s", Some(&string(""))), Decision::Set(ValueType::String));
    }

    #[test]
    fn wildcard_matches_prefixes_and_any_matches_every_scalar() {
        let p = Promotion::from_toml_str("[span]\nstring = [\"http.*\"]\n[resource]\nany = [\"k8s.*\"]\n").unwrap();
        assert_eq!(p.decide(PromotionLevel::Span, "http.route", Some(&string("/"))), Decision::Set(ValueType::String));
        assert_eq!(p.decide(PromotionLevel::Span, "http", Some(&string("/"))), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "https.x", Some(&string("/"))), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "xhttp.route", Some(&string("/"))), Decision::Other);
        for (v, t) in [
            (string("a"), ValueType::String),
            (Value::IntValue(1), ValueType::Int),
            (Value::DoubleValue(1.0), ValueType::Double),
            (Value::BoolValue(true), ValueType::Bool),
            (Value::BytesValue(vec![]), ValueType::Bytes),
        ] {
            assert_eq!(p.decide(PromotionLevel::Resource, "k8s.pod.uid", Some(&v)), Decision::Typed(t));
        }
        // "*" alone promotes every key.
        let all = Promotion::from_toml_str("[log]\nstring = [\"*\"]\n").unwrap();
        assert_eq!(all.decide(PromotionLevel::Log, "anything", Some(&string("a"))), Decision::Set(ValueType::String));
    }

    #[test]
    fn exact_key_beats_wildcard_and_longest_prefix_wins() {
        let p = Promotion::from_toml_str(
            "[span]\nstring = [\"http.*\"]\nint = [\"http.response.status_code\", \"http.request.*\"]\n",
        )
        .unwrap();
        let code = "http.response.status_code";
        assert_eq!(p.decide(PromotionLevel::Span, code, Some(&Value::IntValue(200))), Decision::Set(ValueType::Int));
        // The exact entry says int: a string status code is a type mismatch, not a string promotion.
        assert_eq!(p.decide(PromotionLevel::Span, code, Some(&string("200"))), Decision::Other);
        assert_eq!(
            p.decide(PromotionLevel::Span, "http.request.body.size", Some(&Value::IntValue(1))),
            Decision::Set(ValueType::Int)
        );
        assert_eq!(p.decide(PromotionLevel::Span, "http.request.method", Some(&string("GET"))), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "http.route", Some(&string("/"))), Decision::Set(ValueType::String));
    }

    #[test]
    fn drop_list_removes_keys_everywhere_and_beats_promotion() {
        let p = Promotion::from_toml_str(
            "drop = [\"auth.token\", \"secret.*\"]\n[span]\nstring = [\"auth.token\", \"secret.*\", \"secret.public\"]\n",
        )
        .unwrap();
        for level in PromotionLevel::ALL {
            assert_eq!(p.decide(level, "auth.token", Some(&string("t"))), Decision::Drop);
            assert_eq!(p.decide(level, "secret.key", Some(&Value::IntValue(1))), Decision::Drop);
            assert_eq!(p.decide(level, "secret.public", None), Decision::Drop);
        }
        assert!(p.rule("secret.x").is_dropped());
        assert!(!p.rule("auth.tokens").is_dropped());
        assert_eq!(p.decide(PromotionLevel::Log, "auth.tokens", Some(&string("t"))), Decision::Other);
    }

    #[test]
    fn type_mismatch_arrays_kvlists_and_empty_values_go_to_other() {
        use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
        let p = Promotion::from_toml_str("[span]\nany = [\"k\"]\nstring = [\"s\"]\n").unwrap();
        assert_eq!(p.decide(PromotionLevel::Span, "s", Some(&Value::IntValue(1))), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "s", Some(&Value::BoolValue(true))), Decision::Other);
        let array = Value::ArrayValue(ArrayValue::default());
        let kvlist = Value::KvlistValue(KeyValueList::default());
        assert_eq!(p.decide(PromotionLevel::Span, "k", Some(&array)), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "k", Some(&kvlist)), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "k", None), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "k", Some(&Value::StringValueStrindex(1))), Decision::Other);
    }

    #[test]
    fn empty_config_promotes_nothing() {
        for p in [Promotion::from_toml_str("").unwrap(), Promotion::empty()] {
            for level in PromotionLevel::ALL {
                assert_eq!(p.decide(level, "service.name", Some(&string("a"))), Decision::Other);
            }
        }
        // Empty level tables are valid too.
        let p = Promotion::from_toml_str("drop = []\n[resource]\n[span]\nstring = []\n").unwrap();
        assert_eq!(p.decide(PromotionLevel::Span, "a", Some(&string("a"))), Decision::Other);
    }

    #[test]
    fn same_key_under_two_types_promotes_both() {
        let p = Promotion::from_toml_str("[data_point]\nstring = [\"code\"]\nint = [\"code\"]\n").unwrap();
        assert_eq!(p.decide(PromotionLevel::DataPoint, "code", Some(&string("a"))), Decision::Typed(ValueType::String));
        assert_eq!(
            p.decide(PromotionLevel::DataPoint, "code", Some(&Value::IntValue(1))),
            Decision::Typed(ValueType::Int)
        );
        assert_eq!(p.decide(PromotionLevel::DataPoint, "code", Some(&Value::DoubleValue(1.0))), Decision::Other);
    }

    #[test]
    fn high_cardinality_keys_stay_on_the_record_at_the_levels_with_sets() {
        let p = Promotion::from_toml_str(
            "[span]\nstring = [\"http.*\"]\nhigh_cardinality = [\"http.url\", \"http.request.header.*\"]\n\
             [log]\nstring = [\"http.*\"]\n[span_event]\nstring = [\"http.*\"]\n",
        )
        .unwrap();
        let get = Some(&Value::StringValue("GET".into()));
        assert_eq!(p.decide(PromotionLevel::Span, "http.method", get), Decision::Set(ValueType::String));
        assert_eq!(p.decide(PromotionLevel::Span, "http.url", get), Decision::Other);
        assert_eq!(p.decide(PromotionLevel::Span, "http.request.header.x", get), Decision::Other);
        // The list is per level: the log level has none, and events have no sets.
        assert_eq!(p.decide(PromotionLevel::Log, "http.url", get), Decision::Set(ValueType::String));
        assert_eq!(p.decide(PromotionLevel::SpanEvent, "http.method", get), Decision::Typed(ValueType::String));
        // An unpromoted high-cardinality key is unpromoted.
        assert_eq!(p.decide(PromotionLevel::Span, "http.url", Some(&Value::IntValue(1))), Decision::Other);
    }

    #[test]
    fn high_cardinality_at_a_level_without_sets_is_an_error_naming_the_line() {
        let err = Promotion::from_toml_str("[resource]\nstring = [\"a\"]\nhigh_cardinality = [\"a\"]\n").unwrap_err();
        assert!(
            matches!(&err, PromotionError::Invalid { line: 3, reason, .. } if reason.contains("span, log") || reason.contains("log, span")),
            "{err}"
        );
    }
}
