//! The ledger chapters of the store story: every [`AuditStore`] method, told as what the
//! console relies on, and two handles appending at once (two consoles, or the console and
//! the CLI, on one database).
//!
//! Methods covered here (keep in step with the trait): `audit_meta`, `init_audit_meta`,
//! `append_audit`, `audit_head`, `committed`, `notice_external`, `changes_after`,
//! `audit_page`, `audit_range`, `audit_scan`, `audit_unrecorded`, `audit_nodes`,
//! `write_checkpoint`, `checkpoints`, `latest_checkpoint`, `last_exported_size`,
//! `mark_checkpoint_exported`, `add_external_checkpoint`, `external_checkpoints`,
//! `record_verification`, `latest_verification`, `unacknowledged_failure`,
//! `acknowledge_verification`.

use guardia_audit::{EntryDraft, EntryKind, Frontier, fold_range, leaf_hash, perfect_nodes};
use guardia_store::{AuditFilter, ExternalCheckpoint, NewVerification, Store};

use super::at;

fn entry(i: u64, kind: EntryKind, subject: &str) -> EntryDraft {
    EntryDraft::new(at(21, 9), kind, "operator", subject).with("n", i)
}

pub async fn the_ledger_keeps_its_identity_checkpoints_and_verifications(store: &dyn Store) {
    // Identity: set once, whoever comes second keeps the first value.
    assert_eq!(store.audit_meta("origin").await.unwrap(), None);
    assert_eq!(
        store
            .init_audit_meta("origin", "guardia.local/a")
            .await
            .unwrap(),
        "guardia.local/a"
    );
    assert_eq!(
        store
            .init_audit_meta("origin", "guardia.local/b")
            .await
            .unwrap(),
        "guardia.local/a"
    );
    assert_eq!(
        store.audit_meta("origin").await.unwrap().as_deref(),
        Some("guardia.local/a")
    );

    // Appends move the head and the feed; changes are read back by index.
    let mut feed = store.committed();
    let start = *feed.borrow_and_update();
    assert_eq!(start, 0);
    let drafts: Vec<EntryDraft> = (0..40)
        .map(|i| {
            let kind = if i % 2 == 0 {
                EntryKind::ServerSaved
            } else {
                EntryKind::TaskCreated
            };
            entry(i, kind, &format!("server:web-{i:02}"))
        })
        .collect();
    let head = store.append_audit(&drafts).await.unwrap();
    assert_eq!(head.size, 40);
    assert!(feed.has_changed().unwrap(), "a commit wakes the feed");
    assert_eq!(*feed.borrow_and_update(), 40);
    assert_eq!(store.audit_head().await.unwrap(), head);
    assert_eq!(store.notice_external().await.unwrap(), 40);
    assert!(!feed.has_changed().unwrap(), "nothing new: no wake-up");

    let changes = store.changes_after(35, 100).await.unwrap();
    assert_eq!(
        changes.iter().map(|c| c.index).collect::<Vec<_>>(),
        [35, 36, 37, 38, 39]
    );
    assert_eq!(changes[0].kind, "task.created");
    assert_eq!(changes[1].subject, "server:web-36");
    assert_eq!(store.changes_after(0, 3).await.unwrap().len(), 3, "bounded");
    assert!(store.changes_after(40, 10).await.unwrap().is_empty());

    // Reading: a range, a scan of everything in order, nodes of perfect subtrees, a page.
    let range = store.audit_range(10, 13).await.unwrap();
    assert_eq!(
        range.iter().map(|e| e.index).collect::<Vec<_>>(),
        [10, 11, 12]
    );
    let mut scan = store.audit_scan(40, 7);
    let mut scanned = Vec::new();
    while let Some(chunk) = scan.recv().await {
        scanned.extend(chunk.unwrap());
    }
    assert_eq!(
        scanned.iter().map(|e| e.index).collect::<Vec<_>>(),
        (0..40).collect::<Vec<_>>(),
        "the two readers' chunks arrive in index order"
    );
    let mut frontier = Frontier::new();
    for row in &scanned {
        assert_eq!(row.leaf, leaf_hash(&row.bytes).to_vec());
        frontier.append(leaf_hash(&row.bytes));
    }
    assert_eq!(frontier.root(), head.root);
    let nodes = store.audit_nodes(&perfect_nodes(0..32)).await.unwrap();
    assert_eq!(nodes.len(), 1, "0..32 is one perfect subtree");
    let leaves: Vec<[u8; 32]> = scanned[..32].iter().map(|e| leaf_hash(&e.bytes)).collect();
    assert_eq!(fold_range(&nodes), fold_range_of(&leaves));
    let page = store
        .audit_page(&AuditFilter {
            subject: Some("server:".into()),
            kind: Some("inventory.".into()),
            limit: 5,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.index).collect::<Vec<_>>(),
        [38, 36, 34, 32, 30],
        "newest first, filtered by kind family and subject prefix"
    );
    assert_eq!(store.audit_unrecorded().await.unwrap(), 0);

    // Checkpoints: written with their own entry, which they cover.
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
    let signed = store
        .write_checkpoint(
            &entry(40, EntryKind::AuditCheckpoint, "audit:log"),
            "on-demand",
            &|head| format!("note of {} entries", head.size),
        )
        .await
        .unwrap();
    assert_eq!(signed.size, 41);
    assert_eq!(signed.note, "note of 41 entries");
    assert_eq!(store.checkpoints().await.unwrap(), vec![signed.clone()]);
    assert_eq!(
        store.latest_checkpoint().await.unwrap(),
        Some(signed.clone())
    );
    assert_eq!(store.last_exported_size().await.unwrap(), None);
    store
        .mark_checkpoint_exported(
            41,
            at(21, 10),
            &entry(41, EntryKind::AuditCheckpointExported, "audit:log"),
        )
        .await
        .unwrap();
    assert_eq!(store.last_exported_size().await.unwrap(), Some(41));
    assert!(
        store
            .mark_checkpoint_exported(
                999,
                at(21, 10),
                &entry(0, EntryKind::AuditCheckpointExported, "audit:log")
            )
            .await
            .is_err(),
        "no such checkpoint: nothing is marked, nothing appended"
    );
    assert_eq!(store.audit_head().await.unwrap().size, 42);

    // External checkpoints are kept once.
    let kept = ExternalCheckpoint {
        note: "kept note".into(),
        size: 41,
        label: "safe B".into(),
        imported_at: at(21, 11),
    };
    let import = entry(42, EntryKind::AuditCheckpointImported, "audit:log");
    assert!(store.add_external_checkpoint(&kept, &import).await.unwrap());
    assert!(!store.add_external_checkpoint(&kept, &import).await.unwrap());
    assert_eq!(store.external_checkpoints().await.unwrap(), vec![kept]);
    assert_eq!(
        store.audit_head().await.unwrap().size,
        43,
        "the repeat appended nothing"
    );

    // Verifications: a failure stands until acknowledged, once.
    let failed = NewVerification {
        started_at: at(21, 12),
        finished_at: at(21, 12),
        trigger: "daily".into(),
        actor: "operator".into(),
        ok: false,
        entries: 43,
        checkpoints: 1,
        first_bad: Some(7),
        problem_code: Some("entry_edited".into()),
        problem: Some("entry 7 was edited".into()),
    };
    let record = store
        .record_verification(&failed, &entry(43, EntryKind::AuditVerified, "audit:log"))
        .await
        .unwrap();
    assert_eq!(
        store.latest_verification().await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store.unacknowledged_failure().await.unwrap(),
        Some(record.clone())
    );
    let acknowledged = store
        .acknowledge_verification(
            record.id,
            "admin",
            at(21, 13),
            "copy preserved, INC-7",
            &entry(44, EntryKind::AuditFailureAcknowledged, "audit:log"),
        )
        .await
        .unwrap();
    assert_eq!(acknowledged.acknowledged_by.as_deref(), Some("admin"));
    assert_eq!(store.unacknowledged_failure().await.unwrap(), None);
    assert!(
        store
            .acknowledge_verification(
                record.id,
                "admin",
                at(21, 13),
                "again",
                &entry(45, EntryKind::AuditFailureAcknowledged, "audit:log"),
            )
            .await
            .is_err(),
        "a failure is acknowledged once"
    );
    assert_eq!(store.audit_head().await.unwrap().size, 45);
}

fn fold_range_of(leaves: &[[u8; 32]]) -> [u8; 32] {
    let mut frontier = Frontier::new();
    for leaf in leaves {
        frontier.append(*leaf);
    }
    frontier.root()
}

/// Sixty one-entry appends by `who`, each its own transaction.
async fn append_sixty(store: &dyn Store, who: &str) {
    for i in 0..60 {
        let draft = EntryDraft::new(
            at(21, 9),
            EntryKind::ServerSaved,
            who,
            format!("server:{who}-{i}"),
        );
        store
            .append_audit(std::slice::from_ref(&draft))
            .await
            .unwrap();
    }
}

/// Two handles on one database (two consoles, or console and CLI) append at the same time:
/// every entry lands exactly once, indexes stay contiguous, the tree matches, and each
/// handle's feed learns of the other's commits.
pub async fn two_handles_append_at_once_and_the_log_stays_gap_free(
    one: &dyn Store,
    two: &dyn Store,
) {
    tokio::join!(append_sixty(one, "one"), append_sixty(two, "two"));

    let head = one.audit_head().await.unwrap();
    assert_eq!(head.size, 120);
    assert_eq!(two.audit_head().await.unwrap(), head);
    let rows = one.audit_range(0, 200).await.unwrap();
    assert_eq!(
        rows.iter().map(|e| e.index).collect::<Vec<_>>(),
        (0..120).collect::<Vec<_>>(),
        "gap-free"
    );
    let mut frontier = Frontier::new();
    for row in &rows {
        frontier.append(leaf_hash(&row.bytes));
    }
    assert_eq!(
        frontier.root(),
        head.root,
        "the recorded tree matches the entries"
    );
    let changes = one.changes_after(0, 500).await.unwrap();
    for who in ["one", "two"] {
        assert_eq!(
            changes
                .iter()
                .filter(|c| c.subject.starts_with(&format!("server:{who}-")))
                .count(),
            60,
            "each of {who}'s entries once"
        );
    }
    assert_eq!(one.audit_unrecorded().await.unwrap(), 0);
    // Each handle hears of the other's commits on its next look.
    assert_eq!(one.notice_external().await.unwrap(), 120);
    assert_eq!(two.notice_external().await.unwrap(), 120);
    assert_eq!(*one.committed().borrow(), 120);
    assert_eq!(*two.committed().borrow(), 120);
}
