//! Offline hand-over: the inventory, its pins and its credentials (secrets included) as one
//! sealed file (guardia_secrets::bundle; format in docs/inventory.md).
//!
//! Import is all-or-nothing: the file is opened and every part validated before anything
//! is written; secrets go to fresh keyring entries beside the ones in use, one database
//! transaction switches to them, and the old ones are deleted after (crate::keyring).

use chrono::Utc;
use guardia_audit::{EntryDraft, EntryKind};
use guardia_domain::inventory;
use guardia_secrets::Sensitive;
use guardia_secrets::bundle::{self, KdfCost};
use guardia_ssh::HostKey;
use guardia_store::{
    BundleAudit, BundleRows, CredentialKind, CredentialMeta, ImportOutcome, PinSource,
    PinnedHostKey,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::inventory::{blocking, check_secret, credential_set_entry, keyring_text};
use crate::keyring::{Slot, Staged};
use crate::{Api, ApiError, Caller};

const FORMAT: &str = "guardia.bundle.v1";

#[derive(Serialize)]
struct OutBundle<'a> {
    format: &'static str,
    created_at: String,
    created_by: &'a str,
    inventory_csv: String,
    host_keys: Vec<OutPin>,
    credentials: Vec<OutCredential<'a>>,
}

#[derive(Serialize, Deserialize)]
struct OutPin {
    server: String,
    key: String,
}

#[derive(Serialize)]
struct OutCredential<'a> {
    name: &'a str,
    kind: &'static str,
    secret: &'a str,
    passphrase: Option<&'a str>,
}

#[derive(Deserialize)]
struct InBundle {
    format: String,
    inventory_csv: String,
    host_keys: Vec<OutPin>,
    credentials: Vec<InCredential>,
}

#[derive(Deserialize)]
struct InCredential {
    name: String,
    kind: String,
    secret: String,
    passphrase: Option<String>,
}

impl Drop for InCredential {
    fn drop(&mut self) {
        self.secret.zeroize();
        if let Some(p) = self.passphrase.as_mut() {
            p.zeroize();
        }
    }
}

/// What an import brought in.
#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    pub servers: usize,
    pub host_keys: usize,
    pub credentials: usize,
}

impl Api {
    /// Seals the whole inventory with its pins and credentials under `passphrase`.
    pub async fn bundle_export(
        &self,
        caller: &Caller,
        passphrase: Sensitive<String>,
    ) -> Result<(Vec<u8>, BundleReport), ApiError> {
        self.bundle_export_with(caller, passphrase, KdfCost::default())
            .await
    }

    pub async fn bundle_export_with(
        &self,
        caller: &Caller,
        passphrase: Sensitive<String>,
        cost: KdfCost,
    ) -> Result<(Vec<u8>, BundleReport), ApiError> {
        let servers = self.all_records().await?;
        let metas = self.store.credentials().await?;
        let mut secrets = Vec::new();
        for meta in &metas {
            let store = self.secrets.clone();
            let slot = Slot::of(meta);
            let (secret, pass) = blocking(move || {
                Ok::<_, guardia_secrets::SecretError>((
                    store.get(&slot.secret())?,
                    store.get(&slot.passphrase())?,
                ))
            })
            .await?;
            let secret = secret.as_ref().map(|v| keyring_text(v, &meta.name)).transpose()?.ok_or_else(|| {
                ApiError::InvalidRequest(format!(
                    "credential `{}` is missing from the OS keyring; set it again or delete it before exporting",
                    meta.name
                ))
            })?;
            secrets.push((
                meta,
                secret,
                pass.as_ref()
                    .map(|v| keyring_text(v, &meta.name))
                    .transpose()?,
            ));
        }
        let at = self.clock.now().with_timezone(&Utc);
        let records: Vec<_> = servers.iter().map(|s| s.record.clone()).collect();
        let out = OutBundle {
            format: FORMAT,
            created_at: at.to_rfc3339(),
            created_by: caller.name(),
            inventory_csv: inventory::csv::write(&records),
            host_keys: servers
                .iter()
                .filter_map(|s| {
                    s.host_key.as_ref().map(|p| OutPin {
                        server: s.record.server.clone(),
                        key: p.key.clone(),
                    })
                })
                .collect(),
            credentials: secrets
                .iter()
                .map(|(meta, secret, pass)| OutCredential {
                    name: &meta.name,
                    kind: meta.kind.code(),
                    secret: secret.expose(),
                    passphrase: pass.as_ref().map(|p| p.expose().as_str()),
                })
                .collect(),
        };
        let plaintext = Sensitive::new(
            serde_json::to_vec(&out).map_err(|e| ApiError::Internal(e.to_string()))?,
        );
        let report = BundleReport {
            servers: records.len(),
            host_keys: out.host_keys.len(),
            credentials: out.credentials.len(),
        };
        drop(out);
        let sealed = blocking(move || bundle::seal(plaintext.expose(), &passphrase, cost)).await?;
        self.store
            .append_audit(&[EntryDraft::new(
                at,
                EntryKind::BundleExported,
                caller.name(),
                "inventory",
            )
            .with("servers", report.servers as u64)
            .with("host_keys", report.host_keys as u64)
            .with("credentials", report.credentials as u64)
            .with_digest("file", &sealed)])
            .await?;
        Ok((sealed, report))
    }

    /// Opens a sealed bundle and imports all of it, or nothing. Servers and credentials it
    /// would replace are listed and refused unless `replace` is set.
    pub async fn bundle_import(
        &self,
        caller: &Caller,
        file: std::sync::Arc<Vec<u8>>,
        passphrase: Sensitive<String>,
        replace: bool,
    ) -> Result<BundleReport, ApiError> {
        bundle::check(file.len() as u64, &file[..file.len().min(bundle::HEADER)])?;
        let sealed = file.clone();
        let plaintext = blocking(move || bundle::open(&sealed, &passphrase)).await?;
        // Position only: serde's message may quote a value, and values here are secrets.
        let parsed: InBundle = serde_json::from_slice(plaintext.expose()).map_err(|e| {
            ApiError::InvalidRequest(format!(
                "the bundle's contents are not readable (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        drop(plaintext);
        if parsed.format != FORMAT {
            return Err(ApiError::InvalidRequest(format!(
                "unknown bundle format `{}`",
                guardia_domain::text::excerpt(&parsed.format, 40)
            )));
        }
        // Validate everything first.
        let rows = inventory::csv::parse_rows(&parsed.inventory_csv).map_err(|p| {
            ApiError::ImportRejected(format!(
                "the bundle's inventory was refused: {}",
                p.iter()
                    .take(20)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let at = self.clock.now().with_timezone(&Utc);
        let actor = caller.name().to_owned();
        let mut pins = Vec::new();
        for pin in &parsed.host_keys {
            if !rows.iter().any(|r| r.record.server == pin.server) {
                return Err(ApiError::InvalidRequest(format!(
                    "the bundle pins unknown server `{}`",
                    guardia_domain::text::excerpt(&pin.server, 64)
                )));
            }
            let key = HostKey::parse_openssh(&pin.key)
                .map_err(|e| ApiError::InvalidRequest(format!("{}: {e}", pin.server)))?;
            pins.push((
                pin.server.clone(),
                PinnedHostKey {
                    key: key.to_openssh(),
                    fingerprint: key.fingerprint(),
                    trusted_by: actor.clone(),
                    trusted_at: at,
                    source: PinSource::Bundle,
                },
            ));
        }
        let mut names = std::collections::HashSet::new();
        for c in &parsed.credentials {
            crate::inventory::check_credential_name(&c.name)?;
            if !names.insert(c.name.as_str()) {
                return Err(ApiError::InvalidRequest(format!(
                    "the bundle holds credential `{}` twice",
                    c.name
                )));
            }
            check_secret(&format!("credential `{}`", c.name), &c.secret)?;
            if let Some(p) = &c.passphrase {
                check_secret(&format!("the passphrase of credential `{}`", c.name), p)?;
            }
            match c.kind.as_str() {
                "password" => {}
                "key" => guardia_ssh::private_key_fingerprint(&c.secret, c.passphrase.as_deref())
                    .map(drop)
                    .map_err(|e| {
                        ApiError::InvalidRequest(format!("credential `{}`: {e}", c.name))
                    })?,
                other => {
                    return Err(ApiError::InvalidRequest(format!(
                        "credential `{}` has unknown kind `{}`",
                        c.name,
                        guardia_domain::text::excerpt(other, 20)
                    )));
                }
            }
        }
        if !replace {
            let replaced = self
                .bundle_would_replace(&rows, &parsed.credentials)
                .await?;
            if !replaced.is_empty() {
                return Err(ApiError::WouldReplace(format!(
                    "the bundle would replace what this console already has; nothing was imported. \
                     Check, then import again with --replace (the window asks):\n{}",
                    replaced.join("\n")
                )));
            }
        }

        // Stage every secret under a fresh keyring entry; nothing in use is touched.
        let mut staged = Vec::new();
        let mut metas = Vec::new();
        for c in &parsed.credentials {
            let slot = Slot::fresh(&self.origin, &c.name)?;
            metas.push(CredentialMeta {
                name: c.name.clone(),
                kind: if c.kind == "key" {
                    CredentialKind::Key
                } else {
                    CredentialKind::Password
                },
                has_passphrase: c.passphrase.is_some(),
                keyring_account: Some(slot.account().to_owned()),
                updated_at: at,
                updated_by: actor.clone(),
            });
            staged.push(Staged {
                slot,
                secret: Sensitive::new(c.secret.as_bytes().to_vec()),
                passphrase: c
                    .passphrase
                    .as_ref()
                    .map(|p| Sensitive::new(p.as_bytes().to_vec())),
            });
        }
        let slots: Vec<Slot> = staged.iter().map(|s| s.slot.clone()).collect();
        self.stage_secrets(staged).await?;

        // One transaction: servers, credentials pointing at the new entries, pins, audit.
        let credentials = parsed.credentials.len() as u64;
        let servers_entry = |o: &ImportOutcome| {
            EntryDraft::new(at, EntryKind::BundleImported, actor.clone(), "inventory")
                .with("created", u64::from(o.created))
                .with("updated", u64::from(o.updated))
                .with("changed", crate::inventory::changes_value(&o.changes))
                .with("credentials", credentials)
                .with_digest("file", &file)
        };
        let credential_entry =
            |m: &CredentialMeta| credential_set_entry(at, &actor, m).with("source", "bundle");
        let pin_entry = |(server, pin): &(String, PinnedHostKey)| {
            crate::inventory::pin_entry(at, &actor, server, pin)
        };
        let committed = self
            .store
            .import_bundle(
                BundleRows {
                    servers: &rows,
                    credentials: &metas,
                    pins: &pins,
                },
                at,
                BundleAudit {
                    servers: &servers_entry,
                    credential: &credential_entry,
                    pin: &pin_entry,
                },
            )
            .await;
        if let Err(e) = committed {
            self.abandon(slots).await;
            return Err(e.into());
        }
        // The replaced entries were journalled as retired by the commit.
        self.tidy_keyring().await?;
        Ok(BundleReport {
            servers: rows.len(),
            host_keys: pins.len(),
            credentials: parsed.credentials.len(),
        })
    }

    /// What an import of these servers and credentials would overwrite: servers that exist
    /// with other values, and credentials that exist at all.
    async fn bundle_would_replace(
        &self,
        rows: &[inventory::ImportRow],
        credentials: &[InCredential],
    ) -> Result<Vec<String>, ApiError> {
        let mut out = Vec::new();
        for c in credentials {
            if self.store.credential(&c.name).await?.is_some() {
                out.push(format!("  credential {} (its secret)", c.name));
            }
        }
        let stored: std::collections::HashMap<String, guardia_store::StoredServer> = self
            .all_records()
            .await?
            .into_iter()
            .map(|s| (s.record.server.clone(), s))
            .collect();
        for row in rows {
            if let Some(old) = stored.get(&row.record.server) {
                let fields = row.record.changed_columns(&old.record);
                if !fields.is_empty() {
                    out.push(format!(
                        "  server {} ({})",
                        row.record.server,
                        fields.join(", ")
                    ));
                }
            }
        }
        Ok(out)
    }
}
