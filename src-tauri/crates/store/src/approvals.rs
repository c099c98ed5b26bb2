//! Approval chains, the rules that route them, and governance settings: the storage
//! interface (issue 10, SPEC §3).
//!
//! A chain is the domain's [`Chain`] kept whole, one row per task and round. Each decision
//! is a compare-and-set on the row's version, and lands with the task's move and its audit
//! entries in one transaction: two consoles cannot both sign one step, and no decision is
//! recorded without its entry.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_audit::EntryDraft;
use guardia_domain::governance::{Chain, DeployWindows, Routing};
use guardia_domain::{PersonName, SystemName, Task, TaskId, Transition};

use crate::StoreError;

/// How one system's steps are routed and when it may be changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemRules {
    pub system: SystemName,
    pub routing: Routing,
    /// Every chain on a sensitive system ends with the security officer.
    pub sensitive: bool,
    pub windows: DeployWindows,
    /// When the owner (or an admin) last confirmed the owner/deputy mapping.
    pub confirmed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl SystemRules {
    /// What a system without a row gets: nobody named, the default SLA, always open.
    pub fn unset(system: SystemName, at: DateTime<Utc>) -> Self {
        Self {
            system,
            routing: Routing::default(),
            sensitive: false,
            windows: DeployWindows::default(),
            confirmed_at: None,
            updated_at: at,
            updated_by: String::new(),
        }
    }
}

/// One stored round of a task's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChain {
    pub task: TaskId,
    pub chain: Chain,
    /// The row's version; a write must name it.
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// A task's move that goes with a chain write.
#[derive(Debug, Clone, Copy)]
pub struct TaskMove<'a> {
    pub transition: Transition,
    pub actor: &'a PersonName,
    pub note: &'a str,
}

/// A chain write: a new round, or the next state of the current one.
pub struct ChainWrite<'a> {
    pub task: TaskId,
    pub chain: &'a Chain,
    /// `None`: a new round (refused if the round exists); `Some(v)`: only if the row is
    /// still at version `v`.
    pub expected_version: Option<i64>,
    /// The task's moves, in order (e.g. submitted, then rejected by a failed check).
    pub task_moves: Vec<TaskMove<'a>>,
    pub at: DateTime<Utc>,
    /// The entries this write appends, in order.
    pub audit: Vec<EntryDraft>,
    /// Documents for the agent this decision produces (a work order when the request is
    /// approved, a rework brief when a result-stage step rejects).
    pub documents: Vec<crate::Document>,
    /// A package's new state (a result-stage step decided it).
    pub package_state: Option<(u32, crate::PackageState)>,
}

/// One system of the inventory, for pickers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemSummary {
    pub institution: String,
    pub system: String,
    pub sites: u32,
    pub servers: u32,
}

/// Approval chains, system rules and governance settings.
#[async_trait]
pub trait ApprovalStore: Send + Sync {
    /// A system's rules, if any were set.
    async fn system_rules(&self, system: &str) -> Result<Option<SystemRules>, StoreError>;

    /// Every system with rules, by name.
    async fn all_system_rules(&self) -> Result<Vec<SystemRules>, StoreError>;

    /// Stores `rules` (insert or replace) with the audit entry `audit`, in one transaction.
    async fn save_system_rules(
        &self,
        rules: &SystemRules,
        audit: EntryDraft,
    ) -> Result<SystemRules, StoreError>;

    /// The institutions that have a system of this name in the inventory (scopes are by
    /// institution and system).
    async fn institutions_of(&self, system: &str) -> Result<Vec<String>, StoreError>;

    /// Every system of the inventory with its institution and how many sites and servers.
    async fn system_summaries(&self) -> Result<Vec<SystemSummary>, StoreError>;

    /// A console-wide governance setting.
    async fn governance_setting(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Sets a governance setting with its audit entry.
    async fn set_governance_setting(
        &self,
        key: &str,
        value: &str,
        audit: EntryDraft,
    ) -> Result<(), StoreError>;

    /// Every round of a task's chain, oldest first.
    async fn chains(&self, task: TaskId) -> Result<Vec<StoredChain>, StoreError>;

    /// The chains that have a step waiting for someone (inboxes, SLA deadlines).
    async fn open_chains(&self) -> Result<Vec<StoredChain>, StoreError>;

    /// Writes a chain round, moves the task if asked (compare-and-set on its status) and
    /// appends the entries, in one transaction. Returns the task as it is afterwards.
    async fn write_chain(&self, write: ChainWrite<'_>) -> Result<Task, StoreError>;
}
