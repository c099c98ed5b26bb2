//! The live runtime over a real SQLite file: the change feed (same process and another
//! process's handle on the file), the post-commit checkpoint hook for every writer, the
//! deadlines on a manual clock, and the operation table's permission check.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, FixedOffset};
use guardia_api::{Api, Caller, Clock, ManualClock, Role, RoleGrant, VerifyTrigger};
use guardia_audit::{EntryDraft, EntryKind};
use guardia_domain::{Category, PersonName};
use guardia_ipc::{
    ErrorCode, FeedEvent, InventoryFile, InventoryFormat, RunCommand, TaskDraft, Topic,
};
use guardia_secrets::MemoryKeyring;
use guardia_store::{AuditStore, SqliteStore};
use tokio::sync::broadcast;

use crate::support::{api_with, who};

const START: &str = "2026-12-01T09:00:00+09:00";

fn manual() -> ManualClock {
    ManualClock::new(DateTime::<FixedOffset>::parse_from_rfc3339(START).unwrap())
}

async fn live_api(dir: &std::path::Path, clock: &ManualClock) -> Arc<Api> {
    api_with(
        dir,
        Arc::new(clock.clone()),
        Arc::new(MemoryKeyring::default()),
    )
    .await
}

fn draft(title: &str) -> TaskDraft {
    TaskDraft {
        title: title.into(),
        category: Some(Category::Inspection),
        sub_type: String::new(),
        system: "hr-portal".into(),
        request: String::new(),
        requester: "kim.requester".into(),
        priority: None,
    }
}

/// Waits (bounded) for the next `Changed` event whose range reaches `size`.
async fn changed_through(feed: &mut broadcast::Receiver<FeedEvent>, size: u64) -> Vec<Topic> {
    let wait = async {
        loop {
            match feed.recv().await.unwrap() {
                FeedEvent::Changed { upto, topics, .. } if upto >= size => return topics,
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the change reached the feed")
}

#[tokio::test]
async fn a_change_reaches_the_feed_from_this_process_and_from_another() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    let api = live_api(dir.path(), &clock).await;
    api.start_feed(&who());
    let mut feed = api.runtime().feed().subscribe();

    // This process: woken by the commit itself.
    let started = Instant::now();
    api.tasks().create(&who(), draft("here")).await.unwrap();
    let topics = changed_through(&mut feed, 1).await;
    let same_process = started.elapsed();
    assert!(topics.contains(&Topic::Tasks), "{topics:?}");
    assert!(topics.contains(&Topic::Audit), "{topics:?}");

    // Another process: a second handle on the same file, as the CLI has. Noticed by the
    // cheap size check, not by any wake-up of ours.
    let other = SqliteStore::open(&dir.path().join("guardia.db"))
        .await
        .unwrap();
    let started = Instant::now();
    other
        .append_audit(&[EntryDraft::new(
            clock.now().to_utc(),
            EntryKind::ServerSaved,
            "other.console",
            "server:web-09",
        )])
        .await
        .unwrap();
    let topics = changed_through(&mut feed, 2).await;
    let other_process = started.elapsed();
    assert_eq!(topics, vec![Topic::Audit, Topic::Inventory]);
    println!(
        "feed latency: same process {} µs, other process {} ms",
        same_process.as_micros(),
        other_process.as_millis()
    );
    assert!(
        other_process < Duration::from_secs(1),
        "another process's commit must be noticed within a second, took {other_process:?}"
    );
}

#[tokio::test]
async fn three_hundred_inventory_and_ssh_entries_get_a_checkpoint_at_256() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    let api = live_api(dir.path(), &clock).await;
    api.start_feed(&who());
    let mut feed = api.runtime().feed().subscribe();

    // 150 servers, one entry each; then 150 refused ad-hoc commands, one entry each: none
    // of these writers calls anything checkpoint-related itself.
    for i in 0..150 {
        let csv = format!(
            "institution,system,site,tier,server,address,port,user\n\
             Ministry,hr-portal,seoul-{i:03},2,web-{i:03},127.0.0.{},22,ops\n",
            i + 1
        );
        api.inventory_import(
            &who(),
            InventoryFile {
                format: InventoryFormat::Csv,
                text: csv,
                institution: String::new(),
                system: String::new(),
                default_user: String::new(),
                credential: String::new(),
                map: Vec::new(),
            },
        )
        .await
        .unwrap();
    }
    for i in 0..150 {
        let refused = api
            .ssh_run(
                &who(),
                RunCommand {
                    server: format!("web-{i:03}"),
                    command: "rm -rf /".into(),
                    timeout_secs: None,
                },
                &Default::default(),
            )
            .await;
        assert!(refused.is_err(), "the denylist refuses it");
    }
    let store = SqliteStore::open(&dir.path().join("guardia.db"))
        .await
        .unwrap();
    let wait = async {
        loop {
            if let Some(c) = store.latest_checkpoint().await.unwrap() {
                return c;
            }
            // Woken by the feed, not by a timer: the checkpoint is itself a change.
            feed.recv().await.unwrap();
        }
    };
    let checkpoint = tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("a checkpoint was signed");
    assert_eq!(checkpoint.reason, "every-256");
    let head = store.audit_head().await.unwrap().size;
    assert!(head >= 300, "{head}");
    assert!(
        checkpoint.size > 256 && checkpoint.size <= head,
        "signed once the log crossed 256 (its own entry included): {} of {head}",
        checkpoint.size
    );
    assert_eq!(
        store.checkpoints().await.unwrap().len(),
        1,
        "one, not one per write"
    );
}

#[tokio::test]
async fn a_day_on_the_manual_clock_runs_exactly_one_daily_verification() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    let api = live_api(dir.path(), &clock).await;
    for i in 0..5 {
        api.tasks()
            .create(&who(), draft(&format!("t{i}")))
            .await
            .unwrap();
    }
    api.schedule_deadlines(&who());
    let store = SqliteStore::open(&dir.path().join("guardia.db"))
        .await
        .unwrap();
    let daily_runs = || async {
        let page = store
            .audit_page(&guardia_store::AuditFilter {
                kind: Some("audit.verified".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        page.iter()
            .filter(|e| String::from_utf8_lossy(&e.bytes).contains("\"trigger\":\"daily\""))
            .count()
    };

    // At start the log was never verified: the first check runs it at once.
    let ran = api.runtime().scheduler().run_due().await;
    assert!(ran.contains(&"daily-verification"), "{ran:?}");
    assert_eq!(daily_runs().await, 1);

    // Then 24 hours in 10-minute steps, running whatever is due at each step.
    for _ in 0..(24 * 6) {
        clock.advance(Span::minutes(10));
        api.runtime().scheduler().run_due().await;
    }
    assert_eq!(
        daily_runs().await,
        2,
        "exactly one more daily verification in 24 hours"
    );
    // The 10-minute signing ran too: nothing stays unsigned for long.
    let head = store.audit_head().await.unwrap();
    let signed = store.latest_checkpoint().await.unwrap().unwrap();
    assert!(
        head.size - signed.size <= 1,
        "{} vs {}",
        head.size,
        signed.size
    );
}

#[tokio::test]
async fn a_verification_job_reports_progress_on_the_feed_and_refuses_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    let api = live_api(dir.path(), &clock).await;
    for i in 0..20 {
        api.tasks()
            .create(&who(), draft(&format!("t{i}")))
            .await
            .unwrap();
    }
    let mut feed = api.runtime().feed().subscribe();
    let ticket = api
        .audit_verify_start(&who(), VerifyTrigger::Manual)
        .await
        .unwrap();
    let second = api.audit_verify_start(&who(), VerifyTrigger::Manual).await;
    let mut saw_progress = false;
    let outcome = loop {
        match feed.recv().await.unwrap() {
            FeedEvent::Job(update) if update.id == ticket.id => match update.state {
                guardia_ipc::JobState::Running { total, .. } if total > 0 => saw_progress = true,
                guardia_ipc::JobState::Running { .. } => {}
                done => break done,
            },
            _ => {}
        }
    };
    assert!(saw_progress, "progress was pushed");
    let guardia_ipc::JobState::Finished { outcome } = outcome else {
        panic!("{outcome:?}")
    };
    let guardia_ipc::JobOutcome::Verification(run) = *outcome else {
        panic!("{outcome:?}")
    };
    assert!(run.ok);
    assert_eq!(run.entries, 20);
    // A second one while the first ran was refused, unless the first had already ended.
    if let Err(e) = second {
        assert_eq!(guardia_ipc::IpcError::from(e).code, ErrorCode::Conflict);
    }
}

#[tokio::test]
async fn the_operation_table_checks_the_callers_permission_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    let api = live_api(dir.path(), &clock).await;
    let auditor = Caller {
        person: PersonName::parse("park.auditor").unwrap(),
        workstation: "ws-3".into(),
        grants: vec![RoleGrant::everywhere(Role::Auditor)],
    };
    let args = serde_json::to_value(draft("not allowed")).unwrap();
    let refused = api.dispatch("task_create", &auditor, args.clone()).await;
    assert_eq!(refused.unwrap_err().code, ErrorCode::Forbidden);
    assert!(
        api.tasks()
            .list(Default::default())
            .await
            .unwrap()
            .is_empty()
    );

    let created = api.dispatch("task_create", &who(), args).await.unwrap();
    assert_eq!(created["task"]["requester"], "kim.requester");
    // The audit entry names who asked, not a construction-time operator.
    let listed = api
        .dispatch("audit_list", &auditor, serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(listed["entries"][0]["actor"], "test.operator");

    let unknown = api
        .dispatch("no_such_command", &who(), serde_json::json!(null))
        .await;
    assert_eq!(unknown.unwrap_err().code, ErrorCode::Protocol);
    let malformed = api
        .dispatch("task_get", &who(), serde_json::json!({"nope": 1}))
        .await;
    assert_eq!(malformed.unwrap_err().code, ErrorCode::Protocol);
}
