//! Offline hand-over: the inventory, its pins and its credentials (secrets included) as one
//! sealed file (guardia_secrets::bundle; format in docs/inventory.md).
//!
//! Import is all-or-nothing: the file is opened and every part validated before anything
//! is written; keyring entries are written before the database, and restored to what they
//! were if the database refuses the import.

use chrono::Utc;
use guardia_audit::{EntryDraft, EntryKind};
use guardia_domain::inventory;
use guardia_secrets::bundle::{self, KdfCost};
use guardia_secrets::{SecretName, Sensitive};
use guardia_ssh::HostKey;
use guardia_store::{CredentialKind, CredentialMeta, PinSource, ServerFilter};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::inventory::{
    blocking, credential_set_entry, keyring_text, passphrase_name, secret_name,
};
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
        let servers = self.store.servers(&ServerFilter::default()).await?;
        let metas = self.store.credentials().await?;
        let mut secrets = Vec::new();
        for meta in &metas {
            let store = self.secrets.clone();
            let name = meta.name.clone();
            let (secret, pass) = blocking(move || {
                Ok::<_, guardia_secrets::SecretError>((
                    store.get(&secret_name(&name))?,
                    store.get(&passphrase_name(&name))?,
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

    /// Opens a sealed bundle and imports all of it, or nothing.
    pub async fn bundle_import(
        &self,
        caller: &Caller,
        file: Vec<u8>,
        passphrase: Sensitive<String>,
    ) -> Result<BundleReport, ApiError> {
        let digest_source = file.clone();
        let plaintext = blocking(move || bundle::open(&file, &passphrase)).await?;
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
                parsed.format
            )));
        }
        // Validate everything first.
        let records = inventory::csv::parse(&parsed.inventory_csv).map_err(|p| {
            ApiError::ImportRejected(format!(
                "the bundle's inventory was refused: {}",
                p.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let mut pins = Vec::new();
        for pin in &parsed.host_keys {
            if !records.iter().any(|r| r.server == pin.server) {
                return Err(ApiError::InvalidRequest(format!(
                    "the bundle pins unknown server `{}`",
                    pin.server
                )));
            }
            let key = HostKey::parse_openssh(&pin.key)
                .map_err(|e| ApiError::InvalidRequest(format!("{}: {e}", pin.server)))?;
            pins.push((pin.server.clone(), key));
        }
        for c in &parsed.credentials {
            match c.kind.as_str() {
                "password" => {}
                "key" => guardia_ssh::private_key_fingerprint(&c.secret, c.passphrase.as_deref())
                    .map(drop)
                    .map_err(|e| {
                        ApiError::InvalidRequest(format!("credential `{}`: {e}", c.name))
                    })?,
                other => {
                    return Err(ApiError::InvalidRequest(format!(
                        "credential `{}` has unknown kind `{other}`",
                        c.name
                    )));
                }
            }
        }

        // Keyring first, remembering what was there.
        let store = self.secrets.clone();
        let entries: Vec<(SecretName, Option<Sensitive<Vec<u8>>>)> = parsed
            .credentials
            .iter()
            .flat_map(|c| {
                [
                    (
                        secret_name(&c.name),
                        Some(Sensitive::new(c.secret.as_bytes().to_vec())),
                    ),
                    (
                        passphrase_name(&c.name),
                        c.passphrase
                            .as_ref()
                            .map(|p| Sensitive::new(p.as_bytes().to_vec())),
                    ),
                ]
            })
            .collect();
        let previous = blocking(move || {
            let mut previous = Vec::new();
            for (name, value) in &entries {
                previous.push((name.clone(), store.get(name)?));
                match value {
                    Some(v) => store.set(name, v)?,
                    None => store.delete(name)?,
                }
            }
            Ok::<_, guardia_secrets::SecretError>(previous)
        })
        .await?;

        let at = self.clock.now().with_timezone(&Utc);
        let actor = caller.name().to_owned();
        let database = async {
            self.store
                .import_servers(&records, at, &|o| {
                    EntryDraft::new(at, EntryKind::BundleImported, actor.clone(), "inventory")
                        .with("created", u64::from(o.created))
                        .with("updated", u64::from(o.updated))
                        .with("credentials", parsed.credentials.len() as u64)
                        .with_digest("file", &digest_source)
                })
                .await?;
            for c in &parsed.credentials {
                let meta = CredentialMeta {
                    name: c.name.clone(),
                    kind: if c.kind == "key" {
                        CredentialKind::Key
                    } else {
                        CredentialKind::Password
                    },
                    has_passphrase: c.passphrase.is_some(),
                    updated_at: at,
                    updated_by: actor.clone(),
                };
                self.store
                    .save_credential(&meta, &|m| {
                        credential_set_entry(at, &actor, m).with("source", "bundle")
                    })
                    .await?;
            }
            self.pin(caller, &pins, PinSource::Bundle).await
        };
        if let Err(e) = database.await {
            let store = self.secrets.clone();
            let restored = blocking(move || {
                for (name, value) in previous {
                    match value {
                        Some(v) => store.set(&name, &v)?,
                        None => store.delete(&name)?,
                    }
                }
                Ok::<_, guardia_secrets::SecretError>(())
            })
            .await;
            if let Err(restore) = restored {
                tracing::error!("a failed bundle import could not restore the keyring: {restore}");
            }
            return Err(e);
        }
        Ok(BundleReport {
            servers: records.len(),
            host_keys: pins.len(),
            credentials: parsed.credentials.len(),
        })
    }
}
