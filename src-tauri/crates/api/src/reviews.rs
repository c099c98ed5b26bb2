//! The review capability (`api.reviews()`): result packages in, the PM's review, the
//! decision bound to what was seen, and the documents the agent gets (issue 11, SPEC §4).
//!
//! * **Import** reads a folder or archive into memory under caps (`guardia-package`), checks
//!   the task is waiting for work and the version is the next one, carries the previous
//!   version's viewed marks (same diff hash only) and comments (same line text, else
//!   outdated) forward, opens the chain's result stage, and stores it all — package bytes,
//!   the task's moves, the audit entries — in one transaction. A refusal stores nothing
//!   but its audit entry.
//! * **Reading** never sends the diff whole: a package is loaded once (re-verified against
//!   its stored manifest, so a database edit voids it), laid out per view, and served in
//!   windows; highlighting comes second and fills in the background. The console records
//!   which rows it served to whom, so a decision can say what was actually shown.
//! * **Deciding** approves, asks for rework (the rework brief goes to the outbox) or takes
//!   the task over; the record names the package hash, every file's diff hash and coverage,
//!   the view settings and the console version. Where the chain has a PM step, the decision
//!   is that step.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use guardia_domain::governance::{DecisionRefused, Effect, Role, StepKind, Verdict};
use guardia_domain::{Task, TaskEvent, TaskId, TaskIdError, TaskStatus};
use guardia_ipc::{
    ArtifactView, CommentInput, CommentView, Coverage, DecisionView, DiffCell, DiffLayout, DiffRow,
    DiffSearch, DiffView, DiffWindow, DiffWindowQuery, DocumentView, ErrorCode, FileMark,
    HealthRow, HighlightQuery, Highlights, IpcError, LogLine, LogSearch, LogWindow, LogWindowQuery,
    MarkView, PackageImport, PackageRef, PackageView, ProducerView, ResultView,
    ReviewDecisionInput, ReviewFile, SearchHits, Span, TaskDetail, VersionBrief, VersionChange,
    WarningView,
};
use guardia_package::display::{Display, DisplayKind, Layout, NONE, interdiff, lay_out};
use guardia_package::highlight::RowHighlights;
use guardia_package::{
    DiffIndex, Entries, Entry, Limits, Package, Refusal, RefusalCode, RowKind, warnings,
};
use guardia_store::{
    Comment, Document, DocumentKind, Mark, MarkState, NewPackage, PackageState, ReviewDecision,
    ReviewVerdict, ReviewWrite, Side, StoreError, StoredFile, StoredPackage, TaskMove,
};
use sha2::{Digest, Sha256};

use crate::approvals::{Place, Settled};
use crate::review_entries::{
    self as entries, ArtifactHash, Carried, CommentPlace, FileCoverage, ReviewRecord,
};
use crate::{Api, ApprovalError, Caller, CheckpointReason, Permission, audit_entries};

/// The most rows one window or search answer carries.
pub const MAX_WINDOW: u32 = 2_000;
const MAX_HITS: usize = 5_000;
/// Packages kept parsed in memory (the one under review, its predecessor, a spare).
const LOADED_KEEP: usize = 4;
/// Governance setting: the systems whose approvals need every file viewed or waived.
pub const FULL_COVERAGE_KEY: &str = "review.full_coverage";
const MAX_COMMENT: usize = 4_000;

/// The review capability of one console: `api.reviews()`.
#[derive(Clone, Copy)]
pub struct Reviews<'a> {
    pub(crate) api: &'a Api,
}

/// Why a review operation failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    BadTaskId(#[from] TaskIdError),
    #[error("refused ({code}): {refusal}", code = .refusal.code)]
    Refused { refusal: Refusal },
    #[error("{0}")]
    NotFound(String),
    #[error("task {task} is {status}: {what}")]
    WrongStatus {
        task: TaskId,
        status: TaskStatus,
        what: String,
    },
    #[error("{person} holds no {permission} role over system {system}")]
    OutOfScope {
        person: String,
        permission: Permission,
        system: String,
    },
    #[error("{0}")]
    FourEyes(String),
    #[error("{0}")]
    Stale(String),
    #[error("{0}")]
    Invalid(String),
    /// The stored package no longer matches what was imported: the database was edited.
    #[error(
        "package v{version} of {task} no longer matches what was imported ({reason}); any approval of it is void"
    )]
    Tampered {
        task: TaskId,
        version: u32,
        reason: String,
    },
    #[error("{task}: {refused}")]
    Chain {
        task: TaskId,
        refused: DecisionRefused,
    },
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReviewError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ReviewError::BadTaskId(_) | ReviewError::Invalid(_) => ErrorCode::InvalidInput,
            ReviewError::Refused { .. } => ErrorCode::PackageRefused,
            ReviewError::NotFound(_) | ReviewError::Store(StoreError::TaskNotFound(_)) => {
                ErrorCode::NotFound
            }
            ReviewError::OutOfScope { .. } | ReviewError::FourEyes(_) => ErrorCode::Forbidden,
            ReviewError::WrongStatus { .. }
            | ReviewError::Stale(_)
            | ReviewError::Store(
                StoreError::Conflict { .. }
                | StoreError::ChainChanged(_)
                | StoreError::PackageExists { .. }
                | StoreError::Busy(_)
                | StoreError::AuditRace,
            ) => ErrorCode::Conflict,
            ReviewError::Tampered { .. } => ErrorCode::IntegrityBlocked,
            ReviewError::Chain { refused, .. } => match refused {
                DecisionRefused::CommentRequired => ErrorCode::InvalidInput,
                DecisionRefused::NothingWaiting => ErrorCode::Conflict,
                DecisionRefused::AutomaticStep
                | DecisionRefused::OwnRequest(_)
                | DecisionRefused::SecondSignature { .. }
                | DecisionRefused::NotYourStep { .. } => ErrorCode::Forbidden,
            },
            ReviewError::Approval(e) => e.code(),
            ReviewError::Store(_) => ErrorCode::Storage,
        }
    }
}

impl From<ReviewError> for IpcError {
    fn from(error: ReviewError) -> Self {
        IpcError::new(error.code(), error.to_string())
    }
}

/// One package, parsed and laid out, shared by every window asking for it.
pub struct Loaded {
    task: TaskId,
    version: u32,
    sha256: String,
    package: Package,
    log_errors: Vec<u32>,
    views: Mutex<HashMap<ViewKey, Arc<ViewData>>>,
    /// Per index (0: the package's own diff; N: the diff against version N).
    highlights: Mutex<HashMap<u32, Arc<Mutex<RowHighlights>>>>,
    /// The indexes whose background highlighting has started.
    filling: Mutex<std::collections::HashSet<u32>>,
}

impl Loaded {
    /// The verified package (what a rollout deploys from, once approved).
    pub fn package(&self) -> &Package {
        &self.package
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ViewKey {
    split: bool,
    hide_whitespace: bool,
    against: u32,
}

impl From<DiffView> for ViewKey {
    fn from(view: DiffView) -> Self {
        ViewKey {
            split: view.layout == DiffLayout::Split,
            hide_whitespace: view.hide_whitespace,
            against: view.against,
        }
    }
}

struct ViewData {
    /// The diff against another version (`None`: the package's own diff).
    interdiff: Option<Arc<DiffIndex>>,
    display: Display,
}

impl ViewData {
    fn index<'a>(&'a self, loaded: &'a Loaded) -> &'a DiffIndex {
        self.interdiff.as_deref().unwrap_or(&loaded.package.diff)
    }
}

/// Which rows the console served to whom (per package version and person).
type ShownKey = (TaskId, u32, String);

/// The review's in-memory state: loaded packages and served rows.
#[derive(Default)]
pub(crate) struct ReviewState {
    loaded: Mutex<Vec<Arc<Loaded>>>,
    shown: Mutex<HashMap<ShownKey, Vec<u64>>>,
    /// Inbox packages as last read, by path, with when their files last changed.
    inbox: Mutex<HashMap<PathBuf, (Option<std::time::SystemTime>, InboxRead)>>,
    /// Inbox packages whose import was refused, as they were then.
    inbox_failed: Mutex<std::collections::HashSet<(PathBuf, Option<std::time::SystemTime>)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Api {
    /// The review capability.
    pub fn reviews(&self) -> Reviews<'_> {
        Reviews { api: self }
    }

    /// Where packages arrive (a watched folder: a USB stick or a shared drive can be
    /// pointed at it): `GUARDIA_INBOX`, else `<data dir>/inbox`.
    pub fn package_inbox(&self) -> PathBuf {
        std::env::var_os("GUARDIA_INBOX")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.data_dir.path().join("inbox"))
    }

    /// Where work orders and rework briefs go for the agent: `GUARDIA_OUTBOX`, else
    /// `<data dir>/outbox`.
    pub fn package_outbox(&self) -> PathBuf {
        std::env::var_os("GUARDIA_OUTBOX")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.data_dir.path().join("outbox"))
    }
}

fn parse_side(raw: &str) -> Result<Side, ReviewError> {
    match raw {
        "old" => Ok(Side::Old),
        "new" => Ok(Side::New),
        other => Err(ReviewError::Invalid(format!(
            "side must be `old` or `new`, not `{other}`"
        ))),
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Package `version` (0: the latest) among a task's packages.
fn pick(all: &[StoredPackage], task: TaskId, version: u32) -> Result<&StoredPackage, ReviewError> {
    let found = if version == 0 {
        all.last()
    } else {
        all.iter().find(|p| p.version == version)
    };
    found.ok_or_else(|| {
        ReviewError::NotFound(if version == 0 {
            format!("no result package has been imported for {task} yet")
        } else {
            format!("{task} has no package version {version}")
        })
    })
}

/// The row of `file` showing line `line` on `side`.
fn find_line(index: &DiffIndex, file: usize, side: Side, line: u32) -> Option<u32> {
    if line == 0 {
        return None;
    }
    let f = &index.files[file];
    (f.rows.start..f.rows.end).find(|r| {
        let row = &index.rows[*r as usize];
        match side {
            Side::Old => row.old_line == line && row.kind != RowKind::Added,
            Side::New => row.new_line == line && row.kind != RowKind::Removed,
        }
    })
}

/// Where a comment made on `old` lands in `new`: the same line if the file's change is the
/// same, else the nearest line on the same side with the same text, else nowhere.
fn carry_line(comment: &Comment, old: &DiffIndex, new: &DiffIndex) -> Option<u32> {
    let old_file = old.files.iter().position(|f| f.path() == comment.path)?;
    let new_file = new.files.iter().position(|f| f.path() == comment.path)?;
    if old.files[old_file].diff_hash == new.files[new_file].diff_hash {
        return Some(comment.line);
    }
    let f = &new.files[new_file];
    (f.rows.start..f.rows.end)
        .filter_map(|r| {
            let row = &new.rows[r as usize];
            let line = match comment.side {
                Side::Old if row.kind != RowKind::Added => row.old_line,
                Side::New if row.kind != RowKind::Removed => row.new_line,
                _ => 0,
            };
            (line > 0 && new.row_text(row) == comment.line_text).then_some(line)
        })
        .min_by_key(|line| line.abs_diff(comment.line))
}

impl Reviews<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.api.now()
    }

    async fn task(&self, raw: &str) -> Result<Task, ReviewError> {
        let id: TaskId = raw.trim().parse()?;
        self.api
            .store
            .task(id)
            .await?
            .ok_or_else(|| ReviewError::NotFound(format!("task {id} does not exist")))
    }

    /// The stored package `version` of `task` (0: the latest).
    async fn stored(&self, task: TaskId, version: u32) -> Result<StoredPackage, ReviewError> {
        let all = self.api.store.packages(task).await?;
        pick(&all, task, version).cloned()
    }

    /// The caller's own marks on `version`, by path.
    async fn my_marks(
        &self,
        caller: &Caller,
        task: TaskId,
        version: u32,
    ) -> Result<HashMap<String, Mark>, ReviewError> {
        Ok(self
            .api
            .store
            .marks(task, version)
            .await?
            .into_iter()
            .filter(|m| m.person == caller.name())
            .map(|m| (m.path.clone(), m))
            .collect())
    }

    /// Brings the SLA entry forward if the chain's waiting step is due before it.
    fn schedule_sla(&self, chain: Option<&guardia_store::StoredChain>) {
        if let Some(due) = chain.and_then(|c| c.chain.next_deadline()) {
            self.api
                .runtime
                .scheduler()
                .due_by(crate::SLA_DEADLINE, due.fixed_offset());
        }
    }

    async fn scope(
        &self,
        caller: &Caller,
        task: &Task,
        permission: Permission,
    ) -> Result<Place, ReviewError> {
        let place = self.api.approvals().place(task.system.as_str()).await?;
        if !place.may(caller, permission) {
            return Err(ReviewError::OutOfScope {
                person: caller.person.to_string(),
                permission,
                system: task.system.to_string(),
            });
        }
        Ok(place)
    }

    /// A stored package, parsed: from memory, or loaded and re-verified.
    pub(crate) async fn load(&self, stored: &StoredPackage) -> Result<Arc<Loaded>, ReviewError> {
        {
            let mut cache = lock(&self.api.review_state.loaded);
            if let Some(at) = cache.iter().position(|l| {
                l.task == stored.task && l.version == stored.version && l.sha256 == stored.sha256
            }) {
                let hit = cache.remove(at);
                cache.push(hit.clone());
                return Ok(hit);
            }
        }
        let files = self
            .api
            .store
            .package_files(stored.task, stored.version)
            .await?;
        let stored_copy = stored.clone();
        let loaded = tokio::task::spawn_blocking(move || rebuild(&stored_copy, files))
            .await
            .map_err(|e| ReviewError::Invalid(format!("loading the package failed: {e}")))??;
        let loaded = Arc::new(loaded);
        let mut cache = lock(&self.api.review_state.loaded);
        cache.retain(|l| !(l.task == stored.task && l.version == stored.version));
        cache.push(loaded.clone());
        while cache.len() > LOADED_KEEP {
            cache.remove(0);
        }
        Ok(loaded)
    }

    async fn view(
        &self,
        loaded: &Arc<Loaded>,
        view: DiffView,
    ) -> Result<Arc<ViewData>, ReviewError> {
        let key = ViewKey::from(view);
        if let Some(found) = lock(&loaded.views).get(&key) {
            return Ok(found.clone());
        }
        let interdiff = if key.against == 0 {
            None
        } else {
            if key.against >= loaded.version {
                return Err(ReviewError::Invalid(format!(
                    "v{} can only be compared with an earlier version",
                    loaded.version
                )));
            }
            let other = self.stored(loaded.task, key.against).await?;
            let other = self.load(&other).await?;
            let (old, new) = (other.clone(), loaded.clone());
            let index = tokio::task::spawn_blocking(move || {
                interdiff(&old.package.diff, &new.package.diff)
            })
            .await
            .map_err(|e| ReviewError::Invalid(format!("comparing versions failed: {e}")))?
            .map_err(|e| {
                ReviewError::Invalid(format!(
                    "v{} cannot be compared with v{}: {e}",
                    loaded.version, key.against
                ))
            })?;
            Some(Arc::new(index))
        };
        let layout = if key.split {
            Layout::Split
        } else {
            Layout::Unified
        };
        let display = lay_out(
            interdiff.as_deref().unwrap_or(&loaded.package.diff),
            layout,
            key.hide_whitespace,
        );
        let data = Arc::new(ViewData { interdiff, display });
        lock(&loaded.views).insert(key, data.clone());
        Ok(data)
    }

    // ── import ─────────────────────────────────────────────────────────────────────────

    /// Imports the package at `args.path` for `args.task`. A refusal is audited and stores
    /// nothing else.
    pub async fn import(
        &self,
        caller: &Caller,
        args: PackageImport,
    ) -> Result<PackageView, ReviewError> {
        let source = args.path.trim().to_owned();
        match self.import_checked(caller, &args.task, &source).await {
            Ok(view) => Ok(view),
            Err(ReviewError::Refused { refusal }) => {
                let entry = entries::package_refused(
                    args.task.trim(),
                    &source,
                    &refusal,
                    caller,
                    self.now(),
                );
                if let Err(e) = self.api.store.append_audit(&[entry]).await {
                    tracing::warn!(error = %e, "the refused package's audit entry was not written");
                }
                Err(ReviewError::Refused { refusal })
            }
            Err(other) => Err(other),
        }
    }

    async fn import_checked(
        &self,
        caller: &Caller,
        task_raw: &str,
        source: &str,
    ) -> Result<PackageView, ReviewError> {
        let refuse = |code: RefusalCode, detail: String| ReviewError::Refused {
            refusal: Refusal::new(code, None, detail),
        };
        let task = match self.task(task_raw).await {
            Ok(task) => task,
            Err(ReviewError::NotFound(why)) => return Err(refuse(RefusalCode::TaskNotFound, why)),
            Err(ReviewError::BadTaskId(e)) => {
                return Err(refuse(RefusalCode::TaskNotFound, e.to_string()));
            }
            Err(other) => return Err(other),
        };
        self.scope(caller, &task, Permission::ImportPackages)
            .await?;
        if !matches!(task.status, TaskStatus::Approved | TaskStatus::InProgress) {
            return Err(refuse(
                RefusalCode::TaskNotWaiting,
                format!(
                    "task {} is {}; a package is taken only while a task is APPROVED or IN_PROGRESS (waiting for work)",
                    task.id, task.status
                ),
            ));
        }
        let path = PathBuf::from(source);
        let id = task.id.to_string();
        let package = tokio::task::spawn_blocking(move || {
            guardia_package::import(&path, Some(&id), &Limits::default())
        })
        .await
        .map_err(|e| ReviewError::Invalid(format!("reading the package failed: {e}")))?
        .map_err(|refusal| ReviewError::Refused { refusal })?;

        let existing = self.api.store.packages(task.id).await?;
        let sha = package.sha256_hex();
        if let Some(same) = existing.iter().find(|p| p.sha256 == sha) {
            return Err(refuse(
                RefusalCode::VersionConflict,
                format!(
                    "this very package was already imported as v{} of {}",
                    same.version, task.id
                ),
            ));
        }
        let next = existing.last().map_or(1, |p| p.version + 1);
        if package.manifest.package_version != next {
            return Err(refuse(
                RefusalCode::VersionConflict,
                format!(
                    "the manifest says version {}; the next version of {} is {next}",
                    package.manifest.package_version, task.id
                ),
            ));
        }
        let now = self.now();
        let found = warnings::check(&package);

        // What carries over from the previous version.
        let mut marks = Vec::new();
        let mut comments = Vec::new();
        let mut carried = Carried::default();
        if let Some(previous) = existing.last() {
            let old = self.load(previous).await?;
            let new_hashes: HashMap<&str, String> = package
                .diff
                .files
                .iter()
                .map(|f| (f.path(), f.diff_hash_hex()))
                .collect();
            for mark in self.api.store.marks(task.id, previous.version).await? {
                if new_hashes.get(mark.path.as_str()) == Some(&mark.diff_hash) {
                    marks.push(Mark {
                        version: next,
                        carried_from: Some(mark.carried_from.unwrap_or(previous.version)),
                        ..mark
                    });
                    carried.marks += 1;
                }
            }
            for comment in self.api.store.comments(task.id, previous.version).await? {
                if comment.outdated {
                    continue;
                }
                let origin = Some(comment.origin.unwrap_or(comment.id));
                match carry_line(&comment, &old.package.diff, &package.diff) {
                    Some(line) => {
                        carried.comments += 1;
                        comments.push(Comment {
                            origin,
                            version: next,
                            line,
                            ..comment
                        });
                    }
                    None => {
                        carried.outdated += 1;
                        comments.push(Comment {
                            origin,
                            version: next,
                            outdated: true,
                            ..comment
                        });
                    }
                }
            }
        }

        // The chain's result stage opens (or, after a rework, starts again).
        let rules = self.api.approvals().rules(task.system.as_str()).await?;
        let mut chain = self.api.store.chains(task.id).await?.pop();
        let mut settled = Settled::default();
        if let Some(stored) = chain.as_mut()
            && stored.chain.has_result_stage()
        {
            let effects = if stored.chain.result_stage_open {
                stored.chain.reopen_result_stage(now, &rules.routing)
            } else {
                stored.chain.open_result_stage(now, &rules.routing)
            };
            for effect in effects {
                if let Effect::Notify { step, to, urgent } = effect {
                    settled.notices.push((step, to, urgent));
                }
            }
        }

        let mut moves = Vec::new();
        if task.status == TaskStatus::Approved {
            moves.push((TaskEvent::WorkStarted, format!("package v{next} arrived")));
        }
        moves.push((
            TaskEvent::ResultImported,
            format!("package v{next} ({})", &sha[..12]),
        ));
        let mut audit = vec![entries::package_imported(
            &task, &package, source, &found, carried, caller, now,
        )];
        let transitions = plan_moves(&task, &moves, &caller.person, now, &mut audit)?;

        let new = new_package(task.id, next, &package, source, caller.name(), now, &found);
        let mut write = ReviewWrite::new(task.id, now);
        write.package = Some(new);
        write.marks = marks;
        write.comments = comments;
        write.chain = chain.as_ref().map(|c| (&c.chain, c.version));
        write.task_moves = transitions;
        write.audit = audit;
        self.api.store.write_review(write).await?;
        for (step, to, urgent) in settled.notices {
            tracing::info!(task = %task.id, step = step + 1, urgent, to = ?to, "a review step waits");
        }
        self.schedule_sla(chain.as_ref());
        self.get(
            caller,
            PackageRef {
                task: task.id.to_string(),
                version: next,
            },
        )
        .await
    }

    // ── reading ────────────────────────────────────────────────────────────────────────

    /// The review screen's outline of a package for `caller`.
    pub async fn get(&self, caller: &Caller, r: PackageRef) -> Result<PackageView, ReviewError> {
        let task = self.task(&r.task).await?;
        let all = self.api.store.packages(task.id).await?;
        let stored = pick(&all, task.id, r.version)?;
        let loaded = self.load(stored).await?;
        let previous = match all.iter().rev().find(|p| p.version < stored.version) {
            Some(p) => Some(self.load(p).await?),
            None => None,
        };
        let marks = self.my_marks(caller, task.id, stored.version).await?;
        let package = &loaded.package;
        let files: Vec<ReviewFile> = package
            .diff
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let since_previous = match &previous {
                    None => VersionChange::First,
                    Some(prev) => match prev.package.diff.file(f.path()) {
                        None => VersionChange::New,
                        Some(p) if p.diff_hash == f.diff_hash => VersionChange::Same,
                        Some(_) => VersionChange::Changed,
                    },
                };
                ReviewFile {
                    index: i as u32,
                    path: f.path().to_owned(),
                    old_path: f.old_path.clone().filter(|p| p != f.path()),
                    status: f.status.code().to_owned(),
                    old_mode: f.old_mode.map(str::to_owned),
                    new_mode: f.new_mode.map(str::to_owned),
                    binary: f.binary,
                    generated: f.generated,
                    language: f.language.map(str::to_owned),
                    added: f.added,
                    removed: f.removed,
                    diff_hash: f.diff_hash_hex(),
                    mark: marks
                        .get(f.path())
                        .filter(|m| m.diff_hash == f.diff_hash_hex())
                        .map(mark_view),
                    since_previous,
                }
            })
            .collect();
        let viewed = files
            .iter()
            .filter(|f| f.mark.as_ref().is_some_and(|m| m.state == "viewed"))
            .count() as u32;
        let waived = files
            .iter()
            .filter(|f| f.mark.as_ref().is_some_and(|m| m.state == "waived"))
            .count() as u32;
        let comments = self
            .api
            .store
            .comments(task.id, stored.version)
            .await?
            .into_iter()
            .map(|c| comment_view(&c))
            .collect();
        let (can_decide, decide_blocked) = match self.may_decide(caller, &task, stored).await {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e.to_string())),
        };
        let producer: ProducerView = ProducerView {
            name: package.manifest.producer.name.clone(),
            version: package.manifest.producer.version.clone(),
            run_id: package.manifest.producer.run_id.clone(),
        };
        Ok(PackageView {
            task: task.id.to_string(),
            version: stored.version,
            state: stored.state.code().to_owned(),
            sha256: stored.sha256.clone(),
            source_sha256: stored.source_sha256.clone(),
            container: stored.container.clone(),
            source_name: stored.source_name.clone(),
            producer,
            created_at: rfc3339(stored.created_at),
            imported_at: rfc3339(stored.imported_at),
            imported_by: stored.imported_by.clone(),
            result: ResultView {
                status: package.result.status.code().to_owned(),
                summary: package.result.summary.clone(),
                changed_files: package.result.changed_files.clone(),
                error_codes: package.result.error_codes.clone(),
            },
            health: package
                .health
                .checks
                .iter()
                .map(|c| HealthRow {
                    name: c.name.clone(),
                    status: match c.status {
                        guardia_package::CheckStatus::Pass => "pass",
                        guardia_package::CheckStatus::Fail => "fail",
                        guardia_package::CheckStatus::Skip => "skip",
                    }
                    .to_owned(),
                    target: c.target.clone(),
                    detail: c.detail.clone(),
                })
                .collect(),
            warnings: warnings::check(package)
                .into_iter()
                .map(|w| WarningView {
                    kind: w.kind.code().to_owned(),
                    message: w.message,
                    subjects: w.subjects,
                })
                .collect(),
            files,
            artifacts: package
                .artifacts()
                .map(|(path, entry)| ArtifactView {
                    path: path.to_owned(),
                    size: entry.bytes.len() as u64,
                    sha256: entry.sha256_hex(),
                })
                .collect(),
            context: package
                .files
                .get(guardia_package::manifest::CONTEXT)
                .map(|_| package.text(guardia_package::manifest::CONTEXT).to_owned()),
            log_lines: package.text(guardia_package::manifest::LOG).lines().count() as u32,
            log_errors: loaded.log_errors.clone(),
            versions: all
                .iter()
                .map(|p| VersionBrief {
                    version: p.version,
                    state: p.state.code().to_owned(),
                    sha256: p.sha256.clone(),
                    imported_at: rfc3339(p.imported_at),
                })
                .collect(),
            comments,
            viewed,
            waived,
            require_full_coverage: self.full_coverage(task.system.as_str()).await?,
            can_decide,
            decide_blocked,
        })
    }

    /// A window of display rows; the rows served are remembered for `caller`'s coverage.
    pub async fn window(
        &self,
        caller: &Caller,
        q: DiffWindowQuery,
    ) -> Result<DiffWindow, ReviewError> {
        let task = self.task(&q.task).await?;
        let stored = self.stored(task.id, q.version).await?;
        let loaded = self.load(&stored).await?;
        let data = self.view(&loaded, q.view).await?;
        let index = data.index(&loaded);
        let display = &data.display;
        let total = display.rows.len() as u32;
        let start = q.start.min(total);
        let end = start.saturating_add(q.count.min(MAX_WINDOW)).min(total);
        let cell = |row: u32, as_context: bool| -> Option<DiffCell> {
            (row != NONE).then(|| {
                let r = &index.rows[row as usize];
                let (kind, line) = match r.kind {
                    _ if as_context => ("context", r.new_line.max(r.old_line)),
                    RowKind::Added => ("added", r.new_line),
                    RowKind::Removed => ("removed", r.old_line),
                    RowKind::Context | RowKind::Hunk | RowKind::Note => ("context", r.new_line),
                };
                DiffCell {
                    kind: kind.to_owned(),
                    line,
                    old_line: if kind == "context" { r.old_line } else { 0 },
                    text: index.row_text(r).to_owned(),
                }
            })
        };
        let mut served = Vec::new();
        let rows = display.rows[start as usize..end as usize]
            .iter()
            .map(|d| {
                for side in [d.left, d.right] {
                    if side != NONE {
                        served.push(side);
                    }
                }
                match d.kind {
                    DisplayKind::File => DiffRow {
                        kind: "file".into(),
                        file: d.file,
                        text: index.files[d.file as usize].path().to_owned(),
                        left: None,
                        right: None,
                    },
                    DisplayKind::Hunk | DisplayKind::Note => DiffRow {
                        kind: if d.kind == DisplayKind::Hunk {
                            "hunk"
                        } else {
                            "note"
                        }
                        .into(),
                        file: d.file,
                        text: index.row_text(&index.rows[d.left as usize]).to_owned(),
                        left: None,
                        right: None,
                    },
                    DisplayKind::Line => DiffRow {
                        kind: "line".into(),
                        file: d.file,
                        text: String::new(),
                        left: cell(d.left, d.as_context),
                        // Unified with whitespace hidden keeps the folded removed row on the
                        // right: counted as served, not drawn.
                        right: if q.view.layout == DiffLayout::Split {
                            cell(d.right, d.as_context)
                        } else {
                            None
                        },
                    },
                }
            })
            .collect();
        if q.view.against == 0 {
            let key = (task.id, stored.version, caller.name().to_owned());
            let mut shown = lock(&self.api.review_state.shown);
            let bits = shown
                .entry(key)
                .or_insert_with(|| vec![0; index.rows.len().div_ceil(64)]);
            for row in served {
                if let Some(word) = bits.get_mut(row as usize / 64) {
                    *word |= 1 << (row % 64);
                }
            }
        }
        Ok(DiffWindow {
            start,
            total,
            rows,
            file_starts: display.file_starts.clone(),
            hunk_rows: display.hunk_rows.clone(),
            files: if q.view.against == 0 {
                Vec::new()
            } else {
                index.files.iter().map(|f| f.path().to_owned()).collect()
            },
        })
    }

    /// Highlighting of a window (the screen asks right after painting it); the rest of the
    /// package is highlighted in the background.
    pub async fn highlight(&self, q: HighlightQuery) -> Result<Highlights, ReviewError> {
        let task = self.task(&q.task).await?;
        let stored = self.stored(task.id, q.version).await?;
        let loaded = self.load(&stored).await?;
        let data = self.view(&loaded, q.view).await?;
        let total = data.display.rows.len() as u32;
        let start = q.start.min(total);
        let end = start.saturating_add(q.count.min(MAX_WINDOW)).min(total);
        let against = q.view.against;
        let highlights = lock(&loaded.highlights)
            .entry(against)
            .or_insert_with(|| Arc::new(Mutex::new(RowHighlights::new(data.index(&loaded)))))
            .clone();
        let (loaded2, data2, highlights2) = (loaded.clone(), data.clone(), highlights.clone());
        let out = tokio::task::spawn_blocking(move || {
            let index = data2.index(&loaded2);
            let rows = &data2.display.rows[start as usize..end as usize];
            let wanted: Vec<u32> = rows
                .iter()
                .flat_map(|d| [d.left, d.right])
                .filter(|r| *r != NONE)
                .collect();
            let mut h = lock(&highlights2);
            h.ensure(index, &wanted);
            let spans = |row: u32| -> Vec<Span> {
                if row == NONE {
                    return Vec::new();
                }
                h.get(row)
                    .unwrap_or_default()
                    .iter()
                    .map(|run| Span {
                        start: run.start,
                        len: run.len,
                        class: run.class as u8,
                    })
                    .collect()
            };
            let line = |d: &&guardia_package::display::DisplayRow| d.kind == DisplayKind::Line;
            Highlights {
                start,
                left: rows
                    .iter()
                    .map(|d| if line(&d) { spans(d.left) } else { Vec::new() })
                    .collect(),
                right: rows
                    .iter()
                    .map(|d| if line(&d) { spans(d.right) } else { Vec::new() })
                    .collect(),
            }
        })
        .await
        .map_err(|e| ReviewError::Invalid(format!("highlighting failed: {e}")))?;
        // The rest, in the background, once per package and diff; a few hunks at a time,
        // so a window the reviewer scrolls to waits for a few hunks at most.
        if lock(&loaded.filling).insert(against) {
            let background = loaded.clone();
            self.api.runtime.spawn("review-highlight", async move {
                let result = tokio::task::spawn_blocking(move || {
                    let index = data.index(&background);
                    while lock(&highlights).fill_some(index, 16) {}
                })
                .await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "background highlighting stopped");
                }
            });
        }
        Ok(out)
    }

    /// Display rows that contain `text`.
    pub async fn search(&self, q: DiffSearch) -> Result<SearchHits, ReviewError> {
        let task = self.task(&q.task).await?;
        let stored = self.stored(task.id, q.version).await?;
        let loaded = self.load(&stored).await?;
        let data = self.view(&loaded, q.view).await?;
        let hits = data
            .display
            .search(data.index(&loaded), q.text.trim(), q.case_sensitive);
        Ok(SearchHits {
            total: hits.len() as u32,
            rows: hits.into_iter().take(MAX_HITS).collect(),
        })
    }

    pub async fn log_window(&self, q: LogWindowQuery) -> Result<LogWindow, ReviewError> {
        let task = self.task(&q.task).await?;
        let stored = self.stored(task.id, q.version).await?;
        let loaded = self.load(&stored).await?;
        let log = loaded.package.text(guardia_package::manifest::LOG);
        let total = log.lines().count() as u32;
        let count = q.count.min(MAX_WINDOW);
        let lines = log
            .lines()
            .enumerate()
            .skip(q.start as usize)
            .take(count as usize)
            .map(|(n, text)| LogLine {
                number: n as u32 + 1,
                text: text.to_owned(),
                error: loaded.log_errors.binary_search(&(n as u32 + 1)).is_ok(),
            })
            .collect();
        Ok(LogWindow {
            start: q.start.min(total),
            total,
            lines,
        })
    }

    /// Log line numbers (1-based) that contain `text` (case-insensitive).
    pub async fn log_search(&self, q: LogSearch) -> Result<SearchHits, ReviewError> {
        let task = self.task(&q.task).await?;
        let stored = self.stored(task.id, q.version).await?;
        let loaded = self.load(&stored).await?;
        let needle = q.text.trim().to_lowercase();
        if needle.is_empty() {
            return Ok(SearchHits {
                rows: Vec::new(),
                total: 0,
            });
        }
        let hits: Vec<u32> = loaded
            .package
            .text(guardia_package::manifest::LOG)
            .lines()
            .enumerate()
            .filter(|(_, l)| l.to_lowercase().contains(&needle))
            .map(|(n, _)| n as u32 + 1)
            .collect();
        Ok(SearchHits {
            total: hits.len() as u32,
            rows: hits.into_iter().take(MAX_HITS).collect(),
        })
    }

    // ── marks and comments ─────────────────────────────────────────────────────────────

    fn shown_rows(
        &self,
        task: TaskId,
        version: u32,
        person: &str,
        rows: std::ops::Range<u32>,
    ) -> u32 {
        let shown = lock(&self.api.review_state.shown);
        let Some(bits) = shown.get(&(task, version, person.to_owned())) else {
            return 0;
        };
        rows.filter(|r| {
            bits.get(*r as usize / 64)
                .is_some_and(|w| w & (1 << (r % 64)) != 0)
        })
        .count() as u32
    }

    /// `caller` marks a file viewed, waives it (with a reason) or clears the mark.
    pub async fn mark(&self, caller: &Caller, args: FileMark) -> Result<Coverage, ReviewError> {
        let task = self.task(&args.task).await?;
        self.scope(caller, &task, Permission::ReviewResults).await?;
        let stored = self.stored(task.id, args.version).await?;
        if stored.state != PackageState::Review {
            return Err(ReviewError::Stale(format!(
                "v{} of {} is already decided ({}); marks are for the version under review",
                stored.version,
                task.id,
                stored.state.code()
            )));
        }
        let loaded = self.load(&stored).await?;
        let Some(file) = loaded.package.diff.file(&args.path) else {
            return Err(ReviewError::NotFound(format!(
                "{} is not among the files v{} changes",
                args.path, stored.version
            )));
        };
        let key = (task.id, stored.version, args.path.as_str(), caller.name());
        let mark = match args.state.as_str() {
            "none" => None,
            "viewed" | "waived" => {
                let waived = args.state == "waived";
                let reason = args.reason.trim().to_owned();
                if waived && reason.is_empty() {
                    return Err(ReviewError::Invalid(
                        "waiving a file needs a reason (e.g. generated, checked by hash)".into(),
                    ));
                }
                let shown =
                    self.shown_rows(task.id, stored.version, caller.name(), file.rows.clone());
                Some(Mark {
                    task: task.id,
                    version: stored.version,
                    path: args.path.clone(),
                    person: caller.name().to_owned(),
                    diff_hash: file.diff_hash_hex(),
                    state: if waived {
                        MarkState::Waived
                    } else {
                        MarkState::Viewed
                    },
                    reason,
                    shown_rows: shown,
                    at: self.now(),
                    carried_from: None,
                })
            }
            other => {
                return Err(ReviewError::Invalid(format!(
                    "a mark is `viewed`, `waived` or `none`, not `{other}`"
                )));
            }
        };
        self.api.store.set_mark(key, mark.as_ref()).await?;
        let mine = self.my_marks(caller, task.id, stored.version).await?;
        Ok(Coverage {
            path: args.path,
            mark: mark.as_ref().map(mark_view),
            viewed: mine
                .values()
                .filter(|m| m.state == MarkState::Viewed)
                .count() as u32,
            waived: mine
                .values()
                .filter(|m| m.state == MarkState::Waived)
                .count() as u32,
            total: loaded.package.diff.files.len() as u32,
        })
    }

    /// `caller` comments on a line of the version under review.
    pub async fn comment(
        &self,
        caller: &Caller,
        args: CommentInput,
    ) -> Result<CommentView, ReviewError> {
        let task = self.task(&args.task).await?;
        self.scope(caller, &task, Permission::ReviewResults).await?;
        let stored = self.stored(task.id, args.version).await?;
        if stored.state != PackageState::Review {
            return Err(ReviewError::Stale(format!(
                "v{} of {} is already decided; comment on the version under review",
                stored.version, task.id
            )));
        }
        let body = args.body.trim();
        if body.is_empty() || body.chars().count() > MAX_COMMENT {
            return Err(ReviewError::Invalid(format!(
                "a comment is 1–{MAX_COMMENT} characters"
            )));
        }
        let side = parse_side(&args.side)?;
        let loaded = self.load(&stored).await?;
        let index = &loaded.package.diff;
        let file = index
            .files
            .iter()
            .position(|f| f.path() == args.path)
            .ok_or_else(|| {
                ReviewError::NotFound(format!("{} is not in v{}", args.path, stored.version))
            })?;
        let row = find_line(index, file, side, args.line).ok_or_else(|| {
            ReviewError::Invalid(format!(
                "{} has no {} line {} in this diff",
                args.path,
                side.code(),
                args.line
            ))
        })?;
        let now = self.now();
        let comment = Comment {
            id: 0,
            origin: None,
            task: task.id,
            version: stored.version,
            path: args.path.clone(),
            side,
            line: args.line,
            line_text: index.row_text(&index.rows[row as usize]).to_owned(),
            body: body.to_owned(),
            author: caller.name().to_owned(),
            at: now,
            outdated: false,
        };
        let mut write = ReviewWrite::new(task.id, now);
        write.audit = vec![entries::review_commented(
            &task,
            &CommentPlace {
                version: stored.version,
                path: &args.path,
                side: side.code(),
                line: args.line,
            },
            body,
            caller,
            now,
        )];
        write.comments = vec![comment];
        self.api.store.write_review(write).await?;
        let written = self
            .api
            .store
            .comments(task.id, stored.version)
            .await?
            .into_iter()
            .rfind(|c| c.author == caller.name() && c.path == args.path && c.line == args.line)
            .ok_or_else(|| ReviewError::NotFound("the comment was not stored".into()))?;
        Ok(comment_view(&written))
    }

    // ── deciding ───────────────────────────────────────────────────────────────────────

    async fn full_coverage(&self, system: &str) -> Result<bool, ReviewError> {
        let systems: Vec<String> = self
            .api
            .setting_or_default(FULL_COVERAGE_KEY, "review coverage setting")
            .await?;
        Ok(systems.iter().any(|s| s == system))
    }

    /// An admin requires (or stops requiring) every file viewed or waived before a
    /// system's results are approved.
    pub async fn set_full_coverage(
        &self,
        caller: &Caller,
        system: &str,
        required: bool,
    ) -> Result<bool, ReviewError> {
        if !caller.may(Permission::EditGovernance) {
            return Err(ReviewError::OutOfScope {
                person: caller.person.to_string(),
                permission: Permission::EditGovernance,
                system: system.to_owned(),
            });
        }
        let system = guardia_domain::SystemName::parse(system)
            .map_err(|e| ReviewError::Invalid(format!("system `{system}`: {e}")))?;
        let mut systems: Vec<String> = self
            .api
            .setting_or_default(FULL_COVERAGE_KEY, "review coverage setting")
            .await?;
        let before = systems.iter().any(|s| s == system.as_str());
        systems.retain(|s| s != system.as_str());
        if required {
            systems.push(system.as_str().to_owned());
            systems.sort();
        }
        let json = serde_json::to_string(&systems).unwrap_or_else(|_| "[]".into());
        let entry = crate::approval_entries::system_rules_changed(
            system.as_str(),
            "review_full_coverage",
            before.to_string(),
            required.to_string(),
            caller,
            self.now(),
        );
        self.api
            .store
            .set_governance_setting(FULL_COVERAGE_KEY, &json, entry)
            .await?;
        Ok(required)
    }

    /// Whether `caller` may decide `stored` now, and if not, why.
    async fn may_decide(
        &self,
        caller: &Caller,
        task: &Task,
        stored: &StoredPackage,
    ) -> Result<(), ReviewError> {
        let place = self.scope(caller, task, Permission::ReviewResults).await?;
        if task.status != TaskStatus::PendingReview {
            return Err(ReviewError::WrongStatus {
                task: task.id,
                status: task.status,
                what: "only a task in PENDING_REVIEW takes a review decision".into(),
            });
        }
        let latest = self.stored(task.id, 0).await?;
        if latest.version != stored.version || stored.state != PackageState::Review {
            return Err(ReviewError::Stale(format!(
                "v{} is not the version under review (v{} is, {})",
                stored.version,
                latest.version,
                latest.state.code()
            )));
        }
        if caller.person == task.requester {
            return Err(ReviewError::FourEyes(format!(
                "{} requested {}; the requester does not review its result (four-eyes)",
                caller.person, task.id
            )));
        }
        // Whoever took the task over made its later packages: another PM judges them.
        if self
            .api
            .store
            .decisions(task.id)
            .await?
            .iter()
            .any(|d| d.verdict == ReviewVerdict::TakeOver && d.by == caller.name())
        {
            return Err(ReviewError::FourEyes(format!(
                "{} took {} over and made its result; another PM reviews it (four-eyes)",
                caller.person, task.id
            )));
        }
        if let Some(chain) = self.api.store.chains(task.id).await?.pop() {
            let chain = chain.chain;
            if chain.has_result_stage() {
                match chain.waiting() {
                    Some((_, step)) if step.kind == StepKind::Pm => {
                        if !chain.waits_for(&caller.person, |role| place.holds(caller, role)) {
                            return Err(ReviewError::FourEyes(format!(
                                "the PM step of {} is not for {} (held by {}, or they signed another step)",
                                task.id,
                                caller.person,
                                guardia_domain::governance::chain::describe(step.holder.as_ref())
                            )));
                        }
                    }
                    Some((_, step)) => {
                        return Err(ReviewError::Stale(format!(
                            "the review is decided; {} now waits for {}",
                            task.id,
                            guardia_domain::governance::chain::describe(step.holder.as_ref())
                        )));
                    }
                    None => {
                        return Err(ReviewError::Stale(format!(
                            "no step of {}'s chain waits for a decision",
                            task.id
                        )));
                    }
                }
            } else if chain.excluded().contains(&&caller.person) {
                return Err(ReviewError::FourEyes(format!(
                    "{} signed {}'s request; one person signs one step (four-eyes)",
                    caller.person, task.id
                )));
            }
        }
        Ok(())
    }

    /// The review's decision on the version under review.
    pub async fn decide(
        &self,
        caller: &Caller,
        args: ReviewDecisionInput,
    ) -> Result<TaskDetail, ReviewError> {
        let task = self.task(&args.task).await?;
        let stored = self.stored(task.id, args.version).await?;
        self.may_decide(caller, &task, &stored).await?;
        if stored.sha256 != args.sha256.trim() {
            return Err(ReviewError::Stale(format!(
                "v{} of {} is package {}, not the {} the decision names",
                stored.version,
                task.id,
                &stored.sha256[..12.min(stored.sha256.len())],
                args.sha256.trim()
            )));
        }
        let verdict = match args.verdict.as_str() {
            "approve" => ReviewVerdict::Approve,
            "rework" => ReviewVerdict::Rework,
            "take_over" => ReviewVerdict::TakeOver,
            other => {
                return Err(ReviewError::Invalid(format!(
                    "a review decision is `approve`, `rework` or `take_over`, not `{other}`"
                )));
            }
        };
        let comment = args.comment.trim().to_owned();
        if comment.is_empty() {
            return Err(ReviewError::Invalid(
                "a review decision needs a comment (rework notes, or why it is approved)".into(),
            ));
        }
        // Loading re-verifies every stored byte against the manifest: a package edited in
        // the database since it was imported is void, and cannot be approved.
        let loaded = self.load(&stored).await?;
        let record = self
            .record(caller, &task, &stored, &loaded, args.view)
            .await?;
        let not_viewed: Vec<&str> = record
            .files
            .iter()
            .filter(|f| f.coverage == "not_viewed")
            .map(|f| f.path.as_str())
            .collect();
        if verdict == ReviewVerdict::Approve
            && !not_viewed.is_empty()
            && self.full_coverage(task.system.as_str()).await?
        {
            return Err(ReviewError::Invalid(format!(
                "{} requires every file viewed or waived before approval; not yet: {}",
                task.system,
                not_viewed.join(", ")
            )));
        }
        let now = self.now();
        let rules = self.api.approvals().rules(task.system.as_str()).await?;
        let place = self.api.approvals().place(task.system.as_str()).await?;
        let mut chain = self.api.store.chains(task.id).await?.pop();
        let mut audit = vec![entries::review_decided(
            &task,
            stored.version,
            verdict.code(),
            &comment,
            &record,
            caller,
            now,
        )];
        let mut moves: Vec<(TaskEvent, String)> = Vec::new();
        let mut chain_complete = true;
        if let Some(c) = chain.as_mut()
            && c.chain.has_result_stage()
        {
            let chain_verdict = match verdict {
                ReviewVerdict::Approve => Verdict::Approve,
                ReviewVerdict::Rework | ReviewVerdict::TakeOver => Verdict::Reject,
            };
            let effects = c
                .chain
                .decide(
                    &caller.person,
                    |role| place.holds(caller, role),
                    chain_verdict,
                    &comment,
                    now,
                    &rules.routing,
                )
                .map_err(|refused| ReviewError::Chain {
                    task: task.id,
                    refused,
                })?;
            let step = c.chain.signed_by(&caller.person).unwrap_or_default();
            audit.push(crate::approval_entries::approval_decided(
                &task, &c.chain, step, caller, now,
            ));
            chain_complete = effects.contains(&Effect::ChainComplete);
            for effect in effects {
                if let Effect::Notify { step, to, urgent } = effect {
                    tracing::info!(task = %task.id, step = step + 1, urgent, to = ?to, "a result step waits");
                }
            }
        }
        let (state, document) = match verdict {
            ReviewVerdict::Approve if chain_complete => {
                moves.push((
                    TaskEvent::ResultApproved,
                    format!("package v{} approved: {comment}", stored.version),
                ));
                (PackageState::Approved, None)
            }
            // A later step (the security officer) still has to sign: the package stays
            // under review until the chain completes (approvals settle it then).
            ReviewVerdict::Approve => (PackageState::Review, None),
            ReviewVerdict::Rework => {
                moves.push((TaskEvent::ReworkRequested, comment.clone()));
                let brief = self
                    .rework_brief(&task, caller.name(), &comment, now)
                    .await?;
                (PackageState::Rework, Some(brief))
            }
            ReviewVerdict::TakeOver => {
                moves.push((
                    TaskEvent::ReworkRequested,
                    format!("taken over by {}: {comment}", caller.person),
                ));
                let notice = self.withdrawal(&task, caller.name(), &comment, now).await?;
                (PackageState::TakenOver, Some(notice))
            }
        };
        if let Some(doc) = &document {
            audit.push(entries::outbox_written(
                &task,
                doc.kind.code(),
                &doc.file_name,
                &doc.content,
                caller.name(),
                now,
            ));
        }
        let transitions = plan_moves(&task, &moves, &caller.person, now, &mut audit)?;
        let record_json = serde_json::to_string(&record).unwrap_or_default();
        let mut write = ReviewWrite::new(task.id, now);
        write.state = Some((stored.version, state));
        write.decision = Some(ReviewDecision {
            task: task.id,
            version: stored.version,
            verdict,
            by: caller.name().to_owned(),
            at: now,
            comment: comment.clone(),
            record: record_json,
        });
        write.document = document.clone();
        write.chain = chain.as_ref().map(|c| (&c.chain, c.version));
        write.task_moves = transitions;
        write.audit = audit;
        let task = self.api.store.write_review(write).await?;
        if let Some(doc) = &document {
            self.deliver(doc).await;
        }
        self.schedule_sla(chain.as_ref());
        if let Err(e) = self
            .api
            .checkpoint_if_unsigned(caller, CheckpointReason::Approval)
            .await
        {
            tracing::warn!(error = %e, "no checkpoint after the review decision");
        }
        Ok(self.api.approvals().detail(task).await?)
    }

    /// What `caller` saw of `stored`, for the decision's record.
    async fn record(
        &self,
        caller: &Caller,
        task: &Task,
        stored: &StoredPackage,
        loaded: &Loaded,
        view: DiffView,
    ) -> Result<ReviewRecord, ReviewError> {
        let marks = self.my_marks(caller, task.id, stored.version).await?;
        let package = &loaded.package;
        let files = package
            .diff
            .files
            .iter()
            .map(|f| {
                let mark = marks
                    .get(f.path())
                    .filter(|m| m.diff_hash == f.diff_hash_hex());
                let shown_now =
                    self.shown_rows(task.id, stored.version, caller.name(), f.rows.clone());
                FileCoverage {
                    path: f.path().to_owned(),
                    diff_hash: f.diff_hash_hex(),
                    coverage: match mark.map(|m| m.state) {
                        Some(MarkState::Viewed) => "viewed",
                        Some(MarkState::Waived) => "waived",
                        None => "not_viewed",
                    },
                    reason: mark.map(|m| m.reason.clone()).unwrap_or_default(),
                    shown_rows: shown_now.max(mark.map_or(0, |m| m.shown_rows)),
                    rows: f.rows.end - f.rows.start,
                }
            })
            .collect();
        Ok(ReviewRecord {
            package_sha256: stored.sha256.clone(),
            files,
            artifacts: package
                .artifacts()
                .map(|(path, entry)| ArtifactHash {
                    path: path.to_owned(),
                    sha256: entry.sha256_hex(),
                })
                .collect(),
            layout: match view.layout {
                DiffLayout::Unified => "unified",
                DiffLayout::Split => "split",
            },
            hide_whitespace: view.hide_whitespace,
            against: view.against,
            warnings: warnings::check(package)
                .iter()
                .map(|w| w.kind.code())
                .collect(),
            console_version: env!("CARGO_PKG_VERSION"),
        })
    }

    /// The approved package of a task, re-verified: what a rollout may deploy. Refused if
    /// none was approved or the stored bytes no longer match (the approval is void).
    pub async fn approved(&self, task: TaskId) -> Result<Arc<Loaded>, ReviewError> {
        let status = self
            .api
            .store
            .task(task)
            .await?
            .ok_or_else(|| ReviewError::NotFound(format!("task {task} does not exist")))?
            .status;
        if !matches!(
            status,
            TaskStatus::ReadyToRollOut
                | TaskStatus::RollingOut
                | TaskStatus::Completed
                | TaskStatus::Failed
                | TaskStatus::Halted
                | TaskStatus::RolledBack
        ) {
            return Err(ReviewError::WrongStatus {
                task,
                status,
                what: "its result is not approved by every step of its chain".into(),
            });
        }
        let stored = self
            .api
            .store
            .packages(task)
            .await?
            .into_iter()
            .rfind(|p| p.state == PackageState::Approved)
            .ok_or_else(|| ReviewError::NotFound(format!("{task} has no approved package")))?;
        let decisions = self.api.store.decisions(task).await?;
        let approval = decisions
            .iter()
            .rfind(|d| d.version == stored.version && d.verdict == ReviewVerdict::Approve)
            .ok_or_else(|| ReviewError::Tampered {
                task,
                version: stored.version,
                reason: "it is marked approved but no approval is recorded".into(),
            })?;
        let named = serde_json::from_str::<serde_json::Value>(&approval.record)
            .ok()
            .and_then(|v| {
                v.get("package_sha256")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned)
            });
        if named.as_deref() != Some(stored.sha256.as_str()) {
            return Err(ReviewError::Tampered {
                task,
                version: stored.version,
                reason: "the approval names another package".into(),
            });
        }
        // What a rollout deploys is read from the database and verified again, never
        // taken from the review's cache: bytes edited since the review are caught here.
        lock(&self.api.review_state.loaded)
            .retain(|l| !(l.task == stored.task && l.version == stored.version));
        self.load(&stored).await
    }

    pub async fn decisions(&self, task: &str) -> Result<Vec<DecisionView>, ReviewError> {
        let task = self.task(task).await?;
        Ok(self
            .api
            .store
            .decisions(task.id)
            .await?
            .into_iter()
            .map(|d| {
                let record: serde_json::Value = serde_json::from_str(&d.record).unwrap_or_default();
                let count = |what: &str| {
                    record
                        .get("files")
                        .and_then(|f| f.as_array())
                        .map_or(0, |files| {
                            files
                                .iter()
                                .filter(|f| {
                                    f.get("coverage").and_then(|c| c.as_str()) == Some(what)
                                })
                                .count() as u32
                        })
                };
                DecisionView {
                    version: d.version,
                    verdict: d.verdict.code().to_owned(),
                    by: d.by,
                    at: rfc3339(d.at),
                    comment: d.comment,
                    viewed: count("viewed"),
                    waived: count("waived"),
                    not_viewed: count("not_viewed"),
                }
            })
            .collect())
    }

    // ── documents for the agent ────────────────────────────────────────────────────────

    fn document(
        &self,
        task: &Task,
        kind: DocumentKind,
        seq: u32,
        body: serde_json::Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> Document {
        let suffix = match kind {
            DocumentKind::WorkOrder => "work-order",
            DocumentKind::ReworkBrief => "rework",
            DocumentKind::Withdrawal => "withdrawn",
        };
        let content = serde_json::to_string_pretty(&body).unwrap_or_default() + "\n";
        Document {
            task: task.id,
            seq,
            kind,
            file_name: format!("{}.{suffix}-{seq}.json", task.id),
            sha256: hex::encode(Sha256::digest(content.as_bytes())),
            content,
            at,
            by: by.to_owned(),
        }
    }

    async fn next_seq(&self, task: TaskId) -> Result<u32, ReviewError> {
        Ok(self
            .api
            .store
            .documents(task)
            .await?
            .last()
            .map_or(1, |d| d.seq + 1))
    }

    /// The work order for a task approved for work: the request, the targets from the
    /// inventory, the playbook, the constraints and the deadline.
    pub(crate) async fn work_order(
        &self,
        task: &Task,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Document, ReviewError> {
        let servers = self
            .api
            .store
            .servers(&guardia_store::ServerFilter {
                text: task.system.as_str().to_owned(),
                ..guardia_store::ServerFilter::default()
            })
            .await?;
        let targets: Vec<serde_json::Value> = servers
            .iter()
            .filter(|s| s.record.system == task.system.as_str())
            .map(|s| {
                let r = &s.record;
                serde_json::json!({
                    "institution": r.institution, "site": r.site, "tier": r.tier.number(),
                    "server": r.server, "os": r.os, "app_path": r.app_path,
                    "deploy_path": r.deploy_path, "service_port": r.service_port,
                })
            })
            .collect();
        let rules = self.api.approvals().rules(task.system.as_str()).await?;
        let deadline = at + task_deadline(task.priority);
        let seq = self.next_seq(task.id).await?;
        let next_version = self
            .api
            .store
            .packages(task.id)
            .await?
            .last()
            .map_or(1, |p| p.version + 1);
        let body = serde_json::json!({
            "format": "guardia.work-order/1",
            "task_id": task.id.to_string(),
            "title": task.title.as_str(),
            "category": task.category.to_string(),
            "sub_type": task.sub_type.as_ref().map(|s| s.as_str().to_owned()),
            "priority": task.priority.code(),
            "requester": task.requester.as_str(),
            "request": task.request.as_str(),
            "system": task.system.as_str(),
            "targets": targets,
            "playbook": playbook_for(task),
            "constraints": {
                "package_format": guardia_package::manifest::FORMAT_ID,
                "package_version": next_version,
                "sensitive_system": rules.sensitive,
                "deploy_windows": serde_json::to_value(&rules.windows).unwrap_or_default(),
                "rules": [
                    "Hand back a result package (docs/result-package.md); the console verifies every hash.",
                    "Artifacts are deployed only from an approved package whose manifest names their SHA-256.",
                    "Commands are checked against the console's denylist when a rollout renders them.",
                    "Do not connect to production servers; the console rolls out after approval.",
                ],
            },
            "deadline": rfc3339(deadline),
            "issued_at": rfc3339(at),
            "issued_by": by,
        });
        Ok(self.document(task, DocumentKind::WorkOrder, seq, body, by, at))
    }

    /// The brief for a rework: the request, the reviewer's comments by file and line, the
    /// version it answers.
    pub(crate) async fn rework_brief(
        &self,
        task: &Task,
        by: &str,
        notes: &str,
        at: DateTime<Utc>,
    ) -> Result<Document, ReviewError> {
        let latest = self.stored(task.id, 0).await?;
        let comments: Vec<serde_json::Value> = self
            .api
            .store
            .comments(task.id, latest.version)
            .await?
            .iter()
            .map(|c| {
                serde_json::json!({
                    "path": c.path, "side": c.side.code(), "line": c.line,
                    "line_text": c.line_text, "comment": c.body, "by": c.author,
                    "outdated": c.outdated,
                })
            })
            .collect();
        let seq = self.next_seq(task.id).await?;
        let body = serde_json::json!({
            "format": "guardia.rework-brief/1",
            "task_id": task.id.to_string(),
            "title": task.title.as_str(),
            "request": task.request.as_str(),
            "previous_version": latest.version,
            "previous_package_sha256": latest.sha256,
            "next_version": latest.version + 1,
            "notes": notes,
            "comments": comments,
            "issued_at": rfc3339(at),
            "issued_by": by,
        });
        Ok(self.document(task, DocumentKind::ReworkBrief, seq, body, by, at))
    }

    async fn withdrawal(
        &self,
        task: &Task,
        by: &str,
        notes: &str,
        at: DateTime<Utc>,
    ) -> Result<Document, ReviewError> {
        let seq = self.next_seq(task.id).await?;
        let body = serde_json::json!({
            "format": "guardia.withdrawal/1",
            "task_id": task.id.to_string(),
            "taken_over_by": by,
            "notes": notes,
            "instruction": "Stop work on this task: a person handles it from here.",
            "issued_at": rfc3339(at),
        });
        Ok(self.document(task, DocumentKind::Withdrawal, seq, body, by, at))
    }

    /// Writes a recorded document to the outbox (after its transaction committed). A
    /// failure is logged and shown with the document; writing again is idempotent.
    pub(crate) async fn deliver(&self, doc: &Document) {
        let dir = self.api.package_outbox();
        if let Err(e) = write_document(&dir, doc) {
            tracing::warn!(error = %e, file = %doc.file_name, "the outbox document was not written");
        }
    }

    /// The documents written for a task, with where they are now.
    pub async fn documents(&self, task: &str) -> Result<Vec<DocumentView>, ReviewError> {
        let task = self.task(task).await?;
        let dir = self.api.package_outbox();
        Ok(self
            .api
            .store
            .documents(task.id)
            .await?
            .into_iter()
            .map(|d| {
                let path = dir.join(&d.file_name);
                let (written_to, write_error) = match std::fs::read(&path) {
                    Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == d.sha256 => {
                        (Some(path.display().to_string()), None)
                    }
                    Ok(_) => (
                        None,
                        Some(format!(
                            "{} was changed after it was written",
                            path.display()
                        )),
                    ),
                    Err(e) => (None, Some(format!("{}: {e}", path.display()))),
                };
                DocumentView {
                    seq: d.seq,
                    kind: d.kind.code().to_owned(),
                    file_name: d.file_name,
                    written_to,
                    write_error,
                    content: d.content,
                    sha256: d.sha256,
                    at: rfc3339(d.at),
                    by: d.by,
                }
            })
            .collect())
    }

    /// Writes every recorded document of a task again (after a full disk, a missing USB).
    pub async fn redeliver(&self, task: &str) -> Result<Vec<DocumentView>, ReviewError> {
        let t = self.task(task).await?;
        for doc in self.api.store.documents(t.id).await? {
            self.deliver(&doc).await;
        }
        self.documents(task).await
    }
}

/// The name the console itself acts under when it imports from the inbox.
pub const INBOX_ACTOR: &str = "guardia";
/// How often the inbox folder is looked at.
pub const INBOX_EVERY: chrono::Duration = chrono::Duration::seconds(10);
/// An inbox item is imported only once its bytes stopped changing (a copy in progress).
const SETTLED_FOR: std::time::Duration = std::time::Duration::from_secs(2);

impl Reviews<'_> {
    /// The console's own caller for inbox imports: an operator everywhere, no more.
    fn inbox_caller(&self) -> Result<Caller, ReviewError> {
        let person = guardia_domain::PersonName::parse(INBOX_ACTOR)
            .map_err(|e| ReviewError::Invalid(e.to_string()))?;
        Ok(Caller::with_grants(
            person,
            vec![crate::RoleGrant::everywhere(Role::Operator)],
        ))
    }

    /// What is in the inbox folder, and what became of each package.
    pub async fn inbox(
        &self,
        _caller: &Caller,
    ) -> Result<guardia_ipc::InboxFolderView, ReviewError> {
        let folder = self.api.package_inbox();
        let mut items = Vec::new();
        for path in inbox_entries(&folder) {
            items.push(self.inbox_item(&path).await?);
        }
        Ok(guardia_ipc::InboxFolderView {
            folder: folder.display().to_string(),
            outbox: self.api.package_outbox().display().to_string(),
            items,
        })
    }

    /// What a package in the inbox says about itself: read once per change of its files.
    async fn inbox_read(&self, path: &Path) -> Result<InboxRead, ReviewError> {
        let changed = latest_change(path);
        if let Some((seen, read)) = lock(&self.api.review_state.inbox).get(path)
            && changed.is_some()
            && *seen == changed
        {
            return Ok(read.clone());
        }
        let shown = path.display().to_string();
        let owned = path.to_owned();
        let read = tokio::task::spawn_blocking(move || {
            guardia_package::import(&owned, None, &Limits::default())
        })
        .await
        .map_err(|e| ReviewError::Invalid(format!("reading {shown} failed: {e}")))?;
        let read = match read {
            Ok(package) => InboxRead {
                task: Some(package.manifest.task_id.trim().to_owned()),
                version: Some(package.manifest.package_version),
                sha256: package.sha256_hex(),
                refusal: None,
            },
            Err(refusal) => InboxRead {
                task: None,
                version: None,
                sha256: String::new(),
                refusal: Some(refusal.to_string()),
            },
        };
        lock(&self.api.review_state.inbox).insert(path.to_owned(), (changed, read.clone()));
        Ok(read)
    }

    async fn inbox_item(&self, path: &Path) -> Result<guardia_ipc::InboxPackage, ReviewError> {
        let read = self.inbox_read(path).await?;
        let item = |state: &str, detail: String| guardia_ipc::InboxPackage {
            path: path.display().to_string(),
            task: read.task.clone(),
            version: read.version,
            state: state.into(),
            detail,
        };
        if let Some(refusal) = &read.refusal {
            return Ok(item("refused", refusal.clone()));
        }
        let raw = read.task.clone().unwrap_or_default();
        let id = match raw.parse::<TaskId>() {
            Ok(id) => id,
            Err(e) => return Ok(item("refused", e.to_string())),
        };
        let Some(task) = self.api.store.task(id).await? else {
            return Ok(item("refused", format!("task {id} does not exist")));
        };
        let known = self.api.store.packages(id).await?;
        if let Some(same) = known.iter().find(|p| p.sha256 == read.sha256) {
            return Ok(item("imported", format!("v{} of {id}", same.version)));
        }
        if !matches!(task.status, TaskStatus::Approved | TaskStatus::InProgress) {
            return Ok(item(
                "waiting",
                format!("{id} is {}, not waiting for work", task.status),
            ));
        }
        if known
            .last()
            .is_some_and(|p| p.state == PackageState::TakenOver)
        {
            return Ok(item(
                "waiting",
                format!("{id} was taken over by a person; their package is imported by hand"),
            ));
        }
        let next = known.last().map_or(1, |p| p.version + 1);
        if read.version != Some(next) {
            return Ok(item(
                "refused",
                format!(
                    "the manifest says version {}; the next version of {id} is {next}",
                    read.version.unwrap_or_default()
                ),
            ));
        }
        Ok(item(
            "ready",
            format!("{id} waits for work ({})", task.status),
        ))
    }

    /// Imports every package in the inbox that a task waits for (the watched folder's
    /// sweep). Packages already imported are skipped quietly; a refused one is audited
    /// once per distinct file content.
    pub async fn sweep_inbox(&self) -> Result<u32, ReviewError> {
        let caller = self.inbox_caller()?;
        let mut imported = 0;
        for path in inbox_entries(&self.api.package_inbox()) {
            if !settled(&path) {
                continue;
            }
            let changed = latest_change(&path);
            if lock(&self.api.review_state.inbox_failed).contains(&(path.clone(), changed)) {
                continue;
            }
            let item = self.inbox_item(&path).await?;
            if item.state != "ready" {
                continue;
            }
            let Some(task) = item.task else { continue };
            match self
                .import(
                    &caller,
                    PackageImport {
                        task,
                        path: item.path.clone(),
                    },
                )
                .await
            {
                Ok(_) => imported += 1,
                Err(e) => {
                    // Refused once (and audited once): not again until its files change.
                    lock(&self.api.review_state.inbox_failed).insert((path.clone(), changed));
                    tracing::warn!(path = %item.path, error = %e, "inbox package not imported");
                }
            }
        }
        Ok(imported)
    }

    /// Registers the inbox sweep on the runtime's scheduler.
    pub(crate) fn schedule(api: &Arc<Api>) {
        let api = api.clone();
        api.clone().runtime.scheduler().every(
            "package-inbox",
            INBOX_EVERY,
            chrono::Duration::zero(),
            move || {
                let api = api.clone();
                async move {
                    match api.reviews().sweep_inbox().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(imported = n, "packages imported from the inbox"),
                        Err(e) => tracing::warn!(error = %e, "the package inbox sweep failed"),
                    }
                }
            },
        );
    }
}

/// The candidate packages in the inbox: folders and archive files, by name.
fn inbox_entries(folder: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    // `file_type` of a directory entry does not follow links: a link is never a package.
    let mut out: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| {
            let kind = e.file_type().ok()?;
            let name = e.file_name().to_string_lossy().to_ascii_lowercase();
            let archive = [".zip", ".tar.gz", ".tgz", ".tar"]
                .iter()
                .any(|ext| name.ends_with(ext));
            (kind.is_dir() || (kind.is_file() && archive)).then(|| e.path())
        })
        .collect();
    out.sort();
    out
}

/// When anything under `path` last changed (links are not followed).
fn latest_change(path: &Path) -> Option<std::time::SystemTime> {
    let newest = |p: &Path| std::fs::symlink_metadata(p).and_then(|m| m.modified()).ok();
    let mut latest = newest(path);
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        let mut pending = vec![path.to_owned()];
        while let Some(dir) = pending.pop() {
            for child in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = child.path();
                // Never into a link: two links to `.` would make this walk endless.
                if child.file_type().is_ok_and(|k| k.is_dir()) {
                    pending.push(p.clone());
                }
                latest = latest.max(newest(&p));
            }
        }
    }
    latest
}

/// Whether nothing under `path` changed for a little while (a copy has finished).
fn settled(path: &Path) -> bool {
    latest_change(path).is_some_and(|t| t.elapsed().is_ok_and(|age| age >= SETTLED_FOR))
}

/// What an inbox package says about itself (kept per path until its files change).
#[derive(Debug, Clone)]
pub(crate) struct InboxRead {
    task: Option<String>,
    version: Option<u32>,
    sha256: String,
    refusal: Option<String>,
}

/// Checks each move against the task's state machine, in order, appending each one's audit
/// entry: the transitions to write, or why the task cannot take them (nothing is written).
fn plan_moves<'n>(
    task: &Task,
    moves: &'n [(TaskEvent, String)],
    actor: &'n guardia_domain::PersonName,
    now: DateTime<Utc>,
    audit: &mut Vec<guardia_audit::EntryDraft>,
) -> Result<Vec<TaskMove<'n>>, ReviewError> {
    let mut status = task.status;
    let mut out = Vec::new();
    for (event, note) in moves {
        let transition = status.apply(*event).map_err(|_| ReviewError::WrongStatus {
            task: task.id,
            status,
            what: format!("it cannot take `{}` now; nothing was changed", event.code()),
        })?;
        audit.push(audit_entries::task_transitioned(
            task, transition, actor, note, now,
        ));
        status = transition.to;
        out.push(TaskMove {
            transition,
            actor,
            note,
        });
    }
    Ok(out)
}

/// A verified package as stored: metadata, manifest, every file's bytes.
fn new_package(
    task: TaskId,
    version: u32,
    package: &Package,
    source: &str,
    by: &str,
    now: DateTime<Utc>,
    found: &[guardia_package::Warning],
) -> NewPackage {
    NewPackage {
        package: StoredPackage {
            task,
            version,
            sha256: package.sha256_hex(),
            source_sha256: hex::encode(package.source_sha256),
            container: package.container.code().to_owned(),
            source_name: source.to_owned(),
            producer: serde_json::to_string(&package.manifest.producer).unwrap_or_default(),
            created_at: package.manifest.created_at,
            imported_at: now,
            imported_by: by.to_owned(),
            state: PackageState::Review,
            manifest: package.manifest_bytes.clone(),
            warnings: serde_json::to_string(found).unwrap_or_else(|_| "[]".into()),
        },
        files: package
            .files
            .iter()
            .filter(|(path, _)| path.as_str() != guardia_package::MANIFEST)
            .map(|(path, entry)| StoredFile {
                path: path.clone(),
                role: guardia_package::Role::of_path(path)
                    .map_or("", guardia_package::Role::code)
                    .to_owned(),
                size: entry.bytes.len() as u64,
                sha256: entry.sha256_hex(),
                content: entry.bytes.clone(),
            })
            .collect(),
    }
}

/// The example package's files, built in (the demo's package to review).
const DEMO_FILES: [(&str, &[u8]); 6] = [
    (
        "artifacts/web/notice.jsp",
        include_bytes!(
            "../../../../tests/fixtures/packages/notice-fix/v1/artifacts/web/notice.jsp"
        ),
    ),
    (
        "changes.diff",
        include_bytes!("../../../../tests/fixtures/packages/notice-fix/v1/changes.diff"),
    ),
    (
        "context.md",
        include_bytes!("../../../../tests/fixtures/packages/notice-fix/v1/context.md"),
    ),
    (
        "execution.log",
        include_bytes!("../../../../tests/fixtures/packages/notice-fix/v1/execution.log"),
    ),
    (
        "health_check.json",
        include_bytes!("../../../../tests/fixtures/packages/notice-fix/v1/health_check.json"),
    ),
    (
        "result.json",
        include_bytes!("../../../../tests/fixtures/packages/notice-fix/v1/result.json"),
    ),
];

/// Gives the demo's task in PENDING_REVIEW the example package as v1, imported by the
/// agent: the demo's review screen has something real to show.
pub(crate) async fn seed_demo_package(
    store: &dyn guardia_store::Store,
    task: &Task,
    at: DateTime<Utc>,
) -> Result<(), crate::ApiError> {
    let mut sealed: guardia_package::corpus::Files = DEMO_FILES
        .iter()
        .map(|(path, bytes)| ((*path).to_owned(), bytes.to_vec()))
        .collect();
    let producer = guardia_package::Producer {
        name: "claude-code".into(),
        version: "2.1.0".into(),
        run_id: "run-7f3a2c".into(),
    };
    let manifest = guardia_package::seal(&sealed, &task.id.to_string(), 1, producer, at)
        .map_err(|refusal| crate::ApiError::Internal(format!("the demo package: {refusal}")))?;
    sealed.insert(guardia_package::MANIFEST.to_owned(), manifest);
    let entries: BTreeMap<String, Entry> = sealed
        .into_iter()
        .map(|(path, bytes)| {
            let sha256 = Sha256::digest(&bytes).into();
            (path, Entry { bytes, sha256 })
        })
        .collect();
    let digest = guardia_package::archive::folder_digest(&entries);
    let package = guardia_package::verify(
        Entries {
            container: guardia_package::Container::Folder,
            files: entries,
            sha256: digest,
        },
        Some(&task.id.to_string()),
    )
    .map_err(|refusal| crate::ApiError::Internal(format!("the demo package: {refusal}")))?;
    let found = warnings::check(&package);
    let agent = Caller::with_grants(
        guardia_domain::PersonName::parse("ai-agent")
            .map_err(|e| crate::ApiError::Invalid(vec![e]))?,
        Vec::new(),
    );
    let mut write = ReviewWrite::new(task.id, at);
    write.package = Some(new_package(
        task.id,
        1,
        &package,
        "demo",
        agent.name(),
        at,
        &found,
    ));
    write.audit = vec![entries::package_imported(
        task,
        &package,
        "demo",
        &found,
        Carried::default(),
        &agent,
        at,
    )];
    store.write_review(write).await?;
    Ok(())
}

/// How long the agent has, by priority (the work order's deadline).
fn task_deadline(priority: guardia_domain::Priority) -> chrono::Duration {
    match priority {
        guardia_domain::Priority::Urgent => chrono::Duration::hours(4),
        guardia_domain::Priority::High => chrono::Duration::hours(24),
        guardia_domain::Priority::Normal => chrono::Duration::days(3),
        guardia_domain::Priority::Low => chrono::Duration::days(7),
    }
}

/// The playbook a task's sub-type selects (issue 12 owns the files under `playbooks/`).
pub(crate) fn playbook_for(task: &Task) -> &'static str {
    match task.sub_type.as_ref().map(|s| s.as_str()) {
        Some("service-restart") => "service-restart",
        Some("certificate-replace") => "ssl-certificate-replace",
        Some("data-cleanup") => "log-cleanup",
        _ => "deploy-artifact",
    }
}

/// Writes `doc` into `dir` atomically and owner-only; nothing to do if it is there already.
///
/// The outbox may be a folder the agent writes to as well, so nothing there is trusted: the
/// temporary file gets a fresh random name and is created exclusively (`O_EXCL` does not
/// follow a planted link), its mode is set on the open file, and the rename replaces
/// whatever has the target's name (a link included) instead of writing through it.
fn write_document(dir: &Path, doc: &Document) -> Result<(), String> {
    use std::io::Write;
    let fail = |what: &Path, e: std::io::Error| format!("{}: {e}", what.display());
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let target = dir.join(&doc.file_name);
    let unchanged = std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_file())
        && std::fs::read(&target)
            .is_ok_and(|bytes| hex::encode(Sha256::digest(&bytes)) == doc.sha256);
    if unchanged {
        return Ok(());
    }
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| format!("no randomness for a temporary name: {e}"))?;
    let partial = dir.join(format!(".{}.{}.part", doc.file_name, hex::encode(nonce)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&partial).and_then(|mut file| {
        file.write_all(doc.content.as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&partial, &target)) {
        if let Err(cleanup) = std::fs::remove_file(&partial) {
            tracing::debug!(error = %cleanup, "no temporary outbox file to remove");
        }
        return Err(fail(&target, e));
    }
    Ok(())
}

fn mark_view(mark: &Mark) -> MarkView {
    MarkView {
        state: mark.state.code().to_owned(),
        reason: mark.reason.clone(),
        carried_from: mark.carried_from,
        shown_rows: mark.shown_rows,
    }
}

fn comment_view(c: &Comment) -> CommentView {
    CommentView {
        id: c.id,
        path: c.path.clone(),
        side: c.side.code().to_owned(),
        line: c.line,
        line_text: c.line_text.clone(),
        body: c.body.clone(),
        author: c.author.clone(),
        at: rfc3339(c.at),
        carried_from: (c.origin.is_some() && !c.outdated).then_some(c.version.saturating_sub(1)),
        outdated: c.outdated,
    }
}

/// Rebuilds a verified package from its stored rows: every file's hash is recomputed and
/// the manifest checked again, so bytes edited in the database are caught here.
fn rebuild(stored: &StoredPackage, files: Vec<StoredFile>) -> Result<Loaded, ReviewError> {
    let tampered = |reason: String| ReviewError::Tampered {
        task: stored.task,
        version: stored.version,
        reason,
    };
    let mut map = BTreeMap::new();
    map.insert(
        guardia_package::MANIFEST.to_owned(),
        Entry {
            sha256: Sha256::digest(&stored.manifest).into(),
            bytes: stored.manifest.clone(),
        },
    );
    for file in files {
        map.insert(
            file.path,
            Entry {
                sha256: Sha256::digest(&file.content).into(),
                bytes: file.content,
            },
        );
    }
    let container = match stored.container.as_str() {
        "zip" => guardia_package::Container::Zip,
        "tar.gz" => guardia_package::Container::TarGz,
        "tar" => guardia_package::Container::Tar,
        _ => guardia_package::Container::Folder,
    };
    let mut source = [0u8; 32];
    hex::decode_to_slice(&stored.source_sha256, &mut source)
        .map_err(|e| tampered(format!("its source hash is unreadable: {e}")))?;
    let entries = Entries {
        container,
        files: map,
        sha256: source,
    };
    let package = guardia_package::verify(entries, Some(&stored.task.to_string()))
        .map_err(|refusal| tampered(refusal.to_string()))?;
    if package.sha256_hex() != stored.sha256 {
        return Err(tampered("its manifest's hash changed".into()));
    }
    let log_errors = guardia_package::log_error_lines(package.text(guardia_package::manifest::LOG));
    Ok(Loaded {
        task: stored.task,
        version: stored.version,
        sha256: stored.sha256.clone(),
        package,
        log_errors,
        views: Mutex::new(HashMap::new()),
        highlights: Mutex::new(HashMap::new()),
        filling: Mutex::new(std::collections::HashSet::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_follows_its_line_text_and_goes_outdated_when_the_line_changes() {
        let v1 = DiffIndex::parse(
            "diff --git a/a.js b/a.js\n--- a/a.js\n+++ b/a.js\n@@ -1,3 +1,3 @@\n keep();\n-old();\n+fresh();\n tail();\n",
        )
        .unwrap();
        let v2 = DiffIndex::parse(
            "diff --git a/a.js b/a.js\n--- a/a.js\n+++ b/a.js\n@@ -1,4 +1,4 @@\n head();\n keep();\n-old();\n+fresher();\n tail();\n",
        )
        .unwrap();
        let comment = |line: u32, text: &str| Comment {
            id: 1,
            origin: None,
            task: "OPS-20261206-001".parse().unwrap(),
            version: 1,
            path: "a.js".into(),
            side: Side::New,
            line,
            line_text: text.into(),
            body: "?".into(),
            author: "oh.pm".into(),
            at: Utc::now(),
            outdated: false,
        };
        // `tail();` moved from line 3 to line 4: carried over to its new place.
        assert_eq!(carry_line(&comment(3, "tail();"), &v1, &v2), Some(4));
        // `fresh();` is gone in v2: outdated.
        assert_eq!(carry_line(&comment(2, "fresh();"), &v1, &v2), None);
    }
}
