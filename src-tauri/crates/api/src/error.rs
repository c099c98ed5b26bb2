use std::path::PathBuf;

use guardia_audit::NoteError;
use guardia_domain::{FieldError, TransitionRefused};
use guardia_ipc::{ErrorCode, IpcError};
use guardia_secrets::SecretError;
use guardia_store::StoreError;

/// Why an operation failed, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{}", IpcError::invalid_fields(.0.clone()).message)]
    Invalid(Vec<FieldError>),
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
    #[error(transparent)]
    Keyring(#[from] SecretError),
    #[error(
        "the audit signing key {name} is missing from the OS keyring, but this log was signed \
         with {recorded}; restore the keyring (GUARDiA will not silently start a new key)"
    )]
    KeyMissing { name: String, recorded: String },
    #[error("the OS keyring holds audit key {keyring}, but this log was signed with {recorded}")]
    KeyMismatch { recorded: String, keyring: String },
    #[error("the keyring entry {0} is not an audit signing key")]
    KeyMalformed(String),
    #[error("the checkpoint was refused: {0}")]
    BadCheckpoint(#[source] NoteError),
    #[error("no valid checkpoint covers entry {0} yet; sign one first (guardia audit checkpoint)")]
    NoCheckpointCovers(u64),
    #[error(
        "the inclusion proof of entry {index} in {size} does not verify: {reason}; run `guardia audit verify`"
    )]
    ProofFailed {
        index: u64,
        size: u64,
        reason: String,
    },
    #[error(
        "refused: the audit log failed verification ({problem}) and no admin has acknowledged it"
    )]
    IntegrityBlocked { problem: String },
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    ImportRejected(String),
    #[error("there is no server named `{0}`")]
    NoSuchServer(String),
    #[error(transparent)]
    Ssh(guardia_ssh::SshError),
    #[error(transparent)]
    CommandRefused(guardia_domain::command::Refusal),
    #[error(
        "{server}: the server now presents {presented}, not the approved {approved}; nothing was pinned"
    )]
    FingerprintMismatch {
        server: String,
        approved: String,
        presented: String,
    },
    #[error(transparent)]
    Bundle(#[from] guardia_secrets::bundle::BundleError),
    #[error("{person} may not do this: it needs the `{permission}` permission")]
    Forbidden {
        person: String,
        permission: crate::Permission,
    },
    #[error("stopped on request before it finished")]
    Cancelled,
    #[error(transparent)]
    JobRefused(#[from] guardia_engine::JobRefused),
    #[error(transparent)]
    Task(#[from] crate::TaskError),
    #[error(transparent)]
    People(#[from] crate::PeopleError),
    #[error(transparent)]
    Approval(#[from] crate::ApprovalError),
    #[error(transparent)]
    Review(#[from] crate::ReviewError),
    /// A file given as input cannot be used (missing, unreadable, not what it should be).
    #[error("{path}: {reason}")]
    BadFile { path: String, reason: String },
    /// An import would overwrite existing servers or credentials and was not told to.
    #[error("{0}")]
    WouldReplace(String),
    #[error("there is no incident `{0}`")]
    NoSuchIncident(String),
    /// The incident's rules refuse the change (closed, wrong stage, already done).
    #[error("{0}")]
    IncidentRefused(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The process exit code a command line reports this error with: 2 for input that
    /// cannot be used (a usage error), 3 when the work could not be done at all (no keyring,
    /// no database), 1 otherwise. 1 is also "the answer is no" (tampered, check failed).
    pub fn exit_code(&self) -> u8 {
        match self {
            ApiError::BadFile { .. } | ApiError::BadCheckpoint(_) => 2,
            _ => match self.code() {
                ErrorCode::Keyring | ErrorCode::Storage => 3,
                _ => 1,
            },
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Invalid(_) => ErrorCode::InvalidInput,
            ApiError::Store(
                StoreError::TaskNotFound(_)
                | StoreError::ServerNotFound(_)
                | StoreError::SystemNotFound(_)
                | StoreError::CredentialNotFound(_)
                | StoreError::PersonNotFound(_),
            ) => ErrorCode::NotFound,
            ApiError::Refused(_)
            | ApiError::WouldReplace(_)
            | ApiError::Store(
                StoreError::Conflict { .. }
                | StoreError::ServerExists(_)
                | StoreError::ServerCaseClash { .. }
                | StoreError::PersonExists(_)
                | StoreError::Busy(_)
                | StoreError::AuditRace
                | StoreError::IncidentChanged(_),
            ) => ErrorCode::Conflict,
            ApiError::Store(_) | ApiError::DataDir { .. } | ApiError::NoDataDir => {
                ErrorCode::Storage
            }
            ApiError::Keyring(_)
            | ApiError::KeyMissing { .. }
            | ApiError::KeyMismatch { .. }
            | ApiError::KeyMalformed(_) => ErrorCode::Keyring,
            ApiError::BadCheckpoint(_)
            | ApiError::BadFile { .. }
            | ApiError::InvalidRequest(_)
            | ApiError::ImportRejected(_)
            | ApiError::Bundle(_) => ErrorCode::InvalidInput,
            ApiError::NoSuchServer(_) | ApiError::NoSuchIncident(_) => ErrorCode::NotFound,
            ApiError::IncidentRefused(_) => ErrorCode::Conflict,
            ApiError::Ssh(_) | ApiError::FingerprintMismatch { .. } => ErrorCode::Ssh,
            ApiError::CommandRefused(_) => ErrorCode::CommandRefused,
            ApiError::NoCheckpointCovers(_) => ErrorCode::NotFound,
            ApiError::JobRefused(guardia_engine::JobRefused::AlreadyRunning(_)) => {
                ErrorCode::Conflict
            }
            ApiError::JobRefused(
                guardia_engine::JobRefused::Stopped | guardia_engine::JobRefused::Locked,
            ) => ErrorCode::Stopped,
            ApiError::Forbidden { .. } => ErrorCode::Forbidden,
            ApiError::Task(task) => task.code(),
            ApiError::People(people) => people.code(),
            ApiError::Approval(approval) => approval.code(),
            ApiError::Review(review) => review.code(),
            ApiError::Cancelled => ErrorCode::Cancelled,
            ApiError::IntegrityBlocked { .. } => ErrorCode::IntegrityBlocked,
            ApiError::ProofFailed { .. } => ErrorCode::Storage,
            ApiError::UnknownOperator | ApiError::Io(_) | ApiError::Internal(_) => {
                ErrorCode::Internal
            }
        }
    }
}

impl From<ApiError> for IpcError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Invalid(fields) => IpcError::invalid_fields(fields),
            ApiError::Task(task) => task.into(),
            other => IpcError::new(other.code(), other.to_string()),
        }
    }
}
