//! Where "now" comes from, and how the runtime waits for a deadline.
//!
//! Production reads the system clock; tests use a [`ManualClock`] that moves only when told
//! to, so anything timed (the daily verification, later SLA escalations and soak timers) is
//! tested by advancing it and running what is due — no sleeps.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, FixedOffset, Local, SubsecRound};
use tokio::sync::Notify;

/// The time source the runtime and every operation read.
pub trait Clock: Send + Sync {
    /// The current instant in the control room's local time zone. The offset matters: task
    /// ids carry the *local* calendar day.
    fn now(&self) -> DateTime<FixedOffset>;

    /// Resolves once [`now`](Self::now) has reached `at` (the scheduler's wait).
    fn sleep_until(
        &self,
        at: DateTime<FixedOffset>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>>;
}

/// The system clock in the OS time zone, to the microsecond (what PostgreSQL keeps, so both
/// backends store the same instants).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<FixedOffset> {
        Local::now().fixed_offset().trunc_subsecs(6)
    }

    fn sleep_until(
        &self,
        at: DateTime<FixedOffset>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        let wait = (at - self.now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that always says the same time (tests that do not move time).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<FixedOffset>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<FixedOffset> {
        self.0
    }

    fn sleep_until(
        &self,
        at: DateTime<FixedOffset>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        if at <= self.0 {
            Box::pin(std::future::ready(()))
        } else {
            Box::pin(std::future::pending())
        }
    }
}

/// A clock that moves only by [`advance`](Self::advance) (tests).
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    now: Mutex<DateTime<FixedOffset>>,
    moved: Notify,
}

impl ManualClock {
    pub fn new(start: DateTime<FixedOffset>) -> Self {
        Self {
            inner: Arc::new(ManualInner {
                now: Mutex::new(start),
                moved: Notify::new(),
            }),
        }
    }

    /// Moves time forward by `by` and wakes whatever waits on it.
    pub fn advance(&self, by: Duration) {
        {
            let mut now = self
                .inner
                .now
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *now += by;
        }
        self.inner.moved.notify_waiters();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<FixedOffset> {
        *self
            .inner
            .now
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn sleep_until(
        &self,
        at: DateTime<FixedOffset>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            loop {
                let moved = self.inner.moved.notified();
                if self.now() >= at {
                    return;
                }
                moved.await;
            }
        })
    }
}
