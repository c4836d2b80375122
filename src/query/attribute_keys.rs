//! The `/attributes` endpoints: attribute keys seen per signal and level (for autocomplete), and the most
//! frequent values of a key.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use sqlx::{Postgres, QueryBuilder, Row};

use super::QueryState;
use super::error::ApiError;
use super::params::{self, Params, Window};
use crate::schema::attributes::{ATTR_SET_COLUMN, ATTR_SETS_TABLE};
use crate::schema::attributes::{
    EXP_HISTOGRAM_DP, HISTOGRAM_DP, LOG, NUMBER_DP, RESOURCE, SCOPE, SPAN, SPAN_EVENT, SPAN_LINK, SUMMARY_DP,
};
use crate::schema::{AttrLevel, ValueType, tables};

/// Parameters of both endpoints.
pub const PARAMS: &[&str] = &["signal", "level", "from", "to", "prefix", "limit"];
/// Default window: the last hour.
const DEFAULT_WINDOW: u64 = 3_600_000_000_000;
/// Records whose unpromoted attributes are read to list keys, per level.
const UNPROMOTED_SAMPLE: i64 = 20_000;

/// The attribute tables a (signal, level) pair reads, plus how resources are tied to the signal.
struct Target {
    signal: &'static str,
    level: &'static str,
    levels: Vec<AttrLevel>,
}

fn target(p: &Params) -> Result<Target, ApiError> {
    let signal = match p.required("signal")? {
        "traces" => "traces",
        "logs" => "logs",
        "metrics" => "metrics",
        other => {
            return Err(ApiError::bad("signal", format!("{other:?} is not traces, logs or metrics")));
        }
    };
    let level = p.one("level")?.unwrap_or("record");
    let (level, levels) = match (signal, level) {
        (_, "resource") => ("resource", vec![RESOURCE]),
        (_, "scope") => ("scope", vec![SCOPE]),
        ("traces", "record") => ("record", vec![SPAN]),
        ("traces", "event") => ("event", vec![SPAN_EVENT]),
        ("traces", "link") => ("link", vec![SPAN_LINK]),
        ("logs", "record") => ("record", vec![LOG]),
        ("metrics", "record") => ("record", vec![NUMBER_DP, HISTOGRAM_DP, EXP_HISTOGRAM_DP, SUMMARY_DP]),
        (_, other) => {
            return Err(ApiError::bad(
                "level",
                format!(
                    "{other:?} is not a level of {signal}: use record, resource or scope{}",
                    if signal == "traces" { ", event or link" } else { "" }
                ),
            ));
        }
    };
    Ok(Target { signal, level, levels })
}

fn window(p: &Params, st: &QueryState) -> Result<Window, ApiError> {
    Ok(match params::window(p, false, st.options.max_window_nanos)? {
        Some(w) => w,
        None => {
            let to = crate::time::now_unix_nanos();
            Window { from: to.saturating_sub(DEFAULT_WINDOW), to }
        }
    })
}

/// Restricts attribute rows (alias `alias`) to the window: by their time column, or for resources to those
/// with records of the signal in the window.
fn push_scope(qb: &mut QueryBuilder<Postgres>, t: &Target, level: &AttrLevel, alias: &str, w: &Window) {
    if let Some(col) = level.time {
        qb.push(format_args!(" AND {alias}.{col} >= "));
        qb.push_bind(w.from_ts());
        qb.push(format_args!(" AND {alias}.{col} < "));
        qb.push_bind(w.to_ts());
    } else if *level == RESOURCE {
        let fact = match t.signal {
            "traces" => Some(tables::SPANS),
            "logs" => Some(tables::LOGS),
            _ => None,
        };
        match fact.map(|f| (f.table, f.column)) {
            Some((table, col)) => {
                qb.push(format_args!(
                    " AND EXISTS (SELECT 1 FROM {table} f WHERE f.resource_id = {alias}.resource_id AND f.{col} >= "
                ));
                qb.push_bind(w.from_ts());
                qb.push(format_args!(" AND f.{col} < "));
                qb.push_bind(w.to_ts());
                qb.push(")");
            }
            // Data points are indexed by metric, not resource: use the resource's receive time instead.
            None => {
                qb.push(format_args!(
                    " AND {alias}.resource_id IN (SELECT resource_id FROM otel_resources_dim WHERE last_seen >= "
                ));
                qb.push_bind(w.from_ts());
                qb.push(")");
            }
        }
    }
}

/// Restricts attribute sets (alias `o`) to the level's sets that records of the window carry: one probe of
/// the fact's `(attr_set_key, time)` index per set.
fn push_used_sets(qb: &mut QueryBuilder<Postgres>, level: &AttrLevel, w: &Window) {
    let (Some(fact), Some(time)) = (level.sets, level.time) else {
        qb.push("FALSE");
        return;
    };
    qb.push(format_args!(
        "o.level = {} AND EXISTS (SELECT 1 FROM {fact} f WHERE f.{ATTR_SET_COLUMN} = o.set_key AND f.{time} >= ",
        level.promotion as i16
    ));
    qb.push_bind(w.from_ts());
    qb.push(format_args!(" AND f.{time} < "));
    qb.push_bind(w.to_ts());
    qb.push(")");
}

/// SQL naming the stored type of a typed-JSON value `v`.
const JSON_TYPE: &str = "CASE jsonb_typeof(v) WHEN 'string' THEN 'string' WHEN 'boolean' THEN 'bool' \
     WHEN 'number' THEN CASE WHEN v::text ~ '[.eE]' THEN 'double' ELSE 'int' END WHEN 'array' THEN 'array' \
     WHEN 'object' THEN (SELECT CASE k WHEN 'kvlist' THEN 'kvlist' WHEN 'bytes' THEN 'bytes' ELSE 'double' END \
     FROM jsonb_object_keys(v) k LIMIT 1) ELSE 'empty' END";

/// `GET /attributes?signal=...`: attribute keys seen in the window with their value types, by key.
pub async fn keys(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(PARAMS)?;
    let t = target(&p)?;
    let w = window(&p, &st)?;
    let prefix = p.one("prefix")?;
    let limit = params::limit(&p, st.options.max_limit, st.options.max_limit)?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT key, type FROM (");
    let mut first = true;
    for level in &t.levels {
        for ty in ValueType::ALL {
            if !first {
                qb.push(" UNION ");
            }
            first = false;
            qb.push(format_args!(
                "SELECT k.key, '{}' AS type FROM attribute_keys k WHERE EXISTS (SELECT 1 FROM {} a \
                 WHERE a.key_id = k.key_id",
                ty.suffix(),
                level.table(ty)
            ));
            push_scope(&mut qb, &t, level, "a", &w);
            qb.push(")");
        }
        // Unpromoted keys come from a bounded sample of the window's records: reading every JSON object of a
        // busy hour would take seconds, and autocomplete needs the common keys, not all of them.
        qb.push(format_args!(
            " UNION SELECT DISTINCT j.key, {JSON_TYPE} FROM (SELECT o.attributes FROM {} o WHERE TRUE",
            level.other_table()
        ));
        push_scope(&mut qb, &t, level, "o", &w);
        qb.push(" LIMIT ").push_bind(UNPROMOTED_SAMPLE);
        qb.push(") o, jsonb_each(o.attributes) AS j(key, v)");
        if let Some(fact) = level.sets {
            qb.push(format_args!(
                " UNION SELECT DISTINCT j.key, {JSON_TYPE} FROM {ATTR_SETS_TABLE} o, jsonb_each(o.attributes) AS j(key, v) \
                 WHERE "
            ));
            push_used_sets(&mut qb, level, &w);
            // The records' own JSON, sampled like `_other`.
            qb.push(format_args!(
                " UNION SELECT DISTINCT j.key, {JSON_TYPE} FROM (SELECT f.attributes FROM {fact} f \
                 WHERE f.attributes IS NOT NULL"
            ));
            push_scope(&mut qb, &t, level, "f", &w);
            qb.push(" LIMIT ").push_bind(UNPROMOTED_SAMPLE);
            qb.push(") o, jsonb_each(o.attributes) AS j(key, v)");
        }
    }
    qb.push(") x");
    if let Some(pfx) = prefix {
        qb.push(" WHERE starts_with(key, ").push_bind(pfx.to_owned()).push(")");
    }
    qb.push(" ORDER BY key, type");
    let mut tx = st.read_tx().await?;
    let rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in &rows {
        keys.entry(row.try_get("key")?).or_default().push(row.try_get("type")?);
    }
    let truncated = keys.len() > limit as usize;
    let out: Vec<Value> =
        keys.into_iter().take(limit as usize).map(|(key, types)| json!({"key": key, "types": types})).collect();
    Ok(Json(json!({"signal": t.signal, "level": t.level, "keys": out, "truncated": truncated})))
}

/// `GET /attributes/{key}/values?signal=...`: the key's most frequent values in the window, with counts.
pub async fn values(State(st): State<QueryState>, Path(key): Path<String>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(PARAMS)?;
    params::text("key", &key)?;
    let t = target(&p)?;
    let w = window(&p, &st)?;
    let prefix = p.one("prefix")?;
    let limit = params::limit(&p, st.options.default_limit, st.options.max_limit)?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT type, value, count(*) AS n FROM (");
    let mut first = true;
    for level in &t.levels {
        for ty in ValueType::ALL.into_iter().filter(|t| *t != ValueType::Bytes) {
            if !first {
                qb.push(" UNION ALL ");
            }
            first = false;
            let value = if ty == ValueType::String { "a.value" } else { "a.value::text" };
            qb.push(format_args!(
                "SELECT '{}' AS type, {value} AS value FROM {} a \
                 WHERE a.key_id = (SELECT key_id FROM attribute_keys WHERE key = ",
                ty.suffix(),
                level.table(ty)
            ));
            qb.push_bind(key.clone()).push(")");
            push_scope(&mut qb, &t, level, "a", &w);
        }
        // Unpromoted strings group with promoted ones; other unpromoted values stay typed JSON.
        qb.push(
            " UNION ALL SELECT CASE jsonb_typeof(v) WHEN 'string' THEN 'string' ELSE 'json' END, \
             CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}' ELSE v::text END \
             FROM (SELECT o.attributes -> ",
        );
        qb.push_bind(key.clone());
        qb.push(format_args!(" AS v FROM {} o WHERE ", level.other_table()));
        super::record_attributes::push_in_other(&mut qb, level, &key);
        qb.push(" AND o.attributes ? ");
        qb.push_bind(key.clone());
        push_scope(&mut qb, &t, level, "o", &w);
        qb.push(") j");
        if let Some(fact) = level.sets {
            qb.push(
                " UNION ALL SELECT CASE jsonb_typeof(v) WHEN 'string' THEN 'string' ELSE 'json' END, \
                 CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}' ELSE v::text END \
                 FROM (SELECT f.attributes -> ",
            );
            qb.push_bind(key.clone());
            qb.push(format_args!(" AS v FROM {fact} f WHERE "));
            super::record_attributes::push_in_other(&mut qb, level, &key);
            qb.push(" AND f.attributes ? ");
            qb.push_bind(key.clone());
            push_scope(&mut qb, &t, level, "f", &w);
            qb.push(") j");
        }
        // A set's value counts once per record of the window that carries the set.
        if level.sets.is_some() {
            qb.push(format_args!(
                " UNION ALL SELECT {JSON_TYPE}, CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{{}}' ELSE v::text END \
                 FROM (SELECT o.attributes -> "
            ));
            qb.push_bind(key.clone());
            qb.push(format_args!(
                " AS v FROM {ATTR_SETS_TABLE} o CROSS JOIN LATERAL (SELECT 1 FROM {} f WHERE f.{ATTR_SET_COLUMN} = o.set_key",
                level.sets.unwrap_or_default()
            ));
            push_scope(&mut qb, &t, level, "f", &w);
            qb.push(format_args!(") f WHERE o.level = {} AND o.attributes ? ", level.promotion as i16));
            qb.push_bind(key.clone());
            qb.push(") j");
        }
    }
    qb.push(") x");
    if let Some(pfx) = prefix {
        qb.push(" WHERE starts_with(value, ").push_bind(pfx.to_owned()).push(")");
    }
    qb.push(" GROUP BY type, value ORDER BY n DESC, type, value LIMIT ");
    qb.push_bind(i64::from(limit));
    let mut tx = st.read_tx().await?;
    let rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let ty: String = row.try_get("type")?;
        let text: String = row.try_get("value")?;
        let value = match ty.as_str() {
            "string" => Value::from(text),
            "int" => text.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
            "double" => text.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
            "bool" => Value::from(text == "true"),
            // Already in the typed JSON encoding.
            _ => serde_json::from_str(&text).unwrap_or(Value::Null),
        };
        out.push(json!({"value": value, "count": row.try_get::<i64, _>("n")?}));
    }
    Ok(Json(json!({"key": key, "signal": t.signal, "level": t.level, "values": out})))
}
