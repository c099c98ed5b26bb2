//! Data that crosses IPC (and the CLI's `--json`). Domain value types (ids, enums, validated
//! text) are reused as they are: they serialise as plain strings and re-validate when read.

use chrono::{DateTime, Utc};
use guardia_domain::governance::Chain;
use guardia_domain::{
    Category, PersonName, Priority, SubType, SystemName, Task, TaskId, TaskStatus, TimelineEntry,
    Title,
};
use serde::{Deserialize, Serialize};

/// A filter for the task list. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub category: Option<Category>,
    /// Matches id, title, system or requester, case-insensitively.
    pub text: String,
    /// At most this many tasks; `None` means the backend's default page.
    pub limit: Option<u32>,
}

/// Names one task. The id is a raw string: the backend parses it and answers
/// `INVALID_INPUT` for a malformed id rather than a protocol error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRef {
    pub id: String,
}

/// One row of the task list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: TaskId,
    pub title: Title,
    pub category: Category,
    pub sub_type: Option<SubType>,
    pub system: SystemName,
    pub requester: PersonName,
    #[serde(default)]
    pub priority: Priority,
    pub status: TaskStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Task> for TaskSummary {
    fn from(task: &Task) -> Self {
        Self {
            id: task.id,
            title: task.title.clone(),
            category: task.category,
            sub_type: task.sub_type.clone(),
            system: task.system.clone(),
            requester: task.requester.clone(),
            priority: task.priority,
            status: task.status,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

/// A task with its timeline, oldest entry first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDetail {
    pub task: Task,
    pub timeline: Vec<TimelineEntry>,
    /// Every round of its approval chain, oldest first (empty until it is submitted).
    #[serde(default)]
    pub approvals: Vec<Chain>,
}

/// UI language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ko,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ko" => Some(Lang::Ko),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The operator's preferences, kept in the database so they follow the data directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub lang: Lang,
}

/// What the console is and where it keeps things (shown under Settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    pub version: String,
    /// The commit the program was built from (`unknown` for a build outside a checkout).
    pub commit: String,
    /// The person this console acts as (until sign-in exists: the OS login name).
    pub operator: String,
    pub data_dir: String,
    pub database: String,
}
