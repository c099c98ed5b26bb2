//! Incidents (issue 14): severity and its targets, the lifecycle, the escalation matrix and the
//! regulatory report clocks — plain data and pure functions; time comes from the caller.
//! [`Incident`] is one incident as a whole, with a checked method for every change;
//! [`stats`] computes the monthly figures.

pub mod escalation;
pub mod lifecycle;
pub mod record;
pub mod report;
pub mod settings;
pub mod severity;
pub mod stats;

pub use escalation::{Contact, EscalationMatrix, EscalationRule, Level};
pub use lifecycle::{Stage, StageRefused};
pub use record::{
    Cause, Deadline, Escalation, Incident, IncidentRole, Links, Mark, NewIncident, Postmortem,
    PreventionAction, Refused, Report, Roles, StatusUpdate, Submission, UpdateState,
};
pub use report::{Checklist, Harm, Obligation, ReportClock, ReportPreset, ReportStage};
pub use settings::{Duty, IncidentSettings};
pub use severity::{Due, IncidentType, Severity, TargetState, Targets, target_state};

use std::fmt;

/// A duration as whole seconds in JSON (`"after": 900`): what an admin edits by hand.
pub(crate) mod seconds {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = i64::deserialize(d)?;
        Duration::try_seconds(secs).ok_or_else(|| serde::de::Error::custom("duration out of range"))
    }
}

use chrono::{DateTime, Utc};

/// `INC-YYYYMMDD-NNN`: the day (UTC) the incident opened and its number that day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IncidentId(String);

impl IncidentId {
    pub fn new(opened: DateTime<Utc>, number: u32) -> Option<Self> {
        (1..=999)
            .contains(&number)
            .then(|| Self(format!("INC-{}-{number:03}", opened.format("%Y%m%d"))))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.strip_prefix("INC-")?;
        let (day, number) = rest.split_once('-')?;
        let valid = day.len() == 8
            && day.bytes().all(|b| b.is_ascii_digit())
            && chrono::NaiveDate::parse_from_str(day, "%Y%m%d").is_ok()
            && number.len() == 3
            && number.bytes().all(|b| b.is_ascii_digit())
            && number != "000";
        valid.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_name_the_day_and_the_number() {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 23, 59, 0).unwrap();
        assert_eq!(IncidentId::new(at, 7).unwrap().as_str(), "INC-20261207-007");
        assert!(IncidentId::new(at, 0).is_none());
        assert!(IncidentId::new(at, 1000).is_none());
        assert!(IncidentId::parse("INC-20261207-007").is_some());
        for bad in [
            "INC-20261307-001",
            "INC-2026127-001",
            "INC-20261207-000",
            "OPS-20261207-001",
            "INC-20261207-01",
        ] {
            assert!(IncidentId::parse(bad).is_none(), "{bad}");
        }
    }
}
