//! Sign-in in the real window: once people exist the console opens on the sign-in screen;
//! a wrong password is refused with the reason, the right one opens the console as that
//! person, and signing out brings the screen back — every step refused or allowed by the
//! backend, which the window only follows.

use std::process::Command;

use guardia_e2e::{Driver, binary};

const ADMIN_PW: &str = "admin password 1234";
const LEE_PW: &str = "requester password 99";

fn add_person(data: &std::path::Path, by: Option<&str>, name: &str, password: &str, role: &str) {
    let mut command = Command::new(binary("guardia"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(["user", "add", name, "--role", role])
        .env_remove("GUARDIA_USER")
        .env("GUARDIA_NEW_PASSWORD", password);
    if let Some(admin) = by {
        command
            .args(["--user", admin])
            .env("GUARDIA_PASSWORD", ADMIN_PW);
    }
    let out = command.output().expect("run guardia");
    assert!(
        out.status.success(),
        "guardia user add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_signs_in_refuses_a_wrong_password_and_signs_out() {
    let data = tempfile::tempdir().unwrap();
    add_person(data.path(), None, "admin", ADMIN_PW, "admin");
    add_person(
        data.path(),
        Some("admin"),
        "lee",
        LEE_PW,
        "requester@행정안전부",
    );

    let driver = Driver::start();
    let ui = driver.launch(data.path()).await;
    ui.find("[data-test=signin]").await;
    ui.click("[data-test=signin-lang-en]").await;
    ui.wait_for_text("[data-test=signin] h1", "Sign in").await;

    ui.type_into("[data-test=signin-name]", "lee").await;
    ui.type_into("[data-test=signin-password]", "not the password")
        .await;
    ui.click("[data-test=signin-submit]").await;
    ui.wait_for_text_containing(
        "[data-test=signin-error]",
        "the name or the password is wrong",
    )
    .await;
    ui.screenshot("signin-refused").await;

    ui.type_into("[data-test=signin-password]", LEE_PW).await;
    ui.click("[data-test=signin-submit]").await;
    ui.wait_for_attr("[data-test=session]", "data-person", "lee")
        .await;
    ui.find("[data-test=app]").await;
    ui.wait_for_text("[data-test=nav-tasks] span", "Tasks")
        .await;

    // A requester holds no inventory permission: the window does not offer the section…
    assert!(ui.all("[data-test=nav-inventory]").await.is_empty());
    assert_eq!(ui.all("[data-test=nav-audit]").await.len(), 1);
    // …and reached anyway (Alt+6), the backend refuses and the window says why.
    ui.client
        .execute(
            "window.dispatchEvent(new KeyboardEvent('keydown', \
             {code: 'Digit6', key: '6', altKey: true, bubbles: true}));",
            vec![],
        )
        .await
        .expect("Alt+6");
    ui.wait_for_text_containing("[data-test=error-panel]", "read_inventory")
        .await;
    ui.screenshot("signed-in-requester").await;

    ui.click("[data-test=sign-out]").await;
    ui.wait_for_text("[data-test=signin-ended]", "You signed out.")
        .await;
    ui.quit().await;

    // Each step is in the audit log, named by the workstation.
    let log = Command::new(binary("guardia"))
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "--user",
            "admin",
            "--json",
            "audit",
            "list",
            "--subject",
            "person:lee",
        ])
        .env("GUARDIA_PASSWORD", ADMIN_PW)
        .output()
        .expect("run guardia");
    let log: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["signin.failed", "signin.succeeded", "session.signed_out"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}
