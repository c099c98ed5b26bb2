//! The store story: what any [`Store`] backend must do, told once and run against each
//! backend (SQLite today; PostgreSQL joins with team mode).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // test code: a panic is the report

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use guardia_audit::{EntryDraft, EntryKind, Frontier, fold_range, leaf_hash, perfect_nodes};
use guardia_domain::{
    Category, NewTask, PersonName, Task, TaskDraft, TaskEvent, TaskId, TaskStatus, TimelineKind,
};
use guardia_store::{AuditFilter, Store, StoreError, TaskFilter};

mod ledger;
mod people;
pub use ledger::{
    the_ledger_keeps_its_identity_checkpoints_and_verifications,
    two_handles_append_at_once_and_the_log_stays_gap_free,
};
pub use people::people_keep_their_roles_lockouts_and_locks;

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

pub fn at(d: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, hour, 0, 0).unwrap()
}

/// The audit entry the story records for a new task (the console's own wording is tested
/// in guardia-api; here only that an entry lands with the change matters).
pub fn audit_created(task: &Task) -> EntryDraft {
    EntryDraft::new(
        task.created_at,
        EntryKind::TaskCreated,
        "operator",
        format!("task:{}", task.id),
    )
}

pub fn audit_moved(task: &Task) -> EntryDraft {
    EntryDraft::new(
        task.updated_at,
        EntryKind::TaskTransitioned,
        "operator",
        format!("task:{}", task.id),
    )
    .with("status", task.status.code())
}

pub fn person(name: &str) -> PersonName {
    PersonName::parse(name).unwrap()
}

pub fn new_task(title: &str, category: Category, system: &str) -> NewTask {
    TaskDraft {
        title: title.into(),
        category: Some(category),
        sub_type: String::new(),
        system: system.into(),
        request: "요청 내용\nline two".into(),
        requester: "kim.requester".into(),
        priority: None,
    }
    .validate()
    .unwrap()
}

/// Registers a plain task on 2026-11-21 01:00 as `operator`.
pub async fn register(store: &dyn Store, title: &str) -> Task {
    store
        .insert_task(
            &new_task(title, Category::Deploy, "web"),
            day(21),
            at(21, 1),
            &person("operator"),
            &audit_created,
        )
        .await
        .unwrap()
}

fn id(s: &str) -> TaskId {
    s.parse().unwrap()
}

/// Sequence numbers restart every day and are never reused.
pub async fn ids_count_per_day(store: &dyn Store) {
    let op = person("operator");
    let a = store
        .insert_task(
            &new_task("a", Category::Deploy, "web"),
            day(20),
            at(20, 1),
            &op,
            &audit_created,
        )
        .await
        .unwrap();
    let b = store
        .insert_task(
            &new_task("b", Category::Data, "db"),
            day(20),
            at(20, 2),
            &op,
            &audit_created,
        )
        .await
        .unwrap();
    let c = store
        .insert_task(
            &new_task("c", Category::Inspection, "web"),
            day(21),
            at(21, 1),
            &op,
            &audit_created,
        )
        .await
        .unwrap();
    assert_eq!(a.id.to_string(), "OPS-20261120-001");
    assert_eq!(b.id.to_string(), "OPS-20261120-002");
    assert_eq!(c.id.to_string(), "OPS-20261121-001");
    assert_eq!(store.count_tasks().await.unwrap(), 3);
}

/// What goes in comes back out, field for field, with a `created` timeline entry.
pub async fn task_round_trips_with_its_creation_entry(store: &dyn Store) {
    let new = NewTask {
        sub_type: Some(guardia_domain::SubType::parse("service-restart").unwrap()),
        ..new_task("WAS 재기동", Category::InfraControl, "hr-portal")
    };
    let created = store
        .insert_task(
            &new,
            day(21),
            at(21, 9),
            &person("park.operator"),
            &audit_created,
        )
        .await
        .unwrap();
    assert_eq!(created.status, TaskStatus::Received);
    assert_eq!(created.created_at, at(21, 9));

    let read = store.task(created.id).await.unwrap().unwrap();
    assert_eq!(read, created);
    assert_eq!(read.title.as_str(), "WAS 재기동");
    assert_eq!(read.sub_type.unwrap().as_str(), "service-restart");
    assert_eq!(read.request.as_str(), "요청 내용\nline two");

    let timeline = store.timeline(created.id).await.unwrap();
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].kind, TimelineKind::Created);
    assert_eq!(timeline[0].actor.as_str(), "park.operator");

    assert_eq!(store.task(id("OPS-19990101-001")).await.unwrap(), None);
    assert!(
        store
            .timeline(id("OPS-19990101-001"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Filters combine; text search treats `%` and `_` literally; newest first; limit holds.
pub async fn list_filters_and_orders(store: &dyn Store) {
    let op = person("operator");
    for (i, (title, category, system)) in [
        ("배포 50% 완료 확인", Category::Deploy, "minwon-portal"),
        ("Restart WAS", Category::InfraControl, "hr_portal"),
        ("Clean logs", Category::InfraControl, "minwon-portal"),
        ("Fix typo", Category::Deploy, "hr-portal"),
    ]
    .into_iter()
    .enumerate()
    {
        let hour = u32::try_from(i).unwrap();
        store
            .insert_task(
                &new_task(title, category, system),
                day(21),
                at(21, hour),
                &op,
                &audit_created,
            )
            .await
            .unwrap();
    }
    let titles = |tasks: Vec<guardia_domain::Task>| -> Vec<String> {
        tasks.into_iter().map(|t| t.title.to_string()).collect()
    };

    let all = store.list_tasks(&TaskFilter::default()).await.unwrap();
    assert_eq!(
        titles(all),
        [
            "Fix typo",
            "Clean logs",
            "Restart WAS",
            "배포 50% 완료 확인"
        ],
        "newest first"
    );

    let infra = TaskFilter {
        category: Some(Category::InfraControl),
        ..TaskFilter::default()
    };
    assert_eq!(
        titles(store.list_tasks(&infra).await.unwrap()),
        ["Clean logs", "Restart WAS"]
    );

    let text = |t: &str| TaskFilter {
        text: t.into(),
        ..TaskFilter::default()
    };
    assert_eq!(
        titles(store.list_tasks(&text("50%")).await.unwrap()),
        ["배포 50% 완료 확인"]
    );
    assert_eq!(
        titles(store.list_tasks(&text("hr_portal")).await.unwrap()),
        ["Restart WAS"],
        "underscore is literal, so hr-portal does not match"
    );
    assert_eq!(
        titles(store.list_tasks(&text("restart")).await.unwrap()),
        ["Restart WAS"],
        "ASCII search ignores case"
    );
    assert_eq!(
        titles(store.list_tasks(&text("OPS-20261121-004")).await.unwrap()),
        ["Fix typo"],
        "search by id"
    );

    let both = TaskFilter {
        category: Some(Category::Deploy),
        text: "minwon".into(),
        ..TaskFilter::default()
    };
    assert_eq!(
        titles(store.list_tasks(&both).await.unwrap()),
        ["배포 50% 완료 확인"]
    );

    let received = TaskFilter {
        status: Some(TaskStatus::Received),
        limit: 2,
        ..TaskFilter::default()
    };
    assert_eq!(store.list_tasks(&received).await.unwrap().len(), 2);
    let approved = TaskFilter {
        status: Some(TaskStatus::Approved),
        ..TaskFilter::default()
    };
    assert!(store.list_tasks(&approved).await.unwrap().is_empty());
}

/// A transition is compare-and-set: the second console acting on stale state loses and
/// nothing it tried is written.
pub async fn transitions_are_compare_and_set(store: &dyn Store) {
    let op = person("operator");
    let task = register(store, "t").await;
    let submit = TaskStatus::Received.apply(TaskEvent::Submitted).unwrap();
    let moved = store
        .record_transition(
            task.id,
            submit,
            &person("lee.lead"),
            "please",
            at(21, 2),
            &audit_moved,
        )
        .await
        .unwrap();
    assert_eq!(moved.status, TaskStatus::PendingApproval);
    assert_eq!(moved.updated_at, at(21, 2));
    assert_eq!(moved.created_at, at(21, 1));

    let cancel_from_stale = TaskStatus::Received.apply(TaskEvent::Cancelled).unwrap();
    let err = store
        .record_transition(task.id, cancel_from_stale, &op, "", at(21, 3), &audit_moved)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: TaskStatus::Received,
                actual: TaskStatus::PendingApproval,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        store.task(task.id).await.unwrap().unwrap().status,
        TaskStatus::PendingApproval
    );

    let timeline = store.timeline(task.id).await.unwrap();
    assert_eq!(timeline.len(), 2, "the refused cancel left no trace");
    assert_eq!(timeline[1].kind, TimelineKind::Transition(submit));
    assert_eq!(timeline[1].note, "please");
    assert_eq!(timeline[1].actor.as_str(), "lee.lead");

    let missing = store
        .record_transition(
            id("OPS-19990101-001"),
            submit,
            &op,
            "",
            at(21, 4),
            &audit_moved,
        )
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::TaskNotFound(_)), "{missing}");
}

/// Preferences are per operator and overwrite in place.
pub async fn preferences_are_per_owner(store: &dyn Store) {
    assert_eq!(store.preference("kim", "lang").await.unwrap(), None);
    store.set_preference("kim", "lang", "en").await.unwrap();
    store.set_preference("kim", "lang", "ko").await.unwrap();
    store.set_preference("lee", "lang", "en").await.unwrap();
    assert_eq!(
        store.preference("kim", "lang").await.unwrap().as_deref(),
        Some("ko")
    );
    assert_eq!(
        store.preference("lee", "lang").await.unwrap().as_deref(),
        Some("en")
    );
}

/// Fail closed: the audit entry is written in the change's transaction, so an entry that
/// cannot be written (here: a payload with a float, which has no canonical form) takes the
/// change down with it — no task, no timeline, no counter bump, no entry.
pub async fn a_change_whose_audit_entry_fails_is_not_made(store: &dyn Store) {
    let unwritable = |task: &Task| audit_created(task).with("ratio", 0.5);
    let err = store
        .insert_task(
            &new_task("t", Category::Deploy, "web"),
            day(21),
            at(21, 1),
            &person("operator"),
            &unwritable,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(store.count_tasks().await.unwrap(), 0);
    assert_eq!(store.audit_head().await.unwrap().size, 0);
    let task = register(store, "next").await;
    assert_eq!(
        task.id.seq(),
        1,
        "the failed insert used no sequence number"
    );

    let submit = TaskStatus::Received.apply(TaskEvent::Submitted).unwrap();
    let unwritable = |task: &Task| audit_moved(task).with("ratio", 0.5);
    store
        .record_transition(task.id, submit, &person("op"), "", at(21, 2), &unwritable)
        .await
        .unwrap_err();
    assert_eq!(
        store.task(task.id).await.unwrap().unwrap().status,
        TaskStatus::Received,
        "the transition was rolled back with its entry"
    );
    assert_eq!(store.timeline(task.id).await.unwrap().len(), 1);
    assert_eq!(store.audit_head().await.unwrap().size, 1);
}

/// Entries get 0, 1, 2, … from the log's own size; the stored tree gives the same root as
/// recomputing from the entries, and every perfect node a proof needs is there.
pub async fn audit_indexes_are_contiguous_and_the_tree_is_kept(store: &dyn Store) {
    for i in 0..5 {
        register(store, &format!("t{i}")).await;
    }
    let drafts: Vec<EntryDraft> = (0..18)
        .map(|i| {
            EntryDraft::new(
                at(21, 3),
                EntryKind::RolloutStep,
                "op",
                format!("server:s{i}"),
            )
        })
        .collect();
    let head = store.append_audit(&drafts).await.unwrap();
    assert_eq!(head.size, 23);

    let rows = store.audit_range(0, 100).await.unwrap();
    let indexes: Vec<u64> = rows.iter().map(|r| r.index).collect();
    assert_eq!(indexes, (0..23).collect::<Vec<_>>());
    let mut frontier = Frontier::new();
    for row in &rows {
        assert_eq!(row.leaf, leaf_hash(&row.bytes).to_vec());
        assert_eq!(guardia_audit::claimed_index(&row.bytes), Some(row.index));
        frontier.push(leaf_hash(&row.bytes));
    }
    assert_eq!(frontier.root(), head.root);
    let nodes = store.audit_nodes(&perfect_nodes(0..23)).await.unwrap();
    assert_eq!(fold_range(&nodes), head.root);

    let page = store
        .audit_page(&AuditFilter {
            kind: Some("rollout.".into()),
            before: Some(20),
            limit: 3,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let indexes: Vec<u64> = page.iter().map(|r| r.index).collect();
    assert_eq!(indexes, vec![19, 18, 17]);
}

// --- Inventory -------------------------------------------------------------------------------

fn inventory_entry(kind: EntryKind, subject: &str) -> EntryDraft {
    EntryDraft::new(at(21, 2), kind, "admin", subject.to_owned())
}

fn records(csv: &str) -> Vec<guardia_domain::inventory::ImportRow> {
    guardia_domain::inventory::csv::parse_rows(csv).unwrap()
}

const INVENTORY: &str = "institution,system,site,tier,server,address,port,user\n\
    Seoul,hr,gangnam,1,hr-01,10.0.0.1,22,deploy\n\
    Seoul,hr,gangnam,1,hr-02,10.0.0.2,22,deploy\n\
    Busan,cargo,pier,3,cargo-01,10.1.0.1,2222,ops\n";

pub async fn inventory_imports_upsert_and_moving_a_server_drops_its_pin(store: &dyn Store) {
    use guardia_store::{PinSource, PinnedHostKey, ServerFilter};
    let before = store.audit_head().await.unwrap().size;
    let first = store
        .import_servers(&records(INVENTORY), at(21, 2), &|o| {
            inventory_entry(EntryKind::InventoryImported, "inventory")
                .with("created", o.created.to_string())
        })
        .await
        .unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (3, 0, 0));
    assert_eq!(store.audit_head().await.unwrap().size, before + 1);

    let pin = PinnedHostKey {
        key: "ssh-ed25519 AAAA".into(),
        fingerprint: "SHA256:x".into(),
        trusted_by: "admin".into(),
        trusted_at: at(21, 3),
        source: PinSource::Approved,
    };
    store
        .pin_host_keys(
            &[("hr-01".into(), pin.clone()), ("hr-02".into(), pin.clone())],
            &|(s, _)| inventory_entry(EntryKind::HostKeyTrusted, s),
        )
        .await
        .unwrap();
    assert_eq!(
        store.server("hr-01").await.unwrap().unwrap().host_key,
        Some(pin.clone())
    );

    // Same file again: nothing changes. hr-01 moves: its pin goes, hr-02 keeps its own.
    let moved = INVENTORY.replace("hr-01,10.0.0.1", "hr-01,10.0.0.9");
    let again = store
        .import_servers(&records(&moved), at(21, 4), &|_| {
            inventory_entry(EntryKind::InventoryImported, "inventory")
        })
        .await
        .unwrap();
    assert_eq!(
        (
            again.created,
            again.updated,
            again.unchanged,
            again.pins_dropped
        ),
        (0, 1, 2, 1)
    );
    assert_eq!(store.server("hr-01").await.unwrap().unwrap().host_key, None);
    assert_eq!(
        store.server("hr-02").await.unwrap().unwrap().host_key,
        Some(pin)
    );

    let seoul = store
        .servers(&ServerFilter {
            text: "SEOUL".into(),
            ..ServerFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        seoul
            .iter()
            .map(|s| s.record.server.as_str())
            .collect::<Vec<_>>(),
        vec!["hr-01", "hr-02"]
    );
    let test_tier = store
        .servers(&ServerFilter {
            tier: Some(guardia_domain::inventory::Tier::Test),
            ..ServerFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(test_tier.len(), 1);
    assert_eq!(test_tier[0].record.port, 2222);

    // Rename onto an existing name is refused; delete removes.
    let mut renamed = store.server("hr-02").await.unwrap().unwrap().record;
    renamed.server = "cargo-01".into();
    let refused = store
        .save_server(&renamed, Some("hr-02"), at(21, 5), &|s| {
            inventory_entry(EntryKind::ServerSaved, &s.record.server)
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::ServerExists(_))),
        "{refused:?}"
    );
    store
        .delete_server("hr-02", &|s| {
            inventory_entry(EntryKind::ServerDeleted, &s.record.server)
        })
        .await
        .unwrap();
    assert_eq!(store.count_servers().await.unwrap(), 2);
}

pub async fn credentials_are_references_with_their_kind(store: &dyn Store) {
    use guardia_store::{CredentialKind, CredentialMeta};
    let meta = CredentialMeta {
        name: "hr-key".into(),
        kind: CredentialKind::Key,
        has_passphrase: true,
        keyring_account: Some("log/hr-key/v1".into()),
        updated_at: at(21, 2),
        updated_by: "admin".into(),
    };
    store
        .save_credential(&meta, &|m| {
            inventory_entry(EntryKind::CredentialSet, &m.name)
        })
        .await
        .unwrap();
    assert_eq!(
        store.credential("hr-key").await.unwrap(),
        Some(meta.clone())
    );
    assert!(store.keyring_journal().await.unwrap().is_empty());
    // A new version retires the old account in the same transaction; deleting retires it.
    let v2 = guardia_store::CredentialMeta {
        keyring_account: Some("log/hr-key/v2".into()),
        ..meta
    };
    store
        .save_credential(&v2, &|m| inventory_entry(EntryKind::CredentialSet, &m.name))
        .await
        .unwrap();
    let journal = store.keyring_journal().await.unwrap();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].account, "log/hr-key/v1");
    assert_eq!(journal[0].note, guardia_store::KeyringNote::Retired);
    store
        .settle_keyring(&["log/hr-key/v1".into()])
        .await
        .unwrap();
    store
        .delete_credential("hr-key", &|m| {
            inventory_entry(EntryKind::CredentialDeleted, &m.name)
        })
        .await
        .unwrap();
    assert!(store.credentials().await.unwrap().is_empty());
    let journal = store.keyring_journal().await.unwrap();
    assert_eq!(
        journal
            .iter()
            .map(|j| j.account.as_str())
            .collect::<Vec<_>>(),
        vec!["log/hr-key/v2"]
    );
    assert!(matches!(
        store
            .delete_credential("hr-key", &|m| inventory_entry(
                EntryKind::CredentialDeleted,
                &m.name
            ))
            .await,
        Err(StoreError::CredentialNotFound(_))
    ));
}

/// A file without a `tier` column must not reset the tier of servers already in its site.
pub async fn hardening_04_columns_absent_from_a_file_keep_stored_values(store: &dyn Store) {
    let entry = |_: &guardia_store::ImportOutcome| {
        inventory_entry(EntryKind::InventoryImported, "inventory")
    };
    store
        .import_servers(&records(INVENTORY), at(21, 2), &entry)
        .await
        .unwrap();
    // A new server in gangnam, and hr-01 again without tier or port: nothing resets.
    let partial = "institution,system,site,server,address,user\n\
        Seoul,hr,gangnam,hr-03,10.0.0.3,deploy\n\
        Seoul,hr,gangnam,hr-01,10.0.0.1,deploy\n";
    let outcome = store
        .import_servers(&records(partial), at(21, 3), &entry)
        .await
        .unwrap();
    assert_eq!(
        (outcome.created, outcome.updated, outcome.unchanged),
        (1, 0, 1)
    );
    for name in ["hr-01", "hr-02", "hr-03"] {
        let s = store.server(name).await.unwrap().unwrap();
        assert_eq!(s.record.tier.number(), 1, "{name}");
    }
    // Saying tier 2 for one server changes its whole site, and every server is reported.
    let retier = "institution,system,site,tier,server,address,user\n\
        Seoul,hr,gangnam,2,hr-02,10.0.0.2,deploy\n";
    let outcome = store
        .import_servers(&records(retier), at(21, 4), &entry)
        .await
        .unwrap();
    assert_eq!(outcome.updated, 3, "{outcome:?}");
    let changed: Vec<(&str, Vec<&str>)> = outcome
        .changes
        .iter()
        .map(|c| (c.server.as_str(), c.fields.clone()))
        .collect();
    assert_eq!(
        changed,
        vec![
            ("hr-01", vec!["tier"]),
            ("hr-02", vec!["tier"]),
            ("hr-03", vec!["tier"])
        ]
    );
    // Port kept when the file has no port column; an address change is reported by name.
    let moved = "institution,system,site,server,address,user\n\
        Busan,cargo,pier,cargo-01,10.1.0.9,ops\n";
    let outcome = store
        .import_servers(&records(moved), at(21, 5), &entry)
        .await
        .unwrap();
    assert_eq!(outcome.changes[0].fields, vec!["address"]);
    let cargo = store.server("cargo-01").await.unwrap().unwrap();
    assert_eq!((cargo.record.port, cargo.record.tier.number()), (2222, 3));
}

/// Server names that differ only in case are one server to a person: refused.
pub async fn hardening_13_a_server_differing_only_in_case_is_refused(store: &dyn Store) {
    let entry = |_: &guardia_store::ImportOutcome| {
        inventory_entry(EntryKind::InventoryImported, "inventory")
    };
    store
        .import_servers(&records(INVENTORY), at(21, 2), &entry)
        .await
        .unwrap();
    let before = store.audit_head().await.unwrap().size;
    let clash = "institution,system,site,server,address,user\n\
        Seoul,hr,gangnam,HR-01,10.0.0.7,deploy\n";
    let refused = store
        .import_servers(&records(clash), at(21, 3), &entry)
        .await;
    assert!(
        matches!(refused, Err(StoreError::ServerCaseClash { .. })),
        "{refused:?}"
    );
    assert_eq!(store.count_servers().await.unwrap(), 3);
    assert_eq!(store.audit_head().await.unwrap().size, before);
}

/// Exports see every server, past the 50,000 a list shows.
pub async fn hardening_03_every_server_is_handed_out_for_export(store: &dyn Store) {
    use std::fmt::Write as _;
    let mut csv = String::from("institution,system,site,server,address,user\n");
    for i in 0..50_001 {
        let _ = writeln!(
            csv,
            "Seoul,hr,s{},h{i},10.0.{}.{},deploy",
            i % 50,
            i / 250,
            i % 250
        );
    }
    store
        .import_servers(&records(&csv), at(21, 2), &|_| {
            inventory_entry(EntryKind::InventoryImported, "inventory")
        })
        .await
        .unwrap();
    let mut seen = 0usize;
    let mut pages = 0;
    let count = store
        .for_each_server(&mut |page| {
            seen += page.len();
            pages += 1;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!((count, seen), (50_001, 50_001));
    assert!(pages > 1);
    let listed = store
        .servers(&guardia_store::ServerFilter::default())
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        50_000,
        "a list is capped, and says so at the edge"
    );
}
