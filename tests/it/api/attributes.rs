//! /api/v2/attributes and /attributes/{key}/values.

use super::*;

fn keys(v: &Value) -> Vec<(String, Vec<String>)> {
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap().to_string(),
                k["types"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect()
}

fn ks(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    list.iter().map(|(k, t)| (k.to_string(), t.iter().map(|x| x.to_string()).collect())).collect()
}

#[tokio::test]
async fn keys_per_signal_and_level_with_types() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &wurl("/attributes", &[("signal", "traces")])).await;
    assert_eq!(
        keys(&v),
        ks(&[
            ("db.system", &["string"]),
            ("messaging.system", &["string"]),
            ("p.flag", &["bool"]),
            ("p.ratio", &["double"]),
            ("p.route", &["string"]),
            ("p.status", &["int"]),
            ("user", &["string"]),
        ])
    );
    let v = ok(&app, &wurl("/attributes", &[("signal", "traces"), ("prefix", "p.r")])).await;
    assert_eq!(keys(&v), ks(&[("p.ratio", &["double"]), ("p.route", &["string"])]));
    let v = ok(&app, &wurl("/attributes", &[("signal", "logs")])).await;
    assert_eq!(keys(&v), ks(&[("latency_ms", &["int"]), ("p.code", &["int"]), ("p.user", &["string"])]));
    let v = ok(&app, &wurl("/attributes", &[("signal", "traces"), ("level", "event")])).await;
    assert_eq!(keys(&v), ks(&[("key", &["string"])]));
    let v = ok(&app, &wurl("/attributes", &[("signal", "traces"), ("level", "resource")])).await;
    let names: Vec<String> = keys(&v).into_iter().map(|k| k.0).collect();
    assert_eq!(names, ["p.region", "service.name", "service.namespace", "team"]);
    // Nothing in another window.
    let v = ok(&app, &url("/attributes", &[("signal", "traces"), ("from", "1000"), ("to", "2000")])).await;
    assert_eq!(keys(&v), vec![]);
}

#[tokio::test]
async fn values_of_a_key_with_counts() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &wurl("/attributes/user/values", &[("signal", "traces")])).await;
    assert_eq!(
        v["values"],
        serde_json::json!([
            {"value": "alice", "count": 1},
            {"value": "bob", "count": 1},
            {"value": "carol", "count": 1},
        ])
    );
    let v = ok(&app, &wurl("/attributes/p.status/values", &[("signal", "traces")])).await;
    assert_eq!(v["values"], serde_json::json!([{"value": 200, "count": 1}, {"value": 500, "count": 1}]));
    let v = ok(&app, &wurl("/attributes/team/values", &[("signal", "logs"), ("level", "resource")])).await;
    assert_eq!(v["values"].as_array().unwrap().len(), 2);
    let v = ok(&app, &wurl("/attributes/user/values", &[("signal", "traces"), ("prefix", "ca"), ("limit", "5")])).await;
    assert_eq!(v["values"], serde_json::json!([{"value": "carol", "count": 1}]));
}

#[tokio::test]
async fn attribute_parameters_are_checked() {
    let (_env, app) = loaded().await;
    bad(&app, "/attributes", "signal").await;
    bad(&app, &url("/attributes", &[("signal", "profiles")]), "signal").await;
    bad(&app, &url("/attributes", &[("signal", "logs"), ("level", "event")]), "level").await;
    bad(&app, &url("/attributes/user/values", &[("signal", "traces"), ("limit", "0")]), "limit").await;
    bad(&app, &url("/attributes/user/values", &[("signal", "traces"), ("from", "x")]), "from").await;
}
