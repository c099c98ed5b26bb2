//! The audit ledger's operations: checkpoints (signed with the key in the OS keyring),
//! verification with progress, the activity list, imports, acknowledgements and proofs.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use guardia_audit::{
    AuditSigningKey, Checkpoint, Entry, EntryDraft, EntryKind, Hash, NodeId, Outcome, Report,
    Source, Verifier, VerifierKey, fold_range, hex_lower, inclusion_ranges, perfect_nodes,
    verify_inclusion,
};
use guardia_ipc::{
    Acknowledgement, AuditEntryView, AuditPage, AuditQuery, AuditStatus, CheckpointImport,
    CheckpointView, VerificationView, VerifyProgress,
};
use guardia_secrets::{SecretName, Sensitive};
use guardia_store::{
    AuditFilter, ExternalCheckpoint, NewVerification, StoredCheckpoint, StoredEntry,
    VerificationRecord,
};
use serde::Serialize;

use tokio_util::sync::CancellationToken;

use crate::{Api, ApiError, Caller};

/// The keyring service under which each log's signing key is kept (account: the origin).
pub const KEY_SERVICE: &str = "guardia-audit-signing";
const ORIGIN_KEY: &str = "origin";
const VERIFIER_KEY: &str = "verifier_key";
/// Rows read per batch while verifying: large enough to amortise the query, small enough
/// to report progress several times a second.
const SCAN_BATCH: u32 = 16_384;
/// How often the verification runs by itself.
pub const DAILY: Duration = Duration::hours(24);
const LIST_LIMIT: u32 = 100;

/// Why a checkpoint was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointReason {
    Every256,
    /// The console's background tick: nothing stays unsigned for long, even if the
    /// process is later killed before its shutdown checkpoint.
    Periodic,
    Shutdown,
    OnDemand,
    Approval,
    RolloutPhase,
}

impl CheckpointReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::Every256 => "every-256",
            Self::Periodic => "periodic",
            Self::Shutdown => "shutdown",
            Self::OnDemand => "on-demand",
            Self::Approval => "approval",
            Self::RolloutPhase => "rollout-phase",
        }
    }
}

/// What started a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyTrigger {
    Manual,
    Daily,
    Import,
}

impl VerifyTrigger {
    pub fn code(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Daily => "daily",
            Self::Import => "import",
        }
    }
}

/// Whether the daily verification is due: never run, or the last run is a day old.
pub fn verification_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| now - last >= DAILY)
}

/// A new log's name: this machine and a random tag, so two consoles never share one.
pub(crate) fn new_origin() -> Result<String, ApiError> {
    let host: String = whoami::hostname()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .take(48)
        .collect();
    let host = if host.is_empty() {
        "console".to_owned()
    } else {
        host
    };
    let mut tag = [0u8; 8];
    getrandom::fill(&mut tag).map_err(|e| ApiError::Internal(format!("random source: {e}")))?;
    Ok(format!("guardia.local/{host}/{}", hex_lower(&tag)))
}

pub(crate) async fn load_origin(store: &dyn guardia_store::Store) -> Result<String, ApiError> {
    if let Some(origin) = store.audit_meta(ORIGIN_KEY).await? {
        return Ok(origin);
    }
    Ok(store.init_audit_meta(ORIGIN_KEY, &new_origin()?).await?)
}

/// Options for a verification.
#[derive(Debug, Default)]
pub struct VerifyOptions {
    /// Trust this key instead of the one in the keyring (an auditor's own copy).
    pub key: Option<VerifierKey>,
    /// Checkpoints kept elsewhere: (signed note, where it came from).
    pub external: Vec<(String, String)>,
    /// Entries per read (default 16,384); small values let tests cross many chunks.
    pub chunk_entries: Option<u32>,
}

/// An inclusion proof a third party can check with SHA-256 and Ed25519 alone.
#[derive(Debug, Clone, Serialize)]
pub struct InclusionProof {
    pub format: &'static str,
    /// The signed checkpoint the proof leads to (check its signature first).
    pub checkpoint: String,
    pub verifier_key: String,
    pub index: u64,
    pub tree_size: u64,
    /// The entry's exact bytes, base64.
    pub entry_base64: String,
    /// The entry as text, for reading.
    pub entry_text: String,
    /// Hex SHA-256(0x00 ‖ entry).
    pub leaf_hash: String,
    /// Hex hashes, nearest the leaf first (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
}

fn checkpoint_view(checkpoint: StoredCheckpoint) -> CheckpointView {
    CheckpointView {
        size: checkpoint.size,
        reason: checkpoint.reason,
        created_at: checkpoint.created_at,
        exported_at: checkpoint.exported_at,
        note: checkpoint.note,
    }
}

fn verification_view(record: VerificationRecord) -> VerificationView {
    let run = record.run;
    VerificationView {
        id: record.id,
        started_at: run.started_at,
        finished_at: run.finished_at,
        trigger: run.trigger,
        actor: run.actor,
        ok: run.ok,
        entries: run.entries,
        checkpoints: run.checkpoints,
        first_bad: run.first_bad,
        problem_code: run.problem_code,
        problem: run.problem,
        acknowledged_by: record.acknowledged_by,
        acknowledged_at: record.acknowledged_at,
        acknowledgement: record.acknowledgement,
    }
}

/// `key=value, …` of a payload, strings unquoted.
fn details(entry: &Entry) -> String {
    entry
        .payload
        .iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => format!("{key}={text}"),
            other => format!("{key}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn entry_view(stored: &StoredEntry) -> AuditEntryView {
    let leaf = hex_lower(&stored.leaf);
    match Entry::decode(&stored.bytes) {
        Ok(entry) => AuditEntryView {
            index: stored.index,
            at: entry.at,
            details: details(&entry),
            kind: entry.kind,
            actor: entry.actor,
            subject: entry.subject,
            result: entry.result,
            leaf,
        },
        // Shown, not hidden: an undecodable entry is exactly what an auditor must see.
        Err(e) => AuditEntryView {
            index: stored.index,
            at: DateTime::<Utc>::MIN_UTC,
            kind: "?".to_owned(),
            actor: "?".to_owned(),
            subject: "?".to_owned(),
            result: Outcome::Unknown.code().to_owned(),
            details: format!("undecodable entry: {e}"),
            leaf,
        },
    }
}

pub(crate) fn audit_filter(query: &AuditQuery, limit: u32) -> AuditFilter {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    AuditFilter {
        before: query.before,
        kind: text(&query.kind),
        actor: text(&query.actor),
        subject: text(&query.subject),
        result: text(&query.result),
        text: query.text.clone(),
        limit,
    }
}

impl Api {
    /// The log's name (first line of its checkpoints).
    pub fn audit_origin(&self) -> &str {
        &self.origin
    }

    fn key_name(&self) -> SecretName {
        SecretName::new(KEY_SERVICE, self.origin.clone())
    }

    /// The key the keyring holds for this log, whatever the log records.
    async fn keyring_key(&self) -> Result<Option<AuditSigningKey>, ApiError> {
        let secrets = self.secrets.clone();
        let name = self.key_name();
        let seed = tokio::task::spawn_blocking(move || secrets.get(&name))
            .await
            .map_err(|e| ApiError::Internal(format!("keyring task: {e}")))??;
        let Some(seed) = seed else {
            return Ok(None);
        };
        AuditSigningKey::from_seed(&self.origin, seed.expose())
            .map(Some)
            .map_err(|_| ApiError::KeyMalformed(self.key_name().to_string()))
    }

    /// Reads the signing key from the keyring, without creating one; refuses a key the log
    /// does not record as its own.
    async fn stored_signing_key(&self) -> Result<Option<AuditSigningKey>, ApiError> {
        let Some(key) = self.keyring_key().await? else {
            return Ok(None);
        };
        if let Some(recorded) = self.store.audit_meta(VERIFIER_KEY).await?
            && recorded != key.verifier().to_string()
        {
            return Err(ApiError::KeyMismatch {
                recorded,
                keyring: key.verifier().to_string(),
            });
        }
        Ok(Some(key))
    }

    /// The key that signs this log's checkpoints: from the keyring, created there on first
    /// use. Never silently replaced: if the log was signed before and the keyring no longer
    /// has its key, signing fails until the keyring is restored.
    pub async fn signing_key(&self) -> Result<Arc<AuditSigningKey>, ApiError> {
        self.signer
            .get_or_try_init(|| async {
                if let Some(key) = self.stored_signing_key().await? {
                    return Ok(Arc::new(key));
                }
                if let Some(recorded) = self.store.audit_meta(VERIFIER_KEY).await? {
                    return Err(ApiError::KeyMissing {
                        name: self.key_name().to_string(),
                        recorded,
                    });
                }
                let key = AuditSigningKey::generate(&self.origin)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                let secrets = self.secrets.clone();
                let name = self.key_name();
                let seed = Sensitive::new(key.seed().to_vec());
                tokio::task::spawn_blocking(move || secrets.set(&name, &seed))
                    .await
                    .map_err(|e| ApiError::Internal(format!("keyring task: {e}")))??;
                let vkey = key.verifier().to_string();
                let standing = self.store.init_audit_meta(VERIFIER_KEY, &vkey).await?;
                if standing != vkey {
                    // Another process created the key at the same moment and won.
                    return Err(ApiError::KeyMismatch {
                        recorded: standing,
                        keyring: vkey,
                    });
                }
                tracing::info!(verifier = %vkey, "audit signing key created in the OS keyring");
                Ok(Arc::new(key))
            })
            .await
            .cloned()
    }

    /// The key verification trusts: the given one, else the keyring's. A log that was
    /// never signed has no key yet; any checkpoint it holds is then necessarily foreign,
    /// and a throwaway key makes the verifier say so.
    async fn trusted_key(&self, given: Option<VerifierKey>) -> Result<VerifierKey, ApiError> {
        if let Some(key) = given {
            return Ok(key);
        }
        if let Some(key) = self.signer.get() {
            return Ok(key.verifier());
        }
        // This console's own key, even when the log records another one: checkpoints that
        // do not verify under it are evidence of tampering, to be found and recorded by the
        // verification — not a keyring problem that lets the verification be skipped.
        if let Some(key) = self.keyring_key().await? {
            return Ok(key.verifier());
        }
        match self.stored_signing_key().await? {
            Some(key) => Ok(key.verifier()),
            None => match self.store.audit_meta(VERIFIER_KEY).await? {
                Some(recorded) => Err(ApiError::KeyMissing {
                    name: self.key_name().to_string(),
                    recorded,
                }),
                None => Ok(AuditSigningKey::generate(&self.origin)
                    .map_err(|e| ApiError::Internal(e.to_string()))?
                    .verifier()),
            },
        }
    }

    /// Signs a checkpoint of the whole log now (its own record included).
    pub async fn audit_checkpoint(
        &self,
        caller: &Caller,
        reason: CheckpointReason,
    ) -> Result<CheckpointView, ApiError> {
        let key = self.signing_key().await?;
        let entry = EntryDraft::new(
            self.clock.now().to_utc(),
            EntryKind::AuditCheckpoint,
            caller.name(),
            "audit:log",
        )
        .with("reason", reason.code())
        .with("key", key.verifier().to_string());
        let origin = self.origin.clone();
        let sign = move |head: guardia_store::AuditHead| {
            key.sign(&Checkpoint {
                origin: origin.clone(),
                size: head.size,
                root: head.root,
            })
        };
        let stored = self
            .store
            .write_checkpoint(&entry, reason.code(), &sign)
            .await?;
        tracing::info!(
            size = stored.size,
            reason = reason.code(),
            "audit checkpoint signed"
        );
        Ok(checkpoint_view(stored))
    }

    /// After appends: signs a checkpoint when the log has crossed a multiple of 256 since
    /// the last one. The change itself is already committed, so a failure here is logged
    /// and shown in the integrity panel rather than returned.
    pub(crate) async fn checkpoint_if_due(&self, caller: &Caller) {
        let every = guardia_audit::CHECKPOINT_EVERY;
        let due = self
            .signed_so_far()
            .await
            .map(|(size, signed)| size / every > signed / every);
        match due {
            Ok(true) => {
                if let Err(e) = self
                    .audit_checkpoint(caller, CheckpointReason::Every256)
                    .await
                {
                    tracing::warn!(error = %e, "periodic audit checkpoint not written");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot tell whether a checkpoint is due"),
        }
    }

    /// At shutdown (or the end of a CLI command): signs a checkpoint if anything was
    /// appended since the last one.
    pub async fn checkpoint_if_unsigned(
        &self,
        caller: &Caller,
        reason: CheckpointReason,
    ) -> Result<Option<CheckpointView>, ApiError> {
        let (size, signed) = self.signed_so_far().await?;
        if size == signed {
            return Ok(None);
        }
        self.audit_checkpoint(caller, reason).await.map(Some)
    }

    /// The log's size and the size its newest checkpoint signs.
    async fn signed_so_far(&self) -> Result<(u64, u64), ApiError> {
        let size = self.store.audit_head().await?.size;
        let signed = self.store.latest_checkpoint().await?.map_or(0, |c| c.size);
        Ok((size, signed))
    }

    /// Streams the whole log through the verifier. Appends nothing to the log (the
    /// console's [`audit_verify_now`](Self::audit_verify_now) records the run). Stops with
    /// [`ApiError::Cancelled`] when `cancel` fires.
    pub async fn audit_verify_with(
        &self,
        options: VerifyOptions,
        cancel: &CancellationToken,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<Report, ApiError> {
        let explicit = options.key.is_some();
        let key = self.trusted_key(options.key).await?;
        // Checkpoints first, then the head: every stored checkpoint is then within the head,
        // and the scan stops at the head, so entries appended meanwhile (the console keeps
        // working during a verification) are left for the next run instead of looking like
        // a size mismatch.
        let mut checkpoints: Vec<(String, Source)> = self
            .store
            .checkpoints()
            .await?
            .into_iter()
            .map(|c| (c.note, Source::Stored))
            .collect();
        for external in self.store.external_checkpoints().await? {
            checkpoints.push((external.note, Source::External(external.label)));
        }
        // A kept checkpoint that is not one of this log's (damaged, empty, another
        // console's) is a bad input file, reported before any entry is read — not tampering.
        for (note, label) in options.external {
            let note = guardia_audit::normalize_note(&note);
            key.open_for(&self.origin, &note)
                .map_err(|e| ApiError::BadFile {
                    path: label.clone(),
                    reason: format!("not a checkpoint of this log: {e}"),
                })?;
            checkpoints.push((note, Source::External(label)));
        }
        let head = self.store.audit_head().await?;
        let mut verifier = Verifier::new(&self.origin, &key, checkpoints);
        let total = head.size;
        progress(0, total);

        let batch = u64::from(options.chunk_entries.unwrap_or(SCAN_BATCH).max(1));
        let mut chunks = self.store.audit_scan(total, batch);
        loop {
            let rows = tokio::select! {
                () = cancel.cancelled() => return Err(ApiError::Cancelled),
                rows = chunks.recv() => rows,
            };
            let Some(rows) = rows else { break };
            let rows = rows?;
            for row in &rows {
                if !verifier.push(row.index, &row.bytes, &row.leaf) {
                    break;
                }
            }
            progress(verifier.position(), total.max(verifier.position()));
            if verifier.failed() {
                break;
            }
        }
        drop(chunks);
        let unrecorded = self.store.audit_unrecorded().await?;
        if unrecorded > 0 {
            let recorded = self.store.audit_head().await?.size;
            verifier.unrecorded(recorded, unrecorded);
        }
        if !explicit
            && let Some(recorded) = self.store.audit_meta(VERIFIER_KEY).await?
            && recorded != key.to_string()
        {
            verifier.key_replaced(recorded, key.to_string());
        }
        let report = verifier.finish(Some((head.size, head.root)));
        progress(report.entries, total.max(report.entries));
        Ok(report)
    }

    /// Verifies now and records the run (with its audit entry). Progress goes to
    /// `progress`; the console runs this as a job (one at a time) and puts it on the feed.
    pub async fn audit_verify_now(
        &self,
        caller: &Caller,
        trigger: VerifyTrigger,
        cancel: &CancellationToken,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<VerificationView, ApiError> {
        self.audit_verify_recorded(caller, trigger, VerifyOptions::default(), cancel, progress)
            .await
    }

    /// [`audit_verify_with`](Self::audit_verify_with), then records the run (with its
    /// audit entry) so a failure blocks rollouts until acknowledged — whoever ran it, the
    /// console or the CLI.
    pub async fn audit_verify_recorded(
        &self,
        caller: &Caller,
        trigger: VerifyTrigger,
        options: VerifyOptions,
        cancel: &CancellationToken,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<VerificationView, ApiError> {
        let started_at = self.clock.now().to_utc();
        let report = self.audit_verify_with(options, cancel, progress).await?;
        self.record_verification(caller, trigger, started_at, &report)
            .await
    }

    /// Records a finished run with its audit entry; a failed one blocks rollouts until an
    /// admin acknowledges it.
    pub async fn record_verification(
        &self,
        caller: &Caller,
        trigger: VerifyTrigger,
        started_at: DateTime<Utc>,
        report: &Report,
    ) -> Result<VerificationView, ApiError> {
        let finished_at = self.clock.now().to_utc();
        let failure = report.failure.as_ref();
        let run = NewVerification {
            started_at,
            finished_at,
            trigger: trigger.code().to_owned(),
            actor: caller.person.to_string(),
            ok: report.ok(),
            entries: report.entries,
            checkpoints: report.checkpoints_verified as u64,
            first_bad: failure.map(|f| f.first_bad),
            problem_code: failure.map(|f| f.problem.code().to_owned()),
            problem: failure.map(|f| f.problem.to_string()),
        };
        let entry = EntryDraft::new(
            finished_at,
            EntryKind::AuditVerified,
            caller.name(),
            "audit:log",
        )
        .outcome(if report.ok() {
            Outcome::Ok
        } else {
            Outcome::Failed
        })
        .with("trigger", trigger.code())
        .with("entries", report.entries)
        .with("checkpoints", report.checkpoints_verified as u64)
        .with("first_bad", run.first_bad)
        .with("problem", run.problem_code.clone())
        .with("root", hex_lower(&report.root));
        let record = self.store.record_verification(&run, &entry).await?;
        Ok(verification_view(record))
    }

    /// Whether the daily verification is due now.
    pub async fn audit_verification_due(&self) -> Result<bool, ApiError> {
        let last = self
            .store
            .latest_verification()
            .await?
            .map(|r| r.run.finished_at);
        Ok(verification_due(last, self.clock.now().to_utc()))
    }

    /// The integrity panel.
    pub async fn audit_status(&self) -> Result<AuditStatus, ApiError> {
        let progress = self
            .runtime
            .jobs()
            .running()
            .into_iter()
            .find(|job| job.kind == guardia_ipc::JobKind::Verification)
            .map_or_else(VerifyProgress::default, |job| match job.state {
                guardia_ipc::JobState::Running { done, total, .. } => VerifyProgress {
                    running: true,
                    done,
                    total,
                },
                _ => VerifyProgress::default(),
            });
        let head = self.store.audit_head().await?;
        let (verifier_key, key_problem) = match self.signing_key().await {
            Ok(key) => (Some(key.verifier().to_string()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let exported = self.store.last_exported_size().await?.unwrap_or(0);
        let last_verification = self.store.latest_verification().await?;
        let due = verification_due(
            last_verification.as_ref().map(|r| r.run.finished_at),
            self.clock.now().to_utc(),
        );
        Ok(AuditStatus {
            origin: self.origin.clone(),
            verifier_key,
            key_problem,
            entries: head.size,
            last_checkpoint: self.store.latest_checkpoint().await?.map(checkpoint_view),
            entries_since_export: head.size.saturating_sub(exported),
            external_checkpoints: self.store.external_checkpoints().await?.len() as u64,
            last_verification: last_verification.map(verification_view),
            progress,
            rollouts_blocked: self.store.unacknowledged_failure().await?.is_some(),
            verification_due: due,
        })
    }

    /// Refuses when a failed verification has not been acknowledged. Rollouts call this
    /// before anything is sent to a server.
    pub async fn ensure_rollouts_allowed(&self) -> Result<(), ApiError> {
        match self.store.unacknowledged_failure().await? {
            Some(failure) => Err(ApiError::IntegrityBlocked {
                problem: failure.run.problem.unwrap_or_default(),
            }),
            None => Ok(()),
        }
    }

    /// An admin acknowledges the failed verification, which unblocks rollouts. The
    /// acknowledgement (who, when, what they wrote) is itself an audit entry.
    pub async fn audit_acknowledge(
        &self,
        caller: &Caller,
        ack: Acknowledgement,
    ) -> Result<AuditStatus, ApiError> {
        let note = ack.note.trim();
        if note.chars().count() < 10 {
            return Err(ApiError::InvalidRequest(
                "say what was found and what is being done about it (at least 10 characters)"
                    .to_owned(),
            ));
        }
        let failure = self.store.unacknowledged_failure().await?.ok_or_else(|| {
            ApiError::InvalidRequest("there is no failed verification to acknowledge".to_owned())
        })?;
        let now = self.clock.now().to_utc();
        let entry = EntryDraft::new(
            now,
            EntryKind::AuditFailureAcknowledged,
            caller.name(),
            "audit:log",
        )
        .with("verification", failure.id)
        .with("first_bad", failure.run.first_bad)
        .with("problem", failure.run.problem_code.clone())
        .with("note", note);
        self.store
            .acknowledge_verification(failure.id, caller.name(), now, note, &entry)
            .await?;
        tracing::warn!(
            verification = failure.id,
            "audit failure acknowledged; rollouts unblocked"
        );
        self.audit_status().await
    }

    /// A page of the activity list.
    pub async fn audit_list(&self, query: AuditQuery) -> Result<AuditPage, ApiError> {
        let limit = query.limit.unwrap_or(LIST_LIMIT).clamp(1, 1_000);
        // One more than asked tells whether an older page exists.
        let mut rows = self
            .store
            .audit_page(&audit_filter(&query, limit + 1))
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_before = if more {
            rows.last().map(|r| r.index)
        } else {
            None
        };
        Ok(AuditPage {
            entries: rows.iter().map(entry_view).collect(),
            next_before,
            total: self.store.audit_head().await?.size,
        })
    }

    /// Checks a checkpoint kept elsewhere and keeps it. A checkpoint that does not verify
    /// with this log's key is refused and nothing is stored. A valid one that signs more
    /// than the log holds is kept — it is the evidence — and the verification it triggers
    /// (in the background) fails.
    pub async fn audit_checkpoint_import(
        self: &Arc<Self>,
        caller: &Caller,
        import: CheckpointImport,
    ) -> Result<AuditStatus, ApiError> {
        self.keep_external_checkpoint(caller, import).await?;
        match self.start_verification(caller, VerifyTrigger::Import) {
            // One running already may have started before the checkpoint was kept; the
            // next run reads it. The panel says a verification is running either way.
            Ok(_) | Err(guardia_engine::JobRefused::AlreadyRunning(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.audit_status().await
    }

    /// [`audit_checkpoint_import`](Self::audit_checkpoint_import), verifying before it returns.
    pub async fn audit_import_checkpoint_now(
        &self,
        caller: &Caller,
        import: CheckpointImport,
    ) -> Result<VerificationView, ApiError> {
        self.keep_external_checkpoint(caller, import).await?;
        self.audit_verify_now(
            caller,
            VerifyTrigger::Import,
            &CancellationToken::new(),
            &|_, _| {},
        )
        .await
    }

    async fn keep_external_checkpoint(
        &self,
        caller: &Caller,
        import: CheckpointImport,
    ) -> Result<(), ApiError> {
        let note = guardia_audit::normalize_note(&import.note);
        let key = self.trusted_key(None).await?;
        let checkpoint = key
            .open_for(&self.origin, &note)
            .map_err(ApiError::BadCheckpoint)?;
        let label = match import.label.trim() {
            "" => "imported checkpoint".to_owned(),
            label => label.to_owned(),
        };
        let now = self.clock.now().to_utc();
        let entry = EntryDraft::new(
            now,
            EntryKind::AuditCheckpointImported,
            caller.name(),
            "audit:log",
        )
        .with("size", checkpoint.size)
        .with("root", hex_lower(&checkpoint.root))
        .with("label", label.clone());
        self.store
            .add_external_checkpoint(
                &ExternalCheckpoint {
                    note,
                    size: checkpoint.size,
                    label,
                    imported_at: now,
                },
                &entry,
            )
            .await?;
        Ok(())
    }

    /// An inclusion proof of entry `index` against the newest stored checkpoint that
    /// covers it and verifies with the trusted key. The proof is checked before it is
    /// handed out.
    pub async fn audit_proof(
        &self,
        index: u64,
        key: Option<VerifierKey>,
    ) -> Result<InclusionProof, ApiError> {
        let key = self.trusted_key(key).await?;
        let mut covering = self.store.checkpoints().await?;
        covering.retain(|c| c.size > index);
        let (note, checkpoint) = covering
            .into_iter()
            .rev()
            .find_map(|c| {
                key.open_for(&self.origin, &c.note)
                    .ok()
                    .map(|cp| (c.note, cp))
            })
            .ok_or(ApiError::NoCheckpointCovers(index))?;
        let entry = self
            .store
            .audit_range(index, index + 1)
            .await?
            .into_iter()
            .find(|e| e.index == index)
            .ok_or(ApiError::NoCheckpointCovers(index))?;
        let leaf = guardia_audit::leaf_hash(&entry.bytes);
        let mut proof: Vec<Hash> = Vec::new();
        for range in inclusion_ranges(index, checkpoint.size) {
            let ids: Vec<NodeId> = perfect_nodes(range);
            proof.push(fold_range(&self.store.audit_nodes(&ids).await?));
        }
        verify_inclusion(index, checkpoint.size, &leaf, &proof, &checkpoint.root).map_err(|e| {
            ApiError::ProofFailed {
                index,
                size: checkpoint.size,
                reason: e.to_string(),
            }
        })?;
        use base64::Engine;
        Ok(InclusionProof {
            format: "guardia-inclusion-proof/1",
            checkpoint: note,
            verifier_key: key.to_string(),
            index,
            tree_size: checkpoint.size,
            entry_base64: base64::engine::general_purpose::STANDARD.encode(&entry.bytes),
            entry_text: String::from_utf8_lossy(&entry.bytes).into_owned(),
            leaf_hash: hex_lower(&leaf),
            proof: proof.iter().map(|h| hex_lower(h)).collect(),
        })
    }

    /// Appends entries the console writes about itself (e.g. started/stopped).
    pub async fn audit_note(
        &self,
        caller: &Caller,
        kind: EntryKind,
        payload: Vec<(&str, serde_json::Value)>,
    ) -> Result<(), ApiError> {
        let mut entry = EntryDraft::new(
            self.clock.now().to_utc(),
            kind,
            caller.name(),
            "console:local",
        );
        for (key, value) in payload {
            entry = entry.with(key, value);
        }
        self.store
            .append_audit(std::slice::from_ref(&entry))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_daily_run_is_due_after_a_day_or_when_never_run() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        assert!(verification_due(None, now));
        assert!(!verification_due(Some(now - Duration::hours(23)), now));
        assert!(verification_due(Some(now - Duration::hours(24)), now));
    }
}
