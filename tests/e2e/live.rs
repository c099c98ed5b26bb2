//! The live console: what another process commits appears in the open window without a
//! click; a check started in the window is stopped with its Cancel button and says
//! "cancelled", not "failed". The window never polls — these updates can only arrive pushed.

use std::time::Instant;

use guardia_e2e::{Driver, cli};

use crate::inventory::lab_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_created_by_another_process_appears_without_a_click() {
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start();
    let ui = driver.launch(data.path()).await;
    ui.click("[data-test=lang-en]").await;
    ui.wait_for_text("[data-test=tasks-empty] h2", "No tasks yet")
        .await;
    ui.wait_for_attr("[data-test=live]", "data-connected", "true")
        .await;
    // The status bar shows the Tasks keys here, and the Audit keys on the Audit screen.
    ui.wait_for_text_containing("[data-test=keys]", "N new")
        .await;

    let mut latencies = Vec::new();
    for i in 1..=3 {
        let title = format!("CLI에서 등록한 작업 {i}");
        let id = cli(
            data.path(),
            &[
                "task",
                "create",
                "--title",
                &title,
                "--category",
                "INSPECTION",
                "--system",
                "hr-portal",
            ],
        );
        // Committed when the CLI exits; from then on, no input reaches the window.
        let committed = Instant::now();
        ui.find(&format!("[data-test=task-row][data-id='{}']", id.trim()))
            .await;
        latencies.push(committed.elapsed());
    }
    eprintln!(
        "LIVE another process → window: {:?} ms (includes WebDriver's ~50 ms polling of the DOM)",
        latencies.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    assert_eq!(ui.all("[data-test=task-row]").await.len(), 3);
    ui.screenshot("live-task-from-cli").await;

    // The same process: a task registered in this window. The form refreshes the list by
    // itself; what is timed is the feed's push of the commit (`data-feed-count`).
    let count = |text: Option<String>| text.and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
    let before = count(
        ui.find("[data-test=live]")
            .await
            .attr("data-feed-count")
            .await
            .unwrap(),
    );
    ui.click("[data-test=new-task]").await;
    ui.type_into("[data-test=field-title]", "창에서 등록한 작업")
        .await;
    ui.click("[data-test=field-category] option[value=INSPECTION]")
        .await;
    ui.type_into("[data-test=field-system]", "hr-portal").await;
    let submitted = Instant::now();
    ui.click("[data-test=submit-task]").await;
    loop {
        let now = count(
            ui.find("[data-test=live]")
                .await
                .attr("data-feed-count")
                .await
                .unwrap(),
        );
        if now > before {
            break;
        }
        assert!(
            submitted.elapsed() < guardia_e2e::PATIENCE,
            "the window's own commit never came back on the feed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let same_process = submitted.elapsed();
    eprintln!(
        "LIVE same process (submit click → pushed change): {} ms (includes the click and the IPC round trip)",
        same_process.as_millis()
    );

    ui.click("[data-test=nav-audit]").await;
    ui.wait_for_text_containing("[data-test=keys]", "V verify")
        .await;
    // Another process's entry reaches the activity list as it is written, too.
    cli(
        data.path(),
        &[
            "task",
            "create",
            "--title",
            "while the audit screen is open",
            "--category",
            "INSPECTION",
            "--system",
            "hr-portal",
        ],
    );
    ui.wait_for_text_containing(
        "[data-test=audit-row][data-kind='task.created']",
        "while the audit screen is open",
    )
    .await;
    ui.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_of_a_slow_site_is_cancelled_from_the_window_and_says_cancelled() {
    let _one_lab = crate::inventory::ONE_LAB.lock().await;
    let data = tempfile::tempdir().unwrap();
    let lab = lab_with(data.path(), 2);
    // The site's health endpoint (and its commands) now answer after 3 s.
    cli(
        data.path(),
        &[
            "lab",
            "fault",
            "lab-0001",
            "slow",
            "--root",
            lab.root.to_str().unwrap(),
        ],
    );
    let driver = Driver::start();
    let ui = driver.launch(data.path()).await;
    ui.click("[data-test=lang-en]").await;
    ui.click("[data-test=nav-inventory]").await;
    ui.click("[data-test=server-row][data-name=lab-0001] td")
        .await;
    ui.find("[data-test=server-panel][data-name=lab-0001]")
        .await;
    ui.click("[data-test=check-now]").await;
    // Progress arrives pushed, step by step; cancel while the slow health answer is awaited.
    ui.wait_for_attr("[data-test=check-progress]", "data-done", "5")
        .await;
    ui.screenshot("live-check-running").await;
    let asked = Instant::now();
    ui.click("[data-test=check-cancel]").await;
    ui.find("[data-test=check-cancelled]").await;
    let stopped = asked.elapsed();
    eprintln!("LIVE cancel → report shown: {} ms", stopped.as_millis());
    ui.find("[data-test=check-step][data-name=health_http][data-state=cancelled]")
        .await;
    ui.find("[data-test=check-step][data-name=reachable][data-state=pass]")
        .await;
    assert!(
        ui.all("[data-test=check-step][data-state=fail]")
            .await
            .is_empty(),
        "nothing is reported failed by a cancel"
    );
    // The window is free for the next check.
    ui.find("[data-test=check-now]:not([disabled])").await;
    ui.screenshot("live-check-cancelled").await;
    ui.quit().await;

    // The log says the check's outcome is unknown, with the undecided steps cancelled.
    let audit = cli(
        data.path(),
        &["--json", "audit", "list", "--kind", "ssh.check"],
    );
    let page: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let entry = &page["entries"][0];
    assert_eq!(entry["result"], "unknown", "{entry}");
    assert!(
        entry["details"]
            .as_str()
            .unwrap()
            .contains("health_http=cancelled"),
        "{entry}"
    );
}
