//! The `guardia` binary as a script would use it: real process, real database file.

use std::process::{Command, Output};

use serde_json::Value;

use crate::guardia;

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn create_prints_the_id_and_list_json_shows_the_task() {
    let dir = tempfile::tempdir().unwrap();
    let created = guardia(
        dir.path(),
        &[
            "task",
            "create",
            "--title",
            "WAS 재기동",
            "--category",
            "infra-control",
            "--system",
            "hr-portal",
            "--sub-type",
            "service-restart",
        ],
    );
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let id = stdout(&created).trim().to_owned();
    assert!(id.starts_with("OPS-") && id.ends_with("-001"), "{id}");

    let listed = guardia(dir.path(), &["--json", "task", "list"]);
    assert_eq!(listed.status.code(), Some(0));
    let tasks: Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    assert_eq!(tasks[0]["id"], id.as_str());
    assert_eq!(tasks[0]["title"], "WAS 재기동");
    assert_eq!(tasks[0]["category"], "INFRA_CONTROL");
    assert_eq!(tasks[0]["sub_type"], "service-restart");
    assert_eq!(tasks[0]["status"], "RECEIVED");

    let shown = guardia(dir.path(), &["task", "show", &id]);
    assert_eq!(shown.status.code(), Some(0));
    assert!(stdout(&shown).contains("timeline"));
    assert!(stdout(&shown).contains("created"));
}

#[test]
fn data_dir_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_guardia"))
            .args(args)
            .env("GUARDIA_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let created = run(&[
        "task",
        "create",
        "--title",
        "t",
        "--category",
        "DATA",
        "--system",
        "db",
    ]);
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    assert!(dir.path().join("guardia.db").is_file());
    assert!(stdout(&run(&["task", "list"])).contains("DATA"));
}

#[test]
fn usage_errors_exit_2_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &[
            "task",
            "create",
            "--title",
            "t",
            "--category",
            "NOPE",
            "--system",
            "s",
        ][..],
        &["task", "create", "--title", "t"][..],
        &["task", "list", "--status", "DONE"][..],
        &["no-such-command"][..],
    ] {
        let output = guardia(dir.path(), args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).is_empty());
    }
    assert!(
        !dir.path().join("guardia.db").exists(),
        "a wrong command line does not even open the database"
    );
}

#[test]
fn refused_input_exits_1_with_the_reason_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = guardia(
        dir.path(),
        &[
            "task",
            "create",
            "--title",
            " ",
            "--category",
            "DATA",
            "--system",
            "db",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output).trim(), "error: title is required");

    let json = guardia(dir.path(), &["--json", "task", "show", "OPS-20261121-404"]);
    assert_eq!(json.status.code(), Some(1));
    let error: Value = serde_json::from_str(&stderr(&json)).unwrap();
    assert_eq!(error["code"], "NOT_FOUND");

    let listed = guardia(dir.path(), &["--json", "task", "list"]);
    assert_eq!(stdout(&listed).trim(), "[]");
}

#[test]
fn help_and_version_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let help = guardia(dir.path(), &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Exit codes"));
    let version = guardia(dir.path(), &["--version"]);
    assert_eq!(version.status.code(), Some(0));
    // The version and the commit the build came from (12 hex digits in a checkout).
    let text = stdout(&version);
    assert!(
        text.starts_with(&format!("guardia {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let commit = text
        .split("(commit ")
        .nth(1)
        .and_then(|c| c.split(')').next())
        .unwrap_or_default();
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{text}"
    );
}

#[test]
fn demo_seeds_an_empty_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = guardia(dir.path(), &["--json", "demo"]);
    let added: Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert!(added["added"].as_u64().unwrap() >= 10);
    let second = guardia(dir.path(), &["--json", "demo"]);
    let added: Value = serde_json::from_str(&stdout(&second)).unwrap();
    assert_eq!(added["added"], 0);
}
