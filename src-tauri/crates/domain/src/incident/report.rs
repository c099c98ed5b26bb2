//! Regulatory reports: which obligations apply to an incident, and their clocks.
//!
//! Clocks start at the detection time and run in calendar hours — weekends and holidays
//! included, as the rules say. The presets (editable, each named by its rule):
//! * EU AI Act Art. 73 (serious incident of an AI system): initial report 72 h, detailed report
//!   15 days, final report after the investigation (no fixed clock);
//! * personal-data breach (Korea, PIPA): notification of the people affected 24 h; the report to
//!   the commission 72 h when 1,000 people or more are affected.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Kinds of harm the reportability checklist asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Harm {
    DeathOrHealth,
    FundamentalRights,
    PropertyOrEnvironment,
    BreachOfLaw,
}

impl Harm {
    pub const ALL: [Harm; 4] = [
        Harm::DeathOrHealth,
        Harm::FundamentalRights,
        Harm::PropertyOrEnvironment,
        Harm::BreachOfLaw,
    ];

    /// The wire spelling, e.g. `fundamental_rights`.
    pub fn code(self) -> &'static str {
        match self {
            Harm::DeathOrHealth => "death_or_health",
            Harm::FundamentalRights => "fundamental_rights",
            Harm::PropertyOrEnvironment => "property_or_environment",
            Harm::BreachOfLaw => "breach_of_law",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.code() == raw.trim())
    }
}

/// The reportability checklist, as answered by the people handling the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    /// An AI system was involved in causing the incident.
    pub ai_system: bool,
    pub harms: Vec<Harm>,
    pub personal_data: bool,
    pub affected_people: u64,
    pub occurred_at: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Obligation {
    EuAiActArt73,
    KoreaPersonalDataNotification,
    KoreaPersonalDataCommissionReport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReportStage {
    Initial,
    Detailed,
    Final,
    Closed,
}

impl ReportStage {
    pub fn next(self) -> Option<ReportStage> {
        match self {
            ReportStage::Initial => Some(ReportStage::Detailed),
            ReportStage::Detailed => Some(ReportStage::Final),
            ReportStage::Final => Some(ReportStage::Closed),
            ReportStage::Closed => None,
        }
    }
}

impl Obligation {
    /// The rule the obligation comes from, as shown on the report.
    pub fn rule(self) -> &'static str {
        match self {
            Obligation::EuAiActArt73 => "EU AI Act Art. 73",
            Obligation::KoreaPersonalDataNotification => "개인정보 보호법 제34조 (정보주체 통지)",
            Obligation::KoreaPersonalDataCommissionReport => "개인정보 보호법 제34조 (위원회 신고)",
        }
    }

    /// Which obligations the checklist makes apply.
    pub fn applying(checklist: &Checklist) -> Vec<Obligation> {
        let mut out = Vec::new();
        if checklist.ai_system && !checklist.harms.is_empty() {
            out.push(Obligation::EuAiActArt73);
        }
        if checklist.personal_data && checklist.affected_people > 0 {
            out.push(Obligation::KoreaPersonalDataNotification);
            if checklist.affected_people >= 1_000 {
                out.push(Obligation::KoreaPersonalDataCommissionReport);
            }
        }
        out
    }

    /// The last report this obligation asks for: the AI Act wants initial, detailed and final
    /// reports; the Korean notifications are one report each.
    pub fn last_stage(self) -> ReportStage {
        match self {
            Obligation::EuAiActArt73 => ReportStage::Final,
            Obligation::KoreaPersonalDataNotification
            | Obligation::KoreaPersonalDataCommissionReport => ReportStage::Initial,
        }
    }

    /// How long after detection the report of `stage` is due; `None`: no fixed clock (the
    /// final report follows the investigation) or no such stage for this obligation.
    pub fn due_after(self, stage: ReportStage) -> Option<Duration> {
        match (self, stage) {
            (Obligation::EuAiActArt73, ReportStage::Initial) => Some(Duration::hours(72)),
            (Obligation::EuAiActArt73, ReportStage::Detailed) => Some(Duration::days(15)),
            (Obligation::KoreaPersonalDataNotification, ReportStage::Initial) => {
                Some(Duration::hours(24))
            }
            (Obligation::KoreaPersonalDataCommissionReport, ReportStage::Initial) => {
                Some(Duration::hours(72))
            }
            _ => None,
        }
    }
}

impl Obligation {
    pub const ALL: [Obligation; 3] = [
        Obligation::EuAiActArt73,
        Obligation::KoreaPersonalDataNotification,
        Obligation::KoreaPersonalDataCommissionReport,
    ];
}

/// An obligation as the organisation configured it: the presets are the rules above, and an
/// admin may edit them (another article number, a shorter internal deadline, a threshold).
/// A report keeps the preset it was opened with, so an edit never moves a running clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPreset {
    pub obligation: Obligation,
    /// The rule as printed on the report.
    pub rule: String,
    /// Seconds after detection the initial, detailed and final reports are due (`null`: no
    /// fixed clock).
    pub due: [Option<i64>; 3],
    /// The last report the rule asks for.
    pub last_stage: ReportStage,
    /// Personal-data obligations apply from this many people affected.
    pub min_affected: u64,
}

impl ReportPreset {
    /// The presets of the rules as enacted.
    pub fn defaults() -> Vec<ReportPreset> {
        Obligation::ALL
            .into_iter()
            .map(|obligation| ReportPreset {
                obligation,
                rule: obligation.rule().to_owned(),
                due: [
                    ReportStage::Initial,
                    ReportStage::Detailed,
                    ReportStage::Final,
                ]
                .map(|stage| obligation.due_after(stage).map(|d| d.num_seconds())),
                last_stage: obligation.last_stage(),
                min_affected: match obligation {
                    Obligation::EuAiActArt73 => 0,
                    Obligation::KoreaPersonalDataNotification => 1,
                    Obligation::KoreaPersonalDataCommissionReport => 1_000,
                },
            })
            .collect()
    }

    /// How long after detection `stage` is due under this preset.
    pub fn due_after(&self, stage: ReportStage) -> Option<Duration> {
        let index = match stage {
            ReportStage::Initial => 0,
            ReportStage::Detailed => 1,
            ReportStage::Final => 2,
            ReportStage::Closed => return None,
        };
        if stage > self.last_stage {
            return None;
        }
        self.due[index].and_then(Duration::try_seconds)
    }

    /// Whether the checklist makes this obligation apply.
    pub fn applies(&self, checklist: &Checklist) -> bool {
        match self.obligation {
            Obligation::EuAiActArt73 => checklist.ai_system && !checklist.harms.is_empty(),
            Obligation::KoreaPersonalDataNotification
            | Obligation::KoreaPersonalDataCommissionReport => {
                checklist.personal_data && checklist.affected_people >= self.min_affected.max(1)
            }
        }
    }
}

/// One report's clock at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportClock {
    /// Due at this time, more than a day away.
    Running { due: DateTime<Utc> },
    /// Due within 24 h: on every screen's banner.
    DueSoon { due: DateTime<Utc> },
    /// Past due and not submitted: on every screen's banner.
    Overdue { due: DateTime<Utc> },
    /// No fixed clock for this stage.
    NoDeadline,
}

pub fn clock(
    obligation: Obligation,
    stage: ReportStage,
    detected_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ReportClock {
    clock_after(obligation.due_after(stage), detected_at, now)
}

/// The clock of a report due `after` detection (`None`: no fixed clock).
pub fn clock_after(
    after: Option<Duration>,
    detected_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ReportClock {
    let Some(after) = after else {
        return ReportClock::NoDeadline;
    };
    let due = detected_at + after;
    if now > due {
        ReportClock::Overdue { due }
    } else if due - now <= Duration::hours(24) {
        ReportClock::DueSoon { due }
    } else {
        ReportClock::Running { due }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn checklist() -> Checklist {
        let detected = Utc.with_ymd_and_hms(2026, 12, 4, 8, 0, 0).unwrap(); // Fri 17:00 KST
        Checklist {
            ai_system: true,
            harms: vec![Harm::FundamentalRights],
            personal_data: false,
            affected_people: 0,
            occurred_at: detected - Duration::hours(5),
            detected_at: detected,
        }
    }

    #[test]
    fn the_checklist_decides_which_reports_apply() {
        let c = checklist();
        assert_eq!(Obligation::applying(&c), [Obligation::EuAiActArt73]);
        let none = Checklist {
            harms: vec![],
            ..c.clone()
        };
        assert!(Obligation::applying(&none).is_empty());
        let leak = Checklist {
            ai_system: false,
            personal_data: true,
            affected_people: 120,
            ..c.clone()
        };
        assert_eq!(
            Obligation::applying(&leak),
            [Obligation::KoreaPersonalDataNotification]
        );
        let big = Checklist {
            affected_people: 1_000,
            ..leak
        };
        assert_eq!(
            Obligation::applying(&big),
            [
                Obligation::KoreaPersonalDataNotification,
                Obligation::KoreaPersonalDataCommissionReport
            ]
        );
    }

    #[test]
    fn report_clocks_run_in_calendar_hours_across_a_weekend() {
        let c = checklist();
        let art73 = Obligation::EuAiActArt73;
        // Detected Friday 08:00 UTC: the 72 h initial report is due Monday 08:00 UTC.
        let monday = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
        let saturday = Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap();
        assert_eq!(
            clock(art73, ReportStage::Initial, c.detected_at, saturday),
            ReportClock::Running { due: monday }
        );
        let sunday_late = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
        assert_eq!(
            clock(art73, ReportStage::Initial, c.detected_at, sunday_late),
            ReportClock::DueSoon { due: monday }
        );
        assert_eq!(
            clock(
                art73,
                ReportStage::Initial,
                c.detected_at,
                monday + Duration::minutes(1)
            ),
            ReportClock::Overdue { due: monday }
        );
        assert_eq!(
            clock(art73, ReportStage::Detailed, c.detected_at, monday),
            ReportClock::Running {
                due: c.detected_at + Duration::days(15)
            }
        );
        assert_eq!(
            clock(art73, ReportStage::Final, c.detected_at, monday),
            ReportClock::NoDeadline
        );
        assert_eq!(
            clock(
                Obligation::KoreaPersonalDataNotification,
                ReportStage::Initial,
                c.detected_at,
                saturday
            ),
            ReportClock::Overdue {
                due: c.detected_at + Duration::hours(24)
            }
        );
        assert_eq!(ReportStage::Initial.next(), Some(ReportStage::Detailed));
        assert_eq!(ReportStage::Closed.next(), None);
    }
}
