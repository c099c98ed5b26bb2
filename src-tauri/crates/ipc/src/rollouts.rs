//! Rollouts, the live board, deployment history and the kill switch (issue 12).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One phase of a plan as a person writes it (CLI `--plan FILE`, the plan editor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseInput {
    pub name: String,
    /// `tier:N`, `tag:NAME`, `count:N`, `percent:P[:MIN[:MAX]]`, `list:a,b,c`,
    /// `sample:N[:SEED]`, `rest`.
    pub select: String,
    pub window: usize,
    /// `manual`, `soak:SECONDS`, or empty (manual before tier-1 sites, else the plan's soak).
    #[serde(default)]
    pub gate: String,
    /// `site`, `batch`, `phase` or `all`.
    #[serde(default = "site_scope")]
    pub scope: String,
}

fn site_scope() -> String {
    "site".into()
}

/// A plan as a person writes it. `None` phases: the default plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    #[serde(default)]
    pub phases: Vec<PhaseInput>,
    /// `N` sites or `P%`; empty: 5%.
    #[serde(default)]
    pub budget: String,
    /// The soak between automatic phases, seconds (default 60).
    #[serde(default)]
    pub soak_seconds: Option<u64>,
}

/// What to roll out: a task's approved result, with a plan and the playbook's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutRequest {
    pub task: String,
    #[serde(default)]
    pub plan: PlanInput,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhasePreview {
    pub name: String,
    pub sites: usize,
    pub servers: usize,
    pub batches: usize,
    pub window: usize,
    /// `manual`, `soak 60 s`, or empty for the last phase.
    pub gate: String,
    pub scope: String,
    /// The first sites (at most 20), for the preview.
    pub first_sites: Vec<String>,
    pub tier1_sites: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactPlan {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// A plan resolved against the fleet, before anything runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutPreview {
    pub task: String,
    pub system: String,
    pub playbook: String,
    pub playbook_version: u32,
    pub playbook_title: String,
    pub package_version: u32,
    pub package_sha256: String,
    pub version_label: String,
    pub artifacts: Vec<ArtifactPlan>,
    pub params: BTreeMap<String, String>,
    pub sites: usize,
    pub servers: usize,
    pub phases: Vec<PhasePreview>,
    /// Failed sites tolerated across all phases; one more halts the rollout.
    pub budget: usize,
    /// What a person should know (several-server sites, manual gates, refusals ahead).
    pub notes: Vec<String>,
    /// Why the rollout cannot start now (empty: it can).
    pub blockers: Vec<String>,
}

/// One site on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRow {
    pub index: u32,
    pub key: String,
    pub phase: u32,
    /// `PENDING`, `RUNNING`, `DONE`, `FAILED`, `ROLLING_BACK`, `ROLLED_BACK`, `UNCERTAIN`,
    /// `MANUAL_INTERVENTION_REQUIRED`, `SKIPPED`.
    pub state: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseProgress {
    pub name: String,
    pub total: u32,
    pub done: u32,
    pub failed: u32,
    pub running: u32,
    pub gate: String,
}

/// A rollout as the board shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutView {
    pub id: String,
    pub task: String,
    /// `RUNNING`, `PAUSED`, `WAITING_GATE`, `HALTED`, `INTERRUPTED`, `COMPLETED`,
    /// `ROLLED_BACK`, `ABORTED`.
    pub state: String,
    pub reason: String,
    pub phase: u32,
    /// RFC 3339: when an automatic gate opens.
    pub gate_until: Option<String>,
    pub playbook: String,
    pub version_label: String,
    pub package_sha256: String,
    pub started_by: String,
    pub started_at: String,
    pub updated_at: String,
    pub budget: u32,
    pub failures: u32,
    /// Site count per state.
    pub counts: BTreeMap<String, u32>,
    pub phases: Vec<PhaseProgress>,
    pub sites: Vec<SiteRow>,
    /// Seconds to the end at the pace so far; `None` until a site finished.
    pub eta_seconds: Option<u64>,
    /// Whether this console runs it now (else it waits for a person: resume, roll back,
    /// abandon).
    pub live: bool,
}

/// A rollout in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutBrief {
    pub id: String,
    pub task: String,
    pub state: String,
    pub reason: String,
    pub version_label: String,
    pub started_by: String,
    pub started_at: String,
    pub sites: u32,
    pub failures: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutRef {
    pub id: String,
}

/// A person's decision on a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutAction {
    pub id: String,
    /// `pause`, `resume`, `approve_gate`, `abort`, `rollback` (with `scope` and `site`),
    /// `abandon` (an interrupted or halted rollout ends as it stands).
    pub action: String,
    /// For `rollback`: `site` (give `site`), `phase` (the current one) or `all`.
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRef {
    pub id: String,
    pub site: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLine {
    pub seq: u64,
    pub server: String,
    pub step: String,
    pub mark: String,
    pub outcome: String,
    pub detail: String,
    pub at: String,
}

/// One site's record: its servers, step journal and the service log fetched on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteDetail {
    pub key: String,
    pub servers: Vec<String>,
    pub state: String,
    pub detail: String,
    pub log_tail: String,
    pub journal: Vec<JournalLine>,
}

/// The kill switch, and what is allowed while it is engaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitchView {
    pub engaged: bool,
    pub by: String,
    pub reason: String,
    pub at: Option<String>,
    pub allowed: Vec<String>,
    pub refused: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitchInput {
    pub reason: String,
}

/// One deployment (or rollback) that reached a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentView {
    pub at: String,
    pub task: String,
    pub rollout: String,
    pub version: String,
    /// `path sha256` per file.
    pub files: Vec<String>,
    pub actor: String,
    pub result: String,
    pub audit_index: u64,
}

/// A server's history and what it runs now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerHistory {
    pub server: String,
    pub current: Option<DeploymentView>,
    pub history: Vec<DeploymentView>,
}

/// "Check drift": the recorded hash of each deployed file against the file on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    pub server: String,
    pub files: Vec<DriftFile>,
    pub drifted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftFile {
    pub path: String,
    pub recorded: String,
    /// The server's hash; `absent` when the file is gone, empty when it could not be read.
    pub found: String,
    pub same: bool,
}
