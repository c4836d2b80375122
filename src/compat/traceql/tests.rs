use super::*;
use crate::query::params::{AttrFilter, AttrScope, Op, Window};
use crate::query::traces::{TraceQuery, TraceSummary};

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
        (r#"{resource.deployment.environment =~ "prod-.*" && span.http.status_code = 200}"#, 1),
        (r#"{name =~ "GET /api/v[0-9]+/.*" && rootName !~ "(?i).*health.*"}"#, 1),
        (r#"{status =~ "error|unset"}"#, 2),
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
        (r#"{span.a =~ "(x"}"#, 2, "regular expression"),
        (r#"{span.a =~ "\\bx"}"#, 2, "word boundary"),
        (r#"{span.a !~ 5}"#, 2, "quoted string"),
        (r#"{status =~ "err.*"}"#, 2, "alternatives of their values"),
        (r#"{duration =~ "1.*"}"#, 2, "expected a duration"),
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
            AttrFilter { scope: AttrScope::Record, key: "http.status_code".into(), op: Op::Gte, value: "500".into() },
            AttrFilter { scope: AttrScope::Resource, key: "team".into(), op: Op::Ne, value: "web".into() },
        ]
    );
    let p = plans(r#"{span.user !~ "a|b"}"#, &base()).unwrap();
    assert_eq!(p[0].query.attrs.len(), 2);
    assert!(p[0].query.attrs.iter().all(|a| a.op == Op::Ne));
}

#[test]
fn regular_expressions() {
    let p = plans(r#"{span.route =~ "/api/.*" && resource.env !~ "dev|test.*" && name !~ "GET .*"}"#, &base()).unwrap();
    let q = &p[0].query;
    assert_eq!(
        q.attrs,
        vec![
            AttrFilter { scope: AttrScope::Record, key: "route".into(), op: Op::Matches, value: "/api/.*".into() },
            AttrFilter {
                scope: AttrScope::Resource,
                key: "env".into(),
                op: Op::NotMatches,
                value: "dev|test.*".into()
            },
        ]
    );
    assert_eq!(q.name_patterns, vec![(Op::NotMatches, "GET .*".to_string())]);

    // Root-span conditions are checked on each found trace, on the whole value.
    let p = plans(r#"{rootName =~ "GET /(cart|pay)" && rootServiceName !~ "(?i)FRONT.*"}"#, &base()).unwrap();
    let summary = |root: &str, service: &str| TraceSummary {
        root_name: Some(root.into()),
        root_service: Some(service.into()),
        ..TraceSummary::default()
    };
    assert!(trace_matches(&p[0].trace, &summary("GET /cart", "checkout")));
    assert!(!trace_matches(&p[0].trace, &summary("GET /cart/x", "checkout")));
    assert!(!trace_matches(&p[0].trace, &summary("GET /pay", "frontend")));
    assert!(!trace_matches(&p[0].trace, &TraceSummary::default()));
}
