//! Escalation by elapsed time: who is told when an incident of a severity stays open.
//!
//! The defaults are issue 14's matrix; an admin may edit it (the edit is audited by the
//! caller). A rule fires once (the caller keeps which rule ids it notified); a severity raised
//! mid-incident fires the new severity's rules that are already due, at once.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Severity;

/// A level of the organisation that escalations reach; the console maps each to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    TeamLead,
    HeadOfDivision,
    Cto,
    Ceo,
    /// Outside support (a vendor, a CERT): "to be considered", a person decides.
    ExternalSupport,
}

impl Level {
    /// (Korean, English) names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Level::TeamLead => ("팀장", "Team lead"),
            Level::HeadOfDivision => ("본부장", "Head of division"),
            Level::Cto => ("CTO", "CTO"),
            Level::Ceo => ("CEO", "CEO"),
            Level::ExternalSupport => ("외부 지원 검토", "External support (consider)"),
        }
    }
}

/// A person to reach at a level: someone in the console, with a note for the manual call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub level: Level,
    pub person: String,
    /// Phone / e-mail, shown for the call a person makes by hand.
    pub reach: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRule {
    pub severity: Severity,
    /// Time since the incident opened (seconds in JSON).
    #[serde(with = "super::seconds")]
    pub after: Duration,
    /// Who is told, in order.
    pub levels: Vec<Level>,
}

impl EscalationRule {
    /// Stable name of the rule, e.g. `P1@30m` (what the caller records as notified); a rule
    /// that is not a whole number of minutes is named in seconds (`P1@90s`).
    pub fn id(&self) -> String {
        let secs = self.after.num_seconds();
        if secs % 60 == 0 {
            format!("{}@{}m", self.severity.code(), secs / 60)
        } else {
            format!("{}@{secs}s", self.severity.code())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationMatrix {
    pub rules: Vec<EscalationRule>,
}

impl Default for EscalationMatrix {
    fn default() -> Self {
        use Level::*;
        use Severity::*;
        let rule = |severity, minutes, levels: &[Level]| EscalationRule {
            severity,
            after: Duration::minutes(minutes),
            levels: levels.to_vec(),
        };
        Self {
            rules: vec![
                rule(P1, 15, &[TeamLead, HeadOfDivision]),
                rule(P2, 15, &[TeamLead]),
                rule(P1, 30, &[HeadOfDivision, Cto]),
                rule(P2, 30, &[TeamLead, HeadOfDivision]),
                rule(P3, 30, &[TeamLead]),
                rule(P1, 60, &[Cto, Ceo]),
                rule(P2, 60, &[HeadOfDivision, Cto]),
                rule(P3, 60, &[TeamLead, HeadOfDivision]),
                rule(P1, 120, &[ExternalSupport]),
                rule(P2, 120, &[Cto]),
                rule(P3, 120, &[HeadOfDivision]),
            ],
        }
    }
}

impl EscalationMatrix {
    /// The rules of `severity` due at `now` for an incident opened at `opened`.
    pub fn due(
        &self,
        severity: Severity,
        opened: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &EscalationRule> {
        let elapsed = now - opened;
        self.rules
            .iter()
            .filter(move |r| r.severity == severity && r.after <= elapsed)
    }

    /// When the next rule of `severity` falls due after `now` (for the runtime's timer).
    pub fn next_due(
        &self,
        severity: Severity,
        opened: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.rules
            .iter()
            .filter(|r| r.severity == severity)
            .map(|r| opened + r.after)
            .filter(|at| *at > now)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_default_matrix_minute_by_minute() {
        let m = EscalationMatrix::default();
        let opened = Utc.with_ymd_and_hms(2026, 12, 5, 23, 50, 0).unwrap(); // a Saturday night
        let ids = |s, minute: i64| {
            m.due(s, opened, opened + Duration::minutes(minute))
                .map(EscalationRule::id)
                .collect::<Vec<_>>()
                .join(" ")
        };
        for minute in 0..=150 {
            let expected_p1 = match minute {
                0..=14 => "",
                15..=29 => "P1@15m",
                30..=59 => "P1@15m P1@30m",
                60..=119 => "P1@15m P1@30m P1@60m",
                _ => "P1@15m P1@30m P1@60m P1@120m",
            };
            let expected_p3 = match minute {
                0..=29 => "",
                30..=59 => "P3@30m",
                60..=119 => "P3@30m P3@60m",
                _ => "P3@30m P3@60m P3@120m",
            };
            assert_eq!(ids(Severity::P1, minute), expected_p1, "P1 at {minute} min");
            assert_eq!(ids(Severity::P3, minute), expected_p3, "P3 at {minute} min");
            assert_eq!(ids(Severity::P4, minute), "", "P4 never escalates by time");
        }
        let p2: Vec<_> = m
            .due(Severity::P2, opened, opened + Duration::hours(3))
            .collect();
        assert_eq!(
            p2.iter().map(|r| r.levels.clone()).collect::<Vec<_>>(),
            vec![
                vec![Level::TeamLead],
                vec![Level::TeamLead, Level::HeadOfDivision],
                vec![Level::HeadOfDivision, Level::Cto],
                vec![Level::Cto],
            ]
        );
        assert_eq!(
            m.next_due(Severity::P2, opened, opened + Duration::minutes(15)),
            Some(opened + Duration::minutes(30))
        );
        assert_eq!(
            m.next_due(Severity::P1, opened, opened + Duration::hours(2)),
            None
        );
    }

    #[test]
    fn a_severity_raised_late_makes_its_overdue_rules_due_at_once() {
        let m = EscalationMatrix::default();
        let opened = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        let at_40 = opened + Duration::minutes(40);
        let p1_now: Vec<_> = m
            .due(Severity::P1, opened, at_40)
            .map(EscalationRule::id)
            .collect();
        assert_eq!(p1_now, ["P1@15m", "P1@30m"]);
    }
}
