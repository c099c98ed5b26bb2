//! Incidents (issue 14): what crosses for the incident desk.
//!
//! The incident itself crosses as the domain's [`Incident`] (its enums spell themselves as
//! their variant names: `P1`, `RootCause`, `EuAiActArt73`); what is computed at the time of
//! asking — target states, report clocks, the timeline from the audit log — is added beside it.

use chrono::{DateTime, Utc};
use guardia_domain::incident::{Incident, IncidentSettings, Obligation, ReportStage};
use serde::{Deserialize, Serialize};

use crate::AuditEntryView;

/// Open an incident by hand (from a task, a server, a rollout, or from nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentOpen {
    pub title: String,
    /// `infrastructure`, `application`, `security`, `data`, `performance`,
    /// `external_integration`.
    pub kind: String,
    /// `P1`…`P4`; empty: the type's default (the more severe end of its range).
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub task: String,
    #[serde(default)]
    pub rollout: String,
    #[serde(default)]
    pub server: String,
    /// When it was noticed, if before now.
    #[serde(default)]
    pub detected_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentQuery {
    #[serde(default)]
    pub open_only: bool,
    /// `YYYY-MM`: only incidents opened that month (organisation's offset).
    #[serde(default)]
    pub month: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRef {
    pub id: String,
}

/// Where a target stands when asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetView {
    pub due: DateTime<Utc>,
    /// `running`, `met`, `met_late`, `breached`.
    pub state: String,
    pub met_at: Option<DateTime<Utc>>,
}

/// One open report and its clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportClockView {
    pub obligation: Obligation,
    /// The rule the obligation comes from, as printed on the report.
    pub rule: String,
    pub stage: ReportStage,
    pub due: Option<DateTime<Utc>>,
    /// `running`, `due_soon`, `overdue`, `no_deadline`.
    pub clock: String,
}

/// One incident for its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentView {
    pub incident: Incident,
    /// Name it in a change, so two people cannot overwrite each other.
    pub revision: u64,
    pub now: DateTime<Utc>,
    pub respond: TargetView,
    pub recover: TargetView,
    pub next_update_due: Option<DateTime<Utc>>,
    pub postmortem_due: Option<DateTime<Utc>>,
    pub reports: Vec<ReportClockView>,
    /// Each status update as text for the messenger or e-mail (Korean, then English).
    pub update_messages: Vec<String>,
    /// The incident's audit entries and those of what it is linked to, oldest first.
    pub timeline: Vec<AuditEntryView>,
}

/// A row of the incident list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentBrief {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub kind: String,
    pub stage: String,
    pub opened_at: DateTime<Utc>,
    pub commander: Option<String>,
    pub respond: TargetView,
    pub recover: TargetView,
}

/// Acknowledge an incident (taking it on), or — with `escalation` — one escalation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentAck {
    pub id: String,
    pub revision: u64,
    /// A rule id such as `P1@30m`; empty: the incident itself.
    #[serde(default)]
    pub escalation: String,
}

/// Change severity and/or type (with why).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentClassify {
    pub id: String,
    pub revision: u64,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub kind: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRoleSet {
    pub id: String,
    pub revision: u64,
    /// `commander`, `tech_lead`, `comms_lead`, `scribe`.
    pub role: String,
    /// Empty clears the role.
    pub person: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentAdvance {
    pub id: String,
    pub revision: u64,
    /// `TRIAGE`, `CONTAIN`, `ROOT_CAUSE`, `RECOVER`, `VERIFY`, `POSTMORTEM`, `CLOSED`.
    pub stage: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentUpdatePost {
    pub id: String,
    pub revision: u64,
    /// `investigating`, `mitigating`, `recovered`.
    pub state: String,
    pub text: String,
    /// Minutes to the next update; `None`: the severity's default (hourly for P1/P2);
    /// `Some(0)`: no further update planned.
    #[serde(default)]
    pub next_in_minutes: Option<u32>,
}

/// The reportability checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentChecklistSet {
    pub id: String,
    pub revision: u64,
    pub ai_system: bool,
    /// `death_or_health`, `fundamental_rights`, `property_or_environment`, `breach_of_law`.
    pub harms: Vec<String>,
    pub personal_data: bool,
    pub affected_people: u64,
    pub occurred_at: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
}

/// The pre-filled text of a report's current stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRef {
    pub id: String,
    /// `EuAiActArt73`, `KoreaPersonalDataNotification`, `KoreaPersonalDataCommissionReport`.
    pub obligation: Obligation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDraft {
    pub obligation: Obligation,
    pub stage: ReportStage,
    pub rule: String,
    /// Printable, Korean and English.
    pub text: String,
}

/// The legal/DPO's sign-off: the report's current stage was submitted as `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSubmit {
    pub id: String,
    pub revision: u64,
    pub obligation: Obligation,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionInput {
    pub what: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due: String,
}

/// The postmortem as edited; `complete` finishes it and turns each action into a task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemSave {
    pub id: String,
    pub revision: u64,
    pub impact: String,
    pub whys: Vec<String>,
    pub root_cause: String,
    pub went_well: String,
    pub went_badly: String,
    pub actions: Vec<ActionInput>,
    pub lessons: String,
    pub attendees: Vec<String>,
    pub complete: bool,
}

/// Something on every screen's banner: a report overdue or due within a day, a breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentAlert {
    pub incident: String,
    /// `report_overdue`, `report_due_soon`, `target_breached`, `postmortem_overdue`.
    pub kind: String,
    pub due: Option<DateTime<Utc>>,
    /// One line, Korean and English.
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// `YYYY-MM`; empty: this month.
    #[serde(default)]
    pub month: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub key: String,
    pub count: u32,
}

/// One month's figures (durations in seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentStats {
    pub month: String,
    pub total: u32,
    pub by_severity: Vec<CountRow>,
    pub by_type: Vec<CountRow>,
    pub respond_mean_s: Option<i64>,
    pub respond_max_s: Option<i64>,
    pub recover_mean_s: Option<i64>,
    pub recover_max_s: Option<i64>,
    pub respond_breaches: u32,
    pub recover_breaches: u32,
    pub recurrences: u32,
    /// MTTR of this month and the two before, oldest first: (`YYYY-MM`, seconds).
    pub mttr_trend: Vec<(String, Option<i64>)>,
}

/// Statistics as a file: `csv` or `html` (printable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsExport {
    #[serde(default)]
    pub month: String,
    pub format: String,
}

/// The incident desk's settings as edited by an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSettingsChange {
    pub settings: IncidentSettings,
    pub reason: String,
}
