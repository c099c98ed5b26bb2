//! Inventory, credentials, host keys and SSH checks as the UI and CLI see them.
//! No type here can carry a secret to the webview: credentials travel *into* the backend in
//! [`CredentialInput`] only, and come back as [`CredentialView`] (exists / kind / when).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use guardia_domain::inventory::{CommandMode, ServerDraft, ServerRecord};

/// A server with its pin and credential status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerView {
    pub record: ServerRecord,
    pub host_key: Option<HostKeyView>,
    /// Whether the named credential exists (in the database and the keyring).
    pub credential_present: bool,
    pub updated_at: DateTime<Utc>,
    /// Its system's mode: `playbook_only` refuses every ad-hoc command.
    #[serde(default)]
    pub command_mode: CommandMode,
    /// The admin's reason for offering this server SHA-1-era algorithms (`None`: modern only).
    #[serde(default)]
    pub legacy_crypto: Option<String>,
    /// What the last check that logged in found (algorithms, whether a stop is guaranteed).
    #[serde(default)]
    pub ssh_seen: Option<SshSeenView>,
}

/// What a login to a server found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshSeenView {
    /// `kex …, host key …, cipher …, mac …`
    pub algorithms: String,
    /// Whether a stop (timeout, Cancel, the kill switch) reaches every process a command
    /// starts there; when not, `stop_detail` says why ("remote stop not guaranteed").
    pub stop_guaranteed: bool,
    pub stop_detail: String,
    pub at: DateTime<Utc>,
}

/// An admin opts one server in to (or out of) legacy SSH algorithms, with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyCryptoChange {
    pub server: String,
    pub on: bool,
    pub reason: String,
}

/// An admin sets which commands a system's servers accept (audited, with the reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandModeChange {
    pub institution: String,
    pub system: String,
    pub mode: CommandMode,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostKeyView {
    pub algorithm: String,
    pub fingerprint: String,
    pub trusted_by: String,
    pub trusted_at: DateTime<Utc>,
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerQuery {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub tier: Option<u8>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl ServerQuery {
    /// The most servers one list returns; exports have no limit.
    pub const MAX_LIMIT: u32 = 50_000;
}

/// Which file format an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryFormat {
    Csv,
    AnsibleIni,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryFile {
    pub format: InventoryFormat,
    pub text: String,
    /// For Ansible: what the file does not say.
    #[serde(default)]
    pub institution: String,
    #[serde(default)]
    pub system: String,
    #[serde(default)]
    pub default_user: String,
    /// For Ansible: the credential of every host no `guardia_credential` names (its kind
    /// becomes the login method); empty for none.
    #[serde(default)]
    pub credential: String,
    /// For Ansible: host variables read as inventory columns, `variable=column`
    /// (e.g. `app_dir=app_path`).
    #[serde(default)]
    pub map: Vec<String>,
}

/// One change over many servers: those matching `filter` (or named in `servers`), each
/// given field set. Applied in one transaction and audited as one entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BulkEdit {
    #[serde(default)]
    pub filter: ServerQuery,
    /// Explicit server names; with a filter too, a server must match both.
    #[serde(default)]
    pub servers: Vec<String>,
    #[serde(default)]
    pub credential: Option<String>,
    #[serde(default)]
    pub tier: Option<u8>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// Whether to change nothing and only say what would change.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub pins_dropped: u32,
    /// Every existing server that changed, with the columns that did (a site's new tier
    /// changes servers the file does not name).
    #[serde(default)]
    pub changes: Vec<ServerChangeView>,
    /// Ignored on the way (unknown Ansible variables, passwords left out).
    pub warnings: Vec<String>,
}

/// The columns of one server an import changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerChangeView {
    pub server: String,
    pub fields: Vec<String>,
}

/// Secret material going into the keyring. It travels only inward (window → backend): no
/// command returns it, and its `Debug` is redacted.
#[derive(Clone, Serialize, Deserialize)]
pub struct CredentialInput {
    pub name: String,
    pub kind: CredentialKindView,
    /// The password, the OpenSSH private key text, or the TLS private key (PEM).
    pub secret: String,
    #[serde(default)]
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for CredentialInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialInput")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKindView {
    Password,
    Key,
    /// A TLS private key (PEM), for certificate rollouts; never used to log in.
    TlsKey,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialView {
    pub name: String,
    pub kind: CredentialKindView,
    pub has_passphrase: bool,
    /// Whether the keyring actually holds it (the database only says it should).
    pub in_keyring: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// How many servers use it.
    pub servers: u32,
}

/// The key a server presents, for a person to compare before trusting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentedHostKey {
    pub server: String,
    pub algorithm: String,
    pub fingerprint: String,
    /// The pinned fingerprint, when the server presents a *different* key.
    pub pinned_fingerprint: Option<String>,
}

/// Trust `fingerprint` for `server` — refused unless the server presents exactly that key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustHostKey {
    pub server: String,
    pub fingerprint: String,
}

/// How one ad-hoc check step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    Pass,
    Fail,
    /// Could not be decided (e.g. a timeout after the command was sent).
    Unknown,
    /// Not run, because an earlier step failed or nothing is configured.
    Skipped,
    /// Stopped on request before it could decide (Cancel, or the kill switch).
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStep {
    /// `reachable`, `host_key`, `authenticated`, `remote_stop`, `health_tcp`, `health_http`,
    /// `health_process`, `health_log`.
    pub name: String,
    pub state: CheckState,
    pub detail: String,
    pub millis: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub server: String,
    pub steps: Vec<CheckStep>,
    pub audit_index: u64,
    /// The algorithms negotiated, when the check logged in.
    #[serde(default)]
    pub algorithms: Option<String>,
    /// Those of them that only a `legacy_crypto` server is offered.
    #[serde(default)]
    pub legacy_algorithms: Vec<String>,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s.state, CheckState::Pass | CheckState::Skipped))
    }
}

/// An ad-hoc command on one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCommand {
    pub server: String,
    pub command: String,
    #[serde(default)]
    pub timeout_secs: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandOutcome {
    Ok,
    Failed,
    /// Sent, but how it ended is not known (timeout, lost connection, cancel).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReport {
    pub server: String,
    pub outcome: CommandOutcome,
    pub exit_code: Option<u32>,
    /// The signal that ended the remote process, when one did (`TERM`, `KILL`, …).
    #[serde(default)]
    pub exit_signal: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
    pub millis: u64,
    pub error: Option<String>,
    /// For a command stopped by its timeout or a cancel: whether its remote process group
    /// was confirmed gone (`false`: it may still be running).
    #[serde(default)]
    pub remote_stopped: Option<bool>,
    /// Why the stop is not confirmed or not guaranteed on this server, when it is not.
    #[serde(default)]
    pub stop_note: Option<String>,
    pub audit_index: u64,
}

/// Names one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRef {
    pub name: String,
}

/// Creates or edits a server; `previous` is its name before a rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSave {
    pub draft: ServerDraft,
    #[serde(default)]
    pub previous: Option<String>,
}

/// Names one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRef {
    pub name: String,
}
