//! The audit entries the console writes for task changes. The request text goes in as a
//! digest (it is long free text and may carry something that must not be copied into the
//! log); a transition's note is a decision's reason and goes in as written.

use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, EntryKind, Outcome};
use guardia_domain::{PersonName, Task, Transition};
use guardia_ipc::{CheckReport, CheckState, CommandModeChange};

use crate::Caller;
use crate::inventory::server_subject;

pub(crate) fn task_subject(task: &Task) -> String {
    format!("task:{}", task.id)
}

pub(crate) fn task_created(task: &Task, actor: &PersonName) -> EntryDraft {
    EntryDraft::new(
        task.created_at,
        EntryKind::TaskCreated,
        actor.as_str(),
        task_subject(task),
    )
    .with("title", task.title.as_str())
    .with("category", task.category.code())
    .with(
        "sub_type",
        task.sub_type.as_ref().map(|s| s.as_str().to_owned()),
    )
    .with("system", task.system.as_str())
    .with("requester", task.requester.as_str())
    .with("status", task.status.code())
    .with_digest("request", task.request.as_str().as_bytes())
}

pub(crate) fn task_transitioned(
    task: &Task,
    transition: Transition,
    actor: &PersonName,
    note: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::TaskTransitioned,
        actor.as_str(),
        task_subject(task),
    )
    .with("from", transition.from.code())
    .with("to", transition.to.code())
    .with("event", transition.event.code())
    .with("note", note)
}

/// A server check: one field per step with its state. A check stopped before it decided
/// is `unknown`, a failed one `failed`.
pub(crate) fn ssh_checked(
    caller: &Caller,
    server: &str,
    report: &CheckReport,
    at: DateTime<Utc>,
) -> EntryDraft {
    let cancelled = report
        .steps
        .iter()
        .any(|s| s.state == CheckState::Cancelled);
    let outcome = if cancelled {
        Outcome::Unknown
    } else if report.passed() {
        Outcome::Ok
    } else {
        Outcome::Failed
    };
    let mut entry = EntryDraft::new(
        at,
        EntryKind::SshCheck,
        caller.name(),
        server_subject(server),
    )
    .outcome(outcome);
    for step in &report.steps {
        let state = match step.state {
            CheckState::Pass => "pass",
            CheckState::Fail => "fail",
            CheckState::Unknown => "unknown",
            CheckState::Skipped => "skipped",
            CheckState::Cancelled => "cancelled",
        };
        entry = entry.with(&step.name, state);
    }
    entry
}

/// A system's command mode changed (the store adds the previous mode). The reason is an
/// admin's decision and goes in as written.
pub(crate) fn command_mode_changed(
    at: DateTime<Utc>,
    caller: &Caller,
    change: &CommandModeChange,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::CommandModeChanged,
        caller.name(),
        format!("system:{}/{}", change.institution, change.system),
    )
    .with("mode", change.mode.as_str())
    .with("reason", change.reason.trim())
    .with("workstation", caller.workstation.as_str())
}

#[cfg(test)]
mod golden {
    //! One golden test per entry kind built here: the canonical bytes are what an auditor's
    //! verifier reads, so a change to them must be deliberate.

    use super::*;
    use chrono::TimeZone;
    use guardia_domain::{Category, RequestText, SystemName, TaskId, TaskStatus, Title};
    use guardia_ipc::CheckStep;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap()
    }

    fn caller() -> Caller {
        Caller {
            person: PersonName::parse("kim.operator").unwrap(),
            workstation: "ws-7".into(),
            grants: vec![],
        }
    }

    fn text(entry: EntryDraft, index: u64) -> String {
        String::from_utf8(entry.encode(index).unwrap()).unwrap()
    }

    fn task() -> Task {
        Task {
            id: "OPS-20261201-007".parse::<TaskId>().unwrap(),
            title: Title::parse("Renew the TLS certificate").unwrap(),
            category: Category::InfraControl,
            sub_type: None,
            system: SystemName::parse("hr-portal").unwrap(),
            request: RequestText::parse("expires on Friday").unwrap(),
            requester: PersonName::parse("lee").unwrap(),
            status: TaskStatus::Received,
            created_at: at(),
            updated_at: at(),
        }
    }

    #[test]
    fn task_created_entry() {
        let entry = task_created(&task(), &caller().person);
        insta_like(
            &text(entry, 41),
            include_str!("../tests/golden/task.created.txt"),
        );
    }

    #[test]
    fn ssh_check_entry_says_unknown_when_cancelled() {
        let step = |name: &str, state| CheckStep {
            name: name.into(),
            state,
            detail: String::new(),
            millis: 3,
        };
        let report = CheckReport {
            server: "web-01".into(),
            steps: vec![
                step("reachable", CheckState::Pass),
                step("health_http", CheckState::Cancelled),
            ],
            audit_index: 0,
        };
        let entry = ssh_checked(&caller(), "web-01", &report, at());
        insta_like(
            &text(entry, 300),
            include_str!("../tests/golden/ssh.check.txt"),
        );
    }

    #[test]
    fn command_mode_entry() {
        let change = CommandModeChange {
            institution: "Seoul".into(),
            system: "hr".into(),
            mode: guardia_ipc::CommandMode::PlaybookOnly,
            reason: "payroll freeze until the audit ends".into(),
        };
        let entry = command_mode_changed(at(), &caller(), &change).with("previous", "denylist");
        insta_like(
            &text(entry, 77),
            include_str!("../tests/golden/inventory.system.command_mode.txt"),
        );
    }

    /// Compares with the golden text; on a mismatch prints the new text to paste in.
    fn insta_like(actual: &str, golden: &str) {
        assert_eq!(
            actual.trim_end(),
            golden.trim_end(),
            "the canonical entry changed; if deliberate, the new golden text is:\n{actual}"
        );
    }
}
