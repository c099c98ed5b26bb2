//! What the backend pushes to every window: the change feed and job updates.
//!
//! One event stream, [`FEED_EVENT`], carries [`FeedEvent`]s. Committed changes are named by
//! their audit index (the feed's cursor: gap-free, shared by every process on the database)
//! and the [`Topic`]s they touch; a window refetches what shows those topics and never polls.
//! Long operations are jobs: starting one answers a [`JobTicket`] at once, and its progress
//! and result arrive as [`JobUpdate`]s.

use serde::{Deserialize, Serialize};

use crate::{CheckReport, CommandReport, IpcError, VerificationView};

/// The name of the one event the shell emits to windows (declared beside the command table).
pub const FEED_EVENT: &str = "guardia://feed";

/// Emitted to the windows when the tray menu's kill-switch entry is chosen: the window comes
/// to the front and opens its kill-switch dialog, which asks for the reason as the button and
/// Ctrl+Alt+K do (the payload names where the request came from).
pub const KILL_SWITCH_ASK_EVENT: &str = "guardia://kill-switch-ask";

/// What a screen shows, as far as invalidation is concerned. Derived from an audit entry's
/// kind, so every committed change maps to at least one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Tasks,
    Audit,
    Inventory,
    Credentials,
    HostKeys,
    Remote,
    Console,
    /// Rollouts, their sites and the kill switch.
    Rollouts,
    /// Incidents, their reports and the incident desk's settings.
    Incidents,
}

impl Topic {
    pub const ALL: [Topic; 9] = [
        Topic::Tasks,
        Topic::Audit,
        Topic::Inventory,
        Topic::Credentials,
        Topic::HostKeys,
        Topic::Remote,
        Topic::Console,
        Topic::Rollouts,
        Topic::Incidents,
    ];

    /// The topic of an audit entry kind (`task.created` → Tasks). Every entry is also an
    /// audit-log change, which the caller adds; unknown families land on Console.
    pub fn of_kind(kind: &str) -> Topic {
        // A check also records on the server what it found (algorithms, whether a stop is
        // guaranteed there): the server's pages show it.
        if kind == "ssh.check" {
            return Topic::Inventory;
        }
        let family = kind.split('.').next().unwrap_or_default();
        match family {
            "task" | "approval" | "package" | "review" | "outbox" | "governance" => Topic::Tasks,
            "audit" => Topic::Audit,
            "inventory" | "bundle" => Topic::Inventory,
            "credential" => Topic::Credentials,
            "hostkey" => Topic::HostKeys,
            "ssh" => Topic::Remote,
            "rollout" | "killswitch" => Topic::Rollouts,
            "incident" => Topic::Incidents,
            _ => Topic::Console,
        }
    }
}

/// One push to the windows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedEvent {
    /// Entries `after <= index < upto` were committed (by this process or another one on the
    /// same database); they touch `topics`. The audit log itself changed whenever this
    /// arrives, so [`Topic::Audit`] is always among them.
    Changed {
        after: u64,
        upto: u64,
        topics: Vec<Topic>,
    },
    /// A job moved on.
    Job(JobUpdate),
}

/// A job's id, unique within one console process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job-{}", self.0)
    }
}

/// The answer to starting a job: its id, to follow on the feed or to cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTicket {
    pub id: JobId,
    pub kind: JobKind,
    /// What it works on, e.g. `server:web-01` or `audit:log`.
    pub subject: String,
}

/// Names a job to cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    pub id: JobId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Verification,
    SshCheck,
    SshRun,
    /// A rollout's run (or its rollback).
    Rollout,
}

impl JobKind {
    /// Whether the job may change a server: refused while the kill switch is engaged, and
    /// stopped when it is pressed. Read-only checks and the audit verification go on.
    pub fn changes_servers(self) -> bool {
        matches!(self, JobKind::SshRun | JobKind::Rollout)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// `done` of `total` units (entries, steps); `step` names what runs now.
    Running { done: u64, total: u64, step: String },
    /// It ran to its end; the outcome says how it went (a check may still have failed).
    Finished { outcome: Box<JobOutcome> },
    /// Stopped on request (a person, or the kill switch) before it finished. `outcome` holds
    /// what was learnt up to then, when there is anything to show.
    Cancelled { outcome: Option<Box<JobOutcome>> },
    /// It could not run to its end; nothing is claimed about what it did remotely beyond
    /// what the audit log records.
    Failed { error: IpcError },
}

impl JobState {
    pub fn is_running(&self) -> bool {
        matches!(self, JobState::Running { .. })
    }
}

/// What a job produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "report", rename_all = "snake_case")]
pub enum JobOutcome {
    Verification(VerificationView),
    Check(CheckReport),
    Command(CommandReport),
    /// A rollout's run ended (completed, halted, rolled back, aborted).
    Rollout(crate::RolloutBrief),
}

/// One job's latest state, as pushed on the feed and listed by `job_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobUpdate {
    pub id: JobId,
    pub kind: JobKind,
    pub subject: String,
    pub state: JobState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_family_has_a_topic() {
        assert_eq!(Topic::of_kind("task.created"), Topic::Tasks);
        assert_eq!(Topic::of_kind("inventory.server.saved"), Topic::Inventory);
        assert_eq!(Topic::of_kind("hostkey.trusted"), Topic::HostKeys);
        assert_eq!(Topic::of_kind("credential.set"), Topic::Credentials);
        assert_eq!(Topic::of_kind("ssh.check"), Topic::Inventory);
        assert_eq!(Topic::of_kind("ssh.command.result"), Topic::Remote);
        assert_eq!(Topic::of_kind("audit.verified"), Topic::Audit);
        assert_eq!(Topic::of_kind("console.started"), Topic::Console);
    }

    #[test]
    fn feed_events_keep_their_wire_shape() {
        let event = FeedEvent::Changed {
            after: 3,
            upto: 5,
            topics: vec![Topic::Tasks, Topic::Audit],
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"type":"changed","after":3,"upto":5,"topics":["tasks","audit"]}"#
        );
        let job = FeedEvent::Job(JobUpdate {
            id: JobId(7),
            kind: JobKind::SshCheck,
            subject: "server:web-01".into(),
            state: JobState::Running {
                done: 1,
                total: 6,
                step: "reachable".into(),
            },
        });
        let back: FeedEvent = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
        assert_eq!(back, job);
    }
}
