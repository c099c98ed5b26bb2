//! Detect → Triage → Contain → Root cause → Recover → Verify → Postmortem → Closed.
//!
//! Forward one stage at a time; Contain may be skipped when nothing needs containing (Triage →
//! Root cause); Verify may send the incident back to Recover (the fix did not hold); Closed
//! needs the postmortem stage first. Nothing goes back past Recover, and Closed is final.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Stage {
    Detect,
    Triage,
    Contain,
    RootCause,
    Recover,
    Verify,
    Postmortem,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageRefused {
    pub from: Stage,
    pub to: Stage,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Detect,
        Stage::Triage,
        Stage::Contain,
        Stage::RootCause,
        Stage::Recover,
        Stage::Verify,
        Stage::Postmortem,
        Stage::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Stage::Detect => "DETECT",
            Stage::Triage => "TRIAGE",
            Stage::Contain => "CONTAIN",
            Stage::RootCause => "ROOT_CAUSE",
            Stage::Recover => "RECOVER",
            Stage::Verify => "VERIFY",
            Stage::Postmortem => "POSTMORTEM",
            Stage::Closed => "CLOSED",
        }
    }

    /// (Korean, English) names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Stage::Detect => ("탐지", "Detect"),
            Stage::Triage => ("분류", "Triage"),
            Stage::Contain => ("봉쇄", "Contain"),
            Stage::RootCause => ("원인 분석", "Root cause"),
            Stage::Recover => ("복구", "Recover"),
            Stage::Verify => ("검증", "Verify"),
            Stage::Postmortem => ("사후 검토", "Postmortem"),
            Stage::Closed => ("종료", "Closed"),
        }
    }

    /// Whether `self` → `to` is a step the lifecycle allows.
    pub fn may_go_to(self, to: Stage) -> bool {
        use Stage::*;
        matches!(
            (self, to),
            (Detect, Triage)
                | (Triage, Contain)
                | (Triage, RootCause)
                | (Contain, RootCause)
                | (RootCause, Recover)
                | (Recover, Verify)
                | (Verify, Recover)
                | (Verify, Postmortem)
                | (Postmortem, Closed)
        )
    }

    pub fn advance(self, to: Stage) -> Result<Stage, StageRefused> {
        if self.may_go_to(to) {
            Ok(to)
        } else {
            Err(StageRefused { from: self, to })
        }
    }

    /// Recovered (the recovery target is met) once the incident reaches Verify.
    pub fn is_recovered(self) -> bool {
        self >= Stage::Verify
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_is_allowed_or_refused_as_the_lifecycle_says() {
        let allowed = [
            "DETECT>TRIAGE",
            "TRIAGE>CONTAIN",
            "TRIAGE>ROOT_CAUSE",
            "CONTAIN>ROOT_CAUSE",
            "ROOT_CAUSE>RECOVER",
            "RECOVER>VERIFY",
            "VERIFY>RECOVER",
            "VERIFY>POSTMORTEM",
            "POSTMORTEM>CLOSED",
        ];
        let mut count = 0;
        for from in Stage::ALL {
            for to in Stage::ALL {
                let name = format!("{}>{}", from.code(), to.code());
                let expected = allowed.contains(&name.as_str());
                assert_eq!(from.advance(to).is_ok(), expected, "{name}");
                count += usize::from(expected);
            }
        }
        assert_eq!(count, allowed.len());
        assert_eq!(
            Stage::Closed.advance(Stage::Detect),
            Err(StageRefused {
                from: Stage::Closed,
                to: Stage::Detect
            })
        );
        assert!(Stage::Verify.is_recovered() && !Stage::Recover.is_recovered());
    }
}
