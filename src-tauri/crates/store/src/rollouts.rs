//! Rollouts: the storage interface (issue 12).
//!
//! A rollout's plan, every site's state, the step journal, the deployment history and the
//! kill switch. Writes come as [`RolloutWrite`]s; the API's journal writer hands many of
//! them to [`RolloutStore::write_rollouts`] at once, which applies them in **one**
//! transaction (group commit), so the ledger and the journal keep up with 1,000 sites.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_audit::EntryDraft;
use guardia_domain::rollout::{RolloutState, SiteState};
use guardia_domain::{PersonName, TaskId, Transition};

use crate::StoreError;

/// A rollout as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRollout {
    pub id: String,
    pub task: TaskId,
    pub package_version: u32,
    pub package_sha256: String,
    pub playbook: String,
    pub playbook_version: u32,
    pub playbook_sha256: String,
    pub version_label: String,
    /// Bound parameters, JSON object.
    pub params: String,
    /// The resolved plan, JSON.
    pub plan: String,
    pub state: RolloutState,
    pub reason: String,
    pub phase: u32,
    pub gate_until: Option<DateTime<Utc>>,
    /// A pending request to the process running it (`pause`, `resume`, `approve_gate`,
    /// `abort`); empty when none.
    pub request: String,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSite {
    pub site: u32,
    pub key: String,
    pub phase: u32,
    pub state: SiteState,
    pub detail: String,
    pub log_tail: String,
    pub updated_at: DateTime<Utc>,
}

/// One journal row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    pub seq: u64,
    pub site: u32,
    pub server: String,
    pub step: String,
    /// `begin` or `end`.
    pub mark: String,
    /// `pending` for a begin; `ok`, `failed`, `unknown`, `cancelled` for an end.
    pub outcome: String,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// One row of a server's deployment history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub server: String,
    pub at: DateTime<Utc>,
    pub task: TaskId,
    pub rollout: String,
    pub version: String,
    /// `path sha256` per line.
    pub files: String,
    pub actor: String,
    /// `deployed` or `rolled_back`.
    pub result: String,
    pub audit_index: u64,
}

/// The kill switch as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillSwitchState {
    pub engaged: bool,
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A site's new state (insert or replace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteWrite {
    pub site: u32,
    pub key: String,
    pub phase: u32,
    pub state: SiteState,
    pub detail: String,
    /// `None` keeps the stored tail.
    pub log_tail: Option<String>,
}

/// A deployment to record; `audit_pos` is the position of its entry in the write's `audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentWrite {
    pub server: String,
    pub version: String,
    pub files: String,
    pub actor: String,
    pub result: String,
    pub audit_pos: usize,
}

/// A task move inside a rollout write (compare-and-set, like every move).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedMove {
    pub transition: Transition,
    pub actor: PersonName,
    pub note: String,
}

/// Everything one rollout event changes, applied whole or not at all.
#[derive(Debug, Clone, Default)]
pub struct RolloutWrite {
    pub rollout_id: String,
    /// A new rollout (insert), with its task.
    pub insert: Option<StoredRollout>,
    /// The rollout's new state and reason.
    pub state: Option<(RolloutState, String)>,
    pub phase: Option<u32>,
    /// `Some(None)` clears the gate deadline.
    pub gate_until: Option<Option<DateTime<Utc>>>,
    /// Sets (or, with an empty string, clears) the pending request.
    pub request: Option<String>,
    pub sites: Vec<SiteWrite>,
    /// Journal rows; `seq` is assigned by the store (next of the rollout).
    pub journal: Vec<JournalRow>,
    pub deployments: Vec<DeploymentWrite>,
    pub task: Option<TaskId>,
    pub task_moves: Vec<OwnedMove>,
    /// The kill switch's new state.
    pub kill_switch: Option<KillSwitchState>,
    pub at: Option<DateTime<Utc>>,
    pub audit: Vec<EntryDraft>,
}

#[async_trait]
pub trait RolloutStore: Send + Sync {
    async fn rollout(&self, id: &str) -> Result<Option<StoredRollout>, StoreError>;
    /// Rollouts of a task (or of every task), newest first.
    async fn rollouts(&self, task: Option<TaskId>) -> Result<Vec<StoredRollout>, StoreError>;
    /// Rollouts that are not over (running, paused, waiting, halted, interrupted).
    async fn open_rollouts(&self) -> Result<Vec<StoredRollout>, StoreError>;
    async fn rollout_sites(&self, id: &str) -> Result<Vec<StoredSite>, StoreError>;
    /// The journal of one site (or every site), oldest first.
    async fn journal(&self, id: &str, site: Option<u32>) -> Result<Vec<JournalRow>, StoreError>;
    /// A server's deployments, newest first.
    async fn deployments(&self, server: &str) -> Result<Vec<Deployment>, StoreError>;
    async fn kill_switch(&self) -> Result<Option<KillSwitchState>, StoreError>;
    /// Applies every write in one transaction, in order.
    async fn write_rollouts(&self, writes: &[RolloutWrite]) -> Result<(), StoreError>;
}
