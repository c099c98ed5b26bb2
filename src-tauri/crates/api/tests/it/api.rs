//! The API as the shell and CLI use it, on a real SQLite file and a pinned clock.

use crate::support::who;
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use guardia_api::{Api, DataDir, FixedClock};
use guardia_domain::{Category, Field, Problem, TaskStatus, TimelineKind};
use guardia_ipc::{ErrorCode, IpcError, Lang, Preferences, TaskDraft, TaskQuery, TaskRef};
use guardia_secrets::OsKeyring;
use tempfile::TempDir;

/// 2026-11-20 16:30 UTC is already 2026-11-21 in Seoul (+09:00).
const NOW: &str = "2026-11-21T01:30:00+09:00";

async fn api_at(now: &str) -> (TempDir, Arc<Api>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock(DateTime::<FixedOffset>::parse_from_rfc3339(now).unwrap());
    let api = crate::support::api_with(dir.path(), Arc::new(clock), Arc::new(OsKeyring)).await;
    (dir, api)
}

fn draft() -> TaskDraft {
    TaskDraft {
        title: "WAS 재기동".into(),
        category: Some(Category::InfraControl),
        sub_type: "service-restart".into(),
        system: "hr-portal".into(),
        request: "야간에 재기동".into(),
        requester: "lee.jihoon".into(),
        priority: None,
    }
}

#[tokio::test]
async fn task_id_carries_the_local_day_not_the_utc_day() {
    let (_dir, api) = api_at(NOW).await;
    let detail = api.tasks().create(&who(), draft()).await.unwrap();
    assert_eq!(detail.task.id.to_string(), "OPS-20261121-001");
    assert_eq!(
        detail.task.created_at.to_rfc3339(),
        "2026-11-20T16:30:00+00:00",
        "stored in UTC"
    );
}

#[tokio::test]
async fn created_task_is_received_with_one_entry_by_the_operator() {
    let (_dir, api) = api_at(NOW).await;
    let detail = api.tasks().create(&who(), draft()).await.unwrap();
    assert_eq!(detail.task.status, TaskStatus::Received);
    assert_eq!(detail.task.requester.as_str(), "lee.jihoon");
    assert_eq!(detail.timeline.len(), 1);
    assert_eq!(detail.timeline[0].kind, TimelineKind::Created);
    assert_eq!(
        detail.timeline[0].actor.as_str(),
        "test.operator",
        "the operator who typed it in, on behalf of the requester"
    );

    let listed = api.tasks().list(TaskQuery::default()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, detail.task.id);

    let fetched = api
        .tasks()
        .get(TaskRef {
            id: detail.task.id.to_string().to_lowercase(),
        })
        .await
        .unwrap();
    assert_eq!(fetched, detail);
}

#[tokio::test]
async fn an_invalid_draft_names_every_bad_field_and_stores_nothing() {
    let (_dir, api) = api_at(NOW).await;
    let err = api
        .tasks()
        .create(
            &who(),
            TaskDraft {
                title: " ".into(),
                category: None,
                sub_type: "Not A Slug".into(),
                system: "x".repeat(81),
                request: String::new(),
                requester: "kim".into(),
                priority: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let ipc = IpcError::from(err);
    let problems: Vec<(Field, Problem)> = ipc.fields.iter().map(|f| (f.field, f.problem)).collect();
    assert_eq!(
        problems,
        [
            (Field::Title, Problem::Required),
            (Field::Category, Problem::Required),
            (Field::SubType, Problem::NotASlug),
            (Field::System, Problem::TooLong { max: 80 }),
        ]
    );
    assert!(
        api.tasks()
            .list(TaskQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn asking_for_a_malformed_or_missing_task_says_which() {
    let (_dir, api) = api_at(NOW).await;
    let bad = api
        .tasks()
        .get(TaskRef { id: "OPS-1".into() })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), ErrorCode::InvalidInput);
    let missing = api
        .tasks()
        .get(TaskRef {
            id: "OPS-20261121-404".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(missing, guardia_api::TaskError::NotFound(_)));
    assert_eq!(
        IpcError::from(missing),
        IpcError::new(ErrorCode::NotFound, "task OPS-20261121-404 does not exist")
    );
}

#[tokio::test]
async fn list_filters_by_status_category_and_text() {
    let (_dir, api) = api_at(NOW).await;
    api.seed_demo_if_empty().await.unwrap();
    let by = |query: TaskQuery| {
        let api = &api;
        async move { api.tasks().list(query).await.unwrap() }
    };
    let deploys = by(TaskQuery {
        category: Some(Category::Deploy),
        ..TaskQuery::default()
    })
    .await;
    assert!(!deploys.is_empty());
    assert!(deploys.iter().all(|t| t.category == Category::Deploy));

    let halted = by(TaskQuery {
        status: Some(TaskStatus::Halted),
        ..TaskQuery::default()
    })
    .await;
    assert_eq!(halted.len(), 1);

    let text = by(TaskQuery {
        text: "payroll".into(),
        ..TaskQuery::default()
    })
    .await;
    assert!(text.iter().all(|t| t.system.as_str() == "payroll"));

    let one = by(TaskQuery {
        limit: Some(0),
        ..TaskQuery::default()
    })
    .await;
    assert_eq!(
        one.len(),
        1,
        "a zero limit is clamped to one, not 'everything'"
    );
}

#[tokio::test]
async fn language_defaults_to_locale_and_then_sticks() {
    let (_dir, api) = api_at(NOW).await;
    assert_eq!(api.preferences_get(&who(),).await.unwrap().lang, Lang::En);
    let saved = api
        .preferences_set(&who(), Preferences { lang: Lang::Ko })
        .await
        .unwrap();
    assert_eq!(saved.lang, Lang::Ko);
    assert_eq!(api.preferences_get(&who(),).await.unwrap().lang, Lang::Ko);
}

#[tokio::test]
async fn demo_seed_fills_only_an_empty_database_and_covers_the_lifecycle() {
    let (_dir, api) = api_at(NOW).await;
    let added = api.seed_demo_if_empty().await.unwrap();
    assert!(added >= 10);
    assert_eq!(
        api.seed_demo_if_empty().await.unwrap(),
        0,
        "second run adds nothing"
    );

    let tasks = api.tasks().list(TaskQuery::default()).await.unwrap();
    assert_eq!(tasks.len(), added);
    let statuses: BTreeSet<TaskStatus> = tasks.iter().map(|t| t.status).collect();
    for status in [
        TaskStatus::Received,
        TaskStatus::PendingApproval,
        TaskStatus::PendingReview,
        TaskStatus::ReadyToRollOut,
        TaskStatus::RollingOut,
        TaskStatus::Completed,
        TaskStatus::Halted,
        TaskStatus::Cancelled,
        TaskStatus::RolledBack,
    ] {
        assert!(statuses.contains(&status), "demo shows a {status} task");
    }
    // The demo's task waiting for review has a real package to review.
    let reviewed = tasks
        .iter()
        .find(|t| t.status == TaskStatus::PendingReview && t.title.as_str().contains("XSS"))
        .expect("a demo task with a package");
    let package = api
        .reviews()
        .get(
            &who(),
            guardia_ipc::PackageRef {
                task: reviewed.id.to_string(),
                version: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(package.files.len(), 8);
    assert_eq!(package.producer.name, "claude-code");
    // Registered oldest first, so the newest-first list is also newest-id-first.
    let ids: Vec<_> = tasks.iter().map(|t| t.id).collect();
    let mut by_id = ids.clone();
    by_id.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, by_id);
    let created: Vec<_> = tasks.iter().map(|t| t.created_at).collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );

    // The timelines went through the real machine: each is readable and ends in the status.
    for task in &tasks {
        let detail = api
            .tasks()
            .get(TaskRef {
                id: task.id.to_string(),
            })
            .await
            .unwrap();
        let last = detail.timeline.last().unwrap();
        match last.kind {
            TimelineKind::Created => assert_eq!(task.status, TaskStatus::Received),
            TimelineKind::Transition(t) => assert_eq!(t.to, task.status),
        }
    }
}

#[test]
fn data_dir_is_created_owner_only() {
    let parent = tempfile::tempdir().unwrap();
    let path = parent.path().join("nested").join("guardia");
    let data_dir = DataDir::create(&path).unwrap();
    assert!(data_dir.path().is_dir());
    assert_eq!(data_dir.database(), data_dir.path().join("guardia.db"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

#[test]
fn a_file_where_the_data_dir_should_be_is_refused() {
    let parent = tempfile::tempdir().unwrap();
    let file = parent.path().join("guardia");
    std::fs::write(&file, "x").unwrap();
    let err = DataDir::create(&file).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
}
