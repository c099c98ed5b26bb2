//! Result packages and their review: the storage interface (issue 11, SPEC §4).
//!
//! A package is stored whole — manifest and every file's bytes — when it is imported, and
//! never changed afterwards: what the reviewer saw, what the approval names and what a
//! rollout deploys are the same bytes. Everything a review changes (a new version with the
//! marks and comments carried over, a comment, a decision with the chain's step and the
//! task's move, a document for the agent's outbox) is one [`ReviewWrite`], one transaction
//! with its audit entries. Viewed marks are the exception: they are the reviewer's working
//! state, written on their own, and recorded in the log through the decision's coverage.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_audit::EntryDraft;
use guardia_domain::governance::Chain;
use guardia_domain::{Task, TaskId};

use crate::{StoreError, TaskMove};

/// A package's state in the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageState {
    Review,
    Rework,
    Approved,
    TakenOver,
}

impl PackageState {
    pub fn code(self) -> &'static str {
        match self {
            PackageState::Review => "review",
            PackageState::Rework => "rework",
            PackageState::Approved => "approved",
            PackageState::TakenOver => "taken_over",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            PackageState::Review,
            PackageState::Rework,
            PackageState::Approved,
            PackageState::TakenOver,
        ]
        .into_iter()
        .find(|s| s.code() == raw)
    }
}

/// A stored package without its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPackage {
    pub task: TaskId,
    pub version: u32,
    pub sha256: String,
    pub source_sha256: String,
    pub container: String,
    pub source_name: String,
    /// `{name, version, run_id}` as JSON.
    pub producer: String,
    pub created_at: DateTime<Utc>,
    pub imported_at: DateTime<Utc>,
    pub imported_by: String,
    pub state: PackageState,
    pub manifest: Vec<u8>,
    /// The consistency warnings found at import, as JSON.
    pub warnings: String,
}

/// One file of a stored package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub path: String,
    pub role: String,
    pub size: u64,
    pub sha256: String,
    pub content: Vec<u8>,
}

/// A package to insert, with its files.
#[derive(Debug, Clone)]
pub struct NewPackage {
    pub package: StoredPackage,
    pub files: Vec<StoredFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkState {
    Viewed,
    /// Not viewed, explicitly: the reviewer says why (e.g. "generated, checked by hash").
    Waived,
}

impl MarkState {
    pub fn code(self) -> &'static str {
        match self {
            MarkState::Viewed => "viewed",
            MarkState::Waived => "waived",
        }
    }
}

/// A reviewer's mark on a file of a package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub task: TaskId,
    pub version: u32,
    pub path: String,
    pub person: String,
    pub diff_hash: String,
    pub state: MarkState,
    pub reason: String,
    pub shown_rows: u32,
    pub at: DateTime<Utc>,
    pub carried_from: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Old,
    New,
}

impl Side {
    pub fn code(self) -> &'static str {
        match self {
            Side::Old => "old",
            Side::New => "new",
        }
    }
}

/// A line comment (as stored; `id` is 0 for one not yet written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    /// The id of the comment this one was carried over from (first version's).
    pub origin: Option<i64>,
    pub task: TaskId,
    pub version: u32,
    pub path: String,
    pub side: Side,
    pub line: u32,
    /// The line's text when the comment was made: what carrying over compares.
    pub line_text: String,
    pub body: String,
    pub author: String,
    pub at: DateTime<Utc>,
    pub outdated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    WorkOrder,
    ReworkBrief,
    Withdrawal,
}

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::WorkOrder => "work_order",
            DocumentKind::ReworkBrief => "rework_brief",
            DocumentKind::Withdrawal => "withdrawal",
        }
    }
}

/// A document the console wrote for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub task: TaskId,
    /// 1, 2, … per task (0 for one not yet written: the store numbers it).
    pub seq: u32,
    pub kind: DocumentKind,
    pub file_name: String,
    pub content: String,
    pub sha256: String,
    pub at: DateTime<Utc>,
    pub by: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewVerdict {
    Approve,
    Rework,
    TakeOver,
}

impl ReviewVerdict {
    pub fn code(self) -> &'static str {
        match self {
            ReviewVerdict::Approve => "approve",
            ReviewVerdict::Rework => "rework",
            ReviewVerdict::TakeOver => "take_over",
        }
    }
}

/// A review decision with its record (JSON: package and file hashes, coverage, view
/// settings, console version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDecision {
    pub task: TaskId,
    pub version: u32,
    pub verdict: ReviewVerdict,
    pub by: String,
    pub at: DateTime<Utc>,
    pub comment: String,
    pub record: String,
}

/// Everything one review operation changes, written in one transaction.
pub struct ReviewWrite<'a> {
    pub task: TaskId,
    pub at: DateTime<Utc>,
    pub package: Option<NewPackage>,
    /// A package's new state.
    pub state: Option<(u32, PackageState)>,
    pub marks: Vec<Mark>,
    pub comments: Vec<Comment>,
    pub decision: Option<ReviewDecision>,
    pub document: Option<Document>,
    /// The chain round to update, only if still at the version given.
    pub chain: Option<(&'a Chain, i64)>,
    pub task_moves: Vec<TaskMove<'a>>,
    pub audit: Vec<EntryDraft>,
}

impl<'a> ReviewWrite<'a> {
    pub fn new(task: TaskId, at: DateTime<Utc>) -> Self {
        ReviewWrite {
            task,
            at,
            package: None,
            state: None,
            marks: Vec::new(),
            comments: Vec::new(),
            decision: None,
            document: None,
            chain: None,
            task_moves: Vec::new(),
            audit: Vec::new(),
        }
    }
}

/// Packages, marks, comments, decisions and outbox documents.
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Every package of a task, oldest version first (without files).
    async fn packages(&self, task: TaskId) -> Result<Vec<StoredPackage>, StoreError>;

    /// A package's files, by path.
    async fn package_files(
        &self,
        task: TaskId,
        version: u32,
    ) -> Result<Vec<StoredFile>, StoreError>;

    async fn marks(&self, task: TaskId, version: u32) -> Result<Vec<Mark>, StoreError>;

    /// Sets (insert or replace) a mark, or removes it (`None`: unviewed).
    async fn set_mark(
        &self,
        key: (TaskId, u32, &str, &str),
        mark: Option<&Mark>,
    ) -> Result<(), StoreError>;

    async fn comments(&self, task: TaskId, version: u32) -> Result<Vec<Comment>, StoreError>;

    async fn decisions(&self, task: TaskId) -> Result<Vec<ReviewDecision>, StoreError>;

    async fn documents(&self, task: TaskId) -> Result<Vec<Document>, StoreError>;

    /// Applies `write` whole or not at all; returns the task as it is afterwards.
    async fn write_review(&self, write: ReviewWrite<'_>) -> Result<Task, StoreError>;
}
