//! An incident in the real window (issue 14): the operator opens one and sees both
//! countdowns, names the commander, takes it on and raises it to P1 — the running console's
//! scheduler escalates it at once (a 1-second P1 rule set for the test) and the desktop
//! notification daemon holds the URGENT notice naming the rule; an update is posted; the
//! reportability checklist starts the AI Act's 72-hour clock; the legal/DPO signs the initial
//! report off; after recovery the postmortem is completed and its action is a task.

use guardia_e2e::{Driver, cli_as};

use crate::approvals::{Dunst, notification_containing};

const PW: &str = "a long demo password 1";

fn guardia(data: &std::path::Path, user: Option<&str>, args: &[&str]) -> String {
    cli_as(data, user, PW, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_from_opening_to_its_postmortem() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let admin = Some("admin");
    guardia(d, None, &["user", "add", "admin", "--role", "admin"]);
    for (name, role) in [
        ("song.operator", "operator"),
        ("lee.teamlead", "team_lead"),
        ("jung.dpo", "legal_dpo"),
        ("kim.minji", "requester"),
    ] {
        guardia(d, admin, &["user", "add", name, "--role", role]);
    }
    // The defaults, with contacts and one extra P1 rule after 1 second (a test needs no
    // 15-minute wait; the default rules stay as they are).
    let mut settings: serde_json::Value =
        serde_json::from_str(&guardia(d, admin, &["incident", "settings"])).unwrap();
    settings["contacts"] = serde_json::json!([
        {"level": "TeamLead", "person": "lee.teamlead", "reach": "010-1111-2222"},
        {"level": "HeadOfDivision", "person": "admin", "reach": "내선 1004"},
    ]);
    settings["matrix"]["rules"].as_array_mut().unwrap().push(
        serde_json::json!({"severity": "P1", "after": 1, "levels": ["TeamLead", "HeadOfDivision"]}),
    );
    let file = d.join("incident-settings.json");
    std::fs::write(&file, settings.to_string()).unwrap();
    guardia(
        d,
        admin,
        &[
            "incident",
            "settings",
            "--file",
            file.to_str().unwrap(),
            "--reason",
            "e2e contacts",
        ],
    );

    // The task the incident is about (its system receives the postmortem's actions).
    let task = guardia(
        d,
        Some("kim.minji"),
        &[
            "task",
            "create",
            "--title",
            "민원 포털 캐시 설정",
            "--category",
            "INFRA_CONTROL",
            "--system",
            "minwon-portal",
        ],
    )
    .trim()
    .to_owned();

    let _dunst = Dunst::start();
    let driver = Driver::start();
    let ui = driver.launch(d).await;
    ui.click("[data-test=signin-lang-en]").await;
    ui.wait_for_text("[data-test=signin] h1", "Sign in").await;
    ui.sign_in("song.operator", PW).await;

    // Open it by hand from the task's page (the form comes linked to it): both countdowns run.
    ui.click(&format!(
        "[data-test=task-row][data-id='{task}'] [data-test=open-task]"
    ))
    .await;
    ui.click("[data-test=open-incident-from]").await;
    ui.find("[data-test=incident-form]").await;
    let linked = ui
        .find("[data-test=incident-link]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(linked, task);
    ui.type_into(
        "[data-test=incident-title-input]",
        "민원 포털 응답 지연 · portal slow",
    )
    .await;
    ui.click("[data-test=incident-type] option[value=application]")
        .await;
    ui.click("[data-test=incident-open-submit]").await;
    ui.find("[data-test=incident-detail]").await;
    let id = ui.text("[data-test=incident-id]").await;
    assert!(id.starts_with("INC-"), "{id}");
    ui.wait_for_text("[data-test=incident-severity]", "P2")
        .await;
    ui.wait_for_attr("[data-test=countdown-respond]", "data-state", "running")
        .await;
    ui.wait_for_attr("[data-test=countdown-recover]", "data-state", "running")
        .await;
    let respond = ui.text("[data-test=countdown-respond]").await;
    assert!(respond.contains("left"), "{respond}");
    ui.screenshot("incident-opened").await;

    // The commander, then taking it on.
    ui.type_into("[data-test=role-input-commander]", "song.operator")
        .await;
    ui.click("[data-test=role-set-commander]").await;
    ui.wait_for_text("[data-test=role-commander]", "song.operator")
        .await;
    ui.click("[data-test=incident-ack]").await;
    ui.wait_for_attr("[data-test=countdown-respond]", "data-state", "met")
        .await;

    // Raised to P1: the escalation fires and the contacts are notified.
    ui.click("[data-test=severity-select] option[value=P1]")
        .await;
    ui.type_into(
        "[data-test=severity-reason]",
        "모든 지점 영향 · every branch",
    )
    .await;
    ui.click("[data-test=severity-apply]").await;
    ui.wait_for_text("[data-test=incident-severity]", "P1")
        .await;
    ui.find("[data-test=escalation][data-rule='P1@1s']").await;
    let shown = notification_containing("P1@1s");
    assert!(
        shown.iter().any(|(app, summary)| app == "GUARDiA"
            && summary.contains(&id)
            && summary.contains("P1@1s")
            && summary.contains("URGENT")),
        "no URGENT escalation notice for {id} among {shown:?}"
    );
    ui.screenshot("incident-escalated").await;

    // A status update.
    ui.type_into(
        "[data-test=update-text]",
        "캐시 서버 재시작 중 · restarting the cache",
    )
    .await;
    ui.click("[data-test=update-post]").await;
    ui.wait_for_text_containing("[data-test=update-message]", "#1")
        .await;
    ui.wait_for_text_containing("[data-test=update-message]", "restarting the cache")
        .await;

    // The checklist: an AI system infringed fundamental rights → the AI Act's 72 h clock.
    ui.click("[data-test=check-ai]").await;
    ui.click("[data-test=harm-fundamental_rights]").await;
    ui.click("[data-test=checklist-save]").await;
    ui.wait_for_attr(
        "[data-test=report][data-obligation=EuAiActArt73]",
        "data-clock",
        "running",
    )
    .await;
    let shown: serde_json::Value =
        serde_json::from_str(&guardia(d, admin, &["--json", "incident", "show", &id])).unwrap();
    let detected: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(shown["incident"]["detected_at"].clone()).unwrap();
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(shown["reports"][0]["due"].clone()).unwrap();
    assert_eq!(due - detected, chrono::Duration::hours(72));
    ui.screenshot("incident-report-clock").await;
    ui.sign_out().await;

    // The legal/DPO signs the initial report off.
    ui.sign_in("jung.dpo", PW).await;
    ui.click("[data-test=nav-incidents]").await;
    ui.click(&format!("[data-test=incident-row][data-id='{id}']"))
        .await;
    ui.click("[data-test=report-draft]").await;
    let draft = ui
        .find("[data-test=report-text]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    for expected in [
        "EU AI Act Art. 73",
        "Initial",
        &id,
        "FundamentalRights",
        "시정 조치 / Corrective action",
    ] {
        assert!(
            draft.contains(expected),
            "{expected} in the pre-filled report: {draft}"
        );
    }
    ui.click("[data-test=report-submit]").await;
    ui.find("[data-test=report-submitted][data-stage=Initial]")
        .await;
    ui.wait_for_attr(
        "[data-test=report][data-obligation=EuAiActArt73]",
        "data-stage",
        "Detailed",
    )
    .await;
    ui.screenshot("incident-report-signed").await;
    ui.sign_out().await;

    // Recovery, then the postmortem; its action becomes a task.
    ui.sign_in("song.operator", PW).await;
    ui.click("[data-test=nav-incidents]").await;
    ui.click(&format!("[data-test=incident-row][data-id='{id}']"))
        .await;
    for stage in ["ROOT_CAUSE", "RECOVER", "VERIFY"] {
        ui.click(&format!("[data-test=advance-{stage}]")).await;
        ui.wait_for_text("[data-test=incident-stage]", stage).await;
    }
    ui.set_value(
        "[data-test=pm-impact]",
        "민원 접수 20분 지연 · intake delayed 20 min",
    )
    .await;
    ui.set_value("[data-test=pm-why-1]", "the cache filled up")
        .await;
    ui.set_value("[data-test=pm-root]", "no eviction policy on the cache")
        .await;
    ui.set_value("[data-test=pm-action-what-0]", "set an eviction policy")
        .await;
    ui.set_value("[data-test=pm-action-owner-0]", "song.operator")
        .await;
    ui.set_value("[data-test=pm-action-due-0]", "2026-12-31")
        .await;
    ui.click("[data-test=pm-complete]").await;
    let action = ui
        .find("[data-test=pm-action-task]")
        .await
        .attr("data-task")
        .await
        .unwrap()
        .expect("the action's task");
    ui.screenshot("incident-postmortem").await;
    ui.click("[data-test=nav-tasks]").await;
    ui.find(&format!("[data-test=task-row][data-id='{action}']"))
        .await;
    let made: serde_json::Value =
        serde_json::from_str(&guardia(d, admin, &["--json", "task", "show", &action])).unwrap();
    assert_eq!(made["task"]["system"], "minwon-portal");
    ui.quit().await;
}
