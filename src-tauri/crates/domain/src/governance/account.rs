//! Sign-in rules as pure code: lockout after repeated failures, and the idle lock.
//!
//! Passwords are hashed elsewhere (Argon2id in the API); this module only decides, from
//! the account's recorded failures and the time, whether a sign-in may be tried and what a
//! failure does. The defaults are SPEC's: 5 failures lock the account for 15 minutes; a
//! session locks after 15 idle minutes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The shortest password an account may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest (Argon2 has no limit; a cap stops a megabyte of "password").
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The sign-in settings an admin may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInPolicy {
    pub max_failures: u32,
    pub lockout_minutes: u32,
    pub idle_lock_minutes: u32,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout_minutes: 15,
            idle_lock_minutes: 15,
        }
    }
}

/// What the store remembers about an account's failed sign-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attempts {
    /// Failures since the last success or lockout.
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// What a failed sign-in did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; `left` more failures lock the account.
    Counted { left: u32 },
    /// This failure locked the account.
    LockedOut { until: DateTime<Utc> },
}

impl Attempts {
    /// `Err(until)` while the account is locked out at `now`.
    pub fn may_try(&self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        match self.locked_until {
            Some(until) if now < until => Err(until),
            _ => Ok(()),
        }
    }

    /// Records a failure at `now`.
    pub fn failed(&mut self, now: DateTime<Utc>, policy: &SignInPolicy) -> Failure {
        if self.locked_until.is_some_and(|until| now >= until) {
            // The lockout ran out: counting starts again.
            *self = Attempts::default();
        }
        self.failures += 1;
        if self.failures >= policy.max_failures.max(1) {
            let until = now + Duration::minutes(i64::from(policy.lockout_minutes));
            *self = Attempts {
                failures: 0,
                locked_until: Some(until),
            };
            Failure::LockedOut { until }
        } else {
            Failure::Counted {
                left: policy.max_failures - self.failures,
            }
        }
    }

    /// A success clears the record.
    pub fn succeeded(&mut self) {
        *self = Attempts::default();
    }
}

/// Why a new password is refused (never says anything about the password itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password may have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

pub fn check_new_password(password: &str) -> Result<(), PasswordProblem> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T09:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::minutes(minute)
    }

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes() {
        let policy = SignInPolicy::default();
        let mut attempts = Attempts::default();
        for left in (1..=4).rev() {
            assert_eq!(attempts.failed(at(0), &policy), Failure::Counted { left });
        }
        assert_eq!(
            attempts.failed(at(1), &policy),
            Failure::LockedOut { until: at(16) }
        );
        assert_eq!(attempts.may_try(at(15)), Err(at(16)));
        assert_eq!(attempts.may_try(at(16)), Ok(()));
    }

    #[test]
    fn counting_starts_again_after_a_lockout_or_a_success() {
        let policy = SignInPolicy::default();
        let mut attempts = Attempts::default();
        for _ in 0..5 {
            attempts.failed(at(0), &policy);
        }
        assert_eq!(
            attempts.failed(at(20), &policy),
            Failure::Counted { left: 4 }
        );
        attempts.succeeded();
        assert_eq!(attempts, Attempts::default());
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert_eq!(check_new_password("short"), Err(PasswordProblem::TooShort));
        assert_eq!(
            check_new_password(&"x".repeat(2000)),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(
            check_new_password("비밀번호는열자이상"),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(check_new_password("correct horse battery"), Ok(()));
    }
}
