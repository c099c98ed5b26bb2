//! The inventory's storage interface: servers with their hierarchy, pinned host keys, and
//! credential references (never the secrets).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_domain::inventory::{CommandMode, ImportRow, ServerRecord, Tier};
use serde::Serialize;

use crate::{AuditFor, StoreError};

/// A server as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredServer {
    pub record: ServerRecord,
    pub host_key: Option<PinnedHostKey>,
    pub updated_at: DateTime<Utc>,
    /// Its system's mode: whether ad-hoc commands may run at all.
    pub command_mode: CommandMode,
    /// The admin's reason for offering this server SHA-1-era algorithms; `None`: modern only.
    pub legacy_crypto: Option<String>,
    /// What the last check that logged in found.
    pub ssh_seen: Option<SshSeen>,
}

/// What a login to a server found: how it can be stopped, and with which algorithms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshSeen {
    pub algorithms: String,
    /// Whether a stop reaches every process a command starts there.
    pub stop_guaranteed: bool,
    /// How (`process group`, `setsid` …) or, when not guaranteed, why not.
    pub stop_detail: String,
    pub at: DateTime<Utc>,
}

/// Where a pin came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinSource {
    /// A person compared the fingerprint and approved it.
    Approved,
    /// Imported from an OpenSSH known_hosts file.
    KnownHosts,
    /// Written by `guardia lab up` for its own sites.
    Lab,
    /// Came with an encrypted hand-over bundle.
    Bundle,
}

impl PinSource {
    pub fn code(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::KnownHosts => "known_hosts",
            Self::Lab => "lab",
            Self::Bundle => "bundle",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        [Self::Approved, Self::KnownHosts, Self::Lab, Self::Bundle]
            .into_iter()
            .find(|p| p.code() == s)
    }
}

/// The host key a server must present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinnedHostKey {
    /// `ALGORITHM BASE64`.
    pub key: String,
    pub fingerprint: String,
    pub trusted_by: String,
    pub trusted_at: DateTime<Utc>,
    pub source: PinSource,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Pins removed because a server's address or port changed.
    pub pins_dropped: u32,
    /// Every server that changed, and which columns did — including servers the file does
    /// not name whose site changed tier.
    pub changes: Vec<ServerChange>,
}

/// The columns of one existing server an import changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerChange {
    pub server: String,
    pub fields: Vec<&'static str>,
}

/// Why a keyring entry is in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyringNote {
    /// Written ahead of a database commit that may not happen.
    Staged,
    /// Replaced or deleted by a commit: garbage once nothing references it.
    Retired,
}

impl KeyringNote {
    pub fn code(self) -> &'static str {
        match self {
            Self::Staged => "staged",
            Self::Retired => "retired",
        }
    }
}

/// A keyring account that may be garbage (see migrations/sqlite/0004).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub account: String,
    pub note: KeyringNote,
    /// The process that wrote a staged entry (it may still be about to commit).
    pub owner_pid: u32,
}

/// A sealed bundle's contents, imported in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct BundleRows<'a> {
    pub servers: &'a [ImportRow],
    pub credentials: &'a [CredentialMeta],
    pub pins: &'a [(String, PinnedHostKey)],
}

/// The audit entries of a bundle import: one for the inventory, one per credential, one
/// per pin.
pub struct BundleAudit<'a> {
    pub servers: AuditFor<'a, ImportOutcome>,
    pub credential: AuditFor<'a, CredentialMeta>,
    pub pin: AuditFor<'a, (String, PinnedHostKey)>,
}

/// Which servers to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFilter {
    /// Substring of server, address, site, system, institution or a tag.
    pub text: String,
    pub tier: Option<Tier>,
    pub limit: u32,
}

impl Default for ServerFilter {
    fn default() -> Self {
        Self {
            text: String::new(),
            tier: None,
            limit: Self::MAX_LIMIT,
        }
    }
}

impl ServerFilter {
    pub const MAX_LIMIT: u32 = 50_000;
}

/// What kind of secret a credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Password,
    Key,
    /// A TLS private key (PEM): installed by certificate rollouts, never used to log in.
    TlsKey,
}

impl CredentialKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Key => "key",
            Self::TlsKey => "tls_key",
        }
    }
}

/// That a credential exists, and what it is. The secret is in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialMeta {
    pub name: String,
    pub kind: CredentialKind,
    pub has_passphrase: bool,
    /// The keyring account holding the secret (and, under the passphrase service, its
    /// passphrase). `None`: written before entries were scoped; the account is the name.
    pub keyring_account: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

#[async_trait]
pub trait InventoryStore: Send + Sync {
    /// Creates or updates every row (matched by server name) in one transaction. Columns a
    /// row did not give keep their stored values; a new server in a known site takes the
    /// site's tier unless the row gives one.
    async fn import_servers(
        &self,
        rows: &[ImportRow],
        at: DateTime<Utc>,
        audit: AuditFor<'_, ImportOutcome>,
    ) -> Result<ImportOutcome, StoreError>;

    /// Creates or updates one server. `previous` is its name before an edit that renames it.
    async fn save_server(
        &self,
        record: &ServerRecord,
        previous: Option<&str>,
        at: DateTime<Utc>,
        audit: AuditFor<'_, StoredServer>,
    ) -> Result<StoredServer, StoreError>;

    async fn delete_server(
        &self,
        name: &str,
        audit: AuditFor<'_, StoredServer>,
    ) -> Result<(), StoreError>;

    /// Servers matching `filter`, by institution, system, site and name.
    async fn servers(&self, filter: &ServerFilter) -> Result<Vec<StoredServer>, StoreError>;

    async fn server(&self, name: &str) -> Result<Option<StoredServer>, StoreError>;

    /// Every server, in the order of [`servers`](Self::servers), handed over a page at a
    /// time from one consistent snapshot — no limit, for exports. Returns how many.
    async fn for_each_server(
        &self,
        page: &mut (dyn FnMut(Vec<StoredServer>) -> Result<(), StoreError> + Send),
    ) -> Result<u64, StoreError>;

    async fn count_servers(&self) -> Result<u64, StoreError>;

    /// Pins `pin` for each named server (replacing any pin), in one transaction.
    async fn pin_host_keys(
        &self,
        pins: &[(String, PinnedHostKey)],
        audit: AuditFor<'_, (String, PinnedHostKey)>,
    ) -> Result<(), StoreError>;

    async fn forget_host_key(
        &self,
        server: &str,
        audit: AuditFor<'_, StoredServer>,
    ) -> Result<(), StoreError>;

    /// Sets the command mode of `system` of `institution`; the audit entry is given the
    /// previous mode. Refused if there is no such system.
    async fn set_command_mode(
        &self,
        institution: &str,
        system: &str,
        mode: CommandMode,
        audit: AuditFor<'_, CommandMode>,
    ) -> Result<(), StoreError>;

    /// Opts a server in to legacy algorithms (`Some(reason)`) or out (`None`); the audit entry
    /// is given the server as it was.
    async fn set_legacy_crypto(
        &self,
        server: &str,
        reason: Option<&str>,
        audit: AuditFor<'_, StoredServer>,
    ) -> Result<StoredServer, StoreError>;

    /// Records what a login found (no audit entry of its own: the check's entry has it).
    /// Only while the server is still at `address`:`port` (where the check logged in).
    async fn note_ssh_seen(
        &self,
        server: &str,
        address: &str,
        port: u16,
        seen: &SshSeen,
    ) -> Result<(), StoreError>;

    async fn credentials(&self) -> Result<Vec<CredentialMeta>, StoreError>;

    async fn credential(&self, name: &str) -> Result<Option<CredentialMeta>, StoreError>;

    async fn save_credential(
        &self,
        meta: &CredentialMeta,
        audit: AuditFor<'_, CredentialMeta>,
    ) -> Result<(), StoreError>;

    /// Removes the credential; its keyring account is journalled as retired in the same
    /// transaction.
    async fn delete_credential(
        &self,
        name: &str,
        audit: AuditFor<'_, CredentialMeta>,
    ) -> Result<(), StoreError>;

    /// Servers, credentials and pins of a bundle, all in one transaction. A credential that
    /// replaces one with another keyring account journals the old account as retired.
    async fn import_bundle(
        &self,
        rows: BundleRows<'_>,
        at: DateTime<Utc>,
        audit: BundleAudit<'_>,
    ) -> Result<ImportOutcome, StoreError>;

    /// Notes keyring accounts about to be written, before they are (committed at once).
    async fn stage_keyring(&self, accounts: &[String], owner_pid: u32) -> Result<(), StoreError>;

    async fn keyring_journal(&self) -> Result<Vec<JournalEntry>, StoreError>;

    /// Forgets journal entries (after their keyring entries were deleted or found in use).
    async fn settle_keyring(&self, accounts: &[String]) -> Result<(), StoreError>;

    /// Points a credential written before scoping at its new keyring account.
    async fn move_credential_account(&self, name: &str, account: &str) -> Result<(), StoreError>;
}
