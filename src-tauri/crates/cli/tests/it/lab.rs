//! `guardia lab up/fault/down` as an operator runs them: real sshd, real processes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use serde_json::Value;

use crate::guardia;

fn http_status(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: lab\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

/// Live (not zombie) processes whose command line, environment or SSH connection mention
/// the lab — everything `lab down` must have stopped.
fn lab_leftovers(root: &Path, ssh_port: u64) -> Vec<String> {
    let root = root.display().to_string();
    let port = format!(" {ssh_port}");
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if stat.contains(") Z ") || pid == std::process::id() {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let environ = String::from_utf8_lossy(&environ).replace('\0', "\n");
        let ssh_to_lab = environ.lines().any(|l| {
            l.starts_with("SSH_CONNECTION=") && l.contains(" 127.20.") && l.ends_with(&port)
        });
        if cmdline.contains(&root) || environ.contains(&root) || ssh_to_lab {
            left.push(format!("{pid} {cmdline}"));
        }
    }
    left
}

/// Takes the lab down if the test panics before its own `lab down`, so a failure leaves no
/// sshd, health endpoint or 200 site apps running for the rest of the run.
pub(crate) struct DownOnPanic<'a> {
    pub(crate) data: &'a Path,
    pub(crate) root: &'a Path,
}

impl Drop for DownOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let root = self.root.display().to_string();
            let down = guardia(self.data, &["lab", "down", "--root", &root]);
            if !down.status.success() {
                eprintln!(
                    "lab down after a failure: {}",
                    String::from_utf8_lossy(&down.stderr)
                );
            }
        }
    }
}

#[test]
fn lab_up_200_sites_then_down_leaves_no_process_behind() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lab");
    let _down = DownOnPanic {
        data: dir.path(),
        root: &root,
    };
    let up = guardia(
        dir.path(),
        &[
            "lab",
            "up",
            "--sites",
            "200",
            "--bad",
            "5",
            "--root",
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("lab.json")).unwrap()).unwrap();
    let sites = manifest["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 200);
    assert_eq!(sites.iter().filter(|s| s["bad"] == true).count(), 5);
    assert_eq!(
        manifest["groups"].as_array().unwrap().len(),
        13,
        "16 sites per sshd"
    );
    let http = manifest["http_port"].as_u64().unwrap();
    let ssh = manifest["ssh_port"].as_u64().unwrap();
    // The inventory and known_hosts are written for every site.
    let inventory = std::fs::read_to_string(root.join("inventory.csv")).unwrap();
    assert_eq!(inventory.lines().count(), 201);
    let known = std::fs::read_to_string(root.join("known_hosts")).unwrap();
    assert_eq!(known.lines().count(), 200);

    // Every site answers health; a fault turns one to 503 without touching its neighbours.
    assert_eq!(
        http_status(&format!("127.20.0.200:{http}")),
        "HTTP/1.1 200 OK"
    );
    let fault = guardia(
        dir.path(),
        &[
            "lab",
            "fault",
            "lab-0007",
            "health-503",
            "--root",
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(
        fault.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fault.stderr)
    );
    assert_eq!(
        http_status(&format!("127.20.0.7:{http}")),
        "HTTP/1.1 503 Service Unavailable"
    );
    assert_eq!(
        http_status(&format!("127.20.0.8:{http}")),
        "HTTP/1.1 200 OK"
    );
    assert!(
        !lab_leftovers(&root, ssh).is_empty(),
        "the scan must see the running lab"
    );

    let down = guardia(
        dir.path(),
        &["lab", "down", "--root", root.to_str().unwrap()],
    );
    assert_eq!(
        down.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let left = lab_leftovers(&root, ssh);
    assert!(
        left.is_empty(),
        "processes left behind:\n{}",
        left.join("\n")
    );
    assert!(TcpStream::connect(format!("127.20.0.1:{ssh}")).is_err());

    // A second `down` says there is no lab rather than pretending.
    let again = guardia(
        dir.path(),
        &["lab", "down", "--root", root.to_str().unwrap()],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no lab"));
}

#[test]
fn an_unknown_fault_is_a_usage_error_naming_the_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let out = guardia(dir.path(), &["lab", "fault", "lab-0001", "meteor"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("host-key-changed"));
}

#[test]
fn hardening_09_15_17_remote_output_is_escaped_signals_are_named_and_a_flood_stops_with_its_output()
{
    // The data directory is owner-only (0700), so the lab, whose sshd reads its files as the
    // lab user, lives beside it rather than inside.
    let (dir, lab_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let root_path = lab_dir.path().join("lab");
    let _down = DownOnPanic {
        data: dir.path(),
        root: &root_path,
    };
    let root = root_path.to_str().unwrap();
    let up = guardia(dir.path(), &["lab", "up", "--sites", "1", "--root", root]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let run = |args: &[&str]| {
        let mut all = vec!["ssh", "run", "lab-0001"];
        all.extend_from_slice(args);
        guardia(dir.path(), &all)
    };

    // 15: an escape sequence that would retitle the terminal arrives escaped.
    let titled = run(&["--", "printf '\\033]0;pwned\\007 title'"]);
    assert!(
        titled.status.success(),
        "{}",
        String::from_utf8_lossy(&titled.stderr)
    );
    assert_eq!(titled.stdout, b"<U+001B>]0;pwned<U+0007> title");

    // 17: a process killed by a signal says which.
    let killed = run(&["--", "kill -TERM $$"]);
    assert_eq!(killed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&killed.stderr);
    assert!(stderr.contains("killed by signal TERM"), "{stderr}");

    // 9: a flood is stopped soon after its timeout, and what it printed is kept.
    let started = std::time::Instant::now();
    let flood = run(&["--timeout", "2", "--", "yes flood-line"]);
    let took = started.elapsed();
    assert_eq!(flood.status.code(), Some(1));
    assert!(
        took < std::time::Duration::from_secs(2) + guardia_ssh::STOP_BUDGET,
        "took {took:?}"
    );
    assert_eq!(flood.stdout.len(), 64 * 1024);
    assert!(flood.stdout.starts_with(b"flood-line\nflood-line\n"));
    let stderr = String::from_utf8_lossy(&flood.stderr);
    assert!(
        stderr.contains("OUTCOME UNKNOWN")
            && stderr.contains("the remote process group was stopped"),
        "{stderr}"
    );

    // 10: allowlist mode refuses ad-hoc commands; GUARDiA's own checks still run.
    let listed: Value =
        serde_json::from_slice(&guardia(dir.path(), &["--json", "inventory", "list"]).stdout)
            .unwrap();
    let record = &listed[0]["record"];
    let (institution, system) = (
        record["institution"].as_str().unwrap(),
        record["system"].as_str().unwrap(),
    );
    let mode = |mode: &str| {
        guardia(
            dir.path(),
            &[
                "inventory",
                "command-mode",
                institution,
                system,
                mode,
                "--reason",
                "change freeze",
            ],
        )
    };
    assert!(mode("playbook-only").status.success());
    let refused = run(&["--", "uptime"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("playbook_only"), "{stderr}");
    let check = guardia(dir.path(), &["ssh", "check", "lab-0001"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(mode("denylist").status.success());
    assert!(run(&["--", "uptime"]).status.success());
    assert_eq!(mode("sometimes").status.code(), Some(1));

    let down = guardia(dir.path(), &["lab", "down", "--root", root]);
    assert!(down.status.success());
}
