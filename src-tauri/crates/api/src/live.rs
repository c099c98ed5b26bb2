//! The live console: the change feed, the deadlines and the jobs, wired to the store and
//! the ledger.
//!
//! * **Feed pump.** The store moves its committed size after every commit (ours at once,
//!   another process's when [`notice_external`](guardia_store::AuditStore::notice_external)
//!   sees it). The pump reads what changed since its cursor, publishes one
//!   [`FeedEvent::Changed`] with the topics touched, and runs the post-commit hook: a
//!   checkpoint every 256 entries, for every writer (task, inventory, credential, host key,
//!   SSH, bundle — whoever appended).
//! * **Other processes.** A cheap single-row read of the log's size, every 250 ms, notices
//!   commits by the CLI or another console on the same SQLite file. (PostgreSQL will push
//!   the same notice through LISTEN/NOTIFY instead.)
//! * **Deadlines.** Signing what is unsigned every 10 minutes and the daily verification run
//!   on the runtime's scheduler, on the injected clock.
//! * **Jobs.** Verification, SSH checks and ad-hoc commands start as jobs and report on the
//!   feed; IPC calls return their ticket at once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use guardia_audit::EntryKind;
use guardia_engine::{Concurrency, JobContext, JobRefused};
use guardia_ipc::{
    CheckState, FeedEvent, IpcError, JobKind, JobOutcome, JobRef, JobState, JobTicket, RunCommand,
    ServerRef, Topic,
};

use crate::inventory::server_subject;
use crate::{Api, ApiError, Caller, CheckpointReason, VerifyTrigger};

/// How often another process's commits are looked for (the "within a second" budget).
pub const EXTERNAL_POLL: Duration = Duration::from_millis(250);
/// How often unsigned entries are signed, so a killed console leaves little unsigned.
pub const SIGN_EVERY: Span = Span::minutes(10);
/// How often the daily verification asks whether it is due.
pub const VERIFY_CHECK_EVERY: Span = Span::minutes(10);
/// Changes read per feed batch.
const FEED_BATCH: u32 = 4_096;

impl Api {
    /// Sets the runtime going: the feed pump, the watch for other processes' commits, and
    /// the deadlines (driven on the clock). The console calls this once; the CLI too, so its
    /// writes get the same post-commit hook.
    pub fn start(self: &Arc<Self>, caller: &Caller) {
        self.start_feed(caller);
        self.schedule_deadlines(caller);
        self.runtime.drive_deadlines();
    }

    /// The feed pump and the external-commit watch (without deadlines: tests drive those).
    pub fn start_feed(self: &Arc<Self>, caller: &Caller) {
        self.start_pump(caller);
        let store = self.store.clone();
        self.runtime.spawn("external-commits", async move {
            let mut every = tokio::time::interval(EXTERNAL_POLL);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(e) = store.notice_external().await {
                    tracing::warn!(error = %e, "cannot look for other processes' changes");
                }
            }
        });
    }

    /// Only the feed pump, for this process's own commits and their post-commit hook (the
    /// CLI: it has no window to tell about other processes' changes).
    pub fn start_pump(self: &Arc<Self>, caller: &Caller) {
        let api = self.clone();
        let who = caller.clone();
        self.runtime
            .spawn("feed-pump", async move { api.pump(&who).await });
    }

    /// Registers the console's deadlines on the runtime's scheduler.
    pub fn schedule_deadlines(self: &Arc<Self>, caller: &Caller) {
        let api = self.clone();
        let who = caller.clone();
        self.runtime
            .scheduler()
            .every("sign-unsigned", SIGN_EVERY, SIGN_EVERY, move || {
                let api = api.clone();
                let who = who.clone();
                async move {
                    if let Err(e) = api
                        .checkpoint_if_unsigned(&who, CheckpointReason::Periodic)
                        .await
                    {
                        tracing::warn!(error = %e, "periodic audit checkpoint not written");
                    }
                }
            });
        crate::approvals::Approvals::schedule(self);
        crate::reviews::Reviews::schedule(self);
        crate::incidents::Incidents::schedule(self);
        let api = self.clone();
        let who = caller.clone();
        self.runtime.scheduler().every(
            "daily-verification",
            VERIFY_CHECK_EVERY,
            Span::zero(),
            move || {
                let api = api.clone();
                let who = who.clone();
                async move { api.verify_if_due(&who).await }
            },
        );
    }

    /// Runs the daily verification if it is due, and waits for it.
    async fn verify_if_due(self: &Arc<Self>, caller: &Caller) {
        match self.audit_verification_due().await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell whether verification is due");
                return;
            }
        }
        match self.start_verification(caller, VerifyTrigger::Daily) {
            Ok(job) => {
                job.finished().await;
            }
            Err(JobRefused::AlreadyRunning(_)) => {}
            Err(e) => tracing::warn!(error = %e, "daily audit verification did not start"),
        }
    }

    /// Follows the store's committed size: publishes what changed, then runs the
    /// post-commit hook. Never returns (the runtime's root stops it).
    async fn pump(self: Arc<Self>, caller: &Caller) {
        let mut committed = self.store.committed();
        let mut cursor = *committed.borrow_and_update();
        loop {
            if committed.changed().await.is_err() {
                return;
            }
            let upto = *committed.borrow_and_update();
            if upto <= cursor {
                continue;
            }
            let topics = match self.topics_between(cursor, upto).await {
                Ok(topics) => topics,
                Err(e) => {
                    // The change happened; say so, even without knowing what it touched.
                    tracing::warn!(error = %e, "cannot read what changed; refreshing all");
                    Topic::ALL.to_vec()
                }
            };
            let tasks_changed = topics.contains(&Topic::Tasks);
            if topics.contains(&Topic::Rollouts) {
                // The kill switch may have been pressed (or re-armed) by another process,
                // and a person may have asked something of a rollout this process runs.
                self.follow_kill_switch().await;
                self.rollouts().take_requests().await;
            }
            self.runtime.feed().publish(FeedEvent::Changed {
                after: cursor,
                upto,
                topics,
            });
            cursor = upto;
            if tasks_changed {
                // A chain may have a new deadline (this process's or another's write).
                self.runtime
                    .scheduler()
                    .due_by(crate::SLA_DEADLINE, self.clock.now());
            }
            self.after_commit(caller).await;
            // A failed rollout, a kill-switch press, a failed verification open incidents,
            // whoever wrote them (this process or another one).
            if let Err(e) = self.incidents().scan().await {
                tracing::warn!(error = %e, "cannot read the log for incident causes");
            }
        }
    }

    async fn topics_between(&self, after: u64, upto: u64) -> Result<Vec<Topic>, ApiError> {
        let mut topics = BTreeSet::from([Topic::Audit]);
        let mut from = after;
        while from < upto {
            let changes = self.store.changes_after(from, FEED_BATCH).await?;
            let Some(last) = changes.last() else { break };
            from = last.index + 1;
            topics.extend(changes.iter().map(|c| Topic::of_kind(&c.kind)));
        }
        Ok(topics.into_iter().collect())
    }

    /// The post-commit hook: a checkpoint when the log crossed a multiple of 256. The CLI
    /// also calls it before it exits (its pump may not have caught up).
    pub async fn after_commit(&self, caller: &Caller) {
        self.checkpoint_if_due(caller).await;
    }

    /// Stops the runtime: every job and task is cancelled, then the stop is recorded and
    /// whatever is unsigned is signed.
    pub async fn shut_down(&self, caller: &Caller) {
        if !self.runtime.shutdown(Duration::from_secs(5)).await {
            tracing::warn!("some jobs did not stop within 5 s");
        }
        if let Err(e) = self.console_note(caller, EntryKind::ConsoleStopped).await {
            tracing::error!(error = %e, "cannot record the console stopping");
        }
        match self
            .checkpoint_if_unsigned(caller, CheckpointReason::Shutdown)
            .await
        {
            Ok(Some(checkpoint)) => {
                tracing::info!(size = checkpoint.size, "shutdown checkpoint signed")
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "shutdown checkpoint not written"),
        }
    }

    /// Records that the console started (the shell calls it once the window is up).
    pub async fn console_started(&self, caller: &Caller) -> Result<(), ApiError> {
        self.console_note(caller, EntryKind::ConsoleStarted).await
    }

    async fn console_note(&self, caller: &Caller, kind: EntryKind) -> Result<(), ApiError> {
        self.audit_note(
            caller,
            kind,
            vec![
                ("version", env!("CARGO_PKG_VERSION").into()),
                ("workstation", caller.workstation.clone().into()),
            ],
        )
        .await
    }

    /// Asks a running job to stop.
    pub fn job_cancel(&self, caller: &Caller, job: JobRef) -> bool {
        let cancelled = self.runtime.jobs().cancel(job.id);
        tracing::info!(job = %job.id, person = caller.name(), cancelled, "cancel asked");
        cancelled
    }

    /// Starts a verification job (one at a time); its progress and recorded run arrive on
    /// the feed.
    pub(crate) fn start_verification(
        self: &Arc<Self>,
        caller: &Caller,
        trigger: VerifyTrigger,
    ) -> Result<guardia_engine::Job, JobRefused> {
        let api = self.clone();
        let caller = caller.clone();
        self.runtime.jobs().start(
            JobKind::Verification,
            "audit:log",
            Concurrency::OneAtATime,
            move |ctx: JobContext| async move {
                let progress = |done: u64, total: u64| ctx.progress(done, total, "verifying");
                match api
                    .audit_verify_now(&caller, trigger, ctx.token(), &progress)
                    .await
                {
                    Ok(run) if run.ok => {
                        tracing::info!(entries = run.entries, "audit log verified");
                        finished(JobOutcome::Verification(run))
                    }
                    Ok(run) => {
                        tracing::error!(
                            first_bad = ?run.first_bad,
                            problem = run.problem.as_deref().unwrap_or(""),
                            "AUDIT LOG VERIFICATION FAILED"
                        );
                        finished(JobOutcome::Verification(run))
                    }
                    Err(ApiError::Cancelled) => JobState::Cancelled { outcome: None },
                    Err(e) => {
                        tracing::error!(error = %e, "audit verification could not run");
                        JobState::Failed {
                            error: IpcError::from(e),
                        }
                    }
                }
            },
        )
    }

    /// Starts a verification job; answers its ticket at once.
    pub async fn audit_verify_start(
        self: &Arc<Self>,
        caller: &Caller,
        trigger: VerifyTrigger,
    ) -> Result<JobTicket, ApiError> {
        Ok(self.start_verification(caller, trigger)?.ticket)
    }

    /// Starts a check of one server as a job. An unknown server is refused now, not later.
    pub async fn ssh_check_start(
        self: &Arc<Self>,
        caller: &Caller,
        server: ServerRef,
    ) -> Result<JobTicket, ApiError> {
        self.stored_server(&server.name).await?;
        let api = self.clone();
        let caller = caller.clone();
        let job = self.runtime.jobs().start(
            JobKind::SshCheck,
            server_subject(&server.name),
            Concurrency::Many,
            move |ctx: JobContext| async move {
                let total = 7;
                let progress = |done: u64, step: &str| ctx.progress(done, total, step);
                match api
                    .ssh_check(&caller, &server.name, ctx.token(), &progress)
                    .await
                {
                    Ok(report)
                        if report
                            .steps
                            .iter()
                            .any(|s| s.state == CheckState::Cancelled) =>
                    {
                        JobState::Cancelled {
                            outcome: Some(Box::new(JobOutcome::Check(report))),
                        }
                    }
                    Ok(report) => finished(JobOutcome::Check(report)),
                    Err(e) => JobState::Failed {
                        error: IpcError::from(e),
                    },
                }
            },
        )?;
        Ok(job.ticket)
    }

    /// Starts an ad-hoc command as a job. The denylist and the server are checked now.
    pub async fn ssh_run_start(
        self: &Arc<Self>,
        caller: &Caller,
        request: RunCommand,
    ) -> Result<JobTicket, ApiError> {
        let stored = self.stored_server(&request.server).await?;
        self.checked(
            caller,
            &stored,
            &request.command,
            guardia_domain::command::CommandContext::AdHoc,
        )
        .await?;
        let api = self.clone();
        let caller = caller.clone();
        let job = self.runtime.jobs().start(
            JobKind::SshRun,
            server_subject(&request.server),
            Concurrency::Many,
            move |ctx: JobContext| async move {
                ctx.progress(0, 1, "running");
                match api.ssh_run(&caller, request, ctx.token()).await {
                    Ok(report) if ctx.is_cancelled() => JobState::Cancelled {
                        outcome: Some(Box::new(JobOutcome::Command(report))),
                    },
                    Ok(report) => finished(JobOutcome::Command(report)),
                    Err(e) => JobState::Failed {
                        error: IpcError::from(e),
                    },
                }
            },
        )?;
        Ok(job.ticket)
    }
}

fn finished(outcome: JobOutcome) -> JobState {
    JobState::Finished {
        outcome: Box::new(outcome),
    }
}
