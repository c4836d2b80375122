//! The subset of TraceQL that Grafana's Tempo search builder writes: one spanset `{ ... }` of comparisons
//! joined by `&&` and `||` (with parentheses), on `resource.` and `span.` attributes and the intrinsics
//! `name`, `status`, `kind`, `duration`, `rootName`, `rootServiceName` and `traceDuration`, with the
//! operators `= != =~ !~ > >= < <=`. Anything else (pipelines, structural operators, several spansets,
//! aggregates) is refused with the position it starts at.
//!
//! A query becomes a few [`Plan`]s, one per alternative of its `||`s, each a [`TraceQuery`] of the one
//! trace search (span conditions) plus conditions on the whole trace (root span, trace duration) checked
//! on each found trace's summary. Regular expressions are accepted when they are alternatives of plain
//! values (`=~ "a|b"`, what the builder writes for a multi-select), read as `= "a" || = "b"`; TraceQL's
//! regular expressions match the whole value, so this is the same.

use std::fmt;

use crate::query::params::{AttrFilter, AttrScope, Op};
use crate::query::traces::{TraceQuery, TraceSummary};

/// Most alternatives a query may expand to.
const MAX_PLANS: usize = 16;

/// A refused query: what is wrong, and the 1-based column where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based column (in characters) of the offending text.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceQL at column {}: {}", self.column, self.message)
    }
}

/// What a comparison is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `resource.<key>`.
    Resource(String),
    /// `span.<key>`, or `.<key>` (read as a span attribute).
    Span(String),
    /// `name`: the span name.
    Name,
    /// `status`: the span status.
    Status,
    /// `kind`: the span kind.
    Kind,
    /// `duration`: the span duration.
    Duration,
    /// `rootName`: the root span's name.
    RootName,
    /// `rootServiceName`: the root span's service.
    RootServiceName,
    /// `traceDuration`: the trace's duration.
    TraceDuration,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~`
    Re,
    /// `!~`
    NotRe,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `"text"`.
    Str(String),
    /// An integer.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// A duration (`100ms`), in nanoseconds.
    Duration(u64),
    /// `true` / `false`.
    Bool(bool),
    /// An unquoted word: status and kind values (`error`, `server`).
    Word(String),
}

/// One comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Left side.
    pub field: Field,
    /// Operator.
    pub op: CmpOp,
    /// Right side.
    pub value: Literal,
    /// 1-based column of the field.
    pub column: usize,
}

/// The spanset's condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A comparison.
    Cmp(Comparison),
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBrace,
    RBrace,
    LParen,
    RParen,
    And,
    Or,
    Op(CmpOp),
    Str(String),
    Num(String),
    Ident(String),
    /// Something outside the subset, with the message to refuse it with.
    Unsupported(String),
    End,
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
}

impl Lexer {
    fn peek_at(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    /// The next token and its 1-based column.
    fn next(&mut self) -> Result<(Tok, usize), ParseError> {
        while self.peek_at(0).is_some_and(char::is_whitespace) {
            self.i += 1;
        }
        let col = self.i + 1;
        let Some(c) = self.peek_at(0) else {
            return Ok((Tok::End, col));
        };
        let two: String = self.chars[self.i..(self.i + 2).min(self.chars.len())].iter().collect();
        let (tok, len) = match (c, two.as_str()) {
            (_, "&&") => (Tok::And, 2),
            (_, "||") => (Tok::Or, 2),
            (_, "!=") => (Tok::Op(CmpOp::Ne), 2),
            (_, "=~") => (Tok::Op(CmpOp::Re), 2),
            (_, "!~") => (Tok::Op(CmpOp::NotRe), 2),
            (_, ">=") => (Tok::Op(CmpOp::Gte), 2),
            (_, "<=") => (Tok::Op(CmpOp::Lte), 2),
            (_, ">>" | "<<") => (Tok::Unsupported("structural operators (>>, <<) are not supported".into()), 2),
            ('{', _) => (Tok::LBrace, 1),
            ('}', _) => (Tok::RBrace, 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            ('=', _) => (Tok::Op(CmpOp::Eq), 1),
            ('>', _) => (Tok::Op(CmpOp::Gt), 1),
            ('<', _) => (Tok::Op(CmpOp::Lt), 1),
            ('|', _) => (Tok::Unsupported("pipelines (|) are not supported: use one spanset { ... }".into()), 1),
            ('~', _) => (Tok::Unsupported("the sibling operator (~) is not supported".into()), 1),
            ('"' | '`', _) => return self.string(c, col).map(|s| (Tok::Str(s), col)),
            (c, _) if c.is_ascii_digit() || (c == '-' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) => {
                let start = self.i;
                self.i += 1;
                while self.peek_at(0).is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == 'µ') {
                    self.i += 1;
                }
                return Ok((Tok::Num(self.chars[start..self.i].iter().collect()), col));
            }
            (c, _) if c.is_alphabetic() || c == '.' || c == '_' => {
                let start = self.i;
                while let Some(c) = self.peek_at(0) {
                    if c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':') {
                        self.i += 1;
                    } else if c == '"' && self.chars[self.i - 1] == '.' {
                        // A quoted attribute name: span."my key".
                        let prefix: String = self.chars[start..self.i].iter().collect();
                        let name = self.string('"', self.i + 1)?;
                        return Ok((Tok::Ident(format!("{prefix}{name}")), col));
                    } else {
                        break;
                    }
                }
                return Ok((Tok::Ident(self.chars[start..self.i].iter().collect()), col));
            }
            (c, _) => (Tok::Unsupported(format!("unexpected {c:?}")), 1),
        };
        self.i += len;
        Ok((tok, col))
    }

    /// A quoted string starting at the quote; backquotes take no escapes.
    fn string(&mut self, quote: char, col: usize) -> Result<String, ParseError> {
        self.i += 1;
        let mut out = String::new();
        while let Some(c) = self.peek_at(0) {
            self.i += 1;
            match c {
                c if c == quote => return Ok(out),
                '\\' if quote == '"' => {
                    let e = self.peek_at(0).ok_or_else(|| err(col, "unterminated string"))?;
                    self.i += 1;
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                c => out.push(c),
            }
        }
        Err(err(col, "unterminated string"))
    }
}

fn err(column: usize, message: impl Into<String>) -> ParseError {
    ParseError { column, message: message.into() }
}

struct Parser {
    lex: Lexer,
    tok: Tok,
    col: usize,
}

impl Parser {
    fn advance(&mut self) -> Result<(), ParseError> {
        let (tok, col) = self.lex.next()?;
        if let Tok::Unsupported(m) = &tok {
            return Err(err(col, m.clone()));
        }
        self.tok = tok;
        self.col = col;
        Ok(())
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), ParseError> {
        if self.tok != want {
            return Err(err(self.col, format!("expected {what}")));
        }
        self.advance()
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.tok == Tok::Or {
            self.advance()?;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.primary()?;
        while self.tok == Tok::And {
            self.advance()?;
            left = Expr::And(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        if self.tok == Tok::LParen {
            self.advance()?;
            let e = self.or()?;
            self.expect(Tok::RParen, "`)`")?;
            return Ok(e);
        }
        let column = self.col;
        let Tok::Ident(name) = self.tok.clone() else {
            return Err(err(self.col, "expected a comparison such as span.http.route = \"/cart\""));
        };
        let field = field(&name).ok_or_else(|| {
            err(
                column,
                format!(
                    "{name:?} is not supported: use resource.<key>, span.<key> or one of name, status, kind, duration, \
                     rootName, rootServiceName, traceDuration"
                ),
            )
        })?;
        self.advance()?;
        let Tok::Op(op) = self.tok else {
            return Err(err(self.col, "expected an operator: = != =~ !~ > >= < <="));
        };
        self.advance()?;
        let value = match &self.tok {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Num(n) => number(n).ok_or_else(|| err(self.col, format!("{n:?} is not a number or duration")))?,
            Tok::Ident(w) if w == "true" || w == "false" => Literal::Bool(w == "true"),
            Tok::Ident(w) if w.chars().all(|c| c.is_ascii_alphabetic()) => Literal::Word(w.clone()),
            _ => return Err(err(self.col, "expected a value: a quoted string, a number, a duration or a status/kind")),
        };
        self.advance()?;
        Ok(Expr::Cmp(Comparison { field, op, value, column }))
    }
}

fn field(name: &str) -> Option<Field> {
    Some(match name {
        "name" | "span:name" => Field::Name,
        "status" | "span:status" => Field::Status,
        "kind" | "span:kind" => Field::Kind,
        "duration" | "span:duration" => Field::Duration,
        "rootName" | "trace:rootName" => Field::RootName,
        "rootServiceName" | "trace:rootService" => Field::RootServiceName,
        "traceDuration" | "trace:duration" => Field::TraceDuration,
        _ => {
            if let Some(k) = name.strip_prefix("resource.").filter(|k| !k.is_empty()) {
                Field::Resource(k.to_owned())
            } else if let Some(k) = name.strip_prefix("span.").filter(|k| !k.is_empty()) {
                Field::Span(k.to_owned())
            } else if let Some(k) = name.strip_prefix('.').filter(|k| !k.is_empty()) {
                Field::Span(k.to_owned())
            } else {
                return None;
            }
        }
    })
}

fn number(text: &str) -> Option<Literal> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Literal::Int(i));
    }
    if let Ok(f) = text.parse::<f64>() {
        return f.is_finite().then_some(Literal::Float(f));
    }
    super::params::go_duration("q", text).ok().map(Literal::Duration)
}

/// Parses a query; `None` for the empty spanset `{}` (every trace).
pub fn parse(query: &str) -> Result<Option<Expr>, ParseError> {
    let mut p = Parser { lex: Lexer { chars: query.chars().collect(), i: 0 }, tok: Tok::End, col: 1 };
    p.advance()?;
    p.expect(Tok::LBrace, "`{`: a query is one spanset such as { span.http.route = \"/cart\" }")?;
    let expr = if p.tok == Tok::RBrace { None } else { Some(p.or()?) };
    p.expect(Tok::RBrace, "`}`, `&&` or `||`")?;
    match &p.tok {
        Tok::End => Ok(expr),
        Tok::And | Tok::Or => Err(err(p.col, "combining spansets is not supported: use one spanset { ... }")),
        Tok::Op(_) => Err(err(p.col, "structural operators and aggregates are not supported")),
        _ => Err(err(p.col, "only one spanset is supported; nothing may follow it")),
    }
}

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
                let values = literal_alternatives(re).ok_or_else(|| {
                    err(
                        c.column,
                        format!(
                            "regular expression {re:?} is not supported: only alternatives of plain values such as \
                             \"a|b\""
                        ),
                    )
                })?;
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
    pub trace: Vec<Comparison>,
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
                _ => return Err(only_eq_ne("name")),
            }
        }
        Field::Status | Field::Kind => {
            let w = word(&c)?;
            let (value, one, not) = if c.field == Field::Status {
                let v = super::status_value(w)
                    .ok_or_else(|| err(c.column, format!("{w:?} is not a status: use error, ok or unset")))?;
                (v, &mut q.status, &mut q.not_statuses)
            } else {
                let v = super::kind_value(w).ok_or_else(|| {
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
                CmpOp::Re | CmpOp::NotRe => unreachable_re(&c)?,
            };
            let scope = if matches!(c.field, Field::Resource(_)) { AttrScope::Resource } else { AttrScope::Record };
            q.attrs.push(AttrFilter { scope, key: k.clone(), op, value: text(&c)? });
        }
        Field::RootName | Field::RootServiceName => {
            text(&c)?;
            plan.trace.push(c);
        }
        Field::TraceDuration => {
            duration(&c)?;
            plan.trace.push(c);
        }
    }
    Ok(true)
}

/// Regular expressions were expanded into comparisons before; reaching one here is refused, not a panic.
fn unreachable_re(c: &Comparison) -> Result<Op, ParseError> {
    Err(err(c.column, "regular expressions must be alternatives of plain values"))
}

/// Whether a found trace passes the plan's trace-level conditions.
pub fn trace_matches(conds: &[Comparison], t: &TraceSummary) -> bool {
    conds.iter().all(|c| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::params::Window;

    fn base() -> TraceQuery {
        TraceQuery::new(Window { from: 1, to: 2 }, 20)
    }

    /// Queries Grafana's builder and users write, accepted, with the number of alternatives they become.
    #[test]
    fn accepted() {
        let cases: &[(&str, usize)] = &[
            ("{}", 1),
            ("{ }", 1),
            (r#"{resource.service.name="frontend"}"#, 1),
            (r#"{ resource.service.name = "frontend" && name = "GET /cart" }"#, 1),
            (r#"{span.http.status_code >= 500 && status = error}"#, 1),
            (r#"{kind=server && duration > 100ms && duration <= 1.5s}"#, 1),
            (r#"{(span.user = "alice" || span.user = "bob")}"#, 2),
            (r#"{span.user =~ "alice|bob|carol"}"#, 3),
            (r#"{span.user !~ "alice|bob"}"#, 1),
            (r#"{resource.service.name =~ "front\\.end"}"#, 1),
            (r#"{rootServiceName = "frontend" && traceDuration > 1s}"#, 1),
            (r#"{rootName != "cron"}"#, 1),
            (r#"{span."my key" = "v"}"#, 1),
            (r#"{.user = "alice"}"#, 1),
            (r#"{span:status = ok && span:kind = client}"#, 1),
            (r#"{span.ratio > 0.5 && span.flag = true}"#, 1),
            (r#"{(span.b = 1) }"#, 1),
            (r#"{name = "a" && name = "b"}"#, 0),
            (r#"{status != error}"#, 1),
            (r#"{span.db.system != nil}"#, 1),
        ];
        for (q, n) in cases {
            let plans = plans(q, &base()).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!(plans.len(), *n, "{q}");
        }
    }

    /// Queries outside the subset, refused with the column of the offending part.
    #[test]
    fn refused() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "expected `{`"),
            ("{", 2, "expected a comparison"),
            (r#"{span.a = "x"} | count() > 2"#, 16, "pipelines"),
            (r#"{span.a = "x"} >> {span.b = "y"}"#, 16, "structural"),
            (r#"{span.a = "x"} && {span.b = "y"}"#, 16, "combining spansets"),
            (r#"{span.a = "x"} ~ {span.b = "y"}"#, 16, "sibling"),
            (r#"{span.a = "x"} > {span.b = "y"}"#, 16, "structural"),
            (r#"{span.a =~ "x.*"}"#, 2, "regular expression"),
            (r#"{event.name = "x"}"#, 2, "not supported"),
            (r#"{statusMessage = "x"}"#, 2, "not supported"),
            (r#"{span.a = "x}"#, 11, "unterminated"),
            (r#"{span.a "x"}"#, 9, "expected an operator"),
            (r#"{span.a = }"#, 11, "expected a value"),
            (r#"{status = broken}"#, 2, "not a status"),
            (r#"{kind > server}"#, 2, "takes ="),
            (r#"{duration > "x"}"#, 2, "duration"),
            (r#"{span.a = x}"#, 2, "quote string values"),
            (r#"{(span.a = "x"}"#, 15, "`)`"),
            (r#"{span.a = "x"} extra"#, 16, "only one spanset"),
            (r#"{span.a = "x" ; }"#, 15, "unexpected"),
            (r#"{span.a = nil}"#, 2, "nil compares only with !="),
        ];
        for (q, col, msg) in cases {
            let e = plans(q, &base()).expect_err(q);
            assert_eq!(e.column, *col, "{q}: {e}");
            assert!(e.message.contains(msg), "{q}: {e}");
        }
    }

    #[test]
    fn translation() {
        let p = plans(
            r#"{resource.service.name = "frontend" && span.http.status_code >= 500 && status = error && kind = server && duration > 100ms && resource.team != "web"}"#,
            &base(),
        )
        .unwrap();
        let q = &p[0].query;
        assert_eq!(q.service.as_deref(), Some("frontend"));
        assert_eq!(q.status, Some(2));
        assert_eq!(q.kind, Some(2));
        assert_eq!(q.min_duration, Some(100_000_001));
        assert_eq!(
            q.attrs,
            vec![
                AttrFilter {
                    scope: AttrScope::Record,
                    key: "http.status_code".into(),
                    op: Op::Gte,
                    value: "500".into()
                },
                AttrFilter { scope: AttrScope::Resource, key: "team".into(), op: Op::Ne, value: "web".into() },
            ]
        );
        let p = plans(r#"{span.user !~ "a|b"}"#, &base()).unwrap();
        assert_eq!(p[0].query.attrs.len(), 2);
        assert!(p[0].query.attrs.iter().all(|a| a.op == Op::Ne));
    }
}
