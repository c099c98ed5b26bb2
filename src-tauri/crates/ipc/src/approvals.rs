//! Approvals as the window and the CLI see them: submitting a task, deciding the step one
//! holds, the "waiting for me" inbox, and the rules that route a system's steps.

use chrono::{DateTime, Utc};
use guardia_domain::governance::{DeployWindows, StepKind, Verdict};
use serde::{Deserialize, Serialize};

use crate::TaskSummary;

/// A decision on the step the caller holds. Every decision needs a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDecision {
    pub id: String,
    pub verdict: Verdict,
    pub comment: String,
}

/// One step waiting for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub task: TaskSummary,
    /// The chain's round (2 after the first resubmission, …).
    pub round: u32,
    /// 0-based index of the step in the chain.
    pub step: usize,
    pub kind: StepKind,
    /// How the caller holds it: `owner`, `deputy`, `supervisor`, or `pool` (by role).
    pub held_as: String,
    /// Escalated (or overdue with nobody left to escalate to).
    pub urgent: bool,
    pub opened_at: Option<DateTime<Utc>>,
    /// When it escalates if nobody answers.
    pub due: Option<DateTime<Utc>>,
    /// The system's owner when the step opened.
    pub original_owner: Option<String>,
}

/// How one system's steps are routed, its SLA, sensitivity and deploy windows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemRulesView {
    pub system: String,
    pub owner: Option<String>,
    pub deputy: Option<String>,
    pub supervisor: Option<String>,
    pub owner_away: bool,
    pub sla_seconds: u32,
    pub sensitive: bool,
    pub windows: DeployWindows,
    /// Each authorised-hours rule as written, e.g. `mon,tue,wed,thu,fri 09:00-18:00`.
    pub hours_text: Vec<String>,
    /// The windows' UTC offset, e.g. `+09:00`.
    pub utc_offset: String,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The owner/deputy mapping has not been confirmed for 30 days (or ever).
    pub unconfirmed: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// A change to one system's rules (admin: `edit_governance`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemRulesChange {
    pub system: String,
    pub change: RulesChange,
}

/// What an admin changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "set", rename_all = "snake_case")]
pub enum RulesChange {
    Owner {
        person: Option<String>,
    },
    Supervisor {
        person: Option<String>,
    },
    Sla {
        seconds: u32,
    },
    Sensitive {
        sensitive: bool,
    },
    /// Replaces the deploy windows: hours as `mon-fri 09:00-18:00`, the offset as `+09:00`.
    Windows {
        utc_offset: String,
        hours: Vec<String>,
        freezes: Vec<FreezeInput>,
    },
}

/// A change freeze as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeInput {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub reason: String,
}

/// A change the system's owner makes (`route_own_systems`; an admin may too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemRouteChange {
    pub system: String,
    pub change: RouteChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "set", rename_all = "snake_case")]
pub enum RouteChange {
    /// The owner is away: their steps go to the deputy.
    Away { away: bool },
    /// Only the owner names or changes their deputy.
    Deputy { person: Option<String> },
    /// The owner confirms the owner/deputy mapping is still right.
    Confirm,
}

/// A system a task can target: from the inventory, with who owns its approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemChoice {
    pub institution: String,
    pub system: String,
    pub sites: u32,
    pub servers: u32,
    pub owner: Option<String>,
    pub sensitive: bool,
}
