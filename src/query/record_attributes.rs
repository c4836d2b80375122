//! Attributes of stored records on the read side: attribute filters as SQL over a level's typed tables,
//! `_other` and, at the levels with attribute sets, the sets (every value bound, keys resolved through
//! `attribute_keys`), and bulk fetching of owners' attributes back into OTLP key-values. The levels and their
//! tables are defined in [`crate::schema::attributes`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::error::ApiError;
use super::params::{AttrFilter, Op, Window};
use super::pattern::Pattern;
use crate::normalize::anyvalue::{attributes_from_json, attributes_to_json};
use crate::schema::attributes::{ATTR_SET_COLUMN, ATTR_SETS_TABLE};
use crate::schema::{AttrLevel, ValueType};

/// A filter value as each stored type would hold it.
#[derive(Debug, Default)]
struct Readings {
    int: Option<i64>,
    double: Option<f64>,
    boolean: Option<bool>,
}

/// One filter's key, operator and value (with its readings), as the JSON branches test it.
struct Test<'a> {
    key: &'a str,
    op: Op,
    value: &'a str,
    r: &'a Readings,
}

fn readings(v: &str) -> Readings {
    Readings {
        int: v.parse::<i64>().ok(),
        double: v.parse::<f64>().ok().filter(|d| d.is_finite()),
        boolean: match v {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
    }
}

/// Pushes a boolean SQL condition: the record at SQL alias `record` (a fact row whose owner and time columns
/// have the level's names, e.g. `s` for spans) passes filter `f` at `level`. With a window, attribute rows of
/// partitioned levels are restricted to it (partition pruning).
pub fn push_filter(
    qb: &mut QueryBuilder<Postgres>,
    level: &AttrLevel,
    record: &str,
    window: Option<&Window>,
    f: &AttrFilter,
) {
    // Matching on (owner, time) lets the fact's (time, id) index find each owner with one probe.
    let owner_expr = match level.time {
        Some(time) => format!("({record}.{}, {record}.{time})", level.owner),
        None => format!("{record}.{}", level.owner),
    };
    push_form(qb, level, &Form::In { owner_expr: &owner_expr, record }, window, f);
}

/// [`push_filter`] as correlated `EXISTS` probes of the attribute tables' owner indexes: the plan for a
/// condition on a few records (the spans of some traces), where the `IN` form would have PostgreSQL build
/// the whole window's set of matching owners (an `_other` scan of every record in the window) for them.
pub fn push_filter_probe(
    qb: &mut QueryBuilder<Postgres>,
    level: &AttrLevel,
    record: &str,
    window: Option<&Window>,
    f: &AttrFilter,
) {
    push_form(qb, level, &Form::Exists(record), window, f);
}

/// Pushes a query of the `(owner, time)` pairs whose attributes pass `f` (op `eq` only: it reads the
/// `(key_id, value, time, owner)` indexes), columns named like the level's, within the window and below
/// `before` in (time, owner) order: at most `limit` rows of each attribute table, each newest first, to be
/// merged by an outer `ORDER BY time DESC, owner DESC LIMIT limit`; an owner may appear twice. Each table
/// has its own `ORDER BY ... LIMIT` so that PostgreSQL walks its index in order and stops, instead of
/// reading every match of the window and sorting them (400 ms for 100k matches on 2M spans). Returns false,
/// pushing nothing, for other ops.
pub fn push_matching_owners(
    qb: &mut QueryBuilder<Postgres>,
    level: &AttrLevel,
    window: Option<&Window>,
    f: &AttrFilter,
    before: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> bool {
    if f.op != Op::Eq {
        return false;
    }
    push_in(qb, level, &Form::Walk { before, limit }, window, &f.key, f.op, &f.value);
    true
}

/// Pushes the condition that `key` has ever been stored in `level`'s `_other` table (`attribute_keys_in_other`):
/// uncorrelated, so PostgreSQL evaluates it once and does not start a scan of `_other` when it is false.
pub fn push_in_other(qb: &mut QueryBuilder<Postgres>, level: &AttrLevel, key: &str) {
    qb.push(format_args!(
        "EXISTS (SELECT 1 FROM attribute_keys_in_other WHERE level = {} AND key = ",
        level.promotion as i16
    ));
    qb.push_bind(key.to_owned());
    qb.push(")");
}

/// How the attribute branches of a filter are wrapped.
enum Form<'a> {
    /// `owner_expr IN (branch UNION ALL branch ...)`, and at levels with sets
    /// `OR record.attr_set_key IN (matching sets)`.
    In { owner_expr: &'a str, record: &'a str },
    /// `(EXISTS (branch correlated to the record alias) OR EXISTS (...))`.
    Exists(&'a str),
    /// `(branch ORDER BY ... LIMIT) UNION ALL (...)`, selecting the owner (and time), newest first below
    /// `before`.
    Walk { before: Option<(DateTime<Utc>, i64)>, limit: i64 },
}

fn push_form(qb: &mut QueryBuilder<Postgres>, level: &AttrLevel, form: &Form, window: Option<&Window>, f: &AttrFilter) {
    match f.op {
        // Present with another value: present, and not equal.
        Op::Ne => {
            qb.push("(");
            push_in(qb, level, form, window, &f.key, Op::Exists, "");
            qb.push(" AND NOT ");
            push_in(qb, level, form, window, &f.key, Op::Eq, &f.value);
            qb.push(")");
        }
        op => push_in(qb, level, form, window, &f.key, op, &f.value),
    }
}

fn push_key(qb: &mut QueryBuilder<Postgres>, key: &str) {
    qb.push("a.key_id = (SELECT key_id FROM attribute_keys WHERE key = ");
    qb.push_bind(key.to_owned());
    qb.push(")");
}

fn push_window(qb: &mut QueryBuilder<Postgres>, level: &AttrLevel, alias: &str, window: Option<&Window>) {
    if let (Some(col), Some(w)) = (level.time, window) {
        qb.push(format_args!(" AND {alias}.{col} >= "));
        qb.push_bind(w.from_ts());
        qb.push(format_args!(" AND {alias}.{col} < "));
        qb.push_bind(w.to_ts());
    }
}

/// The typed branches and the `_other` branch of one filter, wrapped as `form` says.
fn push_in(
    qb: &mut QueryBuilder<Postgres>,
    level: &AttrLevel,
    form: &Form,
    window: Option<&Window>,
    key: &str,
    op: Op,
    value: &str,
) {
    let r = readings(value);
    let numeric = r.double.is_some();
    let owner = level.owner;
    let select = |alias: &str| match level.time {
        Some(time) => format!("{alias}.{owner}, {alias}.{time}"),
        None => format!("{alias}.{owner}"),
    };
    // The start of a branch reading `table` as `alias`, up to where its conditions go.
    let head = |qb: &mut QueryBuilder<Postgres>, alias: &str, table: &str| match form {
        Form::In { .. } => {
            qb.push(format_args!("SELECT {} FROM {table} {alias} WHERE ", select(alias)));
        }
        Form::Walk { before, .. } => {
            qb.push(format_args!("(SELECT {} FROM {table} {alias} WHERE ", select(alias)));
            if let (Some((t, id)), Some(time)) = (before, level.time) {
                qb.push(format_args!("({alias}.{time}, {alias}.{owner}) < ("));
                qb.push_bind(*t).push(", ").push_bind(*id).push(") AND ");
            }
        }
        Form::Exists(record) => {
            let same_time = level.time.map(|t| format!(" AND {alias}.{t} = {record}.{t}")).unwrap_or_default();
            qb.push(format_args!(
                "EXISTS (SELECT 1 FROM {table} {alias} WHERE {alias}.{owner} = {record}.{owner}{same_time} AND "
            ));
        }
    };
    // The end of a branch of a walk: its order and limit.
    let tail = |qb: &mut QueryBuilder<Postgres>, alias: &str| {
        if let Form::Walk { limit, .. } = form {
            match level.time {
                Some(time) => qb.push(format_args!(" ORDER BY {alias}.{time} DESC, {alias}.{owner} DESC LIMIT ")),
                None => qb.push(format_args!(" ORDER BY {alias}.{owner} DESC LIMIT ")),
            };
            qb.push_bind(*limit).push(")");
        }
    };
    let separator = match form {
        Form::In { .. } | Form::Walk { .. } => " UNION ALL ",
        Form::Exists(_) => ") OR ",
    };
    match form {
        Form::In { owner_expr, .. } => {
            if level.sets.is_some() {
                qb.push("(");
            }
            qb.push(format_args!("{owner_expr} IN ("));
        }
        // At levels with sets only records written before the row's `attributes` column have attribute rows:
        // the others skip the probes.
        Form::Exists(record) => match level.sets {
            Some(_) => {
                qb.push(format_args!("(({record}.attributes IS NULL AND ("));
            }
            None => {
                qb.push("(");
            }
        },
        Form::Walk { .. } => {}
    }
    let mut first = true;
    let mut branch = |qb: &mut QueryBuilder<Postgres>, t: ValueType| {
        if !first {
            tail(qb, "a");
            qb.push(separator);
        }
        first = false;
        head(qb, "a", level.table(t));
        push_key(qb, key);
        push_window(qb, level, "a", window);
        qb.push(" AND ");
    };
    match op {
        Op::Exists => {
            for t in ValueType::ALL {
                branch(qb, t);
                qb.push("TRUE");
            }
        }
        Op::Eq | Op::Ne => {
            branch(qb, ValueType::String);
            qb.push("substr(a.value, 1, 200) = substr(");
            qb.push_bind(value.to_owned());
            qb.push(", 1, 200)");
            // The index holds the first 200 characters; a shorter value equal to them is the whole value. The
            // check is left out when it cannot fail because PostgreSQL estimates it as a guess, and that
            // guess made it read every match of the window instead of walking the index in order.
            if value.chars().count() >= 200 {
                qb.push(" AND a.value = ");
                qb.push_bind(value.to_owned());
            }
            if let Some(i) = r.int {
                branch(qb, ValueType::Int);
                qb.push("a.value = ");
                qb.push_bind(i);
            }
            if let Some(d) = r.double {
                branch(qb, ValueType::Double);
                qb.push("a.value = ");
                qb.push_bind(d);
            }
            if let Some(b) = r.boolean {
                branch(qb, ValueType::Bool);
                qb.push("a.value = ");
                qb.push_bind(b);
            }
        }
        Op::Gt | Op::Lt | Op::Gte | Op::Lte => {
            let cmp = op.sql();
            if numeric {
                branch(qb, ValueType::Int);
                match r.int {
                    Some(i) => {
                        qb.push(format_args!("a.value {cmp} "));
                        qb.push_bind(i);
                    }
                    None => {
                        qb.push(format_args!("a.value::float8 {cmp} "));
                        qb.push_bind(r.double);
                    }
                }
                branch(qb, ValueType::Double);
                qb.push(format_args!("a.value {cmp} "));
                qb.push_bind(r.double);
            } else {
                branch(qb, ValueType::String);
                qb.push(format_args!("a.value {cmp} "));
                qb.push_bind(value.to_owned());
            }
        }
        Op::Contains => {
            branch(qb, ValueType::String);
            qb.push("strpos(a.value, ");
            qb.push_bind(value.to_owned());
            qb.push(") > 0");
        }
        Op::Matches | Op::NotMatches => {
            branch(qb, ValueType::String);
            push_pattern(qb, op, value, |qb| {
                qb.push("a.value");
            });
        }
    }
    // Unpromoted attributes: the typed JSON object in _other, which has no index on its keys: read only when
    // the key has ever been stored there (a one-time filter, so the scan is not even started otherwise).
    tail(qb, "a");
    qb.push(separator);
    head(qb, "o", level.other_table());
    push_in_other(qb, level, key);
    qb.push(" AND o.attributes ? ");
    qb.push_bind(key.to_owned());
    push_window(qb, level, "o", window);
    let test = Test { key, op, value, r: &r };
    push_json_condition(qb, "o", &test);
    match form {
        Form::In { .. } => {
            qb.push(")");
        }
        Form::Exists(_) if level.sets.is_some() => {
            qb.push(")))");
        }
        Form::Exists(_) => {
            qb.push(")");
        }
        Form::Walk { .. } => tail(qb, "o"),
    }
    if let Some(fact) = level.sets {
        push_row_branch(qb, level, fact, form, window, &test);
        push_set_branch(qb, level, fact, form, window, &test);
    }
    match form {
        Form::In { .. } if level.sets.is_some() => {
            qb.push(")");
        }
        Form::Exists(_) => {
            qb.push(")");
        }
        _ => {}
    }
}

/// The branch of a filter that reads the records' own `attributes` column (levels with sets): like `_other`,
/// no index on its keys, read only when the key has ever been stored there.
fn push_row_branch(
    qb: &mut QueryBuilder<Postgres>,
    level: &AttrLevel,
    fact: &str,
    form: &Form,
    window: Option<&Window>,
    test: &Test,
) {
    let on = |qb: &mut QueryBuilder<Postgres>, alias: &str| {
        push_in_other(qb, level, test.key);
        qb.push(format_args!(" AND {alias}.attributes ? "));
        qb.push_bind(test.key.to_owned());
        push_json_condition(qb, alias, test);
    };
    match form {
        // COALESCE: a record without the column's JSON is false here, not NULL (see push_set_branch).
        Form::In { record, .. } | Form::Exists(record) => {
            qb.push(" OR COALESCE(");
            on(qb, record);
            qb.push(", FALSE)");
        }
        Form::Walk { before, limit } => {
            let (owner, time) = (level.owner, level.time.unwrap_or("time"));
            qb.push(format_args!(" UNION ALL (SELECT f.{owner}, f.{time} FROM {fact} f WHERE "));
            on(qb, "f");
            push_window(qb, level, "f", window);
            push_records_walk(qb, level, *before, *limit);
            qb.push(")");
        }
    }
}

/// The branch of a filter that reads the level's attribute sets: the sets whose typed JSON passes the
/// filter, then their records (in a walk, each set's newest records along `(attr_set_key, time, owner)`).
fn push_set_branch(
    qb: &mut QueryBuilder<Postgres>,
    level: &AttrLevel,
    fact: &str,
    form: &Form,
    window: Option<&Window>,
    test: &Test,
) {
    let sets = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(format_args!("o.level = {} AND o.attributes ? ", level.promotion as i16));
        qb.push_bind(test.key.to_owned());
        push_json_condition(qb, "o", test);
    };
    match form {
        Form::In { record, .. } => {
            // `IS NOT NULL` first: a record without a set must be false here, not NULL, or `NOT` (the `ne` form)
            // would drop records that match in the typed tables.
            qb.push(format_args!(
                " OR ({record}.{ATTR_SET_COLUMN} IS NOT NULL AND {record}.{ATTR_SET_COLUMN} IN \
                 (SELECT o.set_key FROM {ATTR_SETS_TABLE} o WHERE "
            ));
            sets(qb);
            qb.push("))");
        }
        Form::Exists(record) => {
            qb.push(format_args!(
                " OR EXISTS (SELECT 1 FROM {ATTR_SETS_TABLE} o WHERE o.set_key = {record}.{ATTR_SET_COLUMN} AND "
            ));
            sets(qb);
            qb.push(")");
        }
        Form::Walk { before, limit } => {
            let (owner, time) = (level.owner, level.time.unwrap_or("time"));
            qb.push(format_args!(
                " UNION ALL (SELECT f.{owner}, f.{time} FROM {ATTR_SETS_TABLE} o CROSS JOIN LATERAL \
                 (SELECT f.{owner}, f.{time} FROM {fact} f WHERE f.{ATTR_SET_COLUMN} = o.set_key"
            ));
            push_window(qb, level, "f", window);
            push_records_walk(qb, level, *before, *limit);
            qb.push(") f WHERE ");
            sets(qb);
            push_records_walk(qb, level, None, *limit);
            qb.push(")");
        }
    }
}

/// Pushes the end of a walk over records (alias `f`) of a level with sets: below `before` in (time, owner)
/// order, newest first, at most `limit`.
fn push_records_walk(
    qb: &mut QueryBuilder<Postgres>,
    level: &AttrLevel,
    before: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) {
    let (owner, time) = (level.owner, level.time.unwrap_or("time"));
    if let Some((t, id)) = before {
        qb.push(format_args!(" AND (f.{time}, f.{owner}) < ("));
        qb.push_bind(t).push(", ").push_bind(id).push(")");
    }
    qb.push(format_args!(" ORDER BY f.{time} DESC, f.{owner} DESC LIMIT ")).push_bind(limit);
}

/// Pushes ` AND ...` conditions that `alias.attributes -> key` (a typed JSON object's member) passes `op`.
fn push_json_condition(qb: &mut QueryBuilder<Postgres>, alias: &str, test: &Test) {
    let Test { key, op, value, r } = *test;
    let numeric = r.double.is_some();
    let member = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(format_args!("({alias}.attributes -> "));
        qb.push_bind(key.to_owned());
        qb.push(")");
    };
    match op {
        Op::Exists => {}
        Op::Eq | Op::Ne => {
            // jsonb equality compares numbers numerically (2 = 2.0) and never mixes types.
            let mut candidates = vec![serde_json::Value::from(value).to_string()];
            if let Some(i) = r.int {
                candidates.push(i.to_string());
            } else if let Some(d) = r.double
                && let Some(n) = serde_json::Number::from_f64(d)
            {
                candidates.push(n.to_string());
            }
            if let Some(b) = r.boolean {
                candidates.push(b.to_string());
            }
            qb.push(" AND ");
            member(qb);
            qb.push(" = ANY(CAST(");
            qb.push_bind(candidates);
            qb.push(" AS jsonb[]))");
        }
        Op::Gt | Op::Lt | Op::Gte | Op::Lte => {
            let cmp = op.sql();
            qb.push(" AND jsonb_typeof(");
            member(qb);
            if numeric {
                qb.push(format_args!(") = 'number' AND "));
                member(qb);
                qb.push(format_args!(" {cmp} to_jsonb(CAST("));
                match r.int {
                    Some(i) => {
                        qb.push_bind(i);
                        qb.push(" AS bigint))");
                    }
                    None => {
                        qb.push_bind(r.double);
                        qb.push(" AS float8))");
                    }
                }
            } else {
                qb.push(format_args!(") = 'string' AND ({alias}.attributes ->> "));
                qb.push_bind(key.to_owned());
                qb.push(format_args!(") {cmp} "));
                qb.push_bind(value.to_owned());
            }
        }
        Op::Contains => {
            qb.push(" AND jsonb_typeof(");
            member(qb);
            qb.push(format_args!(") = 'string' AND strpos({alias}.attributes ->> "));
            qb.push_bind(key.to_owned());
            qb.push(", ");
            qb.push_bind(value.to_owned());
            qb.push(") > 0");
        }
        Op::Matches | Op::NotMatches => {
            qb.push(" AND jsonb_typeof(");
            member(qb);
            qb.push(") = 'string' AND ");
            push_pattern(qb, op, value, |qb| {
                qb.push(format_args!("({alias}.attributes ->> "));
                qb.push_bind(key.to_owned());
                qb.push(")");
            });
        }
    }
}

/// Pushes `text ~ pattern` (or `!~`) for a [`Pattern`] checked when the filter was parsed; one that no
/// longer parses matches nothing rather than reaching PostgreSQL's engine unchecked.
pub fn push_pattern(qb: &mut QueryBuilder<Postgres>, op: Op, re: &str, text: impl FnOnce(&mut QueryBuilder<Postgres>)) {
    match Pattern::new(re) {
        Ok(p) => {
            text(qb);
            qb.push(format_args!(" {} ", op.sql()));
            qb.push_bind(p.sql().to_owned());
        }
        Err(_) => {
            qb.push("FALSE");
        }
    }
}

/// The inclusive range of some stored times (None when there are none).
pub fn time_range(times: impl IntoIterator<Item = DateTime<Utc>>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    times.into_iter().fold(None, |acc, t| match acc {
        None => Some((t, t)),
        Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
    })
}

/// Every attribute of the given owners at `level`, keyed by owner id, each list sorted by key. `times`, the
/// range of the owners' partition-key times, lets PostgreSQL skip the other daily partitions.
pub async fn fetch(
    conn: &mut PgConnection,
    level: &AttrLevel,
    owners: &[i64],
    times: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<HashMap<i64, Vec<KeyValue>>, ApiError> {
    let mut out: HashMap<i64, Vec<KeyValue>> = HashMap::new();
    if owners.is_empty() {
        return Ok(out);
    }
    let owner = level.owner;
    let during = |alias: &str| match (level.time, times) {
        (Some(col), Some(_)) => format!(" AND {alias}.{col} BETWEEN $2 AND $3"),
        _ => String::new(),
    };
    // One probe of the owner index per owner (OFFSET 0 keeps each LATERAL a loop): `owner = ANY($1)` over a
    // partition without statistics was estimated at most of its rows and read whole.
    let mut sql = String::new();
    let nulls = |except: Option<ValueType>| -> Vec<String> {
        ValueType::ALL
            .iter()
            .map(|t| if Some(*t) == except { "a.value".to_string() } else { format!("NULL::{}", t.sql_type()) })
            .collect()
    };
    for t in ValueType::ALL {
        sql.push_str(&format!(
            "SELECT a.{owner} AS owner, k.key, {}, NULL::text AS other FROM unnest($1::bigint[]) AS u(id) \
             CROSS JOIN LATERAL (SELECT * FROM {} a WHERE a.{owner} = u.id{} OFFSET 0) a \
             JOIN attribute_keys k USING (key_id) UNION ALL ",
            nulls(Some(t)).join(", "),
            level.table(t),
            during("a")
        ));
    }
    sql.push_str(&format!(
        "SELECT o.{owner}, NULL::text, {}, o.attributes::text FROM unnest($1::bigint[]) AS u(id) \
         CROSS JOIN LATERAL (SELECT * FROM {} o WHERE o.{owner} = u.id{} OFFSET 0) o",
        nulls(None).join(", "),
        level.other_table(),
        during("o")
    ));
    // Table and column names come from the schema's constant levels, never from input.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owners);
    if let (Some(_), Some((lo, hi))) = (level.time, times) {
        q = q.bind(lo).bind(hi);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let list = out.entry(id).or_default();
        if let Some(json) = row.try_get::<Option<String>, _>(7)? {
            let kvs = attributes_from_json(&json)
                .map_err(|e| ApiError::internal(format!("{} of {id}: {e}", level.other_table())))?;
            list.extend(kvs);
            continue;
        }
        let key: String = row.try_get(1)?;
        let value = if let Some(v) = row.try_get::<Option<String>, _>(2)? {
            Value::StringValue(v)
        } else if let Some(v) = row.try_get::<Option<i64>, _>(3)? {
            Value::IntValue(v)
        } else if let Some(v) = row.try_get::<Option<f64>, _>(4)? {
            Value::DoubleValue(v)
        } else if let Some(v) = row.try_get::<Option<bool>, _>(5)? {
            Value::BoolValue(v)
        } else {
            Value::BytesValue(row.try_get::<Option<Vec<u8>>, _>(6)?.unwrap_or_default())
        };
        list.push(KeyValue { key, value: Some(AnyValue { value: Some(value) }), ..Default::default() });
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(out)
}

/// A span or log record whose attributes [`fetch_records`] reads: its owner id, and what its fact row holds
/// (`attr_set_key`, and the `attributes` JSON as text).
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// The owner id (`span_row_id`, `log_id`).
    pub owner: i64,
    /// Its attribute set.
    pub set: Option<i64>,
    /// Its row's typed JSON object of other attributes.
    pub row: Option<&'a str>,
}

/// [`fetch`] for records of a level with attribute sets: each owner's attribute rows (records stored before
/// sets existed), its set's attributes and its row's own, sorted by key.
pub async fn fetch_records(
    conn: &mut PgConnection,
    level: &AttrLevel,
    records: &[RecordRef<'_>],
    times: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<HashMap<i64, Vec<KeyValue>>, ApiError> {
    // Only records without the row's JSON (written before the column existed) can have attribute rows.
    let old: Vec<i64> = records.iter().filter(|r| r.row.is_none()).map(|r| r.owner).collect();
    let mut out = fetch(conn, level, &old, times).await?;
    let mut keys: Vec<i64> = records.iter().filter_map(|r| r.set).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut sets = HashMap::with_capacity(keys.len());
    if !keys.is_empty() {
        let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT set_key, attributes::text FROM {ATTR_SETS_TABLE} WHERE set_key = ANY($1)"
        )))
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
        for (key, json) in rows {
            let kvs =
                attributes_from_json(&json).map_err(|e| ApiError::internal(format!("attribute set {key}: {e}")))?;
            sets.insert(key, kvs);
        }
    }
    for r in records {
        let list = out.entry(r.owner).or_default();
        if let Some(kvs) = r.set.and_then(|k| sets.get(&k)) {
            list.extend(kvs.iter().cloned());
        }
        if let Some(json) = r.row {
            let kvs = attributes_from_json(json)
                .map_err(|e| ApiError::internal(format!("attributes of {} {}: {e}", level.owner, r.owner)))?;
            list.extend(kvs);
        }
        list.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(out)
}

/// Attributes as the typed JSON object of src/normalize/anyvalue.rs (types survive: 2.0 stays a double).
pub fn to_json(kvs: &[KeyValue]) -> serde_json::Value {
    serde_json::from_str(&attributes_to_json(kvs)).unwrap_or(serde_json::Value::Null)
}
