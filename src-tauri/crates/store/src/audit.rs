//! The audit ledger's storage interface (formats and checks live in `guardia-audit`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, Hash, NodeId};

use tokio::sync::{mpsc, watch};

use crate::StoreError;

/// One committed change as the feed names it: the audit entry that recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub index: u64,
    pub kind: String,
    pub subject: String,
}

/// Makes the audit entry for a change from what was stored (e.g. the task with its new id).
pub type AuditFor<'a, T> = &'a (dyn Fn(&T) -> EntryDraft + Send + Sync);

/// What the log's own bookkeeping says about it. Not trusted by the verifier; used to append
/// and to show the console's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditHead {
    pub size: u64,
    pub root: Hash,
}

/// One stored entry: its index, its canonical bytes, and the leaf hash recorded at append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub index: u64,
    pub bytes: Vec<u8>,
    pub leaf: Vec<u8>,
}

/// Which entries to list, newest first. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries with a smaller index (keyset paging: pass the last index shown).
    pub before: Option<u64>,
    /// A kind, or a kind prefix ending in `.` (`task.` finds every task entry).
    pub kind: Option<String>,
    pub actor: Option<String>,
    /// A subject, or a prefix ending in `:` (`task:` finds every task).
    pub subject: Option<String>,
    pub result: Option<String>,
    /// Substring anywhere in the entry's text (case-insensitive for ASCII).
    pub text: String,
    pub limit: u32,
}

impl AuditFilter {
    pub const MAX_LIMIT: u32 = 10_000;
}

/// A checkpoint this console signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub note: String,
    /// Why it was written: `every-256`, `shutdown`, `on-demand`, `approval`, …
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub exported_at: Option<DateTime<Utc>>,
}

/// A checkpoint brought back from outside the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalCheckpoint {
    pub note: String,
    pub size: u64,
    pub label: String,
    pub imported_at: DateTime<Utc>,
}

/// A finished verification run, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVerification {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub trigger: String,
    pub actor: String,
    pub ok: bool,
    pub entries: u64,
    pub checkpoints: u64,
    pub first_bad: Option<u64>,
    pub problem_code: Option<String>,
    pub problem: Option<String>,
}

/// A recorded verification run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    pub id: i64,
    pub run: NewVerification,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledgement: Option<String>,
}

/// The append-only audit log, its tree, checkpoints and verification history.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// A value of the log's identity (`origin`, `verifier_key`).
    async fn audit_meta(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Sets `key` to `value` unless it already has a value; returns the value that stands.
    /// Safe when two processes race to initialise.
    async fn init_audit_meta(&self, key: &str, value: &str) -> Result<String, StoreError>;

    /// Appends entries in one transaction (all or none).
    async fn append_audit(&self, drafts: &[EntryDraft]) -> Result<AuditHead, StoreError>;

    /// The size and root the log has recorded for itself.
    async fn audit_head(&self) -> Result<AuditHead, StoreError>;

    /// The change feed: the log's committed size, moved after every commit this process
    /// makes and whenever [`notice_external`](Self::notice_external) sees another process's.
    /// The size is the feed's cursor; read what changed with [`changes_after`](Self::changes_after).
    fn committed(&self) -> watch::Receiver<u64>;

    /// Looks (cheaply) for commits by other processes on the same database and moves the
    /// feed if there were any; returns the committed size. A backend that is told about
    /// commits (PostgreSQL's LISTEN/NOTIFY) moves the feed from its listener instead.
    async fn notice_external(&self) -> Result<u64, StoreError>;

    /// The changes with `index >= after`, oldest first, at most `limit`.
    async fn changes_after(&self, after: u64, limit: u32) -> Result<Vec<Change>, StoreError>;

    /// Entries matching `filter`, newest first.
    async fn audit_page(&self, filter: &AuditFilter) -> Result<Vec<StoredEntry>, StoreError>;

    /// The entries with `start <= index < end`, in index order (verification reads the log
    /// in such chunks, two at a time; a proof reads one entry).
    async fn audit_range(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, StoreError>;

    /// Streams the entries `0..total` in index order, in chunks of `batch`, as fast as the
    /// backend can read them (SQLite: two readers on alternate chunks, so row decoding —
    /// which dominates — gets both cores). Dropping the receiver stops the readers.
    fn audit_scan(
        &self,
        total: u64,
        batch: u64,
    ) -> mpsc::Receiver<Result<Vec<StoredEntry>, StoreError>>;

    /// How many stored entries lie at or beyond the size the log records for itself, read
    /// atomically. Always 0 for an honest log: an append moves both in one transaction.
    async fn audit_unrecorded(&self) -> Result<u64, StoreError>;

    /// The stored hashes of these perfect subtrees (level 0 = recorded leaf hashes).
    async fn audit_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError>;

    /// In one transaction: appends `entry` (the checkpoint's own record), then signs the
    /// resulting head with `sign` and stores the note. The checkpoint covers its own entry.
    async fn write_checkpoint(
        &self,
        entry: &EntryDraft,
        reason: &str,
        sign: &(dyn Fn(AuditHead) -> String + Send + Sync),
    ) -> Result<StoredCheckpoint, StoreError>;

    /// Every stored checkpoint, smallest first.
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError>;

    /// The most recent stored checkpoint.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// The size of the largest checkpoint ever exported.
    async fn last_exported_size(&self) -> Result<Option<u64>, StoreError>;

    /// Notes that checkpoint `size` was exported, with its audit entry.
    async fn mark_checkpoint_exported(
        &self,
        size: u64,
        at: DateTime<Utc>,
        entry: &EntryDraft,
    ) -> Result<(), StoreError>;

    /// Keeps an external checkpoint (once; importing the same note again changes nothing)
    /// with its audit entry. Returns whether it was new.
    async fn add_external_checkpoint(
        &self,
        checkpoint: &ExternalCheckpoint,
        entry: &EntryDraft,
    ) -> Result<bool, StoreError>;

    /// Every external checkpoint imported so far.
    async fn external_checkpoints(&self) -> Result<Vec<ExternalCheckpoint>, StoreError>;

    /// Records a verification run with its audit entry.
    async fn record_verification(
        &self,
        run: &NewVerification,
        entry: &EntryDraft,
    ) -> Result<VerificationRecord, StoreError>;

    /// The latest verification run.
    async fn latest_verification(&self) -> Result<Option<VerificationRecord>, StoreError>;

    /// The latest failed run nobody has acknowledged yet.
    async fn unacknowledged_failure(&self) -> Result<Option<VerificationRecord>, StoreError>;

    /// Marks a failed run as acknowledged, with its audit entry.
    async fn acknowledge_verification(
        &self,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
        note: &str,
        entry: &EntryDraft,
    ) -> Result<VerificationRecord, StoreError>;
}
