//! The API's integration tests, one binary (one link of sqlx + russh + keyring): the task
//! and preference operations, the audit ledger, the fleet on a real lab, and the live
//! runtime (feed, jobs, deadlines). `support` holds what they share.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the report

mod api;
mod approvals;
mod audit;
mod fleet;
mod hardening;
mod incidents;
mod live;
mod people;
mod reviews;
mod rollout_fleet;
mod rollouts;
mod support;
