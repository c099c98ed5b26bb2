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

#[test]
fn lab_up_200_sites_then_down_leaves_no_process_behind() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lab");
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
