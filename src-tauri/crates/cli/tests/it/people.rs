//! People from the command line: set-up adds the first admin as the OS account; from then
//! on every command signs in (`--user`, password from `GUARDIA_PASSWORD`) and is refused
//! what the person's roles do not grant — by the same checks as the window.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const ADMIN_PW: &str = "admin password 1234";
const LEE_PW: &str = "requester password 99";

fn guardia_as(data: &Path, user: Option<(&str, &str)>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guardia"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("GUARDIA_DATA_DIR")
        .env_remove("GUARDIA_USER")
        .env_remove("GUARDIA_PASSWORD");
    if let Some((name, password)) = user {
        command
            .args(["--user", name])
            .env("GUARDIA_PASSWORD", password);
    }
    command.output().unwrap()
}

fn add(
    data: &Path,
    by: Option<(&str, &str)>,
    name: &str,
    password: &str,
    roles: &[&str],
) -> Output {
    let mut args = vec!["user", "add", name];
    for role in roles {
        args.extend(["--role", role]);
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_guardia"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(&args)
        .env_remove("GUARDIA_DATA_DIR")
        .env_remove("GUARDIA_USER")
        .env("GUARDIA_NEW_PASSWORD", password);
    if let Some((who, pw)) = by {
        command.args(["--user", who]).env("GUARDIA_PASSWORD", pw);
    }
    command.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn after_set_up_every_command_signs_in_and_roles_decide_what_it_may_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let admin = Some(("admin", ADMIN_PW));
    let lee = Some(("lee", LEE_PW));

    // Set-up: the OS account may only start with an admin.
    let first = add(data, None, "lee", LEE_PW, &["requester"]);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("must be an admin"),
        "{}",
        stderr(&first)
    );
    let first = add(data, None, "admin", ADMIN_PW, &["admin"]);
    assert!(first.status.success(), "{}", stderr(&first));

    // From now on: no name, no access.
    let anonymous = guardia_as(data, None, &["task", "list"]);
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(
        stderr(&anonymous).contains("--user"),
        "{}",
        stderr(&anonymous)
    );
    let wrong = guardia_as(data, Some(("admin", "not the password")), &["task", "list"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).contains("name or the password is wrong"));

    let added = add(data, admin, "lee", LEE_PW, &["requester@행정안전부"]);
    assert!(added.status.success(), "{}", stderr(&added));

    // A requester may register work but not manage people or acknowledge the audit log;
    // the refusal names the missing permission, in the IPC error shape with --json.
    let created = guardia_as(
        data,
        lee,
        &[
            "task",
            "create",
            "--title",
            "배너 교체",
            "--category",
            "DEPLOY",
            "--system",
            "hr-portal",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let refused = guardia_as(data, lee, &["--json", "user", "list"]);
    assert_eq!(refused.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&refused.stderr).unwrap();
    assert_eq!(error["code"], "FORBIDDEN");
    assert!(error["message"].as_str().unwrap().contains("manage_people"));
    let refused = guardia_as(data, lee, &["audit", "acknowledge", "--note", "x"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("acknowledge_audit"),
        "{}",
        stderr(&refused)
    );

    // The admin sees both people — never a password or a hash — and the log has each step.
    let listed = guardia_as(data, admin, &["--json", "user", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(!text.contains("argon2") && !text.contains(ADMIN_PW) && !text.contains(LEE_PW));
    let people: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "lee"]);

    let log = guardia_as(
        data,
        admin,
        &["--json", "audit", "list", "--kind", "signin."],
    );
    let log: Value = serde_json::from_slice(&log.stdout).unwrap();
    let results: Vec<(&str, &str)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["result"].as_str().unwrap()))
        .collect();
    assert!(
        results.contains(&("signin.failed", "refused")),
        "{results:?}"
    );
    assert!(results.contains(&("signin.succeeded", "ok")), "{results:?}");
}

/// `guardia demo --people` gives a console in set-up one demo person per role, all with the
/// documented password, each holding just their role; once people exist it adds nobody.
#[test]
fn demo_people_are_one_per_role_with_the_documented_password_and_only_in_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let seeded = guardia_as(data, None, &["--json", "demo", "--people"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let seeded: Value = serde_json::from_slice(&seeded.stdout).unwrap();
    assert_eq!(seeded["people"], 8);

    let admin = Some(("admin", guardia_api::DEMO_PASSWORD));
    let listed = guardia_as(data, admin, &["--json", "user", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let people: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let roles: Vec<(String, String)> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["roles"][0]["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(roles.len(), 8);
    let mut held: Vec<&str> = roles.iter().map(|(_, role)| role.as_str()).collect();
    held.sort_unstable();
    assert_eq!(
        held,
        [
            "admin",
            "auditor",
            "legal_dpo",
            "operator",
            "pm",
            "requester",
            "security_officer",
            "team_lead"
        ]
    );
    // Every one signs in with the documented password, and only holds their role.
    let auditor = guardia_as(
        data,
        Some(("park.auditor", guardia_api::DEMO_PASSWORD)),
        &["--json", "audit", "status"],
    );
    assert!(auditor.status.success(), "{}", stderr(&auditor));
    let refused = guardia_as(
        data,
        Some(("park.auditor", guardia_api::DEMO_PASSWORD)),
        &[
            "task",
            "create",
            "--title",
            "x",
            "--category",
            "DATA",
            "--system",
            "db",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("write_tasks"),
        "{}",
        stderr(&refused)
    );

    // Seeding demo data writes tasks: an admin may not, a requester may — and adds nobody.
    let by_admin = guardia_as(data, admin, &["demo", "--people"]);
    assert!(
        stderr(&by_admin).contains("write_tasks"),
        "{}",
        stderr(&by_admin)
    );
    let requester = Some(("kim.minji", guardia_api::DEMO_PASSWORD));
    let again = guardia_as(data, requester, &["--json", "demo", "--people"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["people"], 0);
}

fn with_new_password(data: &Path, user: (&str, &str), new: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guardia"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .args(["--user", user.0])
        .env_remove("GUARDIA_DATA_DIR")
        .env_remove("GUARDIA_USER")
        .env("GUARDIA_PASSWORD", user.1)
        .env("GUARDIA_NEW_PASSWORD", new)
        .output()
        .unwrap()
}

#[test]
fn people_change_their_password_admins_reset_one_and_set_the_lockout_policy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(
        add(data, None, "admin", ADMIN_PW, &["admin"])
            .status
            .success()
    );
    let admin = Some(("admin", ADMIN_PW));
    assert!(
        add(data, admin, "lee", LEE_PW, &["requester"])
            .status
            .success()
    );

    // Lee changes their own password (the sign-in password is the current one).
    let new_pw = "lee's brand new password";
    let changed = with_new_password(data, ("lee", LEE_PW), new_pw, &["user", "password"]);
    assert!(changed.status.success(), "{}", stderr(&changed));
    let old = guardia_as(data, Some(("lee", LEE_PW)), &["task", "list"]);
    assert_eq!(
        old.status.code(),
        Some(1),
        "the old password no longer signs in"
    );
    assert!(
        guardia_as(data, Some(("lee", new_pw)), &["task", "list"])
            .status
            .success()
    );
    // A too-short new password is refused and changes nothing.
    let short = with_new_password(data, ("lee", new_pw), "short", &["user", "password"]);
    assert_eq!(short.status.code(), Some(1));
    assert!(
        guardia_as(data, Some(("lee", new_pw)), &["task", "list"])
            .status
            .success()
    );

    // Only an admin resets someone else's password, or changes the policy.
    let by_lee = with_new_password(
        data,
        ("lee", new_pw),
        "x".repeat(12).as_str(),
        &["user", "password", "admin"],
    );
    assert_eq!(by_lee.status.code(), Some(1));
    assert!(
        stderr(&by_lee).contains("manage_people"),
        "{}",
        stderr(&by_lee)
    );
    let reset_pw = "reset by the admin 42";
    let reset = with_new_password(
        data,
        ("admin", ADMIN_PW),
        reset_pw,
        &["user", "password", "lee"],
    );
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert!(
        guardia_as(data, Some(("lee", reset_pw)), &["task", "list"])
            .status
            .success()
    );

    let policy = guardia_as(
        data,
        Some(("lee", reset_pw)),
        &["user", "policy", "--max-failures", "2"],
    );
    assert_eq!(policy.status.code(), Some(1));
    let shown = guardia_as(data, Some(("lee", reset_pw)), &["user", "policy"]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("5 failed sign-ins"));
    let set = guardia_as(
        data,
        admin,
        &[
            "user",
            "policy",
            "--max-failures",
            "2",
            "--lockout-minutes",
            "30",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(
        String::from_utf8_lossy(&set.stdout)
            .contains("2 failed sign-ins lock an account for 30 minutes")
    );
    let bad = guardia_as(data, admin, &["user", "policy", "--idle-minutes", "0"]);
    assert_eq!(bad.status.code(), Some(1));
    // Two wrong passwords now lock lee out.
    for _ in 0..2 {
        assert_eq!(
            guardia_as(data, Some(("lee", "wrong password!!")), &["task", "list"])
                .status
                .code(),
            Some(1)
        );
    }
    let locked = guardia_as(data, Some(("lee", reset_pw)), &["task", "list"]);
    assert!(
        stderr(&locked).contains("locked until"),
        "{}",
        stderr(&locked)
    );

    // Each change is in the log, never with a password.
    let log = guardia_as(
        data,
        admin,
        &["--json", "audit", "list", "--kind", "person.password"],
    );
    let log: Value = serde_json::from_slice(&log.stdout).unwrap();
    let hows: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let details = e["details"].as_str().unwrap_or("");
            if details.contains("how=reset_by_admin") {
                "reset_by_admin"
            } else if details.contains("how=changed_by_self") {
                "changed_by_self"
            } else {
                "?"
            }
        })
        .collect();
    assert_eq!(hows, ["reset_by_admin", "changed_by_self"]);
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(new_pw) && !text.contains(reset_pw));
}
