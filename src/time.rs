//! The one timestamp conversion of the project.
//!
//! OTLP carries times as `fixed64` nanoseconds since the Unix epoch, with 0 meaning "unset".
//! PostgreSQL stores `TIMESTAMPTZ` with microsecond precision, so every time column is paired with a
//! `SMALLINT` `<col>_nanos_fraction` (0..=999) holding the sub-microsecond rest: together they
//! round-trip an OTLP time exactly. Valid OTLP times are `1..=i64::MAX` nanoseconds (up to
//! 2262-04-11T23:47:16.854775807Z); larger ones are rejected, never wrapped.

use chrono::{DateTime, Utc};

/// Nanoseconds per microsecond.
const NANOS_PER_MICRO: u64 = 1_000;

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01T00:00:00Z), used by binary COPY.
pub const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// The latest storable time in unix nanoseconds (2262-04-11T23:47:16.854775807Z).
pub const MAX_UNIX_NANOS: u64 = i64::MAX as u64;

/// Errors of timestamp conversion and parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The time is after 2262-04-11T23:47:16.854775807Z, the latest time representable in i64 nanoseconds.
    #[error(
        "time {nanos} ns since the Unix epoch is out of range (the latest storable time is {MAX_UNIX_NANOS} ns, 2262-04-11T23:47:16.854775807Z)"
    )]
    OutOfRange {
        /// The offending value in unix nanoseconds.
        nanos: u64,
    },
    /// Stored parts that do not describe a time in 1..=i64::MAX unix nanoseconds.
    #[error(
        "stored time parts are invalid: {micros} us since the Unix epoch with nanos fraction {nanos_fraction} (fraction must be 0..=999 and the time within 1970-01-01..2262-04-11)"
    )]
    InvalidParts {
        /// Microseconds since the Unix epoch.
        micros: i64,
        /// The sub-microsecond nanoseconds.
        nanos_fraction: i16,
    },
    /// A time string that is neither RFC 3339 nor a count of unix nanoseconds.
    #[error("invalid time {input:?}: {reason}")]
    Parse {
        /// The text given.
        input: String,
        /// Why it was refused.
        reason: String,
    },
}

/// A set OTLP time as PostgreSQL stores it: microseconds since the Unix epoch plus a 0..=999 nanosecond fraction.
///
/// Invariant: `micros_since_unix * 1000 + nanos_fraction` is in `1..=i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PgTime {
    micros_since_unix: i64,
    nanos_fraction: i16,
}

/// Converts an OTLP time (unix nanoseconds) to its stored form: `Ok(None)` for 0 (unset), an error beyond i64::MAX.
pub fn from_unix_nanos(nanos: u64) -> Result<Option<PgTime>, TimeError> {
    if nanos == 0 {
        return Ok(None);
    }
    if nanos > MAX_UNIX_NANOS {
        return Err(TimeError::OutOfRange { nanos });
    }
    // Both casts are lossless: nanos <= i64::MAX and the remainder is < 1000.
    Ok(Some(PgTime {
        micros_since_unix: (nanos / NANOS_PER_MICRO) as i64,
        nanos_fraction: (nanos % NANOS_PER_MICRO) as i16,
    }))
}

/// The current time in unix nanoseconds (e.g. a request's receive time); 0 only if the clock is before 1970.
pub fn now_unix_nanos() -> u64 {
    Utc::now().timestamp_nanos_opt().and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

/// Checks that an OTLP time is storable (0, meaning unset, is storable).
pub fn check_unix_nanos(nanos: u64) -> Result<(), TimeError> {
    from_unix_nanos(nanos).map(|_| ())
}

impl PgTime {
    /// Rebuilds a time from its stored parts (microseconds since the Unix epoch and the nanosecond fraction).
    pub fn from_parts(micros_since_unix: i64, nanos_fraction: i16) -> Result<PgTime, TimeError> {
        let invalid = TimeError::InvalidParts { micros: micros_since_unix, nanos_fraction };
        if !(0..=999).contains(&nanos_fraction) || micros_since_unix < 0 {
            return Err(invalid);
        }
        let nanos = micros_since_unix
            .checked_mul(NANOS_PER_MICRO as i64)
            .and_then(|n| n.checked_add(i64::from(nanos_fraction)))
            .ok_or(invalid.clone())?;
        if nanos == 0 {
            return Err(invalid);
        }
        Ok(PgTime { micros_since_unix, nanos_fraction })
    }

    /// Rebuilds a time from a binary COPY / wire timestamptz (microseconds since 2000-01-01) and the fraction.
    pub fn from_pg_micros(pg_micros: i64, nanos_fraction: i16) -> Result<PgTime, TimeError> {
        let micros = pg_micros
            .checked_add(PG_EPOCH_OFFSET_MICROS)
            .ok_or(TimeError::InvalidParts { micros: pg_micros, nanos_fraction })?;
        PgTime::from_parts(micros, nanos_fraction)
    }

    /// Rebuilds a time from a `TIMESTAMPTZ` read back as chrono (microsecond precision) and the fraction column.
    pub fn from_datetime_and_fraction(at: DateTime<Utc>, nanos_fraction: i16) -> Result<PgTime, TimeError> {
        PgTime::from_parts(at.timestamp_micros(), nanos_fraction)
    }

    /// Microseconds since the Unix epoch (the `TIMESTAMPTZ` part).
    pub fn micros_since_unix(&self) -> i64 {
        self.micros_since_unix
    }

    /// Nanoseconds beyond the microsecond, 0..=999 (the `_nanos_fraction` column).
    pub fn nanos_fraction(&self) -> i16 {
        self.nanos_fraction
    }

    /// Microseconds since 2000-01-01T00:00:00Z, the value binary COPY expects for a `TIMESTAMPTZ`.
    pub fn pg_micros(&self) -> i64 {
        // Cannot overflow: micros_since_unix >= 0 and the offset is far below i64::MAX.
        self.micros_since_unix - PG_EPOCH_OFFSET_MICROS
    }

    /// The OTLP time again: unix nanoseconds (exact round trip of `from_unix_nanos`).
    pub fn unix_nanos(&self) -> u64 {
        // The invariant keeps this within 1..=i64::MAX.
        self.micros_since_unix as u64 * NANOS_PER_MICRO + self.nanos_fraction as u64
    }

    /// The `TIMESTAMPTZ` part as chrono, truncated to the microsecond (what PostgreSQL keeps).
    pub fn datetime_micros(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.micros_since_unix * NANOS_PER_MICRO as i64)
    }

    /// The full time as chrono, with nanosecond precision.
    pub fn datetime(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.unix_nanos() as i64)
    }
}

/// THE duration parser (settings and API parameters): a number with unit ns, us, ms, s, m, h or d (`250ms`, `1.5s`,
/// `7d`), or a plain number of nanoseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let factor: f64 = match unit.trim() {
        "" | "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        "d" => 86_400e9,
        other => {
            return Err(format!("unknown unit {other:?}; use ns, us, ms, s, m, h or d (e.g. 250ms)"));
        }
    };
    let n: f64 =
        num.parse().map_err(|_| format!("{text:?} is not a duration like 250ms, 1.5s or 1000000 (nanoseconds)"))?;
    let nanos = n * factor;
    if !nanos.is_finite() || nanos < 0.0 || nanos > i64::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(nanos.round() as u64)
}

/// Parses a query-API time: RFC 3339 (e.g. `2026-11-26T16:00:00.123456789Z`) or unix nanoseconds (`1764172800000000000`).
pub fn parse_time(input: &str) -> Result<u64, TimeError> {
    let parse_err = |reason: &str| TimeError::Parse { input: input.to_owned(), reason: reason.to_owned() };
    let text = input.trim();
    if text.is_empty() {
        return Err(parse_err("empty; expected RFC 3339 (2026-01-02T03:04:05Z) or unix nanoseconds"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let nanos: u64 = text.parse().map_err(|_| parse_err("unix nanoseconds beyond the largest 64-bit value"))?;
        if nanos > MAX_UNIX_NANOS {
            return Err(TimeError::OutOfRange { nanos });
        }
        return Ok(nanos);
    }
    let at = DateTime::parse_from_rfc3339(text).map_err(|e| {
        parse_err(&format!(
            "not RFC 3339 ({e}) nor unix nanoseconds; expected e.g. 2026-01-02T03:04:05Z or 1767323045000000000"
        ))
    })?;
    let nanos = at
        .timestamp_nanos_opt()
        .ok_or_else(|| parse_err("outside 1677-09-21..2262-04-11, the range of 64-bit nanoseconds"))?;
    u64::try_from(nanos).map_err(|_| parse_err("before 1970-01-01T00:00:00Z (the Unix epoch)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(nanos: u64) {
        let t = from_unix_nanos(nanos).unwrap().unwrap();
        assert_eq!(t.unix_nanos(), nanos, "unix nanos round trip of {nanos}");
        assert_eq!(t.micros_since_unix(), (nanos / 1000) as i64);
        assert_eq!(t.nanos_fraction(), (nanos % 1000) as i16);
        assert!((0..=999).contains(&t.nanos_fraction()));
        assert_eq!(PgTime::from_parts(t.micros_since_unix(), t.nanos_fraction()).unwrap(), t);
        assert_eq!(PgTime::from_pg_micros(t.pg_micros(), t.nanos_fraction()).unwrap(), t);
        assert_eq!(PgTime::from_datetime_and_fraction(t.datetime_micros(), t.nanos_fraction()).unwrap(), t);
        assert_eq!(t.datetime().timestamp_nanos_opt(), Some(nanos as i64));
        assert_eq!(t.datetime_micros().timestamp_micros(), t.micros_since_unix());
    }

    #[test]
    fn now_is_a_storable_recent_time() {
        let before = now_unix_nanos();
        // 2026-01-01T00:00:00Z: this code was written in late 2026.
        assert!(before > 1_767_225_600_000_000_000, "{before}");
        let t = from_unix_nanos(before).unwrap().unwrap();
        assert_eq!(t.unix_nanos(), before);
        assert!(now_unix_nanos() >= before);
    }

    #[test]
    fn zero_is_unset() {
        assert_eq!(from_unix_nanos(0), Ok(None));
        assert_eq!(check_unix_nanos(0), Ok(()));
    }

    #[test]
    fn edges_round_trip() {
        for n in [1, 999, 1000, 1001, 1_000_000_001, 1_795_708_800_123_456_789, i64::MAX as u64 - 1, i64::MAX as u64] {
            round_trip(n);
        }
        let one = from_unix_nanos(1).unwrap().unwrap();
        assert_eq!((one.micros_since_unix(), one.nanos_fraction()), (0, 1));
        let t = from_unix_nanos(999).unwrap().unwrap();
        assert_eq!((t.micros_since_unix(), t.nanos_fraction()), (0, 999));
        let t = from_unix_nanos(1000).unwrap().unwrap();
        assert_eq!((t.micros_since_unix(), t.nanos_fraction()), (1, 0));
        let t = from_unix_nanos(1_000_000_001).unwrap().unwrap();
        assert_eq!((t.micros_since_unix(), t.nanos_fraction()), (1_000_000, 1));
        let max = from_unix_nanos(i64::MAX as u64).unwrap().unwrap();
        assert_eq!((max.micros_since_unix(), max.nanos_fraction()), (9_223_372_036_854_775, 807));
        assert_eq!(
            max.datetime().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            "2262-04-11T23:47:16.854775807Z"
        );
    }

    #[test]
    fn beyond_i64_max_is_rejected_not_wrapped() {
        for n in [i64::MAX as u64 + 1, u64::MAX - 1, u64::MAX] {
            assert_eq!(from_unix_nanos(n), Err(TimeError::OutOfRange { nanos: n }));
            assert!(check_unix_nanos(n).is_err());
        }
        let msg = from_unix_nanos(u64::MAX).unwrap_err().to_string();
        assert!(msg.contains("18446744073709551615") && msg.contains("2262"), "{msg}");
    }

    #[test]
    fn pg_epoch_conversion() {
        // 2000-01-01T00:00:00Z is 0 in PostgreSQL's binary format.
        let t = from_unix_nanos(946_684_800_000_000_000).unwrap().unwrap();
        assert_eq!(t.pg_micros(), 0);
        let t = from_unix_nanos(1).unwrap().unwrap();
        assert_eq!(t.pg_micros(), -PG_EPOCH_OFFSET_MICROS);
        let t = from_unix_nanos(946_684_800_000_001_500).unwrap().unwrap();
        assert_eq!((t.pg_micros(), t.nanos_fraction()), (1, 500));
    }

    #[test]
    fn invalid_parts_are_rejected() {
        assert!(PgTime::from_parts(5, 1000).is_err());
        assert!(PgTime::from_parts(5, -1).is_err());
        assert!(PgTime::from_parts(-1, 0).is_err());
        assert!(PgTime::from_parts(0, 0).is_err());
        assert!(PgTime::from_parts(i64::MAX, 0).is_err());
        assert!(PgTime::from_parts(9_223_372_036_854_775, 808).is_err());
        assert!(PgTime::from_pg_micros(i64::MAX, 0).is_err());
        assert!(PgTime::from_pg_micros(-PG_EPOCH_OFFSET_MICROS - 1, 0).is_err());
        assert_eq!(PgTime::from_parts(9_223_372_036_854_775, 807).unwrap().unix_nanos(), i64::MAX as u64);
    }

    #[test]
    fn many_values_round_trip() {
        // A deterministic xorshift spread over the whole valid range, plus every value near the unit boundaries.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = x >> (x % 64) as u32;
            if n == 0 {
                continue;
            }
            if n > MAX_UNIX_NANOS {
                assert_eq!(from_unix_nanos(n), Err(TimeError::OutOfRange { nanos: n }));
            } else {
                round_trip(n);
            }
        }
        for base in [1_000u64, 1_000_000, 1_000_000_000, 1_764_172_800_000_000_000] {
            for n in base - 3..base + 3 {
                round_trip(n);
            }
        }
    }

    #[test]
    fn parse_rfc3339_and_nanos() {
        assert_eq!(parse_time("0").unwrap(), 0);
        assert_eq!(parse_time("1795708800123456789").unwrap(), 1_795_708_800_123_456_789);
        assert_eq!(parse_time("2026-11-26T16:00:00.123456789Z").unwrap(), 1_795_708_800_123_456_789);
        assert_eq!(parse_time("2026-11-26T17:00:00.123456789+01:00").unwrap(), 1_795_708_800_123_456_789);
        assert_eq!(parse_time(" 1970-01-01T00:00:00Z ").unwrap(), 0);
        assert_eq!(parse_time("9223372036854775807").unwrap(), i64::MAX as u64);
    }

    #[test]
    fn parse_errors_are_clear() {
        assert_eq!(parse_time("9223372036854775808"), Err(TimeError::OutOfRange { nanos: 9_223_372_036_854_775_808 }));
        for (input, needle) in [
            ("", "empty"),
            ("99999999999999999999", "64-bit"),
            ("yesterday", "RFC 3339"),
            ("-5", "RFC 3339"),
            ("2026-13-01T00:00:00Z", "RFC 3339"),
            ("1969-12-31T23:59:59Z", "before 1970"),
            ("2263-01-01T00:00:00Z", "outside"),
        ] {
            let err = parse_time(input).unwrap_err();
            assert!(matches!(err, TimeError::Parse { .. }), "{input}: {err}");
            assert!(err.to_string().contains(needle), "{input}: {err}");
        }
    }
}
