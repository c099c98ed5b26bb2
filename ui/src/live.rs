//! The live console: the feed the backend pushes, as signals screens read.
//!
//! Screens never poll. A resource that shows a topic reads [`Live::track`] in its source,
//! so a change to that topic — committed by this console, the CLI or another console on
//! the same database — refetches it. Jobs (verification, checks, commands) report through
//! [`Live::job`], with their progress and result.

use std::collections::BTreeMap;

use guardia_ipc::{FEED_EVENT, FeedEvent, JobId, JobKind, JobState, JobUpdate, Topic};
use leptos::prelude::*;

use crate::app::Ui;
use crate::ipc;

#[derive(Clone, Copy)]
pub struct Live {
    /// One counter per topic (in `Topic::ALL` order), bumped when the topic changes.
    versions: [RwSignal<u64>; Topic::ALL.len()],
    /// The latest update of every job this window has heard of.
    jobs: RwSignal<BTreeMap<JobId, JobUpdate>>,
    /// How many changes have arrived (shown to tests as `data-feed-count`).
    pub changes: RwSignal<u64>,
    /// Whether the listener is up (until then, screens show what they fetched at start).
    pub connected: RwSignal<bool>,
}

impl Live {
    fn new() -> Self {
        Self {
            versions: std::array::from_fn(|_| RwSignal::new(0)),
            jobs: RwSignal::new(BTreeMap::new()),
            changes: RwSignal::new(0),
            connected: RwSignal::new(false),
        }
    }

    /// Subscribes the calling reactive scope to `topic`.
    pub fn track(self, topic: Topic) {
        if let Some(index) = Topic::ALL.iter().position(|t| *t == topic) {
            self.versions[index].track();
        }
    }

    /// The latest state of job `id`, if this window has heard of it.
    pub fn job(self, id: JobId) -> Option<JobUpdate> {
        self.jobs.with(|jobs| jobs.get(&id).cloned())
    }

    /// The running job of `kind`, if any (e.g. a verification started by the daily timer).
    pub fn running(self, kind: JobKind) -> Option<JobUpdate> {
        self.jobs.with(|jobs| {
            jobs.values()
                .find(|j| j.kind == kind && j.state.is_running())
                .cloned()
        })
    }

    fn apply(self, event: FeedEvent) {
        match event {
            FeedEvent::Changed { topics, .. } => {
                self.changes.update(|n| *n += 1);
                for topic in topics {
                    if let Some(index) = Topic::ALL.iter().position(|t| *t == topic) {
                        self.versions[index].update(|n| *n += 1);
                    }
                }
            }
            FeedEvent::Job(update) => self.jobs.update(|jobs| {
                // Finished jobs stay (their result is shown) until the window closes; a
                // console runs a few a minute at most.
                jobs.insert(update.id, update);
            }),
        }
    }
}

/// Starts listening to the feed and provides [`Live`] to every screen.
pub fn provide() -> Live {
    let live = Live::new();
    provide_context(live);
    let ui = expect_context::<Ui>();
    leptos::task::spawn_local(async move {
        match ipc::listen::<FeedEvent, _>(FEED_EVENT, move |event| live.apply(event)).await {
            Ok(()) => {
                live.connected.set(true);
                // Anything that changed while we were subscribing: refresh once.
                live.apply(FeedEvent::Changed {
                    after: 0,
                    upto: 0,
                    topics: Topic::ALL.to_vec(),
                });
                // Jobs already in flight (a window opened while a verification runs).
                if let Ok(running) = ipc::call::<guardia_ipc::JobList>(()).await {
                    for job in running {
                        live.apply(FeedEvent::Job(job));
                    }
                }
            }
            Err(error) => ui.notify_error(&error),
        }
    });
    live
}

/// `done`/`total` of a running job.
pub fn progress_of(update: &JobUpdate) -> Option<(u64, u64, String)> {
    match &update.state {
        JobState::Running { done, total, step } => Some((*done, *total, step.clone())),
        JobState::Finished { .. } | JobState::Cancelled { .. } | JobState::Failed { .. } => None,
    }
}
