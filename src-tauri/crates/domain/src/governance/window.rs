//! Deploy windows: when a system may be changed (SPEC §3).
//!
//! A system may allow changes only in authorised weekly hours — in an explicit UTC offset,
//! never the workstation's zone — and never during a change freeze. The security check and the
//! start of a rollout ask [`DeployWindows::check`]; a refusal names the next open moment.

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveTime, Offset, TimeZone, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

/// How far ahead [`DeployWindows::next_open`] looks (a year and a bit).
const HORIZON_DAYS: i64 = 400;
/// The most hour ranges and freezes one system keeps.
pub const MAX_RULES: usize = 64;

/// Authorised hours on some weekdays, `from` ≤ t < `to` in the windows' offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    pub days: Vec<Weekday>,
    pub from: NaiveTime,
    pub to: NaiveTime,
}

/// A change freeze, `from` ≤ t < `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub reason: String,
}

/// One system's deploy windows. The default (no hours, no freezes) is always open.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeployWindows {
    /// The offset the hours are written in, in minutes east of UTC (+09:00 → 540).
    pub utc_offset_minutes: i32,
    /// Empty: any hour.
    pub hours: Vec<WeeklyHours>,
    pub freezes: Vec<Freeze>,
}

/// Why a change may not happen now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "closed", rename_all = "snake_case")]
pub enum Closed {
    OutsideHours {
        next_open: Option<DateTime<Utc>>,
    },
    Freeze {
        reason: String,
        next_open: Option<DateTime<Utc>>,
    },
}

impl Closed {
    pub fn next_open(&self) -> Option<DateTime<Utc>> {
        match self {
            Closed::OutsideHours { next_open } | Closed::Freeze { next_open, .. } => *next_open,
        }
    }
}

/// A window definition that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowProblem {
    #[error("the UTC offset must be between -14:00 and +14:00")]
    Offset,
    #[error("hours must end after they start ({from}–{to})")]
    EmptyHours { from: NaiveTime, to: NaiveTime },
    #[error("hours name no weekday")]
    NoDays,
    #[error("a freeze must end after it starts")]
    EmptyFreeze,
    #[error("a freeze needs a reason")]
    FreezeReason,
    #[error("at most {MAX_RULES} hour ranges and {MAX_RULES} freezes")]
    TooMany,
    #[error("cannot read `{0}`; write hours as `mon-fri 09:00-18:00`")]
    Unreadable(String),
}

impl DeployWindows {
    fn offset(&self) -> FixedOffset {
        // check_definition keeps the offset in range; UTC is only a fallback for a bad row.
        FixedOffset::east_opt(self.utc_offset_minutes * 60).unwrap_or(Utc.fix())
    }

    pub fn check_definition(&self) -> Result<(), WindowProblem> {
        if !(-14 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            return Err(WindowProblem::Offset);
        }
        if self.hours.len() > MAX_RULES || self.freezes.len() > MAX_RULES {
            return Err(WindowProblem::TooMany);
        }
        for hours in &self.hours {
            if hours.to <= hours.from {
                return Err(WindowProblem::EmptyHours {
                    from: hours.from,
                    to: hours.to,
                });
            }
            if hours.days.is_empty() {
                return Err(WindowProblem::NoDays);
            }
        }
        for freeze in &self.freezes {
            if freeze.to <= freeze.from {
                return Err(WindowProblem::EmptyFreeze);
            }
            if freeze.reason.trim().is_empty() {
                return Err(WindowProblem::FreezeReason);
            }
        }
        Ok(())
    }

    fn in_hours(&self, at: DateTime<Utc>) -> bool {
        if self.hours.is_empty() {
            return true;
        }
        let local = at.with_timezone(&self.offset());
        let (day, time) = (local.weekday(), local.time());
        self.hours
            .iter()
            .any(|h| h.days.contains(&day) && h.from <= time && time < h.to)
    }

    fn freeze_at(&self, at: DateTime<Utc>) -> Option<&Freeze> {
        self.freezes.iter().find(|f| f.from <= at && at < f.to)
    }

    /// `Ok` when a change may happen at `at`; otherwise why not and when it next may.
    pub fn check(&self, at: DateTime<Utc>) -> Result<(), Closed> {
        if let Some(freeze) = self.freeze_at(at) {
            return Err(Closed::Freeze {
                reason: freeze.reason.clone(),
                next_open: self.next_open(at),
            });
        }
        if !self.in_hours(at) {
            return Err(Closed::OutsideHours {
                next_open: self.next_open(at),
            });
        }
        Ok(())
    }

    fn open_at(&self, at: DateTime<Utc>) -> bool {
        self.freeze_at(at).is_none() && self.in_hours(at)
    }

    /// The first moment at or after `at` when a change may happen, looking about a year
    /// ahead. An open stretch begins at `at` itself, at the start of some hour range, or at
    /// the end of a freeze, so only those moments need testing.
    pub fn next_open(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let offset = self.offset();
        let mut candidates = vec![at];
        candidates.extend(self.freezes.iter().map(|f| f.to).filter(|t| *t >= at));
        let first_day = at.with_timezone(&offset).date_naive();
        for n in 0..HORIZON_DAYS {
            let Some(day) = first_day.checked_add_signed(Duration::days(n)) else {
                break;
            };
            for hours in self
                .hours
                .iter()
                .filter(|h| h.days.contains(&day.weekday()))
            {
                if let Some(start) = offset
                    .from_local_datetime(&day.and_time(hours.from))
                    .single()
                {
                    let start = start.to_utc();
                    if start >= at {
                        candidates.push(start);
                    }
                }
            }
        }
        candidates.sort();
        candidates.into_iter().find(|t| self.open_at(*t))
    }
}

impl WeeklyHours {
    /// `mon-fri 09:00-18:00`, `sat,sun 10:00-12:00`, `daily 02:00-05:00`.
    pub fn parse(raw: &str) -> Result<Self, WindowProblem> {
        let unreadable = || WindowProblem::Unreadable(raw.chars().take(60).collect());
        let mut parts = raw.split_whitespace();
        let (Some(days), Some(times), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(unreadable());
        };
        let days = parse_days(days).ok_or_else(unreadable)?;
        let (from, to) = times.split_once('-').ok_or_else(unreadable)?;
        let time = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| unreadable());
        let (from, to) = (time(from)?, time(to)?);
        Ok(Self { days, from, to })
    }
}

impl fmt::Display for WeeklyHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<String> = self
            .days
            .iter()
            .map(|d| d.to_string().to_ascii_lowercase())
            .collect();
        write!(
            f,
            "{} {}-{}",
            days.join(","),
            self.from.format("%H:%M"),
            self.to.format("%H:%M")
        )
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn parse_day(raw: &str) -> Option<Weekday> {
    let raw = raw.to_ascii_lowercase();
    WEEK.into_iter()
        .find(|d| d.to_string().to_ascii_lowercase() == raw)
}

fn parse_days(raw: &str) -> Option<Vec<Weekday>> {
    if raw.eq_ignore_ascii_case("daily") {
        return Some(WEEK.to_vec());
    }
    let mut days = Vec::new();
    for part in raw.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (parse_day(from)?, parse_day(to)?);
                let (a, b) = (from.num_days_from_monday(), to.num_days_from_monday());
                if a > b {
                    return None;
                }
                days.extend(WEEK[a as usize..=b as usize].iter().copied());
            }
            None => days.push(parse_day(part)?),
        }
    }
    days.dedup();
    Some(days)
}

/// `+09:00` → 540 minutes.
pub fn parse_utc_offset(raw: &str) -> Option<i32> {
    let raw = raw.trim();
    let raw = raw.strip_prefix("UTC").unwrap_or(raw);
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    Some(sign * (h * 60 + m))
}

/// 540 → `+09:00`.
pub fn format_utc_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn office_hours() -> DeployWindows {
        DeployWindows {
            utc_offset_minutes: 9 * 60,
            hours: vec![WeeklyHours::parse("mon-fri 09:00-18:00").unwrap()],
            freezes: Vec::new(),
        }
    }

    #[test]
    fn no_windows_means_always_open() {
        assert_eq!(
            DeployWindows::default().check(utc("2026-12-05T03:00:00Z")),
            Ok(())
        );
    }

    #[test]
    fn office_hours_are_read_in_their_own_offset() {
        let windows = office_hours();
        // Wed 2026-12-02 10:00 KST = 01:00Z: open.
        assert_eq!(windows.check(utc("2026-12-02T01:00:00Z")), Ok(()));
        // Wed 19:00 KST = 10:00Z: closed until Thu 09:00 KST = Thu 00:00Z.
        assert_eq!(
            windows.check(utc("2026-12-02T10:00:00Z")),
            Err(Closed::OutsideHours {
                next_open: Some(utc("2026-12-03T00:00:00Z"))
            })
        );
    }

    #[test]
    fn friday_evening_names_monday_morning() {
        // Fri 2026-12-04 20:00 KST.
        let closed = office_hours()
            .check(utc("2026-12-04T11:00:00Z"))
            .unwrap_err();
        assert_eq!(closed.next_open(), Some(utc("2026-12-07T00:00:00Z")));
    }

    #[test]
    fn a_freeze_closes_open_hours_and_names_the_first_open_moment_after_it() {
        let mut windows = office_hours();
        windows.freezes.push(Freeze {
            from: utc("2026-12-02T00:00:00Z"),
            // Ends Thu 12:30 KST, inside office hours: open from then on.
            to: utc("2026-12-03T03:30:00Z"),
            reason: "year-end freeze".into(),
        });
        assert_eq!(
            windows.check(utc("2026-12-02T01:00:00Z")),
            Err(Closed::Freeze {
                reason: "year-end freeze".into(),
                next_open: Some(utc("2026-12-03T03:30:00Z"))
            })
        );
    }

    #[test]
    fn hours_parse_and_print_back() {
        for raw in ["mon,tue,wed,thu,fri 09:00-18:00", "sat 10:00-12:30"] {
            assert_eq!(WeeklyHours::parse(raw).unwrap().to_string(), raw);
        }
        assert_eq!(
            WeeklyHours::parse("daily 02:00-05:00").unwrap().days.len(),
            7
        );
        assert!(WeeklyHours::parse("fri-mon 09:00-18:00").is_err());
        assert!(WeeklyHours::parse("someday 09:00-18:00").is_err());
        assert!(WeeklyHours::parse("mon 9-18").is_err());
    }

    #[test]
    fn offsets_are_explicit() {
        assert_eq!(parse_utc_offset("+09:00"), Some(540));
        assert_eq!(parse_utc_offset("UTC-03:30"), Some(-210));
        assert_eq!(parse_utc_offset("09:00"), None);
        assert_eq!(format_utc_offset(540), "+09:00");
        assert_eq!(format_utc_offset(-210), "-03:30");
    }

    #[test]
    fn definitions_that_make_no_sense_are_refused() {
        let mut windows = office_hours();
        windows.hours[0].to = windows.hours[0].from;
        assert!(matches!(
            windows.check_definition(),
            Err(WindowProblem::EmptyHours { .. })
        ));
        assert_eq!(office_hours().check_definition(), Ok(()));
    }
}
