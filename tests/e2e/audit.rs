//! The Audit screen in the real window: the integrity panel, Verify now with its progress,
//! a checkpoint exported as a QR code, and what an operator sees after someone edited the
//! log behind the console's back.

use guardia_e2e::{Driver, cli};
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_screen_verifies_exports_and_blocks_rollouts_after_tampering() {
    let data = tempfile::tempdir().unwrap();
    cli(data.path(), &["demo"]);

    let driver = Driver::start();
    let ui = driver.launch(data.path()).await;
    ui.click("[data-test=lang-en]").await;
    ui.click("[data-test=nav-audit]").await;
    ui.find("[data-test=integrity-panel]").await;
    // The demo's task history is in the activity list, newest first.
    ui.find("[data-test=audit-row][data-kind='task.created']")
        .await;
    ui.find("[data-test=audit-row][data-kind='task.transitioned']")
        .await;

    // A fresh console runs its first daily verification by itself at start.
    ui.wait_for_attr("[data-test=last-verification]", "data-trigger", "daily")
        .await;
    ui.wait_for_attr("[data-test=integrity-state]", "data-state", "verified")
        .await;
    // Then the operator asks for one; wait for that run, then for the panel to show it done.
    ui.click("[data-test=verify-now]").await;
    ui.wait_for_attr("[data-test=last-verification]", "data-trigger", "manual")
        .await;
    ui.wait_for_attr("[data-test=integrity-state]", "data-state", "verified")
        .await;
    let progress = ui.find("[data-test=verify-progress]").await;
    let done = progress.attr("data-done").await.unwrap().unwrap();
    let total = progress.attr("data-total").await.unwrap().unwrap();
    assert_eq!(done, total, "the bar ends full");
    assert!(done.parse::<u64>().unwrap() > 50, "{done} entries verified");
    ui.wait_for_text_containing("[data-test=last-verification]", "entries verified")
        .await;
    ui.screenshot("audit-verified").await;

    // A checkpoint taken off the machine as a QR code: the counter of unexported entries
    // drops to the one entry that records the export itself.
    ui.click("[data-test=export-qr]").await;
    ui.find("[data-test=export-view] svg").await;
    let path = ui.text("[data-test=export-path]").await;
    assert!(path.ends_with(".svg"), "{path}");
    assert!(std::path::Path::new(&path).is_file());
    ui.wait_for_text("[data-test=since-export]", "1").await;
    ui.screenshot("audit-checkpoint-qr").await;
    ui.quit().await;

    // Someone with write access edits entry 3 (after removing the append-only triggers).
    let url = format!("sqlite://{}", data.path().join("guardia.db").display());
    let mut db = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "DROP TRIGGER audit_entries_no_update; \
         UPDATE audit_entries SET entry = CAST(replace(CAST(entry AS TEXT), '\"result\":\"ok\"', \
         '\"result\":\"OK\"') AS BLOB) WHERE idx = 3;",
    )
    .execute(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();

    let ui = driver.launch(data.path()).await;
    ui.click("[data-test=nav-audit]").await;
    ui.click("[data-test=verify-now]").await;
    ui.wait_for_attr("[data-test=integrity-state]", "data-state", "failed")
        .await;
    ui.wait_for_text_containing("[data-test=last-verification]", "First bad entry 3")
        .await;
    ui.find("[data-test=rollouts-blocked]").await;
    ui.screenshot("audit-tampered").await;

    // An admin acknowledges; that is logged and unblocks rollouts.
    ui.type_into(
        "[data-test=ack-note]",
        "Entry 3 edited on disk; DB copy preserved for investigation (INC-7)",
    )
    .await;
    ui.click("[data-test=acknowledge]").await;
    ui.wait_for_attr(
        "[data-test=integrity-state]",
        "data-state",
        "failed-acknowledged",
    )
    .await;
    ui.wait_gone("[data-test=rollouts-blocked]").await;
    ui.find("[data-test=audit-row][data-kind='audit.failure.acknowledged']")
        .await;
    ui.quit().await;

    // The CLI agrees on the first bad entry.
    let output = std::process::Command::new(guardia_e2e::binary("guardia"))
        .args(["--data-dir"])
        .arg(data.path())
        .args(["--json", "audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["first_bad"], 3);
}
