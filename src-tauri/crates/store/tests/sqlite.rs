//! The store story and SQLite-specific guarantees, on a real SQLite file in a temp dir.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the report

mod story;

use std::sync::Arc;

use guardia_domain::Category;
use guardia_store::{SqliteStore, Store, StoreError, TaskFilter, TaskStore};
use story::{at, audit_created, day, new_task, person, register};
use tempfile::TempDir;

async fn fresh() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("guardia.db"))
        .await
        .unwrap();
    (dir, store)
}

macro_rules! story_on_sqlite {
    ($($chapter:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $chapter() {
            let (_dir, store) = fresh().await;
            story::$chapter(&store).await;
        }
    )*};
}

story_on_sqlite!(
    ids_count_per_day,
    task_round_trips_with_its_creation_entry,
    list_filters_and_orders,
    transitions_are_compare_and_set,
    preferences_are_per_owner,
    a_change_whose_audit_entry_fails_is_not_made,
    audit_indexes_are_contiguous_and_the_tree_is_kept,
    inventory_imports_upsert_and_moving_a_server_drops_its_pin,
    credentials_are_references_with_their_kind,
    the_ledger_keeps_its_identity_checkpoints_and_verifications,
    hardening_04_columns_absent_from_a_file_keep_stored_values,
    hardening_13_a_server_differing_only_in_case_is_refused,
    hardening_03_every_server_is_handed_out_for_export,
    people_keep_their_roles_lockouts_and_locks,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_append_at_once_and_the_log_stays_gap_free() {
    let (dir, one) = fresh().await;
    let two = SqliteStore::open(&dir.path().join("guardia.db"))
        .await
        .unwrap();
    story::two_handles_append_at_once_and_the_log_stays_gap_free(&one, &two).await;
}

async fn raw_connection(dir: &TempDir) -> sqlx::SqlitePool {
    let url = format!("sqlite://{}", dir.path().join("guardia.db").display());
    sqlx::SqlitePool::connect(&url).await.unwrap()
}

#[tokio::test]
async fn database_is_a_wal_file_in_the_given_directory() {
    let (dir, store) = fresh().await;
    assert!(dir.path().join("guardia.db").is_file());
    assert!(store.describe().ends_with("guardia.db"));
    store.close().await;
    // WAL is a property of the file: a fresh connection that sets nothing still sees it.
    let raw = raw_connection(&dir).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&raw)
            .await
            .unwrap();
    for table in ["preferences", "task_day_counters", "task_events", "tasks"] {
        assert!(
            tables.iter().any(|t| t == table),
            "migrations created {table}"
        );
    }
}

#[tokio::test]
async fn tasks_survive_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardia.db");
    let created = {
        let store = SqliteStore::open(&path).await.unwrap();
        let task = register(&store, "keep me").await;
        store.close().await;
        task
    };
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.timeline(created.id).await.unwrap().len(), 1);
    assert_eq!(store.task(created.id).await.unwrap(), Some(created));
}

/// Console and CLI are separate processes on one file: two independent pools racing to
/// register tasks must never hand out the same id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_registering_at_once_get_distinct_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardia.db");
    let first = Arc::new(SqliteStore::open(&path).await.unwrap());
    let second = Arc::new(SqliteStore::open(&path).await.unwrap());
    let mut handles = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        handles.push(tokio::spawn(async move {
            store
                .insert_task(
                    &new_task(&format!("t{i}"), Category::Data, "db"),
                    day(21),
                    at(21, 1),
                    &person("op"),
                    &audit_created,
                )
                .await
                .map(|t| t.id.seq())
        }));
    }
    let mut seqs = Vec::new();
    for handle in handles {
        seqs.push(handle.await.unwrap().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<u32>>());
}

#[tokio::test]
async fn a_row_edited_outside_guardia_is_reported_as_corrupt_not_shown() {
    let (dir, store) = fresh().await;
    let task = register(&store, "ok").await;
    store.close().await;

    // Tamper with the file the way someone with a SQLite shell would.
    let raw = raw_connection(&dir).await;
    sqlx::query("UPDATE tasks SET status = 'SHIPPED' WHERE id = ?1")
        .bind(task.id.to_string())
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("UPDATE task_events SET kind = 'transition', from_status = 'RECEIVED', to_status = 'COMPLETED', event = 'submitted'")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;

    let store = SqliteStore::open(&dir.path().join("guardia.db"))
        .await
        .unwrap();
    let err = store.task(task.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("unknown status `SHIPPED`"),
        "{err}"
    );
    let err = store.list_tasks(&TaskFilter::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    let err = store.timeline(task.id).await.unwrap_err();
    assert!(err.to_string().contains("not a legal transition"), "{err}");
}

#[tokio::test]
async fn opening_a_file_that_is_not_a_database_fails_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardia.db");
    let foreign =
        "not SQLite: someone's notes, which must survive a mistaken --data-dir\n".repeat(20);
    std::fs::write(&path, &foreign).unwrap();
    let err = match SqliteStore::open(&path).await {
        Ok(_) => panic!("a text file must not open as a database"),
        Err(err) => err,
    };
    assert!(
        matches!(
            err,
            StoreError::Open { .. } | StoreError::Migrate(_) | StoreError::Database(_)
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), foreign);
}
