//! # guardia-engine — the runtime, with no window attached
//!
//! Anything long or timed lives here, so the desktop shell only starts and stops it and the
//! headless CLI and the tests run the very same machinery (the Atuin Desktop pattern):
//!
//! * **One root cancellation token.** Every job and background task holds a child of it.
//!   Cancelling the root — the kill switch, or shutdown — stops all of them; every network
//!   await races its token.
//! * **Jobs** ([`Jobs`]): start → id at once; progress and the result go out on the feed;
//!   `cancel(id)` stops one. No IPC call awaits long work.
//! * **Deadlines on the injected clock** ([`Scheduler`]): the daily verification, the
//!   10-minute "sign what is unsigned", later SLA escalations, soak timers and leases. Tests
//!   move a [`ManualClock`] and run what is due; nothing sleeps.
//! * **The change feed** ([`Feed`]): committed changes and job updates, fanned out to every
//!   window of this process. What feeds it (the store's commit notices) is wired by
//!   `guardia-api`, which knows the store; this crate knows neither store nor audit log.
//! * **Health probes** ([`probe`]): TCP, HTTP status and latency, process, log pattern —
//!   shared by the ad-hoc check and, later, the rollout post-check.
//!
//! There are no ad-hoc spawns: background work goes through [`Runtime::spawn`], which tracks
//! it, so [`Runtime::shutdown`] can wait for it to finish.

mod clock;
mod feed;
mod jobs;
mod kill;
pub mod probe;
pub mod rollout;
mod schedule;

pub use clock::{Clock, FixedClock, ManualClock, SystemClock};
pub use feed::Feed;
pub use jobs::{Concurrency, Job, JobContext, JobRefused, Jobs};
pub use kill::KillSwitch;
pub use schedule::Scheduler;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The runtime of one console (or CLI) process.
#[derive(Clone)]
pub struct Runtime {
    /// Where background work runs: the tokio runtime the `Runtime` was made on, so work can
    /// be started from any thread (a GUI event loop's callbacks have no tokio context).
    spawner: Spawner,
    root: CancellationToken,
    kill_switch: KillSwitch,
    clock: Arc<dyn Clock>,
    feed: Feed,
    jobs: Jobs,
    scheduler: Scheduler,
    tracker: TaskTracker,
}

impl Runtime {
    /// A runtime on the current tokio runtime (call it from async code).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let root = CancellationToken::new();
        let tracker = TaskTracker::new();
        let feed = Feed::default();
        let spawner = Spawner {
            handle: tokio::runtime::Handle::try_current().ok(),
            tracker: tracker.clone(),
        };
        let kill_switch = KillSwitch::new(root.clone());
        Self {
            jobs: Jobs::new(
                feed.clone(),
                root.clone(),
                kill_switch.clone(),
                spawner.clone(),
            ),
            kill_switch,
            spawner,
            scheduler: Scheduler::new(clock.clone()),
            root,
            clock,
            feed,
            tracker,
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The kill switch: every job that may change a server holds a child of its token.
    pub fn kill_switch(&self) -> &KillSwitch {
        &self.kill_switch
    }

    /// The root token: every job's token is a child of it.
    pub fn root(&self) -> &CancellationToken {
        &self.root
    }

    /// Runs `work` in the background until it ends or the root is cancelled.
    pub fn spawn<F>(&self, name: &'static str, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.root.clone();
        self.spawner.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => tracing::debug!(task = name, "stopped"),
                () = work => tracing::debug!(task = name, "ended"),
            }
        });
    }

    /// Starts waiting on the clock for deadlines (production; tests call
    /// [`Scheduler::run_due`] themselves).
    pub fn drive_deadlines(&self) {
        let scheduler = self.scheduler.clone();
        let stop = self.root.clone();
        self.spawner.spawn(scheduler.drive(stop));
    }

    /// Cancels the root and waits (at most `grace`) for every job and task to end. Returns
    /// whether they all did.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.root.cancel();
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }
}

/// Spawns tracked work on the runtime the engine was made on.
#[derive(Clone)]
pub(crate) struct Spawner {
    handle: Option<tokio::runtime::Handle>,
    tracker: TaskTracker,
}

impl Spawner {
    pub(crate) fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let work = self.tracker.track_future(work);
        // Dropping the JoinHandle detaches the task; the tracker still waits for it.
        drop(match &self.handle {
            Some(handle) => handle.spawn(work),
            None => tokio::spawn(work),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration as Span, TimeZone, Utc};
    use guardia_ipc::{FeedEvent, JobKind, JobState};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn manual() -> (ManualClock, Runtime) {
        let start = Utc
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .unwrap()
            .fixed_offset();
        let clock = ManualClock::new(start);
        let runtime = Runtime::new(Arc::new(clock.clone()));
        (clock, runtime)
    }

    #[tokio::test]
    async fn a_cancelled_job_ends_cancelled_and_says_so_on_the_feed() {
        let (_, runtime) = manual();
        let mut feed = runtime.feed().subscribe();
        let job = runtime
            .jobs()
            .start(
                JobKind::SshCheck,
                "server:a",
                Concurrency::Many,
                |ctx| async move {
                    ctx.progress(1, 3, "waiting");
                    ctx.token().cancelled().await;
                    JobState::Cancelled { outcome: None }
                },
            )
            .unwrap();
        let id = job.ticket.id;
        // started, then the progress report: only then cancel.
        loop {
            if let FeedEvent::Job(update) = feed.recv().await.unwrap()
                && matches!(update.state, JobState::Running { done: 1, .. })
            {
                break;
            }
        }
        assert_eq!(runtime.jobs().running().len(), 1);
        assert!(runtime.jobs().cancel(id));
        assert_eq!(job.finished().await, JobState::Cancelled { outcome: None });
        assert!(runtime.jobs().running().is_empty());
        assert!(
            !runtime.jobs().cancel(id),
            "a finished job cannot be cancelled"
        );
    }

    #[tokio::test]
    async fn cancelling_the_root_stops_every_job_and_refuses_new_ones() {
        let (_, runtime) = manual();
        let jobs: Vec<Job> = (0..3)
            .map(|i| {
                runtime
                    .jobs()
                    .start(
                        JobKind::SshRun,
                        format!("server:{i}"),
                        Concurrency::Many,
                        |ctx| async move {
                            ctx.token().cancelled().await;
                            JobState::Cancelled { outcome: None }
                        },
                    )
                    .unwrap()
            })
            .collect();
        assert!(runtime.shutdown(Duration::from_secs(5)).await);
        for job in jobs {
            assert_eq!(job.finished().await, JobState::Cancelled { outcome: None });
        }
        let refused =
            runtime
                .jobs()
                .start(JobKind::SshRun, "server:x", Concurrency::Many, |_| async {
                    JobState::Cancelled { outcome: None }
                });
        assert_eq!(refused.err(), Some(JobRefused::Stopped));
    }

    #[tokio::test]
    async fn one_at_a_time_jobs_refuse_a_second_while_the_first_runs() {
        let (_, runtime) = manual();
        let first = runtime
            .jobs()
            .start(
                JobKind::Verification,
                "audit:log",
                Concurrency::OneAtATime,
                |ctx| async move {
                    ctx.token().cancelled().await;
                    JobState::Cancelled { outcome: None }
                },
            )
            .unwrap();
        let second = runtime.jobs().start(
            JobKind::Verification,
            "audit:log",
            Concurrency::OneAtATime,
            |_| async { JobState::Cancelled { outcome: None } },
        );
        assert_eq!(
            second.err(),
            Some(JobRefused::AlreadyRunning(JobKind::Verification))
        );
        runtime.jobs().cancel(first.ticket.id);
        first.finished().await;
    }

    /// Regression: the shell starts work from the GUI's setup callback, which has no tokio
    /// context; that panicked ("there is no reactor running").
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_can_be_started_from_a_thread_without_a_tokio_context() {
        let (_, runtime) = manual();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let from_gui = runtime.clone();
        std::thread::spawn(move || {
            from_gui.spawn("from-gui", async move {
                let _sent = tx.send(());
            });
        })
        .join()
        .unwrap();
        assert_eq!(rx.await, Ok(()));
    }

    #[tokio::test]
    async fn a_deadline_runs_once_per_period_however_far_the_clock_jumps() {
        let (clock, runtime) = manual();
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        runtime
            .scheduler()
            .every("tick", Span::minutes(10), Span::minutes(10), move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            });
        assert!(
            runtime.scheduler().run_due().await.is_empty(),
            "not due yet"
        );
        clock.advance(Span::minutes(9));
        assert!(runtime.scheduler().run_due().await.is_empty());
        clock.advance(Span::minutes(1));
        assert_eq!(runtime.scheduler().run_due().await, ["tick"]);
        assert!(
            runtime.scheduler().run_due().await.is_empty(),
            "ran already"
        );
        // A weekend asleep: one run, not 288.
        clock.advance(Span::days(2));
        assert_eq!(runtime.scheduler().run_due().await, ["tick"]);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(
            runtime.scheduler().next_due(),
            Some(clock.now() + Span::minutes(10))
        );
    }

    #[tokio::test]
    async fn a_deadline_brought_forward_runs_then_falls_back_to_its_period() {
        let (clock, runtime) = manual();
        runtime
            .scheduler()
            .every("sla", Span::hours(1), Span::hours(1), || async {});
        // A new SLA deadline in 5 minutes; a later one does not push it back.
        runtime
            .scheduler()
            .due_by("sla", clock.now() + Span::minutes(5));
        runtime
            .scheduler()
            .due_by("sla", clock.now() + Span::minutes(30));
        runtime.scheduler().due_by("unknown", clock.now());
        assert_eq!(
            runtime.scheduler().next_due(),
            Some(clock.now() + Span::minutes(5))
        );
        clock.advance(Span::minutes(5));
        assert_eq!(runtime.scheduler().run_due().await, ["sla"]);
        assert_eq!(
            runtime.scheduler().next_due(),
            Some(clock.now() + Span::hours(1))
        );
    }

    #[tokio::test]
    async fn the_driver_wakes_when_the_manual_clock_reaches_a_deadline() {
        let (clock, runtime) = manual();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        runtime
            .scheduler()
            .every("ping", Span::hours(1), Span::hours(1), move || {
                let tx = tx.clone();
                async move {
                    let _sent = tx.send(());
                }
            });
        runtime.drive_deadlines();
        clock.advance(Span::hours(1));
        assert_eq!(rx.recv().await, Some(()));
        assert!(runtime.shutdown(Duration::from_secs(5)).await);
    }
}
