//! The parsed query: comparisons of a field with a literal, joined by `&&` and `||`, and the error that
//! refuses a query.

use std::fmt;

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

/// A [`ParseError`] at `column`.
pub(super) fn err(column: usize, message: impl Into<String>) -> ParseError {
    ParseError { column, message: message.into() }
}
