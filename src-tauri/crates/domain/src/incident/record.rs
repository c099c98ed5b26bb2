//! One incident as a whole: what opened it, how bad it is, who runs it, where it stands, what
//! was said and reported. Every change is a method here that checks it and refuses what the
//! rules do not allow; the API records the change (and its audit entry) only if it is `Ok`.
//!
//! The incident's timeline is not kept here: it is the audit log (the incident's own entries
//! and those of the rollout, task or server it is linked to), so it cannot disagree with it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::escalation::{Contact, EscalationMatrix, Level};
use super::lifecycle::Stage;
use super::report::{self, Checklist, Obligation, ReportClock, ReportPreset, ReportStage};
use super::severity::{IncidentType, Severity, TargetState, Targets, target_state};

/// What opened an incident. Automatic causes carry a key so one cause opens one incident
/// (a rollout that fails at three sites has one incident, not three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cause {
    /// A person opened it (from a task, a server, a rollout or from nothing).
    Manual,
    /// A rollout halted on failures, or a site of it failed.
    RolloutFailed,
    /// A site (or a whole phase) was rolled back.
    RolledBack,
    /// A rollback failed: MANUAL_INTERVENTION_REQUIRED.
    ManualIntervention,
    KillSwitch,
    /// The audit log failed verification.
    AuditFailure,
}

impl Cause {
    pub fn code(self) -> &'static str {
        match self {
            Cause::Manual => "manual",
            Cause::RolloutFailed => "rollout_failed",
            Cause::RolledBack => "rolled_back",
            Cause::ManualIntervention => "manual_intervention",
            Cause::KillSwitch => "kill_switch",
            Cause::AuditFailure => "audit_failure",
        }
    }

    /// The type an incident of this cause has until a person says otherwise.
    pub fn default_type(self) -> IncidentType {
        match self {
            Cause::Manual | Cause::RolloutFailed | Cause::RolledBack => IncidentType::Application,
            Cause::ManualIntervention | Cause::KillSwitch => IncidentType::Infrastructure,
            Cause::AuditFailure => IncidentType::Security,
        }
    }
}

/// What the incident is about (any may be empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    pub task: Option<String>,
    pub rollout: Option<String>,
    pub server: Option<String>,
    pub system: Option<String>,
}

/// The people running an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IncidentRole {
    Commander,
    TechLead,
    CommsLead,
    Scribe,
}

impl IncidentRole {
    pub const ALL: [IncidentRole; 4] = [
        IncidentRole::Commander,
        IncidentRole::TechLead,
        IncidentRole::CommsLead,
        IncidentRole::Scribe,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IncidentRole::Commander => "commander",
            IncidentRole::TechLead => "tech_lead",
            IncidentRole::CommsLead => "comms_lead",
            IncidentRole::Scribe => "scribe",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let wanted = raw.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find(|r| r.code() == wanted)
    }

    /// (Korean, English).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            IncidentRole::Commander => ("사고 지휘자", "Incident commander"),
            IncidentRole::TechLead => ("기술 리드", "Tech lead"),
            IncidentRole::CommsLead => ("커뮤니케이션 리드", "Communications lead"),
            IncidentRole::Scribe => ("기록 담당", "Scribe"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub commander: Option<String>,
    pub tech_lead: Option<String>,
    pub comms_lead: Option<String>,
    pub scribe: Option<String>,
}

impl Roles {
    pub fn get(&self, role: IncidentRole) -> Option<&str> {
        match role {
            IncidentRole::Commander => self.commander.as_deref(),
            IncidentRole::TechLead => self.tech_lead.as_deref(),
            IncidentRole::CommsLead => self.comms_lead.as_deref(),
            IncidentRole::Scribe => self.scribe.as_deref(),
        }
    }

    fn slot(&mut self, role: IncidentRole) -> &mut Option<String> {
        match role {
            IncidentRole::Commander => &mut self.commander,
            IncidentRole::TechLead => &mut self.tech_lead,
            IncidentRole::CommsLead => &mut self.comms_lead,
            IncidentRole::Scribe => &mut self.scribe,
        }
    }
}

/// A person's act with its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One escalation that fired: which rule, who it reached, who acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// The rule's id, e.g. `P1@30m`.
    pub rule: String,
    pub levels: Vec<Level>,
    /// The contacts the levels had when it fired (with their notes for the manual call).
    pub contacts: Vec<Contact>,
    pub at: DateTime<Utc>,
    pub acknowledged: Option<Mark>,
}

/// The state a status update reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UpdateState {
    Investigating,
    Mitigating,
    Recovered,
}

impl UpdateState {
    pub const ALL: [UpdateState; 3] = [
        UpdateState::Investigating,
        UpdateState::Mitigating,
        UpdateState::Recovered,
    ];

    pub fn code(self) -> &'static str {
        match self {
            UpdateState::Investigating => "investigating",
            UpdateState::Mitigating => "mitigating",
            UpdateState::Recovered => "recovered",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let wanted = raw.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|s| s.code() == wanted)
    }

    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            UpdateState::Investigating => ("조사 중", "Investigating"),
            UpdateState::Mitigating => ("완화 중", "Mitigating"),
            UpdateState::Recovered => ("복구됨", "Recovered"),
        }
    }
}

/// A regular status update (for the messenger or e-mail the organisation uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub number: u32,
    pub at: DateTime<Utc>,
    pub by: String,
    pub state: UpdateState,
    /// What changed since the last update.
    pub text: String,
    /// When the next update is due (`None`: none planned).
    pub next_due: Option<DateTime<Utc>>,
}

/// One stage of a report that was submitted, with the legal/DPO sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub stage: ReportStage,
    pub signed_off_by: String,
    pub at: DateTime<Utc>,
    /// What was sent (the pre-filled report as edited), kept for the evidence pack.
    pub text: String,
}

/// One regulatory report obligation of the incident and how far it has got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub obligation: Obligation,
    /// The preset in force when the report was opened (its clocks and rule's name).
    pub preset: ReportPreset,
    /// The stage to submit next (`Closed` when done).
    pub stage: ReportStage,
    pub submissions: Vec<Submission>,
}

/// A prevention action of a postmortem; it becomes a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreventionAction {
    pub what: String,
    pub owner: String,
    pub due: NaiveDate,
    /// The task it became (set when recorded).
    pub task: Option<String>,
}

/// The blameless postmortem (start, end and duration come from the incident; the timeline
/// from the audit log).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Postmortem {
    pub impact: String,
    /// The 5 whys, in order.
    pub whys: Vec<String>,
    pub root_cause: String,
    pub went_well: String,
    pub went_badly: String,
    pub actions: Vec<PreventionAction>,
    pub lessons: String,
    pub attendees: Vec<String>,
    pub completed: Option<Mark>,
}

/// How long after recovery the postmortem is due.
pub const POSTMORTEM_DUE: Duration = Duration::hours(48);

/// Why a change to an incident was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the incident is closed")]
    Closed,
    #[error("{from:?} cannot go to {to:?}")]
    Stage { from: Stage, to: Stage },
    #[error("the incident was already acknowledged by {0}")]
    AlreadyAcknowledged(String),
    #[error("there is no escalation {0}")]
    NoEscalation(String),
    #[error("escalation {0} was already acknowledged")]
    EscalationAcknowledged(String),
    #[error("no report under {0} applies to this incident")]
    NoReport(String),
    #[error("every stage of the {0} report is already submitted")]
    ReportDone(String),
    #[error("the postmortem is complete; it can no longer be changed")]
    PostmortemComplete,
    #[error("the incident cannot close before its postmortem is complete")]
    PostmortemMissing,
    #[error("{0}")]
    Invalid(String),
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub kind: IncidentType,
    pub severity: Severity,
    pub stage: Stage,
    pub cause: Cause,
    /// The key that makes an automatic cause open one incident (`rollout:<id>`, …).
    pub cause_key: Option<String>,
    pub links: Links,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub detected_at: DateTime<Utc>,
    /// Targets of the current severity, as configured when it was set.
    pub targets: Targets,
    pub responded: Option<Mark>,
    pub recovered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub roles: Roles,
    pub escalations: Vec<Escalation>,
    /// Targets whose breach was already announced (`respond`, `recover`).
    pub breaches: Vec<String>,
    pub updates: Vec<StatusUpdate>,
    pub checklist: Option<Checklist>,
    pub reports: Vec<Report>,
    pub postmortem: Option<Postmortem>,
}

/// What a new incident is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    pub title: String,
    pub kind: IncidentType,
    pub severity: Severity,
    pub cause: Cause,
    pub cause_key: Option<String>,
    pub links: Links,
    pub opened_by: String,
    pub detected_at: DateTime<Utc>,
    pub targets: Targets,
    pub commander: Option<String>,
}

/// A deadline of an incident the runtime waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Deadline {
    Respond,
    Recover,
    Escalation,
    StatusUpdate,
    Report,
    Postmortem,
}

impl Incident {
    pub fn open(id: String, new: NewIncident, at: DateTime<Utc>) -> Result<Self, Refused> {
        let title = new.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(Refused::Invalid(
                "an incident needs a title of 1 to 200 characters".into(),
            ));
        }
        if new.detected_at > at {
            return Err(Refused::Invalid("detected after it was opened".into()));
        }
        Ok(Self {
            id,
            title: title.to_owned(),
            kind: new.kind,
            severity: new.severity,
            stage: Stage::Detect,
            cause: new.cause,
            cause_key: new.cause_key,
            links: new.links,
            opened_at: at,
            opened_by: new.opened_by,
            detected_at: new.detected_at,
            targets: new.targets,
            responded: None,
            recovered_at: None,
            closed_at: None,
            roles: Roles {
                commander: new.commander,
                ..Roles::default()
            },
            escalations: Vec::new(),
            breaches: Vec::new(),
            updates: Vec::new(),
            checklist: None,
            reports: Vec::new(),
            postmortem: None,
        })
    }

    pub fn is_closed(&self) -> bool {
        self.stage == Stage::Closed
    }

    fn open_for_change(&self) -> Result<(), Refused> {
        if self.is_closed() {
            Err(Refused::Closed)
        } else {
            Ok(())
        }
    }

    /// Someone took it on: the response target is met now.
    pub fn acknowledge(&mut self, by: &str, at: DateTime<Utc>) -> Result<(), Refused> {
        self.open_for_change()?;
        if let Some(done) = &self.responded {
            return Err(Refused::AlreadyAcknowledged(done.by.clone()));
        }
        self.responded = Some(Mark {
            by: by.to_owned(),
            at,
        });
        if self.stage == Stage::Detect {
            self.stage = Stage::Triage;
        }
        Ok(())
    }

    pub fn set_severity(&mut self, severity: Severity, targets: Targets) -> Result<(), Refused> {
        self.open_for_change()?;
        if severity == self.severity {
            return Err(Refused::Invalid(format!(
                "the incident is {} already",
                severity.code()
            )));
        }
        self.severity = severity;
        self.targets = targets;
        // A new severity has its own targets: a breach of the old ones is not this one's.
        self.breaches.clear();
        Ok(())
    }

    pub fn set_type(&mut self, kind: IncidentType) -> Result<(), Refused> {
        self.open_for_change()?;
        self.kind = kind;
        Ok(())
    }

    /// Assigns (or with `None`, clears) a role; returns who held it before.
    pub fn assign(
        &mut self,
        role: IncidentRole,
        person: Option<String>,
    ) -> Result<Option<String>, Refused> {
        self.open_for_change()?;
        Ok(std::mem::replace(self.roles.slot(role), person))
    }

    /// Moves along the lifecycle. Reaching Verify marks the recovery; Closed needs the
    /// completed postmortem.
    pub fn advance(&mut self, to: Stage, at: DateTime<Utc>) -> Result<Stage, Refused> {
        let from = self.stage;
        let next = from.advance(to).map_err(|r| Refused::Stage {
            from: r.from,
            to: r.to,
        })?;
        if next == Stage::Closed
            && self
                .postmortem
                .as_ref()
                .and_then(|p| p.completed.as_ref())
                .is_none()
        {
            return Err(Refused::PostmortemMissing);
        }
        if self.responded.is_none() {
            // Moving it on is taking it on.
            return Err(Refused::Invalid(
                "acknowledge the incident before moving it on".into(),
            ));
        }
        self.stage = next;
        if next.is_recovered() && self.recovered_at.is_none() {
            self.recovered_at = Some(at);
        }
        if next == Stage::Recover {
            // The fix did not hold (Verify → Recover): recovered again when verified again.
            self.recovered_at = None;
        }
        if next == Stage::Closed {
            self.closed_at = Some(at);
        }
        Ok(from)
    }

    /// Posts a status update; numbers run 1, 2, 3 … Returns the update.
    pub fn post_update(
        &mut self,
        by: &str,
        state: UpdateState,
        text: &str,
        next_due: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<StatusUpdate, Refused> {
        self.open_for_change()?;
        let text = text.trim();
        if text.is_empty() {
            return Err(Refused::Invalid("an update says what changed".into()));
        }
        if next_due.is_some_and(|due| due <= at) {
            return Err(Refused::Invalid(
                "the next update is due in the past".into(),
            ));
        }
        let update = StatusUpdate {
            number: self.updates.last().map_or(1, |u| u.number + 1),
            at,
            by: by.to_owned(),
            state,
            text: text.to_owned(),
            next_due,
        };
        self.updates.push(update.clone());
        Ok(update)
    }

    /// When the next status update is due: the last update's plan, or — before the first
    /// update — `every` after opening. `None` once recovered, or when nothing is planned.
    pub fn next_update_due(&self, every: Option<Duration>) -> Option<DateTime<Utc>> {
        if self.recovered_at.is_some() || self.is_closed() {
            return None;
        }
        match self.updates.last() {
            Some(last) => last.next_due,
            None => every.map(|e| self.opened_at + e),
        }
    }

    /// Escalation rules of the current severity that are due and have not fired yet. No
    /// escalation once recovered.
    pub fn escalations_due<'m>(
        &self,
        matrix: &'m EscalationMatrix,
        now: DateTime<Utc>,
    ) -> Vec<&'m super::EscalationRule> {
        if self.recovered_at.is_some() || self.is_closed() {
            return Vec::new();
        }
        matrix
            .due(self.severity, self.opened_at, now)
            .filter(|rule| !self.escalations.iter().any(|e| e.rule == rule.id()))
            .collect()
    }

    /// Records that `rule` fired, reaching `contacts`.
    pub fn escalate(
        &mut self,
        rule: &super::EscalationRule,
        contacts: Vec<Contact>,
        at: DateTime<Utc>,
    ) {
        self.escalations.push(Escalation {
            rule: rule.id(),
            levels: rule.levels.clone(),
            contacts,
            at,
            acknowledged: None,
        });
    }

    pub fn acknowledge_escalation(
        &mut self,
        rule: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Refused> {
        let escalation = self
            .escalations
            .iter_mut()
            .find(|e| e.rule == rule)
            .ok_or_else(|| Refused::NoEscalation(rule.to_owned()))?;
        if escalation.acknowledged.is_some() {
            return Err(Refused::EscalationAcknowledged(rule.to_owned()));
        }
        escalation.acknowledged = Some(Mark {
            by: by.to_owned(),
            at,
        });
        Ok(())
    }

    pub fn respond_state(&self, now: DateTime<Utc>) -> TargetState {
        target_state(
            self.targets.respond,
            self.opened_at,
            self.responded.as_ref().map(|m| m.at),
            now,
        )
    }

    pub fn recover_state(&self, now: DateTime<Utc>) -> TargetState {
        target_state(self.targets.recover, self.opened_at, self.recovered_at, now)
    }

    /// Targets breached at `now` whose breach was not yet announced; marks them announced.
    pub fn new_breaches(&mut self, now: DateTime<Utc>) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (name, state) in [
            ("respond", self.respond_state(now)),
            ("recover", self.recover_state(now)),
        ] {
            if matches!(state, TargetState::Breached { .. })
                && !self.breaches.iter().any(|b| b == name)
            {
                self.breaches.push(name.to_owned());
                out.push(name);
            }
        }
        out
    }

    /// Answers the reportability checklist: the obligations it makes apply get a report
    /// (at the initial stage); those already started keep their progress. An obligation that
    /// no longer applies and has nothing submitted is dropped; one with a submission stays.
    /// Returns the obligations that were added.
    pub fn set_checklist(
        &mut self,
        checklist: Checklist,
        presets: &[ReportPreset],
    ) -> Result<Vec<Obligation>, Refused> {
        self.open_for_change()?;
        if checklist.occurred_at > checklist.detected_at {
            return Err(Refused::Invalid(
                "the incident cannot be detected before it occurred".into(),
            ));
        }
        let applying: Vec<&ReportPreset> =
            presets.iter().filter(|p| p.applies(&checklist)).collect();
        self.reports.retain(|r| {
            applying.iter().any(|p| p.obligation == r.obligation) || !r.submissions.is_empty()
        });
        let mut added = Vec::new();
        for preset in applying {
            if !self
                .reports
                .iter()
                .any(|r| r.obligation == preset.obligation)
            {
                self.reports.push(Report {
                    obligation: preset.obligation,
                    preset: preset.clone(),
                    stage: ReportStage::Initial,
                    submissions: Vec::new(),
                });
                added.push(preset.obligation);
            }
        }
        self.detected_at = checklist.detected_at;
        self.checklist = Some(checklist);
        Ok(added)
    }

    /// Marks the current stage of a report submitted, signed off by `signer` (the API checks
    /// that the signer holds the legal/DPO role). Returns the stage submitted.
    pub fn submit_report(
        &mut self,
        obligation: Obligation,
        signer: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<ReportStage, Refused> {
        let report = self
            .reports
            .iter_mut()
            .find(|r| r.obligation == obligation)
            .ok_or_else(|| Refused::NoReport(obligation.rule().to_owned()))?;
        let stage = report.stage;
        let next = stage
            .next()
            .ok_or_else(|| Refused::ReportDone(obligation.rule().to_owned()))?;
        report.submissions.push(Submission {
            stage,
            signed_off_by: signer.to_owned(),
            at,
            text: text.to_owned(),
        });
        report.stage = if stage >= report.preset.last_stage {
            ReportStage::Closed
        } else {
            next
        };
        Ok(stage)
    }

    /// Each open report's clock at `now`.
    pub fn report_clocks(&self, now: DateTime<Utc>) -> Vec<(Obligation, ReportStage, ReportClock)> {
        self.reports
            .iter()
            .filter(|r| r.stage != ReportStage::Closed)
            .map(|r| {
                (
                    r.obligation,
                    r.stage,
                    report::clock_after(r.preset.due_after(r.stage), self.detected_at, now),
                )
            })
            .collect()
    }

    /// Saves the postmortem (a draft, or complete with `completed`).
    pub fn set_postmortem(&mut self, postmortem: Postmortem) -> Result<(), Refused> {
        self.open_for_change()?;
        if self
            .postmortem
            .as_ref()
            .is_some_and(|p| p.completed.is_some())
        {
            return Err(Refused::PostmortemComplete);
        }
        if postmortem.completed.is_some() {
            if postmortem.impact.trim().is_empty() || postmortem.root_cause.trim().is_empty() {
                return Err(Refused::Invalid(
                    "a complete postmortem states the impact and the root cause".into(),
                ));
            }
            if self.recovered_at.is_none() {
                return Err(Refused::Invalid(
                    "the postmortem is completed after recovery".into(),
                ));
            }
        }
        for action in &postmortem.actions {
            if action.what.trim().is_empty() || action.owner.trim().is_empty() {
                return Err(Refused::Invalid(
                    "each prevention action has what and an owner".into(),
                ));
            }
        }
        self.postmortem = Some(postmortem);
        Ok(())
    }

    /// When the postmortem is due (48 h after recovery), if it is not complete yet.
    pub fn postmortem_due(&self) -> Option<DateTime<Utc>> {
        let done = self
            .postmortem
            .as_ref()
            .is_some_and(|p| p.completed.is_some());
        match (self.recovered_at, done) {
            (Some(at), false) => Some(at + POSTMORTEM_DUE),
            _ => None,
        }
    }

    /// The next time something about this incident falls due after `now`: a target, an
    /// escalation, an update, a report, the postmortem (for the runtime's timer).
    pub fn next_deadline(
        &self,
        matrix: &EscalationMatrix,
        update_every: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, Deadline)> {
        if self.is_closed() {
            return None;
        }
        let mut candidates: Vec<(DateTime<Utc>, Deadline)> = Vec::new();
        if self.responded.is_none() {
            candidates.push((
                self.targets.respond.deadline(self.opened_at),
                Deadline::Respond,
            ));
        }
        if self.recovered_at.is_none() {
            candidates.push((
                self.targets.recover.deadline(self.opened_at),
                Deadline::Recover,
            ));
            if let Some(at) = matrix.next_due(self.severity, self.opened_at, now) {
                candidates.push((at, Deadline::Escalation));
            }
        }
        if let Some(at) = self.next_update_due(update_every) {
            candidates.push((at, Deadline::StatusUpdate));
        }
        for (_, _, clock) in self.report_clocks(now) {
            match clock {
                ReportClock::Running { due } => {
                    candidates.push((due - Duration::hours(24), Deadline::Report));
                }
                ReportClock::DueSoon { due } => candidates.push((due, Deadline::Report)),
                ReportClock::Overdue { .. } | ReportClock::NoDeadline => {}
            }
        }
        if let Some(at) = self.postmortem_due() {
            candidates.push((at, Deadline::Postmortem));
        }
        candidates.into_iter().filter(|(at, _)| *at > now).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::report::Harm;
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap()
    }

    fn opened(severity: Severity) -> Incident {
        Incident::open(
            "INC-20261207-001".into(),
            NewIncident {
                title: "rollout R-1 failed at lab-0012".into(),
                kind: IncidentType::Application,
                severity,
                cause: Cause::RolledBack,
                cause_key: Some("rollout:R-1".into()),
                links: Links::default(),
                opened_by: "console".into(),
                detected_at: at(7, 9, 0),
                targets: Targets::default_for(severity, 540),
                commander: Some("kim.oncall".into()),
            },
            at(7, 9, 0),
        )
        .unwrap()
    }

    #[test]
    fn acknowledging_meets_the_response_target_once() {
        let mut i = opened(Severity::P2);
        assert_eq!(
            i.respond_state(at(7, 9, 10)),
            TargetState::Running {
                left: Duration::minutes(20)
            }
        );
        i.acknowledge("kim", at(7, 9, 20)).unwrap();
        assert_eq!(i.stage, Stage::Triage);
        assert_eq!(
            i.respond_state(at(7, 12, 0)),
            TargetState::Met {
                at: at(7, 9, 20),
                late: false
            }
        );
        assert!(matches!(
            i.acknowledge("lee", at(7, 9, 21)),
            Err(Refused::AlreadyAcknowledged(by)) if by == "kim"
        ));
    }

    #[test]
    fn breaches_are_announced_once_and_a_new_severity_has_its_own() {
        let mut i = opened(Severity::P2);
        assert!(
            i.new_breaches(at(7, 9, 30)).is_empty(),
            "due at 9:30, not past"
        );
        assert_eq!(i.new_breaches(at(7, 9, 31)), ["respond"]);
        assert!(i.new_breaches(at(7, 9, 45)).is_empty());
        i.set_severity(Severity::P1, Targets::default_for(Severity::P1, 540))
            .unwrap();
        assert_eq!(i.new_breaches(at(7, 9, 45)), ["respond"]);
        assert_eq!(i.new_breaches(at(7, 10, 1)), ["recover"]);
    }

    #[test]
    fn the_lifecycle_records_recovery_and_closing_needs_the_postmortem() {
        let mut i = opened(Severity::P2);
        assert!(
            matches!(
                i.advance(Stage::Triage, at(7, 9, 1)),
                Err(Refused::Invalid(_))
            ),
            "nobody has taken it on yet"
        );
        i.acknowledge("kim", at(7, 9, 5)).unwrap();
        assert!(matches!(
            i.advance(Stage::Recover, at(7, 9, 6)),
            Err(Refused::Stage {
                from: Stage::Triage,
                to: Stage::Recover
            })
        ));
        i.advance(Stage::RootCause, at(7, 9, 10)).unwrap();
        i.advance(Stage::Recover, at(7, 9, 30)).unwrap();
        i.advance(Stage::Verify, at(7, 10, 0)).unwrap();
        assert_eq!(i.recovered_at, Some(at(7, 10, 0)));
        i.advance(Stage::Recover, at(7, 10, 5)).unwrap();
        assert_eq!(i.recovered_at, None, "the fix did not hold");
        i.advance(Stage::Verify, at(7, 10, 40)).unwrap();
        assert_eq!(i.recovered_at, Some(at(7, 10, 40)));
        assert_eq!(i.postmortem_due(), Some(at(9, 10, 40)));
        i.advance(Stage::Postmortem, at(7, 11, 0)).unwrap();
        assert_eq!(
            i.advance(Stage::Closed, at(7, 11, 0)),
            Err(Refused::PostmortemMissing)
        );
        let mut pm = Postmortem {
            impact: "3 sites served HTTP 503 for 12 minutes".into(),
            root_cause: "the new config lacked the pool size".into(),
            ..Postmortem::default()
        };
        i.set_postmortem(pm.clone()).unwrap();
        pm.completed = Some(Mark {
            by: "kim".into(),
            at: at(7, 12, 0),
        });
        i.set_postmortem(pm.clone()).unwrap();
        assert_eq!(i.postmortem_due(), None);
        assert_eq!(i.set_postmortem(pm), Err(Refused::PostmortemComplete));
        i.advance(Stage::Closed, at(7, 12, 5)).unwrap();
        assert_eq!(i.closed_at, Some(at(7, 12, 5)));
        assert_eq!(i.acknowledge("x", at(7, 13, 0)), Err(Refused::Closed));
    }

    #[test]
    fn escalations_fire_once_per_rule_and_stop_at_recovery() {
        let m = EscalationMatrix::default();
        let mut i = opened(Severity::P1);
        let due: Vec<String> = i
            .escalations_due(&m, at(7, 9, 31))
            .iter()
            .map(|r| r.id())
            .collect();
        assert_eq!(due, ["P1@15m", "P1@30m"]);
        for rule in i
            .escalations_due(&m, at(7, 9, 31))
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
        {
            i.escalate(&rule, Vec::new(), at(7, 9, 31));
        }
        assert!(i.escalations_due(&m, at(7, 9, 59)).is_empty());
        assert_eq!(
            i.next_deadline(&m, Some(Duration::hours(1)), at(7, 9, 31)),
            Some((at(7, 10, 0), Deadline::Recover)),
            "recover-by and the 60-minute rule and the first update coincide; the target sorts first"
        );
        i.acknowledge_escalation("P1@15m", "lee", at(7, 9, 40))
            .unwrap();
        assert_eq!(
            i.acknowledge_escalation("P1@15m", "lee", at(7, 9, 41)),
            Err(Refused::EscalationAcknowledged("P1@15m".into()))
        );
        i.acknowledge("kim", at(7, 9, 40)).unwrap();
        i.advance(Stage::RootCause, at(7, 9, 41)).unwrap();
        i.advance(Stage::Recover, at(7, 9, 42)).unwrap();
        i.advance(Stage::Verify, at(7, 9, 50)).unwrap();
        assert!(i.escalations_due(&m, at(7, 12, 0)).is_empty());
    }

    #[test]
    fn updates_are_numbered_and_plan_the_next() {
        let mut i = opened(Severity::P2);
        assert_eq!(
            i.next_update_due(Some(Duration::hours(1))),
            Some(at(7, 10, 0))
        );
        let u = i
            .post_update(
                "kim",
                UpdateState::Investigating,
                "3 sites rolled back",
                Some(at(7, 10, 30)),
                at(7, 9, 30),
            )
            .unwrap();
        assert_eq!(u.number, 1);
        assert_eq!(
            i.next_update_due(Some(Duration::hours(1))),
            Some(at(7, 10, 30))
        );
        assert!(
            i.post_update("kim", UpdateState::Mitigating, "  ", None, at(7, 9, 40))
                .is_err()
        );
        let u = i
            .post_update(
                "kim",
                UpdateState::Mitigating,
                "pool size restored",
                None,
                at(7, 9, 45),
            )
            .unwrap();
        assert_eq!(u.number, 2);
    }

    #[test]
    fn an_edited_preset_sets_the_clock_of_reports_opened_after_it_and_no_other() {
        let mut presets = ReportPreset::defaults();
        presets[0].rule = "EU AI Act Art. 73(2) — internal 48 h".into();
        presets[0].due[0] = Some(48 * 3600);
        let checklist = Checklist {
            ai_system: true,
            harms: vec![Harm::DeathOrHealth],
            personal_data: true,
            affected_people: 999,
            occurred_at: at(7, 8, 0),
            detected_at: at(7, 9, 0),
        };
        let mut i = opened(Severity::P1);
        let added = i.set_checklist(checklist.clone(), &presets).unwrap();
        assert_eq!(
            added,
            [
                Obligation::EuAiActArt73,
                Obligation::KoreaPersonalDataNotification
            ],
            "999 people: below the commission threshold"
        );
        assert_eq!(
            i.report_clocks(at(7, 9, 0))[0].2,
            ReportClock::Running { due: at(9, 9, 0) }
        );
        assert_eq!(
            i.reports[0].preset.rule,
            "EU AI Act Art. 73(2) — internal 48 h"
        );
        // The preset changes again: the running report keeps its clock.
        presets[0].due[0] = Some(3600);
        presets[2].min_affected = 500;
        let added = i.set_checklist(checklist, &presets).unwrap();
        assert_eq!(added, [Obligation::KoreaPersonalDataCommissionReport]);
        assert_eq!(
            i.report_clocks(at(7, 9, 0))[0].2,
            ReportClock::Running { due: at(9, 9, 0) }
        );
    }

    #[test]
    fn the_checklist_starts_report_clocks_and_the_dpo_signs_each_stage() {
        let mut i = opened(Severity::P1);
        let added = i
            .set_checklist(
                Checklist {
                    ai_system: true,
                    harms: vec![Harm::FundamentalRights],
                    personal_data: true,
                    affected_people: 12,
                    occurred_at: at(7, 8, 0),
                    detected_at: at(7, 9, 0),
                },
                &ReportPreset::defaults(),
            )
            .unwrap();
        assert_eq!(
            added,
            [
                Obligation::EuAiActArt73,
                Obligation::KoreaPersonalDataNotification
            ]
        );
        let clocks = i.report_clocks(at(7, 9, 0));
        assert_eq!(
            clocks[0],
            (
                Obligation::EuAiActArt73,
                ReportStage::Initial,
                ReportClock::Running { due: at(10, 9, 0) }
            )
        );
        assert_eq!(clocks[1].2, ReportClock::DueSoon { due: at(8, 9, 0) });
        assert_eq!(
            i.submit_report(Obligation::EuAiActArt73, "park.dpo", "initial", at(8, 9, 0)),
            Ok(ReportStage::Initial)
        );
        assert_eq!(i.reports[0].stage, ReportStage::Detailed);
        assert_eq!(
            i.submit_report(
                Obligation::KoreaPersonalDataNotification,
                "park.dpo",
                "notice",
                at(8, 9, 0)
            ),
            Ok(ReportStage::Initial)
        );
        assert_eq!(i.reports[1].stage, ReportStage::Closed);
        assert!(matches!(
            i.submit_report(
                Obligation::KoreaPersonalDataNotification,
                "park.dpo",
                "again",
                at(8, 9, 0)
            ),
            Err(Refused::ReportDone(_))
        ));
        assert!(matches!(
            i.submit_report(
                Obligation::KoreaPersonalDataCommissionReport,
                "park.dpo",
                "x",
                at(8, 9, 0)
            ),
            Err(Refused::NoReport(_))
        ));
        // Fewer people than thought, no AI harm after all: the started report stays.
        i.set_checklist(
            Checklist {
                ai_system: false,
                harms: vec![],
                personal_data: false,
                affected_people: 0,
                occurred_at: at(7, 8, 0),
                detected_at: at(7, 9, 0),
            },
            &ReportPreset::defaults(),
        )
        .unwrap();
        assert_eq!(i.reports.len(), 2);
    }
}
