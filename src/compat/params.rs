//! What the Jaeger and Tempo APIs accept as ids, times and durations, turned into ollyscale's (unix
//! nanoseconds, 16-byte trace ids); every failure is a 400 naming the parameter.

use crate::ids::{self, TraceId};
use crate::query::error::ApiError;
use crate::query::params::Window;

/// A trace id of 1 to 32 hex digits, either case, left-padded with zeros (Jaeger and Tempo drop leading
/// zeros when they print ids).
pub fn trace_id(name: &str, text: &str) -> Result<TraceId, ApiError> {
    let t = text.trim();
    if t.is_empty() || t.len() > 32 {
        return Err(ApiError::bad(name, format!("{t:?} is not a trace id of 1 to 32 hex digits")));
    }
    ids::parse_trace_id(&format!("{t:0>32}")).map_err(|e| ApiError::bad(name, e.to_string()))
}

/// A trace id as Jaeger's v1 JSON prints it: 16 hex digits when the high 64 bits are zero, else 32.
pub fn jaeger_trace_id(id: &[u8]) -> String {
    match id.split_at_checked(8) {
        Some((high, low)) if high.iter().all(|b| *b == 0) => ids::to_hex(low),
        _ => ids::to_hex(id),
    }
}

/// A trace id as Tempo prints it in search results: hex without leading zeros.
pub fn tempo_trace_id(id: &[u8]) -> String {
    let hex = ids::to_hex(id);
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() { "0".to_string() } else { trimmed.to_string() }
}

/// A Go duration (`250ms`, `1.5s`, `1m30s`, `2h45m`), in nanoseconds.
pub fn go_duration(name: &str, text: &str) -> Result<u64, ApiError> {
    let t = text.trim();
    let bad = |why: String| ApiError::bad(name, format!("{t:?} is not a duration like 250ms, 1.5s or 1m30s: {why}"));
    if t.is_empty() {
        return Err(bad("empty".into()));
    }
    let mut total: u64 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        // One `<number><unit>` part: the unit runs until the next digit.
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let unit_end =
            rest[num_end..].find(|c: char| c.is_ascii_digit() || c == '.').map_or(rest.len(), |i| num_end + i);
        if num_end == 0 {
            return Err(bad("a part has no number".into()));
        }
        let nanos = crate::time::parse_duration(&rest[..unit_end]).map_err(bad)?;
        total = total.checked_add(nanos).ok_or_else(|| bad("out of range".into()))?;
        rest = &rest[unit_end..];
    }
    Ok(total)
}

/// An RFC 3339 time with up to nanoseconds, in unix nanoseconds. A space where the offset's `+` belongs is
/// read as `+`: Grafana appends these times to URLs without encoding them, and `+` decodes to a space.
pub fn rfc3339(name: &str, text: &str) -> Result<u64, ApiError> {
    let t = text.trim().replace(' ', "+");
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad(name, format!("{t:?} is not an RFC 3339 time like 2026-01-02T03:04:05.123456789Z")));
    }
    crate::time::parse_time(&t).map_err(|e| ApiError::bad(name, e.to_string()))
}

/// An integer parameter in `unit_nanos` units (µs, ms, s), in nanoseconds.
pub fn epoch(name: &str, text: &str, unit_nanos: u64) -> Result<u64, ApiError> {
    let n: u64 = text.trim().parse().map_err(|_| {
        ApiError::bad(
            name,
            format!("{text:?} is not a non-negative integer ({} since the Unix epoch)", unit_name(unit_nanos)),
        )
    })?;
    n.checked_mul(unit_nanos)
        .filter(|n| *n <= crate::time::MAX_UNIX_NANOS)
        .ok_or_else(|| ApiError::bad(name, format!("{n} is out of range")))
}

fn unit_name(unit_nanos: u64) -> &'static str {
    match unit_nanos {
        1_000 => "microseconds",
        1_000_000 => "milliseconds",
        1_000_000_000 => "seconds",
        _ => "nanoseconds",
    }
}

/// The window `[from, to)`: `to` after `from` (else 400 naming `to_name`), at most `max` wide (a wider one
/// keeps its newest `max`: these clients send fixed lookbacks such as a week).
pub fn window(from: u64, to: u64, max: u64, to_name: &str) -> Result<Window, ApiError> {
    if to <= from {
        return Err(ApiError::bad(to_name, "must be after the start of the time range"));
    }
    Ok(Window { from: from.max(to.saturating_sub(max)), to })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_are_left_padded_and_printed_per_protocol() {
        let id = trace_id("id", "ABC").unwrap();
        assert_eq!(ids::to_hex(&id), format!("{:0>32}", "abc"));
        assert_eq!(jaeger_trace_id(&id), "0000000000000abc");
        assert_eq!(tempo_trace_id(&id), "abc");
        let full = trace_id("id", "0102030405060708090a0b0c0d0e0f10").unwrap();
        assert_eq!(jaeger_trace_id(&full), "0102030405060708090a0b0c0d0e0f10");
        assert_eq!(tempo_trace_id(&full), "102030405060708090a0b0c0d0e0f10");
        assert!(trace_id("id", "").is_err());
        assert!(trace_id("id", &"1".repeat(33)).is_err());
        assert!(trace_id("id", "xyz").is_err());
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("d", "250ms").unwrap(), 250_000_000);
        assert_eq!(go_duration("d", "1.5s").unwrap(), 1_500_000_000);
        assert_eq!(go_duration("d", "1m30s").unwrap(), 90_000_000_000);
        assert_eq!(go_duration("d", "2h45m").unwrap(), 9_900_000_000_000);
        assert_eq!(go_duration("d", "10us").unwrap(), 10_000);
        assert_eq!(go_duration("d", "10µs").unwrap(), 10_000);
        for bad in ["", "ms", "1x", "-1s", "1s-"] {
            assert!(go_duration("d", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3339_times_tolerate_an_unencoded_plus() {
        let z = rfc3339("t", "2026-12-03T10:00:00.000000001Z").unwrap();
        assert_eq!(rfc3339("t", "2026-12-03T11:00:00.000000001 01:00").unwrap(), z);
        assert_eq!(rfc3339("t", "2026-12-03T11:00:00.000000001+01:00").unwrap(), z);
        assert!(rfc3339("t", "yesterday").is_err());
        assert!(rfc3339("t", "1764756000").is_err());
    }

    #[test]
    fn windows_keep_their_newest_part() {
        assert_eq!(window(10, 100, 50, "end").unwrap(), Window { from: 50, to: 100 });
        assert!(window(100, 100, 50, "end").is_err());
        assert_eq!(epoch("start", "5", 1_000).unwrap(), 5_000);
        assert!(epoch("start", "-5", 1_000).is_err());
        assert!(epoch("start", &u64::MAX.to_string(), 1_000).is_err());
    }
}
