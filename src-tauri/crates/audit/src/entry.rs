//! The audit entry and its one canonical byte form.
//!
//! An entry is stored as the exact bytes that were hashed into the tree, and verification
//! only ever hashes those bytes: nothing is re-serialised, so a serde upgrade or a different
//! JSON library can never make an honest log look tampered (or the other way round).
//!
//! ```text
//! guardia.audit.v1\n{"index":7,"at":"2026-11-21T09:30:00.000000Z","kind":"task.created",
//!   "actor":"kim","subject":"task:OPS-20261121-001","result":"ok","payload":{…}}
//! ```
//! (one line after the prefix; wrapped here). The top-level fields come in exactly that
//! order; objects inside `payload` have their keys sorted by bytes; no whitespace; numbers
//! are integers only (floats have no single canonical spelling). `index` comes first so a
//! verifier can check an entry's position without parsing the rest.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The first bytes of every entry: the format and its version.
pub const ENTRY_PREFIX: &[u8] = b"guardia.audit.v1\n";
const INDEX_FIELD: &[u8] = b"{\"index\":";

/// What happened. New kinds are added as the product grows; codes never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    #[serde(rename = "task.created")]
    TaskCreated,
    #[serde(rename = "task.transitioned")]
    TaskTransitioned,
    #[serde(rename = "approval.granted")]
    ApprovalGranted,
    #[serde(rename = "approval.rejected")]
    ApprovalRejected,
    #[serde(rename = "package.imported")]
    PackageImported,
    #[serde(rename = "ssh.command.intent")]
    SshCommandIntent,
    #[serde(rename = "ssh.command.result")]
    SshCommandResult,
    #[serde(rename = "ssh.command.refused")]
    SshCommandRefused,
    #[serde(rename = "ssh.check")]
    SshCheck,
    #[serde(rename = "inventory.imported")]
    InventoryImported,
    #[serde(rename = "inventory.server.saved")]
    ServerSaved,
    #[serde(rename = "inventory.server.deleted")]
    ServerDeleted,
    #[serde(rename = "hostkey.trusted")]
    HostKeyTrusted,
    #[serde(rename = "hostkey.forgotten")]
    HostKeyForgotten,
    #[serde(rename = "hostkey.refused")]
    HostKeyRefused,
    #[serde(rename = "inventory.system.command_mode")]
    CommandModeChanged,
    #[serde(rename = "inventory.server.legacy_crypto")]
    LegacyCryptoChanged,
    #[serde(rename = "credential.set")]
    CredentialSet,
    #[serde(rename = "credential.deleted")]
    CredentialDeleted,
    #[serde(rename = "bundle.exported")]
    BundleExported,
    #[serde(rename = "bundle.imported")]
    BundleImported,
    #[serde(rename = "rollout.step")]
    RolloutStep,
    #[serde(rename = "killswitch.pressed")]
    KillswitchPressed,
    #[serde(rename = "audit.checkpoint")]
    AuditCheckpoint,
    #[serde(rename = "audit.checkpoint.exported")]
    AuditCheckpointExported,
    #[serde(rename = "audit.checkpoint.imported")]
    AuditCheckpointImported,
    #[serde(rename = "audit.verified")]
    AuditVerified,
    #[serde(rename = "audit.failure.acknowledged")]
    AuditFailureAcknowledged,
    #[serde(rename = "audit.report.exported")]
    AuditReportExported,
    #[serde(rename = "console.started")]
    ConsoleStarted,
    #[serde(rename = "console.stopped")]
    ConsoleStopped,
    #[serde(rename = "person.added")]
    PersonAdded,
    #[serde(rename = "person.roles")]
    PersonRolesChanged,
    #[serde(rename = "person.locked")]
    PersonLocked,
    #[serde(rename = "person.unlocked")]
    PersonUnlocked,
    #[serde(rename = "person.password")]
    PersonPasswordChanged,
    #[serde(rename = "signin.succeeded")]
    SignedIn,
    #[serde(rename = "signin.failed")]
    SignInFailed,
    #[serde(rename = "signin.locked_out")]
    SignInLockedOut,
    #[serde(rename = "session.locked")]
    SessionLocked,
    #[serde(rename = "session.signed_out")]
    SignedOut,
    #[serde(rename = "approval.submitted")]
    ApprovalSubmitted,
    #[serde(rename = "approval.returned")]
    ApprovalReturned,
    #[serde(rename = "approval.escalated")]
    ApprovalEscalated,
    #[serde(rename = "approval.security_check")]
    ApprovalSecurityCheck,
    #[serde(rename = "governance.system")]
    GovernanceSystemChanged,
    #[serde(rename = "governance.policy")]
    GovernancePolicyChanged,
    #[serde(rename = "inventory.bulk_edit")]
    InventoryBulkEdited,
    #[serde(rename = "package.refused")]
    PackageRefused,
    #[serde(rename = "review.commented")]
    ReviewCommented,
    #[serde(rename = "review.decided")]
    ReviewDecided,
    #[serde(rename = "outbox.written")]
    OutboxWritten,
    #[serde(rename = "rollout.started")]
    RolloutStarted,
    #[serde(rename = "rollout.state")]
    RolloutStateChanged,
    #[serde(rename = "rollout.site")]
    RolloutSite,
    #[serde(rename = "killswitch.rearmed")]
    KillswitchRearmed,
    #[serde(rename = "incident.opened")]
    IncidentOpened,
    #[serde(rename = "incident.acknowledged")]
    IncidentAcknowledged,
    #[serde(rename = "incident.classified")]
    IncidentClassified,
    #[serde(rename = "incident.role")]
    IncidentRole,
    #[serde(rename = "incident.stage")]
    IncidentStage,
    #[serde(rename = "incident.update")]
    IncidentUpdate,
    #[serde(rename = "incident.escalated")]
    IncidentEscalated,
    #[serde(rename = "incident.escalation.acknowledged")]
    IncidentEscalationAcknowledged,
    #[serde(rename = "incident.breached")]
    IncidentBreached,
    #[serde(rename = "incident.checklist")]
    IncidentChecklist,
    #[serde(rename = "incident.report.submitted")]
    IncidentReportSubmitted,
    #[serde(rename = "incident.postmortem")]
    IncidentPostmortem,
    #[serde(rename = "incident.settings")]
    IncidentSettings,
    #[serde(rename = "incident.exported")]
    IncidentExported,
}

impl EntryKind {
    pub const ALL: [EntryKind; 70] = [
        Self::TaskCreated,
        Self::TaskTransitioned,
        Self::ApprovalGranted,
        Self::ApprovalRejected,
        Self::PackageImported,
        Self::SshCommandIntent,
        Self::SshCommandResult,
        Self::SshCommandRefused,
        Self::SshCheck,
        Self::InventoryImported,
        Self::ServerSaved,
        Self::ServerDeleted,
        Self::HostKeyTrusted,
        Self::HostKeyForgotten,
        Self::HostKeyRefused,
        Self::CommandModeChanged,
        Self::LegacyCryptoChanged,
        Self::CredentialSet,
        Self::CredentialDeleted,
        Self::BundleExported,
        Self::BundleImported,
        Self::RolloutStep,
        Self::KillswitchPressed,
        Self::AuditCheckpoint,
        Self::AuditCheckpointExported,
        Self::AuditCheckpointImported,
        Self::AuditVerified,
        Self::AuditFailureAcknowledged,
        Self::AuditReportExported,
        Self::ConsoleStarted,
        Self::ConsoleStopped,
        Self::PersonAdded,
        Self::PersonRolesChanged,
        Self::PersonLocked,
        Self::PersonUnlocked,
        Self::PersonPasswordChanged,
        Self::SignedIn,
        Self::SignInFailed,
        Self::SignInLockedOut,
        Self::SessionLocked,
        Self::SignedOut,
        Self::ApprovalSubmitted,
        Self::ApprovalReturned,
        Self::ApprovalEscalated,
        Self::ApprovalSecurityCheck,
        Self::GovernanceSystemChanged,
        Self::GovernancePolicyChanged,
        Self::InventoryBulkEdited,
        Self::PackageRefused,
        Self::ReviewCommented,
        Self::ReviewDecided,
        Self::OutboxWritten,
        Self::RolloutStarted,
        Self::RolloutStateChanged,
        Self::RolloutSite,
        Self::KillswitchRearmed,
        Self::IncidentOpened,
        Self::IncidentAcknowledged,
        Self::IncidentClassified,
        Self::IncidentRole,
        Self::IncidentStage,
        Self::IncidentUpdate,
        Self::IncidentEscalated,
        Self::IncidentEscalationAcknowledged,
        Self::IncidentBreached,
        Self::IncidentChecklist,
        Self::IncidentReportSubmitted,
        Self::IncidentPostmortem,
        Self::IncidentSettings,
        Self::IncidentExported,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::TaskCreated => "task.created",
            Self::TaskTransitioned => "task.transitioned",
            Self::ApprovalGranted => "approval.granted",
            Self::ApprovalRejected => "approval.rejected",
            Self::PackageImported => "package.imported",
            Self::SshCommandIntent => "ssh.command.intent",
            Self::SshCommandResult => "ssh.command.result",
            Self::SshCommandRefused => "ssh.command.refused",
            Self::SshCheck => "ssh.check",
            Self::InventoryImported => "inventory.imported",
            Self::ServerSaved => "inventory.server.saved",
            Self::ServerDeleted => "inventory.server.deleted",
            Self::HostKeyTrusted => "hostkey.trusted",
            Self::HostKeyForgotten => "hostkey.forgotten",
            Self::HostKeyRefused => "hostkey.refused",
            Self::CommandModeChanged => "inventory.system.command_mode",
            Self::LegacyCryptoChanged => "inventory.server.legacy_crypto",
            Self::CredentialSet => "credential.set",
            Self::CredentialDeleted => "credential.deleted",
            Self::BundleExported => "bundle.exported",
            Self::BundleImported => "bundle.imported",
            Self::RolloutStep => "rollout.step",
            Self::KillswitchPressed => "killswitch.pressed",
            Self::AuditCheckpoint => "audit.checkpoint",
            Self::AuditCheckpointExported => "audit.checkpoint.exported",
            Self::AuditCheckpointImported => "audit.checkpoint.imported",
            Self::AuditVerified => "audit.verified",
            Self::AuditFailureAcknowledged => "audit.failure.acknowledged",
            Self::AuditReportExported => "audit.report.exported",
            Self::ConsoleStarted => "console.started",
            Self::ConsoleStopped => "console.stopped",
            Self::PersonAdded => "person.added",
            Self::PersonRolesChanged => "person.roles",
            Self::PersonLocked => "person.locked",
            Self::PersonUnlocked => "person.unlocked",
            Self::PersonPasswordChanged => "person.password",
            Self::SignedIn => "signin.succeeded",
            Self::SignInFailed => "signin.failed",
            Self::SignInLockedOut => "signin.locked_out",
            Self::SessionLocked => "session.locked",
            Self::SignedOut => "session.signed_out",
            Self::ApprovalSubmitted => "approval.submitted",
            Self::ApprovalReturned => "approval.returned",
            Self::ApprovalEscalated => "approval.escalated",
            Self::ApprovalSecurityCheck => "approval.security_check",
            Self::GovernanceSystemChanged => "governance.system",
            Self::GovernancePolicyChanged => "governance.policy",
            Self::InventoryBulkEdited => "inventory.bulk_edit",
            Self::PackageRefused => "package.refused",
            Self::ReviewCommented => "review.commented",
            Self::ReviewDecided => "review.decided",
            Self::OutboxWritten => "outbox.written",
            Self::RolloutStarted => "rollout.started",
            Self::RolloutStateChanged => "rollout.state",
            Self::RolloutSite => "rollout.site",
            Self::KillswitchRearmed => "killswitch.rearmed",
            Self::IncidentOpened => "incident.opened",
            Self::IncidentAcknowledged => "incident.acknowledged",
            Self::IncidentClassified => "incident.classified",
            Self::IncidentRole => "incident.role",
            Self::IncidentStage => "incident.stage",
            Self::IncidentUpdate => "incident.update",
            Self::IncidentEscalated => "incident.escalated",
            Self::IncidentEscalationAcknowledged => "incident.escalation.acknowledged",
            Self::IncidentBreached => "incident.breached",
            Self::IncidentChecklist => "incident.checklist",
            Self::IncidentReportSubmitted => "incident.report.submitted",
            Self::IncidentPostmortem => "incident.postmortem",
            Self::IncidentSettings => "incident.settings",
            Self::IncidentExported => "incident.exported",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How the recorded action ended. `Unknown` is its own answer: a command whose connection
/// dropped did not succeed as far as anyone can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    Refused,
    Unknown,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Refused => "refused",
            Self::Unknown => "unknown",
        }
    }
}

/// An entry before the log gives it its index.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryDraft {
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// Who: a person's name, or `guardia` for what the console does by itself.
    pub actor: String,
    /// Where / on what: `task:OPS-20261121-001`, `server:web-01`, `audit:log`, …
    pub subject: String,
    pub outcome: Outcome,
    /// Details. Large or sensitive outputs go in as [`sha256_hex`] digests, never in full.
    pub payload: Map<String, Value>,
}

impl EntryDraft {
    pub fn new(
        at: DateTime<Utc>,
        kind: EntryKind,
        actor: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            at,
            kind,
            actor: actor.into(),
            subject: subject.into(),
            outcome: Outcome::Ok,
            payload: Map::new(),
        }
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Adds a payload field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.payload.insert(key.to_owned(), value.into());
        self
    }

    /// Adds the SHA-256 and length of `content` instead of the content itself, for outputs
    /// that are large or may carry secrets (`<key>_sha256`, `<key>_bytes`).
    pub fn with_digest(self, key: &str, content: &[u8]) -> Self {
        let length = content.len() as u64;
        self.with(&format!("{key}_sha256"), sha256_hex(content))
            .with(&format!("{key}_bytes"), length)
    }

    /// The canonical bytes of this draft as entry `index` of the log.
    pub fn encode(&self, index: u64) -> Result<Vec<u8>, EntryError> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(ENTRY_PREFIX);
        out.extend_from_slice(INDEX_FIELD);
        out.extend_from_slice(index.to_string().as_bytes());
        out.extend_from_slice(b",\"at\":");
        write_string(&mut out, &format_time(self.at))?;
        out.extend_from_slice(b",\"kind\":");
        write_string(&mut out, self.kind.code())?;
        out.extend_from_slice(b",\"actor\":");
        write_string(&mut out, &self.actor)?;
        out.extend_from_slice(b",\"subject\":");
        write_string(&mut out, &self.subject)?;
        out.extend_from_slice(b",\"result\":");
        write_string(&mut out, self.outcome.code())?;
        out.extend_from_slice(b",\"payload\":");
        write_object(&mut out, &self.payload, "payload")?;
        out.push(b'}');
        Ok(out)
    }
}

/// An entry read back from its bytes, for display and reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub index: u64,
    pub at: DateTime<Utc>,
    /// The kind's code; kept as text so entries written by a newer console still display.
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub result: String,
    pub payload: Map<String, Value>,
}

impl Entry {
    /// Parses entry bytes. This is for showing entries; verification never needs it.
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        let json = bytes
            .strip_prefix(ENTRY_PREFIX)
            .ok_or(EntryError::UnknownFormat)?;
        serde_json::from_slice(json).map_err(|e| EntryError::Malformed(e.to_string()))
    }
}

/// The index an entry says it has, read from its fixed-position first field. `None` if the
/// bytes are not a version-1 entry.
pub fn claimed_index(bytes: &[u8]) -> Option<u64> {
    let rest = bytes
        .strip_prefix(ENTRY_PREFIX)?
        .strip_prefix(INDEX_FIELD)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 20 || rest.get(digits) != Some(&b',') {
        return None;
    }
    // Canonical spelling only: "07" is not 7.
    if digits > 1 && rest[0] == b'0' {
        return None;
    }
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Lower-case hex SHA-256 of `content`.
pub fn sha256_hex(content: &[u8]) -> String {
    hex_lower(&Sha256::digest(content))
}

/// Lower-case hex of `bytes`.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Microsecond RFC 3339 in UTC with a `Z`, the one spelling entries use.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Why an entry could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("{0} holds a fractional number; audit payloads use integers or text")]
    Float(String),
    #[error("the bytes are not a guardia.audit.v1 entry")]
    UnknownFormat,
    #[error("the entry is not valid JSON: {0}")]
    Malformed(String),
}

fn write_string(out: &mut Vec<u8>, text: &str) -> Result<(), EntryError> {
    // serde_json's string escaping is fixed: `"`, `\` and control characters escaped, all
    // other characters as raw UTF-8.
    serde_json::to_writer(&mut *out, text).map_err(|e| EntryError::Malformed(e.to_string()))
}

fn write_object(
    out: &mut Vec<u8>,
    object: &Map<String, Value>,
    path: &str,
) -> Result<(), EntryError> {
    // Sorted here rather than relying on serde_json's map order, which a feature flag
    // anywhere in the build (preserve_order) would silently change.
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort();
    out.push(b'{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, key)?;
        out.push(b':');
        if let Some(value) = object.get(key) {
            write_value(out, value, &format!("{path}.{key}"))?;
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_value(out: &mut Vec<u8>, value: &Value, path: &str) -> Result<(), EntryError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            if let Some(n) = number.as_i64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else if let Some(n) = number.as_u64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else {
                return Err(EntryError::Float(path.to_owned()));
            }
        }
        Value::String(text) => write_string(out, text)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, &format!("{path}[{i}]"))?;
            }
            out.push(b']');
        }
        Value::Object(object) => write_object(out, object, path)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn draft() -> EntryDraft {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 0).unwrap();
        EntryDraft::new(at, EntryKind::TaskCreated, "kim", "task:OPS-20261121-001")
            .with("title", "Restart \"hr\" portal")
            .with("category", "DEPLOY")
            .with("attempt", 2)
            .with(
                "nested",
                serde_json::json!({"b": [1, null, true], "a": "x"}),
            )
    }

    /// Golden: the leaf format is a contract with auditors' scripts; any change to these
    /// bytes is a new format version, never an edit.
    #[test]
    fn encoding_is_pinned_byte_for_byte() {
        let bytes = draft().encode(7).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "guardia.audit.v1\n{\"index\":7,\"at\":\"2026-11-21T09:30:00.000000Z\",\
             \"kind\":\"task.created\",\"actor\":\"kim\",\"subject\":\"task:OPS-20261121-001\",\
             \"result\":\"ok\",\"payload\":{\"attempt\":2,\"category\":\"DEPLOY\",\
             \"nested\":{\"a\":\"x\",\"b\":[1,null,true]},\"title\":\"Restart \\\"hr\\\" portal\"}}"
        );
        assert_eq!(
            hex_lower(&crate::leaf_hash(&bytes)),
            "92589c8b8309c50f6c8c347d7527c3af49d7518205c7fa9eba3db4a193278dbd",
        );
    }

    #[test]
    fn decoding_gives_back_the_fields() {
        let entry = Entry::decode(&draft().encode(7).unwrap()).unwrap();
        assert_eq!(entry.index, 7);
        assert_eq!(entry.kind, "task.created");
        assert_eq!(entry.payload["attempt"], 2);
    }

    #[test]
    fn floats_are_refused_because_they_have_no_canonical_spelling() {
        let err = draft().with("ratio", 0.5).encode(1).unwrap_err();
        assert_eq!(err, EntryError::Float("payload.ratio".into()));
    }

    #[test]
    fn the_claimed_index_is_read_without_parsing() {
        assert_eq!(claimed_index(&draft().encode(0).unwrap()), Some(0));
        assert_eq!(
            claimed_index(&draft().encode(1234567).unwrap()),
            Some(1234567)
        );
        assert_eq!(claimed_index(b"guardia.audit.v1\n{\"index\":07,"), None);
        assert_eq!(claimed_index(b"guardia.audit.v2\n{\"index\":7,"), None);
        assert_eq!(claimed_index(b"guardia.audit.v1\n{\"index\":,"), None);
    }

    #[test]
    fn digests_replace_outputs() {
        let entry = draft().with_digest("stdout", b"password=hunter2\n");
        let bytes = entry.encode(3).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains("hunter2"));
        assert!(text.contains(&sha256_hex(b"password=hunter2\n")));
        assert!(text.contains("\"stdout_bytes\":17"));
    }

    #[test]
    fn every_kind_round_trips_through_its_code() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::from_code(kind.code()), Some(kind));
        }
    }
}
