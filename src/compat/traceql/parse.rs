//! The lexer and the recursive-descent parser of the TraceQL subset.

use super::syntax::{CmpOp, Comparison, Expr, Field, Literal, ParseError, err};

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
    crate::compat::params::go_duration("q", text).ok().map(Literal::Duration)
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
