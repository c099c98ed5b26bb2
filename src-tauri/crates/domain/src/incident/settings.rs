//! What an admin may edit about incidents (every edit audited by the API): the targets per
//! severity, the escalation matrix, who each escalation level reaches, the on-call roster, the
//! organisation's UTC offset, and how often P1/P2 incidents want a status update.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::escalation::{Contact, EscalationMatrix, Level};
use super::report::ReportPreset;
use super::severity::{Severity, Targets};

/// One shift of the on-call roster: `person` is on duty in [from, until).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duty {
    pub person: String,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSettings {
    /// Minutes east of UTC (Korea: 540): business days, month boundaries.
    pub utc_offset_minutes: i32,
    /// Targets of P1, P2, P3, P4 in that order.
    pub targets: [Targets; 4],
    pub matrix: EscalationMatrix,
    pub contacts: Vec<Contact>,
    pub roster: Vec<Duty>,
    /// Status updates of P1/P2 incidents are due this often (minutes); P3/P4 have none by
    /// default.
    pub urgent_update_minutes: u32,
    /// The regulatory report presets, each named by its rule.
    #[serde(default = "ReportPreset::defaults")]
    pub reports: Vec<ReportPreset>,
}

impl Default for IncidentSettings {
    fn default() -> Self {
        let offset = 9 * 60;
        Self {
            utc_offset_minutes: offset,
            targets: [Severity::P1, Severity::P2, Severity::P3, Severity::P4]
                .map(|s| Targets::default_for(s, offset)),
            matrix: EscalationMatrix::default(),
            contacts: Vec::new(),
            roster: Vec::new(),
            urgent_update_minutes: 60,
            reports: ReportPreset::defaults(),
        }
    }
}

impl IncidentSettings {
    pub fn targets_for(&self, severity: Severity) -> Targets {
        let i = match severity {
            Severity::P1 => 0,
            Severity::P2 => 1,
            Severity::P3 => 2,
            Severity::P4 => 3,
        };
        self.targets[i]
    }

    pub fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_minutes * 60).unwrap_or(chrono::Offset::fix(&Utc))
    }

    /// How often updates of this severity are due.
    pub fn update_every(&self, severity: Severity) -> Option<Duration> {
        (severity.is_urgent() && self.urgent_update_minutes > 0)
            .then(|| Duration::minutes(i64::from(self.urgent_update_minutes)))
    }

    /// Who is on duty at `at` (the first matching shift), to be the first commander.
    pub fn on_duty(&self, at: DateTime<Utc>) -> Option<&str> {
        self.roster
            .iter()
            .find(|d| d.from <= at && at < d.until)
            .map(|d| d.person.as_str())
    }

    /// The contacts of some levels, in the levels' order.
    pub fn contacts_for(&self, levels: &[Level]) -> Vec<Contact> {
        levels
            .iter()
            .flat_map(|level| self.contacts.iter().filter(move |c| c.level == *level))
            .cloned()
            .collect()
    }

    /// Checks an edit before it is stored.
    pub fn validate(&self) -> Result<(), String> {
        if !(-12 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            return Err("the UTC offset must lie between -12:00 and +14:00".into());
        }
        for rule in &self.matrix.rules {
            if rule.after <= Duration::zero() || rule.levels.is_empty() {
                return Err(format!(
                    "escalation rule {} needs a positive time and at least one level",
                    rule.id()
                ));
            }
        }
        for duty in &self.roster {
            if duty.person.trim().is_empty() || duty.until <= duty.from {
                return Err(format!(
                    "the on-call shift of {:?} must end after it starts",
                    duty.person
                ));
            }
        }
        for (n, preset) in self.reports.iter().enumerate() {
            if self.reports[..n]
                .iter()
                .any(|p| p.obligation == preset.obligation)
            {
                return Err(format!(
                    "the report preset {:?} is given twice",
                    preset.obligation
                ));
            }
            if preset.rule.trim().is_empty() || preset.due.iter().flatten().any(|s| *s <= 0) {
                return Err(format!(
                    "the report preset {:?} needs its rule's name and positive times",
                    preset.obligation
                ));
            }
        }
        for contact in &self.contacts {
            if contact.person.trim().is_empty() {
                return Err("every escalation contact names a person".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn settings_read_as_an_admin_writes_them() {
        let json = serde_json::to_value(IncidentSettings::default()).unwrap();
        assert_eq!(
            json["targets"][0]["respond"],
            serde_json::json!({"After": 900})
        );
        assert_eq!(json["matrix"]["rules"][0]["after"], 900);
        let mut edited = json.clone();
        edited["matrix"]["rules"][0]["after"] = serde_json::json!(5);
        let back: IncidentSettings = serde_json::from_value(edited).unwrap();
        assert_eq!(back.matrix.rules[0].id(), "P1@5s");
        assert_eq!(IncidentSettings::default().matrix.rules[0].id(), "P1@15m");
    }

    #[test]
    fn the_roster_names_who_is_on_duty_and_contacts_follow_the_levels() {
        let t = |h| Utc.with_ymd_and_hms(2026, 12, 7, h, 0, 0).unwrap();
        let mut s = IncidentSettings {
            roster: vec![
                Duty {
                    person: "kim".into(),
                    from: t(0),
                    until: t(9),
                },
                Duty {
                    person: "lee".into(),
                    from: t(9),
                    until: t(18),
                },
            ],
            ..IncidentSettings::default()
        };
        assert_eq!(s.on_duty(t(8)), Some("kim"));
        assert_eq!(s.on_duty(t(9)), Some("lee"));
        assert_eq!(s.on_duty(t(18)), None);
        s.contacts = vec![
            Contact {
                level: Level::Cto,
                person: "cto".into(),
                reach: "010".into(),
            },
            Contact {
                level: Level::TeamLead,
                person: "lead".into(),
                reach: "".into(),
            },
        ];
        let names: Vec<String> = s
            .contacts_for(&[Level::TeamLead, Level::Cto])
            .into_iter()
            .map(|c| c.person)
            .collect();
        assert_eq!(names, ["lead", "cto"]);
        assert!(s.validate().is_ok());
        s.roster[0].until = t(0);
        assert!(s.validate().is_err());
        assert_eq!(IncidentSettings::default().update_every(Severity::P3), None);
        assert_eq!(
            IncidentSettings::default().update_every(Severity::P2),
            Some(Duration::hours(1))
        );
    }
}
