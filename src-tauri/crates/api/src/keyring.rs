//! Credential secrets in the OS keyring: scoped to this console, versioned, journalled.
//!
//! A credential's secret lives under the account `<origin>/<credential>/<version>` (the
//! origin names this console's audit log), so two data directories on one OS account never
//! share or overwrite each other's entries. A new secret is written under a **new** version,
//! never over the one in use, in three steps:
//!
//! 1. *stage* — the new account is noted in the database's keyring journal, then written;
//! 2. *commit* — one database transaction points the credential at the new account and
//!    journals the old one as retired (with the audit entry);
//! 3. *tidy* — journalled accounts nothing references are deleted from the keyring.
//!
//! Killed anywhere, the database decides: before the commit the old secret is untouched
//! and still referenced, after it the new one is; whatever is left over is in the journal
//! and [`Api::tidy_keyring`] removes it on the next start.

use guardia_secrets::{SecretName, Sensitive};
use guardia_store::{CredentialMeta, KeyringNote};

use crate::inventory::{CREDENTIAL_SERVICE, PASSPHRASE_SERVICE, blocking};
use crate::{Api, ApiError};

/// Where one version of a credential's secret (and passphrase) is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    account: String,
}

impl Slot {
    /// A new, unused version for `credential` of the console `origin`.
    pub(crate) fn fresh(origin: &str, credential: &str) -> Result<Self, ApiError> {
        let mut version = [0u8; 6];
        getrandom::fill(&mut version)
            .map_err(|e| ApiError::Internal(format!("no randomness for a keyring name: {e}")))?;
        Ok(Self {
            account: format!("{origin}/{credential}/{}", hex_of(&version)),
        })
    }

    /// The version a stored credential uses (before scoping: the bare credential name).
    pub(crate) fn of(meta: &CredentialMeta) -> Self {
        Self::at(meta.keyring_account.as_deref().unwrap_or(&meta.name))
    }

    fn at(account: &str) -> Self {
        Self {
            account: account.to_owned(),
        }
    }

    pub(crate) fn account(&self) -> &str {
        &self.account
    }

    pub(crate) fn secret(&self) -> SecretName {
        SecretName::new(CREDENTIAL_SERVICE, &self.account)
    }

    pub(crate) fn passphrase(&self) -> SecretName {
        SecretName::new(PASSPHRASE_SERVICE, &self.account)
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A secret about to be written into a fresh slot.
pub(crate) struct Staged {
    pub slot: Slot,
    pub secret: Sensitive<Vec<u8>>,
    pub passphrase: Option<Sensitive<Vec<u8>>>,
}

/// What tidying found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeyringTidy {
    /// Leftover entries deleted from the keyring.
    pub removed: usize,
    /// Journal notes whose entries turned out to be in use.
    pub kept: usize,
    /// Staged by a process that is still running (maybe about to commit): left alone.
    pub in_flight: usize,
    /// Credentials moved from an unscoped (shared) entry to their own.
    pub migrated: usize,
}

/// Whether process `pid` of this machine is running.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // No cheap check without platform calls: assume the writer is gone.
        false
    }
}

impl Api {
    /// Journals, then writes, each staged secret. Nothing that is in use is touched. On
    /// failure what was written is removed again.
    pub(crate) async fn stage_secrets(&self, staged: Vec<Staged>) -> Result<(), ApiError> {
        let accounts: Vec<String> = staged.iter().map(|s| s.slot.account.clone()).collect();
        self.store
            .stage_keyring(&accounts, std::process::id())
            .await?;
        let secrets = self.secrets.clone();
        let slots: Vec<Slot> = staged.iter().map(|s| s.slot.clone()).collect();
        let written = blocking(move || {
            for s in &staged {
                secrets.set(&s.slot.secret(), &s.secret)?;
                if let Some(p) = &s.passphrase {
                    secrets.set(&s.slot.passphrase(), p)?;
                }
            }
            Ok::<_, guardia_secrets::SecretError>(())
        })
        .await;
        if let Err(e) = written {
            self.abandon(slots).await;
            return Err(e);
        }
        Ok(())
    }

    /// Deletes the secret and passphrase entries of `slots` from the keyring.
    async fn delete_slots(&self, slots: Vec<Slot>) -> Result<(), ApiError> {
        let secrets = self.secrets.clone();
        blocking(move || {
            for slot in &slots {
                secrets.delete(&slot.secret())?;
                secrets.delete(&slot.passphrase())?;
            }
            Ok::<_, guardia_secrets::SecretError>(())
        })
        .await
    }

    /// Removes staged slots whose commit failed (best effort: what stays is in the journal).
    pub(crate) async fn abandon(&self, slots: Vec<Slot>) {
        let accounts: Vec<String> = slots.iter().map(|s| s.account.clone()).collect();
        match self.delete_slots(slots).await {
            Ok(()) => {
                if let Err(e) = self.store.settle_keyring(&accounts).await {
                    tracing::warn!("keyring journal not settled: {e}");
                }
            }
            Err(e) => tracing::warn!("staged keyring entries left for the next start: {e}"),
        }
    }

    /// Deletes journalled keyring entries nothing references, and forgets the notes of those
    /// in use. Runs at start and after every credential change.
    pub async fn tidy_keyring(&self) -> Result<KeyringTidy, ApiError> {
        let journal = self.store.keyring_journal().await?;
        let mut tidy = KeyringTidy::default();
        if journal.is_empty() {
            return Ok(tidy);
        }
        let referenced: std::collections::HashSet<String> = self
            .store
            .credentials()
            .await?
            .iter()
            .map(|m| Slot::of(m).account)
            .collect();
        let mut settle = Vec::new();
        let mut garbage = Vec::new();
        for note in journal {
            if referenced.contains(&note.account) {
                tidy.kept += 1;
                settle.push(note.account);
            } else if note.note == KeyringNote::Staged
                && note.owner_pid != std::process::id()
                && alive(note.owner_pid)
            {
                tidy.in_flight += 1;
            } else {
                garbage.push(Slot::at(&note.account));
            }
        }
        tidy.removed = garbage.len();
        settle.extend(garbage.iter().map(|s| s.account.clone()));
        self.delete_slots(garbage).await?;
        self.store.settle_keyring(&settle).await?;
        Ok(tidy)
    }

    /// Gives every credential still on an unscoped entry (`guardia-credential/<name>`, shared
    /// by every data directory of this OS account) its own scoped copy. The shared entry is
    /// left where it is: another data directory may still be using it.
    pub async fn migrate_keyring(&self) -> Result<usize, ApiError> {
        let mut migrated = 0;
        for meta in self.store.credentials().await? {
            if meta.keyring_account.is_some() {
                continue;
            }
            let legacy = Slot::of(&meta);
            let secrets = self.secrets.clone();
            let (secret, passphrase) = blocking(move || {
                Ok::<_, guardia_secrets::SecretError>((
                    secrets.get(&legacy.secret())?,
                    secrets.get(&legacy.passphrase())?,
                ))
            })
            .await?;
            let Some(secret) = secret else {
                // Nothing to copy; the credential list shows it missing from the keyring.
                continue;
            };
            let slot = Slot::fresh(&self.origin, &meta.name)?;
            self.stage_secrets(vec![Staged {
                slot: slot.clone(),
                secret,
                passphrase,
            }])
            .await?;
            if let Err(e) = self
                .store
                .move_credential_account(&meta.name, slot.account())
                .await
            {
                self.abandon(vec![slot]).await;
                return Err(e.into());
            }
            migrated += 1;
        }
        if migrated > 0 {
            self.tidy_keyring().await?;
        }
        Ok(migrated)
    }

    /// Start-up repair: tidy what a crash left, then migrate unscoped entries. A keyring that
    /// cannot be reached is logged, not fatal: nothing is deleted without it.
    pub async fn recover_keyring(&self) -> KeyringTidy {
        let mut tidy = match self.tidy_keyring().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("keyring journal not tidied: {e}");
                KeyringTidy::default()
            }
        };
        match self.migrate_keyring().await {
            Ok(n) => tidy.migrated = n,
            Err(e) => tracing::warn!("credentials not moved to scoped keyring entries: {e}"),
        }
        if tidy != KeyringTidy::default() {
            tracing::info!(?tidy, "keyring recovered");
        }
        tidy
    }
}
