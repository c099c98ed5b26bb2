//! The audit operations as the console uses them: real SQLite file, real OS keyring (run
//! under `dbus-run-session` with gnome-keyring, as scripts/test.sh does), pinned clock.

use crate::support::who;
use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Duration, FixedOffset};
use guardia_api::{Api, ApiError, CheckpointReason, FixedClock, VerifyOptions, VerifyTrigger};
use guardia_audit::{
    AuditSigningKey, Checkpoint, VerifierKey, hex_lower, leaf_hash, verify_inclusion,
};
use guardia_domain::Category;
use guardia_ipc::{
    Acknowledgement, AuditQuery, CheckpointExport, CheckpointFormat, CheckpointImport, ErrorCode,
    IpcError, ReportExport, ReportKind, TaskDraft,
};
use guardia_secrets::OsKeyring;
use sqlx::Connection;
use tempfile::TempDir;

const NOW: &str = "2026-11-21T10:00:00+09:00";

async fn api_at(dir: &std::path::Path, now: &str) -> Arc<Api> {
    let clock = FixedClock(DateTime::<FixedOffset>::parse_from_rfc3339(now).unwrap());
    crate::support::api_with(dir, Arc::new(clock), Arc::new(OsKeyring)).await
}

async fn fresh() -> (TempDir, Arc<Api>) {
    let dir = tempfile::tempdir().unwrap();
    let api = api_at(dir.path(), NOW).await;
    (dir, api)
}

fn draft(title: &str, request: &str) -> TaskDraft {
    TaskDraft {
        title: title.into(),
        category: Some(Category::Deploy),
        sub_type: String::new(),
        system: "hr-portal".into(),
        request: request.into(),
        requester: "kim.requester".into(),
        priority: None,
    }
}

async fn edit_entry(dir: &std::path::Path, index: i64) {
    let url = format!("sqlite://{}", dir.join("guardia.db").display());
    let mut db = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("DROP TRIGGER audit_entries_no_update")
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE audit_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'hr-portal', 'xx-portal') AS BLOB) \
         WHERE idx = ?1",
    )
    .bind(index)
    .execute(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn creating_a_task_appends_its_entry_with_the_request_only_as_a_digest() {
    let (_dir, api) = fresh().await;
    let detail = api
        .tasks()
        .create(&who(), draft("배너 교체", "password=Planted-Secret-7731"))
        .await
        .unwrap();
    let page = api.audit_list(AuditQuery::default()).await.unwrap();
    assert_eq!(page.total, 1);
    let entry = &page.entries[0];
    assert_eq!(entry.index, 0);
    assert_eq!(entry.kind, "task.created");
    assert_eq!(entry.actor, "test.operator");
    assert_eq!(entry.subject, format!("task:{}", detail.task.id));
    assert_eq!(entry.result, "ok");
    assert!(
        entry.details.contains("title=배너 교체"),
        "{}",
        entry.details
    );
    assert!(
        !entry.details.contains("Planted-Secret"),
        "{}",
        entry.details
    );
    assert!(entry.details.contains("request_sha256="));
}

#[tokio::test]
async fn a_checkpoint_is_signed_every_256_entries_and_verifies_with_the_keyring_key() {
    let (_dir, api) = fresh().await;
    // The post-commit hook runs on the feed pump, after the commit that crossed 256.
    api.start_feed(&who());
    let mut feed = api.runtime().feed().subscribe();
    for i in 0..260 {
        api.tasks()
            .create(&who(), draft(&format!("t{i}"), ""))
            .await
            .unwrap();
    }
    let status = crate::support::signed_status(&api, &mut feed).await;
    let checkpoint = status.last_checkpoint.expect("a periodic checkpoint");
    assert_eq!(checkpoint.reason, "every-256");
    assert!(
        (257..=261).contains(&checkpoint.size),
        "at least 256 tasks and the checkpoint's own entry: {}",
        checkpoint.size
    );
    let key: VerifierKey = status.verifier_key.unwrap().parse().unwrap();
    let opened = key.open_for(api.audit_origin(), &checkpoint.note).unwrap();
    assert_eq!(opened.size, checkpoint.size);

    // An inclusion proof of entry 5 checks out against that signed root, by itself.
    let proof = api.audit_proof(5, None).await.unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&proof.entry_base64)
        .unwrap();
    let signed = key.open_for(api.audit_origin(), &proof.checkpoint).unwrap();
    let hashes: Vec<[u8; 32]> = proof
        .proof
        .iter()
        .map(|h| {
            let bytes: Vec<u8> = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect();
            bytes.try_into().unwrap()
        })
        .collect();
    verify_inclusion(5, signed.size, &leaf_hash(&bytes), &hashes, &signed.root).unwrap();
    assert_eq!(proof.leaf_hash, hex_lower(&leaf_hash(&bytes)));
}

#[tokio::test]
async fn a_failed_verification_blocks_rollouts_until_an_admin_acknowledges_it() {
    let (dir, api) = fresh().await;
    for i in 0..5 {
        api.tasks()
            .create(&who(), draft(&format!("t{i}"), ""))
            .await
            .unwrap();
    }
    let run = api
        .audit_verify_now(
            &who(),
            VerifyTrigger::Manual,
            &Default::default(),
            &|_, _| {},
        )
        .await
        .unwrap();
    assert!(run.ok, "{run:?}");
    api.ensure_rollouts_allowed().await.unwrap();

    edit_entry(dir.path(), 2).await;
    let run = api
        .audit_verify_now(
            &who(),
            VerifyTrigger::Manual,
            &Default::default(),
            &|_, _| {},
        )
        .await
        .unwrap();
    assert!(!run.ok);
    assert_eq!(run.first_bad, Some(2));
    assert_eq!(run.problem_code.as_deref(), Some("entry_edited"));
    let refused = api.ensure_rollouts_allowed().await.unwrap_err();
    assert_eq!(IpcError::from(refused).code, ErrorCode::IntegrityBlocked);
    assert!(api.audit_status().await.unwrap().rollouts_blocked);

    // A one-word acknowledgement says nothing: refused, still blocked.
    let err = api
        .audit_acknowledge(&who(), Acknowledgement { note: "ok".into() })
        .await
        .unwrap_err();
    assert_eq!(IpcError::from(err).code, ErrorCode::InvalidInput);
    assert!(api.ensure_rollouts_allowed().await.is_err());

    let status = api
        .audit_acknowledge(
            &who(),
            Acknowledgement {
                note: "Entry 2 edited on disk; copy kept for the investigation".into(),
            },
        )
        .await
        .unwrap();
    assert!(!status.rollouts_blocked);
    api.ensure_rollouts_allowed().await.unwrap();
    let newest = &api.audit_list(AuditQuery::default()).await.unwrap().entries[0];
    assert_eq!(newest.kind, "audit.failure.acknowledged");
    assert_eq!(newest.actor, "test.operator");
    assert!(newest.details.contains("first_bad=2"), "{}", newest.details);

    // Nothing left to acknowledge.
    assert!(matches!(
        api.audit_acknowledge(
            &who(),
            Acknowledgement {
                note: "acknowledging again for no reason".into()
            }
        )
        .await,
        Err(ApiError::InvalidRequest(_))
    ));
}

async fn verify_in_chunks(api: &Api, chunk: u32) -> guardia_audit::Report {
    let options = VerifyOptions {
        chunk_entries: Some(chunk),
        ..VerifyOptions::default()
    };
    api.audit_verify_with(options, &Default::default(), &|_, _| {})
        .await
        .unwrap()
}

/// Verification reads the log in chunks, two readers taking turns; entries must still be
/// checked in order and a bad one found wherever the chunk boundaries fall.
#[tokio::test]
async fn verification_across_many_chunks_keeps_order_and_finds_the_bad_entry() {
    let (dir, api) = fresh().await;
    for i in 0..40 {
        api.tasks()
            .create(&who(), draft(&format!("t{i}"), ""))
            .await
            .unwrap();
    }
    api.audit_checkpoint(&who(), CheckpointReason::OnDemand)
        .await
        .unwrap();
    for chunk in [1, 3, 7, 40, 1000] {
        let report = verify_in_chunks(&api, chunk).await;
        assert!(report.ok(), "chunks of {chunk}: {:?}", report.failure);
        assert_eq!(report.entries, 41);
        assert_eq!(report.verified_through, 41);
    }
    edit_entry(dir.path(), 20).await;
    for chunk in [1, 3, 7, 1000] {
        let report = verify_in_chunks(&api, chunk).await;
        assert_eq!(report.failure.unwrap().first_bad, 20, "chunks of {chunk}");
    }
}

#[tokio::test]
async fn the_daily_verification_is_due_a_day_after_the_last_one() {
    let dir = tempfile::tempdir().unwrap();
    let api = api_at(dir.path(), NOW).await;
    assert!(api.audit_verification_due().await.unwrap(), "never run");
    api.audit_verify_now(
        &who(),
        VerifyTrigger::Daily,
        &Default::default(),
        &|_, _| {},
    )
    .await
    .unwrap();
    assert!(!api.audit_verification_due().await.unwrap());
    drop(api);
    let later = (DateTime::<FixedOffset>::parse_from_rfc3339(NOW).unwrap() + Duration::hours(23))
        .to_rfc3339();
    assert!(
        !api_at(dir.path(), &later)
            .await
            .audit_verification_due()
            .await
            .unwrap()
    );
    let day_later = (DateTime::<FixedOffset>::parse_from_rfc3339(NOW).unwrap()
        + Duration::hours(24))
    .to_rfc3339();
    assert!(
        api_at(dir.path(), &day_later)
            .await
            .audit_verification_due()
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_foreign_checkpoint_is_refused_on_import_and_nothing_is_stored() {
    let (_dir, api) = fresh().await;
    api.tasks().create(&who(), draft("t", "")).await.unwrap();
    let impostor = AuditSigningKey::generate(api.audit_origin()).unwrap();
    let forged = impostor.sign(&Checkpoint {
        origin: api.audit_origin().to_owned(),
        size: 1,
        root: [7; 32],
    });
    let before = api.audit_status().await.unwrap();
    let err = api
        .audit_import_checkpoint_now(
            &who(),
            CheckpointImport {
                note: forged,
                label: "usb stick".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(IpcError::from(err).code, ErrorCode::InvalidInput);
    let after = api.audit_status().await.unwrap();
    assert_eq!(after.external_checkpoints, 0);
    assert_eq!(
        after.entries, before.entries,
        "a refused import leaves no trace"
    );

    // Its own checkpoint, brought back, is accepted and the log verifies against it.
    let own = api
        .audit_checkpoint(&who(), CheckpointReason::OnDemand)
        .await
        .unwrap();
    let run = api
        .audit_import_checkpoint_now(
            &who(),
            CheckpointImport {
                note: own.note.replace('\n', "\r\n"),
                label: "printed copy, safe B".into(),
            },
        )
        .await
        .unwrap();
    assert!(run.ok, "{run:?}");
    assert_eq!(api.audit_status().await.unwrap().external_checkpoints, 1);
}

#[tokio::test]
async fn checkpoints_and_reports_are_exported_and_each_export_is_logged() {
    let (dir, api) = fresh().await;
    for i in 0..3 {
        api.tasks()
            .create(&who(), draft(&format!("<b>배포 {i}</b>"), ""))
            .await
            .unwrap();
    }
    let text = api
        .audit_checkpoint_export(
            &who(),
            CheckpointExport {
                format: CheckpointFormat::Text,
            },
        )
        .await
        .unwrap();
    let latest = api.audit_status().await.unwrap();
    let checkpoint = latest.last_checkpoint.unwrap();
    assert_eq!(text.content, checkpoint.note);
    assert_eq!(
        std::fs::read_to_string(&text.path).unwrap(),
        checkpoint.note
    );
    assert!(
        text.path
            .starts_with(dir.path().join("exports").to_str().unwrap())
    );
    assert!(checkpoint.exported_at.is_some());
    assert_eq!(
        latest.entries_since_export, 1,
        "only the export's own entry"
    );

    let qr = api
        .audit_checkpoint_export(
            &who(),
            CheckpointExport {
                format: CheckpointFormat::Qr,
            },
        )
        .await
        .unwrap();
    assert!(qr.content.contains("<svg"), "an SVG image");
    let print = api
        .audit_checkpoint_export(
            &who(),
            CheckpointExport {
                format: CheckpointFormat::Print,
            },
        )
        .await
        .unwrap();
    assert!(print.content.contains("<svg") && print.content.contains("verifier key"));

    let csv = api
        .audit_report_export(
            &who(),
            ReportExport {
                kind: ReportKind::ActivityCsv,
                query: AuditQuery {
                    kind: "task.".into(),
                    ..AuditQuery::default()
                },
            },
        )
        .await
        .unwrap();
    let lines: Vec<&str> = csv.content.lines().collect();
    assert_eq!(
        lines[0],
        "index,at,actor,kind,subject,result,details,leaf_sha256"
    );
    assert_eq!(lines.len(), 4, "three task entries");
    assert!(
        csv.content.contains("title=<b>배포 0</b>"),
        "{}",
        csv.content
    );
    let html = api
        .audit_report_export(
            &who(),
            ReportExport {
                kind: ReportKind::IntegrityHtml,
                query: AuditQuery::default(),
            },
        )
        .await
        .unwrap();
    assert!(html.content.contains("integrity report"));
    assert!(html.content.contains(&latest.verifier_key.clone().unwrap()));
    assert!(html.content.matches("<tr").count() >= 8, "a row per entry");

    let kinds: Vec<String> = api
        .audit_list(AuditQuery {
            kind: "audit.".into(),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "audit.checkpoint.exported")
            .count(),
        3
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "audit.report.exported")
            .count(),
        2
    );
}

#[tokio::test]
async fn the_activity_list_pages_by_index_and_filters() {
    let (_dir, api) = fresh().await;
    for i in 0..25 {
        api.tasks()
            .create(&who(), draft(&format!("task {i}"), ""))
            .await
            .unwrap();
    }
    let first = api
        .audit_list(AuditQuery {
            limit: Some(10),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(first.entries.len(), 10);
    assert_eq!(first.entries[0].index, 24);
    assert_eq!(first.next_before, Some(15));
    let second = api
        .audit_list(AuditQuery {
            limit: Some(10),
            before: first.next_before,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(second.entries[0].index, 14);
    let last = api
        .audit_list(AuditQuery {
            limit: Some(10),
            before: Some(5),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(last.entries.len(), 5);
    assert_eq!(last.next_before, None);

    let found = api
        .audit_list(AuditQuery {
            text: "task 17".into(),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.entries.len(), 1);
    assert_eq!(found.entries[0].index, 17);
    let none = api
        .audit_list(AuditQuery {
            actor: "nobody".into(),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(none.entries.is_empty());
}
