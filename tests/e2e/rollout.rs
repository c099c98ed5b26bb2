//! A rollout in the real window (issue 12): from a task whose result is approved, the
//! operator previews the plan and starts it on the lab; the board fills as sites finish and
//! stops at the manual gate before the tier-1 sites; the operator presses the kill switch —
//! the banner shows on every screen and the rollout is HALTED; a security officer re-arms.

use std::path::{Path, PathBuf};

use guardia_e2e::{Driver, cli_as};
use guardia_package::corpus;

const PW: &str = "a long demo password 1";

fn guardia(data: &Path, user: Option<&str>, args: &[&str]) -> String {
    cli_as(data, user, PW, args)
}

/// A lab beside the data directory, adopted by the console's database; stopped on drop.
struct Lab {
    root: PathBuf,
    data: PathBuf,
    _beside: tempfile::TempDir,
}

impl Drop for Lab {
    fn drop(&mut self) {
        guardia(
            &self.data,
            None,
            &["lab", "down", "--root", self.root.to_str().unwrap()],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_starts_a_rollout_watches_the_board_and_stops_everything() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let admin = Some("admin");
    guardia(d, None, &["user", "add", "admin", "--role", "admin"]);
    for (name, role) in [
        ("kim.minji", "requester"),
        ("lee.teamlead", "team_lead"),
        ("oh.pm", "pm"),
        ("song.operator", "operator"),
        ("bae.security", "security_officer"),
    ] {
        guardia(d, admin, &["user", "add", name, "--role", role]);
    }
    let beside = tempfile::tempdir().unwrap();
    let lab = Lab {
        root: beside.path().join("lab"),
        data: d.to_owned(),
        _beside: beside,
    };
    guardia(
        d,
        admin,
        &[
            "lab",
            "up",
            "--sites",
            "12",
            "--root",
            lab.root.to_str().unwrap(),
        ],
    );
    guardia(d, admin, &["system", "owner", "lab-app", "lee.teamlead"]);
    let id = guardia(
        d,
        Some("kim.minji"),
        &[
            "task",
            "create",
            "--title",
            "공지사항 제목 이스케이프",
            "--category",
            "DEPLOY",
            "--sub-type",
            "web-fix",
            "--system",
            "lab-app",
        ],
    )
    .trim()
    .to_owned();
    guardia(d, Some("kim.minji"), &["task", "submit", &id]);
    guardia(
        d,
        Some("lee.teamlead"),
        &["task", "approve", &id, "--comment", "go"],
    );
    let pkg = d.join("incoming/v1");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packages/notice-fix/v2");
    let mut files = corpus::read_folder(&fixture).unwrap();
    files.remove("manifest.json");
    for (path, bytes) in files {
        let target = pkg.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let pkg = pkg.to_str().unwrap();
    guardia(
        d,
        None,
        &["package", "seal", pkg, "--task", &id, "--version", "1"],
    );
    guardia(d, Some("oh.pm"), &["package", "import", pkg, "--task", &id]);
    guardia(
        d,
        Some("oh.pm"),
        &["package", "decide", &id, "approve", "--comment", "ok"],
    );

    let driver = Driver::start();
    let ui = driver.launch(d).await;
    ui.click("[data-test=signin-lang-en]").await;
    ui.sign_in("song.operator", PW).await;
    // The task's page offers the rollout.
    ui.click(&format!(
        "[data-test=task-row][data-id='{id}'] [data-test=open-task]"
    ))
    .await;
    ui.click("[data-test=roll-out-from-task]").await;
    ui.find("[data-test=page-rollouts]").await;
    ui.set_value("[data-test=rollout-soak]", "0").await;
    ui.click("[data-test=rollout-preview]").await;
    ui.wait_for_attr("[data-test=rollout-plan]", "data-blocked", "false")
        .await;
    assert_eq!(ui.all("[data-test=preview-phase]").await.len(), 3);
    ui.screenshot("rollout-preview").await;
    ui.click("[data-test=rollout-start]").await;

    // The board fills without a click, and stops at the gate before tier-1 sites.
    ui.find("[data-test=site-grid]").await;
    assert_eq!(ui.all("[data-test=site-cell]").await.len(), 12);
    ui.wait_for_attr("[data-test=board-head]", "data-state", "WAITING_GATE")
        .await;
    assert_eq!(
        ui.all("[data-test=site-cell][data-state=DONE]").await.len(),
        3
    );
    ui.screenshot("rollout-board-gate").await;

    // The kill switch: reason, confirm; the banner; the rollout HALTED.
    ui.click("[data-test=kill-switch]").await;
    ui.type_into("[data-test=kill-reason]", "HTTP 502 on the canaries")
        .await;
    ui.click("[data-test=kill-confirm]").await;
    ui.wait_for_text_containing("[data-test=kill-by]", "HTTP 502 on the canaries")
        .await;
    ui.wait_for_attr("[data-test=board-head]", "data-state", "HALTED")
        .await;
    ui.wait_gone("[data-test=kill-switch]").await;
    // Every screen shows it.
    ui.click("[data-test=nav-tasks]").await;
    ui.find("[data-test=kill-banner]").await;
    // An operator cannot re-arm.
    assert!(ui.all("[data-test=rearm]").await.is_empty());
    ui.screenshot("kill-switch-engaged").await;

    // A security officer re-arms, with a reason.
    ui.sign_out().await;
    ui.sign_in("bae.security", PW).await;
    ui.type_into("[data-test=rearm-reason]", "cause found; fixed in v2")
        .await;
    ui.click("[data-test=rearm]").await;
    ui.wait_gone("[data-test=kill-banner]").await;
    ui.find("[data-test=kill-switch]").await;
    ui.quit().await;
    let status = guardia(d, Some("song.operator"), &["rollout", "status"]);
    assert!(status.contains("HALTED"), "{status}");
    drop(lab);
}
