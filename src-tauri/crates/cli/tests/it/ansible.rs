//! A plain Ansible `hosts.ini` as operators have it — one group, custom host variables, no
//! guardia_ variables — imported against a real lab (real sshd on loopback): one site per
//! host, the group as a tag, the mapped variable applied, `--credential` giving every host
//! its login, which a real check proves; then a bulk credential change over a filter, as one
//! audited change. In set-up (nobody added), so no sign-in is needed.

use std::path::Path;

use serde_json::Value;

use crate::guardia;

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct LabDown<'a> {
    data: &'a Path,
    root: String,
}

impl Drop for LabDown<'_> {
    fn drop(&mut self) {
        let down = guardia(self.data, &["lab", "down", "--root", &self.root]);
        if !down.status.success() {
            eprintln!("lab down: {}", String::from_utf8_lossy(&down.stderr));
        }
    }
}

#[test]
fn a_plain_hosts_ini_with_credential_and_map_becomes_one_site_per_host_that_logs_in_and_a_bulk_change_is_one_entry()
 {
    // Data directories are owner-only (0700) and the lab's sshd reads its files as the lab
    // user, so the lab lives beside them.
    let (lab_data, lab_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let root = lab_dir.path().join("lab");
    let root_text = root.display().to_string();
    ok(guardia(
        lab_data.path(),
        &["lab", "up", "--sites", "4", "--root", &root_text],
    ));
    let _down = LabDown {
        data: lab_data.path(),
        root: root_text.clone(),
    };
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("lab.json")).unwrap()).unwrap();
    let port = manifest["ssh_port"].as_u64().unwrap();
    let user = manifest["user"].as_str().unwrap();
    let mut ini = String::from("[was]\n");
    for site in manifest["sites"].as_array().unwrap() {
        ini.push_str(&format!(
            "{} ansible_host={} ansible_port={port} ansible_user={user} app_dir=/srv/app java_home=/opt/jdk\n",
            site["name"].as_str().unwrap(),
            site["address"].as_str().unwrap(),
        ));
    }
    let hosts = data.join("hosts.ini");
    std::fs::write(&hosts, &ini).unwrap();
    let key = root.join("secrets/id_ed25519").display().to_string();
    for name in ["was-key", "was-key-2026"] {
        ok(guardia(
            data,
            &[
                "credential",
                "set",
                name,
                "--kind",
                "key",
                "--secret-file",
                &key,
            ],
        ));
    }
    ok(guardia(
        data,
        &[
            "hosts",
            "import",
            &root.join("known_hosts").display().to_string(),
        ],
    ));
    let hosts = hosts.display().to_string();

    // Without --institution/--system the refusal names the flags, and nothing is stored.
    let bare = guardia(data, &["inventory", "import", &hosts]);
    assert_eq!(bare.status.code(), Some(1));
    let why = String::from_utf8_lossy(&bare.stderr);
    assert!(
        why.contains("--institution NAME") && why.contains("--system NAME"),
        "{why}"
    );
    // An unknown credential or column is refused before anything is read into the inventory.
    let unknown = guardia(
        data,
        &[
            "inventory",
            "import",
            &hosts,
            "--institution",
            "행정안전부",
            "--system",
            "hr-portal",
            "--credential",
            "nope",
            "--map",
            "app_dir=nowhere",
        ],
    );
    assert_eq!(unknown.status.code(), Some(1));
    let listed: Value =
        serde_json::from_str(&ok(guardia(data, &["--json", "inventory", "list"]))).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        0,
        "refused imports store nothing"
    );

    let report = ok(guardia(
        data,
        &[
            "--json",
            "inventory",
            "import",
            &hosts,
            "--institution",
            "행정안전부",
            "--system",
            "hr-portal",
            "--credential",
            "was-key",
            "--map",
            "app_dir=app_path",
        ],
    ));
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["created"], 4);
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("java_home"),
        "{report}"
    );

    // The lab's host keys, as a site would hand them over (known_hosts).
    ok(guardia(
        data,
        &[
            "hosts",
            "import",
            &root.join("known_hosts").display().to_string(),
        ],
    ));
    let servers: Value =
        serde_json::from_str(&ok(guardia(data, &["--json", "inventory", "list"]))).unwrap();
    let servers = servers.as_array().unwrap();
    assert_eq!(servers.len(), 4);
    let mut sites: Vec<&str> = servers
        .iter()
        .map(|s| s["record"]["site"].as_str().unwrap())
        .collect();
    sites.dedup();
    assert_eq!(sites.len(), 4, "one site per host: {servers:?}");
    for server in servers {
        let record = &server["record"];
        assert_eq!(record["tags"], serde_json::json!(["was"]), "{record}");
        assert_eq!(record["credential"], "was-key");
        assert_eq!(record["auth"], "key");
        assert_eq!(record["app_path"], "/srv/app");
        // Every server logs in with the credential the import gave it.
        let name = record["server"].as_str().unwrap();
        let check: Value =
            serde_json::from_str(&ok(guardia(data, &["--json", "ssh", "check", name]))).unwrap();
        let auth = check["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "authenticated")
            .unwrap();
        assert_eq!(auth["state"], "pass", "{name}: {check}");
    }

    // One bulk change over a filter: every `was` server gets the new credential.
    let before: Value = serde_json::from_str(&ok(guardia(
        data,
        &["--json", "audit", "list", "--kind", "inventory."],
    )))
    .unwrap();
    let before = before["entries"].as_array().unwrap().len();
    let bulk: Value = serde_json::from_str(&ok(guardia(
        data,
        &[
            "--json",
            "inventory",
            "bulk",
            "--search",
            "was",
            "--credential",
            "was-key-2026",
        ],
    )))
    .unwrap();
    assert_eq!(bulk["updated"], 4, "{bulk}");
    let after: Value = serde_json::from_str(&ok(guardia(
        data,
        &["--json", "audit", "list", "--kind", "inventory."],
    )))
    .unwrap();
    let entries = after["entries"].as_array().unwrap();
    assert_eq!(entries.len(), before + 1, "one audited change");
    assert_eq!(entries[0]["kind"], "inventory.bulk_edit");
    let servers: Value =
        serde_json::from_str(&ok(guardia(data, &["--json", "inventory", "list"]))).unwrap();
    assert!(
        servers
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["record"]["credential"] == "was-key-2026")
    );
}
