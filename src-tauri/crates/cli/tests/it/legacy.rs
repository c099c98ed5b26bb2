//! Legacy SSH servers as an operator meets them (issue 15): a CentOS 6-era sshd refused until
//! an admin opts it in (audited, with the algorithms negotiated), Dropbear and BusyBox sites
//! whose timed-out commands leave nothing running, and a site where a stop cannot be
//! guaranteed saying so on the check, the server list and the run.

use serde_json::Value;

use crate::guardia;

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn legacy_dropbear_and_busybox_sites_are_reached_and_stopped_or_say_why_not() {
    let (dir, lab_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let root_path = lab_dir.path().join("lab");
    let _down = crate::lab::DownOnPanic {
        data: dir.path(),
        root: &root_path,
    };
    let root = root_path.to_str().unwrap();
    let up = guardia(
        dir.path(),
        &[
            "lab",
            "up",
            "--sites",
            "4",
            "--profile",
            "legacy-openssh:1",
            "--profile",
            "dropbear:1",
            "--profile",
            "busybox:1",
            "--root",
            root,
        ],
    );
    assert!(up.status.success(), "{}", text(&up));
    assert!(text(&up).contains("1 openssh, 1 legacy-openssh, 1 dropbear, 1 busybox"));
    let data = dir.path();
    let check = |server: &str| guardia(data, &["ssh", "check", server]);

    // Without the opt-in the legacy site is refused, and the refusal names the opt-in.
    let refused = check("lab-0001");
    assert_eq!(refused.status.code(), Some(1));
    let said = text(&refused);
    assert!(
        said.contains("legacy_crypto") && said.contains("diffie-hellman-group14-sha1"),
        "{said}"
    );

    // Opting in takes a reason, and only an admin's (the tests' console has one person).
    let blank = guardia(
        data,
        &[
            "inventory",
            "legacy-crypto",
            "lab-0001",
            "on",
            "--reason",
            " ",
        ],
    );
    assert_eq!(blank.status.code(), Some(1), "{}", text(&blank));
    let on = guardia(
        data,
        &[
            "inventory",
            "legacy-crypto",
            "lab-0001",
            "on",
            "--reason",
            "CentOS 6 until its replacement",
        ],
    );
    assert!(on.status.success(), "{}", text(&on));
    let passed = check("lab-0001");
    let said = text(&passed);
    assert!(passed.status.success(), "{said}");
    assert!(
        said.contains("LEGACY") && said.contains("ssh-rsa") && said.contains("hmac-sha1"),
        "{said}"
    );

    // The audit log has the opt-in and the algorithms the check negotiated.
    let audit: Value =
        serde_json::from_slice(&guardia(data, &["--json", "audit", "list"]).stdout).unwrap();
    let entries = audit["entries"].as_array().unwrap();
    let opt_in = entries
        .iter()
        .find(|e| e["kind"] == "inventory.server.legacy_crypto")
        .expect("the opt-in is audited");
    let details = opt_in["details"].as_str().unwrap();
    assert!(
        details.contains("legacy_crypto=true") && details.contains("CentOS 6"),
        "{details}"
    );
    let checked = entries
        .iter()
        .find(|e| e["kind"] == "ssh.check" && e["result"] == "ok")
        .expect("the passing check is audited");
    let details = checked["details"].as_str().unwrap();
    assert!(
        details.contains("legacy_algorithms=") && details.contains("diffie-hellman-group"),
        "{details}"
    );

    // Dropbear and BusyBox: checked, and a timed-out command leaves nothing on the site.
    for (server, marker) in [("lab-0002", "sleep 45102"), ("lab-0003", "sleep 45103")] {
        let ok = check(server);
        assert!(ok.status.success(), "{server}: {}", text(&ok));
        let run = guardia(
            data,
            &[
                "ssh",
                "run",
                server,
                "--timeout",
                "2",
                "--",
                &format!("{marker}; echo late"),
            ],
        );
        assert_eq!(run.status.code(), Some(1));
        let said = text(&run);
        assert!(
            said.contains("OUTCOME UNKNOWN")
                && said.contains("the remote process group was stopped"),
            "{server}: {said}"
        );
        let ps = guardia(
            data,
            &["ssh", "run", server, "--", "ps -eo args 2>/dev/null || ps"],
        );
        assert!(ps.status.success(), "{}", text(&ps));
        assert!(
            !text(&ps).contains(marker),
            "{server} still runs it:\n{}",
            text(&ps)
        );
    }

    // Where nothing can make a process group, every place says so.
    let fault = guardia(
        data,
        &[
            "lab",
            "fault",
            "lab-0003",
            "no-process-group",
            "--root",
            root,
        ],
    );
    assert!(fault.status.success(), "{}", text(&fault));
    let failed = check("lab-0003");
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed).contains("remote stop not guaranteed"),
        "{}",
        text(&failed)
    );
    let list = text(&guardia(data, &["inventory", "list"]));
    let line = |server: &str| {
        list.lines()
            .find(|l| l.starts_with(server))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("lab-0001").contains("LEGACY CRYPTO"), "{list}");
    assert!(
        line("lab-0003").contains("REMOTE STOP NOT GUARANTEED"),
        "{list}"
    );
    assert!(!line("lab-0002").contains('⚠'), "{list}");
    let run = guardia(
        data,
        &[
            "ssh",
            "run",
            "lab-0003",
            "--timeout",
            "2",
            "--",
            "sleep 45104; echo late",
        ],
    );
    let said = text(&run);
    assert!(
        said.contains("NOT CONFIRMED STOPPED") && said.contains("setsid"),
        "{said}"
    );

    // Opting out is audited too, and the site is refused again.
    let off = guardia(
        data,
        &[
            "inventory",
            "legacy-crypto",
            "lab-0001",
            "off",
            "--reason",
            "replaced",
        ],
    );
    assert!(off.status.success(), "{}", text(&off));
    assert_eq!(check("lab-0001").status.code(), Some(1));

    let down = guardia(data, &["lab", "down", "--root", root]);
    assert!(down.status.success(), "{}", text(&down));
}
