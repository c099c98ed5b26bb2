//! The approvals capability (`api.approvals()`): submitting a task to its chain, deciding
//! the step one holds, the "waiting for me" inbox, SLA escalation, and the rules that route
//! a system's steps (owner, deputy, supervisor, away, SLA, sensitivity, deploy windows).
//!
//! The rules themselves are pure (`guardia_domain::governance::chain`): this module loads
//! the chain and the system's routing, lets the chain decide, runs the automatic security
//! check the chain asks for, and writes the new chain, the task's move and every audit entry
//! in one transaction (compare-and-set on the chain's version). Each decision then signs a
//! checkpoint. SLA deadlines are stored with the chain and fire from the runtime's scheduler
//! ([`SLA_DEADLINE`]): a console that was off escalates overdue steps when it starts.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use guardia_audit::EntryDraft;
use guardia_domain::governance::routing::{MAX_SLA_SECONDS, MIN_SLA_SECONDS};
use guardia_domain::governance::window::{format_utc_offset, parse_utc_offset};
use guardia_domain::governance::{
    Chain, ChainPolicy, CheckResult, DecisionRefused, DeployWindows, Effect, Freeze, Holder,
    RiskClass, Role, WeeklyHours,
};
use guardia_domain::{PersonName, SystemName, Task, TaskEvent, TaskId, TaskIdError, TaskStatus};
use guardia_ipc::{
    ErrorCode, InboxItem, IpcError, RouteChange, RulesChange, SystemChoice, SystemRouteChange,
    SystemRulesChange, SystemRulesView, TaskDecision, TaskDetail, TaskRef, TaskSummary,
};
use guardia_store::{ChainWrite, Document, PackageState, StoreError, SystemRules, TaskMove};

use crate::approval_entries::{self as entries, CONSOLE};
use crate::{Api, Caller, CheckpointReason, Permission, audit_entries};

/// The scheduler entry that escalates overdue steps.
pub const SLA_DEADLINE: &str = "approval-sla";
/// How often the SLA entry runs even when no deadline is known (a change another process
/// made is also noticed through the feed at once).
pub const SLA_SWEEP: Duration = Duration::minutes(1);
/// An owner/deputy mapping older than this is listed for confirmation.
pub const CONFIRM_EVERY: Duration = Duration::days(30);
const POLICY_KEY: &str = "chain_policy";

/// The approvals of one console: `api.approvals()`.
#[derive(Clone, Copy)]
pub struct Approvals<'a> {
    pub(crate) api: &'a Api,
}

/// Why an approval operation failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error(transparent)]
    BadTaskId(#[from] TaskIdError),
    #[error("task {0} does not exist")]
    NotFound(TaskId),
    #[error("only the requester of {task} ({requester}) submits it, not {person}")]
    NotRequester {
        task: TaskId,
        requester: String,
        person: String,
    },
    #[error("task {task} is {status}: {what}")]
    WrongStatus {
        task: TaskId,
        status: TaskStatus,
        what: &'static str,
    },
    #[error("{task}: {refused}")]
    Refused {
        task: TaskId,
        refused: DecisionRefused,
    },
    #[error("{person} holds no {permission} role over system {system}")]
    OutOfScope {
        person: String,
        permission: Permission,
        system: String,
    },
    #[error("{person} is not the owner of system {system} (its owner is {owner}); {what}")]
    NotOwner {
        person: String,
        system: String,
        owner: String,
        what: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("there is nobody named `{0}`; add them first (guardia user add)")]
    UnknownPerson(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApprovalError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApprovalError::BadTaskId(_) | ApprovalError::Invalid(_) => ErrorCode::InvalidInput,
            ApprovalError::NotFound(_)
            | ApprovalError::UnknownPerson(_)
            | ApprovalError::Store(StoreError::TaskNotFound(_)) => ErrorCode::NotFound,
            ApprovalError::NotRequester { .. }
            | ApprovalError::OutOfScope { .. }
            | ApprovalError::NotOwner { .. } => ErrorCode::Forbidden,
            ApprovalError::Refused { refused, .. } => match refused {
                DecisionRefused::CommentRequired => ErrorCode::InvalidInput,
                DecisionRefused::NothingWaiting => ErrorCode::Conflict,
                DecisionRefused::AutomaticStep
                | DecisionRefused::OwnRequest(_)
                | DecisionRefused::SecondSignature { .. }
                | DecisionRefused::NotYourStep { .. } => ErrorCode::Forbidden,
            },
            ApprovalError::WrongStatus { .. }
            | ApprovalError::Store(
                StoreError::Conflict { .. }
                | StoreError::ChainChanged(_)
                | StoreError::Busy(_)
                | StoreError::AuditRace,
            ) => ErrorCode::Conflict,
            ApprovalError::Store(_) => ErrorCode::Storage,
        }
    }
}

impl From<ApprovalError> for IpcError {
    fn from(error: ApprovalError) -> Self {
        IpcError::new(error.code(), error.to_string())
    }
}

impl Api {
    /// A governance setting stored as JSON, or `T`'s default while none was set; a stored
    /// value that no longer parses is reported as corrupt, never replaced silently.
    pub(crate) async fn setting_or_default<T: serde::de::DeserializeOwned + Default>(
        &self,
        key: &str,
        what: &str,
    ) -> Result<T, StoreError> {
        match self.store.governance_setting(key).await? {
            None => Ok(T::default()),
            Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                what: what.to_owned(),
                reason: e.to_string(),
            }),
        }
    }

    /// The approvals capability.
    pub fn approvals(&self) -> Approvals<'_> {
        Approvals { api: self }
    }
}

/// What a chain operation leads to, gathered before anything is written.
#[derive(Default)]
pub(crate) struct Settled {
    pub entries: Vec<EntryDraft>,
    pub moves: Vec<(TaskEvent, String)>,
    /// Something to tell people (desktop notifications).
    pub notices: Vec<(usize, Holder, bool)>,
    /// Documents for the agent's outbox (work order, rework brief).
    pub documents: Vec<Document>,
    /// A result-stage step decided the package under review.
    pub package_state: Option<PackageState>,
}

/// Where a system sits: the institutions that have it (scopes are per institution).
pub(crate) struct Place {
    system: String,
    institutions: Vec<String>,
}

impl Place {
    /// Whether `test` holds for every institution that has a system of this name (tasks
    /// name the system only, so a scope must cover each of them: fail closed), or, for a
    /// system the inventory does not know, for no institution (only unscoped grants).
    fn for_all(&self, test: impl Fn(&str) -> bool) -> bool {
        if self.institutions.is_empty() {
            return test("");
        }
        self.institutions
            .iter()
            .all(|institution| test(institution))
    }

    pub(crate) fn holds(&self, caller: &Caller, role: Role) -> bool {
        self.for_all(|institution| caller.holds_on(role, institution, &self.system))
    }

    pub(crate) fn may(&self, caller: &Caller, permission: Permission) -> bool {
        self.for_all(|institution| caller.may_on(permission, institution, &self.system))
    }
}

impl Approvals<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.api.clock.now().to_utc()
    }

    /// The chain policy: what an admin stored, else SPEC §3's default.
    pub async fn policy(&self) -> Result<ChainPolicy, ApprovalError> {
        Ok(self
            .api
            .setting_or_default(POLICY_KEY, "chain policy")
            .await?)
    }

    /// An admin changes which steps each risk class's chain has. Chains already open keep
    /// theirs; new submissions follow the new policy.
    pub async fn set_policy(
        &self,
        caller: &Caller,
        policy: ChainPolicy,
    ) -> Result<ChainPolicy, ApprovalError> {
        policy
            .check()
            .map_err(|e| ApprovalError::Invalid(e.to_string()))?;
        let before = self.policy().await?;
        if before == policy {
            return Ok(policy);
        }
        let json = serde_json::to_string(&policy)
            .map_err(|e| ApprovalError::Invalid(format!("chain policy: {e}")))?;
        let entry = entries::chain_policy_changed(&before, &policy, caller, self.now());
        self.api
            .store
            .set_governance_setting(POLICY_KEY, &json, entry)
            .await?;
        Ok(policy)
    }

    pub(crate) async fn rules(&self, system: &str) -> Result<SystemRules, ApprovalError> {
        match self.api.store.system_rules(system).await? {
            Some(rules) => Ok(rules),
            None => {
                let name = SystemName::parse(system)
                    .map_err(|e| ApprovalError::Invalid(format!("system `{system}`: {e}")))?;
                Ok(SystemRules::unset(name, self.now()))
            }
        }
    }

    pub(crate) async fn place(&self, system: &str) -> Result<Place, ApprovalError> {
        Ok(Place {
            system: system.to_owned(),
            institutions: self.api.store.institutions_of(system).await?,
        })
    }

    async fn task(&self, id: &str) -> Result<Task, ApprovalError> {
        let id: TaskId = id.parse()?;
        self.api
            .store
            .task(id)
            .await?
            .ok_or(ApprovalError::NotFound(id))
    }

    pub(crate) async fn detail(&self, task: Task) -> Result<TaskDetail, ApprovalError> {
        let timeline = self.api.store.timeline(task.id).await?;
        let approvals = self.rounds(task.id).await?;
        Ok(TaskDetail {
            task,
            timeline,
            approvals,
        })
    }

    /// Every round of a task's chain, oldest first.
    pub async fn rounds(&self, task: TaskId) -> Result<Vec<Chain>, ApprovalError> {
        Ok(self
            .api
            .store
            .chains(task)
            .await?
            .into_iter()
            .map(|stored| stored.chain)
            .collect())
    }

    /// The requester sends a task (RECEIVED, or RETURNED after edits) for approval: a new
    /// round of its chain opens at the first step.
    pub async fn submit(
        &self,
        caller: &Caller,
        task: TaskRef,
    ) -> Result<TaskDetail, ApprovalError> {
        let task = self.task(&task.id).await?;
        if task.requester != caller.person {
            return Err(ApprovalError::NotRequester {
                task: task.id,
                requester: task.requester.to_string(),
                person: caller.person.to_string(),
            });
        }
        let place = self.place(task.system.as_str()).await?;
        if !place.may(caller, Permission::WriteTasks) {
            return Err(ApprovalError::OutOfScope {
                person: caller.person.to_string(),
                permission: Permission::WriteTasks,
                system: task.system.to_string(),
            });
        }
        let previous = self.api.store.chains(task.id).await?;
        let event = match task.status {
            TaskStatus::Received => Some(TaskEvent::Submitted),
            TaskStatus::Returned => Some(TaskEvent::Resubmitted),
            // Moved to PENDING_APPROVAL before chains existed (older data, the demo): the
            // requester opens its chain without moving it again.
            TaskStatus::PendingApproval if previous.is_empty() => None,
            status => {
                return Err(ApprovalError::WrongStatus {
                    task: task.id,
                    status,
                    what: "only a new or returned task is submitted",
                });
            }
        };
        let round = previous.last().map_or(1, |stored| stored.chain.round + 1);
        let task = self.open_round(caller, &task, round, event).await?;
        self.detail(task).await
    }

    /// Opens round `round` of the task's chain for `caller` (its requester), moving the task
    /// by `event` if given, and carries out what the first step asks.
    async fn open_round(
        &self,
        caller: &Caller,
        task: &Task,
        round: u32,
        event: Option<TaskEvent>,
    ) -> Result<Task, ApprovalError> {
        let rules = self.rules(task.system.as_str()).await?;
        let policy = self.policy().await?;
        let now = self.now();
        let risk = RiskClass::of(task.category, task.sub_type.as_ref());
        let mut chain = Chain::new(
            &policy,
            risk,
            rules.sensitive,
            task.requester.clone(),
            round,
        );
        let effects = chain.start(now, &rules.routing);
        let mut settled = Settled {
            entries: vec![entries::approval_submitted(task, &chain, caller, now)],
            moves: event.map(|e| (e, String::new())).into_iter().collect(),
            ..Settled::default()
        };
        self.settle(task, &mut chain, &rules, effects, now, &mut settled)
            .await?;
        self.write(caller, task, &chain, None, settled, now).await
    }

    /// The demo's tasks that wait for approval get their chains (the demo walked them to
    /// PENDING_APPROVAL before any chain existed), so a newcomer signed in as the demo team
    /// lead finds them in the inbox. Returns how many were opened.
    pub(crate) async fn open_demo_chains(&self, workstation: &str) -> Result<usize, ApprovalError> {
        let filter = guardia_store::TaskFilter {
            status: Some(TaskStatus::PendingApproval),
            limit: guardia_store::TaskFilter::MAX_LIMIT,
            ..guardia_store::TaskFilter::default()
        };
        let mut opened = 0;
        for task in self.api.store.list_tasks(&filter).await? {
            if !self.api.store.chains(task.id).await?.is_empty() {
                continue;
            }
            let requester = Caller {
                person: task.requester.clone(),
                workstation: workstation.to_owned(),
                grants: vec![guardia_domain::governance::RoleGrant::everywhere(
                    Role::Requester,
                )],
            };
            self.open_round(&requester, &task, 1, None).await?;
            opened += 1;
        }
        Ok(opened)
    }

    /// `caller` decides the step they hold: approve, reject or return, with a comment.
    pub async fn decide(
        &self,
        caller: &Caller,
        decision: TaskDecision,
    ) -> Result<TaskDetail, ApprovalError> {
        let task = self.task(&decision.id).await?;
        let Some(mut stored) = self.api.store.chains(task.id).await?.pop() else {
            return Err(ApprovalError::WrongStatus {
                task: task.id,
                status: task.status,
                what: "it has no approval chain yet; its requester submits it (guardia task submit)",
            });
        };
        let result_stage =
            task.status == TaskStatus::PendingReview && stored.chain.result_stage_open;
        if task.status != TaskStatus::PendingApproval && !result_stage {
            return Err(ApprovalError::WrongStatus {
                task: task.id,
                status: task.status,
                what: "its request is not waiting for approval (the result review decides later steps)",
            });
        }
        if result_stage
            && stored
                .chain
                .waiting()
                .is_some_and(|(_, step)| step.kind == guardia_domain::governance::StepKind::Pm)
        {
            return Err(ApprovalError::WrongStatus {
                task: task.id,
                status: task.status,
                what: "the PM step is decided on the review screen, bound to what was seen (guardia package decide)",
            });
        }
        let place = self.place(task.system.as_str()).await?;
        // Held by name or by role, a decision needs the permission over this very system.
        if !place.may(caller, Permission::DecideApprovals) {
            return Err(ApprovalError::OutOfScope {
                person: caller.person.to_string(),
                permission: Permission::DecideApprovals,
                system: task.system.to_string(),
            });
        }
        let rules = self.rules(task.system.as_str()).await?;
        let now = self.now();
        let effects = stored
            .chain
            .decide(
                &caller.person,
                |role| place.holds(caller, role),
                decision.verdict,
                &decision.comment,
                now,
                &rules.routing,
            )
            .map_err(|refused| ApprovalError::Refused {
                task: task.id,
                refused,
            })?;
        let step = stored.chain.signed_by(&caller.person).unwrap_or_default();
        let mut settled = Settled {
            entries: vec![entries::approval_decided(
                &task,
                &stored.chain,
                step,
                caller,
                now,
            )],
            ..Settled::default()
        };
        self.settle(&task, &mut stored.chain, &rules, effects, now, &mut settled)
            .await?;
        let task = self
            .write(
                caller,
                &task,
                &stored.chain,
                Some(stored.version),
                settled,
                now,
            )
            .await?;
        if let Err(e) = self
            .api
            .checkpoint_if_unsigned(caller, CheckpointReason::Approval)
            .await
        {
            // The decision is committed; the next checkpoint covers it.
            tracing::warn!(error = %e, "no checkpoint after the approval decision");
        }
        self.detail(task).await
    }

    /// Carries out what a chain operation asked for: runs the security check (feeding its
    /// result back, which may ask for more), and turns the rest into entries, task moves and
    /// notices.
    async fn settle(
        &self,
        task: &Task,
        chain: &mut Chain,
        rules: &SystemRules,
        effects: Vec<Effect>,
        now: DateTime<Utc>,
        out: &mut Settled,
    ) -> Result<(), ApprovalError> {
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::Notify { step, to, urgent } => out.notices.push((step, to, urgent)),
                Effect::RunSecurityCheck { step } => {
                    let result = self.security_check(task, rules, now).await?;
                    let more = chain
                        .security_check(result.clone(), now, &rules.routing)
                        .unwrap_or_default();
                    out.entries
                        .push(entries::approval_checked(task, chain, step, &result, now));
                    if !result.passed() {
                        out.moves.push((
                            TaskEvent::RequestRejected,
                            format!("security check failed: {}", result.failures.join("; ")),
                        ));
                    }
                    queue.extend(more);
                }
                Effect::Handed { step, hop } => {
                    out.entries
                        .push(entries::approval_handed(task, chain, step, &hop, CONSOLE));
                }
                Effect::Overdue { step } => {
                    out.entries
                        .push(entries::approval_overdue(task, chain, step, now));
                }
                Effect::RequestApproved | Effect::ChainComplete => {
                    if !chain.result_stage_open {
                        // The request is approved for work: the agent gets its work order.
                        out.moves
                            .push((TaskEvent::ChainApproved, "approval chain signed".into()));
                        let order = self
                            .api
                            .reviews()
                            .work_order(task, CONSOLE, now)
                            .await
                            .map_err(|e| ApprovalError::Invalid(format!("work order: {e}")))?;
                        out.entries.push(crate::review_entries::outbox_written(
                            task,
                            order.kind.code(),
                            &order.file_name,
                            &order.content,
                            CONSOLE,
                            now,
                        ));
                        out.documents.push(order);
                    } else {
                        // The last result-stage step signed: the package is approved.
                        out.moves.push((
                            TaskEvent::ResultApproved,
                            "result approved by every step of the chain".into(),
                        ));
                        out.package_state = Some(PackageState::Approved);
                    }
                }
                Effect::Rejected { step } => {
                    if let Some(d) = &chain.steps[step].decision {
                        if chain.steps[step].stage == guardia_domain::governance::Stage::Result {
                            // A later step turned the result down: back to the agent.
                            out.moves
                                .push((TaskEvent::ReworkRequested, d.comment.clone()));
                            out.package_state = Some(PackageState::Rework);
                            let brief = self
                                .api
                                .reviews()
                                .rework_brief(task, d.by.as_str(), &d.comment, now)
                                .await
                                .map_err(|e| {
                                    ApprovalError::Invalid(format!("rework brief: {e}"))
                                })?;
                            out.entries.push(crate::review_entries::outbox_written(
                                task,
                                brief.kind.code(),
                                &brief.file_name,
                                &brief.content,
                                d.by.as_str(),
                                now,
                            ));
                            out.documents.push(brief);
                        } else {
                            out.moves
                                .push((TaskEvent::RequestRejected, d.comment.clone()));
                        }
                    }
                }
                Effect::Returned { step } => {
                    if let Some(d) = &chain.steps[step].decision {
                        out.moves
                            .push((TaskEvent::ReturnedForInfo, d.comment.clone()));
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes the chain, the task's moves and every entry in one transaction, then brings
    /// the SLA deadline forward if this made an earlier one.
    async fn write(
        &self,
        caller: &Caller,
        task: &Task,
        chain: &Chain,
        expected_version: Option<i64>,
        settled: Settled,
        now: DateTime<Utc>,
    ) -> Result<Task, ApprovalError> {
        let mut status = task.status;
        let mut moves = Vec::new();
        let mut audit = settled.entries;
        for (event, note) in &settled.moves {
            // A move the task cannot take means the chain and the task disagree: refuse the
            // whole write rather than record a decision the task does not follow.
            let transition = status
                .apply(*event)
                .map_err(|_| ApprovalError::WrongStatus {
                    task: task.id,
                    status,
                    what: "the approval chain and the task disagree; nothing was changed",
                })?;
            audit.push(audit_entries::task_transitioned(
                task,
                transition,
                &caller.person,
                note,
                now,
            ));
            status = transition.to;
            moves.push((transition, note.as_str()));
        }
        let task_moves = moves
            .iter()
            .map(|(transition, note)| TaskMove {
                transition: *transition,
                actor: &caller.person,
                note,
            })
            .collect();
        // Only a result-stage step decides a package: the packages are read only then (this
        // write also runs for every SLA escalation).
        let package_state = match settled.package_state {
            Some(state) => self
                .api
                .store
                .packages(task.id)
                .await?
                .last()
                .map(|latest| (latest.version, state)),
            None => None,
        };
        let stored = self
            .api
            .store
            .write_chain(ChainWrite {
                task: task.id,
                chain,
                expected_version,
                task_moves,
                at: now,
                audit,
                documents: settled.documents.clone(),
                package_state,
            })
            .await?;
        for document in &settled.documents {
            self.api.reviews().deliver(document).await;
        }
        for (step, to, urgent) in settled.notices {
            tracing::info!(
                task = %task.id,
                step = step + 1,
                to = %entries::holder_text(Some(&to)),
                urgent,
                "a step waits"
            );
        }
        if let Some(due) = chain.next_deadline() {
            self.api
                .runtime
                .scheduler()
                .due_by(SLA_DEADLINE, due.fixed_offset());
        }
        Ok(stored)
    }

    /// The automatic security check: fails closed, naming every reason.
    async fn security_check(
        &self,
        task: &Task,
        rules: &SystemRules,
        now: DateTime<Utc>,
    ) -> Result<CheckResult, ApprovalError> {
        let mut checked = Vec::new();
        let mut failures = Vec::new();
        match &task.sub_type {
            Some(sub_type)
                if task
                    .category
                    .suggested_sub_types()
                    .contains(&sub_type.as_str()) =>
            {
                checked.push(format!(
                    "sub-type `{}` is a built-in playbook of {}",
                    sub_type.as_str(),
                    task.category
                ));
            }
            Some(sub_type) => failures.push(format!(
                "sub-type `{}` has no built-in playbook for {} (allowed: {})",
                sub_type.as_str(),
                task.category,
                task.category.suggested_sub_types().join(", ")
            )),
            None => failures.push(format!(
                "the task names no sub-type, so no playbook can be checked (allowed: {})",
                task.category.suggested_sub_types().join(", ")
            )),
        }
        match rules.windows.check(now) {
            Ok(()) => checked.push("the deploy window is open".to_owned()),
            Err(closed) => failures.push(closed_text(&closed, &rules.windows)),
        }
        match self.api.store.unacknowledged_failure().await {
            Ok(None) => checked.push("no audit integrity alarm is active".to_owned()),
            Ok(Some(_)) => failures.push(
                "the audit log failed verification and no admin has acknowledged it".to_owned(),
            ),
            Err(e) => failures.push(format!("cannot read the integrity status: {e}")),
        }
        checked.push(
            "commands are checked against the denylist again when a rollout renders them"
                .to_owned(),
        );
        Ok(CheckResult { failures, checked })
    }

    /// What waits for `caller`: escalated first, then by priority, then the nearest deadline.
    pub async fn inbox(&self, caller: &Caller) -> Result<Vec<InboxItem>, ApprovalError> {
        let mut places: HashMap<String, Place> = HashMap::new();
        let mut items = Vec::new();
        for stored in self.api.store.open_chains().await? {
            let Some(task) = self.api.store.task(stored.task).await? else {
                continue;
            };
            let system = task.system.as_str().to_owned();
            if !places.contains_key(&system) {
                let place = self.place(&system).await?;
                places.insert(system.clone(), place);
            }
            let place = &places[&system];
            let chain = &stored.chain;
            if !chain.waits_for(&caller.person, |role| place.holds(caller, role)) {
                continue;
            }
            let Some((index, step)) = chain.waiting() else {
                continue;
            };
            let held_as = match &step.holder {
                Some(Holder::Person {
                    level: Some(level), ..
                }) => level.code().to_owned(),
                Some(Holder::Person { level: None, .. }) => "named".to_owned(),
                Some(Holder::Pool { .. }) | None => "pool".to_owned(),
            };
            items.push(InboxItem {
                task: TaskSummary::from(&task),
                round: chain.round,
                step: index,
                kind: step.kind,
                held_as,
                urgent: step.urgent,
                opened_at: step.opened_at,
                due: step.due,
                original_owner: step.original_owner.as_ref().map(|p| p.to_string()),
            });
        }
        // Escalated first, then by the task's priority, then the nearest deadline.
        items.sort_by(|a, b| {
            b.urgent
                .cmp(&a.urgent)
                .then(a.task.priority.cmp(&b.task.priority))
                .then(a.due.cmp(&b.due))
                .then(a.task.id.to_string().cmp(&b.task.id.to_string()))
        });
        Ok(items)
    }

    /// Escalates every step whose SLA ran out by now (the scheduler's entry; the console
    /// runs it at start, so a step that fell due while it was off escalates then). Returns
    /// the next deadline still ahead.
    pub async fn escalate_due(&self) -> Result<Option<DateTime<Utc>>, ApprovalError> {
        let console = console_caller()?;
        let now = self.now();
        let mut next: Option<DateTime<Utc>> = None;
        for mut stored in self.api.store.open_chains().await? {
            match stored.chain.next_deadline() {
                Some(due) if due <= now => {}
                Some(due) => {
                    next = Some(next.map_or(due, |n| n.min(due)));
                    continue;
                }
                None => continue,
            }
            let Some(task) = self.api.store.task(stored.task).await? else {
                continue;
            };
            let rules = self.rules(task.system.as_str()).await?;
            let effects = stored.chain.tick(now, &rules.routing);
            match self
                .console_change(&console, &task, &mut stored, &rules, effects, now)
                .await
            {
                Ok(_) => {}
                // Someone decided it meanwhile: their write stands.
                Err(ApprovalError::Store(StoreError::ChainChanged(_))) => continue,
                // One chain that cannot be written does not hold up the others; the next
                // sweep (a minute) tries it again.
                Err(e) => {
                    tracing::warn!(task = %task.id, error = %e, "escalation not written");
                    continue;
                }
            }
            if let Some(due) = stored.chain.next_deadline() {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        Ok(next)
    }

    /// The systems a task may target: the inventory's, with who owns their approvals.
    pub async fn system_choices(&self) -> Result<Vec<SystemChoice>, ApprovalError> {
        let rules: HashMap<String, SystemRules> = self
            .api
            .store
            .all_system_rules()
            .await?
            .into_iter()
            .map(|r| (r.system.to_string(), r))
            .collect();
        Ok(self
            .api
            .store
            .system_summaries()
            .await?
            .into_iter()
            .map(|s| {
                let rule = rules.get(&s.system);
                SystemChoice {
                    owner: rule.and_then(|r| r.routing.owner.as_ref().map(ToString::to_string)),
                    sensitive: rule.is_some_and(|r| r.sensitive),
                    institution: s.institution,
                    system: s.system,
                    sites: s.sites,
                    servers: s.servers,
                }
            })
            .collect())
    }

    /// Every system with rules, and for an admin the ones whose mapping needs confirming.
    pub async fn rules_list(&self) -> Result<Vec<SystemRulesView>, ApprovalError> {
        let now = self.now();
        Ok(self
            .api
            .store
            .all_system_rules()
            .await?
            .iter()
            .map(|rules| rules_view(rules, now))
            .collect())
    }

    /// An admin changes a system's owner, supervisor, SLA, sensitivity or deploy windows.
    pub async fn set_rules(
        &self,
        caller: &Caller,
        change: SystemRulesChange,
    ) -> Result<SystemRulesView, ApprovalError> {
        let mut rules = self.rules(change.system.trim()).await?;
        let before = rules.clone();
        let now = self.now();
        let (field, before_text, after_text) = match change.change {
            RulesChange::Owner { person } => {
                let person = self
                    .approver(person.as_deref(), rules.system.as_str())
                    .await?;
                if person.is_some() && person == rules.routing.deputy {
                    return Err(ApprovalError::Invalid(format!(
                        "{} is the deputy of {}; an owner cannot be their own deputy",
                        person_text(person.as_ref()),
                        rules.system
                    )));
                }
                rules.routing.owner = person;
                // A new owner is not away, and names their own deputy.
                rules.routing.owner_away = false;
                rules.confirmed_at = Some(now);
                (
                    "owner",
                    person_text(before.routing.owner.as_ref()),
                    person_text(rules.routing.owner.as_ref()),
                )
            }
            RulesChange::Supervisor { person } => {
                rules.routing.supervisor = self
                    .approver(person.as_deref(), rules.system.as_str())
                    .await?;
                (
                    "supervisor",
                    person_text(before.routing.supervisor.as_ref()),
                    person_text(rules.routing.supervisor.as_ref()),
                )
            }
            RulesChange::Sla { seconds } => {
                if !(MIN_SLA_SECONDS..=MAX_SLA_SECONDS).contains(&seconds) {
                    return Err(ApprovalError::Invalid(format!(
                        "the SLA must be {MIN_SLA_SECONDS} s to {MAX_SLA_SECONDS} s (7 days), not {seconds} s"
                    )));
                }
                rules.routing.sla_seconds = seconds;
                (
                    "sla_seconds",
                    before.routing.sla_seconds.to_string(),
                    seconds.to_string(),
                )
            }
            RulesChange::Sensitive { sensitive } => {
                rules.sensitive = sensitive;
                (
                    "sensitive",
                    before.sensitive.to_string(),
                    sensitive.to_string(),
                )
            }
            RulesChange::Windows {
                utc_offset,
                hours,
                freezes,
            } => {
                rules.windows = parse_windows(&utc_offset, &hours, freezes)?;
                (
                    "windows",
                    windows_text(&before.windows),
                    windows_text(&rules.windows),
                )
            }
        };
        if before == rules {
            return Ok(rules_view(&rules, now));
        }
        self.save(caller, rules, field, before_text, after_text, now)
            .await
    }

    /// The demo people's routing: the demo team lead owns every demo system.
    pub(crate) async fn seed_demo_rules(&self, caller: &Caller) -> Result<(), ApprovalError> {
        for system in crate::demo::SYSTEMS {
            self.set_rules(
                caller,
                SystemRulesChange {
                    system: (*system).to_owned(),
                    change: RulesChange::Owner {
                        person: Some("lee.teamlead".to_owned()),
                    },
                },
            )
            .await?;
        }
        self.open_demo_chains(&caller.workstation).await?;
        Ok(())
    }

    /// The owner marks themselves away (an admin may too), names or clears their deputy
    /// (only the owner), or confirms the mapping.
    pub async fn set_route(
        &self,
        caller: &Caller,
        change: SystemRouteChange,
    ) -> Result<SystemRulesView, ApprovalError> {
        let mut rules = self.rules(change.system.trim()).await?;
        let before = rules.clone();
        let is_owner = rules.routing.owner.as_ref() == Some(&caller.person);
        let is_admin = caller.may(Permission::EditGovernance);
        let owner = person_text(rules.routing.owner.as_ref());
        let not_owner = |what| ApprovalError::NotOwner {
            person: caller.person.to_string(),
            system: rules.system.to_string(),
            owner: if owner.is_empty() {
                "nobody yet".to_owned()
            } else {
                owner.clone()
            },
            what,
        };
        let now = self.now();
        let (field, before_text, after_text) = match change.change {
            RouteChange::Away { away } => {
                if !is_owner && !is_admin {
                    return Err(not_owner("only the owner (or an admin) marks them away"));
                }
                if rules.routing.owner.is_none() {
                    return Err(ApprovalError::Invalid(format!(
                        "system {} has no owner to mark away",
                        rules.system
                    )));
                }
                rules.routing.owner_away = away;
                (
                    "owner_away",
                    before.routing.owner_away.to_string(),
                    away.to_string(),
                )
            }
            RouteChange::Deputy { person } => {
                if !is_owner {
                    return Err(not_owner("only the owner names or changes their deputy"));
                }
                let deputy = self
                    .approver(person.as_deref(), rules.system.as_str())
                    .await?;
                if deputy.as_ref() == Some(&caller.person) {
                    return Err(ApprovalError::Invalid(
                        "the owner cannot be their own deputy".to_owned(),
                    ));
                }
                rules.routing.deputy = deputy;
                rules.confirmed_at = Some(now);
                (
                    "deputy",
                    person_text(before.routing.deputy.as_ref()),
                    person_text(rules.routing.deputy.as_ref()),
                )
            }
            RouteChange::Confirm => {
                if !is_owner && !is_admin {
                    return Err(not_owner(
                        "only the owner (or an admin) confirms the mapping",
                    ));
                }
                rules.confirmed_at = Some(now);
                (
                    "confirmed_at",
                    before
                        .confirmed_at
                        .map(guardia_audit::format_time)
                        .unwrap_or_default(),
                    guardia_audit::format_time(now),
                )
            }
        };
        let view = self
            .save(caller, rules.clone(), field, before_text, after_text, now)
            .await?;
        // Always: a reroute that failed before (a busy database) is retried by the next
        // change, and moving nothing costs nothing.
        self.reroute(&rules).await?;
        Ok(view)
    }

    async fn save(
        &self,
        caller: &Caller,
        mut rules: SystemRules,
        field: &str,
        before: String,
        after: String,
        now: DateTime<Utc>,
    ) -> Result<SystemRulesView, ApprovalError> {
        rules.updated_at = now;
        rules.updated_by = caller.person.to_string();
        let entry =
            entries::system_rules_changed(rules.system.as_str(), field, before, after, caller, now);
        let stored = self.api.store.save_system_rules(&rules, entry).await?;
        Ok(rules_view(&stored, now))
    }

    /// Carries out what the console itself did to a stored chain (an escalation, a reroute)
    /// and writes it as the console.
    async fn console_change(
        &self,
        console: &Caller,
        task: &Task,
        stored: &mut guardia_store::StoredChain,
        rules: &SystemRules,
        effects: Vec<Effect>,
        now: DateTime<Utc>,
    ) -> Result<Task, ApprovalError> {
        let mut settled = Settled::default();
        self.settle(task, &mut stored.chain, rules, effects, now, &mut settled)
            .await?;
        self.write(
            console,
            task,
            &stored.chain,
            Some(stored.version),
            settled,
            now,
        )
        .await
    }

    /// The routing of a system changed: open steps the away owner holds move to the deputy.
    async fn reroute(&self, rules: &SystemRules) -> Result<(), ApprovalError> {
        let console = console_caller()?;
        let now = self.now();
        for mut stored in self.api.store.open_chains().await? {
            let Some(task) = self.api.store.task(stored.task).await? else {
                continue;
            };
            if task.system != rules.system {
                continue;
            }
            let effects = stored.chain.reroute(now, &rules.routing);
            if effects.is_empty() {
                continue;
            }
            match self
                .console_change(&console, &task, &mut stored, rules, effects, now)
                .await
            {
                Ok(_) | Err(ApprovalError::Store(StoreError::ChainChanged(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A person named to hold steps of `system`: they must exist, not be locked by an admin,
    /// and be able to decide on that system (team lead, PM or security officer over it).
    async fn approver(
        &self,
        name: Option<&str>,
        system: &str,
    ) -> Result<Option<PersonName>, ApprovalError> {
        let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        let Some(person) = self.api.store.person(name).await? else {
            return Err(ApprovalError::UnknownPerson(name.to_owned()));
        };
        if let Some(reason) = &person.disabled_reason {
            return Err(ApprovalError::Invalid(format!(
                "{name} is locked by an admin ({reason}) and cannot hold approval steps"
            )));
        }
        let as_caller = Caller::with_grants(person.name.clone(), person.grants.clone());
        if !self
            .place(system)
            .await?
            .may(&as_caller, Permission::DecideApprovals)
        {
            return Err(ApprovalError::Invalid(format!(
                "{name} holds no role that decides approvals on {system} (team lead, PM or security officer scoped to it)"
            )));
        }
        Ok(Some(person.name))
    }

    /// Registers the SLA deadline on the runtime (the console does this at start): it runs
    /// at once — an overdue step escalates as the console comes back — then at each stored
    /// deadline, and every [`SLA_SWEEP`] in case another process made one.
    pub(crate) fn schedule(api: &std::sync::Arc<Api>) {
        let scheduler = api.runtime.scheduler().clone();
        let handle = api.clone();
        scheduler
            .clone()
            .every(SLA_DEADLINE, SLA_SWEEP, Duration::zero(), move || {
                let api = handle.clone();
                let scheduler = scheduler.clone();
                async move {
                    match api.approvals().escalate_due().await {
                        Ok(Some(next)) => scheduler.due_by(SLA_DEADLINE, next.fixed_offset()),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "SLA escalation did not run"),
                    }
                }
            });
    }
}

/// The console itself, for what it does on its own (escalations, reroutes).
fn console_caller() -> Result<Caller, ApprovalError> {
    PersonName::parse(CONSOLE)
        .map(|name| Caller::with_grants(name, Vec::new()))
        .map_err(|e| ApprovalError::Invalid(e.to_string()))
}

fn person_text(person: Option<&PersonName>) -> String {
    person.map(|p| p.to_string()).unwrap_or_default()
}

fn windows_text(windows: &DeployWindows) -> String {
    let mut parts: Vec<String> = windows.hours.iter().map(ToString::to_string).collect();
    if parts.is_empty() {
        parts.push("any hour".to_owned());
    }
    for freeze in &windows.freezes {
        parts.push(format!(
            "freeze {}..{} ({})",
            guardia_audit::format_time(freeze.from),
            guardia_audit::format_time(freeze.to),
            freeze.reason
        ));
    }
    format!(
        "{} {}",
        format_utc_offset(windows.utc_offset_minutes),
        parts.join("; ")
    )
}

fn closed_text(closed: &guardia_domain::governance::Closed, windows: &DeployWindows) -> String {
    use guardia_domain::governance::Closed;
    let next = match closed.next_open() {
        Some(at) => {
            use chrono::Offset;
            let offset = chrono::FixedOffset::east_opt(windows.utc_offset_minutes * 60)
                .unwrap_or_else(|| Utc.fix());
            format!(
                "the next window opens {}",
                at.with_timezone(&offset).format("%Y-%m-%d %H:%M %:z")
            )
        }
        None => "no window opens within a year".to_owned(),
    };
    match closed {
        Closed::OutsideHours { .. } => format!("outside the authorised hours; {next}"),
        Closed::Freeze { reason, .. } => format!("change freeze ({reason}); {next}"),
    }
}

fn parse_windows(
    utc_offset: &str,
    hours: &[String],
    freezes: Vec<guardia_ipc::FreezeInput>,
) -> Result<DeployWindows, ApprovalError> {
    let utc_offset_minutes = parse_utc_offset(utc_offset).ok_or_else(|| {
        ApprovalError::Invalid(format!(
            "time zone `{utc_offset}`: write the UTC offset as +09:00"
        ))
    })?;
    let hours = hours
        .iter()
        .filter(|h| !h.trim().is_empty())
        .map(|h| WeeklyHours::parse(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApprovalError::Invalid(e.to_string()))?;
    let windows = DeployWindows {
        utc_offset_minutes,
        hours,
        freezes: freezes
            .into_iter()
            .map(|f| Freeze {
                from: f.from,
                to: f.to,
                reason: f.reason.trim().to_owned(),
            })
            .collect(),
    };
    windows
        .check_definition()
        .map_err(|e| ApprovalError::Invalid(e.to_string()))?;
    Ok(windows)
}

fn rules_view(rules: &SystemRules, now: DateTime<Utc>) -> SystemRulesView {
    let unconfirmed = rules.routing.owner.is_some()
        && rules.confirmed_at.is_none_or(|at| now - at > CONFIRM_EVERY);
    SystemRulesView {
        system: rules.system.to_string(),
        owner: rules.routing.owner.as_ref().map(ToString::to_string),
        deputy: rules.routing.deputy.as_ref().map(ToString::to_string),
        supervisor: rules.routing.supervisor.as_ref().map(ToString::to_string),
        owner_away: rules.routing.owner_away,
        sla_seconds: rules.routing.sla_seconds,
        sensitive: rules.sensitive,
        hours_text: rules
            .windows
            .hours
            .iter()
            .map(ToString::to_string)
            .collect(),
        utc_offset: format_utc_offset(rules.windows.utc_offset_minutes),
        windows: rules.windows.clone(),
        confirmed_at: rules.confirmed_at,
        unconfirmed,
        updated_at: rules.updated_at,
        updated_by: rules.updated_by.clone(),
    }
}
