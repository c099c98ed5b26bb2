//! # guardia-store — where GUARDiA keeps its state
//!
//! Callers see one interface, [`Store`], made of small per-area traits ([`TaskStore`],
//! [`PreferenceStore`]). Today it has one implementation, [`SqliteStore`]: an embedded SQLite
//! file in WAL mode, the zero-set-up default for a single workstation. Team mode adds a
//! PostgreSQL implementation of the same traits with its own `migrations/postgres/`; callers
//! hold an `Arc<dyn Store>` and do not change.
//!
//! The rules every implementation keeps:
//! * Values are domain types on the way in and re-validated on the way out: a row that no
//!   longer parses is reported as [`StoreError::Corrupt`], never papered over or panicked on.
//! * Each method is one transaction. A task and its first timeline entry appear together or
//!   not at all; a transition is compare-and-set on the status, so two consoles acting on
//!   the same task cannot both win ([`StoreError::Conflict`]).
//! * Task sequence numbers come from a per-day counter updated with an upsert, which is
//!   atomic across processes sharing the database (console and CLI).
//! * Only SQL with bind parameters; no string is ever spliced into a statement.
//! * Every change appends its audit entry ([`AuditStore`]) **in the same transaction**: if the
//!   entry cannot be written, the change is not made (fail closed). Entry indexes come from
//!   the log's own recorded size, never from a sequence, so there are no gaps.

mod approvals;
mod audit;
mod error;
mod incidents;
mod inventory;
mod people;
mod reviews;
mod rollouts;
mod sqlite;
mod sqlite_approvals;
mod sqlite_audit;
mod sqlite_incidents;
mod sqlite_inventory;
mod sqlite_people;
mod sqlite_reviews;
mod sqlite_rollouts;

pub use approvals::{ApprovalStore, ChainWrite, StoredChain, SystemRules, SystemSummary, TaskMove};
pub use audit::{
    AuditFilter, AuditFor, AuditHead, AuditStore, Change, ExternalCheckpoint, NewVerification,
    StoredCheckpoint, StoredEntry, VerificationRecord,
};
pub use rollouts::{
    Deployment, DeploymentWrite, JournalRow, KillSwitchState, OwnedMove, RolloutStore,
    RolloutWrite, SiteWrite, StoredRollout, StoredSite,
};

pub use error::StoreError;
pub use incidents::{IncidentFilter, IncidentStore, MakeIncident, StoredIncident};
pub use inventory::{
    BundleAudit, BundleRows, CredentialKind, CredentialMeta, ImportOutcome, InventoryStore,
    JournalEntry, KeyringNote, PinSource, PinnedHostKey, ServerChange, ServerFilter, SshSeen,
    StoredServer,
};
pub use people::{NewPerson, PeopleStore, PersonChange, StoredPerson};
pub use reviews::{
    Comment, Document, DocumentKind, Mark, MarkState, NewPackage, PackageState, ReviewDecision,
    ReviewStore, ReviewVerdict, ReviewWrite, Side, StoredFile, StoredPackage,
};
pub use sqlite::SqliteStore;

/// Opens the store a URL names: `sqlite:<path>` (or a bare path) today; `postgres://…`
/// arrives with team mode. Callers keep the `Arc<dyn Store>` and never learn which it is.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    let path = url.strip_prefix("sqlite:").unwrap_or(url);
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(StoreError::Unsupported(
            "PostgreSQL arrives with team mode; use sqlite:<path>".to_owned(),
        ));
    }
    Ok(std::sync::Arc::new(
        SqliteStore::open(std::path::Path::new(path)).await?,
    ))
}

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use guardia_domain::{
    Category, NewTask, PersonName, Task, TaskId, TaskStatus, TimelineEntry, Transition,
};

/// Which tasks to list. Empty fields do not filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub category: Option<Category>,
    /// Substring of id, title, system or requester (case-insensitive for ASCII).
    pub text: String,
    pub limit: u32,
}

impl Default for TaskFilter {
    fn default() -> Self {
        Self {
            status: None,
            category: None,
            text: String::new(),
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

impl TaskFilter {
    pub const DEFAULT_LIMIT: u32 = 500;
    pub const MAX_LIMIT: u32 = 5_000;
}

/// Tasks and their timelines.
#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Stores `task` as the next task of the local calendar day `day`, in status
    /// [`TaskStatus::Received`], with a `created` timeline entry by `actor` and the audit
    /// entry `audit` makes of the stored task.
    async fn insert_task(
        &self,
        task: &NewTask,
        day: NaiveDate,
        at: DateTime<Utc>,
        actor: &PersonName,
        audit: AuditFor<'_, Task>,
    ) -> Result<Task, StoreError>;

    /// Tasks matching `filter`, newest first.
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>, StoreError>;

    /// One task, or `None` if there is no such task.
    async fn task(&self, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// The task's timeline, oldest first. Empty if there is no such task.
    async fn timeline(&self, id: TaskId) -> Result<Vec<TimelineEntry>, StoreError>;

    /// Moves the task along a transition already checked by the state machine, if and only
    /// if it is still in `transition.from`; appends the timeline entry and the audit entry
    /// in the same transaction.
    async fn record_transition(
        &self,
        id: TaskId,
        transition: Transition,
        actor: &PersonName,
        note: &str,
        at: DateTime<Utc>,
        audit: AuditFor<'_, Task>,
    ) -> Result<Task, StoreError>;

    /// How many tasks exist (used to decide whether to seed demo data).
    async fn count_tasks(&self) -> Result<u64, StoreError>;
}

/// Small per-operator settings such as the UI language.
#[async_trait]
pub trait PreferenceStore: Send + Sync {
    async fn preference(&self, owner: &str, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_preference(&self, owner: &str, key: &str, value: &str) -> Result<(), StoreError>;
}

/// Everything GUARDiA stores. Callers hold an `Arc<dyn Store>`.
pub trait Store:
    TaskStore
    + PreferenceStore
    + AuditStore
    + InventoryStore
    + PeopleStore
    + ApprovalStore
    + ReviewStore
    + RolloutStore
    + IncidentStore
{
    /// A short description for logs and the settings screen, e.g. `sqlite:/path/guardia.db`.
    fn describe(&self) -> String;
}
