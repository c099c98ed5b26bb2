//! Ops tasks: the unit of work that flows from a request to a completed rollout (SPEC §2).

mod fields;
mod id;
mod status;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use fields::{
    Category, Field, FieldError, NewTask, PersonName, Priority, Problem, RequestText, SubType,
    SystemName, TaskDraft, Title, UnknownCategory,
};
pub use id::{TaskId, TaskIdError};
pub use status::{TaskEvent, TaskStatus, Transition, TransitionRefused};

/// A stored task: a validated request plus where it is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub title: Title,
    pub category: Category,
    pub sub_type: Option<SubType>,
    pub system: SystemName,
    pub request: RequestText,
    pub requester: PersonName,
    /// Orders inboxes and queues; tasks from before priorities are `normal`.
    #[serde(default)]
    pub priority: Priority,
    pub status: TaskStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a task's timeline: who did what, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub actor: PersonName,
    #[serde(flatten)]
    pub kind: TimelineKind,
    /// The reason or remark given with the step; empty when none was given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What happened at a timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineKind {
    /// The task was registered; it starts in [`TaskStatus::Received`].
    Created,
    /// The task moved from one status to another through a checked transition.
    Transition(Transition),
}
