//! A parsed query as plans of the one trace search: its alternatives (disjunctive normal form), each
//! comparison applied to a [`TraceQuery`] or kept as a condition on the whole trace.

use crate::query::params::{AttrFilter, AttrScope, Op};
use crate::query::pattern::Pattern;
use crate::query::traces::{TraceQuery, TraceSummary};

use super::parse::parse;
use super::syntax::{CmpOp, Comparison, Expr, Field, Literal, ParseError, err};

/// Most alternatives a query may expand to.
const MAX_PLANS: usize = 16;

/// Alternatives of plain values, if `re` is only that (`a|b`, with `\` escapes of special characters).
fn literal_alternatives(re: &str) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    let mut chars = re.chars();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push(String::new()),
            '\\' => out.last_mut()?.push(chars.next().filter(|c| !c.is_alphanumeric())?),
            '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' => return None,
            c => out.last_mut()?.push(c),
        }
    }
    Some(out)
}

/// The alternatives of `e` (disjunctive normal form), each a list of comparisons that must all hold.
fn alternatives(e: &Expr) -> Result<Vec<Vec<Comparison>>, ParseError> {
    let too_many = |c: usize| err(c, format!("the query expands to more than {MAX_PLANS} alternatives"));
    Ok(match e {
        Expr::Cmp(c) => match (c.op, &c.value) {
            (CmpOp::Re | CmpOp::NotRe, Literal::Str(re)) => {
                let Some(values) = literal_alternatives(re) else {
                    // Any other pattern stays one comparison, evaluated as a regular expression.
                    Pattern::new(re).map_err(|e| err(c.column, e))?;
                    return Ok(vec![vec![c.clone()]]);
                };
                let one = |v: String, op| Comparison { op, value: Literal::Str(v), ..c.clone() };
                if c.op == CmpOp::Re {
                    if values.len() > MAX_PLANS {
                        return Err(too_many(c.column));
                    }
                    values.into_iter().map(|v| vec![one(v, CmpOp::Eq)]).collect()
                } else {
                    vec![values.into_iter().map(|v| one(v, CmpOp::Ne)).collect()]
                }
            }
            (CmpOp::Re | CmpOp::NotRe, _) => return Err(err(c.column, "a regular expression must be a quoted string")),
            _ => vec![vec![c.clone()]],
        },
        Expr::Or(a, b) => {
            let mut v = alternatives(a)?;
            v.extend(alternatives(b)?);
            if v.len() > MAX_PLANS {
                return Err(too_many(1));
            }
            v
        }
        Expr::And(a, b) => {
            let (a, b) = (alternatives(a)?, alternatives(b)?);
            if a.len() * b.len() > MAX_PLANS {
                return Err(too_many(1));
            }
            let mut v = Vec::new();
            for x in &a {
                for y in &b {
                    v.push(x.iter().chain(y).cloned().collect());
                }
            }
            v
        }
    })
}

/// One alternative of a query: the span search, and conditions on the whole trace.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The span conditions, added to the base search.
    pub query: TraceQuery,
    /// Conditions on the trace's root span and duration, checked on its summary.
    pub trace: Vec<TraceCondition>,
}

/// A condition on a found trace's summary, with its regular expression compiled once for the query.
#[derive(Debug, Clone)]
pub struct TraceCondition {
    /// The comparison.
    pub cmp: Comparison,
    /// Its pattern, for `=~` and `!~`.
    pattern: Option<Pattern>,
}

/// The plans of `query` on top of `base` (window, limit); alternatives that cannot match (two different
/// names for one span) are left out.
pub fn plans(query: &str, base: &TraceQuery) -> Result<Vec<Plan>, ParseError> {
    let Some(expr) = parse(query)? else {
        return Ok(vec![Plan { query: base.clone(), trace: Vec::new() }]);
    };
    let mut out = Vec::new();
    'alt: for alt in alternatives(&expr)? {
        let mut plan = Plan { query: base.clone(), trace: Vec::new() };
        for c in alt {
            if !apply(&mut plan, c)? {
                continue 'alt;
            }
        }
        out.push(plan);
    }
    Ok(out)
}

fn word(c: &Comparison) -> Result<&str, ParseError> {
    match &c.value {
        Literal::Word(w) | Literal::Str(w) => Ok(w),
        _ => Err(err(c.column, "expected a word such as error or server")),
    }
}

fn text(c: &Comparison) -> Result<String, ParseError> {
    match &c.value {
        Literal::Str(s) => Ok(s.clone()),
        Literal::Int(i) => Ok(i.to_string()),
        Literal::Float(f) => Ok(f.to_string()),
        Literal::Bool(b) => Ok(b.to_string()),
        Literal::Duration(_) => Err(err(c.column, "a duration compares only with duration or traceDuration")),
        Literal::Word(w) => Err(err(c.column, format!("{w:?}: quote string values (\"{w}\")"))),
    }
}

fn duration(c: &Comparison) -> Result<u64, ParseError> {
    match c.value {
        Literal::Duration(d) => Ok(d),
        Literal::Int(0) => Ok(0),
        _ => Err(err(c.column, "expected a duration such as 100ms or 1.5s")),
    }
}

/// Adds comparison `c` to `plan`; false when the plan can no longer match.
fn apply(plan: &mut Plan, c: Comparison) -> Result<bool, ParseError> {
    let q = &mut plan.query;
    let only_eq_ne = |what: &str| err(c.column, format!("{what} takes =, !=, =~ or !~"));
    match &c.field {
        Field::Name => {
            let v = text(&c)?;
            match c.op {
                CmpOp::Eq if q.name.as_ref().is_some_and(|n| *n != v) => return Ok(false),
                CmpOp::Eq => q.name = Some(v),
                CmpOp::Ne => q.not_names.push(v),
                CmpOp::Re => q.name_patterns.push((Op::Matches, v)),
                CmpOp::NotRe => q.name_patterns.push((Op::NotMatches, v)),
                _ => return Err(only_eq_ne("name")),
            }
        }
        Field::Status | Field::Kind => {
            if matches!(c.op, CmpOp::Re | CmpOp::NotRe) {
                return Err(err(
                    c.column,
                    "status and kind take =, != or alternatives of their values such as \"error|unset\"",
                ));
            }
            let w = word(&c)?;
            let (value, one, not) = if c.field == Field::Status {
                let v = crate::compat::status_value(w)
                    .ok_or_else(|| err(c.column, format!("{w:?} is not a status: use error, ok or unset")))?;
                (v, &mut q.status, &mut q.not_statuses)
            } else {
                let v = crate::compat::kind_value(w).ok_or_else(|| {
                    err(
                        c.column,
                        format!("{w:?} is not a kind: use server, client, producer, consumer, internal or unspecified"),
                    )
                })?;
                (v, &mut q.kind, &mut q.not_kinds)
            };
            match c.op {
                CmpOp::Eq if one.is_some_and(|o| o != value) => return Ok(false),
                CmpOp::Eq => *one = Some(value),
                CmpOp::Ne => not.push(value),
                _ => return Err(only_eq_ne("status and kind")),
            }
        }
        Field::Duration => {
            let d = duration(&c)?;
            let (min, max) = match c.op {
                CmpOp::Gt => (Some(d.saturating_add(1)), None),
                CmpOp::Gte => (Some(d), None),
                CmpOp::Lt if d == 0 => return Ok(false),
                CmpOp::Lt => (None, Some(d - 1)),
                CmpOp::Lte => (None, Some(d)),
                CmpOp::Eq => (Some(d), Some(d)),
                _ => return Err(err(c.column, "duration takes = > >= < <=")),
            };
            if let Some(m) = min {
                q.min_duration = Some(q.min_duration.map_or(m, |o| o.max(m)));
            }
            if let Some(m) = max {
                q.max_duration = Some(q.max_duration.map_or(m, |o| o.min(m)));
            }
        }
        Field::Resource(k) if k == "service.name" && c.op == CmpOp::Eq => {
            let v = text(&c)?;
            match &q.service {
                Some(s) if *s != v => return Ok(false),
                _ => q.service = Some(v),
            }
        }
        Field::Resource(k) | Field::Span(k) if c.value == Literal::Word("nil".into()) => {
            // `!= nil`: the attribute is present, whatever its value.
            if c.op != CmpOp::Ne {
                return Err(err(c.column, "nil compares only with != (the attribute is present)"));
            }
            let scope = if matches!(c.field, Field::Resource(_)) { AttrScope::Resource } else { AttrScope::Record };
            q.attrs.push(AttrFilter { scope, key: k.clone(), op: Op::Exists, value: String::new() });
        }
        Field::Resource(k) | Field::Span(k) => {
            let op = match c.op {
                CmpOp::Eq => Op::Eq,
                CmpOp::Ne => Op::Ne,
                CmpOp::Gt => Op::Gt,
                CmpOp::Gte => Op::Gte,
                CmpOp::Lt => Op::Lt,
                CmpOp::Lte => Op::Lte,
                CmpOp::Re => Op::Matches,
                CmpOp::NotRe => Op::NotMatches,
            };
            let scope = if matches!(c.field, Field::Resource(_)) { AttrScope::Resource } else { AttrScope::Record };
            q.attrs.push(AttrFilter { scope, key: k.clone(), op, value: text(&c)? });
        }
        Field::RootName | Field::RootServiceName => {
            text(&c)?;
            let pattern = match (c.op, &c.value) {
                (CmpOp::Re | CmpOp::NotRe, Literal::Str(re)) => Some(Pattern::new(re).map_err(|e| err(c.column, e))?),
                _ => None,
            };
            plan.trace.push(TraceCondition { cmp: c, pattern });
        }
        Field::TraceDuration => {
            duration(&c)?;
            plan.trace.push(TraceCondition { cmp: c, pattern: None });
        }
    }
    Ok(true)
}

/// Whether a found trace passes the plan's trace-level conditions.
pub fn trace_matches(conds: &[TraceCondition], t: &TraceSummary) -> bool {
    conds.iter().all(|cond| {
        let c = &cond.cmp;
        if let Some(p) = &cond.pattern {
            let value = match c.field {
                Field::RootName => t.root_name.as_deref(),
                Field::RootServiceName => t.root_service.as_deref(),
                _ => None,
            };
            // No root span, no match (as for the other operators).
            return value.is_some_and(|v| p.is_match(v) == (c.op == CmpOp::Re));
        }
        let ord = match (&c.field, &c.value) {
            (Field::RootName, Literal::Str(v)) => t.root_name.as_deref().map(|n| n.cmp(v.as_str())),
            (Field::RootServiceName, Literal::Str(v)) => t.root_service.as_deref().map(|n| n.cmp(v.as_str())),
            (Field::TraceDuration, _) => duration(c).ok().map(|d| t.duration_ns.cmp(&d)),
            _ => None,
        };
        let Some(ord) = ord else { return false };
        match c.op {
            CmpOp::Eq => ord.is_eq(),
            CmpOp::Ne => ord.is_ne(),
            CmpOp::Gt => ord.is_gt(),
            CmpOp::Gte => ord.is_ge(),
            CmpOp::Lt => ord.is_lt(),
            CmpOp::Lte => ord.is_le(),
            CmpOp::Re | CmpOp::NotRe => false,
        }
    })
}
