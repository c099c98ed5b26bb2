//! The audit entries of rollouts and the kill switch. Subjects are `rollout:<id>` (the
//! switch: `console:kill-switch`); command output goes in by hash only, never as text.

use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, EntryKind, Outcome};
use guardia_domain::rollout::{RolloutState, SiteState};

pub(crate) fn rollout_subject(id: &str) -> String {
    format!("rollout:{id}")
}

pub(crate) const KILL_SWITCH_SUBJECT: &str = "console:kill-switch";

/// What a rollout starts from.
pub(crate) struct Started<'a> {
    pub id: &'a str,
    pub task: &'a str,
    pub package_version: u32,
    pub package_sha256: &'a str,
    pub playbook: &'a str,
    pub playbook_version: u32,
    pub playbook_sha256: &'a str,
    pub version_label: &'a str,
    pub artifacts: Vec<serde_json::Value>,
    pub sites: u64,
    pub servers: u64,
    pub phases: Vec<serde_json::Value>,
    pub budget: u64,
    pub params: serde_json::Value,
}

pub(crate) fn rollout_started(s: &Started<'_>, actor: &str, at: DateTime<Utc>) -> EntryDraft {
    EntryDraft::new(at, EntryKind::RolloutStarted, actor, rollout_subject(s.id))
        .with("task", s.task)
        .with("package_version", u64::from(s.package_version))
        .with("package_sha256", s.package_sha256)
        .with("playbook", s.playbook)
        .with("playbook_version", u64::from(s.playbook_version))
        .with("playbook_sha256", s.playbook_sha256)
        .with("version", s.version_label)
        .with("artifacts", s.artifacts.clone())
        .with("sites", s.sites)
        .with("servers", s.servers)
        .with("phases", s.phases.clone())
        .with("failure_budget", s.budget)
        .with("params", s.params.clone())
}

/// One step of one server ended (or its outcome is unknown).
#[allow(clippy::too_many_arguments)]
pub(crate) fn rollout_step(
    id: &str,
    site: &str,
    server: &str,
    step: &str,
    outcome: Outcome,
    detail: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(at, EntryKind::RolloutStep, actor, rollout_subject(id))
        .outcome(outcome)
        .with("site", site)
        .with("server", server)
        .with("step", step)
        .with("detail", detail)
}

/// A site settled (or was rolled back, or skipped).
pub(crate) fn rollout_site(
    id: &str,
    site: &str,
    state: SiteState,
    detail: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    let outcome = match state {
        SiteState::Done | SiteState::RolledBack | SiteState::Skipped => Outcome::Ok,
        SiteState::Uncertain => Outcome::Unknown,
        _ => Outcome::Failed,
    };
    EntryDraft::new(at, EntryKind::RolloutSite, actor, rollout_subject(id))
        .outcome(outcome)
        .with("site", site)
        .with("state", state.as_str())
        .with("detail", detail)
}

/// The rollout moved to `state` (a person's action, a gate, a halt, the end).
pub(crate) fn rollout_state(
    id: &str,
    state: RolloutState,
    reason: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::RolloutStateChanged,
        actor,
        rollout_subject(id),
    )
    .with("state", state.as_str())
    .with("reason", reason)
}

pub(crate) fn kill_switch_pressed(
    reason: &str,
    halted: &[String],
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(at, EntryKind::KillswitchPressed, actor, KILL_SWITCH_SUBJECT)
        .with("reason", reason)
        .with("halted_rollouts", halted.join(","))
}

pub(crate) fn kill_switch_rearmed(reason: &str, actor: &str, at: DateTime<Utc>) -> EntryDraft {
    EntryDraft::new(at, EntryKind::KillswitchRearmed, actor, KILL_SWITCH_SUBJECT)
        .with("reason", reason)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use chrono::TimeZone;

    fn at(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, s).unwrap()
    }

    #[test]
    fn rollout_entries_are_pinned() {
        let started = Started {
            id: "R-OPS-20261206-001-1",
            task: "OPS-20261206-001",
            package_version: 2,
            package_sha256: "ab12",
            playbook: "deploy-artifact",
            playbook_version: 1,
            playbook_sha256: "cd34",
            version_label: "OPS-20261206-001-v2",
            artifacts: vec![serde_json::json!({"path": "web/notice.jsp", "sha256": "5a40"})],
            sites: 100,
            servers: 102,
            phases: vec![serde_json::json!({"name": "canary", "sites": 1})],
            budget: 5,
            params: serde_json::json!({"min_free_mb": "64"}),
        };
        let lines = [
            rollout_started(&started, "song.operator", at(0)),
            rollout_step(
                "R-OPS-20261206-001-1",
                "lab-app/lab-0001",
                "lab-0001",
                "apply",
                Outcome::Ok,
                "",
                "song.operator",
                at(1),
            ),
            rollout_site(
                "R-OPS-20261206-001-1",
                "lab-app/lab-0002",
                SiteState::RolledBack,
                "health: HTTP 503 three times",
                "song.operator",
                at(2),
            ),
            rollout_state(
                "R-OPS-20261206-001-1",
                RolloutState::Halted,
                "the kill switch was pressed",
                "song.operator",
                at(3),
            ),
            kill_switch_pressed(
                "HTTP 502 on tier-1 canaries",
                &["R-OPS-20261206-001-1".to_owned()],
                "bae.security",
                at(4),
            ),
            kill_switch_rearmed("cause found: bad config in v2", "bae.security", at(5)),
        ];
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(i, e)| String::from_utf8(e.encode(60 + i as u64).unwrap()).unwrap() + "\n")
            .collect();
        assert_eq!(
            text.trim_end(),
            include_str!("../tests/golden/rollout.txt").trim_end(),
            "the canonical entries changed; if deliberate, the new golden text is:\n{text}"
        );
    }
}
