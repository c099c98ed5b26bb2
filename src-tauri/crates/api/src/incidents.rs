//! The incident desk (issue 14): `api.incidents()`.
//!
//! Incidents open by hand or by themselves: [`Incidents::scan`] reads the audit log from where
//! it last stopped and opens one incident per cause — a rollout whose site failed, was rolled
//! back or needs manual intervention, a halted or rolled-back rollout, a kill-switch press, a
//! failed verification. It runs after every commit the feed pump sees (this process's or
//! another's), so an incident opens whoever ran the rollout; the cause key keeps two processes
//! from opening it twice.
//!
//! Timers live on the runtime's scheduler ([`INCIDENT_DEADLINE`]): a sweep fires due
//! escalations and announces breached targets, then brings itself forward to the next deadline
//! of any open incident. Deadlines are computed from the stored incidents, so they survive a
//! restart: a console that was off escalates what fell due meanwhile when it starts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guardia_audit::{Entry, EntryDraft};
use guardia_domain::incident::{
    Cause, Checklist, Harm, Incident, IncidentId, IncidentRole, IncidentSettings, IncidentType,
    Links, Mark, NewIncident, Obligation, Postmortem, PreventionAction, Refused, ReportClock,
    Severity, Stage, TargetState, UpdateState, stats,
};
use guardia_domain::{Category, PersonName, TaskDraft};
use guardia_ipc::{
    CountRow, ExportedFile, IncidentAck, IncidentAdvance, IncidentAlert, IncidentBrief,
    IncidentChecklistSet, IncidentClassify, IncidentOpen, IncidentQuery, IncidentRoleSet,
    IncidentSettingsChange, IncidentStats, IncidentUpdatePost, IncidentView, PostmortemSave,
    ReportClockView, ReportDraft, ReportRef, ReportSubmit, StatsExport, StatsQuery, TargetView,
};
use guardia_store::{AuditFilter, IncidentFilter, StoreError, StoredIncident};

use crate::incident_entries as entries;
use crate::{Api, ApiError, Caller};

/// The scheduler entry of every incident deadline.
pub const INCIDENT_DEADLINE: &str = "incident-deadlines";
/// How often the sweep looks anyway (another process may have opened an incident).
pub const INCIDENT_SWEEP: Duration = Duration::minutes(1);
/// Who opens an incident by itself, and fires escalations, in the audit log.
pub const INCIDENT_ACTOR: &str = "guardia";

const SETTINGS_KEY: &str = "settings";
const SCAN_KEY: &str = "scan_cursor";
const SCAN_BATCH: u64 = 2_000;
const TIMELINE_ROWS: u32 = 5_000;

/// Starts reading the log for incident causes at its current end, the first time a database
/// meets incidents (a console that ran rollouts before this version opens none for them).
pub(crate) async fn init_scan_cursor(store: &dyn guardia_store::Store) -> Result<(), ApiError> {
    if store.incident_value(SCAN_KEY).await?.is_none() {
        let head = store.audit_head().await?.size;
        store
            .set_incident_value(SCAN_KEY, &head.to_string(), &[])
            .await?;
    }
    Ok(())
}

/// The incident desk over the API's store.
pub struct Incidents<'a> {
    api: &'a Arc<Api>,
}

impl Api {
    pub fn incidents(self: &Arc<Self>) -> Incidents<'_> {
        Incidents { api: self }
    }
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Invalid(why) => ApiError::InvalidRequest(why),
            other => ApiError::IncidentRefused(other.to_string()),
        }
    }
}

fn invalid(why: impl Into<String>) -> ApiError {
    ApiError::InvalidRequest(why.into())
}

fn parse_type(raw: &str) -> Result<IncidentType, ApiError> {
    IncidentType::parse(raw).ok_or_else(|| {
        invalid(format!(
            "unknown incident type `{raw}`: use infrastructure, application, security, data, \
             performance or external_integration"
        ))
    })
}

fn parse_severity(raw: &str) -> Result<Severity, ApiError> {
    Severity::parse(raw.trim())
        .ok_or_else(|| invalid(format!("unknown severity `{raw}`: use P1, P2, P3 or P4")))
}

fn parse_stage(raw: &str) -> Result<Stage, ApiError> {
    let wanted = raw.trim().to_ascii_uppercase().replace(['-', ' '], "_");
    Stage::ALL
        .into_iter()
        .find(|s| s.code() == wanted)
        .ok_or_else(|| invalid(format!("unknown stage `{raw}`")))
}

fn parse_harm(raw: &str) -> Result<Harm, ApiError> {
    Harm::parse(raw).ok_or_else(|| invalid(format!("unknown harm `{}`", raw.trim())))
}

fn target_view(state: TargetState, due: DateTime<Utc>) -> TargetView {
    let (state, met_at) = match state {
        TargetState::Met { at, late: false } => ("met", Some(at)),
        TargetState::Met { at, late: true } => ("met_late", Some(at)),
        TargetState::Running { .. } => ("running", None),
        TargetState::Breached { .. } => ("breached", None),
    };
    TargetView {
        due,
        state: state.to_owned(),
        met_at,
    }
}

fn clock_view(clock: ReportClock) -> (Option<DateTime<Utc>>, &'static str) {
    match clock {
        ReportClock::Running { due } => (Some(due), "running"),
        ReportClock::DueSoon { due } => (Some(due), "due_soon"),
        ReportClock::Overdue { due } => (Some(due), "overdue"),
        ReportClock::NoDeadline => (None, "no_deadline"),
    }
}

fn respond_view(i: &Incident, now: DateTime<Utc>) -> TargetView {
    target_view(
        i.respond_state(now),
        i.targets.respond.deadline(i.opened_at),
    )
}

fn recover_view(i: &Incident, now: DateTime<Utc>) -> TargetView {
    target_view(
        i.recover_state(now),
        i.targets.recover.deadline(i.opened_at),
    )
}

/// A status update as text for the messenger / e-mail.
fn update_message(i: &Incident, u: &guardia_domain::incident::StatusUpdate) -> String {
    let (ko, en) = u.state.names();
    let next = u.next_due.map_or_else(
        || "없음 / none".to_owned(),
        |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
    );
    format!(
        "[{id}] {sev} 상황 보고 #{n} / Status update #{n}\n\
         제목 / Title: {title}\n\
         시각 / Time: {at}\n\
         상태 / State: {ko} / {en}\n\
         변경 사항 / What changed: {text}\n\
         다음 보고 / Next update: {next}\n",
        id = i.id,
        sev = i.severity.code(),
        n = u.number,
        title = i.title,
        at = u.at.format("%Y-%m-%d %H:%M UTC"),
        text = u.text,
    )
}

impl Incidents<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.api.now()
    }

    /// The settings in force (the defaults until an admin edits them).
    pub async fn settings(&self) -> Result<IncidentSettings, ApiError> {
        match self.api.store.incident_value(SETTINGS_KEY).await? {
            None => Ok(IncidentSettings::default()),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                ApiError::Store(StoreError::Corrupt {
                    what: "incident settings".into(),
                    reason: e.to_string(),
                })
            }),
        }
    }

    pub async fn set_settings(
        &self,
        caller: &Caller,
        change: IncidentSettingsChange,
    ) -> Result<IncidentSettings, ApiError> {
        if change.reason.trim().is_empty() {
            return Err(invalid("say why the incident settings change"));
        }
        change.settings.validate().map_err(invalid)?;
        let before = serde_json::to_string(&self.settings().await?).unwrap_or_default();
        let after = serde_json::to_string(&change.settings)
            .map_err(|e| ApiError::Internal(format!("incident settings: {e}")))?;
        let entry = entries::settings(
            &entries::text_digest(&before),
            &entries::text_digest(&after),
            change.reason.trim(),
            caller.name(),
            self.now(),
        );
        self.api
            .store
            .set_incident_value(SETTINGS_KEY, &after, &[entry])
            .await?;
        self.api
            .runtime
            .scheduler()
            .due_by(INCIDENT_DEADLINE, self.api.clock.now());
        self.settings().await
    }

    async fn load(&self, id: &str) -> Result<StoredIncident, ApiError> {
        self.api
            .store
            .incident(id.trim())
            .await?
            .ok_or_else(|| ApiError::NoSuchIncident(id.trim().to_owned()))
    }

    /// One incident for its page.
    pub async fn get(&self, id: &str) -> Result<IncidentView, ApiError> {
        let stored = self.load(id).await?;
        self.view(stored).await
    }

    async fn view(&self, stored: StoredIncident) -> Result<IncidentView, ApiError> {
        let settings = self.settings().await?;
        let now = self.now();
        let i = &stored.incident;
        let reports = i
            .report_clocks(now)
            .into_iter()
            .map(|(obligation, stage, clock)| {
                let (due, clock) = clock_view(clock);
                ReportClockView {
                    obligation,
                    rule: rule_of(i, obligation),
                    stage,
                    due,
                    clock: clock.to_owned(),
                }
            })
            .collect();
        Ok(IncidentView {
            respond: respond_view(i, now),
            recover: recover_view(i, now),
            next_update_due: i.next_update_due(settings.update_every(i.severity)),
            postmortem_due: i.postmortem_due(),
            reports,
            update_messages: i.updates.iter().map(|u| update_message(i, u)).collect(),
            timeline: self.timeline(i).await?,
            now,
            revision: stored.revision,
            incident: stored.incident,
        })
    }

    /// The incident's own audit entries and those of the rollout and task it is linked to,
    /// oldest first.
    async fn timeline(&self, i: &Incident) -> Result<Vec<guardia_ipc::AuditEntryView>, ApiError> {
        let mut subjects = vec![entries::incident_subject(&i.id)];
        if let Some(rollout) = &i.links.rollout {
            subjects.push(format!("rollout:{rollout}"));
        }
        if let Some(task) = &i.links.task {
            subjects.push(format!("task:{task}"));
        }
        let mut rows = BTreeMap::new();
        for subject in subjects {
            let page = self
                .api
                .store
                .audit_page(&AuditFilter {
                    subject: Some(subject),
                    limit: TIMELINE_ROWS,
                    ..AuditFilter::default()
                })
                .await?;
            for stored in page {
                rows.insert(stored.index, crate::audit::entry_view(&stored));
            }
        }
        Ok(rows.into_values().collect())
    }

    pub async fn list(&self, query: IncidentQuery) -> Result<Vec<IncidentBrief>, ApiError> {
        let settings = self.settings().await?;
        let mut filter = IncidentFilter {
            open_only: query.open_only,
            ..IncidentFilter::default()
        };
        if !query.month.trim().is_empty() {
            let month = stats::Month::parse(&query.month)
                .ok_or_else(|| invalid(format!("`{}` is not a month (YYYY-MM)", query.month)))?;
            let (since, until) = month
                .span(settings.offset())
                .ok_or_else(|| invalid("that month cannot be shown"))?;
            filter.since = Some(since);
            filter.until = Some(until);
        }
        let now = self.now();
        Ok(self
            .api
            .store
            .incidents(&filter)
            .await?
            .into_iter()
            .map(|s| {
                let i = s.incident;
                IncidentBrief {
                    respond: respond_view(&i, now),
                    recover: recover_view(&i, now),
                    severity: i.severity.code().to_owned(),
                    kind: i.kind.code().to_owned(),
                    stage: i.stage.code().to_owned(),
                    opened_at: i.opened_at,
                    commander: i.roles.commander,
                    title: i.title,
                    id: i.id,
                }
            })
            .collect())
    }

    /// Opens an incident by hand.
    pub async fn open(
        &self,
        caller: &Caller,
        input: IncidentOpen,
    ) -> Result<IncidentView, ApiError> {
        let kind = parse_type(&input.kind)?;
        let severity = if input.severity.trim().is_empty() {
            kind.default_severity()
        } else {
            parse_severity(&input.severity)?
        };
        let mut links = Links::default();
        let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        if let Some(rollout) = nonempty(&input.rollout) {
            let stored = self
                .api
                .store
                .rollout(&rollout)
                .await?
                .ok_or_else(|| invalid(format!("there is no rollout `{rollout}`")))?;
            links.task = Some(stored.task.to_string());
            links.rollout = Some(rollout);
        }
        if let Some(task) = nonempty(&input.task) {
            links.task = Some(task);
        }
        if let Some(task) = &links.task {
            let id = task
                .parse()
                .map_err(|_| invalid(format!("`{task}` is not a task id")))?;
            let found = self
                .api
                .store
                .task(id)
                .await?
                .ok_or_else(|| invalid(format!("there is no task `{task}`")))?;
            links.system = Some(found.system.to_string());
        }
        if let Some(server) = nonempty(&input.server) {
            let found = self
                .api
                .store
                .server(&server)
                .await?
                .ok_or_else(|| ApiError::NoSuchServer(server.clone()))?;
            links.system.get_or_insert(found.record.system.clone());
            links.server = Some(server);
        }
        let now = self.now();
        let detected_at = input.detected_at.unwrap_or(now);
        let stored = self
            .insert(
                NewIncident {
                    title: input.title,
                    kind,
                    severity,
                    cause: Cause::Manual,
                    cause_key: None,
                    links,
                    opened_by: caller.name().to_owned(),
                    detected_at,
                    targets: self.settings().await?.targets_for(severity),
                    commander: None,
                },
                caller.name(),
            )
            .await?
            .ok_or_else(|| ApiError::Internal("a manual incident was not stored".into()))?;
        self.view(stored).await
    }

    /// Stores a new incident (its first commander from the roster, unless given); `None` if
    /// its cause already opened one.
    async fn insert(
        &self,
        mut new: NewIncident,
        actor: &str,
    ) -> Result<Option<StoredIncident>, ApiError> {
        let settings = self.settings().await?;
        let now = self.now();
        if new.commander.is_none() {
            new.commander = settings.on_duty(now).map(str::to_owned);
        }
        // Validated before the store's transaction (which only names the id).
        Incident::open("INC-19700101-001".into(), new.clone(), now)?;
        let cause_key = new.cause_key.clone();
        let stored = self
            .api
            .store
            .insert_incident(now.date_naive(), cause_key.as_deref(), &|id: IncidentId| {
                let incident = Incident::open(id.to_string(), new.clone(), now).map_err(|e| {
                    StoreError::Corrupt {
                        what: "new incident".into(),
                        reason: e.to_string(),
                    }
                })?;
                let entry = entries::opened(&incident, actor);
                Ok((incident, vec![entry]))
            })
            .await?;
        if let Some(s) = &stored {
            tracing::info!(
                incident = %s.incident.id,
                severity = s.incident.severity.code(),
                cause = s.incident.cause.code(),
                "incident opened"
            );
            self.api
                .runtime
                .scheduler()
                .due_by(INCIDENT_DEADLINE, self.api.clock.now());
        }
        Ok(stored)
    }

    /// Applies `change` to the incident if it is still at `revision` (0: as it is now), with
    /// the audit entries the change returns; answers the incident as it then is.
    async fn change<F>(&self, id: &str, revision: u64, change: F) -> Result<IncidentView, ApiError>
    where
        F: FnOnce(&mut Incident, DateTime<Utc>) -> Result<Vec<EntryDraft>, ApiError>,
    {
        let stored = self.load(id).await?;
        if revision != 0 && revision != stored.revision {
            return Err(ApiError::Store(StoreError::IncidentChanged(
                stored.incident.id.clone(),
            )));
        }
        let mut incident = stored.incident;
        let audit = change(&mut incident, self.now())?;
        let revision = self
            .api
            .store
            .update_incident(&incident, stored.revision, &audit)
            .await?;
        self.api
            .runtime
            .scheduler()
            .due_by(INCIDENT_DEADLINE, self.api.clock.now());
        self.view(StoredIncident { incident, revision }).await
    }

    pub async fn acknowledge(
        &self,
        caller: &Caller,
        ack: IncidentAck,
    ) -> Result<IncidentView, ApiError> {
        let who = caller.name().to_owned();
        self.change(&ack.id, ack.revision, |i, now| {
            if ack.escalation.trim().is_empty() {
                i.acknowledge(&who, now)?;
                if i.roles.commander.is_none() {
                    i.roles.commander = Some(who.clone());
                }
                Ok(vec![entries::acknowledged(&i.id, &who, now)])
            } else {
                let rule = ack.escalation.trim();
                i.acknowledge_escalation(rule, &who, now)?;
                Ok(vec![entries::escalation_acknowledged(
                    &i.id, rule, &who, now,
                )])
            }
        })
        .await
    }

    pub async fn classify(
        &self,
        caller: &Caller,
        change: IncidentClassify,
    ) -> Result<IncidentView, ApiError> {
        if change.reason.trim().is_empty() {
            return Err(invalid("say why the severity or type changes"));
        }
        let severity = (!change.severity.trim().is_empty())
            .then(|| parse_severity(&change.severity))
            .transpose()?;
        let kind = (!change.kind.trim().is_empty())
            .then(|| parse_type(&change.kind))
            .transpose()?;
        if severity.is_none() && kind.is_none() {
            return Err(invalid("give a new severity or a new type"));
        }
        let settings = self.settings().await?;
        let who = caller.name().to_owned();
        self.change(&change.id, change.revision, |i, now| {
            let before = format!("{} {}", i.severity.code(), i.kind.code());
            if let Some(s) = severity.filter(|s| *s != i.severity) {
                i.set_severity(s, settings.targets_for(s))?;
            }
            if let Some(k) = kind {
                i.set_type(k)?;
            }
            Ok(vec![entries::classified(
                i,
                &before,
                change.reason.trim(),
                &who,
                now,
            )])
        })
        .await
    }

    pub async fn set_role(
        &self,
        caller: &Caller,
        set: IncidentRoleSet,
    ) -> Result<IncidentView, ApiError> {
        let role = IncidentRole::parse(&set.role).ok_or_else(|| {
            invalid(format!(
                "unknown role `{}`: use commander, tech_lead, comms_lead or scribe",
                set.role
            ))
        })?;
        let person = Some(set.person.trim().to_owned()).filter(|p| !p.is_empty());
        if let Some(p) = &person {
            PersonName::parse(p).map_err(|_| invalid(format!("`{p}` is not a name")))?;
            if self.api.store.person(p).await?.is_none() && self.api.store.count_people().await? > 0
            {
                return Err(ApiError::Store(StoreError::PersonNotFound(p.clone())));
            }
        }
        let who = caller.name().to_owned();
        self.change(&set.id, set.revision, |i, now| {
            let before = i.assign(role, person.clone())?;
            Ok(vec![entries::role(
                &i.id,
                role.code(),
                person.as_deref(),
                before.as_deref(),
                &who,
                now,
            )])
        })
        .await
    }

    pub async fn advance(
        &self,
        caller: &Caller,
        step: IncidentAdvance,
    ) -> Result<IncidentView, ApiError> {
        let to = parse_stage(&step.stage)?;
        let who = caller.name().to_owned();
        self.change(&step.id, step.revision, |i, now| {
            let from = i.advance(to, now)?;
            Ok(vec![entries::stage(
                &i.id,
                from.code(),
                to.code(),
                step.note.trim(),
                &who,
                now,
            )])
        })
        .await
    }

    pub async fn post_update(
        &self,
        caller: &Caller,
        post: IncidentUpdatePost,
    ) -> Result<IncidentView, ApiError> {
        let state = UpdateState::parse(&post.state).ok_or_else(|| {
            invalid(format!(
                "unknown state `{}`: use investigating, mitigating or recovered",
                post.state
            ))
        })?;
        let settings = self.settings().await?;
        let who = caller.name().to_owned();
        self.change(&post.id, post.revision, |i, now| {
            let next_due = match post.next_in_minutes {
                Some(0) => None,
                Some(m) => Some(now + Duration::minutes(i64::from(m))),
                None => settings.update_every(i.severity).map(|e| now + e),
            };
            let update = i.post_update(&who, state, &post.text, next_due, now)?;
            Ok(vec![entries::update(&i.id, &update)])
        })
        .await
    }

    pub async fn set_checklist(
        &self,
        caller: &Caller,
        set: IncidentChecklistSet,
    ) -> Result<IncidentView, ApiError> {
        let harms = set
            .harms
            .iter()
            .map(|h| parse_harm(h))
            .collect::<Result<Vec<_>, _>>()?;
        let checklist = Checklist {
            ai_system: set.ai_system,
            harms,
            personal_data: set.personal_data,
            affected_people: set.affected_people,
            occurred_at: set.occurred_at,
            detected_at: set.detected_at,
        };
        let presets = self.settings().await?.reports;
        let who = caller.name().to_owned();
        self.change(&set.id, set.revision, |i, now| {
            if checklist.detected_at > now {
                return Err(invalid("the detection time lies in the future"));
            }
            i.set_checklist(checklist, &presets)?;
            Ok(vec![entries::checklist(i, &who, now)])
        })
        .await
    }

    /// The pre-filled text of a report's current stage (system, time and place, nature and
    /// severity, harm and scale, corrective action), Korean and English.
    pub async fn report_draft(&self, r: ReportRef) -> Result<ReportDraft, ApiError> {
        let i = self.load(&r.id).await?.incident;
        let report = i
            .reports
            .iter()
            .find(|x| x.obligation == r.obligation)
            .ok_or_else(|| {
                ApiError::IncidentRefused(Refused::NoReport(r.obligation.rule().into()).to_string())
            })?;
        Ok(ReportDraft {
            obligation: r.obligation,
            stage: report.stage,
            rule: report.preset.rule.clone(),
            text: report_text(&i, r.obligation, report.stage),
        })
    }

    pub async fn submit_report(
        &self,
        caller: &Caller,
        submit: ReportSubmit,
    ) -> Result<IncidentView, ApiError> {
        if submit.text.trim().is_empty() {
            return Err(invalid("a submitted report keeps the text that was sent"));
        }
        let who = caller.name().to_owned();
        self.change(&submit.id, submit.revision, |i, now| {
            let stage = i.submit_report(submit.obligation, &who, submit.text.trim(), now)?;
            Ok(vec![entries::report_submitted(
                &i.id,
                submit.obligation,
                &rule_of(i, submit.obligation),
                stage,
                submit.text.trim(),
                &who,
                now,
            )])
        })
        .await
    }

    /// Saves the postmortem; completing it turns each prevention action into a task (each
    /// audited as every task is) and records the task ids with it.
    pub async fn save_postmortem(
        &self,
        caller: &Caller,
        save: PostmortemSave,
    ) -> Result<IncidentView, ApiError> {
        let stored = self.load(&save.id).await?;
        let system = stored.incident.links.system.clone();
        let mut actions = Vec::new();
        for a in &save.actions {
            let due = NaiveDate::parse_from_str(a.due.trim(), "%Y-%m-%d")
                .map_err(|_| invalid(format!("`{}` is not a date (YYYY-MM-DD)", a.due)))?;
            actions.push(PreventionAction {
                what: a.what.trim().to_owned(),
                owner: a.owner.trim().to_owned(),
                due,
                task: None,
            });
        }
        let now = self.now();
        let mut postmortem = Postmortem {
            impact: save.impact.trim().to_owned(),
            whys: save
                .whys
                .iter()
                .map(|w| w.trim().to_owned())
                .filter(|w| !w.is_empty())
                .collect(),
            root_cause: save.root_cause.trim().to_owned(),
            went_well: save.went_well.trim().to_owned(),
            went_badly: save.went_badly.trim().to_owned(),
            actions,
            lessons: save.lessons.trim().to_owned(),
            attendees: save.attendees.iter().map(|a| a.trim().to_owned()).collect(),
            completed: save.complete.then(|| Mark {
                by: caller.name().to_owned(),
                at: now,
            }),
        };
        // Checked before any task is made: a refused postmortem leaves no orphan tasks.
        stored.incident.clone().set_postmortem(postmortem.clone())?;
        if save.complete && !postmortem.actions.is_empty() {
            let system = system.ok_or_else(|| {
                invalid("the incident names no system, so its actions cannot become tasks")
            })?;
            for action in &mut postmortem.actions {
                let title: String = format!("[{}] {}", stored.incident.id, action.what)
                    .chars()
                    .take(100)
                    .collect();
                let task = self
                    .api
                    .tasks()
                    .create(
                        caller,
                        TaskDraft {
                            title,
                            category: Some(Category::Inspection),
                            sub_type: String::new(),
                            system: system.clone(),
                            request: format!(
                                "사후 검토 재발 방지 조치 / Postmortem prevention action ({id}): {what}\n\
                                 담당 / Owner: {owner}\n기한 / Due: {due}",
                                id = stored.incident.id,
                                what = action.what,
                                owner = action.owner,
                                due = action.due,
                            ),
                            requester: caller.name().to_owned(),
                            priority: None,
                        },
                    )
                    .await?;
                action.task = Some(task.task.id.to_string());
            }
        }
        let who = caller.name().to_owned();
        self.change(&save.id, stored.revision, move |i, now| {
            i.set_postmortem(postmortem)?;
            Ok(vec![entries::postmortem(i, &who, now)])
        })
        .await
    }

    /// What every screen's banner shows: reports overdue or due within a day, breached
    /// targets, overdue postmortems — over open incidents.
    pub async fn alerts(&self) -> Result<Vec<IncidentAlert>, ApiError> {
        let now = self.now();
        let mut out = Vec::new();
        let open = self
            .api
            .store
            .incidents(&IncidentFilter {
                open_only: true,
                ..IncidentFilter::default()
            })
            .await?;
        for s in open {
            let i = &s.incident;
            for (obligation, stage, clock) in i.report_clocks(now) {
                let (kind, ko, en) = match clock {
                    ReportClock::Overdue { .. } => ("report_overdue", "기한 초과", "overdue"),
                    ReportClock::DueSoon { .. } => {
                        ("report_due_soon", "24시간 내 마감", "due within 24 h")
                    }
                    _ => continue,
                };
                out.push(IncidentAlert {
                    incident: i.id.clone(),
                    kind: kind.to_owned(),
                    due: clock_view(clock).0,
                    text: format!(
                        "{id} {rule} {stage:?} 보고 {ko} · report {en}",
                        id = i.id,
                        rule = rule_of(i, obligation),
                    ),
                });
            }
            for (name, state, due) in [
                (
                    "respond",
                    i.respond_state(now),
                    i.targets.respond.deadline(i.opened_at),
                ),
                (
                    "recover",
                    i.recover_state(now),
                    i.targets.recover.deadline(i.opened_at),
                ),
            ] {
                if matches!(state, TargetState::Breached { .. }) {
                    let ko = if name == "respond" {
                        "대응"
                    } else {
                        "복구"
                    };
                    out.push(IncidentAlert {
                        incident: i.id.clone(),
                        kind: "target_breached".into(),
                        due: Some(due),
                        text: format!(
                            "{} {} {ko} 목표 초과 · {name} target breached",
                            i.id,
                            i.severity.code()
                        ),
                    });
                }
            }
            if let Some(due) = i.postmortem_due().filter(|d| *d < now) {
                out.push(IncidentAlert {
                    incident: i.id.clone(),
                    kind: "postmortem_overdue".into(),
                    due: Some(due),
                    text: format!("{} 사후 검토 기한 초과 · postmortem overdue", i.id),
                });
            }
        }
        Ok(out)
    }

    /// One month's figures.
    pub async fn stats(&self, query: StatsQuery) -> Result<IncidentStats, ApiError> {
        let settings = self.settings().await?;
        let offset = settings.offset();
        let now = self.now();
        let month = if query.month.trim().is_empty() {
            stats::Month::of(now, offset)
        } else {
            stats::Month::parse(&query.month)
                .ok_or_else(|| invalid(format!("`{}` is not a month (YYYY-MM)", query.month)))?
        };
        let first = month.previous().previous();
        let (since, _) = first
            .span(offset)
            .ok_or_else(|| invalid("that month cannot be counted"))?;
        let (_, until) = month
            .span(offset)
            .ok_or_else(|| invalid("that month cannot be counted"))?;
        let all: Vec<Incident> = self
            .api
            .store
            .incidents(&IncidentFilter {
                since: Some(since - stats::RECURRENCE_WINDOW),
                until: Some(until),
                ..IncidentFilter::default()
            })
            .await?
            .into_iter()
            .map(|s| s.incident)
            .collect();
        let m = stats::month_stats(&all, month, offset, now);
        let secs = |d: Option<Duration>| d.map(|d| d.num_seconds());
        Ok(IncidentStats {
            month: month.to_string(),
            total: m.total,
            by_severity: m
                .by_severity
                .iter()
                .map(|(s, n)| CountRow {
                    key: s.code().to_owned(),
                    count: *n,
                })
                .collect(),
            by_type: m
                .by_type
                .iter()
                .map(|(t, n)| CountRow {
                    key: t.code().to_owned(),
                    count: *n,
                })
                .collect(),
            respond_mean_s: secs(m.respond.mean),
            respond_max_s: secs(m.respond.max),
            recover_mean_s: secs(m.recover.mean),
            recover_max_s: secs(m.recover.max),
            respond_breaches: m.respond_breaches,
            recover_breaches: m.recover_breaches,
            recurrences: m.recurrences,
            mttr_trend: stats::mttr_trend(&all, month, offset, now)
                .into_iter()
                .map(|(m, d)| (m.to_string(), secs(d)))
                .collect(),
        })
    }

    /// One month's figures as CSV or a printable page in the exports folder.
    pub async fn stats_export(
        &self,
        _caller: &Caller,
        export: StatsExport,
    ) -> Result<ExportedFile, ApiError> {
        let s = self
            .stats(StatsQuery {
                month: export.month.clone(),
            })
            .await?;
        let (name, content) = match export.format.trim() {
            "csv" => (format!("incident-stats-{}.csv", s.month), stats_csv(&s)),
            "html" => (format!("incident-stats-{}.html", s.month), stats_html(&s)),
            other => {
                return Err(invalid(format!(
                    "unknown format `{other}`: use csv or html"
                )));
            }
        };
        let path = self.api.write_export(&name, &content)?;
        Ok(ExportedFile {
            path: path.display().to_string(),
            content,
        })
    }

    /// Writes the incident's evidence pack (`<exports>/<id>-evidence.json`, format
    /// `guardia-incident-evidence/1`, docs/incidents.md): every audit entry of its timeline
    /// with an inclusion proof against one signed checkpoint, and the attachments — the
    /// incident as stored (updates, reports as submitted, postmortem), the linked rollout's
    /// step journal and each site's fetched log by SHA-256. The export is itself an audit
    /// entry that carries the attachments' hash, and the checkpoint is signed after it, so
    /// `docs/tools/verify-audit.py --evidence FILE --key KEY` checks the whole file offline;
    /// the file is canonical JSON, so any edited byte fails.
    pub async fn export(&self, caller: &Caller, id: &str) -> Result<ExportedFile, ApiError> {
        let stored = self.load(id).await?;
        let i = &stored.incident;
        let mut attachments = serde_json::Map::new();
        attachments.insert(
            "incident".into(),
            serde_json::to_value(i).map_err(|e| ApiError::Internal(e.to_string()))?,
        );
        if let Some(rollout) = &i.links.rollout {
            let journal: Vec<serde_json::Value> = self
                .api
                .store
                .journal(rollout, None)
                .await?
                .into_iter()
                .map(|j| {
                    serde_json::json!({
                        "seq": j.seq, "site": j.site, "server": j.server, "step": j.step,
                        "mark": j.mark, "outcome": j.outcome, "detail": j.detail,
                        "at": guardia_audit::format_time(j.at),
                    })
                })
                .collect();
            let logs: Vec<serde_json::Value> = self
                .api
                .store
                .rollout_sites(rollout)
                .await?
                .into_iter()
                .filter(|s| !s.log_tail.is_empty())
                .map(|s| {
                    serde_json::json!({
                        "site": s.key,
                        "sha256": guardia_audit::sha256_hex(s.log_tail.as_bytes()),
                        "text": s.log_tail,
                    })
                })
                .collect();
            attachments.insert("rollout_journal".into(), journal.into());
            attachments.insert("rollout_logs".into(), logs.into());
        }
        let attachments = canonical_value(serde_json::Value::Object(attachments));
        let attachments_sha256 = guardia_audit::sha256_hex(&canonical_bytes(&attachments)?);
        let mut indexes: Vec<u64> = self.timeline(i).await?.iter().map(|e| e.index).collect();
        let name = format!("{}-evidence.json", i.id);
        let export_entry = entries::exported(
            &i.id,
            &name,
            &attachments_sha256,
            indexes.len() as u64,
            caller.name(),
            self.now(),
        );
        let head = self
            .api
            .store
            .append_audit(std::slice::from_ref(&export_entry))
            .await?;
        let export_index = head.size - 1;
        indexes.push(export_index);
        // One checkpoint after the export's own entry covers every proof.
        self.api
            .checkpoint_if_unsigned(caller, crate::CheckpointReason::OnDemand)
            .await?;
        let mut proved = Vec::with_capacity(indexes.len());
        let mut checkpoint = None;
        for index in indexes {
            let p = self.api.audit_proof(index, None).await?;
            checkpoint
                .get_or_insert_with(|| (p.checkpoint.clone(), p.verifier_key.clone(), p.tree_size));
            if checkpoint.as_ref().is_some_and(|c| c.2 != p.tree_size) {
                return Err(ApiError::Internal(
                    "a checkpoint was signed while the pack was made; export again".into(),
                ));
            }
            proved.push(serde_json::json!({
                "index": p.index,
                "entry_base64": p.entry_base64,
                "proof": p.proof,
            }));
        }
        let (note, key, size) =
            checkpoint.ok_or_else(|| ApiError::Internal("no entries to prove".into()))?;
        let pack = canonical_value(serde_json::json!({
            "format": "guardia-incident-evidence/1",
            "incident": i.id,
            "checkpoint": note,
            "verifier_key": key,
            "tree_size": size,
            "entries": proved,
            "export_entry": export_index,
            "attachments": attachments,
        }));
        let mut bytes = canonical_bytes(&pack)?;
        bytes.push(b'\n');
        let content = String::from_utf8(bytes)
            .map_err(|e| ApiError::Internal(format!("evidence pack: {e}")))?;
        let path = self.api.write_export(&name, &content)?;
        Ok(ExportedFile {
            path: path.display().to_string(),
            content,
        })
    }

    /// Reads the audit log from where the last scan stopped and opens an incident for each
    /// new cause. Returns the incidents it opened.
    pub async fn scan(&self) -> Result<Vec<String>, ApiError> {
        let head = self.api.store.audit_head().await?.size;
        let mut cursor = match self.api.store.incident_value(SCAN_KEY).await? {
            Some(raw) => raw.parse::<u64>().unwrap_or(head),
            None => head,
        };
        let mut opened = Vec::new();
        while cursor < head {
            let end = (cursor + SCAN_BATCH).min(head);
            for stored in self.api.store.audit_range(cursor, end).await? {
                let Ok(entry) = Entry::decode(&stored.bytes) else {
                    continue;
                };
                let Some(new) = self.cause_of(&entry, stored.index).await? else {
                    continue;
                };
                match self.insert(new.clone(), INCIDENT_ACTOR).await? {
                    Some(s) => opened.push(s.incident.id),
                    None => self.worsen(&new).await?,
                }
            }
            cursor = end;
            self.api
                .store
                .set_incident_value(SCAN_KEY, &cursor.to_string(), &[])
                .await?;
        }
        Ok(opened)
    }

    /// A later cause with the same key (a rollback that failed after a site was rolled back)
    /// raises the open incident to its severity if that is more severe; never lowers it.
    async fn worsen(&self, new: &NewIncident) -> Result<(), ApiError> {
        let Some(key) = new.cause_key.as_deref() else {
            return Ok(());
        };
        let Some(stored) = self.api.store.incident_by_cause(key).await? else {
            return Ok(());
        };
        let mut i = stored.incident;
        if i.is_closed() || new.severity >= i.severity {
            return Ok(());
        }
        let before = format!("{} {}", i.severity.code(), i.kind.code());
        i.set_severity(
            new.severity,
            self.settings().await?.targets_for(new.severity),
        )?;
        let entry = entries::classified(&i, &before, &new.title, INCIDENT_ACTOR, self.now());
        match self
            .api
            .store
            .update_incident(&i, stored.revision, &[entry])
            .await
        {
            Ok(_) => {
                tracing::warn!(incident = %i.id, severity = i.severity.code(), "incident raised by a later cause");
                self.api
                    .runtime
                    .scheduler()
                    .due_by(INCIDENT_DEADLINE, self.api.clock.now());
                Ok(())
            }
            // A person changed it meanwhile; they have seen the incident, the timeline shows
            // the new cause, and nothing is overwritten.
            Err(StoreError::IncidentChanged(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The incident an audit entry is the cause of, if it is one.
    async fn cause_of(&self, entry: &Entry, index: u64) -> Result<Option<NewIncident>, ApiError> {
        let text = |key: &str| {
            entry
                .payload
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let rollout = entry.subject.strip_prefix("rollout:").map(str::to_owned);
        let (cause, key, title) = match (entry.kind.as_str(), rollout) {
            ("rollout.site", Some(id)) => {
                let site = text("site");
                let cause = match text("state").as_str() {
                    "FAILED" => Cause::RolloutFailed,
                    "ROLLED_BACK" => Cause::RolledBack,
                    "MANUAL_INTERVENTION_REQUIRED" => Cause::ManualIntervention,
                    _ => return Ok(None),
                };
                let title = format!(
                    "롤아웃 {id} · {site} {} / rollout {id}: {site} {}",
                    match cause {
                        Cause::RolloutFailed => "실패",
                        Cause::RolledBack => "롤백",
                        _ => "수동 조치 필요",
                    },
                    match cause {
                        Cause::RolloutFailed => "failed",
                        Cause::RolledBack => "rolled back",
                        _ => "needs manual intervention",
                    }
                );
                (cause, format!("rollout:{id}"), title)
            }
            ("rollout.state", Some(id)) => {
                let cause = match text("state").as_str() {
                    "HALTED" => Cause::RolloutFailed,
                    "ROLLED_BACK" => Cause::RolledBack,
                    _ => return Ok(None),
                };
                let title = format!(
                    "롤아웃 {id} 중단/롤백 · rollout {id} {}: {}",
                    text("state").to_lowercase().replace('_', " "),
                    text("reason")
                );
                (cause, format!("rollout:{id}"), title)
            }
            ("killswitch.pressed", _) => (
                Cause::KillSwitch,
                format!("killswitch:{index}"),
                format!(
                    "킬 스위치 작동 · kill switch pressed by {}: {}",
                    entry.actor,
                    text("reason")
                ),
            ),
            ("audit.verified", _) if entry.result == "failed" => (
                Cause::AuditFailure,
                format!("audit:{index}"),
                "감사 로그 무결성 검증 실패 · audit log failed verification".to_owned(),
            ),
            _ => return Ok(None),
        };
        let mut links = Links::default();
        if let Some(id) = entry.subject.strip_prefix("rollout:") {
            links.rollout = Some(id.to_owned());
            if let Some(r) = self.api.store.rollout(id).await? {
                links.task = Some(r.task.to_string());
                if let Some(task) = self.api.store.task(r.task).await? {
                    links.system = Some(task.system.to_string());
                }
            }
            let site = text("site");
            if !site.is_empty() {
                links.server = Some(site.rsplit('/').next().unwrap_or(&site).to_owned());
            }
        }
        let kind = cause.default_type();
        let severity = kind.default_severity();
        Ok(Some(NewIncident {
            title: title.chars().take(200).collect(),
            kind,
            severity,
            cause,
            cause_key: Some(key),
            links,
            opened_by: INCIDENT_ACTOR.to_owned(),
            detected_at: entry.at.min(self.now()),
            targets: self.settings().await?.targets_for(severity),
            commander: None,
        }))
    }

    /// Fires due escalations and announces breached targets of every open incident; returns
    /// the next deadline of any of them.
    pub async fn sweep(&self) -> Result<Option<DateTime<Utc>>, ApiError> {
        let settings = self.settings().await?;
        let open = self
            .api
            .store
            .incidents(&IncidentFilter {
                open_only: true,
                ..IncidentFilter::default()
            })
            .await?;
        let mut next: Option<DateTime<Utc>> = None;
        for stored in open {
            let now = self.now();
            let mut i = stored.incident.clone();
            let mut audit = Vec::new();
            let due: Vec<_> = i
                .escalations_due(&settings.matrix, now)
                .into_iter()
                .cloned()
                .collect();
            for rule in due {
                let contacts = settings.contacts_for(&rule.levels);
                i.escalate(&rule, contacts, now);
                if let Some(e) = i.escalations.last() {
                    audit.push(entries::escalated(&i.id, e, INCIDENT_ACTOR));
                }
            }
            for target in i.new_breaches(now) {
                let due = if target == "respond" {
                    i.targets.respond.deadline(i.opened_at)
                } else {
                    i.targets.recover.deadline(i.opened_at)
                };
                audit.push(entries::breached(&i.id, target, due, INCIDENT_ACTOR, now));
            }
            if !audit.is_empty() {
                match self
                    .api
                    .store
                    .update_incident(&i, stored.revision, &audit)
                    .await
                {
                    Ok(_) => {}
                    // Someone changed it meanwhile: the next sweep (brought forward) retries.
                    Err(StoreError::IncidentChanged(_)) => {
                        next = Some(now);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if let Some((at, _)) =
                i.next_deadline(&settings.matrix, settings.update_every(i.severity), now)
            {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        Ok(next)
    }

    /// Registers the sweep on the runtime's scheduler: every [`INCIDENT_SWEEP`], brought
    /// forward to the next deadline after each run.
    pub(crate) fn schedule(api: &Arc<Api>) {
        let scheduler = api.runtime.scheduler().clone();
        let api = api.clone();
        scheduler.clone().every(
            INCIDENT_DEADLINE,
            INCIDENT_SWEEP,
            Duration::zero(),
            move || {
                let api = api.clone();
                let scheduler = scheduler.clone();
                async move {
                    if let Err(e) = api.incidents().scan().await {
                        tracing::warn!(error = %e, "cannot read the log for incident causes");
                    }
                    match api.incidents().sweep().await {
                        Ok(Some(next)) => scheduler.due_by(INCIDENT_DEADLINE, next.fixed_offset()),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "incident sweep failed"),
                    }
                }
            },
        );
    }
}

/// The rule's name as the incident's report carries it (its preset), else the enacted one.
fn rule_of(i: &Incident, obligation: Obligation) -> String {
    i.reports
        .iter()
        .find(|r| r.obligation == obligation)
        .map_or_else(|| obligation.rule().to_owned(), |r| r.preset.rule.clone())
}

/// The same value with every object's keys in byte order (whatever map serde_json uses).
fn canonical_value(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical_value(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical_value).collect())
        }
        other => other,
    }
}

/// Compact JSON of a canonical value: what the auditor's script re-derives byte for byte
/// (`json.dumps(…, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`).
fn canonical_bytes(value: &serde_json::Value) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| ApiError::Internal(format!("evidence pack: {e}")))
}

/// The printable text of a report stage, pre-filled from the incident.
fn report_text(
    i: &Incident,
    obligation: Obligation,
    stage: guardia_domain::incident::ReportStage,
) -> String {
    let (type_ko, type_en) = i.kind.names();
    let (sev_ko, sev_en) = i.severity.names();
    let harm = i.checklist.as_ref().map_or_else(String::new, |c| {
        let harms: Vec<String> = c.harms.iter().map(|h| format!("{h:?}")).collect();
        format!(
            "{} / personal data: {} / affected people: {}",
            if harms.is_empty() {
                "-".to_owned()
            } else {
                harms.join(", ")
            },
            if c.personal_data {
                "yes 예"
            } else {
                "no 아니오"
            },
            c.affected_people
        )
    });
    let corrective = i
        .updates
        .last()
        .map(|u| u.text.clone())
        .unwrap_or_else(|| "-".to_owned());
    let occurred = i
        .checklist
        .as_ref()
        .map_or(i.detected_at, |c| c.occurred_at);
    let mut out = String::new();
    let _ = writeln!(out, "{} — {stage:?}", rule_of(i, obligation));
    let _ = writeln!(out, "사고 번호 / Incident: {}", i.id);
    let _ = writeln!(
        out,
        "시스템 / System: {}",
        i.links.system.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        out,
        "발생 시각 및 장소 / Time and place: {} (detected {}) — {}",
        occurred.format("%Y-%m-%d %H:%M UTC"),
        i.detected_at.format("%Y-%m-%d %H:%M UTC"),
        i.links.server.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        out,
        "성격 및 심각도 / Nature and severity: {type_ko} {type_en} · {} {sev_ko} {sev_en} — {}",
        i.severity.code(),
        i.title
    );
    let _ = writeln!(out, "피해 및 규모 / Harm and scale: {harm}");
    let _ = writeln!(out, "시정 조치 / Corrective action: {corrective}");
    out
}

fn stats_csv(s: &IncidentStats) -> String {
    let mut out = String::from("month,metric,key,value\n");
    let mut row = |metric: &str, key: &str, value: String| {
        let _ = writeln!(out, "{},{metric},{key},{value}", s.month);
    };
    row("total", "", s.total.to_string());
    for c in &s.by_severity {
        row("count_by_severity", &c.key, c.count.to_string());
    }
    for c in &s.by_type {
        row("count_by_type", &c.key, c.count.to_string());
    }
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    row("respond_seconds", "mean", opt(s.respond_mean_s));
    row("respond_seconds", "max", opt(s.respond_max_s));
    row("recover_seconds", "mean", opt(s.recover_mean_s));
    row("recover_seconds", "max", opt(s.recover_max_s));
    row("target_breaches", "respond", s.respond_breaches.to_string());
    row("target_breaches", "recover", s.recover_breaches.to_string());
    row("recurrences", "", s.recurrences.to_string());
    for (m, v) in &s.mttr_trend {
        row("mttr_trend_seconds", m, opt(*v));
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn minutes(v: Option<i64>) -> String {
    v.map_or_else(|| "-".to_owned(), |s| format!("{} min", s / 60))
}

fn stats_html(s: &IncidentStats) -> String {
    let mut rows = String::new();
    let mut row = |k: &str, v: String| {
        let _ = write!(
            rows,
            "<tr><th>{}</th><td>{}</td></tr>",
            html_escape(k),
            html_escape(&v)
        );
    };
    row("사고 수 / Incidents", s.total.to_string());
    for c in &s.by_severity {
        row(&format!("심각도 / Severity {}", c.key), c.count.to_string());
    }
    for c in &s.by_type {
        row(&format!("유형 / Type {}", c.key), c.count.to_string());
    }
    row(
        "평균 대응 / Mean time to respond",
        minutes(s.respond_mean_s),
    );
    row("최대 대응 / Max time to respond", minutes(s.respond_max_s));
    row(
        "평균 복구 (MTTR) / Mean time to recover",
        minutes(s.recover_mean_s),
    );
    row("최대 복구 / Max time to recover", minutes(s.recover_max_s));
    row(
        "대응 목표 초과 / Respond targets missed",
        s.respond_breaches.to_string(),
    );
    row(
        "복구 목표 초과 / Recover targets missed",
        s.recover_breaches.to_string(),
    );
    row("재발 / Recurrences (30 days)", s.recurrences.to_string());
    for (m, v) in &s.mttr_trend {
        row(&format!("MTTR {m}"), minutes(*v));
    }
    format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>GUARDiA incidents {m}</title>\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}th,td{{border:1px solid #888;padding:4px 8px;text-align:left}}</style>\
         </head><body><h1>사고 통계 / Incident statistics {m}</h1><table>{rows}</table></body></html>\n",
        m = html_escape(&s.month)
    )
}

/// One desktop notification about incidents, Korean and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentNotice {
    pub incident: String,
    pub summary: String,
    pub body: String,
    pub urgent: bool,
}

/// What the person at a window has already been told about incidents; starts silent (what
/// stands at sign-in is on the screen already).
#[derive(Debug, Default)]
pub struct IncidentNoticeMemory {
    person: Option<String>,
    told: std::collections::HashSet<String>,
}

impl Incidents<'_> {
    /// What is new for `caller` since `memory` was last updated: an incident opened (to whoever
    /// runs incidents; URGENT for P1/P2), an escalation (to its contacts as "escalated to
    /// you", to the others on duty with the contacts' notes for the call), a breached target
    /// (to whoever runs incidents), a report due within a day or overdue (to legal/DPO).
    pub async fn notices(
        &self,
        caller: &Caller,
        memory: &mut IncidentNoticeMemory,
    ) -> Result<Vec<IncidentNotice>, ApiError> {
        use guardia_domain::governance::Permission;
        let primed = memory.person.as_deref() == Some(caller.name());
        if !primed {
            *memory = IncidentNoticeMemory {
                person: Some(caller.name().to_owned()),
                ..IncidentNoticeMemory::default()
            };
        }
        let runs = caller.may(Permission::RunIncidents);
        let signs = caller.may(Permission::SignOffReports);
        let now = self.now();
        let open = self
            .api
            .store
            .incidents(&IncidentFilter {
                open_only: true,
                ..IncidentFilter::default()
            })
            .await?;
        let mut out = Vec::new();
        let mut tell = |key: String, notice: IncidentNotice| {
            if memory.told.insert(key) && primed {
                out.push(notice);
            }
        };
        for s in &open {
            let i = &s.incident;
            let urgent = i.severity.is_urgent();
            let tag = if urgent { "URGENT 긴급 · " } else { "" };
            if runs {
                tell(
                    format!("open:{}", i.id),
                    IncidentNotice {
                        incident: i.id.clone(),
                        summary: format!(
                            "{tag}{} {} 사고 발생 · incident opened",
                            i.id,
                            i.severity.code()
                        ),
                        body: format!(
                            "{} (지휘 / commander: {})",
                            i.title,
                            i.roles.commander.as_deref().unwrap_or("-")
                        ),
                        urgent,
                    },
                );
                for target in &i.breaches {
                    let ko = if target == "respond" {
                        "대응"
                    } else {
                        "복구"
                    };
                    tell(
                        format!("breach:{}:{}:{target}", i.id, i.severity.code()),
                        IncidentNotice {
                            incident: i.id.clone(),
                            summary: format!(
                                "{tag}{} {ko} 목표 초과 · {target} target breached",
                                i.id
                            ),
                            body: i.title.clone(),
                            urgent,
                        },
                    );
                }
            }
            for e in &i.escalations {
                let mine = e.contacts.iter().any(|c| c.person == caller.name());
                if !mine && !runs {
                    continue;
                }
                let contacts: Vec<String> = e
                    .contacts
                    .iter()
                    .map(|c| {
                        let (ko, en) = c.level.names();
                        format!("{ko}/{en} {} {}", c.person, c.reach)
                    })
                    .collect();
                let summary = if mine {
                    format!("{tag}{} 에스컬레이션 {} · escalated to you", i.id, e.rule)
                } else {
                    format!("{tag}{} 에스컬레이션 {} · escalated", i.id, e.rule)
                };
                tell(
                    format!("escalation:{}:{}", i.id, e.rule),
                    IncidentNotice {
                        incident: i.id.clone(),
                        summary,
                        body: if contacts.is_empty() {
                            format!("{} — 연락처 미지정 · no contacts set", i.title)
                        } else {
                            format!("{} — {}", i.title, contacts.join("; "))
                        },
                        urgent,
                    },
                );
            }
            if signs {
                for (obligation, stage, clock) in i.report_clocks(now) {
                    let (word, urgent) = match clock {
                        ReportClock::DueSoon { .. } => ("24시간 내 마감 · due within 24 h", false),
                        ReportClock::Overdue { .. } => ("기한 초과 · overdue", true),
                        _ => continue,
                    };
                    tell(
                        format!("report:{}:{obligation:?}:{stage:?}:{word}", i.id),
                        IncidentNotice {
                            incident: i.id.clone(),
                            summary: format!(
                                "{} {} {stage:?} {word}",
                                i.id,
                                rule_of(i, obligation)
                            ),
                            body: i.title.clone(),
                            urgent,
                        },
                    );
                }
            }
        }
        Ok(out)
    }
}
