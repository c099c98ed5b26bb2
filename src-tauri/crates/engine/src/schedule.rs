//! Deadlines on the injected clock: "every 10 minutes sign what is unsigned", "verify once a
//! day", later SLA escalations, soak timers and leases.
//!
//! Each entry has a period and the instant it is next due. [`Scheduler::run_due`] runs every
//! entry that is due *now* (once, however many periods were missed — a console asleep for a
//! weekend verifies once, not 288 times) and moves it one period past now. In production the
//! runtime drives it, waiting on the clock for the next deadline; tests advance a
//! [`ManualClock`](crate::ManualClock) and call `run_due` themselves, deterministically.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, FixedOffset};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::Clock;

type Action = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

struct Entry {
    name: &'static str,
    period: Duration,
    next: DateTime<FixedOffset>,
    action: Action,
}

/// The runtime's deadlines.
#[derive(Clone)]
pub struct Scheduler {
    clock: Arc<dyn Clock>,
    entries: Arc<Mutex<Vec<Entry>>>,
    changed: Arc<Notify>,
}

impl Scheduler {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            entries: Arc::new(Mutex::new(Vec::new())),
            changed: Arc::new(Notify::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `action` every `period`, first `first_after` from now.
    pub fn every<A, F>(
        &self,
        name: &'static str,
        period: Duration,
        first_after: Duration,
        action: A,
    ) where
        A: Fn() -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let action: Action = Arc::new(move || Box::pin(action()));
        let next = self.clock.now() + first_after;
        self.entries().push(Entry {
            name,
            period,
            next,
            action,
        });
        self.changed.notify_one();
    }

    /// Brings entry `name` forward to `at` if it is due later than that (a new SLA
    /// deadline, or a change that may have made one); does nothing for an unknown name.
    /// After it runs, the entry falls back to its period.
    pub fn due_by(&self, name: &str, at: DateTime<FixedOffset>) {
        let moved = self
            .entries()
            .iter_mut()
            .filter(|entry| entry.name == name && at < entry.next)
            .map(|entry| entry.next = at)
            .count();
        if moved > 0 {
            self.changed.notify_one();
        }
    }

    /// The earliest deadline, if any.
    pub fn next_due(&self) -> Option<DateTime<FixedOffset>> {
        self.entries().iter().map(|e| e.next).min()
    }

    /// Runs every entry due now, one after another, and returns their names in the order
    /// they ran. Each is rescheduled one period after now before it runs.
    pub async fn run_due(&self) -> Vec<&'static str> {
        let now = self.clock.now();
        let due: Vec<(&'static str, Action)> = self
            .entries()
            .iter_mut()
            .filter(|entry| entry.next <= now)
            .map(|entry| {
                entry.next = now + entry.period;
                (entry.name, entry.action.clone())
            })
            .collect();
        let mut ran = Vec::with_capacity(due.len());
        for (name, action) in due {
            tracing::debug!(deadline = name, "running");
            action().await;
            ran.push(name);
        }
        ran
    }

    /// Until `stop`: waits on the clock for the next deadline and runs what is due.
    pub(crate) async fn drive(self, stop: CancellationToken) {
        loop {
            self.run_due().await;
            let changed = self.changed.notified();
            let wait = async {
                match self.next_due() {
                    Some(at) => self.clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = wait => {}
                () = changed => {}
            }
        }
    }
}
