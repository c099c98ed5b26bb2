//! The inventory's storage interface: servers with their hierarchy, pinned host keys, and
//! credential references (never the secrets).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_domain::inventory::{ServerRecord, Tier};
use serde::Serialize;

use crate::{AuditFor, StoreError};

/// A server as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredServer {
    pub record: ServerRecord,
    pub host_key: Option<PinnedHostKey>,
    pub updated_at: DateTime<Utc>,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Pins removed because a server's address or port changed.
    pub pins_dropped: u32,
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
}

impl CredentialKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Key => "key",
        }
    }
}

/// That a credential exists, and what it is. The secret is in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialMeta {
    pub name: String,
    pub kind: CredentialKind,
    pub has_passphrase: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

#[async_trait]
pub trait InventoryStore: Send + Sync {
    /// Creates or updates every record (matched by server name) in one transaction.
    async fn import_servers(
        &self,
        records: &[ServerRecord],
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

    async fn credentials(&self) -> Result<Vec<CredentialMeta>, StoreError>;

    async fn credential(&self, name: &str) -> Result<Option<CredentialMeta>, StoreError>;

    async fn save_credential(
        &self,
        meta: &CredentialMeta,
        audit: AuditFor<'_, CredentialMeta>,
    ) -> Result<(), StoreError>;

    async fn delete_credential(
        &self,
        name: &str,
        audit: AuditFor<'_, CredentialMeta>,
    ) -> Result<(), StoreError>;
}
