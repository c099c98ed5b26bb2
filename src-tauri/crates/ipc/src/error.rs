//! The one error type that crosses IPC.

use std::fmt;

use guardia_domain::FieldError;
use serde::{Deserialize, Serialize};

/// What kind of failure this is. The UI picks its text and behaviour from the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The input was refused; `fields` says which fields and why. Nothing was changed.
    InvalidInput,
    /// The thing asked for does not exist.
    NotFound,
    /// The state changed underneath the request (another console acted first). Nothing was
    /// changed; reload and retry.
    Conflict,
    /// The database could not be read or written. The outcome of a write is unknown until
    /// the data is reloaded.
    Storage,
    /// The OS keyring is unreachable, or does not hold the key this log is signed with.
    /// Nothing was signed; fix the keyring and retry.
    Keyring,
    /// The audit log failed verification and nobody has acknowledged it yet: the action
    /// (e.g. a rollout) is refused until an admin does.
    IntegrityBlocked,
    /// A remote step failed: unreachable, refused host key, authentication, timeout.
    Ssh,
    /// A command was refused by the denylist. Nothing was sent.
    CommandRefused,
    /// The message did not follow the IPC contract (set by the UI's client when the backend's
    /// answer is not an `IpcError`, e.g. Tauri refused the call before our code ran).
    Protocol,
    /// The caller's roles do not grant what the command requires. Nothing was changed.
    Forbidden,
    /// Sign-in was refused (unknown name or wrong password — never said which — a lockout
    /// after repeated failures, or an admin's lock), or the session has ended.
    SignIn,
    /// Stopped on request (Cancel, or the kill switch) before it finished.
    Cancelled,
    /// The runtime is stopping or automation is locked: nothing new starts.
    Stopped,
    /// A result package was refused (the message names the file and the reason code).
    /// Nothing was stored but the refusal's audit entry.
    PackageRefused,
    /// A bug: something that should not happen did.
    Internal,
}

/// An error as the UI receives it: `{code, message}`, plus per-field problems for forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct IpcError {
    pub code: ErrorCode,
    /// English, for logs and the details line; the UI shows its own text for `code`.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Refused input, with every field problem found.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            code: ErrorCode::InvalidInput,
            message,
            fields,
        }
    }
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardia_domain::{Field, Problem};

    #[test]
    fn crosses_as_code_and_message() {
        let error = IpcError::new(ErrorCode::NotFound, "no task OPS-20261121-009");
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"code": "NOT_FOUND", "message": "no task OPS-20261121-009"})
        );
    }

    #[test]
    fn invalid_fields_lists_each_problem_in_the_message() {
        let error = IpcError::invalid_fields(vec![
            FieldError {
                field: Field::Title,
                problem: Problem::Required,
            },
            FieldError {
                field: Field::System,
                problem: Problem::TooLong { max: 80 },
            },
        ]);
        assert_eq!(
            error.message,
            "title is required; system is longer than 80 characters"
        );
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "INVALID_INPUT");
        assert_eq!(json["fields"][1]["max"], 80);
        assert_eq!(serde_json::from_value::<IpcError>(json).unwrap(), error);
    }
}
