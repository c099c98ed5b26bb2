use chrono::{DateTime, FixedOffset, Local, SubsecRound};

/// Where "now" comes from. Production reads the system clock; tests pin it.
pub trait Clock: Send + Sync {
    /// The current instant in the control room's local time zone. The offset matters: task
    /// ids carry the *local* calendar day.
    fn now(&self) -> DateTime<FixedOffset>;
}

/// The system clock in the OS time zone, to the microsecond (what PostgreSQL keeps, so both
/// backends store the same instants).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<FixedOffset> {
        Local::now().fixed_offset().trunc_subsecs(6)
    }
}

/// A clock that always says the same time (tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<FixedOffset>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<FixedOffset> {
        self.0
    }
}
