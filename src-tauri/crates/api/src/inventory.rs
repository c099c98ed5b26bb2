//! Inventory, credentials and host keys: validated at the edge, stored with their audit
//! entries, secrets only in the OS keyring.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, EntryKind, Outcome};
use guardia_domain::inventory::{self, ServerRecord, Tier, ansible::AnsibleOptions};
use guardia_ipc::{
    BulkEdit, CommandModeChange, CredentialInput, CredentialKindView, CredentialView, HostKeyView,
    ImportReport, InventoryFile, InventoryFormat, PresentedHostKey, ServerDraft, ServerQuery,
    ServerView, TrustHostKey,
};
use guardia_secrets::{SecretStore, Sensitive};
use guardia_ssh::{ConnectOptions, HostKey, SshError, Target};
use guardia_store::{
    CredentialKind, CredentialMeta, PinSource, PinnedHostKey, ServerChange, ServerFilter,
    StoredServer,
};
use tokio_util::sync::CancellationToken;

use crate::keyring::{Slot, Staged};
use crate::{Api, ApiError, Caller, audit_entries};

/// Keyring service of SSH passwords and private keys; the account is the credential name.
pub const CREDENTIAL_SERVICE: &str = "guardia-credential";
/// Keyring service of private-key passphrases.
pub const PASSPHRASE_SERVICE: &str = "guardia-credential-passphrase";

pub(crate) fn server_subject(name: &str) -> String {
    format!("server:{name}")
}

/// The largest secret a credential may hold (an RSA-16384 private key is ~13 KiB).
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

/// A secret must have content and a sane size; the message never quotes it.
pub(crate) fn check_secret(what: &str, secret: &str) -> Result<(), ApiError> {
    if secret.trim().is_empty() {
        return Err(ApiError::InvalidRequest(format!(
            "{what} is empty or only blanks"
        )));
    }
    if secret.len() > MAX_SECRET_BYTES {
        return Err(ApiError::InvalidRequest(format!(
            "{what} is {} bytes; at most {MAX_SECRET_BYTES}",
            secret.len()
        )));
    }
    Ok(())
}

/// A TLS private key as PEM: one `-----BEGIN … PRIVATE KEY-----` block (PKCS#8, PKCS#1
/// RSA or SEC1 EC; not encrypted) whose body is base64. What it holds is checked by the
/// server's own `openssl` in the certificate playbook's pre-check (key and certificate match).
pub(crate) fn check_tls_key(pem: &str) -> Result<(), String> {
    let text = pem.trim();
    let first = text.lines().next().unwrap_or_default().trim();
    let label = first
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
        .filter(|l| l.ends_with("PRIVATE KEY"))
        .ok_or("a TLS key must be PEM starting with `-----BEGIN … PRIVATE KEY-----`")?;
    if label.contains("ENCRYPTED") {
        return Err(
            "the TLS key is encrypted: store it decrypted (the keyring protects it)".into(),
        );
    }
    let end = format!("-----END {label}-----");
    let body = text
        .strip_prefix(first)
        .and_then(|rest| rest.trim().strip_suffix(end.as_str()))
        .ok_or_else(|| format!("the PEM block does not end with `{end}`"))?;
    if body.contains("-----") {
        return Err("give exactly one PEM block: the private key alone".into());
    }
    let joined: String = body.split_whitespace().collect();
    if joined.is_empty()
        || !joined
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Err("the PEM body is not base64".into());
    }
    Ok(())
}

/// Runs blocking work (keyring calls, Argon2) off the async threads.
pub(crate) async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task: {e}")))?
        .map_err(Into::into)
}

/// A keyring value as text; `what` names it in the error (never the value).
pub(crate) fn keyring_text(
    value: &Sensitive<Vec<u8>>,
    what: &str,
) -> Result<Sensitive<String>, ApiError> {
    String::from_utf8(value.expose().clone())
        .map(Sensitive::new)
        .map_err(|_| ApiError::InvalidRequest(format!("{what} is not text")))
}

pub(crate) fn credential_subject(name: &str) -> String {
    format!("credential:{name}")
}

/// The audit entry of a stored credential (its kind and passphrase flag, never the secret).
pub(crate) fn credential_set_entry(
    at: DateTime<Utc>,
    actor: &str,
    meta: &CredentialMeta,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::CredentialSet,
        actor,
        credential_subject(&meta.name),
    )
    .with("kind", meta.kind.code())
    .with("has_passphrase", meta.has_passphrase)
}

pub(crate) fn check_credential_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(ApiError::InvalidRequest(format!(
            "credential name `{}` may hold only letters, digits, '.', '_' and '-' (at most 64)",
            guardia_domain::text::excerpt(name, 64)
        )));
    }
    Ok(())
}

/// The audit value of an import's changes: `{server: [columns…]}`.
pub(crate) fn changes_value(changes: &[ServerChange]) -> serde_json::Value {
    changes
        .iter()
        .map(|c| (c.server.clone(), serde_json::json!(c.fields)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The audit entry of one pinned host key.
pub(crate) fn pin_entry(
    at: DateTime<Utc>,
    actor: &str,
    server: &str,
    pin: &PinnedHostKey,
) -> EntryDraft {
    EntryDraft::new(at, EntryKind::HostKeyTrusted, actor, server_subject(server))
        .with("fingerprint", pin.fingerprint.as_str())
        .with("algorithm", pin.key.split_whitespace().next().unwrap_or(""))
        .with("source", pin.source.code())
}

fn problems_text(problems: &[inventory::RowProblem]) -> String {
    let mut lines: Vec<String> = problems.iter().take(50).map(ToString::to_string).collect();
    if problems.len() > 50 {
        lines.push(format!("… and {} more", problems.len() - 50));
    }
    format!(
        "the file was refused, nothing was imported ({} problem{}):\n{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        lines.join("\n")
    )
}

fn host_key_view(pin: &PinnedHostKey) -> HostKeyView {
    HostKeyView {
        algorithm: pin.key.split_whitespace().next().unwrap_or("").to_owned(),
        fingerprint: pin.fingerprint.clone(),
        trusted_by: pin.trusted_by.clone(),
        trusted_at: pin.trusted_at,
        source: pin.source.code().to_owned(),
    }
}

impl Api {
    fn server_view(
        &self,
        s: StoredServer,
        credentials: &HashMap<String, CredentialMeta>,
    ) -> ServerView {
        ServerView {
            credential_present: s
                .record
                .credential
                .as_ref()
                .is_some_and(|c| credentials.contains_key(c)),
            host_key: s.host_key.as_ref().map(host_key_view),
            record: s.record,
            updated_at: s.updated_at,
            command_mode: s.command_mode,
            legacy_crypto: s.legacy_crypto,
            ssh_seen: s.ssh_seen.map(|seen| guardia_ipc::SshSeenView {
                algorithms: seen.algorithms,
                stop_guaranteed: seen.stop_guaranteed,
                stop_detail: seen.stop_detail,
                at: seen.at,
            }),
        }
    }

    async fn credential_index(&self) -> Result<HashMap<String, CredentialMeta>, ApiError> {
        Ok(self
            .store
            .credentials()
            .await?
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect())
    }

    pub(crate) async fn stored_server(&self, name: &str) -> Result<StoredServer, ApiError> {
        self.store
            .server(name)
            .await?
            .ok_or_else(|| ApiError::NoSuchServer(name.to_owned()))
    }

    /// Imports a CSV or Ansible INI inventory: all rows or none.
    pub async fn inventory_import(
        &self,
        caller: &Caller,
        import: InventoryFile,
    ) -> Result<ImportReport, ApiError> {
        let (rows, warnings) = match import.format {
            InventoryFormat::Csv => (
                inventory::csv::parse_rows(&import.text)
                    .map_err(|p| ApiError::ImportRejected(problems_text(&p)))?,
                Vec::new(),
            ),
            InventoryFormat::AnsibleIni => {
                let credential = import.credential.trim().to_owned();
                let credential_auth = if credential.is_empty() {
                    String::new()
                } else {
                    match self.store.credential(&credential).await? {
                        Some(meta) => meta.kind.code().to_owned(),
                        None => {
                            return Err(ApiError::ImportRejected(format!(
                                "--credential {credential}: there is no credential of that name; \
                                 add it first (guardia credential set {credential} --kind key)"
                            )));
                        }
                    }
                };
                let options = AnsibleOptions {
                    institution: import.institution.clone(),
                    system: import.system.clone(),
                    default_user: import.default_user.clone(),
                    max_hosts: inventory::MAX_SERVERS,
                    credential,
                    credential_auth,
                    map: parse_map(&import.map)?,
                };
                let parsed = inventory::ansible::parse(&import.text, &options)
                    .map_err(|p| ApiError::ImportRejected(problems_text(&p)))?;
                (parsed.rows, parsed.warnings)
            }
        };
        let at = self.clock.now().with_timezone(&Utc);
        let actor = caller.name().to_owned();
        let format = match import.format {
            InventoryFormat::Csv => "csv",
            InventoryFormat::AnsibleIni => "ansible_ini",
        };
        let text = import.text.as_bytes();
        let outcome = self
            .store
            .import_servers(&rows, at, &|o| {
                EntryDraft::new(at, EntryKind::InventoryImported, actor.clone(), "inventory")
                    .with("format", format)
                    .with("servers", rows.len() as u64)
                    .with("created", u64::from(o.created))
                    .with("updated", u64::from(o.updated))
                    .with("unchanged", u64::from(o.unchanged))
                    .with("pins_dropped", u64::from(o.pins_dropped))
                    .with("changed", changes_value(&o.changes))
                    .with_digest("file", text)
            })
            .await?;
        Ok(import_report(
            outcome,
            warnings.iter().map(ToString::to_string).collect(),
        ))
    }

    /// One change over many servers (a filter and/or names): credential, tier, tags. All or
    /// nothing, in one transaction, recorded as one audit entry listing what changed.
    pub async fn server_bulk_edit(
        &self,
        caller: &Caller,
        edit: BulkEdit,
    ) -> Result<ImportReport, ApiError> {
        if edit.credential.is_none()
            && edit.tier.is_none()
            && edit.add_tags.is_empty()
            && edit.remove_tags.is_empty()
        {
            return Err(ApiError::InvalidRequest(
                "nothing to change: give a credential, a tier, or tags to add or remove".into(),
            ));
        }
        let credential = match edit.credential.as_deref().map(str::trim) {
            None => None,
            Some(name) => {
                let meta = self.store.credential(name).await?.ok_or_else(|| {
                    ApiError::InvalidRequest(format!(
                        "there is no credential named `{name}`; add it first (guardia credential set)"
                    ))
                })?;
                Some(meta)
            }
        };
        let tier = tier_of(edit.tier)?;
        let filter = ServerFilter {
            text: edit.filter.text.clone(),
            tier: tier_of(edit.filter.tier)?,
            limit: ServerFilter::MAX_LIMIT,
        };
        let mut selected = self.store.servers(&filter).await?;
        if !edit.servers.is_empty() {
            for name in &edit.servers {
                if !selected.iter().any(|s| &s.record.server == name) {
                    return Err(ApiError::NoSuchServer(name.clone()));
                }
            }
            selected.retain(|s| edit.servers.contains(&s.record.server));
        }
        if selected.is_empty() {
            return Err(ApiError::InvalidRequest(
                "no server matches the selection; nothing was changed".into(),
            ));
        }
        let mut rows = Vec::with_capacity(selected.len());
        let mut problems = Vec::new();
        for (i, stored) in selected.iter().enumerate() {
            let mut draft = stored.record.to_draft();
            let mut given = ["institution", "system", "site", "server"]
                .into_iter()
                .fold(inventory::Given::default(), inventory::Given::with);
            if let Some(meta) = &credential {
                draft.credential = meta.name.clone();
                draft.auth = meta.kind.code().to_owned();
                given = given.with("credential").with("auth");
            }
            if let Some(tier) = tier {
                draft.tier = tier.number().to_string();
                given = given.with("tier");
            }
            if !edit.add_tags.is_empty() || !edit.remove_tags.is_empty() {
                let mut tags: Vec<String> = stored
                    .record
                    .tags
                    .iter()
                    .filter(|t| !edit.remove_tags.contains(t))
                    .cloned()
                    .collect();
                for tag in &edit.add_tags {
                    if !tags.contains(tag) {
                        tags.push(tag.clone());
                    }
                }
                draft.tags = tags.join(";");
                given = given.with("tags");
            }
            match draft.validate() {
                Ok(record) => rows.push(inventory::ImportRow {
                    line: i + 1,
                    record,
                    given,
                }),
                Err(fields) => problems.push(format!(
                    "{}: {}",
                    stored.record.server,
                    fields
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::ImportRejected(problems.join("\n")));
        }
        if edit.dry_run {
            let changes = rows
                .iter()
                .zip(&selected)
                .filter_map(|(row, stored)| {
                    let fields = row.record.changed_columns(&stored.record);
                    (!fields.is_empty()).then(|| guardia_ipc::ServerChangeView {
                        server: row.record.server.clone(),
                        fields: fields.into_iter().map(str::to_owned).collect(),
                    })
                })
                .collect::<Vec<_>>();
            return Ok(ImportReport {
                created: 0,
                updated: u32::try_from(changes.len()).unwrap_or(u32::MAX),
                unchanged: u32::try_from(rows.len() - changes.len()).unwrap_or(u32::MAX),
                pins_dropped: 0,
                changes,
                warnings: vec!["dry run: nothing was changed".into()],
            });
        }
        let at = self.clock.now().with_timezone(&Utc);
        let outcome = self
            .store
            .import_servers(&rows, at, &|o| {
                audit_entries::inventory_bulk_edited(caller, &edit, rows.len(), o, at)
            })
            .await?;
        Ok(import_report(outcome, Vec::new()))
    }

    /// Every server's record, however many (exports and bundles are never cut).
    pub(crate) async fn all_records(&self) -> Result<Vec<StoredServer>, ApiError> {
        let mut all = Vec::new();
        self.store
            .for_each_server(&mut |page| {
                all.extend(page);
                Ok(())
            })
            .await?;
        Ok(all)
    }

    /// Streams the whole inventory as CSV into `out`, a page at a time; returns how many
    /// servers were written.
    pub async fn inventory_export_to(
        &self,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64, ApiError> {
        let mut writer = inventory::csv::Writer::new(out).map_err(ApiError::Io)?;
        let mut failed = None;
        let count = self
            .store
            .for_each_server(&mut |page| {
                for s in &page {
                    if let Err(e) = writer.row(&s.record) {
                        failed.get_or_insert(e);
                    }
                }
                Ok(())
            })
            .await?;
        if let Some(e) = failed {
            return Err(ApiError::Io(e));
        }
        writer.finish().map_err(ApiError::Io)?;
        Ok(count)
    }

    /// The whole inventory as CSV (docs/inventory.md).
    pub async fn inventory_export_csv(&self) -> Result<String, ApiError> {
        let mut out = Vec::new();
        self.inventory_export_to(&mut out).await?;
        String::from_utf8(out).map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// The whole inventory as CSV in `<data dir>/exports/`.
    pub async fn inventory_export_file(&self) -> Result<guardia_ipc::ExportedFile, ApiError> {
        let csv = self.inventory_export_csv().await?;
        let stamp = self.clock.now().format("%Y%m%d-%H%M%S");
        let path = self.write_export(&format!("inventory-{stamp}.csv"), &csv)?;
        Ok(guardia_ipc::ExportedFile {
            path: path.display().to_string(),
            content: csv,
        })
    }

    pub async fn server_list(&self, query: ServerQuery) -> Result<Vec<ServerView>, ApiError> {
        let filter = ServerFilter {
            text: query.text,
            tier: tier_of(query.tier)?,
            limit: query.limit.unwrap_or(ServerFilter::MAX_LIMIT),
        };
        let credentials = self.credential_index().await?;
        Ok(self
            .store
            .servers(&filter)
            .await?
            .into_iter()
            .map(|s| self.server_view(s, &credentials))
            .collect())
    }

    pub async fn server_get(&self, name: &str) -> Result<ServerView, ApiError> {
        let stored = self.stored_server(name).await?;
        let credentials = self.credential_index().await?;
        Ok(self.server_view(stored, &credentials))
    }

    /// Creates or edits a server. `previous` is its name before a rename.
    pub async fn server_save(
        &self,
        caller: &Caller,
        draft: ServerDraft,
        previous: Option<String>,
    ) -> Result<ServerView, ApiError> {
        let record = draft.validate().map_err(|problems| {
            ApiError::InvalidRequest(
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let at = self.clock.now().with_timezone(&Utc);
        let actor = caller.name().to_owned();
        let stored = self
            .store
            .save_server(&record, previous.as_deref(), at, &|s| {
                EntryDraft::new(
                    at,
                    EntryKind::ServerSaved,
                    actor.clone(),
                    server_subject(&s.record.server),
                )
                .with("address", s.record.address.as_str())
                .with("port", u64::from(s.record.port))
                .with("user", s.record.user.as_str())
                .with("site", s.record.site.as_str())
                .with("tier", u64::from(s.record.tier.number()))
                .with("pinned", s.host_key.is_some())
            })
            .await?;
        let credentials = self.credential_index().await?;
        Ok(self.server_view(stored, &credentials))
    }

    pub async fn server_delete(&self, caller: &Caller, name: &str) -> Result<(), ApiError> {
        let at = self.clock.now().with_timezone(&Utc);
        let actor = caller.name().to_owned();
        self.store
            .delete_server(name, &|s| {
                EntryDraft::new(
                    at,
                    EntryKind::ServerDeleted,
                    actor.clone(),
                    server_subject(&s.record.server),
                )
                .with("address", s.record.address.as_str())
            })
            .await?;
        Ok(())
    }

    // --- Credentials ----------------------------------------------------------------------

    /// Stores (or replaces) a credential in the OS keyring and records that it exists.
    /// A private key is read with its passphrase first: a key that cannot be used is refused.
    pub async fn credential_set(
        &self,
        caller: &Caller,
        input: CredentialInput,
    ) -> Result<CredentialView, ApiError> {
        let name = input.name.trim().to_owned();
        check_credential_name(&name)?;
        let secret = Sensitive::new(input.secret);
        let passphrase = input
            .passphrase
            .filter(|p| !p.is_empty())
            .map(Sensitive::new);
        check_secret("the secret", secret.expose())?;
        if let Some(p) = &passphrase {
            check_secret("the passphrase", p.expose())?;
        }
        let kind = match input.kind {
            CredentialKindView::Password => {
                if passphrase.is_some() {
                    return Err(ApiError::InvalidRequest(
                        "a password credential has no passphrase".into(),
                    ));
                }
                CredentialKind::Password
            }
            CredentialKindView::Key => {
                guardia_ssh::private_key_fingerprint(
                    secret.expose(),
                    passphrase.as_ref().map(|p| p.expose().as_str()),
                )
                .map_err(ApiError::InvalidRequest)?;
                CredentialKind::Key
            }
            CredentialKindView::TlsKey => {
                if passphrase.is_some() {
                    return Err(ApiError::InvalidRequest(
                        "a TLS key is stored unencrypted (the keyring protects it): give it \
                         without a passphrase"
                            .into(),
                    ));
                }
                check_tls_key(secret.expose()).map_err(ApiError::InvalidRequest)?;
                CredentialKind::TlsKey
            }
        };
        let has_passphrase = passphrase.is_some();
        // A new version beside the one in use; the database commit switches to it.
        let slot = Slot::fresh(&self.origin, &name)?;
        self.stage_secrets(vec![Staged {
            slot: slot.clone(),
            secret: Sensitive::new(secret.expose().as_bytes().to_vec()),
            passphrase: passphrase.map(|p| Sensitive::new(p.expose().as_bytes().to_vec())),
        }])
        .await?;
        let at = self.clock.now().with_timezone(&Utc);
        let meta = CredentialMeta {
            name: name.clone(),
            kind,
            has_passphrase,
            keyring_account: Some(slot.account().to_owned()),
            updated_at: at,
            updated_by: caller.name().to_owned(),
        };
        let actor = caller.name().to_owned();
        if let Err(e) = self
            .store
            .save_credential(&meta, &|m| credential_set_entry(at, &actor, m))
            .await
        {
            self.abandon(vec![slot]).await;
            return Err(e.into());
        }
        self.tidy_keyring().await?;
        let usage = self.credential_usage().await?;
        self.credential_view(meta, &usage).await
    }

    /// How many servers use each credential (one pass over the inventory).
    async fn credential_usage(&self) -> Result<HashMap<String, u32>, ApiError> {
        let mut usage = HashMap::new();
        for s in self.store.servers(&ServerFilter::default()).await? {
            if let Some(c) = s.record.credential {
                *usage.entry(c).or_insert(0) += 1;
            }
        }
        Ok(usage)
    }

    async fn credential_view(
        &self,
        meta: CredentialMeta,
        usage: &HashMap<String, u32>,
    ) -> Result<CredentialView, ApiError> {
        let secrets = self.secrets.clone();
        let slot = Slot::of(&meta);
        let in_keyring = blocking(move || secrets.get(&slot.secret()).map(|s| s.is_some())).await?;
        let servers = usage.get(&meta.name).copied().unwrap_or(0);
        Ok(CredentialView {
            name: meta.name,
            kind: match meta.kind {
                CredentialKind::Password => CredentialKindView::Password,
                CredentialKind::Key => CredentialKindView::Key,
                CredentialKind::TlsKey => CredentialKindView::TlsKey,
            },
            has_passphrase: meta.has_passphrase,
            in_keyring,
            updated_at: meta.updated_at,
            updated_by: meta.updated_by,
            servers,
        })
    }

    pub async fn credential_list(&self) -> Result<Vec<CredentialView>, ApiError> {
        let usage = self.credential_usage().await?;
        let mut out = Vec::new();
        for meta in self.store.credentials().await? {
            out.push(self.credential_view(meta, &usage).await?);
        }
        Ok(out)
    }

    /// Removes a credential from the keyring and the database.
    pub async fn credential_delete(&self, caller: &Caller, name: &str) -> Result<(), ApiError> {
        let at = self.clock.now().with_timezone(&Utc);
        let actor = caller.name().to_owned();
        self.store
            .delete_credential(name, &|m| {
                EntryDraft::new(
                    at,
                    EntryKind::CredentialDeleted,
                    actor.clone(),
                    credential_subject(&m.name),
                )
                .with("kind", m.kind.code())
            })
            .await?;
        // The deletion journalled the keyring entry as retired; tidying removes it. An entry
        // from before scoping is left: another data directory may share it.
        self.tidy_keyring().await.map(drop)
    }

    /// The credential a server logs in with, from the keyring.
    pub(crate) async fn ssh_credential(
        &self,
        record: &ServerRecord,
    ) -> Result<guardia_ssh::Credential, ApiError> {
        let name = record.credential.clone().ok_or_else(|| {
            ApiError::InvalidRequest(format!(
                "server {} names no credential; set one on its page",
                record.server
            ))
        })?;
        let meta = self.store.credential(&name).await?.ok_or_else(|| {
            ApiError::InvalidRequest(format!("credential `{name}` does not exist"))
        })?;
        let secrets: Arc<dyn SecretStore> = self.secrets.clone();
        let slot = Slot::of(&meta);
        let (secret, passphrase) = blocking(move || {
            Ok::<_, guardia_secrets::SecretError>((
                secrets.get(&slot.secret())?,
                secrets.get(&slot.passphrase())?,
            ))
        })
        .await?;
        let secret = secret.ok_or_else(|| {
            ApiError::InvalidRequest(format!(
                "credential `{name}` is recorded but missing from the OS keyring; set it again"
            ))
        })?;
        let what = format!("credential `{name}`");
        let text = |s: &Sensitive<Vec<u8>>| keyring_text(s, &what);
        Ok(match meta.kind {
            CredentialKind::Password => guardia_ssh::Credential::Password(text(&secret)?),
            CredentialKind::Key => guardia_ssh::Credential::Key {
                openssh: text(&secret)?,
                passphrase: passphrase.as_ref().map(text).transpose()?,
            },
            CredentialKind::TlsKey => {
                return Err(ApiError::InvalidRequest(format!(
                    "credential `{name}` is a TLS private key, not an SSH login: server {} \
                     needs a password or SSH key credential",
                    record.server
                )));
            }
        })
    }

    /// The TLS private key stored as credential `name` (kind `tls_key`), from the keyring:
    /// what a certificate rollout installs. Refused for any other kind of credential.
    pub(crate) async fn tls_key(&self, name: &str) -> Result<Sensitive<Vec<u8>>, ApiError> {
        let meta = self.store.credential(name).await?.ok_or_else(|| {
            ApiError::InvalidRequest(format!("credential `{name}` does not exist"))
        })?;
        if meta.kind != CredentialKind::TlsKey {
            return Err(ApiError::InvalidRequest(format!(
                "credential `{name}` is a {}, not a TLS private key",
                meta.kind.code()
            )));
        }
        let secrets: Arc<dyn SecretStore> = self.secrets.clone();
        let slot = Slot::of(&meta);
        blocking(move || secrets.get(&slot.secret()))
            .await?
            .ok_or_else(|| {
                ApiError::InvalidRequest(format!(
                    "credential `{name}` is recorded but missing from the OS keyring; set it again"
                ))
            })
    }

    // --- Host keys ------------------------------------------------------------------------

    /// Connection options for one server: SHA-1-era algorithms only where an admin opted it
    /// in (`legacy_crypto`), never otherwise.
    pub(crate) fn ssh_options(&self, stored: &StoredServer) -> ConnectOptions {
        ConnectOptions {
            legacy_crypto: stored.legacy_crypto.is_some(),
            ..ConnectOptions::default()
        }
    }

    /// Opts a server in to (or out of) SHA-1-era SSH algorithms. The reason is required both
    /// ways and audited with the state before; opting in twice only updates the reason.
    pub async fn server_legacy_crypto_set(
        &self,
        caller: &Caller,
        change: guardia_ipc::LegacyCryptoChange,
    ) -> Result<ServerView, ApiError> {
        let reason = change.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::InvalidRequest(
                "a reason is required to change a server's legacy_crypto opt-in / \
                 레거시 암호 허용을 바꾸려면 사유가 필요합니다"
                    .into(),
            ));
        }
        let at = self.clock.now().with_timezone(&Utc);
        let stored = self
            .store
            .set_legacy_crypto(&change.server, change.on.then_some(reason), &|before| {
                audit_entries::legacy_crypto_changed(
                    at,
                    caller,
                    &change,
                    before.legacy_crypto.is_some(),
                )
            })
            .await?;
        let credentials = self.credential_index().await?;
        Ok(self.server_view(stored, &credentials))
    }

    pub(crate) fn target(record: &ServerRecord) -> Target {
        Target {
            host: record.address.clone(),
            port: record.port,
            user: record.user.clone(),
        }
    }

    /// Connects (without logging in) to read the key the server presents, for approval.
    pub async fn host_key_fetch(&self, server: &str) -> Result<PresentedHostKey, ApiError> {
        let stored = self.stored_server(server).await?;
        let key = guardia_ssh::fetch_host_key(
            &Self::target(&stored.record),
            &self.ssh_options(&stored),
            &CancellationToken::new(),
        )
        .await
        .map_err(ApiError::Ssh)?;
        let pinned = stored.host_key.as_ref().map(|p| p.fingerprint.clone());
        Ok(PresentedHostKey {
            server: server.to_owned(),
            algorithm: key.algorithm().to_owned(),
            fingerprint: key.fingerprint(),
            pinned_fingerprint: pinned.filter(|p| *p != key.fingerprint()),
        })
    }

    /// Pins the key the server presents now — only if it is the one the person approved.
    pub async fn host_key_trust(
        &self,
        caller: &Caller,
        request: TrustHostKey,
    ) -> Result<ServerView, ApiError> {
        let stored = self.stored_server(&request.server).await?;
        let key = guardia_ssh::fetch_host_key(
            &Self::target(&stored.record),
            &self.ssh_options(&stored),
            &CancellationToken::new(),
        )
        .await
        .map_err(ApiError::Ssh)?;
        if key.fingerprint() != request.fingerprint.trim() {
            return Err(ApiError::FingerprintMismatch {
                server: request.server,
                approved: request.fingerprint,
                presented: key.fingerprint(),
            });
        }
        self.pin(
            caller,
            &[(request.server.clone(), key)],
            PinSource::Approved,
        )
        .await?;
        self.server_get(&request.server).await
    }

    pub(crate) async fn pin(
        &self,
        caller: &Caller,
        keys: &[(String, HostKey)],
        source: PinSource,
    ) -> Result<(), ApiError> {
        let at = self.clock.now().with_timezone(&Utc);
        let actor = caller.name().to_owned();
        let pins: Vec<(String, PinnedHostKey)> = keys
            .iter()
            .map(|(server, key)| {
                (
                    server.clone(),
                    PinnedHostKey {
                        key: key.to_openssh(),
                        fingerprint: key.fingerprint(),
                        trusted_by: actor.clone(),
                        trusted_at: at,
                        source,
                    },
                )
            })
            .collect();
        self.store
            .pin_host_keys(&pins, &|(server, pin)| pin_entry(at, &actor, server, pin))
            .await?;
        Ok(())
    }

    /// Pins, for every server an OpenSSH `known_hosts` file names (by address and port), the
    /// key it lists. Servers with a different pin already are left alone and reported.
    pub async fn host_keys_import(
        &self,
        caller: &Caller,
        known_hosts: &str,
    ) -> Result<(u32, Vec<String>), ApiError> {
        let entries = guardia_ssh::parse_known_hosts(known_hosts).map_err(|errors| {
            ApiError::ImportRejected(format!(
                "the known_hosts file was refused, nothing was pinned:\n{}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
        })?;
        let servers = self.store.servers(&ServerFilter::default()).await?;
        let mut pins = Vec::new();
        let mut conflicts = Vec::new();
        for s in &servers {
            let Some(entry) = entries
                .iter()
                .find(|e| e.matches(&s.record.address, s.record.port))
            else {
                continue;
            };
            match &s.host_key {
                Some(pin) if pin.key == entry.key.to_openssh() => {}
                Some(pin) => conflicts.push(format!(
                    "{}: known_hosts line {} has {} but {} is pinned; left as it is",
                    s.record.server,
                    entry.line,
                    entry.key.fingerprint(),
                    pin.fingerprint
                )),
                None => pins.push((s.record.server.clone(), entry.key.clone())),
            }
        }
        self.pin(caller, &pins, PinSource::KnownHosts).await?;
        Ok((pins.len() as u32, conflicts))
    }

    /// Sets which commands `change.system`'s servers accept; the reason is required and
    /// audited with the previous mode.
    pub async fn system_command_mode_set(
        &self,
        caller: &Caller,
        change: CommandModeChange,
    ) -> Result<(), ApiError> {
        let reason = change.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::InvalidRequest(
                "a reason is required to change a system's command mode / 명령 모드를 바꾸려면 사유가 필요합니다".into(),
            ));
        }
        let entry = audit_entries::command_mode_changed(
            self.clock.now().with_timezone(&Utc),
            caller,
            &change,
        );
        self.store
            .set_command_mode(
                &change.institution,
                &change.system,
                change.mode,
                &|previous| entry.clone().with("previous", previous.as_str()),
            )
            .await?;
        Ok(())
    }

    pub async fn host_key_forget(&self, caller: &Caller, server: &str) -> Result<(), ApiError> {
        let at = self.clock.now().with_timezone(&Utc);
        let actor = caller.name().to_owned();
        self.store
            .forget_host_key(server, &|s| {
                EntryDraft::new(
                    at,
                    EntryKind::HostKeyForgotten,
                    actor.clone(),
                    server_subject(&s.record.server),
                )
                .with(
                    "fingerprint",
                    s.host_key.as_ref().map(|p| p.fingerprint.clone()),
                )
            })
            .await?;
        Ok(())
    }

    /// Records a refused connection because of the host key (unknown or changed) — loud.
    pub(crate) async fn audit_host_key_refusal(
        &self,
        caller: &Caller,
        server: &str,
        error: &SshError,
    ) {
        let at = self.clock.now().with_timezone(&Utc);
        let mut entry = EntryDraft::new(
            at,
            EntryKind::HostKeyRefused,
            caller.name(),
            server_subject(server),
        )
        .outcome(Outcome::Refused)
        .with("reason", error.code());
        match error {
            SshError::HostKeyChanged {
                pinned, presented, ..
            } => {
                entry = entry
                    .with("pinned", pinned.fingerprint())
                    .with("presented", presented.fingerprint());
            }
            SshError::HostKeyUnknown { presented, .. } => {
                entry = entry.with("presented", presented.fingerprint());
            }
            _ => {}
        }
        if let Err(e) = self.store.append_audit(std::slice::from_ref(&entry)).await {
            tracing::error!("could not record a host key refusal for {server}: {e}");
        }
    }
}

/// `variable=column` pairs of an Ansible import's `--map`.
fn parse_map(raw: &[String]) -> Result<Vec<(String, String)>, ApiError> {
    raw.iter()
        .filter(|m| !m.trim().is_empty())
        .map(|m| {
            let (var, column) = m.split_once('=').ok_or_else(|| {
                ApiError::ImportRejected(format!(
                    "--map `{m}`: write VARIABLE=COLUMN, e.g. app_dir=app_path"
                ))
            })?;
            let (var, column) = (var.trim(), column.trim());
            if inventory::ansible::is_secret_var(var) {
                return Err(ApiError::ImportRejected(format!(
                    "--map: `{var}` holds a secret; secrets go to the keyring (guardia credential set), never into a column"
                )));
            }
            if var.is_empty() || !inventory::ansible::mappable(column) {
                return Err(ApiError::ImportRejected(format!(
                    "--map `{m}`: `{column}` is not an inventory column a variable may fill \
                     (e.g. site, tier, credential, os, app_path, deploy_path, service_port, \
                     health_http_url; see docs/inventory.md)"
                )));
            }
            Ok((var.to_owned(), column.to_owned()))
        })
        .collect()
}

/// A tier given as a number (1–3), or none.
fn tier_of(number: Option<u8>) -> Result<Option<Tier>, ApiError> {
    number
        .map(|n| {
            Tier::from_number(n)
                .ok_or_else(|| ApiError::InvalidRequest(format!("tier must be 1, 2 or 3, not {n}")))
        })
        .transpose()
}

/// What an import (or a bulk edit) did, as the window and the CLI show it.
fn import_report(outcome: guardia_store::ImportOutcome, warnings: Vec<String>) -> ImportReport {
    ImportReport {
        created: outcome.created,
        updated: outcome.updated,
        unchanged: outcome.unchanged,
        pins_dropped: outcome.pins_dropped,
        changes: outcome
            .changes
            .into_iter()
            .map(|c| guardia_ipc::ServerChangeView {
                server: c.server,
                fields: c.fields.into_iter().map(str::to_owned).collect(),
            })
            .collect(),
        warnings,
    }
}
