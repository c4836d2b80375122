//! THE typed JSON encoding of OTLP `AnyValue`s and attribute lists, used by every `_other` JSONB column,
//! `otel_logs_fact.body_json`, exemplar `filtered_attributes` and metric `metadata`, and its decoder.
//!
//! Encoding (chosen so that the value type survives a trip through PostgreSQL `jsonb`):
//! - string -> JSON string; bool -> JSON bool; int -> JSON integer (no '.', no exponent);
//! - double -> JSON number in plain decimal notation that always contains a '.' (`2.0`, `0.0000001`,
//!   `1000000000000000000000.0`). Not scientific notation: jsonb stores numbers as `numeric` and prints
//!   `1e300` back as an integer, while it keeps the scale of `2.0`. NaN, +Inf, -Inf and -0.0, which `numeric`
//!   cannot hold, are tagged: `{"double": "NaN" | "Infinity" | "-Infinity" | "-0.0"}`;
//! - bytes -> `{"bytes": "<standard base64 with padding>"}`;
//! - array -> JSON array of encoded values; kvlist -> `{"kvlist": {key: value, ...}}`;
//! - empty AnyValue (no value set, or the profiles-only `string_value_strindex`) -> `null`;
//! - attribute list -> JSON object key -> encoded value (a repeated key: the last one wins, as in jsonb).
//!
//! Every JSON object in value position is therefore a one-key tag, which keeps decoding unambiguous.
//! The decoder parses the JSON text itself (rather than via `serde_json::Value`) so that doubles are read
//! with Rust's correctly rounded parser and integers are never confused with doubles.
//!
//! Files: `encoder.rs` writes the typed JSON (straight into COPY buffers or as strings), `decoder.rs` reads it
//! back with its own parser.

mod decoder;
mod encoder;
#[cfg(test)]
mod tests;

pub use decoder::{JsonDecodeError, any_value_from_json, attributes_from_json};
pub use encoder::{
    any_value_to_json, attributes_to_json, write_any_value, write_attributes, write_json_string, write_member,
    write_value,
};
