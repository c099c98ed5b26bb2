//! # guardia-api — the operations of the console, with no window attached
//!
//! [`Api`] is the one surface the desktop shell and the `guardia` CLI both call (the
//! GitButler pattern): a Tauri command is a one-line adapter onto a method here, and the CLI
//! calls the very same method, so the two can never disagree about validation, ids or
//! errors. Methods take and return the IPC types of `guardia-ipc`, which is also what the CLI
//! prints with `--json`.
//!
//! This is the edge of the core: raw drafts and id strings are validated into domain types
//! here, the clock is read here (through [`Clock`], so tests pin time), and failures become
//! an [`ApiError`] with a stable code. Permission checks land here when people and roles do.

mod approval_entries;
mod approvals;
mod audit;
mod audit_entries;
mod audit_export;
mod bundle;
mod caller;
mod data_dir;
mod demo;
mod error;
mod incident_entries;
mod incidents;
mod inventory;
mod keyring;
mod live;
mod logging;
mod notices;
mod ops;
mod people;
mod remote;
mod review_entries;
mod reviews;
mod rollout_entries;
mod rollout_run;
mod rollouts;
mod session;
mod tasks;

pub use approvals::{ApprovalError, Approvals, CONFIRM_EVERY, SLA_DEADLINE, SLA_SWEEP};
pub use audit::{
    CheckpointReason, DAILY, InclusionProof, KEY_SERVICE, VerifyOptions, VerifyTrigger,
    verification_due,
};
pub use bundle::BundleReport;
pub use caller::{Caller, Permission, Role, RoleGrant};
pub use data_dir::{DataDir, create_private, private_dir, write_private};
pub use error::ApiError;
pub use guardia_engine::{Clock, FixedClock, ManualClock, Runtime, SystemClock};
pub use incidents::{
    INCIDENT_ACTOR, INCIDENT_DEADLINE, INCIDENT_SWEEP, IncidentNotice, IncidentNoticeMemory,
    Incidents,
};
pub use inventory::{CREDENTIAL_SERVICE, MAX_SECRET_BYTES, PASSPHRASE_SERVICE};
pub use keyring::KeyringTidy;
pub use logging::init_logging;
pub use notices::{Notice, NoticeMemory};
pub use ops::{BOUND, Operation, PERMISSIONS};
pub use people::{DEMO_PASSWORD, People, PeopleError, SignInRefused};
pub use reviews::{FULL_COVERAGE_KEY, INBOX_ACTOR, Loaded, MAX_WINDOW, ReviewError, Reviews};
pub use rollouts::{ALLOWED_WHILE_LOCKED, KillSwitchNotice, REFUSED_WHILE_LOCKED, Rollouts};
pub use session::Session;
pub use tasks::{TaskError, Tasks};

use std::sync::Arc;

use guardia_audit::AuditSigningKey;
use guardia_ipc::{AppInfo, Lang, Preferences};
use guardia_secrets::{OsKeyring, SecretStore};
use guardia_store::Store;
use tokio::sync::OnceCell;

/// The shared context of the console's capabilities over one store: `api.tasks()`, the
/// ledger (`audit_*`), the fleet (inventory, credentials, host keys, remote), the runtime.
/// Who acts is never stored here: every operation is handed its [`Caller`].
pub struct Api {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    runtime: Runtime,
    data_dir: DataDir,
    default_lang: Lang,
    secrets: Arc<dyn SecretStore>,
    /// The audit log's name, read (or created) when the API opens.
    origin: String,
    /// The audit signing key, loaded from the keyring on first use.
    signer: OnceCell<Arc<AuditSigningKey>>,
    /// Packages under review, parsed, and the rows served to each reviewer.
    review_state: reviews::ReviewState,
    /// Rollouts this process runs, and the journal's group writer.
    rollout_registry: rollouts::RolloutRegistry,
    /// The commit the program was built from, as its build script found it (About box).
    build_commit: std::sync::OnceLock<&'static str>,
}

/// What an [`Api`] is made of.
pub struct ApiParts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub data_dir: DataDir,
    pub default_lang: Lang,
    pub secrets: Arc<dyn SecretStore>,
}

const LANG_KEY: &str = "lang";

impl Api {
    /// Assembles an API from its parts (tests use this with a [`FixedClock`] or a
    /// [`ManualClock`]); names the audit log on first use of the database. The runtime is
    /// created here, idle: [`start`](Self::start) sets it going.
    pub async fn new(parts: ApiParts) -> Result<Self, ApiError> {
        let origin = audit::load_origin(parts.store.as_ref()).await?;
        let api = Self {
            runtime: Runtime::new(parts.clock.clone()),
            store: parts.store,
            clock: parts.clock,
            data_dir: parts.data_dir,
            default_lang: parts.default_lang,
            secrets: parts.secrets,
            origin,
            signer: OnceCell::new(),
            build_commit: std::sync::OnceLock::new(),
            review_state: reviews::ReviewState::default(),
            rollout_registry: rollouts::RolloutRegistry::default(),
        };
        // A kill switch pressed in another process (or before a restart) holds here too.
        api.follow_kill_switch().await;
        // Incidents open for causes from now on (not for a database's whole history).
        incidents::init_scan_cursor(api.store.as_ref()).await?;
        // What a crash mid-change left in the keyring goes; unscoped entries get their own.
        api.recover_keyring().await;
        Ok(api)
    }

    /// Opens the embedded database in `data_dir` on the system clock, with secrets in the
    /// OS keyring.
    pub async fn open(data_dir: DataDir) -> Result<Self, ApiError> {
        data_dir.secure_database()?;
        let url = format!("sqlite:{}", data_dir.database().display());
        let store = guardia_store::open(&url).await?;
        Self::new(ApiParts {
            store,
            clock: Arc::new(SystemClock),
            data_dir,
            default_lang: lang_from_locale(&locale_from_env()),
            secrets: Arc::new(OsKeyring),
        })
        .await
    }

    /// Now, on the API's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now().to_utc()
    }

    /// The runtime: jobs, the root token, deadlines, the feed.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The caller's preferences; the language defaults to the OS locale until chosen.
    pub async fn preferences_get(&self, caller: &Caller) -> Result<Preferences, ApiError> {
        let stored = self.store.preference(caller.name(), LANG_KEY).await?;
        let lang = stored
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or(self.default_lang);
        Ok(Preferences { lang })
    }

    pub async fn preferences_set(
        &self,
        caller: &Caller,
        preferences: Preferences,
    ) -> Result<Preferences, ApiError> {
        self.store
            .set_preference(caller.name(), LANG_KEY, preferences.lang.code())
            .await?;
        self.preferences_get(caller).await
    }

    /// Names the commit the running program was built from (the binary's build script knows
    /// it; this crate is not rebuilt for every commit). Shown in the About box.
    pub fn identify_build(&self, commit: &'static str) {
        // Set once, by the program that opened the API; a second call changes nothing.
        let _ = self.build_commit.set(commit);
    }

    pub fn app_info(&self, caller: &Caller) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: self.build_commit.get().unwrap_or(&"unknown").to_string(),
            operator: caller.person.to_string(),
            data_dir: self.data_dir.path().display().to_string(),
            database: self.store.describe(),
        }
    }

    /// Fills an empty database with a realistic set of demo tasks; does nothing otherwise.
    /// Returns how many tasks were added.
    pub async fn seed_demo_if_empty(&self) -> Result<usize, ApiError> {
        if self.store.count_tasks().await? > 0 {
            return Ok(0);
        }
        let added = demo::seed(self.store.as_ref(), self.clock.now()).await?;
        // With the demo people there, the demo's waiting tasks get their approval chains.
        if self.store.count_people().await? > 0 {
            let workstation = whoami::hostname().unwrap_or_else(|_| "localhost".to_owned());
            self.approvals()
                .open_demo_chains(&workstation)
                .await
                .map_err(|e| ApiError::Internal(format!("demo approval chains: {e}")))?;
        }
        Ok(added)
    }
}

fn locale_from_env() -> String {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|value| !value.is_empty())
        .unwrap_or_default()
}

/// `ko_KR.UTF-8` → Korean; anything else (including `C`) → English.
pub fn lang_from_locale(locale: &str) -> Lang {
    if locale.to_ascii_lowercase().starts_with("ko") {
        Lang::Ko
    } else {
        Lang::En
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_locales_choose_korean_and_everything_else_english() {
        assert_eq!(lang_from_locale("ko_KR.UTF-8"), Lang::Ko);
        assert_eq!(lang_from_locale("KO"), Lang::Ko);
        assert_eq!(lang_from_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(lang_from_locale("C"), Lang::En);
        assert_eq!(lang_from_locale(""), Lang::En);
    }
}
