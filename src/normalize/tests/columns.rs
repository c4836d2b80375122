//! The encoders' column lists against the migrations' tables.

use super::copy_rows::*;
use crate::normalize::*;
use std::collections::HashMap;

/// Columns of each CREATE TABLE in the migrations: (name, NOT NULL without a default).
fn migration_columns() -> HashMap<String, Vec<(String, bool)>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut tables = HashMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let sql = std::fs::read_to_string(&file).unwrap();
        let mut current: Option<(String, Vec<(String, bool)>)> = None;
        for line in sql.lines() {
            // `ALTER TABLE t ADD COLUMN c type ...`: a column appended to an existing table.
            if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
                let mut words = rest.split_whitespace();
                if let (Some(table), Some("ADD"), Some("COLUMN"), Some(col)) =
                    (words.next(), words.next(), words.next(), words.next())
                {
                    let required = line.contains("NOT NULL") && !line.contains("DEFAULT");
                    tables.entry(table.to_string()).or_insert_with(Vec::new).push((col.to_string(), required));
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                if let Some(name) = rest.strip_suffix(" (") {
                    current = Some((name.to_string(), Vec::new()));
                }
                continue;
            }
            let Some((_, cols)) = current.as_mut() else {
                continue;
            };
            if line.starts_with(')') {
                let (name, cols) = current.take().unwrap();
                tables.insert(name, cols);
                continue;
            }
            let def = line.trim();
            let first = def.split_whitespace().next().unwrap_or("");
            if ["CHECK", "PRIMARY", "UNIQUE", "CONSTRAINT", "FOREIGN"].contains(&first) || first.is_empty() {
                continue;
            }
            let required = def.contains("NOT NULL") && !def.contains("DEFAULT") && !def.contains("IDENTITY");
            cols.push((first.to_string(), required));
        }
    }
    tables
}

#[test]
fn column_lists_match_the_migrations() {
    let schema = migration_columns();
    let mut seen = 0;
    for spec in tables::all_specs() {
        let cols = schema.get(spec.name).unwrap_or_else(|| panic!("{} is not created by the migrations", spec.name));
        let listed: Vec<&str> = spec.columns.trim_start_matches('(').trim_end_matches(')').split(", ").collect();
        for c in &listed {
            assert!(cols.iter().any(|(n, _)| n == c), "{}: no column {c}", spec.name);
        }
        for (c, required) in cols {
            if *required {
                assert!(listed.contains(&c.as_str()), "{}: required column {c} not written", spec.name);
            }
        }
        seen += 1;
    }
    assert_eq!(seen, 69);
    // Every fact table column is written (none is left to a default).
    for spec in tables::all_specs().take(9) {
        assert_eq!(column_count(spec.columns), schema[spec.name].len(), "{}", spec.name);
    }
}
