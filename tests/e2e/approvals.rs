//! Approvals in the real window: the requester signs in, registers a task and submits it;
//! the team lead signs in, sees it waiting (count in the navigation), approves it with a
//! comment, and the timeline and chain show both. Then, on a system whose SLA is three
//! seconds, an unanswered step escalates by itself — the running console's scheduler — and
//! the deputy's window marks it URGENT and the desktop notification daemon (dunst, on the
//! test's own D-Bus session under Xvfb) holds the URGENT notification the console sent.

use std::process::Command;

use guardia_e2e::{Driver, cli_as};

const PW: &str = "a long demo password 1";

fn guardia(data: &std::path::Path, user: Option<&str>, args: &[&str]) -> String {
    cli_as(data, user, PW, args)
}

/// A notification daemon for the test's session bus, stopped when dropped.
pub(crate) struct Dunst(pub(crate) std::process::Child);

impl Dunst {
    /// Starts dunst on the test's session bus.
    pub(crate) fn start() -> Self {
        Self(
            Command::new("dunst")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("start dunst (setup.sh installs it)"),
        )
    }
}

impl Drop for Dunst {
    fn drop(&mut self) {
        if self.0.kill().is_ok() {
            let _reaped = self.0.wait();
        }
    }
}

/// The notifications dunst has shown, as (appname, summary): it moves what is displayed to
/// its history first. Waits up to ten seconds for one whose summary contains `wanted`.
pub(crate) fn notification_containing(wanted: &str) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let closed = Command::new("dunstctl").arg("close-all").status();
        assert!(closed.is_ok_and(|s| s.success()), "dunstctl close-all");
        let out = Command::new("dunstctl")
            .arg("history")
            .output()
            .expect("dunstctl history");
        let history: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let shown: Vec<(String, String)> = history["data"][0]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|n| {
                        (
                            n["appname"]["data"].as_str().unwrap_or("").to_owned(),
                            n["summary"]["data"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if shown.iter().any(|(_, summary)| summary.contains(wanted))
            || std::time::Instant::now() > deadline
        {
            return shown;
        }
        // dunst offers no "wait for a notification"; ask again shortly.
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requester_submits_team_lead_approves_and_an_unanswered_step_escalates_to_the_deputy() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let admin = Some("admin");
    guardia(d, None, &["user", "add", "admin", "--role", "admin"]);
    for (name, role) in [
        ("kim.minji", "requester"),
        ("lee.teamlead", "team_lead"),
        ("choi.deputy", "team_lead"),
    ] {
        guardia(d, admin, &["user", "add", name, "--role", role]);
    }
    for system in ["hr-portal", "tax-portal"] {
        guardia(d, admin, &["system", "owner", system, "lee.teamlead"]);
        guardia(
            d,
            Some("lee.teamlead"),
            &["system", "deputy", system, "choi.deputy"],
        );
    }
    guardia(d, admin, &["system", "sla", "tax-portal", "3s"]);

    let _dunst = Dunst::start();
    let driver = Driver::start();
    let ui = driver.launch(d).await;
    ui.click("[data-test=signin-lang-en]").await;
    // The screen re-renders in English; type only into what stays.
    ui.wait_for_text("[data-test=signin] h1", "Sign in").await;

    // The requester registers and submits.
    ui.sign_in("kim.minji", PW).await;
    ui.click("[data-test=new-task]").await;
    ui.type_into("[data-test=field-title]", "급여 로그 점검")
        .await;
    ui.click("[data-test=field-category] option[value=INSPECTION]")
        .await;
    ui.click("[data-test=field-sub-type] option[value=log-review]")
        .await;
    ui.type_into("[data-test=field-system]", "hr-portal").await;
    ui.click("[data-test=submit-task]").await;
    ui.wait_gone("[data-test=task-form]").await;
    let id = ui
        .find("[data-test=task-row]")
        .await
        .attr("data-id")
        .await
        .unwrap()
        .expect("row id");
    ui.click("[data-test=submit-approval]").await;
    ui.wait_for_text("[data-test=detail-status]", "Pending approval")
        .await;
    ui.wait_for_text_containing("[data-test=chain-holder]", "lee.teamlead (owner)")
        .await;
    ui.find("[data-test=chain-countdown]").await;
    assert!(ui.all("[data-test=inbox-count]").await.is_empty());
    ui.sign_out().await;

    // The team lead sees it waiting and approves with a comment.
    ui.sign_in("lee.teamlead", PW).await;
    ui.wait_for_text("[data-test=inbox-count]", "1").await;
    ui.wait_for_text("[data-test=tile-needs-me] .tile-value", "1")
        .await;
    ui.click("[data-test=tile-needs-me]").await;
    ui.click(&format!(
        "[data-test=task-row][data-id='{id}'] [data-test=open-task]"
    ))
    .await;
    ui.find("[data-test=decision-box]").await;
    ui.screenshot("approval-waiting").await;
    ui.click("[data-test=approve]").await;
    ui.wait_for_text("[data-test=decision-error]", "Write a comment first.")
        .await;
    ui.type_into("[data-test=decision-comment]", "로그만 확인, 변경 없음")
        .await;
    ui.click("[data-test=approve]").await;
    ui.wait_for_text("[data-test=detail-status]", "Approved")
        .await;
    ui.wait_for_text_containing("[data-test=chain-decision]", "로그만 확인, 변경 없음")
        .await;
    let timeline = ui.text("[data-test=timeline]").await;
    for expected in ["Submitted for approval", "kim.minji", "lee.teamlead"] {
        assert!(timeline.contains(expected), "{expected} in {timeline}");
    }
    ui.wait_gone("[data-test=inbox-count]").await;
    ui.screenshot("approval-approved").await;
    ui.sign_out().await;

    // An unanswered step on a 3-second SLA: the console escalates it to the deputy.
    ui.sign_in("choi.deputy", PW).await;
    let urgent_id = guardia(
        d,
        Some("kim.minji"),
        &[
            "task",
            "create",
            "--title",
            "세금 포털 로그 점검",
            "--category",
            "INSPECTION",
            "--sub-type",
            "log-review",
            "--system",
            "tax-portal",
        ],
    )
    .trim()
    .to_owned();
    guardia(d, Some("kim.minji"), &["task", "submit", &urgent_id]);
    ui.wait_for_attr("[data-test=inbox-count]", "data-urgent", "1")
        .await;
    ui.click("[data-test=tile-needs-me]").await;
    ui.wait_for_attr(
        &format!("[data-test=task-row][data-id='{urgent_id}'] [data-test=row-needs-me]"),
        "data-urgent",
        "true",
    )
    .await;
    ui.click(&format!(
        "[data-test=task-row][data-id='{urgent_id}'] [data-test=open-task]"
    ))
    .await;
    ui.find("[data-test=chain-urgent]").await;
    ui.wait_for_text_containing("[data-test=chain-hop]", "choi.deputy")
        .await;
    ui.screenshot("approval-escalated").await;

    // The console told the deputy's desktop, URGENT, naming the task.
    let shown = notification_containing(&urgent_id);
    assert!(
        shown.iter().any(|(app, summary)| app == "GUARDiA"
            && summary.contains(&urgent_id)
            && summary.contains("URGENT")),
        "no URGENT notification for {urgent_id} among {shown:?}"
    );
    ui.quit().await;
}
