//! The audit entries of approvals and governance rules: a chain opened, a step decided,
//! handed on (escalation, delegation), the automatic security check, a system's rules or the
//! chain policy changed. Comments are decisions' reasons and go in as written.

use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, EntryKind, Outcome};
use guardia_domain::Task;
use guardia_domain::governance::{
    Chain, ChainPolicy, CheckResult, Holder, Hop, RiskClass, Verdict,
};

use crate::Caller;
use crate::audit_entries::task_subject;

/// Who acts when the console itself moves a chain (an SLA ran out, a check ran).
pub(crate) const CONSOLE: &str = "guardia";

/// A holder in the log: `lee.teamlead@owner`, `pool:team_lead`, `check`.
pub(crate) fn holder_text(holder: Option<&Holder>) -> String {
    match holder {
        Some(Holder::Person { name, level }) => match level {
            Some(level) => format!("{name}@{}", level.code()),
            None => name.to_string(),
        },
        Some(Holder::Pool { role }) => format!("pool:{role}"),
        None => "check".to_owned(),
    }
}

fn on_step(entry: EntryDraft, chain: &Chain, step: usize) -> EntryDraft {
    let kind = chain.steps.get(step).map(|s| s.kind.code()).unwrap_or("");
    entry
        .with("round", chain.round)
        .with("step", step as u64 + 1)
        .with("step_kind", kind)
}

/// The requester submitted (or resubmitted) the task: a chain round opened.
pub(crate) fn approval_submitted(
    task: &Task,
    chain: &Chain,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    let steps: Vec<&str> = chain.steps.iter().map(|s| s.kind.code()).collect();
    EntryDraft::new(
        at,
        EntryKind::ApprovalSubmitted,
        caller.name(),
        task_subject(task),
    )
    .with("round", chain.round)
    .with("risk", chain.risk.code())
    .with("sensitive", chain.sensitive)
    .with("steps", steps)
    .with("requester", chain.requester.as_str())
    .with("workstation", caller.workstation.as_str())
}

/// A person decided step `step` (already recorded in `chain`).
pub(crate) fn approval_decided(
    task: &Task,
    chain: &Chain,
    step: usize,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    let record = &chain.steps[step];
    let (kind, verdict, comment) = match &record.decision {
        Some(d) => (
            match d.verdict {
                Verdict::Approve => EntryKind::ApprovalGranted,
                Verdict::Reject => EntryKind::ApprovalRejected,
                Verdict::Return => EntryKind::ApprovalReturned,
            },
            d.verdict.code(),
            d.comment.as_str(),
        ),
        None => (EntryKind::ApprovalGranted, "", ""),
    };
    on_step(
        EntryDraft::new(at, kind, caller.name(), task_subject(task)),
        chain,
        step,
    )
    .with("verdict", verdict)
    .with("comment", comment)
    .with("held_as", holder_text(record.holder.as_ref()))
    .with(
        "original_owner",
        record.original_owner.as_ref().map(|p| p.to_string()),
    )
    .with("requester", chain.requester.as_str())
    .with("escalations", record.hops.len() as u64)
    .with("workstation", caller.workstation.as_str())
}

/// A step changed hands: an escalation (SLA ran out) or a delegation (owner away).
pub(crate) fn approval_handed(
    task: &Task,
    chain: &Chain,
    step: usize,
    hop: &Hop,
    actor: &str,
) -> EntryDraft {
    let record = &chain.steps[step];
    on_step(
        EntryDraft::new(
            hop.at,
            EntryKind::ApprovalEscalated,
            actor,
            task_subject(task),
        ),
        chain,
        step,
    )
    .with("from", holder_text(Some(&hop.from)))
    .with("to", holder_text(Some(&hop.to)))
    .with("reason", hop.reason.code())
    .with("urgent", record.urgent)
    .with("due", record.due.map(guardia_audit::format_time))
}

/// The SLA ran out with nobody left on the route: the holder keeps the step, URGENT.
pub(crate) fn approval_overdue(
    task: &Task,
    chain: &Chain,
    step: usize,
    at: DateTime<Utc>,
) -> EntryDraft {
    let record = &chain.steps[step];
    on_step(
        EntryDraft::new(
            at,
            EntryKind::ApprovalEscalated,
            CONSOLE,
            task_subject(task),
        ),
        chain,
        step,
    )
    .with("from", holder_text(record.holder.as_ref()))
    .with("to", holder_text(record.holder.as_ref()))
    .with("reason", "sla_expired_nobody_left")
    .with("urgent", true)
}

/// The console's automatic security check: what it checked and what failed.
pub(crate) fn approval_checked(
    task: &Task,
    chain: &Chain,
    step: usize,
    result: &CheckResult,
    at: DateTime<Utc>,
) -> EntryDraft {
    let outcome = if result.passed() {
        Outcome::Ok
    } else {
        Outcome::Failed
    };
    on_step(
        EntryDraft::new(
            at,
            EntryKind::ApprovalSecurityCheck,
            CONSOLE,
            task_subject(task),
        )
        .outcome(outcome),
        chain,
        step,
    )
    .with("checked", result.checked.clone())
    .with("failures", result.failures.clone())
}

/// One field of a system's rules changed (`owner`, `deputy`, `away`, `sla`, …).
pub(crate) fn system_rules_changed(
    system: &str,
    field: &str,
    before: String,
    after: String,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::GovernanceSystemChanged,
        caller.name(),
        format!("system:{system}"),
    )
    .with("field", field)
    .with("before", before)
    .with("after", after)
    .with("workstation", caller.workstation.as_str())
}

/// The chain policy changed: each risk class's steps before and after.
pub(crate) fn chain_policy_changed(
    before: &ChainPolicy,
    after: &ChainPolicy,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    let text = |policy: &ChainPolicy| {
        RiskClass::ALL
            .iter()
            .map(|risk| {
                let steps: Vec<&str> = policy.steps(*risk).iter().map(|s| s.code()).collect();
                format!("{}={}", risk.code(), steps.join(","))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    EntryDraft::new(
        at,
        EntryKind::GovernancePolicyChanged,
        caller.name(),
        "governance:chain_policy",
    )
    .with("before", text(before))
    .with("after", text(after))
    .with("workstation", caller.workstation.as_str())
}

#[cfg(test)]
mod golden {
    use chrono::TimeZone;
    use guardia_domain::governance::{HopReason, RouteLevel, Routing, StepStatus};
    use guardia_domain::{Category, PersonName, RequestText, SystemName, TaskStatus, Title};

    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minute)
    }

    fn p(name: &str) -> PersonName {
        PersonName::parse(name).unwrap()
    }

    fn caller(name: &str) -> Caller {
        Caller {
            person: p(name),
            workstation: "ws-7".into(),
            grants: vec![],
        }
    }

    #[test]
    fn approval_entries_name_who_held_each_step_and_why_it_moved() {
        let task = Task {
            id: "OPS-20261201-007".parse().unwrap(),
            title: Title::parse("Restart the payroll service").unwrap(),
            category: Category::InfraControl,
            sub_type: None,
            system: SystemName::parse("hr-portal").unwrap(),
            request: RequestText::parse("hangs every night").unwrap(),
            requester: p("kim.minji"),
            priority: guardia_domain::Priority::High,
            status: TaskStatus::PendingApproval,
            created_at: at(0),
            updated_at: at(0),
        };
        let routing = Routing {
            owner: Some(p("lee.teamlead")),
            deputy: Some(p("choi.deputy")),
            supervisor: Some(p("han.head")),
            owner_away: false,
            sla_seconds: 600,
        };
        let mut chain = Chain::new(
            &ChainPolicy::default(),
            RiskClass::ServiceRestart,
            false,
            p("kim.minji"),
            1,
        );
        let mut lines = vec![approval_submitted(
            &task,
            &chain,
            &caller("kim.minji"),
            at(0),
        )];
        chain.start(at(0), &routing);
        let effects = chain.tick(at(10), &routing);
        let hop = effects
            .iter()
            .find_map(|e| match e {
                guardia_domain::governance::Effect::Handed { hop, .. } => Some(hop.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(hop.reason, HopReason::SlaExpired);
        lines.push(approval_handed(&task, &chain, 0, &hop, CONSOLE));
        chain
            .decide(
                &p("choi.deputy"),
                |_| true,
                Verdict::Approve,
                "night shift confirmed",
                at(12),
                &routing,
            )
            .unwrap();
        lines.push(approval_decided(
            &task,
            &chain,
            0,
            &caller("choi.deputy"),
            at(12),
        ));
        let result = CheckResult {
            checked: vec!["deploy window open".into()],
            failures: vec!["the audit log has an unacknowledged integrity failure".into()],
        };
        chain.security_check(result.clone(), at(12), &routing);
        assert_eq!(chain.steps[1].status, StepStatus::Failed);
        lines.push(approval_checked(&task, &chain, 1, &result, at(12)));
        lines.push(approval_overdue(&task, &chain, 0, at(30)));
        let mut stricter = ChainPolicy::default();
        stricter
            .inspection
            .push(guardia_domain::governance::StepKind::SecurityOfficer);
        lines.push(chain_policy_changed(
            &ChainPolicy::default(),
            &stricter,
            &caller("admin"),
            at(35),
        ));
        lines.push(system_rules_changed(
            "hr-portal",
            "deputy",
            "".into(),
            "choi.deputy".into(),
            &caller("lee.teamlead"),
            at(40),
        ));
        assert_eq!(
            holder_text(Some(&Holder::Person {
                name: p("x"),
                level: Some(RouteLevel::Supervisor)
            })),
            "x@supervisor"
        );
        let text: String = lines
            .into_iter()
            .enumerate()
            .map(|(i, e)| String::from_utf8(e.encode(900 + i as u64).unwrap()).unwrap() + "\n")
            .collect();
        assert_eq!(
            text.trim_end(),
            include_str!("../tests/golden/approvals.txt").trim_end(),
            "the canonical entries changed; if deliberate, the new golden text is:\n{text}"
        );
    }
}
