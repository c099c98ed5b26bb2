//! The `guardia` binary as scripts use it, one test binary: tasks, the audit ledger's
//! verification against every tamper class, and the lab fleet.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the report

mod audit;
mod cli;
mod lab;

/// The person the tests that drive the API directly act as.
pub fn who() -> guardia_api::Caller {
    guardia_api::Caller::with_every_role(
        guardia_domain::PersonName::parse("test.operator").unwrap(),
    )
}
