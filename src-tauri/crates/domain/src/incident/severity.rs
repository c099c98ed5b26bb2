//! Severity P1–P4, incident types and the response / recovery targets (editable defaults).

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    P1,
    P2,
    P3,
    P4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::P1, Severity::P2, Severity::P3, Severity::P4];

    pub fn code(self) -> &'static str {
        match self {
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
            Severity::P4 => "P4",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.code().eq_ignore_ascii_case(raw.trim()))
    }

    /// (Korean, English) names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Severity::P1 => ("긴급", "Critical"),
            Severity::P2 => ("높음", "High"),
            Severity::P3 => ("중간", "Medium"),
            Severity::P4 => ("낮음", "Low"),
        }
    }

    /// P1 and P2 notify as urgent and want hourly status updates.
    pub fn is_urgent(self) -> bool {
        matches!(self, Severity::P1 | Severity::P2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IncidentType {
    Infrastructure,
    Application,
    Security,
    Data,
    Performance,
    ExternalIntegration,
}

impl IncidentType {
    pub const ALL: [IncidentType; 6] = [
        IncidentType::Infrastructure,
        IncidentType::Application,
        IncidentType::Security,
        IncidentType::Data,
        IncidentType::Performance,
        IncidentType::ExternalIntegration,
    ];

    /// The wire spelling, e.g. `external_integration`.
    pub fn code(self) -> &'static str {
        match self {
            IncidentType::Infrastructure => "infrastructure",
            IncidentType::Application => "application",
            IncidentType::Security => "security",
            IncidentType::Data => "data",
            IncidentType::Performance => "performance",
            IncidentType::ExternalIntegration => "external_integration",
        }
    }

    /// As typed (`External-Integration`, `external integration`).
    pub fn parse(raw: &str) -> Option<Self> {
        let wanted = raw.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|t| t.code() == wanted)
    }

    /// (Korean, English) names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            IncidentType::Infrastructure => ("인프라", "Infrastructure"),
            IncidentType::Application => ("애플리케이션", "Application"),
            IncidentType::Security => ("보안", "Security"),
            IncidentType::Data => ("데이터", "Data"),
            IncidentType::Performance => ("성능", "Performance"),
            IncidentType::ExternalIntegration => ("외부 연계", "External integration"),
        }
    }

    /// The severities this type usually has (most severe first).
    pub fn usual_range(self) -> (Severity, Severity) {
        match self {
            IncidentType::Infrastructure | IncidentType::Security | IncidentType::Data => {
                (Severity::P1, Severity::P2)
            }
            IncidentType::Application
            | IncidentType::Performance
            | IncidentType::ExternalIntegration => (Severity::P2, Severity::P3),
        }
    }

    /// Opened without a person's judgement (by a failed rollout, say): the more severe end
    /// of the usual range — the clocks run fast until the commander judges it milder.
    pub fn default_severity(self) -> Severity {
        self.usual_range().0
    }
}

/// When a response or a recovery is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Due {
    /// A fixed time after the incident opened (calendar time; seconds in JSON).
    After(#[serde(with = "super::seconds")] Duration),
    /// The end of the next business day (Mon–Fri) in the organisation's offset.
    NextBusinessDay {
        utc_offset_minutes: i32,
        end_of_day: NaiveTime,
    },
}

impl Due {
    pub fn deadline(self, opened: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Due::After(d) => opened + d,
            Due::NextBusinessDay {
                utc_offset_minutes,
                end_of_day,
            } => {
                let Some(offset) = FixedOffset::east_opt(utc_offset_minutes * 60) else {
                    return opened + Duration::days(1);
                };
                let mut day = opened
                    .with_timezone(&offset)
                    .date_naive()
                    .succ_opt()
                    .unwrap_or_default();
                while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                    day = day.succ_opt().unwrap_or(day);
                }
                offset
                    .from_local_datetime(&day.and_time(end_of_day))
                    .single()
                    .map(|t| t.to_utc())
                    .unwrap_or(opened + Duration::days(1))
            }
        }
    }
}

/// Respond-by and recover-by for one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    pub respond: Due,
    pub recover: Due,
}

impl Targets {
    /// The defaults (issue 14's table): P1 15 min / 1 h, P2 30 min / 4 h, P3 2 h / 24 h,
    /// P4 next business day / 1 week.
    pub fn default_for(severity: Severity, utc_offset_minutes: i32) -> Self {
        let m = Duration::minutes;
        let h = Duration::hours;
        match severity {
            Severity::P1 => Self {
                respond: Due::After(m(15)),
                recover: Due::After(h(1)),
            },
            Severity::P2 => Self {
                respond: Due::After(m(30)),
                recover: Due::After(h(4)),
            },
            Severity::P3 => Self {
                respond: Due::After(h(2)),
                recover: Due::After(h(24)),
            },
            Severity::P4 => Self {
                respond: Due::NextBusinessDay {
                    utc_offset_minutes,
                    end_of_day: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
                },
                recover: Due::After(Duration::weeks(1)),
            },
        }
    }
}

/// Where one target stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    /// Met at this time (responded / recovered).
    Met { at: DateTime<Utc>, late: bool },
    /// Still open, this much left.
    Running { left: Duration },
    /// Still open and past its deadline by this much: a breach.
    Breached { by: Duration },
}

pub fn target_state(
    due: Due,
    opened: DateTime<Utc>,
    met: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> TargetState {
    let deadline = due.deadline(opened);
    match met {
        Some(at) => TargetState::Met {
            at,
            late: at > deadline,
        },
        None if now <= deadline => TargetState::Running {
            left: deadline - now,
        },
        None => TargetState::Breached { by: now - deadline },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap()
    }

    #[test]
    fn targets_and_breaches_per_severity() {
        let opened = at(7, 10, 0); // Monday 19:00 in Seoul
        let cases = [
            (Severity::P1, 15, 60),
            (Severity::P2, 30, 240),
            (Severity::P3, 120, 1440),
        ];
        for (severity, respond, recover) in cases {
            let t = Targets::default_for(severity, 540);
            assert_eq!(
                t.respond.deadline(opened),
                opened + Duration::minutes(respond)
            );
            assert_eq!(
                t.recover.deadline(opened),
                opened + Duration::minutes(recover)
            );
            let just_in = opened + Duration::minutes(respond);
            assert_eq!(
                target_state(t.respond, opened, None, just_in),
                TargetState::Running {
                    left: Duration::zero()
                }
            );
            assert_eq!(
                target_state(t.respond, opened, None, just_in + Duration::minutes(1)),
                TargetState::Breached {
                    by: Duration::minutes(1)
                },
                "{severity:?}"
            );
            assert_eq!(
                target_state(
                    t.respond,
                    opened,
                    Some(just_in + Duration::minutes(1)),
                    just_in
                ),
                TargetState::Met {
                    at: just_in + Duration::minutes(1),
                    late: true
                }
            );
        }
        // P4: the end of the next business day in Seoul; opened on a Friday, that is Monday.
        let p4 = Targets::default_for(Severity::P4, 540);
        assert_eq!(p4.respond.deadline(at(7, 10, 0)), at(8, 9, 0)); // Tue 18:00 KST
        assert_eq!(p4.respond.deadline(at(11, 10, 0)), at(14, 9, 0)); // Fri → Mon 18:00 KST
        assert_eq!(p4.recover.deadline(at(7, 10, 0)), at(14, 10, 0));
    }

    #[test]
    fn types_default_to_the_more_severe_end_of_their_range() {
        assert_eq!(IncidentType::Application.default_severity(), Severity::P2);
        assert_eq!(
            IncidentType::Infrastructure.default_severity(),
            Severity::P1
        );
        assert_eq!(
            IncidentType::Security.usual_range(),
            (Severity::P1, Severity::P2)
        );
        assert_eq!(Severity::parse(" p2 "), Some(Severity::P2));
        assert_eq!(Severity::P1.names(), ("긴급", "Critical"));
    }
}
