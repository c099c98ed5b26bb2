//! Audit ledger speed: durable append (batched and one by one) and full verification of a
//! large log, on a real SQLite file with synchronous=FULL and the key in the OS keyring.
//! Run through `scripts/bench/audit.sh` (it provides the keyring); prints the figures.
//!
//! Arguments: `[entries]` (default 1,000,000). `cargo test --all-targets` also runs this
//! binary, without `--bench`: it then does a quick smoke run of 3,000 entries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark report

use std::sync::Arc;
use std::time::Instant;

use guardia_api::{Api, ApiParts, Caller, CheckpointReason, DataDir, SystemClock, VerifyOptions};
use guardia_audit::{EntryDraft, EntryKind};
use guardia_domain::PersonName;
use guardia_ipc::{AuditQuery, Lang};
use guardia_secrets::OsKeyring;
use guardia_store::{AuditStore, SqliteStore};

/// A realistic entry of about 400 bytes: an SSH command result with digests.
fn entry(i: u64) -> EntryDraft {
    EntryDraft::new(
        chrono::Utc::now(),
        EntryKind::SshCommandResult,
        "kim.operator",
        format!("server:site-{:04}-web-{:02}", i % 1000, i % 7),
    )
    .with("task", format!("OPS-20261121-{:03}", i % 900 + 1))
    .with("command", "sudo systemctl restart tomcat9")
    .with("exit", (i % 3) as i64)
    .with("duration_ms", 1200 + (i % 5000))
    .with_digest("stdout", format!("stdout of command {i}").as_bytes())
    .with_digest("stderr", format!("stderr of command {i}").as_bytes())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let total: u64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(if benchmarking { 1_000_000 } else { 3_000 });
    let dir = tempfile::Builder::new()
        .prefix("guardia-bench-")
        .tempdir_in(std::env::var("GUARDIA_BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into()))
        .unwrap();
    let data_dir = DataDir::create(dir.path()).unwrap();
    let store = Arc::new(SqliteStore::open(&data_dir.database()).await.unwrap());
    let api = Api::new(ApiParts {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        data_dir,
        default_lang: Lang::En,
        secrets: Arc::new(OsKeyring),
    })
    .await
    .unwrap();

    let sample = entry(123_456).encode(123_456).unwrap().len();
    println!(
        "entry size: {sample} bytes; database: {}",
        dir.path().display()
    );

    // One by one: one transaction (and one fsync) per entry.
    let singles = total.min(2_000);
    let started = Instant::now();
    for i in 0..singles {
        store.append_audit(&[entry(i)]).await.unwrap();
    }
    let single_rate = singles as f64 / started.elapsed().as_secs_f64();
    println!("append one by one:  {single_rate:>9.0} entries/s  ({singles} transactions)");

    // Batched, with a signed checkpoint every 256 entries as the console writes them.
    let started = Instant::now();
    let mut written = singles;
    let mut next = singles;
    let bench = Caller::with_every_role(PersonName::parse("bench").unwrap());
    while written < total {
        let batch: Vec<EntryDraft> = (next..next + 255).map(entry).collect();
        next += 255;
        store.append_audit(&batch).await.unwrap();
        api.audit_checkpoint(&bench, CheckpointReason::Every256)
            .await
            .unwrap();
        written += 256;
        if written % 100_000 < 256 {
            eprint!("\r  appended {written}/{total}");
        }
    }
    eprintln!();
    let batch_secs = started.elapsed().as_secs_f64();
    let batched = written - singles;
    println!(
        "append in batches:  {:>9.0} entries/s  ({batched} entries, 255 + 1 signed checkpoint per transaction pair, {batch_secs:.1} s)",
        batched as f64 / batch_secs
    );

    let size = store.audit_head().await.unwrap().size;
    let file_mb = std::fs::metadata(dir.path().join("guardia.db"))
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);
    // Warm: the first pass reads the file into the page cache; the second is measured.
    for pass in ["cold-ish", "warm"] {
        let started = Instant::now();
        let report = api
            .audit_verify_with(VerifyOptions::default(), &Default::default(), &|_, _| {})
            .await
            .unwrap();
        let secs = started.elapsed().as_secs_f64();
        assert!(report.ok(), "{:?}", report.failure);
        println!(
            "verify ({pass}):     {secs:>9.2} s      ({size} entries, {} checkpoints, {file_mb:.0} MB file, {:.0} entries/s)",
            report.checkpoints_verified,
            size as f64 / secs
        );
    }

    // The activity list pages by index, so any page of a million entries is one seek; a
    // text search that matches nothing has to read everything.
    let pages = [
        ("newest page", AuditQuery::default()),
        (
            "page at 500,000",
            AuditQuery {
                before: Some(500_000),
                ..AuditQuery::default()
            },
        ),
        (
            "kind filter",
            AuditQuery {
                kind: "ssh.".into(),
                before: Some(250_000),
                ..AuditQuery::default()
            },
        ),
        (
            "text search, no match",
            AuditQuery {
                text: "no-such-text".into(),
                ..AuditQuery::default()
            },
        ),
    ];
    for (what, query) in pages {
        let started = Instant::now();
        let page = api.audit_list(query).await.unwrap();
        println!(
            "list {what:<22} {:>7.1} ms ({} rows)",
            started.elapsed().as_secs_f64() * 1e3,
            page.entries.len()
        );
    }
}
