use std::path::PathBuf;

use guardia_domain::{TaskId, TaskStatus};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("task {0} does not exist")]
    TaskNotFound(TaskId),
    #[error("task {id} is {actual}, not {expected} any more; reload and try again")]
    Conflict {
        id: TaskId,
        expected: TaskStatus,
        actual: TaskStatus,
    },
    /// Someone else decided or escalated the chain since it was read; nothing was changed.
    #[error(
        "the approval chain of task {0} changed meanwhile; nothing was changed — reload and try again"
    )]
    ChainChanged(TaskId),
    /// Another console imported this package version (or the same package) meanwhile.
    #[error(
        "version {version} of the package for {task} was imported meanwhile; nothing was changed"
    )]
    PackageExists { task: TaskId, version: u32 },
    /// Someone changed the incident since it was read; nothing was changed.
    #[error("incident {0} changed meanwhile; nothing was changed — reload and try again")]
    IncidentChanged(String),
    #[error("there is no server named `{0}`")]
    ServerNotFound(String),
    #[error("there is no system `{0}` (institution/system) in the inventory")]
    SystemNotFound(String),
    #[error("there is no credential named `{0}`")]
    CredentialNotFound(String),
    #[error("there is nobody named `{0}`")]
    PersonNotFound(String),
    #[error("a person named `{0}` already exists")]
    PersonExists(String),
    #[error("a server named `{0}` already exists")]
    ServerExists(String),
    #[error("server `{name}` differs only in case from the existing server `{existing}`")]
    ServerCaseClash { name: String, existing: String },
    /// Another process held the write lock for longer than any GUARDiA write takes.
    #[error(
        "another GUARDiA process has been writing to the database for over {0} seconds; nothing was changed — try again when it has finished"
    )]
    Busy(u64),
    #[error("unsupported database: {0}")]
    Unsupported(String),
    /// Another writer appended to the audit log during this change; nothing was committed.
    /// Retryable.
    #[error(
        "another writer appended to the audit log at the same moment; nothing was changed, try again"
    )]
    AuditRace,
    /// A stored value no longer passes validation: the database was edited outside GUARDiA
    /// or by a bug. Reported, never repaired silently.
    #[error("stored {what} is invalid: {reason}")]
    Corrupt { what: String, reason: String },
}

impl StoreError {
    pub(crate) fn corrupt(what: impl Into<String>, reason: impl ToString) -> Self {
        Self::Corrupt {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}
