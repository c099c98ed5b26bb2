//! Audit screen data: the activity list, the integrity panel, checkpoints and reports.
//! Plain serde types (no dependency on guardia-audit, which the wasm UI does not need).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A filter for the activity list. Empty fields do not filter; paging is by index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// Only entries older than this index (pass the previous page's `next_before`).
    pub before: Option<u64>,
    /// A kind (`task.created`) or a family ending in `.` (`task.`).
    pub kind: String,
    pub actor: String,
    /// A subject (`task:OPS-20261121-001`) or a family ending in `:` (`server:`).
    pub subject: String,
    /// `ok`, `failed`, `refused` or `unknown`.
    pub result: String,
    /// Anywhere in the entry's text.
    pub text: String,
    pub limit: Option<u32>,
}

/// One row of the activity list: who, when, what, where, result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub index: u64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub result: String,
    /// The payload as `key=value` pairs.
    pub details: String,
    /// Hex SHA-256 leaf hash of the entry's bytes.
    pub leaf: String,
}

/// A page of the activity list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; `None` at the end.
    pub next_before: Option<u64>,
    /// Entries in the whole log.
    pub total: u64,
}

/// A signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointView {
    pub size: u64,
    /// `every-256`, `periodic`, `shutdown`, `on-demand`, `approval`, `rollout-phase`.
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub exported_at: Option<DateTime<Utc>>,
    /// The signed note, exactly as stored.
    pub note: String,
}

/// A verification run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationView {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `manual`, `daily` or `startup`.
    pub trigger: String,
    pub actor: String,
    pub ok: bool,
    pub entries: u64,
    pub checkpoints: u64,
    pub first_bad: Option<u64>,
    pub problem_code: Option<String>,
    pub problem: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledgement: Option<String>,
}

/// A verification in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyProgress {
    pub running: bool,
    pub done: u64,
    pub total: u64,
}

/// Everything the integrity panel shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditStatus {
    /// The log's name, the first line of its checkpoints.
    pub origin: String,
    /// The public key that signs checkpoints (`name+id+key`), when the keyring answers.
    pub verifier_key: Option<String>,
    /// Why checkpoints cannot be signed right now, if they cannot.
    pub key_problem: Option<String>,
    pub entries: u64,
    pub last_checkpoint: Option<CheckpointView>,
    /// Entries written since the newest checkpoint that was copied off the machine.
    pub entries_since_export: u64,
    pub external_checkpoints: u64,
    pub last_verification: Option<VerificationView>,
    pub progress: VerifyProgress,
    /// A failed verification nobody has acknowledged: rollouts are refused.
    pub rollouts_blocked: bool,
    /// The daily verification is due.
    pub verification_due: bool,
}

/// How to export the latest checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointFormat {
    /// The signed note as a text file.
    Text,
    /// A QR code (SVG) of the signed note.
    Qr,
    /// A printable HTML page: the note, its QR code and the verifier key.
    Print,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointExport {
    pub format: CheckpointFormat,
}

/// A file the backend wrote into the exports folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    pub path: String,
    /// What was written, for showing at once (text, SVG or HTML).
    pub content: String,
}

/// A checkpoint kept elsewhere, pasted or read from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointImport {
    pub note: String,
    /// Where it came from, e.g. the file name or "printed copy, safe B".
    pub label: String,
}

/// An admin's acknowledgement of a failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// What was found and what is being done about it.
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// The activity list as CSV.
    ActivityCsv,
    /// The printable integrity report (HTML).
    IntegrityHtml,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportExport {
    pub kind: ReportKind,
    #[serde(default)]
    pub query: AuditQuery,
}
