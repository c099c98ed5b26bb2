//! Rollouts: playbooks, plans and the states of a rollout and of each of its sites.
//!
//! Pure rules only; the runtime (`guardia-engine`) runs them and `guardia-api` records them.

pub mod plan;
pub mod playbook;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use plan::{
    Budget, Gate, PhaseSpec, Plan, PlanSite, PlanSpec, PlannedPhase, RollbackScope, Selector,
};
pub use playbook::{Directive, Line, Param, ParamType, Playbook, PlaybookError, StepKind};

/// Where one site of a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SiteState {
    Pending,
    Running,
    /// Every server updated and healthy.
    Done,
    /// Failed before anything changed (a pre-check, staging): nothing to undo.
    Failed,
    RollingBack,
    /// Restored to what it ran before.
    RolledBack,
    /// A step's outcome is unknown (the connection dropped mid-step, a stop not confirmed).
    Uncertain,
    /// The rollback itself failed: a person must look.
    ManualInterventionRequired,
    /// Never reached (the rollout halted or was aborted first).
    Skipped,
}

impl SiteState {
    pub const ALL: [SiteState; 9] = [
        Self::Pending,
        Self::Running,
        Self::Done,
        Self::Failed,
        Self::RollingBack,
        Self::RolledBack,
        Self::Uncertain,
        Self::ManualInterventionRequired,
        Self::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Done => "DONE",
            Self::Failed => "FAILED",
            Self::RollingBack => "ROLLING_BACK",
            Self::RolledBack => "ROLLED_BACK",
            Self::Uncertain => "UNCERTAIN",
            Self::ManualInterventionRequired => "MANUAL_INTERVENTION_REQUIRED",
            Self::Skipped => "SKIPPED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the site counts against the failure budget.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Self::Failed | Self::RolledBack | Self::Uncertain | Self::ManualInterventionRequired
        )
    }

    /// Whether nothing more happens to the site without a person.
    pub fn is_settled(self) -> bool {
        !matches!(self, Self::Pending | Self::Running | Self::RollingBack)
    }
}

impl fmt::Display for SiteState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RolloutState {
    Running,
    Paused,
    /// A phase ended; a person decides whether the next starts.
    WaitingGate,
    /// Stopped by the kill switch, a spent failure budget, a failed rollback or a phase
    /// rollback; a person chooses what next.
    Halted,
    /// The console stopped while it ran (found at start): a person resumes, rolls back or
    /// abandons — nothing is retried by itself.
    Interrupted,
    Completed,
    RolledBack,
    Aborted,
}

impl RolloutState {
    pub const ALL: [RolloutState; 8] = [
        Self::Running,
        Self::Paused,
        Self::WaitingGate,
        Self::Halted,
        Self::Interrupted,
        Self::Completed,
        Self::RolledBack,
        Self::Aborted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::WaitingGate => "WAITING_GATE",
            Self::Halted => "HALTED",
            Self::Interrupted => "INTERRUPTED",
            Self::Completed => "COMPLETED",
            Self::RolledBack => "ROLLED_BACK",
            Self::Aborted => "ABORTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the rollout is over (nothing can resume it).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::RolledBack | Self::Aborted)
    }
}

impl fmt::Display for RolloutState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
