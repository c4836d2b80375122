//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the same entry points as the fuzz
//! targets, on stable Rust: every input stays handled (a bad one is an error, never a panic), and whatever
//! decoding and validation accept, normalization encodes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use ollyscale::hostile_input::{self, Body};
use ollyscale::otlp::Signal;

/// The corpus files of one fuzz target, sorted by name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("corpus directory entry").path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (format!("{target}/{}", path.file_name().unwrap_or_default().to_string_lossy()), bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the {target} corpus is empty");
    files
}

/// Runs `check` on every file of `target`, and fails naming every file whose check panicked.
fn replay<R>(target: &str, mut check: impl FnMut(&[u8]) -> R) -> Vec<(String, R)> {
    let mut failed = Vec::new();
    let mut results = Vec::new();
    for (name, bytes) in corpus(target) {
        match catch_unwind(AssertUnwindSafe(|| check(&bytes))) {
            Ok(r) => results.push((name, r)),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failed.push(format!("{name}: {why}"));
            }
        }
    }
    assert!(failed.is_empty(), "corpus inputs that broke an invariant:\n{}", failed.join("\n"));
    results
}

fn accepted(results: &[(String, Option<Vec<u8>>)]) -> Vec<&str> {
    results.iter().filter(|(_, r)| r.is_some()).map(|(n, _)| n.as_str()).collect()
}

#[test]
fn protobuf_corpus_decodes_validates_and_normalizes() {
    for (target, signal) in
        [("protobuf_traces", Signal::Traces), ("protobuf_logs", Signal::Logs), ("protobuf_metrics", Signal::Metrics)]
    {
        let results = replay(target, |b| hostile_input::request(signal, Body::Protobuf, b));
        // The specification's examples are in every signal's corpus and must be kept.
        assert!(!accepted(&results).is_empty(), "{target}: nothing accepted");
        replay(target, |b| hostile_input::normalize(signal, Body::Protobuf, b));
    }
}

#[test]
fn json_corpus_decodes_validates_and_normalizes() {
    let results =
        replay("json", |b| hostile_input::split_signal(b).and_then(|(s, b)| hostile_input::request(s, Body::Json, b)));
    let kept = accepted(&results);
    for example in ["json/trace", "json/logs", "json/events", "json/metrics"] {
        assert!(kept.contains(&example), "{example} (a specification example) was not accepted");
    }
    replay("json", |b| {
        if let Some((signal, body)) = hostile_input::split_signal(b) {
            hostile_input::normalize(signal, Body::Json, body);
        }
    });
}

#[test]
fn normalize_corpus_encodes_what_validation_accepts() {
    replay("normalize", |b| {
        if let Some((signal, body)) = hostile_input::split_signal(b) {
            hostile_input::normalize(signal, Body::Protobuf, body);
        }
    });
}

#[test]
fn decompress_corpus_respects_the_limit() {
    let results = replay("decompress", hostile_input::decompress);
    assert!(results.iter().all(|(_, r)| r.is_some()));
}

#[test]
fn query_params_corpus_parses_or_refuses() {
    let results = replay("query_params", hostile_input::query_params);
    assert!(results.iter().all(|(_, r)| r.is_some()), "every corpus query string is UTF-8");
}
