//! Jobs: long operations with an id, progress on the feed, and cancel.
//!
//! Starting a job returns at once with its [`JobTicket`]; the work runs on the runtime's
//! task tracker with a child of the root token, so cancelling the job, or the root (the kill
//! switch, shutdown), stops it. The work reports progress through its [`JobContext`] and ends
//! with a [`JobState`]; every change is published on the feed as a [`JobUpdate`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{Feed, KillSwitch, Spawner};
use guardia_ipc::{FeedEvent, JobId, JobKind, JobState, JobTicket, JobUpdate};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Whether jobs of one kind may run side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    Many,
    /// One at a time (a verification reads the whole log; two would only compete).
    OneAtATime,
}

/// Why a job did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobRefused {
    #[error("the runtime is stopping (or automation was stopped); nothing new starts")]
    Stopped,
    #[error("a {0:?} job is already running")]
    AlreadyRunning(JobKind),
    #[error(
        "the kill switch is engaged: nothing that changes a server may start until a security officer re-arms it"
    )]
    Locked,
}

/// The jobs of one runtime.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    next: AtomicU64,
    running: Mutex<BTreeMap<JobId, Running>>,
    feed: Feed,
    root: CancellationToken,
    kill_switch: KillSwitch,
    spawner: Spawner,
}

struct Running {
    token: CancellationToken,
    last: JobUpdate,
}

impl Inner {
    fn table(&self) -> std::sync::MutexGuard<'_, BTreeMap<JobId, Running>> {
        // A panic while holding the lock leaves a consistent map (inserts and removes only).
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a job's work is handed: its token (race every await against it) and a way to report
/// progress.
pub struct JobContext {
    id: JobId,
    kind: JobKind,
    subject: String,
    token: CancellationToken,
    inner: Arc<Inner>,
}

impl JobContext {
    pub fn id(&self) -> JobId {
        self.id
    }

    /// Cancelled when the job is cancelled, or the runtime's root is.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Publishes `done` of `total` and what runs now.
    pub fn progress(&self, done: u64, total: u64, step: impl Into<String>) {
        let update = JobUpdate {
            id: self.id,
            kind: self.kind,
            subject: self.subject.clone(),
            state: JobState::Running {
                done,
                total,
                step: step.into(),
            },
        };
        if let Some(running) = self.inner.table().get_mut(&self.id) {
            running.last = update.clone();
        }
        self.inner.feed.publish(FeedEvent::Job(update));
    }
}

/// A started job: its ticket, and its end for those who wait (tests, the scheduler).
pub struct Job {
    pub ticket: JobTicket,
    end: watch::Receiver<Option<JobState>>,
}

impl Job {
    /// Waits for the job's last state. A job whose task vanished (a panic) is reported failed.
    pub async fn finished(mut self) -> JobState {
        match self.end.wait_for(Option::is_some).await {
            Ok(state) => state.clone().unwrap_or_else(lost),
            Err(_) => lost(),
        }
    }
}

fn lost() -> JobState {
    JobState::Failed {
        error: guardia_ipc::IpcError::new(
            guardia_ipc::ErrorCode::Internal,
            "the job ended without a result",
        ),
    }
}

impl Jobs {
    pub(crate) fn new(
        feed: Feed,
        root: CancellationToken,
        kill_switch: KillSwitch,
        spawner: Spawner,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                next: AtomicU64::new(1),
                running: Mutex::new(BTreeMap::new()),
                feed,
                root,
                kill_switch,
                spawner,
            }),
        }
    }

    /// Starts `work` as a job. Refused once the root is cancelled (nothing new starts after
    /// the kill switch or during shutdown), and for [`Concurrency::OneAtATime`] while a job
    /// of the same kind runs.
    pub fn start<W, F>(
        &self,
        kind: JobKind,
        subject: impl Into<String>,
        concurrency: Concurrency,
        work: W,
    ) -> Result<Job, JobRefused>
    where
        W: FnOnce(JobContext) -> F,
        F: Future<Output = JobState> + Send + 'static,
    {
        if self.inner.root.is_cancelled() {
            return Err(JobRefused::Stopped);
        }
        // Work that may change a server hangs off the kill switch's token; the rest (checks,
        // verification) off the root, so it goes on while the switch is engaged.
        let token = if kind.changes_servers() {
            self.inner.kill_switch.child().ok_or(JobRefused::Locked)?
        } else {
            self.inner.root.child_token()
        };
        let id = JobId(self.inner.next.fetch_add(1, Ordering::Relaxed));
        let subject = subject.into();
        let first = JobUpdate {
            id,
            kind,
            subject: subject.clone(),
            state: JobState::Running {
                done: 0,
                total: 0,
                step: String::new(),
            },
        };
        {
            let mut table = self.inner.table();
            if concurrency == Concurrency::OneAtATime
                && table.values().any(|running| running.last.kind == kind)
            {
                return Err(JobRefused::AlreadyRunning(kind));
            }
            table.insert(
                id,
                Running {
                    token: token.clone(),
                    last: first.clone(),
                },
            );
        }
        let ticket = JobTicket {
            id,
            kind,
            subject: subject.clone(),
        };
        self.inner.feed.publish(FeedEvent::Job(first));
        let context = JobContext {
            id,
            kind,
            subject: subject.clone(),
            token,
            inner: self.inner.clone(),
        };
        let work = work(context);
        let (end_tx, end) = watch::channel(None);
        let inner = self.inner.clone();
        self.inner.spawner.spawn(async move {
            let state = work.await;
            inner.table().remove(&id);
            let update = JobUpdate {
                id,
                kind,
                subject,
                state: state.clone(),
            };
            match &update.state {
                JobState::Failed { error } => {
                    tracing::warn!(%id, code = ?error.code, "job failed: {}", error.message)
                }
                JobState::Cancelled { .. } => tracing::info!(%id, "job cancelled"),
                JobState::Finished { .. } | JobState::Running { .. } => {
                    tracing::debug!(%id, "job finished")
                }
            }
            inner.feed.publish(FeedEvent::Job(update));
            end_tx.send_replace(Some(state));
        });
        Ok(Job { ticket, end })
    }

    /// Asks job `id` to stop. `false` if no such job is running (it may just have ended).
    pub fn cancel(&self, id: JobId) -> bool {
        match self.inner.table().get(&id) {
            Some(running) => {
                running.token.cancel();
                true
            }
            None => false,
        }
    }

    /// The latest update of every running job, oldest first.
    pub fn running(&self) -> Vec<JobUpdate> {
        self.inner
            .table()
            .values()
            .map(|running| running.last.clone())
            .collect()
    }
}
