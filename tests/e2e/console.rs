//! The console window, driven like an operator would: through the real app, under Xvfb.

use guardia_e2e::{Driver, cli};

/// Register a task through the form, see it in the list and its timeline, restart the app,
/// and find it again — the walking skeleton end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_registered_in_the_form_is_listed_and_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start();
    let ui = driver.launch(data.path()).await;

    ui.click("[data-test=lang-en]").await;
    ui.wait_for_text("[data-test=nav-tasks] span", "Tasks")
        .await;
    ui.wait_for_text("[data-test=tasks-empty] h2", "No tasks yet")
        .await;

    // An empty form is refused with a message per field, and nothing is stored.
    ui.click("[data-test=new-task]").await;
    ui.click("[data-test=submit-task]").await;
    ui.wait_for_text("[data-test=error-title]", "Required.")
        .await;
    ui.wait_for_text("[data-test=error-category]", "Required.")
        .await;
    ui.wait_for_text("[data-test=error-system]", "Required.")
        .await;
    ui.wait_for_text("[data-test=form-error]", "Please fix the marked fields.")
        .await;

    ui.type_into("[data-test=field-title]", "민원포털 메인 배너 교체")
        .await;
    ui.click("[data-test=field-category] option[value=DEPLOY]")
        .await;
    ui.click("[data-test=field-sub-type] option[value=web-fix]")
        .await;
    ui.type_into("[data-test=field-system]", "minwon-portal")
        .await;
    ui.type_into(
        "[data-test=field-request]",
        "Replace the main banner with banner_2026_12.png.",
    )
    .await;
    ui.wait_for_text("[data-test=error-title]", "").await;
    ui.click("[data-test=submit-task]").await;
    ui.wait_gone("[data-test=task-form]").await;

    let row = ui.find("[data-test=task-row]").await;
    let id = row.attr("data-id").await.unwrap().expect("row has an id");
    assert!(
        id.starts_with("OPS-") && id.ends_with("-001"),
        "first task of the day: {id}"
    );
    assert!(
        row.text()
            .await
            .unwrap()
            .contains("민원포털 메인 배너 교체")
    );
    assert_eq!(
        ui.all("[data-test=task-row]").await.len(),
        1,
        "the refused submit stored nothing"
    );

    // The new task is selected: its detail shows status and the creation in the timeline.
    ui.wait_for_text("[data-test=detail-title]", "민원포털 메인 배너 교체")
        .await;
    ui.wait_for_text("[data-test=detail-status]", "Received")
        .await;
    let entry = ui.text("[data-test=timeline-entry]").await;
    assert!(entry.contains("Task registered"), "{entry}");
    ui.screenshot("task-registered").await;
    ui.quit().await;

    let ui = driver.launch(data.path()).await;
    let row = ui.find("[data-test=task-row]").await;
    assert_eq!(
        row.attr("data-id").await.unwrap().as_deref(),
        Some(id.as_str())
    );
    assert!(
        row.text()
            .await
            .unwrap()
            .contains("민원포털 메인 배너 교체")
    );
    ui.wait_for_text("[data-test=nav-tasks] span", "Tasks")
        .await;
    ui.screenshot("after-restart").await;
    ui.quit().await;
}

/// The CLI and the console share one database; the language choice is kept across starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_from_the_cli_shows_in_the_console_and_korean_sticks_after_restart() {
    let data = tempfile::tempdir().unwrap();
    let id = cli(
        data.path(),
        &[
            "task",
            "create",
            "--title",
            "인사시스템 WAS 재기동",
            "--category",
            "INFRA_CONTROL",
            "--system",
            "hr-portal",
            "--sub-type",
            "service-restart",
            "--request",
            // Free text keeps a direction override; the window must show it, not obey it.
            "Restart after deploy of report\u{202E}fdp.exe",
        ],
    );
    let id = id.trim();

    let driver = Driver::start();
    let ui = driver.launch(data.path()).await;
    let row = ui
        .find(&format!("[data-test=task-row][data-id='{id}']"))
        .await;
    assert!(row.text().await.unwrap().contains("인사시스템 WAS 재기동"));

    ui.click("[data-test=lang-ko]").await;
    ui.wait_for_text("[data-test=nav-tasks] span", "작업").await;
    ui.wait_for_text("[data-test=nav-settings] span", "설정")
        .await;
    ui.click(&format!(
        "[data-test=task-row][data-id='{id}'] [data-test=open-task]"
    ))
    .await;
    ui.wait_for_text("[data-test=detail-status]", "접수").await;
    ui.wait_for_text(
        "[data-test=detail-request]",
        "Restart after deploy of report<U+202E>fdp.exe",
    )
    .await;
    ui.quit().await;

    let ui = driver.launch(data.path()).await;
    ui.wait_for_text("[data-test=nav-tasks] span", "작업").await;
    ui.click(&format!(
        "[data-test=task-row][data-id='{id}'] [data-test=open-task]"
    ))
    .await;
    ui.wait_for_text("[data-test=detail-status]", "접수").await;
    ui.screenshot("korean").await;
    // The About box names the build: the same version and commit as `guardia --version`.
    let version = cli(data.path(), &["--version"]);
    let (number, commit) = version
        .trim()
        .strip_prefix("guardia ")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|rest| rest.split_once(" (commit "))
        .unwrap_or_else(|| panic!("unexpected --version: {version}"));
    ui.click("[data-test=nav-settings]").await;
    ui.wait_for_text("[data-test=info-version]", number).await;
    ui.wait_for_text("[data-test=info-commit]", commit).await;
    ui.quit().await;

    // And back: the CLI sees what the console did not change.
    let listed: serde_json::Value =
        serde_json::from_str(&cli(data.path(), &["--json", "task", "list"])).unwrap();
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["status"], "RECEIVED");
}
