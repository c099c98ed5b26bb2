//! Task ids: `OPS-YYYYMMDD-NNN`, a per-day sequence that people can read out over the phone.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A task id such as `OPS-20261121-001`.
///
/// The date is the control room's local calendar day on which the task was registered; the
/// sequence counts from 1 within that day and is padded to three digits (it simply grows to
/// four digits on a day with more than 999 tasks, so ids never collide or wrap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    date: NaiveDate,
    seq: u32,
}

/// Why a string is not a task id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a task id like OPS-20261121-001 ({reason})")]
pub struct TaskIdError {
    input: String,
    reason: &'static str,
}

impl TaskId {
    const PREFIX: &'static str = "OPS-";
    /// Ids longer than this are refused before any parsing, so junk input costs nothing.
    const MAX_LEN: usize = 24;

    /// The `seq`-th task registered on `date`. Sequence numbers start at 1.
    pub fn new(date: NaiveDate, seq: u32) -> Option<Self> {
        (seq >= 1).then_some(Self { date, seq })
    }

    pub fn date(&self) -> NaiveDate {
        self.date
    }

    pub fn seq(&self) -> u32 {
        self.seq
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}-{:03}",
            Self::PREFIX,
            self.date.format("%Y%m%d"),
            self.seq
        )
    }
}

impl FromStr for TaskId {
    type Err = TaskIdError;

    /// Accepts the canonical form, ignoring surrounding blanks and the case of `OPS`
    /// (people type ids into the CLI). Non-canonical spellings such as `OPS-20261121-0001`
    /// are refused: two strings must never name the same task.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let refuse = |reason| TaskIdError {
            input: raw.chars().take(Self::MAX_LEN).collect(),
            reason,
        };
        let input = raw.trim();
        if input.len() > Self::MAX_LEN || !input.is_ascii() {
            return Err(refuse("too long or not ASCII"));
        }
        let upper = input.to_ascii_uppercase();
        let rest = upper
            .strip_prefix(Self::PREFIX)
            .ok_or_else(|| refuse("it must start with OPS-"))?;
        let (date, seq) = rest
            .split_once('-')
            .ok_or_else(|| refuse("a dash must separate date and sequence"))?;
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse("the date must be 8 digits, YYYYMMDD"));
        }
        let date = NaiveDate::parse_from_str(date, "%Y%m%d")
            .map_err(|_| refuse("the date is not a calendar day"))?;
        if seq.len() < 3 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse("the sequence must be at least 3 digits"));
        }
        let seq: u32 = seq
            .parse()
            .map_err(|_| refuse("the sequence is too large"))?;
        let id = Self::new(date, seq).ok_or_else(|| refuse("the sequence starts at 001"))?;
        if id.to_string() != upper {
            return Err(refuse("the sequence has extra leading zeros"));
        }
        Ok(id)
    }
}

impl Serialize for TaskId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn formats_as_ops_date_and_three_digit_sequence() {
        let id = TaskId::new(day(2026, 11, 21), 1).unwrap();
        assert_eq!(id.to_string(), "OPS-20261121-001");
    }

    #[test]
    fn sequence_grows_past_three_digits_instead_of_wrapping() {
        let id = TaskId::new(day(2026, 11, 21), 1000).unwrap();
        assert_eq!(id.to_string(), "OPS-20261121-1000");
        assert_eq!("OPS-20261121-1000".parse::<TaskId>().unwrap(), id);
    }

    #[test]
    fn parses_its_own_output_and_lowercase_typing() {
        let id = TaskId::new(day(2026, 2, 28), 42).unwrap();
        assert_eq!(id.to_string().parse::<TaskId>().unwrap(), id);
        assert_eq!(" ops-20260228-042 ".parse::<TaskId>().unwrap(), id);
    }

    #[test]
    fn sequence_zero_is_not_an_id() {
        assert!(TaskId::new(day(2026, 1, 1), 0).is_none());
        assert!("OPS-20260101-000".parse::<TaskId>().is_err());
    }

    #[test]
    fn refuses_malformed_ids_with_a_reason() {
        for bad in [
            "",
            "OPS-",
            "TSK-20261121-001",
            "OPS-2026112-001",
            "OPS-20261321-001",
            "OPS-20260230-001",
            "OPS-20261121-01",
            "OPS-20261121-0001",
            "OPS-20261121-00a",
            "OPS-20261121001",
            "OPS-20261121-99999999999999",
            "OPS-２０２６1121-001",
        ] {
            let err = bad.parse::<TaskId>().unwrap_err();
            assert!(
                err.to_string().contains("is not a task id"),
                "{bad:?} gave {err}"
            );
        }
    }

    #[test]
    fn serialises_as_a_plain_string() {
        let id = TaskId::new(day(2026, 11, 21), 7).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"OPS-20261121-007\"");
        assert_eq!(serde_json::from_str::<TaskId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<TaskId>("\"OPS-1\"").is_err());
    }
}
