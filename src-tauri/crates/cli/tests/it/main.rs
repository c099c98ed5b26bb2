//! The `guardia` binary as scripts use it, one test binary: tasks, the audit ledger's
//! verification against every tamper class, and the lab fleet.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the report

mod ansible;
mod approvals;
mod audit;
mod cli;
mod crash;
mod lab;
mod legacy;
mod people;

/// The person the tests that drive the API directly act as.
pub fn who() -> guardia_api::Caller {
    guardia_api::Caller::with_every_role(
        guardia_domain::PersonName::parse("test.operator").unwrap(),
    )
}

/// Runs the real `guardia` binary on `data_dir` (never the environment's data dir).
pub fn guardia(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_guardia"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("GUARDIA_DATA_DIR")
        .output()
        .unwrap()
}
