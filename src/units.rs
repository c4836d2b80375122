//! Quantities as people write them in settings and flags: byte sizes (`20MiB`) and durations (`7d`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A byte count written as `20MiB`, `10GiB`, `512KB` or a plain number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a size such as 512MiB, 10GiB or 1048576"))?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1_000,
            "kib" | "k" => 1 << 10,
            "mb" => 1_000_000,
            "mib" | "m" => 1 << 20,
            "gb" => 1_000_000_000,
            "gib" | "g" => 1 << 30,
            "tb" => 1_000_000_000_000,
            "tib" | "t" => 1 << 40,
            other => {
                return Err(format!(
                    "unknown size unit `{other}` in `{s}`; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"
                ));
            }
        };
        n.checked_mul(mult).map(ByteSize).ok_or_else(|| format!("`{s}` is too large"))
    }
}

impl TryFrom<String> for ByteSize {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ByteSize> for String {
    fn from(b: ByteSize) -> String {
        b.0.to_string()
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}B", self.0)
    }
}

/// A duration written with its unit: `7d`, `12h`, `30m`, `45s` or `100ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HumanDuration(pub Duration);

impl FromStr for HumanDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        // A setting must say its unit: a bare number (nanoseconds in the query API) is a likely mistake here.
        if s.trim().ends_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("`{s}` needs a unit: ms, s, m, h or d"));
        }
        crate::time::parse_duration(s).map(|nanos| HumanDuration(Duration::from_nanos(nanos)))
    }
}

impl TryFrom<String> for HumanDuration {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<HumanDuration> for String {
    fn from(d: HumanDuration) -> String {
        format!("{}ms", d.0.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_parse_with_units() {
        assert_eq!("20MiB".parse::<ByteSize>().unwrap().0, 20 << 20);
        assert_eq!("10GiB".parse::<ByteSize>().unwrap().0, 10 << 30);
        assert_eq!("512KB".parse::<ByteSize>().unwrap().0, 512_000);
        assert_eq!("1048576".parse::<ByteSize>().unwrap().0, 1 << 20);
        assert!("10 parsecs".parse::<ByteSize>().unwrap_err().contains("unknown size unit"));
        assert!("99999999999999TiB".parse::<ByteSize>().unwrap_err().contains("too large"));
        assert_eq!("7d".parse::<HumanDuration>().unwrap().0, Duration::from_secs(7 * 86_400));
        assert_eq!("100ms".parse::<HumanDuration>().unwrap().0, Duration::from_millis(100));
        assert!("7".parse::<HumanDuration>().unwrap_err().contains("needs a unit"));
    }
}
