//! The audit entries the console writes for task changes. The request text goes in as a
//! digest (it is long free text and may carry something that must not be copied into the
//! log); a transition's note is a decision's reason and goes in as written.

use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, EntryKind, Outcome};
use guardia_domain::governance::{Failure, RoleGrant};
use guardia_domain::{PersonName, Task, Transition};
use guardia_ipc::{CheckReport, CheckState, CommandModeChange};
use guardia_store::StoredPerson;

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
    .with("priority", task.priority.code())
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
        if step.name == "remote_stop" && step.state == CheckState::Fail {
            entry = entry.with("remote_stop_detail", step.detail.as_str());
        }
    }
    if let Some(algorithms) = &report.algorithms {
        entry = entry.with("algorithms", algorithms.as_str());
    }
    if !report.legacy_algorithms.is_empty() {
        entry = entry.with("legacy_algorithms", report.legacy_algorithms.join(","));
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

/// A server's legacy-algorithm opt-in changed; `previous` is whether it was opted in before.
/// The reason is an admin's decision and goes in as written.
pub(crate) fn legacy_crypto_changed(
    at: DateTime<Utc>,
    caller: &Caller,
    change: &guardia_ipc::LegacyCryptoChange,
    previous: bool,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::LegacyCryptoChanged,
        caller.name(),
        server_subject(&change.server),
    )
    .with("legacy_crypto", change.on)
    .with("previous", previous)
    .with("reason", change.reason.trim())
    .with(
        "algorithms",
        if change.on {
            guardia_ssh::legacy_algorithm_names().join(",")
        } else {
            String::new()
        },
    )
    .with("workstation", caller.workstation.as_str())
}

fn person_subject(name: &PersonName) -> String {
    format!("person:{name}")
}

/// Roles as `role@scope` words, e.g. `team_lead@행정안전부/hr-portal`, `admin@*`.
fn roles_text(grants: &[RoleGrant]) -> Vec<String> {
    grants
        .iter()
        .map(|g| format!("{}@{}", g.role, g.scope))
        .collect()
}

/// A person was added (by an admin, or as the first admin at set-up). Never the password
/// or its hash.
pub(crate) fn person_added(
    person: &StoredPerson,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::PersonAdded,
        caller.name(),
        person_subject(&person.name),
    )
    .with("display_name", person.display_name.as_str())
    .with("roles", roles_text(&person.grants))
    .with("workstation", caller.workstation.as_str())
}

pub(crate) fn person_roles_changed(
    before: &StoredPerson,
    after: &StoredPerson,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::PersonRolesChanged,
        caller.name(),
        person_subject(&after.name),
    )
    .with("roles_before", roles_text(&before.grants))
    .with("roles", roles_text(&after.grants))
    .with("workstation", caller.workstation.as_str())
}

/// An admin locked (with the reason) or unlocked an account.
pub(crate) fn person_lock_changed(
    after: &StoredPerson,
    caller: &Caller,
    reason: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    let kind = if after.disabled_reason.is_some() {
        EntryKind::PersonLocked
    } else {
        EntryKind::PersonUnlocked
    };
    EntryDraft::new(at, kind, caller.name(), person_subject(&after.name))
        .with("reason", reason)
        .with("workstation", caller.workstation.as_str())
}

/// A password changed: by its owner, or reset by an admin. Never the password or its hash.
pub(crate) fn person_password_changed(
    person: &StoredPerson,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    let how = if caller.person == person.name {
        "changed_by_self"
    } else {
        "reset_by_admin"
    };
    EntryDraft::new(
        at,
        EntryKind::PersonPasswordChanged,
        caller.name(),
        person_subject(&person.name),
    )
    .with("how", how)
    .with("workstation", caller.workstation.as_str())
}

/// The sign-in policy changed (lockout, idle lock).
pub(crate) fn signin_policy_changed(
    before: &guardia_domain::governance::SignInPolicy,
    after: &guardia_domain::governance::SignInPolicy,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    let text = |p: &guardia_domain::governance::SignInPolicy| {
        format!(
            "max_failures={} lockout_minutes={} idle_lock_minutes={}",
            p.max_failures, p.lockout_minutes, p.idle_lock_minutes
        )
    };
    EntryDraft::new(
        at,
        EntryKind::GovernancePolicyChanged,
        caller.name(),
        "governance:signin_policy",
    )
    .with("before", text(before))
    .with("after", text(after))
    .with("workstation", caller.workstation.as_str())
}

pub(crate) fn signed_in(person: &StoredPerson, workstation: &str, at: DateTime<Utc>) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::SignedIn,
        person.name.as_str(),
        person_subject(&person.name),
    )
    .with("workstation", workstation)
}

/// A wrong password for a known person: counted, or the failure that locked the account.
/// The console records it (`guardia`): who typed it is exactly what is unknown.
pub(crate) fn sign_in_failed(
    person: &StoredPerson,
    workstation: &str,
    failure: Failure,
    at: DateTime<Utc>,
) -> EntryDraft {
    let entry = match failure {
        Failure::Counted { left } => EntryDraft::new(
            at,
            EntryKind::SignInFailed,
            "guardia",
            person_subject(&person.name),
        )
        .with("reason", "wrong_password")
        .with("failures_left", left),
        Failure::LockedOut { until } => EntryDraft::new(
            at,
            EntryKind::SignInLockedOut,
            "guardia",
            person_subject(&person.name),
        )
        .with(
            "locked_until",
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
    };
    entry
        .outcome(Outcome::Refused)
        .with("workstation", workstation)
}

/// A sign-in refused before the password was checked (`locked_out`, `locked_by_admin`).
pub(crate) fn sign_in_refused(
    name: &PersonName,
    workstation: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(at, EntryKind::SignInFailed, "guardia", person_subject(name))
        .outcome(Outcome::Refused)
        .with("reason", reason)
        .with("workstation", workstation)
}

/// A sign-in as nobody known. The typed name is not recorded, not even as a digest: people
/// type their password into the name field, and an unsalted digest of a password can be
/// guessed.
pub(crate) fn sign_in_unknown(workstation: &str, at: DateTime<Utc>) -> EntryDraft {
    EntryDraft::new(at, EntryKind::SignInFailed, "guardia", "person:?")
        .outcome(Outcome::Refused)
        .with("reason", "unknown_name")
        .with("workstation", workstation)
}

/// A session ended: locked after idle time, or signed out.
pub(crate) fn session_ended(caller: &Caller, idle: bool, at: DateTime<Utc>) -> EntryDraft {
    let kind = if idle {
        EntryKind::SessionLocked
    } else {
        EntryKind::SignedOut
    };
    EntryDraft::new(at, kind, caller.name(), person_subject(&caller.person))
        .with("workstation", caller.workstation.as_str())
}

/// A bulk edit: what was selected, what was set, and every server that changed.
pub(crate) fn inventory_bulk_edited(
    caller: &Caller,
    edit: &guardia_ipc::BulkEdit,
    servers: usize,
    outcome: &guardia_store::ImportOutcome,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::InventoryBulkEdited,
        caller.name(),
        "inventory",
    )
    .with(
        "selection",
        serde_json::json!({
            "text": edit.filter.text,
            "tier": edit.filter.tier,
            "servers": edit.servers,
        }),
    )
    .with(
        "set",
        serde_json::json!({
            "credential": edit.credential,
            "tier": edit.tier,
            "add_tags": edit.add_tags,
            "remove_tags": edit.remove_tags,
        }),
    )
    .with("servers", servers as u64)
    .with("updated", u64::from(outcome.updated))
    .with("unchanged", u64::from(outcome.unchanged))
    .with("changed", crate::inventory::changes_value(&outcome.changes))
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
            priority: guardia_domain::Priority::Urgent,
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
            algorithms: None,
            legacy_algorithms: Vec::new(),
        };
        let entry = ssh_checked(&caller(), "web-01", &report, at());
        insta_like(
            &text(entry, 300),
            include_str!("../tests/golden/ssh.check.txt"),
        );
    }

    #[test]
    fn ssh_check_entry_names_legacy_algorithms_and_a_stop_not_guaranteed() {
        let step = |name: &str, state, detail: &str| CheckStep {
            name: name.into(),
            state,
            detail: detail.into(),
            millis: 3,
        };
        let report = CheckReport {
            server: "centos6-01".into(),
            steps: vec![
                step("authenticated", CheckState::Pass, ""),
                step("remote_stop", CheckState::Fail, "remote stop not guaranteed: no setsid"),
            ],
            audit_index: 0,
            algorithms: Some(
                "kex diffie-hellman-group14-sha1, host key ssh-rsa, cipher aes128-ctr, mac hmac-sha1"
                    .into(),
            ),
            legacy_algorithms: vec![
                "diffie-hellman-group14-sha1".into(),
                "ssh-rsa".into(),
                "hmac-sha1".into(),
            ],
        };
        let entry = ssh_checked(&caller(), "centos6-01", &report, at());
        insta_like(
            &text(entry, 301),
            include_str!("../tests/golden/ssh.check.legacy.txt"),
        );
    }

    #[test]
    fn legacy_crypto_entry() {
        let change = guardia_ipc::LegacyCryptoChange {
            server: "centos6-01".into(),
            on: true,
            reason: " CentOS 6 until the 2027 replacement (ticket OPS-1234) ".into(),
        };
        let entry = legacy_crypto_changed(at(), &caller(), &change, false);
        insta_like(
            &text(entry, 88),
            include_str!("../tests/golden/inventory.server.legacy_crypto.txt"),
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

    fn person() -> StoredPerson {
        StoredPerson {
            name: PersonName::parse("park.lead").unwrap(),
            display_name: "박팀장".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
            grants: vec![
                RoleGrant {
                    role: guardia_domain::governance::Role::TeamLead,
                    scope: guardia_domain::governance::Scope::parse("행정안전부/hr-portal")
                        .unwrap(),
                },
                RoleGrant::everywhere(guardia_domain::governance::Role::Auditor),
            ],
            attempts: guardia_domain::governance::Attempts::default(),
            disabled_reason: None,
            created_at: at(),
            updated_at: at(),
        }
    }

    #[test]
    fn people_and_sign_in_entries_never_carry_a_password_or_its_hash() {
        let p = person();
        let mut locked = p.clone();
        locked.disabled_reason = Some("left the team".into());
        let mut before = p.clone();
        before.grants.truncate(1);
        let until = at() + chrono::Duration::minutes(15);
        let entries = [
            ("person.added", person_added(&p, &caller(), at())),
            (
                "person.roles",
                person_roles_changed(&before, &p, &caller(), at()),
            ),
            (
                "person.locked",
                person_lock_changed(&locked, &caller(), "left the team", at()),
            ),
            (
                "person.unlocked",
                person_lock_changed(&p, &caller(), "", at()),
            ),
            ("signin.succeeded", signed_in(&p, "ws-7", at())),
            (
                "signin.failed",
                sign_in_failed(&p, "ws-7", Failure::Counted { left: 3 }, at()),
            ),
            (
                "signin.locked_out",
                sign_in_failed(&p, "ws-7", Failure::LockedOut { until }, at()),
            ),
            (
                "signin.failed",
                sign_in_refused(&p.name, "ws-7", "locked_by_admin", at()),
            ),
            ("signin.failed", sign_in_unknown("ws-7", at())),
            ("session.locked", session_ended(&caller(), true, at())),
            ("session.signed_out", session_ended(&caller(), false, at())),
        ];
        let mut all = String::new();
        for (i, (kind, entry)) in entries.into_iter().enumerate() {
            assert_eq!(entry.kind.code(), kind);
            let line = text(entry, 500 + i as u64);
            assert!(
                !line.contains("argon2") && !line.contains("hunter2"),
                "{line}"
            );
            all.push_str(&line);
            all.push('\n');
        }
        insta_like(&all, include_str!("../tests/golden/people.txt"));
    }

    /// Compares with the golden text; on a mismatch prints the new text to paste in.
    fn insta_like(actual: &str, golden: &str) {
        assert_eq!(
            actual.trim_end(),
            golden.trim_end(),
            "the canonical entry changed; if deliberate, the new golden text is:\n{actual}"
        );
    }

    #[test]
    fn password_policy_and_bulk_edit_entries() {
        let p = person();
        let policy = guardia_domain::governance::SignInPolicy::default();
        let stricter = guardia_domain::governance::SignInPolicy {
            max_failures: 3,
            ..policy
        };
        let edit = guardia_ipc::BulkEdit {
            filter: guardia_ipc::ServerQuery {
                text: "was".into(),
                tier: None,
                limit: None,
            },
            credential: Some("was-key-2026".into()),
            ..guardia_ipc::BulkEdit::default()
        };
        let outcome = guardia_store::ImportOutcome {
            updated: 2,
            changes: vec![guardia_store::ServerChange {
                server: "was01".into(),
                fields: vec!["credential"],
            }],
            ..guardia_store::ImportOutcome::default()
        };
        let entries = [
            person_password_changed(&p, &caller(), at()),
            signin_policy_changed(&policy, &stricter, &caller(), at()),
            inventory_bulk_edited(&caller(), &edit, 2, &outcome, at()),
        ];
        let all: String = entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| text(e, 700 + i as u64) + "\n")
            .collect();
        assert!(!all.contains("argon2"), "{all}");
        insta_like(
            &all,
            include_str!("../tests/golden/password-policy-bulk.txt"),
        );
    }
}
