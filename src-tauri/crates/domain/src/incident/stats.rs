//! Monthly incident statistics: counts by severity and type, time to respond and to recover
//! (mean and max), target breaches, recurrence (same system and type within 30 days), and
//! the MTTR trend over three months. Months are calendar months in the organisation's offset.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

use super::record::Incident;
use super::severity::{IncidentType, Severity, TargetState};

/// How far back a same-system, same-type incident makes a new one a recurrence.
pub const RECURRENCE_WINDOW: Duration = Duration::days(30);

/// A calendar month, e.g. 2026-12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn parse(raw: &str) -> Option<Self> {
        let (y, m) = raw.trim().split_once('-')?;
        let month = Month {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
        };
        month.first_day().map(|_| month)
    }

    fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month `at` falls in, in `offset`.
    pub fn of(at: DateTime<Utc>, offset: FixedOffset) -> Self {
        let local = at.with_timezone(&offset);
        Month {
            year: local.year(),
            month: local.month(),
        }
    }

    /// [start, end) in UTC.
    pub fn span(self, offset: FixedOffset) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = offset
            .from_local_datetime(&self.first_day()?.and_hms_opt(0, 0, 0)?)
            .single()?;
        let end = offset
            .from_local_datetime(&self.next().first_day()?.and_hms_opt(0, 0, 0)?)
            .single()?;
        Some((start.to_utc(), end.to_utc()))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Mean and max of some durations (whole seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub count: u32,
    pub mean: Option<Duration>,
    pub max: Option<Duration>,
}

impl Times {
    fn of(durations: &[Duration]) -> Self {
        let count = u32::try_from(durations.len()).unwrap_or(u32::MAX);
        if durations.is_empty() {
            return Self::default();
        }
        let total: i64 = durations.iter().map(|d| d.num_seconds()).sum();
        Self {
            count,
            mean: Some(Duration::seconds(total / i64::from(count.max(1)))),
            max: durations.iter().max().copied(),
        }
    }
}

/// One month's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthStats {
    pub month: Month,
    pub total: u32,
    pub by_severity: BTreeMap<Severity, u32>,
    pub by_type: BTreeMap<IncidentType, u32>,
    /// Opened → acknowledged, over those acknowledged.
    pub respond: Times,
    /// Opened → recovered, over those recovered (the MTTR).
    pub recover: Times,
    /// Incidents that missed a target (met late, or open past it at `now`), per target.
    pub respond_breaches: u32,
    pub recover_breaches: u32,
    /// Incidents whose system had an incident of the same type in the 30 days before.
    pub recurrences: u32,
}

/// The figures of `month` over `all` incidents (any order), as they stand at `now`.
pub fn month_stats(
    all: &[Incident],
    month: Month,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> MonthStats {
    let in_month: Vec<&Incident> = all
        .iter()
        .filter(|i| Month::of(i.opened_at, offset) == month)
        .collect();
    let mut by_severity = BTreeMap::new();
    let mut by_type = BTreeMap::new();
    let mut respond = Vec::new();
    let mut recover = Vec::new();
    let (mut respond_breaches, mut recover_breaches, mut recurrences) = (0, 0, 0);
    for i in &in_month {
        *by_severity.entry(i.severity).or_insert(0) += 1;
        *by_type.entry(i.kind).or_insert(0) += 1;
        if let Some(r) = &i.responded {
            respond.push(r.at - i.opened_at);
        }
        if let Some(at) = i.recovered_at {
            recover.push(at - i.opened_at);
        }
        let missed = |state| {
            matches!(
                state,
                TargetState::Met { late: true, .. } | TargetState::Breached { .. }
            )
        };
        respond_breaches += u32::from(missed(i.respond_state(now)));
        recover_breaches += u32::from(missed(i.recover_state(now)));
        recurrences += u32::from(is_recurrence(all, i));
    }
    MonthStats {
        month,
        total: u32::try_from(in_month.len()).unwrap_or(u32::MAX),
        by_severity,
        by_type,
        respond: Times::of(&respond),
        recover: Times::of(&recover),
        respond_breaches,
        recover_breaches,
        recurrences,
    }
}

/// Whether an earlier incident of the same system and type opened within
/// [`RECURRENCE_WINDOW`] before `incident`. Incidents without a system never recur.
pub fn is_recurrence(all: &[Incident], incident: &Incident) -> bool {
    let Some(system) = incident.links.system.as_deref() else {
        return false;
    };
    all.iter().any(|other| {
        other.id != incident.id
            && other.kind == incident.kind
            && other.links.system.as_deref() == Some(system)
            && other.opened_at < incident.opened_at
            && incident.opened_at - other.opened_at <= RECURRENCE_WINDOW
    })
}

/// MTTR (mean time to recover) of the three months ending with `month`, oldest first.
pub fn mttr_trend(
    all: &[Incident],
    month: Month,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Vec<(Month, Option<Duration>)> {
    let months = [month.previous().previous(), month.previous(), month];
    months
        .into_iter()
        .map(|m| (m, month_stats(all, m, offset, now).recover.mean))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::record::{Cause, Links, Mark, NewIncident};
    use crate::incident::severity::Targets;

    fn at(mo: u32, d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, mo, d, h, m, 0).unwrap()
    }

    fn incident(
        n: u32,
        opened: DateTime<Utc>,
        severity: Severity,
        kind: IncidentType,
        system: &str,
        respond_min: Option<i64>,
        recover_min: Option<i64>,
    ) -> Incident {
        let mut i = Incident::open(
            format!("INC-{}-{n:03}", opened.format("%Y%m%d")),
            NewIncident {
                title: format!("incident {n}"),
                kind,
                severity,
                cause: Cause::Manual,
                cause_key: None,
                links: Links {
                    system: Some(system.to_owned()),
                    ..Links::default()
                },
                opened_by: "kim".into(),
                detected_at: opened,
                targets: Targets::default_for(severity, 540),
                commander: None,
            },
            opened,
        )
        .unwrap();
        i.responded = respond_min.map(|m| Mark {
            by: "kim".into(),
            at: opened + Duration::minutes(m),
        });
        i.recovered_at = recover_min.map(|m| opened + Duration::minutes(m));
        i
    }

    #[test]
    fn a_seeded_month_matches_a_hand_count() {
        use IncidentType::*;
        use Severity::*;
        let kst = FixedOffset::east_opt(9 * 3600).unwrap();
        let all = vec![
            // October: one, recovered in 100 min.
            incident(
                1,
                at(10, 20, 1, 0),
                P2,
                Application,
                "hr",
                Some(10),
                Some(100),
            ),
            // November: two.
            incident(
                2,
                at(11, 25, 1, 0),
                P1,
                Infrastructure,
                "pay",
                Some(5),
                Some(50),
            ),
            incident(
                3,
                at(11, 28, 1, 0),
                P3,
                Performance,
                "mail",
                Some(30),
                Some(70),
            ),
            // 30 Nov 16:00 UTC is 1 Dec 01:00 KST: a December incident.
            incident(
                4,
                at(11, 30, 16, 0),
                P2,
                Application,
                "hr",
                Some(20),
                Some(200),
            ),
            // December.
            incident(
                5,
                at(12, 3, 1, 0),
                P1,
                Infrastructure,
                "pay",
                Some(20),
                Some(40),
            ),
            incident(6, at(12, 10, 1, 0), P2, Application, "hr", Some(40), None),
            incident(7, at(12, 20, 1, 0), P3, Performance, "mail", None, None),
        ];
        let now = at(12, 31, 0, 0);
        let dec = month_stats(
            &all,
            Month {
                year: 2026,
                month: 12,
            },
            kst,
            now,
        );
        assert_eq!(dec.total, 4);
        assert_eq!(dec.by_severity, BTreeMap::from([(P1, 1), (P2, 2), (P3, 1)]));
        assert_eq!(
            dec.by_type,
            BTreeMap::from([(Infrastructure, 1), (Application, 2), (Performance, 1)])
        );
        // Responded: 20, 20, 40 → mean 26 min 40 s, max 40.
        assert_eq!(dec.respond.count, 3);
        assert_eq!(dec.respond.mean, Some(Duration::seconds(1600)));
        assert_eq!(dec.respond.max, Some(Duration::minutes(40)));
        // Recovered: 200, 40 → mean 120, max 200.
        assert_eq!(dec.recover.mean, Some(Duration::minutes(120)));
        assert_eq!(dec.recover.max, Some(Duration::minutes(200)));
        // Respond targets: #4 P2 20 ≤ 30 ok; #5 P1 20 > 15 late; #6 P2 40 > 30 late;
        // #7 P3 never responded, open past 2 h → 2 + 1 = 3.
        assert_eq!(dec.respond_breaches, 3);
        // Recover: #4 200 ≤ 240 ok; #5 40 ≤ 60 ok; #6 open past 4 h; #7 open past 24 h → 2.
        assert_eq!(dec.recover_breaches, 2);
        // Recurrences: #4 (hr/Application, #1 was 41 days before → no); #5 (pay/Infra, #2
        // 8 days before → yes); #6 (hr/Application, #4 9 days before → yes); #7 (mail/Perf,
        // #3 22 days before → yes).
        assert_eq!(dec.recurrences, 3);
        let trend = mttr_trend(
            &all,
            Month {
                year: 2026,
                month: 12,
            },
            kst,
            now,
        );
        assert_eq!(
            trend,
            vec![
                (
                    Month {
                        year: 2026,
                        month: 10
                    },
                    Some(Duration::minutes(100))
                ),
                (
                    Month {
                        year: 2026,
                        month: 11
                    },
                    Some(Duration::minutes(60))
                ),
                (
                    Month {
                        year: 2026,
                        month: 12
                    },
                    Some(Duration::minutes(120))
                ),
            ]
        );
        assert_eq!(
            Month::parse("2026-12"),
            Some(Month {
                year: 2026,
                month: 12
            })
        );
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(
            Month {
                year: 2026,
                month: 1
            }
            .previous()
            .to_string(),
            "2025-12"
        );
    }
}
