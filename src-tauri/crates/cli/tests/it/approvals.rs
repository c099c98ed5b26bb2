//! Approvals from the command line (issue 10's CLI check): the requester creates and submits
//! a task; their own approval is refused (exit 1, with the reason); the team lead approves;
//! the next approver — here the security officer of a sensitive system — sees it in
//! `guardia inbox --json`, and nobody else does.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const PW: &str = "a long demo password 1";

fn guardia_as(data: &Path, user: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guardia"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("GUARDIA_DATA_DIR")
        .env_remove("GUARDIA_USER")
        .env_remove("GUARDIA_PASSWORD");
    if let Some(name) = user {
        command.args(["--user", name]).env("GUARDIA_PASSWORD", PW);
    }
    command.output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn add(data: &Path, by: Option<&str>, name: &str, roles: &[&str]) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guardia"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(["user", "add", name]);
    for role in roles {
        command.args(["--role", role]);
    }
    command
        .env_remove("GUARDIA_DATA_DIR")
        .env_remove("GUARDIA_USER")
        .env("GUARDIA_NEW_PASSWORD", PW);
    if let Some(who) = by {
        command.args(["--user", who]).env("GUARDIA_PASSWORD", PW);
    }
    ok(command.output().unwrap());
}

fn inbox(data: &Path, who: &str) -> Vec<Value> {
    let out = ok(guardia_as(data, Some(who), &["--json", "inbox"]));
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn requester_submits_own_approval_is_refused_team_lead_approves_next_approver_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add(data, None, "admin", &["admin"]);
    add(data, Some("admin"), "kim.minji", &["requester"]);
    add(
        data,
        Some("admin"),
        "lee.teamlead",
        &["team_lead", "requester"],
    );
    add(data, Some("admin"), "bae.security", &["security_officer"]);
    add(data, Some("admin"), "oh.pm", &["pm"]);
    let admin = Some("admin");
    ok(guardia_as(
        data,
        admin,
        &["system", "owner", "hr-portal", "lee.teamlead"],
    ));
    ok(guardia_as(
        data,
        admin,
        &["system", "sensitive", "hr-portal", "on"],
    ));
    let listed = ok(guardia_as(data, admin, &["system", "list"]));
    assert!(
        listed.contains("lee.teamlead") && listed.contains("sensitive"),
        "{listed}"
    );

    let kim = Some("kim.minji");
    let id = ok(guardia_as(
        data,
        kim,
        &[
            "task",
            "create",
            "--title",
            "Check the payroll logs",
            "--category",
            "INSPECTION",
            "--sub-type",
            "log-review",
            "--system",
            "hr-portal",
        ],
    ))
    .trim()
    .to_owned();
    let shown = ok(guardia_as(data, kim, &["task", "submit", &id]));
    assert!(shown.contains("PENDING_APPROVAL"), "{shown}");
    assert!(shown.contains("lee.teamlead (owner)"), "{shown}");

    // The requester's own approval is refused, exit 1, with the reason: a requester does
    // not decide at all, and the backend names the missing permission.
    let own = guardia_as(
        data,
        kim,
        &["task", "approve", &id, "--comment", "fine by me"],
    );
    assert_eq!(own.status.code(), Some(1));
    let reason = String::from_utf8_lossy(&own.stderr);
    assert!(reason.contains("decide_approvals"), "{reason}");

    assert_eq!(inbox(data, "lee.teamlead").len(), 1);
    let approved = ok(guardia_as(
        data,
        Some("lee.teamlead"),
        &["task", "approve", &id, "--comment", "logs only, no change"],
    ));
    assert!(
        approved.contains("approve by lee.teamlead — logs only, no change"),
        "{approved}"
    );

    // The sensitive system's chain goes on to a security officer.
    let next = inbox(data, "bae.security");
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0]["task"]["id"], id.as_str());
    assert_eq!(next[0]["kind"], "security_officer");
    assert_eq!(next[0]["held_as"], "pool");
    assert!(inbox(data, "lee.teamlead").is_empty());
    assert!(inbox(data, "oh.pm").is_empty());
    let text = ok(guardia_as(data, Some("bae.security"), &["inbox"]));
    assert!(
        text.contains(&id) && text.contains("security_officer"),
        "{text}"
    );

    let done = ok(guardia_as(
        data,
        Some("bae.security"),
        &[
            "--json",
            "task",
            "approve",
            &id,
            "--comment",
            "read-only, no personal data",
        ],
    ));
    let done: Value = serde_json::from_str(&done).unwrap();
    assert_eq!(done["task"]["status"], "APPROVED");

    // Four-eyes for someone who could decide: the team lead's own request is not theirs
    // to approve, even as the system's owner.
    let lee = Some("lee.teamlead");
    let own_id = ok(guardia_as(
        data,
        lee,
        &[
            "task",
            "create",
            "--title",
            "Review the access log",
            "--category",
            "INSPECTION",
            "--sub-type",
            "log-review",
            "--system",
            "hr-portal",
        ],
    ))
    .trim()
    .to_owned();
    ok(guardia_as(data, lee, &["task", "submit", &own_id]));
    let own = guardia_as(
        data,
        lee,
        &["task", "approve", &own_id, "--comment", "mine"],
    );
    assert_eq!(own.status.code(), Some(1));
    let reason = String::from_utf8_lossy(&own.stderr);
    assert!(
        reason.contains("cannot approve their own request (four-eyes)"),
        "{reason}"
    );
    assert!(inbox(data, "lee.teamlead").is_empty());
}

#[test]
fn only_the_owner_names_a_deputy_and_bad_rules_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add(data, None, "admin", &["admin"]);
    add(data, Some("admin"), "lee.teamlead", &["team_lead"]);
    add(data, Some("admin"), "choi.deputy", &["team_lead"]);
    let admin = Some("admin");
    ok(guardia_as(
        data,
        admin,
        &["system", "owner", "hr-portal", "lee.teamlead"],
    ));
    let by_admin = guardia_as(
        data,
        admin,
        &["system", "deputy", "hr-portal", "choi.deputy"],
    );
    assert_eq!(by_admin.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&by_admin.stderr).contains("only the owner names"),
        "{}",
        String::from_utf8_lossy(&by_admin.stderr)
    );
    ok(guardia_as(
        data,
        Some("lee.teamlead"),
        &["system", "deputy", "hr-portal", "choi.deputy"],
    ));
    for (args, reason) in [
        (
            vec!["system", "sla", "hr-portal", "8d"],
            "the unit is s, m or h",
        ),
        (
            vec!["system", "owner", "hr-portal", "nobody.here"],
            "there is nobody named",
        ),
        (
            vec![
                "system",
                "window",
                "hr-portal",
                "--hours",
                "mon-fri 18:00-09:00",
            ],
            "hours must end after they start",
        ),
    ] {
        let out = guardia_as(data, admin, &args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
    // A team lead cannot set the SLA: the backend names the permission.
    let out = guardia_as(
        data,
        Some("lee.teamlead"),
        &["system", "sla", "hr-portal", "5m"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("edit_governance"));
    let listed = ok(guardia_as(data, admin, &["--json", "system", "list"]));
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["deputy"], "choi.deputy");
    assert_eq!(listed[0]["sla_seconds"], 600);
}

#[test]
fn an_admin_edits_the_chain_policy_and_new_submissions_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add(data, None, "admin", &["admin"]);
    add(data, Some("admin"), "kim.minji", &["requester"]);
    add(data, Some("admin"), "lee.teamlead", &["team_lead"]);
    let admin = Some("admin");
    let shown = ok(guardia_as(data, admin, &["system", "policy"]));
    assert!(shown.contains("change           team_lead → pm"), "{shown}");
    // A policy nobody signs, or with a repeated step, is refused and changes nothing.
    for steps in ["security_check", "team_lead,team_lead"] {
        let out = guardia_as(
            data,
            admin,
            &["system", "policy", "--risk", "inspection", "--steps", steps],
        );
        assert_eq!(out.status.code(), Some(1), "{steps}");
    }
    // Only an admin edits it.
    let by_lead = guardia_as(
        data,
        Some("lee.teamlead"),
        &[
            "system",
            "policy",
            "--risk",
            "inspection",
            "--steps",
            "team_lead,pm",
        ],
    );
    assert_eq!(by_lead.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&by_lead.stderr).contains("edit_governance"));
    let set = ok(guardia_as(
        data,
        admin,
        &[
            "system",
            "policy",
            "--risk",
            "inspection",
            "--steps",
            "team_lead,security_officer",
        ],
    ));
    assert!(
        set.contains("inspection       team_lead → security_officer"),
        "{set}"
    );

    let kim = Some("kim.minji");
    let id = ok(guardia_as(
        data,
        kim,
        &[
            "task",
            "create",
            "--title",
            "Check logs",
            "--category",
            "INSPECTION",
            "--system",
            "hr-portal",
        ],
    ))
    .trim()
    .to_owned();
    let detail: Value = serde_json::from_str(&ok(guardia_as(
        data,
        kim,
        &["--json", "task", "submit", &id],
    )))
    .unwrap();
    let kinds: Vec<&str> = detail["approvals"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["team_lead", "security_officer"]);
}
