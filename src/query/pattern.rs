//! Regular expressions of attribute and name filters: written in RE2 syntax (what TraceQL and Go use), they
//! match the whole value, and PostgreSQL evaluates them with its own engine (ARE) next to the data.
//!
//! The two dialects agree on the common constructs (literals, `.`, classes, `\d \s \w`, groups, `|`,
//! repetitions, `^`, `$`), so a pattern is checked with `regex-syntax` and passed on unchanged; what either
//! dialect reads differently is refused with a message naming it rather than silently matching something
//! else:
//! - `\b` and `\B` (a backspace in ARE), the other word-boundary and `\z` assertions;
//! - Unicode classes (`\pL`), hexadecimal and octal escapes (ARE reads as many digits as follow);
//! - flags anywhere but a leading `(?i)`, and named groups;
//! - nested brackets and class set operations (`[a-z&&[^x]]`).
//!
//! One difference stays, documented: `.` also matches a newline (RE2 needs `(?s)` for that).

use regex_syntax::ast::{self, Ast, ClassSetItem, Visitor};

/// Longest pattern accepted, in bytes: PostgreSQL compiles it per query, and a longer one is not a search.
const MAX_LEN: usize = 1000;

/// A checked pattern: `sql` is anchored for PostgreSQL's `~`, `matcher` the same for values in memory.
#[derive(Debug, Clone)]
pub struct Pattern {
    sql: String,
    matcher: regex::Regex,
}

impl Pattern {
    /// Checks `re` (RE2 syntax, matching whole values) or says what is wrong with it.
    pub fn new(re: &str) -> Result<Pattern, String> {
        if re.len() > MAX_LEN {
            return Err(format!("a regular expression may be at most {MAX_LEN} bytes"));
        }
        let (case_insensitive, body) = match re.strip_prefix("(?i)") {
            Some(rest) => (true, rest),
            None => (false, re),
        };
        let tree = ast::parse::ParserBuilder::new()
            .nest_limit(100)
            .build()
            .parse(body)
            .map_err(|e| format!("regular expression {re:?}: {}", e.kind()))?;
        ast::visit(&tree, Refuse).map_err(|what| format!("regular expression {re:?}: {what} is not supported"))?;
        let flag = if case_insensitive { "(?i)" } else { "" };
        let sql = format!("{flag}^(?:{body})$");
        // RE2's `.` stops at newlines unless `s` is set; ARE's does not, so the in-memory matcher follows ARE.
        let matcher = regex::RegexBuilder::new(&format!("^(?:{body})$"))
            .case_insensitive(case_insensitive)
            .dot_matches_new_line(true)
            .build()
            .map_err(|e| format!("regular expression {re:?}: {e}"))?;
        Ok(Pattern { sql, matcher })
    }

    /// The pattern for PostgreSQL's `~`, anchored at both ends.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Whether `value` matches the whole pattern, as PostgreSQL would decide.
    pub fn is_match(&self, value: &str) -> bool {
        self.matcher.is_match(value)
    }
}

/// Walks a parsed pattern, stopping at the first construct PostgreSQL would read differently.
struct Refuse;

impl Visitor for Refuse {
    type Output = ();
    type Err = &'static str;

    fn finish(self) -> Result<(), &'static str> {
        Ok(())
    }

    fn visit_pre(&mut self, a: &Ast) -> Result<(), &'static str> {
        match a {
            Ast::Flags(_) => Err("a flag other than a leading (?i)"),
            Ast::ClassUnicode(_) => Err("a Unicode class (\\p)"),
            Ast::Literal(l) => literal(l),
            Ast::Assertion(x) => match x.kind {
                ast::AssertionKind::StartLine | ast::AssertionKind::EndLine | ast::AssertionKind::StartText => Ok(()),
                ast::AssertionKind::EndText => Err("\\z"),
                _ => Err("a word boundary (\\b, \\B)"),
            },
            Ast::Group(g) => match &g.kind {
                ast::GroupKind::CaptureIndex(_) => Ok(()),
                ast::GroupKind::CaptureName { .. } => Err("a named group"),
                ast::GroupKind::NonCapturing(flags) if flags.items.is_empty() => Ok(()),
                ast::GroupKind::NonCapturing(_) => Err("a flag other than a leading (?i)"),
            },
            _ => Ok(()),
        }
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), &'static str> {
        match item {
            ClassSetItem::Unicode(_) => Err("a Unicode class (\\p)"),
            ClassSetItem::Bracketed(_) => Err("a bracket inside a bracket"),
            ClassSetItem::Literal(l) => literal(l),
            ClassSetItem::Range(r) => literal(&r.start).and_then(|()| literal(&r.end)),
            _ => Ok(()),
        }
    }

    fn visit_class_set_binary_op_pre(&mut self, _op: &ast::ClassSetBinaryOp) -> Result<(), &'static str> {
        Err("a class set operation (&&, --, ~~)")
    }
}

fn literal(l: &ast::Literal) -> Result<(), &'static str> {
    match l.kind {
        ast::LiteralKind::Octal | ast::LiteralKind::HexFixed(_) | ast::LiteralKind::HexBrace(_) => {
            Err("a hexadecimal or octal escape")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_for_postgres() {
        assert_eq!(Pattern::new("prod-.*").unwrap().sql(), "^(?:prod-.*)$");
        assert_eq!(Pattern::new("(?i)get|post").unwrap().sql(), "(?i)^(?:get|post)$");
        assert_eq!(Pattern::new("").unwrap().sql(), "^(?:)$");
    }

    #[test]
    fn whole_values() {
        let p = Pattern::new(r"/api/v\d+/.*").unwrap();
        assert!(p.is_match("/api/v2/cart"));
        assert!(!p.is_match("x/api/v2/cart"));
        let alt = Pattern::new("a|b").unwrap();
        assert!(alt.is_match("a") && !alt.is_match("ab"));
        let ci = Pattern::new("(?i)get").unwrap();
        assert!(ci.is_match("GET") && !ci.is_match("GETS"));
        assert!(Pattern::new("a.b").unwrap().is_match("a\nb"));
        assert!(Pattern::new(r"[\w.-]+@x\.com").unwrap().is_match("a.b-c@x.com"));
    }

    #[test]
    fn refused_with_the_construct() {
        for (re, what) in [
            (r"\bword", "word boundary"),
            (r"\pL+", "Unicode class"),
            (r"[\p{Greek}]", "Unicode class"),
            (r"\x41", "hexadecimal"),
            (r"(?s).", "flag"),
            (r"a(?i:b)", "flag"),
            (r"(?P<x>a)", "named group"),
            (r"[a-z&&[^x]]", "class set operation"),
            (r"[[a]b]", "bracket inside"),
            (r"a\z", r"\z"),
            ("(a", "regular expression"),
            ("a{2,1}", "regular expression"),
        ] {
            let e = Pattern::new(re).unwrap_err();
            assert!(e.contains(what), "{re}: {e}");
        }
        assert!(Pattern::new(&"a".repeat(MAX_LEN + 1)).unwrap_err().contains("at most"));
        assert!(Pattern::new(&format!("{}a{}", "(".repeat(200), ")".repeat(200))).is_err());
    }
}
