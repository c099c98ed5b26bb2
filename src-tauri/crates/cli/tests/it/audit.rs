//! `guardia audit verify` against real database files tampered with raw SQL, one test per
//! class of tampering the auditors care about. Each log is written by the real API (real
//! SQLite file, real OS keyring under `dbus-run-session`), then edited the way someone with
//! write access to the file would, then checked by the real binary.

use crate::who;
use std::path::{Path, PathBuf};
use std::process::Command;

use guardia_api::{Api, CheckpointReason, DataDir};
use guardia_audit::{
    AuditSigningKey, Checkpoint, EntryDraft, EntryKind, Frontier, hex_lower, leaf_hash,
};
use guardia_domain::Category;
use guardia_ipc::{CheckpointExport, CheckpointFormat, TaskDraft};
use serde_json::Value;

use crate::guardia;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

/// Runs `guardia --json audit verify [extra…]`: (exit code, report).
fn verify(data_dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--json", "audit", "verify"];
    args.extend_from_slice(extra);
    let output = guardia(data_dir, &args);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

fn draft(i: usize) -> TaskDraft {
    TaskDraft {
        title: format!("패치 적용 {i}"),
        category: Some(Category::Deploy),
        sub_type: String::new(),
        system: "hr-portal".into(),
        request: format!("request {i}"),
        requester: "kim.requester".into(),
        priority: None,
    }
}

/// A log of 200 task entries with a checkpoint after every 50 tasks (each checkpoint adds
/// its own entry, so they sign sizes 51, 102, 153, 204).
async fn written_log(dir: &Path) -> Api {
    let api = Api::open(DataDir::create(dir).unwrap()).await.unwrap();
    for i in 0..200 {
        api.tasks().create(&who(), draft(i)).await.unwrap();
        if i % 50 == 49 {
            api.audit_checkpoint(&who(), CheckpointReason::OnDemand)
                .await
                .unwrap();
        }
    }
    api
}

async fn raw(dir: &Path) -> SqliteConnection {
    let url = format!("sqlite://{}", dir.join("guardia.db").display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    // What an attacker does first: the append-only triggers are only a guard against mistakes.
    sqlx::raw_sql("DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

async fn entry_bytes(conn: &mut SqliteConnection, index: i64) -> Vec<u8> {
    sqlx::query_scalar("SELECT entry FROM audit_entries WHERE idx = ?1")
        .bind(index)
        .fetch_one(conn)
        .await
        .unwrap()
}

/// Rewrites the log's own bookkeeping (right edge, stored nodes) to match the entries, as a
/// careful attacker would, so only the signed checkpoints can give the edit away.
async fn recompute_bookkeeping(conn: &mut SqliteConnection) {
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT idx, entry FROM audit_entries ORDER BY idx")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    sqlx::query("DELETE FROM audit_nodes")
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut frontier = Frontier::new();
    for (idx, bytes) in rows {
        let leaf = leaf_hash(&bytes);
        sqlx::query("UPDATE audit_entries SET leaf = ?1 WHERE idx = ?2")
            .bind(leaf.to_vec())
            .bind(idx)
            .execute(&mut *conn)
            .await
            .unwrap();
        for (id, hash) in frontier.append(leaf) {
            if id.level > 0 {
                sqlx::query("INSERT INTO audit_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
                    .bind(i64::from(id.level))
                    .bind(id.index as i64)
                    .bind(hash.to_vec())
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
        }
    }
    sqlx::query("UPDATE audit_tree SET size = ?1, peaks = ?2")
        .bind(frontier.size() as i64)
        .bind(frontier.peaks().concat())
        .execute(&mut *conn)
        .await
        .unwrap();
}

/// Stores a well-formed, correctly hashed approval entry at `index`, as a forger would.
async fn insert_forged_approval(conn: &mut SqliteConnection, index: u64) {
    let forged = EntryDraft::new(
        chrono::Utc::now(),
        EntryKind::ApprovalGranted,
        "park.approver",
        format!("task:OPS-20261121-{index:03}"),
    )
    .encode(index)
    .unwrap();
    sqlx::query(
        "INSERT INTO audit_entries (idx, entry, leaf, at, kind, actor, subject, result) \
         VALUES (?1, ?2, ?3, '', 'approval.granted', 'park.approver', 'task:x', 'ok')",
    )
    .bind(index as i64)
    .bind(forged.clone())
    .bind(leaf_hash(&forged).to_vec())
    .execute(conn)
    .await
    .unwrap();
}

fn assert_tampered(report: &(i32, Value), first_bad: u64, code: &str) {
    let (exit, json) = report;
    assert_eq!(*exit, 1, "verify must exit 1: {json}");
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["first_bad"], first_bad, "{json}");
    assert_eq!(json["problem_code"], code, "{json}");
    assert!(!json["problem"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn an_untouched_log_verifies_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    drop(written_log(dir.path()).await);
    let (exit, json) = verify(dir.path(), &[]);
    assert_eq!(exit, 0, "{json}");
    assert_eq!(json["ok"], true);
    assert_eq!(json["entries"], 204);
    assert_eq!(json["checkpoints_verified"], 4);
    assert_eq!(json["verified_through"], 204);
    assert_eq!(json["first_bad"], Value::Null);

    // Text output names the outcome too.
    let text = guardia(dir.path(), &["audit", "verify"]);
    assert_eq!(text.status.code(), Some(0));
    // (The first run recorded itself: one entry more.)
    assert!(
        String::from_utf8_lossy(&text.stdout).starts_with("intact: 205 entries"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );

    // An inclusion proof for a third party: against the newest checkpoint covering it.
    let file = dir.path().join("proof.json");
    let proof = guardia(
        dir.path(),
        &[
            "audit",
            "proof",
            "--index",
            "77",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(proof.status.code(), Some(0));
    let proof: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(proof["format"], "guardia-inclusion-proof/1");
    assert_eq!(proof["index"], 77);
    assert_eq!(proof["tree_size"], 204);
    assert_eq!(
        proof["proof"].as_array().unwrap().len(),
        8,
        "⌈log2 204⌉ hashes"
    );
    assert!(proof["checkpoint"].as_str().unwrap().contains("\n204\n"));
    assert!(
        proof["entry_text"]
            .as_str()
            .unwrap()
            .starts_with("guardia.audit.v1\n{\"index\":77,")
    );
    // No checkpoint covers an entry past the log's end.
    let missing = guardia(dir.path(), &["audit", "proof", "--index", "999"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[tokio::test]
async fn an_edited_entry_is_found_at_its_index() {
    let dir = tempfile::tempdir().unwrap();
    drop(written_log(dir.path()).await);
    let mut conn = raw(dir.path()).await;
    let edited = String::from_utf8(entry_bytes(&mut conn, 77).await)
        .unwrap()
        .replace("kim.requester", "lee.attacker");
    sqlx::query("UPDATE audit_entries SET entry = ?1 WHERE idx = 77")
        .bind(edited.into_bytes())
        .execute(&mut conn)
        .await
        .unwrap();
    assert_tampered(&verify(dir.path(), &[]), 77, "entry_edited");

    // A careful attacker also rewrites the leaf hashes, nodes and right edge: the signed
    // checkpoint of size 102 no longer matches, and everything after the last good one
    // (51) is untrusted.
    recompute_bookkeeping(&mut conn).await;
    assert_tampered(&verify(dir.path(), &[]), 51, "root_mismatch");
}

#[tokio::test]
async fn a_deleted_entry_is_found_at_its_index() {
    let dir = tempfile::tempdir().unwrap();
    drop(written_log(dir.path()).await);
    let mut conn = raw(dir.path()).await;
    sqlx::query("DELETE FROM audit_entries WHERE idx = 120")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_tampered(&verify(dir.path(), &[]), 120, "missing_rows");

    // Closing the gap by renumbering does not help: entry 121 says it is 121.
    sqlx::query("UPDATE audit_entries SET idx = idx + 999999 WHERE idx > 120")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_entries SET idx = idx - 1000000 WHERE idx >= 1000000")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_tampered(&verify(dir.path(), &[]), 120, "out_of_place");
}

#[tokio::test]
async fn an_inserted_entry_is_found_at_its_index() {
    let dir = tempfile::tempdir().unwrap();
    drop(written_log(dir.path()).await);
    let mut conn = raw(dir.path()).await;
    // Make room at 150 and put a well-formed, correctly hashed forgery there.
    sqlx::query("UPDATE audit_entries SET idx = idx + 1000001 WHERE idx >= 150")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_entries SET idx = idx - 1000000 WHERE idx >= 1000000")
        .execute(&mut conn)
        .await
        .unwrap();
    insert_forged_approval(&mut conn, 150).await;
    assert_tampered(&verify(dir.path(), &[]), 150, "out_of_place");
}

#[tokio::test]
async fn two_swapped_entries_are_found_at_the_first() {
    let dir = tempfile::tempdir().unwrap();
    drop(written_log(dir.path()).await);
    let mut conn = raw(dir.path()).await;
    sqlx::raw_sql(
        "UPDATE audit_entries SET idx = 9999999 WHERE idx = 90; \
         UPDATE audit_entries SET idx = 90 WHERE idx = 91; \
         UPDATE audit_entries SET idx = 91 WHERE idx = 9999999;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_tampered(&verify(dir.path(), &[]), 90, "out_of_place");
}

#[tokio::test]
async fn entries_added_past_the_recorded_end_are_found() {
    let dir = tempfile::tempdir().unwrap();
    drop(written_log(dir.path()).await);
    let mut conn = raw(dir.path()).await;
    // A well-formed entry at the next index, without touching the log's own bookkeeping.
    insert_forged_approval(&mut conn, 204).await;
    assert_tampered(&verify(dir.path(), &[]), 204, "unrecorded_entries");
}

/// Exports the newest checkpoint the way an operator does, and returns the file.
async fn exported_checkpoint(api: &Api) -> PathBuf {
    let file = api
        .audit_checkpoint_export(
            &who(),
            CheckpointExport {
                format: CheckpointFormat::Text,
            },
        )
        .await
        .unwrap();
    let kept = tempfile::NamedTempFile::new().unwrap().into_temp_path();
    let kept = kept.keep().unwrap();
    std::fs::copy(&file.path, &kept).unwrap();
    kept
}

#[tokio::test]
async fn a_truncated_tail_is_found_given_an_external_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let api = written_log(dir.path()).await;
    let kept = exported_checkpoint(&api).await;
    drop(api);
    let mut conn = raw(dir.path()).await;
    // Cut everything from 160 on, and tidy up so the database is consistent with itself.
    sqlx::raw_sql(
        "DELETE FROM audit_entries WHERE idx >= 160; DELETE FROM audit_checkpoints WHERE size > 160;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    recompute_bookkeeping(&mut conn).await;

    // On its own the database cannot show what is missing (that is why checkpoints leave
    // the machine)...
    let (exit, alone) = verify(dir.path(), &["--no-record"]);
    assert_eq!(exit, 0, "{alone}");
    assert_eq!(alone["entries"], 160);
    // ...the checkpoint kept outside does.
    let kept = kept.display().to_string();
    assert_tampered(
        &verify(dir.path(), &["--checkpoint", &kept]),
        160,
        "truncated",
    );
}

#[tokio::test]
async fn an_older_copy_of_the_database_is_found_given_a_newer_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let api = written_log(dir.path()).await;
    api.audit_checkpoint(&who(), CheckpointReason::OnDemand)
        .await
        .unwrap();
    let size_then = api.audit_status().await.unwrap().entries;
    // A backup of that moment (VACUUM INTO gives a consistent copy of a live database).
    let backup = dir.path().join("backup.db");
    let mut conn = SqliteConnection::connect(&format!(
        "sqlite://{}",
        dir.path().join("guardia.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("VACUUM INTO ?1")
        .bind(backup.display().to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    // Work continues: approvals, a checkpoint that is taken off the machine.
    for i in 0..30 {
        api.tasks().create(&who(), draft(1000 + i)).await.unwrap();
    }
    let kept = exported_checkpoint(&api).await;
    drop(api);
    // Then someone restores the backup.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("guardia.db{suffix}")));
    }
    std::fs::rename(&backup, dir.path().join("guardia.db")).unwrap();

    let (exit, alone) = verify(dir.path(), &["--no-record"]);
    assert_eq!(exit, 0, "the old copy is consistent with itself: {alone}");
    let kept = kept.display().to_string();
    assert_tampered(
        &verify(dir.path(), &["--checkpoint", &kept]),
        size_then,
        "truncated",
    );
}

#[tokio::test]
async fn forged_and_wrongly_keyed_checkpoints_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let api = written_log(dir.path()).await;
    let origin = api.audit_origin().to_owned();
    drop(api);
    let mut conn = raw(dir.path()).await;
    let (size, peaks): (i64, Vec<u8>) = sqlx::query_as("SELECT size, peaks FROM audit_tree")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let frontier = Frontier::from_parts(
        size as u64,
        peaks.chunks(32).map(|c| c.try_into().unwrap()).collect(),
    )
    .unwrap();
    let checkpoint = Checkpoint {
        origin: origin.clone(),
        size: size as u64,
        root: frontier.root(),
    };

    // Signed by a key of the same name that is not in the keyring.
    let impostor = AuditSigningKey::generate(&origin).unwrap();
    sqlx::query("UPDATE audit_checkpoints SET note = ?1 WHERE size = 153")
        .bind(impostor.sign(&Checkpoint {
            size: 153,
            ..checkpoint.clone()
        }))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_tampered(&verify(dir.path(), &[]), 102, "bad_checkpoint");

    // The genuine key's signature line on an edited body (a forged size).
    let genuine: String = sqlx::query_scalar("SELECT note FROM audit_checkpoints WHERE size = 102")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_checkpoints SET note = ?1 WHERE size = 153")
        .bind(genuine.replacen("\n102\n", "\n153\n", 1))
        .execute(&mut conn)
        .await
        .unwrap();
    let (exit, json) = verify(dir.path(), &[]);
    assert_tampered(&(exit, json.clone()), 102, "bad_checkpoint");
    assert!(
        json["problem"]
            .as_str()
            .unwrap()
            .contains("forged or altered"),
        "{json}"
    );

    // An external "checkpoint" from another key proves nothing and is reported. (The
    // stored row is first given back a genuine note so only the external one is wrong.)
    sqlx::query("UPDATE audit_checkpoints SET note = ?1 WHERE size = 153")
        .bind(genuine)
        .execute(&mut conn)
        .await
        .unwrap();
    let foreign = dir.path().join("foreign.txt");
    std::fs::write(&foreign, impostor.sign(&checkpoint)).unwrap();
    // A file that is not one of this log's checkpoints is bad input (exit 2), named — not
    // tampering with the log (exit 1).
    let output = guardia(
        dir.path(),
        &[
            "--json",
            "audit",
            "verify",
            "--checkpoint",
            foreign.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let error: Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(error["code"], "INVALID_INPUT", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("foreign.txt"),
        "{error}"
    );
}

/// Kept checkpoint files are read the same way by `verify --checkpoint` and `import`: CRLF
/// line ends are fine for both; an empty, oversized, padded or missing file is a usage
/// error (exit 2) naming the file, never "tampered" and never "cannot write the output".
#[tokio::test]
async fn hardening_16_17_kept_checkpoint_files_are_read_alike_and_bad_ones_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let api = written_log(dir.path()).await;
    drop(api);
    let exported = guardia(
        dir.path(),
        &["--json", "audit", "export", "--format", "text"],
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let path: Value = serde_json::from_slice(&exported.stdout).unwrap();
    let note = std::fs::read_to_string(path["path"].as_str().unwrap()).unwrap();
    let crlf = dir.path().join("crlf.txt");
    std::fs::write(&crlf, note.replace('\n', "\r\n")).unwrap();
    let (exit, json) = verify(dir.path(), &["--checkpoint", crlf.to_str().unwrap()]);
    assert_eq!(exit, 0, "{json}");
    let imported = guardia(dir.path(), &["audit", "import", crlf.to_str().unwrap()]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let padded = dir.path().join("padded.txt");
    std::fs::write(&padded, format!("{note}{}", "x".repeat(200_000))).unwrap();
    let trailing = dir.path().join("trailing.txt");
    std::fs::write(&trailing, format!("{note}— junk after the signature\n")).unwrap();
    let missing = dir.path().join("missing.txt");
    for file in [&empty, &padded, &trailing, &missing] {
        let f = file.to_str().unwrap();
        for args in [
            vec!["audit", "verify", "--checkpoint", f],
            vec!["audit", "import", f],
        ] {
            let output = guardia(dir.path(), &args);
            let err = String::from_utf8_lossy(&output.stderr).to_string();
            assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(f), "{args:?}: {err}");
            assert!(
                !err.contains("TAMPERED") && !err.contains("cannot write"),
                "{err}"
            );
        }
    }
}

/// What a careful attacker leaves after rewriting history: an edited entry, the bookkeeping
/// recomputed, every checkpoint re-signed with a key of their own, and that key recorded as
/// the log's. Under this console's own key (the keyring's) the checkpoints do not verify:
/// a failed verification, recorded, that blocks rollouts — for the CLI and the console alike
/// — rather than a mere keyring complaint that skips verification.
#[tokio::test]
async fn a_log_re_signed_under_another_key_fails_is_recorded_and_blocks_rollouts() {
    let dir = tempfile::tempdir().unwrap();
    let api = written_log(dir.path()).await;
    let origin = api.audit_origin().to_owned();
    drop(api);
    let mut conn = raw(dir.path()).await;
    let edited = String::from_utf8(entry_bytes(&mut conn, 30).await)
        .unwrap()
        .replace("kim.requester", "lee.attacker");
    sqlx::query("UPDATE audit_entries SET entry = ?1 WHERE idx = 30")
        .bind(edited.into_bytes())
        .execute(&mut conn)
        .await
        .unwrap();
    recompute_bookkeeping(&mut conn).await;
    let attacker = AuditSigningKey::generate(&origin).unwrap();
    let leaves: Vec<Vec<u8>> = sqlx::query_scalar("SELECT leaf FROM audit_entries ORDER BY idx")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let sizes: Vec<i64> = sqlx::query_scalar("SELECT size FROM audit_checkpoints")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    for size in sizes {
        let mut frontier = Frontier::new();
        for leaf in &leaves[..size as usize] {
            frontier.append(leaf.as_slice().try_into().unwrap());
        }
        let note = attacker.sign(&Checkpoint {
            origin: origin.clone(),
            size: size as u64,
            root: frontier.root(),
        });
        sqlx::query("UPDATE audit_checkpoints SET note = ?1 WHERE size = ?2")
            .bind(note)
            .bind(size)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE audit_meta SET value = ?1 WHERE key = 'verifier_key'")
        .bind(attacker.verifier().to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    // The attacker's own key would call this log intact; ours does not.
    let own = dir.path().join("attacker.key");
    std::fs::write(&own, attacker.verifier().to_string()).unwrap();
    let (exit, json) = verify(dir.path(), &["--key", own.to_str().unwrap()]);
    assert_eq!(
        exit, 0,
        "under the attacker's key the rewrite is consistent: {json}"
    );

    let (exit, json) = verify(dir.path(), &[]);
    assert_eq!(exit, 1, "{json}");
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["problem_code"], "bad_checkpoint", "{json}");

    // Recorded and blocking, as the CLI reports it …
    let status = guardia(dir.path(), &["--json", "audit", "status"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["rollouts_blocked"], true, "{status}");
    assert_eq!(status["last_verification"]["ok"], false, "{status}");
    assert_eq!(
        status["last_verification"]["problem_code"], "bad_checkpoint",
        "{status}"
    );
    // … and as the console's API sees it.
    let api = Api::open(DataDir::create(dir.path()).unwrap())
        .await
        .unwrap();
    assert!(matches!(
        api.ensure_rollouts_allowed().await,
        Err(guardia_api::ApiError::IntegrityBlocked { .. })
    ));
    let panel = api.audit_status().await.unwrap();
    assert!(panel.rollouts_blocked);
    assert!(
        panel.key_problem.is_some(),
        "the key problem is still shown"
    );
}

/// The signing key lives in the keyring and nowhere else: not in the database file, its WAL,
/// the exports, the audit entries or the logs (at trace level). Nor does a secret typed into
/// a task's request reach the audit entries.
#[tokio::test]
async fn no_secret_reaches_the_database_exports_entries_or_logs() {
    use base64::Engine;
    use guardia_secrets::{OsKeyring, SecretName, SecretStore};

    let dir = tempfile::tempdir().unwrap();
    let api = Api::open(DataDir::create(dir.path()).unwrap())
        .await
        .unwrap();
    let planted = "Planted-Secret-7731";
    let mut leaky = draft(1);
    leaky.request = format!("db password={planted}");
    api.tasks().create(&who(), leaky).await.unwrap();
    api.audit_checkpoint(&who(), CheckpointReason::OnDemand)
        .await
        .unwrap();
    for format in [
        CheckpointFormat::Text,
        CheckpointFormat::Qr,
        CheckpointFormat::Print,
    ] {
        api.audit_checkpoint_export(&who(), CheckpointExport { format })
            .await
            .unwrap();
    }
    for kind in [
        guardia_ipc::ReportKind::ActivityCsv,
        guardia_ipc::ReportKind::IntegrityHtml,
    ] {
        api.audit_report_export(
            &who(),
            guardia_ipc::ReportExport {
                kind,
                query: guardia_ipc::AuditQuery::default(),
            },
        )
        .await
        .unwrap();
    }
    let seed = OsKeyring
        .get(&SecretName::new(
            guardia_api::KEY_SERVICE,
            api.audit_origin(),
        ))
        .unwrap()
        .expect("the signing key is in the keyring");
    let seed = seed.expose().clone();
    drop(api);

    let log = Command::new(env!("CARGO_BIN_EXE_guardia"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["audit", "checkpoint"])
        .env("GUARDIA_LOG", "trace")
        .output()
        .unwrap();
    assert!(log.status.success());
    let (_, report) = verify(dir.path(), &[]);
    assert_eq!(report["ok"], true);

    let b64 = base64::engine::general_purpose::STANDARD;
    let needles: Vec<Vec<u8>> = vec![
        seed.clone(),
        hex_lower(&seed).into_bytes(),
        b64.encode(&seed).into_bytes(),
        b64.encode(&seed[..24]).into_bytes(),
    ];
    let mut haystacks: Vec<(String, Vec<u8>)> =
        vec![("CLI log".into(), [log.stdout, log.stderr].concat())];
    let mut files = vec![
        dir.path().join("guardia.db"),
        dir.path().join("guardia.db-wal"),
    ];
    files.extend(
        std::fs::read_dir(dir.path().join("exports"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    for file in files {
        if let Ok(bytes) = std::fs::read(&file) {
            haystacks.push((file.display().to_string(), bytes));
        }
    }
    let mut conn = raw(dir.path()).await;
    let entries: Vec<Vec<u8>> = sqlx::query_scalar("SELECT entry FROM audit_entries")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let entries = entries.concat();
    assert!(!entries.is_empty());
    haystacks.push(("audit entries".into(), entries.clone()));
    for (what, hay) in &haystacks {
        for needle in &needles {
            assert!(
                !hay.windows(needle.len()).any(|w| w == needle.as_slice()),
                "the signing key appears in {what}"
            );
        }
    }
    assert!(
        !entries
            .windows(planted.len())
            .any(|w| w == planted.as_bytes()),
        "a secret typed into a request reached the audit entries"
    );
}

/// docs/audit.md promises an auditor can re-verify with a short script of their own using
/// only SHA-256 and Ed25519. The one in docs/tools is run here so the promise stays true.
#[tokio::test]
async fn the_documented_independent_verifier_agrees() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../docs/tools/verify-audit.py");
    let dir = tempfile::tempdir().unwrap();
    let api = written_log(dir.path()).await;
    let key = api.audit_status().await.unwrap().verifier_key.unwrap();
    let kept = exported_checkpoint(&api).await;
    drop(api);
    let run = |extra: &[&str]| {
        let output = Command::new("python3")
            .arg(&script)
            .arg(dir.path().join("guardia.db"))
            .args(["--key", &key])
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code(), text)
    };
    let (code, text) = run(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.starts_with("intact: 205 entries, signed through 204"),
        "{text}"
    );

    let mut conn = raw(dir.path()).await;
    sqlx::query("DELETE FROM audit_entries WHERE idx >= 180")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_checkpoints WHERE size > 180")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let kept = kept.display().to_string();
    let (code, text) = run(&["--checkpoint", &kept]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("first untrusted entry 180"), "{text}");
}
