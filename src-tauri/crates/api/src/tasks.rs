//! The tasks capability: registering, listing and reading ops tasks.
//!
//! A capability is a handle over the shared [`Api`] context with its own error enum; the
//! operation table calls it, and so does the CLI. Governance (approvals), reviews and
//! rollouts follow the same pattern: a module with a handle, an error enum that maps to
//! `{code, message}`, and typed audit entries in `audit_entries.rs`.

use guardia_domain::{FieldError, TaskId, TaskIdError};
use guardia_ipc::{ErrorCode, IpcError, TaskDetail, TaskDraft, TaskQuery, TaskRef, TaskSummary};
use guardia_store::{StoreError, TaskFilter};

use crate::{Api, Caller, audit_entries};

/// The tasks of one console: `api.tasks()`.
#[derive(Clone, Copy)]
pub struct Tasks<'a> {
    api: &'a Api,
}

/// Why a task operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{}", IpcError::invalid_fields(.0.clone()).message)]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    BadTaskId(#[from] TaskIdError),
    #[error("task {0} does not exist")]
    NotFound(TaskId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TaskError {
    pub fn code(&self) -> ErrorCode {
        match self {
            TaskError::Invalid(_) | TaskError::BadTaskId(_) => ErrorCode::InvalidInput,
            TaskError::NotFound(_) | TaskError::Store(StoreError::TaskNotFound(_)) => {
                ErrorCode::NotFound
            }
            TaskError::Store(StoreError::Conflict { .. } | StoreError::AuditRace) => {
                ErrorCode::Conflict
            }
            TaskError::Store(_) => ErrorCode::Storage,
        }
    }
}

impl From<TaskError> for IpcError {
    fn from(error: TaskError) -> Self {
        match error {
            TaskError::Invalid(fields) => IpcError::invalid_fields(fields),
            other => IpcError::new(other.code(), other.to_string()),
        }
    }
}

impl Api {
    /// The tasks capability.
    pub fn tasks(&self) -> Tasks<'_> {
        Tasks { api: self }
    }
}

impl Tasks<'_> {
    /// Registers a task for `caller`. Every field problem is reported at once and nothing
    /// is stored.
    pub async fn create(&self, caller: &Caller, draft: TaskDraft) -> Result<TaskDetail, TaskError> {
        let new = draft.validate().map_err(TaskError::Invalid)?;
        // The target is a system of the inventory once it has any (an empty console still
        // takes free text: nothing to pick from yet).
        let systems = self.api.store.system_summaries().await?;
        if !systems.is_empty() && !systems.iter().any(|s| s.system == new.system.as_str()) {
            return Err(TaskError::Invalid(vec![FieldError {
                field: guardia_domain::Field::System,
                problem: guardia_domain::Problem::NotInInventory,
            }]));
        }
        let now = self.api.clock.now();
        let task = self
            .api
            .store
            .insert_task(
                &new,
                now.date_naive(),
                now.to_utc(),
                &caller.person,
                &|task| audit_entries::task_created(task, &caller.person),
            )
            .await?;
        tracing::info!(id = %task.id, category = %task.category, "task registered");
        let timeline = self.api.store.timeline(task.id).await?;
        Ok(TaskDetail {
            task,
            timeline,
            approvals: Vec::new(),
        })
    }

    /// Tasks matching `query`, newest first.
    pub async fn list(&self, query: TaskQuery) -> Result<Vec<TaskSummary>, TaskError> {
        let filter = TaskFilter {
            status: query.status,
            category: query.category,
            text: query.text,
            limit: query
                .limit
                .unwrap_or(TaskFilter::DEFAULT_LIMIT)
                .clamp(1, TaskFilter::MAX_LIMIT),
        };
        let tasks = self.api.store.list_tasks(&filter).await?;
        Ok(tasks.iter().map(TaskSummary::from).collect())
    }

    /// One task and its timeline.
    pub async fn get(&self, task: TaskRef) -> Result<TaskDetail, TaskError> {
        let id: TaskId = task.id.parse()?;
        let task = self
            .api
            .store
            .task(id)
            .await?
            .ok_or(TaskError::NotFound(id))?;
        let timeline = self.api.store.timeline(id).await?;
        let approvals = self
            .api
            .store
            .chains(id)
            .await?
            .into_iter()
            .map(|stored| stored.chain)
            .collect();
        Ok(TaskDetail {
            task,
            timeline,
            approvals,
        })
    }
}
