//! Approval chains as a pure state machine (SPEC §3).
//!
//! Risk picks the chain ([`ChainPolicy`]: data an admin edits), a sensitive system adds the
//! security officer. Steps are ordered and decided one at a time. Each operation takes the
//! time and the system's [`Routing`] and returns [`Effect`]s as data — notify someone, run
//! the automatic security check, move the task — which the API carries out and records.
//! Nothing here reads a clock or a database, so every rule below is tested with plain values.
//!
//! The chain has two stages. Steps before the first PM step decide the *request* (the task
//! moves to APPROVED when they are signed); the PM step and those after it decide the
//! *result* (the result-package review opens them, see [`Chain::open_result_stage`]).
//!
//! Four-eyes is enforced twice: routing never hands a step to the requester or to someone
//! who already signed the chain, and [`Chain::decide`] refuses them anyway.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::Role;
use super::routing::{RouteLevel, Routing};
use crate::{Category, PersonName, SubType};

/// How risky a task is, from its category and sub-type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskClass {
    /// Inspection, read-only work.
    Inspection,
    /// A service restart.
    ServiceRestart,
    /// A deploy or a data change.
    Change,
    /// Infrastructure or security changes (certificates, firewall, accounts).
    InfraSecurity,
}

impl RiskClass {
    pub const ALL: [RiskClass; 4] = [
        RiskClass::Inspection,
        RiskClass::ServiceRestart,
        RiskClass::Change,
        RiskClass::InfraSecurity,
    ];

    pub fn of(category: Category, sub_type: Option<&SubType>) -> RiskClass {
        match category {
            Category::Inspection => RiskClass::Inspection,
            Category::Deploy | Category::Data => RiskClass::Change,
            Category::InfraControl => match sub_type.map(SubType::as_str) {
                Some("service-restart") => RiskClass::ServiceRestart,
                _ => RiskClass::InfraSecurity,
            },
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            RiskClass::Inspection => "inspection",
            RiskClass::ServiceRestart => "service_restart",
            RiskClass::Change => "change",
            RiskClass::InfraSecurity => "infra_security",
        }
    }
}

/// One step of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The system's owner (routed owner → deputy → supervisor).
    TeamLead,
    /// The automatic check the console performs and records; fails closed.
    SecurityCheck,
    /// The result-package review.
    Pm,
    SecurityOfficer,
}

impl StepKind {
    /// The role a person needs to take this step from the pool; `None` for the automatic check.
    pub fn role(self) -> Option<Role> {
        match self {
            StepKind::TeamLead => Some(Role::TeamLead),
            StepKind::SecurityCheck => None,
            StepKind::Pm => Some(Role::Pm),
            StepKind::SecurityOfficer => Some(Role::SecurityOfficer),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            StepKind::TeamLead => "team_lead",
            StepKind::SecurityCheck => "security_check",
            StepKind::Pm => "pm",
            StepKind::SecurityOfficer => "security_officer",
        }
    }
}

/// Which chain each risk class gets. Data: an admin edits it (and the edit is audited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPolicy {
    pub inspection: Vec<StepKind>,
    pub service_restart: Vec<StepKind>,
    pub change: Vec<StepKind>,
    pub infra_security: Vec<StepKind>,
}

impl Default for ChainPolicy {
    /// SPEC §3.
    fn default() -> Self {
        use StepKind::*;
        Self {
            inspection: vec![TeamLead],
            service_restart: vec![TeamLead, SecurityCheck],
            change: vec![TeamLead, Pm],
            infra_security: vec![TeamLead, Pm, SecurityOfficer],
        }
    }
}

/// A chain policy that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyProblem {
    #[error("the {} chain has no step a person signs", .0.code())]
    NobodySigns(RiskClass),
    #[error("the {} chain names {} twice", .0.code(), .1.code())]
    Repeated(RiskClass, StepKind),
    #[error(
        "the {} chain would approve a request before any person signs it: put a team lead or security officer before the PM step",
        .0.code()
    )]
    NobodySignsTheRequest(RiskClass),
}

impl ChainPolicy {
    pub fn steps(&self, risk: RiskClass) -> &[StepKind] {
        match risk {
            RiskClass::Inspection => &self.inspection,
            RiskClass::ServiceRestart => &self.service_restart,
            RiskClass::Change => &self.change,
            RiskClass::InfraSecurity => &self.infra_security,
        }
    }

    /// The steps of a chain for `risk` on a system; a sensitive one adds the security
    /// officer at the end unless the chain already has one.
    pub fn chain_for(&self, risk: RiskClass, sensitive: bool) -> Vec<StepKind> {
        let mut steps = self.steps(risk).to_vec();
        if sensitive && !steps.contains(&StepKind::SecurityOfficer) {
            steps.push(StepKind::SecurityOfficer);
        }
        steps
    }

    pub fn check(&self) -> Result<(), PolicyProblem> {
        for risk in RiskClass::ALL {
            let steps = self.steps(risk);
            if !steps.iter().any(|step| step.role().is_some()) {
                return Err(PolicyProblem::NobodySigns(risk));
            }
            // The steps before the PM step approve the request for work: a person must be
            // among them, or a request would be approved on submission (four-eyes).
            let request_stage = steps.iter().take_while(|step| **step != StepKind::Pm);
            if !request_stage.clone().any(|step| step.role().is_some()) {
                return Err(PolicyProblem::NobodySignsTheRequest(risk));
            }
            for (i, step) in steps.iter().enumerate() {
                if steps[..i].contains(step) {
                    return Err(PolicyProblem::Repeated(risk, *step));
                }
            }
        }
        Ok(())
    }
}

/// What a step decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Request,
    Result,
}

/// Who holds a waiting step.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "holder", rename_all = "snake_case")]
pub enum Holder {
    /// One person, at a place on the system's route (`None`: not on the route).
    Person {
        name: PersonName,
        level: Option<RouteLevel>,
    },
    /// Anyone holding `role` with a scope over the system (except the excluded).
    Pool { role: Role },
}

impl Holder {
    fn person(name: PersonName, level: RouteLevel) -> Self {
        Holder::Person {
            name,
            level: Some(level),
        }
    }
}

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Not reached yet.
    Pending,
    /// Held by someone (or, for the automatic check, running).
    Waiting,
    Approved,
    Rejected,
    /// Sent back to the requester for more information.
    Returned,
    /// The automatic security check passed.
    Passed,
    /// The automatic security check failed (the chain ends).
    Failed,
}

/// A person's decision on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
    Return,
}

impl Verdict {
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
            Verdict::Return => "return",
        }
    }
}

/// Who decided a step, how, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: PersonName,
    pub verdict: Verdict,
    pub comment: String,
    pub at: DateTime<Utc>,
}

/// Why a step changed hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HopReason {
    /// Nobody answered within the SLA.
    SlaExpired,
    /// The owner is marked away; the deputy holds their steps.
    OwnerAway,
}

impl HopReason {
    pub fn code(self) -> &'static str {
        match self {
            HopReason::SlaExpired => "sla_expired",
            HopReason::OwnerAway => "owner_away",
        }
    }
}

/// One change of hands: an escalation or a delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    pub at: DateTime<Utc>,
    pub from: Holder,
    pub to: Holder,
    pub reason: HopReason,
}

/// What the automatic security check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Each finding that fails the check, in words; empty when it passed.
    pub failures: Vec<String>,
    /// What was checked, in words (recorded either way).
    pub checked: Vec<String>,
}

impl CheckResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One step of a chain and its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub kind: StepKind,
    pub stage: Stage,
    pub status: StepStatus,
    pub holder: Option<Holder>,
    /// The system's owner when the step opened (the record keeps who it was meant for).
    pub original_owner: Option<PersonName>,
    pub opened_at: Option<DateTime<Utc>>,
    /// When an unanswered step escalates; `None` when no hop is left.
    pub due: Option<DateTime<Utc>>,
    /// Escalated at least once (or overdue with nobody left to escalate to).
    pub urgent: bool,
    pub hops: Vec<Hop>,
    pub decision: Option<Decision>,
    pub check: Option<CheckResult>,
}

impl Step {
    fn new(kind: StepKind, stage: Stage) -> Self {
        Self {
            kind,
            stage,
            status: StepStatus::Pending,
            holder: None,
            original_owner: None,
            opened_at: None,
            due: None,
            urgent: false,
            hops: Vec::new(),
            decision: None,
            check: None,
        }
    }
}

/// What the API must do after a chain operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Something waits for `to` (a desktop notification; URGENT when `urgent`).
    Notify {
        step: usize,
        to: Holder,
        urgent: bool,
    },
    /// Run the automatic security check and feed its result to [`Chain::security_check`].
    RunSecurityCheck { step: usize },
    /// The step changed hands.
    Handed { step: usize, hop: Hop },
    /// The SLA ran out and nobody is left on the route: the holder keeps it, marked URGENT.
    Overdue { step: usize },
    /// Every request-stage step signed: the task is approved for work.
    RequestApproved,
    /// Every step signed.
    ChainComplete,
    /// A person rejected, or the security check failed: the chain ends.
    Rejected { step: usize },
    /// Returned to the requester for more information.
    Returned { step: usize },
}

/// Why a decision was refused. Nothing changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefused {
    #[error("no step of this chain waits for a decision")]
    NothingWaiting,
    #[error("the waiting step is the automatic security check; people do not sign it")]
    AutomaticStep,
    #[error("{0} cannot approve their own request (four-eyes)")]
    OwnRequest(PersonName),
    #[error("{person} already signed step {step} of this chain; one person signs one step (four-eyes)", step = .step + 1)]
    SecondSignature { person: PersonName, step: usize },
    #[error("the waiting step is held by {holder}, not by {person}")]
    NotYourStep { person: PersonName, holder: String },
    #[error("a decision needs a comment")]
    CommentRequired,
}

/// One approval chain of a task (a resubmitted task starts a new round).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    pub risk: RiskClass,
    pub sensitive: bool,
    pub requester: PersonName,
    /// 1 for the first submission, 2 after the first resubmission, …
    pub round: u32,
    pub steps: Vec<Step>,
    /// The result-package review opened the result stage.
    pub result_stage_open: bool,
}

impl Chain {
    /// A new, unopened chain; [`start`](Self::start) opens its first step.
    pub fn new(
        policy: &ChainPolicy,
        risk: RiskClass,
        sensitive: bool,
        requester: PersonName,
        round: u32,
    ) -> Self {
        let mut stage = Stage::Request;
        let steps = policy
            .chain_for(risk, sensitive)
            .into_iter()
            .map(|kind| {
                if kind == StepKind::Pm {
                    stage = Stage::Result;
                }
                Step::new(kind, stage)
            })
            .collect();
        Self {
            risk,
            sensitive,
            requester,
            round,
            steps,
            result_stage_open: false,
        }
    }

    /// Opens the first step.
    pub fn start(&mut self, at: DateTime<Utc>, routing: &Routing) -> Vec<Effect> {
        self.advance(at, routing)
    }

    /// The step that waits, if any.
    pub fn waiting(&self) -> Option<(usize, &Step)> {
        self.steps
            .iter()
            .enumerate()
            .find(|(_, step)| step.status == StepStatus::Waiting)
    }

    /// Whether the chain has ended (rejected, returned, failed or complete).
    pub fn is_over(&self) -> bool {
        self.steps.iter().any(ended)
            || self
                .steps
                .iter()
                .all(|step| matches!(step.status, StepStatus::Approved | StepStatus::Passed))
    }

    /// The earliest SLA deadline of the chain (for the scheduler).
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.waiting().and_then(|(_, step)| step.due)
    }

    /// Everyone who must never hold a step of this chain: the requester and its signers.
    pub fn excluded(&self) -> Vec<&PersonName> {
        std::iter::once(&self.requester)
            .chain(
                self.steps
                    .iter()
                    .filter_map(|step| step.decision.as_ref().map(|d| &d.by)),
            )
            .collect()
    }

    /// Whether the waiting step is for `person`: held by them by name, or by a pool of a
    /// role they hold over the system (`holds_role`), unless four-eyes excludes them.
    pub fn waits_for(&self, person: &PersonName, holds_role: impl Fn(Role) -> bool) -> bool {
        let Some((_, step)) = self.waiting() else {
            return false;
        };
        if self.excluded().contains(&person) {
            return false;
        }
        holds(step, person, holds_role)
    }

    /// `by` decides the waiting step. `holds_role` says whether they hold a role over the
    /// system (for pooled steps). Refused with the reason, changing nothing, unless they
    /// may; otherwise the decision is recorded and the chain moves on.
    pub fn decide(
        &mut self,
        by: &PersonName,
        holds_role: impl Fn(Role) -> bool,
        verdict: Verdict,
        comment: &str,
        at: DateTime<Utc>,
        routing: &Routing,
    ) -> Result<Vec<Effect>, DecisionRefused> {
        let (index, step) = self.waiting().ok_or(DecisionRefused::NothingWaiting)?;
        if step.kind == StepKind::SecurityCheck {
            return Err(DecisionRefused::AutomaticStep);
        }
        if by == &self.requester {
            return Err(DecisionRefused::OwnRequest(by.clone()));
        }
        if let Some(signed) = self
            .steps
            .iter()
            .position(|s| s.decision.as_ref().is_some_and(|d| &d.by == by))
        {
            return Err(DecisionRefused::SecondSignature {
                person: by.clone(),
                step: signed,
            });
        }
        if !holds(step, by, holds_role) {
            return Err(DecisionRefused::NotYourStep {
                person: by.clone(),
                holder: describe(step.holder.as_ref()),
            });
        }
        let comment = comment.trim();
        if comment.is_empty() {
            return Err(DecisionRefused::CommentRequired);
        }

        let step = &mut self.steps[index];
        step.decision = Some(Decision {
            by: by.clone(),
            verdict,
            comment: comment.to_owned(),
            at,
        });
        step.due = None;
        Ok(match verdict {
            Verdict::Approve => {
                step.status = StepStatus::Approved;
                self.advance(at, routing)
            }
            Verdict::Reject => {
                step.status = StepStatus::Rejected;
                vec![Effect::Rejected { step: index }]
            }
            Verdict::Return => {
                step.status = StepStatus::Returned;
                vec![Effect::Returned { step: index }]
            }
        })
    }

    /// The automatic security check's result for the waiting check step. A failure ends
    /// the chain (fail closed); a pass moves on. `None` if no check step waits.
    pub fn security_check(
        &mut self,
        result: CheckResult,
        at: DateTime<Utc>,
        routing: &Routing,
    ) -> Option<Vec<Effect>> {
        let (index, step) = self.waiting()?;
        if step.kind != StepKind::SecurityCheck {
            return None;
        }
        let passed = result.passed();
        let step = &mut self.steps[index];
        step.check = Some(result);
        if passed {
            step.status = StepStatus::Passed;
            Some(self.advance(at, routing))
        } else {
            step.status = StepStatus::Failed;
            Some(vec![Effect::Rejected { step: index }])
        }
    }

    /// The result-package review opens the PM step and those after it.
    pub fn open_result_stage(&mut self, at: DateTime<Utc>, routing: &Routing) -> Vec<Effect> {
        if self.result_stage_open || self.is_over() {
            return Vec::new();
        }
        self.result_stage_open = true;
        self.advance(at, routing)
    }

    /// The step `person` decided (one person signs one step of a chain).
    pub fn signed_by(&self, person: &PersonName) -> Option<usize> {
        self.steps
            .iter()
            .rposition(|s| s.decision.as_ref().is_some_and(|d| &d.by == person))
    }

    /// Whether the chain has a result stage (a PM step) at all.
    pub fn has_result_stage(&self) -> bool {
        self.steps.iter().any(|step| step.stage == Stage::Result)
    }

    /// The next package version after a rework: the result stage starts again from its
    /// first step. The earlier round's decisions stay in the audit log and the review's own
    /// record; on the chain, the steps are pending again (the PM who asked for rework may
    /// judge the new version). Opens the stage if it was not open.
    pub fn reopen_result_stage(&mut self, at: DateTime<Utc>, routing: &Routing) -> Vec<Effect> {
        let request_done = self
            .steps
            .iter()
            .filter(|step| step.stage == Stage::Request)
            .all(|step| matches!(step.status, StepStatus::Approved | StepStatus::Passed));
        if !request_done || !self.has_result_stage() {
            return Vec::new();
        }
        for step in self.steps.iter_mut().filter(|s| s.stage == Stage::Result) {
            *step = Step::new(step.kind, Stage::Result);
        }
        self.result_stage_open = true;
        self.advance(at, routing)
    }

    /// Escalates the waiting step if its SLA ran out by `now`: one hop along the route with a
    /// fresh SLA, marked URGENT. A pooled step escalates to the supervisor. With nobody left,
    /// the step stays, URGENT, and stops counting.
    pub fn tick(&mut self, now: DateTime<Utc>, routing: &Routing) -> Vec<Effect> {
        let Some((index, step)) = self.waiting() else {
            return Vec::new();
        };
        let (Some(due), Some(holder)) = (step.due, step.holder.clone()) else {
            return Vec::new();
        };
        if now < due {
            return Vec::new();
        }
        let excluded = self.excluded();
        let next = match &holder {
            Holder::Person {
                level: Some(level), ..
            } => routing.next_after(*level, &excluded),
            Holder::Person { level: None, .. } | Holder::Pool { .. } => {
                routing.first_eligible(RouteLevel::Supervisor, &excluded)
            }
        }
        .filter(|(_, person)| !matches!(&holder, Holder::Person { name, .. } if name == person));
        let step = &mut self.steps[index];
        step.urgent = true;
        match next {
            Some((level, person)) => self.hand(
                index,
                Holder::person(person, level),
                HopReason::SlaExpired,
                now,
                routing,
            ),
            None => {
                step.due = None;
                vec![
                    Effect::Overdue { step: index },
                    Effect::Notify {
                        step: index,
                        to: holder,
                        urgent: true,
                    },
                ]
            }
        }
    }

    /// The system's routing changed (the owner went away): a step the owner holds moves to
    /// the first eligible person after them, with a fresh SLA.
    pub fn reroute(&mut self, at: DateTime<Utc>, routing: &Routing) -> Vec<Effect> {
        let Some((index, step)) = self.waiting() else {
            return Vec::new();
        };
        let held_by_owner = matches!(
            step.holder,
            Some(Holder::Person {
                level: Some(RouteLevel::Owner),
                ..
            })
        );
        if !held_by_owner || !routing.owner_away {
            return Vec::new();
        }
        let excluded = self.excluded();
        let Some((level, person)) = routing.first_eligible(RouteLevel::Deputy, &excluded) else {
            return Vec::new();
        };
        self.hand(
            index,
            Holder::person(person, level),
            HopReason::OwnerAway,
            at,
            routing,
        )
    }

    /// Moves waiting step `index` to `to` with a fresh SLA, recording the hop; notifies `to`
    /// (URGENT if the step is).
    fn hand(
        &mut self,
        index: usize,
        to: Holder,
        reason: HopReason,
        at: DateTime<Utc>,
        routing: &Routing,
    ) -> Vec<Effect> {
        let step = &mut self.steps[index];
        let Some(from) = step.holder.replace(to.clone()) else {
            return Vec::new();
        };
        let hop = Hop {
            at,
            from,
            to: to.clone(),
            reason,
        };
        step.hops.push(hop.clone());
        step.due = Some(at + routing.sla());
        vec![
            Effect::Handed { step: index, hop },
            Effect::Notify {
                step: index,
                to,
                urgent: step.urgent,
            },
        ]
    }

    /// Opens the next pending step, or says the stage or chain is done.
    fn advance(&mut self, at: DateTime<Utc>, routing: &Routing) -> Vec<Effect> {
        if self.waiting().is_some() || self.steps.iter().any(ended) {
            return Vec::new();
        }
        let Some(index) = self
            .steps
            .iter()
            .position(|step| step.status == StepStatus::Pending)
        else {
            return vec![Effect::ChainComplete];
        };
        let stage = self.steps[index].stage;
        let first_of_result_stage = stage == Stage::Result
            && self.steps[..index]
                .iter()
                .all(|step| step.stage == Stage::Request);
        if first_of_result_stage && !self.result_stage_open {
            return vec![Effect::RequestApproved];
        }
        let kind = self.steps[index].kind;
        let excluded = self.excluded();
        let (holder, delegated) = match kind {
            StepKind::SecurityCheck => (None, None),
            StepKind::TeamLead => match routing.first_eligible(RouteLevel::Owner, &excluded) {
                Some((level, person)) => {
                    let delegated = match (&routing.owner, level) {
                        (Some(owner), RouteLevel::Deputy | RouteLevel::Supervisor)
                            if routing.owner_away =>
                        {
                            Some(owner.clone())
                        }
                        _ => None,
                    };
                    (Some(Holder::person(person, level)), delegated)
                }
                None => (
                    Some(Holder::Pool {
                        role: Role::TeamLead,
                    }),
                    None,
                ),
            },
            StepKind::Pm | StepKind::SecurityOfficer => {
                (kind.role().map(|role| Holder::Pool { role }), None)
            }
        };
        let step = &mut self.steps[index];
        step.status = StepStatus::Waiting;
        step.opened_at = Some(at);
        step.original_owner = routing.owner.clone();
        let mut effects = Vec::new();
        match holder {
            None => effects.push(Effect::RunSecurityCheck { step: index }),
            Some(holder) => {
                if let Some(owner) = delegated {
                    let hop = Hop {
                        at,
                        from: Holder::person(owner, RouteLevel::Owner),
                        to: holder.clone(),
                        reason: HopReason::OwnerAway,
                    };
                    step.hops.push(hop.clone());
                    effects.push(Effect::Handed { step: index, hop });
                }
                step.holder = Some(holder.clone());
                step.due = Some(at + routing.sla());
                effects.push(Effect::Notify {
                    step: index,
                    to: holder,
                    urgent: false,
                });
            }
        }
        effects
    }
}

/// Whether `person` holds `step`: by name, or through a role the pool asks for.
fn holds(step: &Step, person: &PersonName, holds_role: impl Fn(Role) -> bool) -> bool {
    match &step.holder {
        Some(Holder::Person { name, .. }) => name == person,
        Some(Holder::Pool { role }) => holds_role(*role),
        None => false,
    }
}

fn ended(step: &Step) -> bool {
    matches!(
        step.status,
        StepStatus::Rejected | StepStatus::Returned | StepStatus::Failed
    )
}

/// A holder in words, for refusals.
pub fn describe(holder: Option<&Holder>) -> String {
    match holder {
        Some(Holder::Person { name, .. }) => name.to_string(),
        Some(Holder::Pool { role }) => format!("any {role} of the system"),
        None => "the console's automatic check".to_owned(),
    }
}

#[cfg(test)]
mod tests;
