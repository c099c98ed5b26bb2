use std::path::PathBuf;

use guardia_domain::{FieldError, TaskId, TaskIdError, TransitionRefused};
use guardia_ipc::{ErrorCode, IpcError};
use guardia_store::StoreError;

/// Why an operation failed, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{}", IpcError::invalid_fields(.0.clone()).message)]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    BadTaskId(#[from] TaskIdError),
    #[error("task {0} does not exist")]
    NotFound(TaskId),
    #[error(transparent)]
    Refused(#[from] TransitionRefused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no data directory given and the OS has none; use --data-dir or GUARDIA_DATA_DIR")]
    NoDataDir,
    #[error("cannot write the output: {0}")]
    Io(#[source] std::io::Error),
    #[error("cannot tell who is operating this console: set USER (or LOGNAME / USERNAME)")]
    UnknownOperator,
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Invalid(_) | ApiError::BadTaskId(_) => ErrorCode::InvalidInput,
            ApiError::NotFound(_) | ApiError::Store(StoreError::TaskNotFound(_)) => {
                ErrorCode::NotFound
            }
            ApiError::Refused(_) | ApiError::Store(StoreError::Conflict { .. }) => {
                ErrorCode::Conflict
            }
            ApiError::Store(_) | ApiError::DataDir { .. } | ApiError::NoDataDir => {
                ErrorCode::Storage
            }
            ApiError::UnknownOperator | ApiError::Io(_) => ErrorCode::Internal,
        }
    }
}

impl From<ApiError> for IpcError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Invalid(fields) => IpcError::invalid_fields(fields),
            other => IpcError::new(other.code(), other.to_string()),
        }
    }
}
