//! The Inventory screen in the real window, on a lab fleet behind real sshd: browse and
//! search, an ad-hoc check, a changed host key refused then re-approved after comparing the
//! fingerprint, a credential stored without ever coming back, and a refused import.

use std::path::{Path, PathBuf};

use guardia_e2e::{Driver, cli};

/// One lab at a time in this test binary: two fleets of sshd at once would only compete for
/// the machine's two cores (keyring entries are scoped per database, so they would not clash).
pub(crate) static ONE_LAB: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Stops the lab even when an assertion fails.
pub(crate) struct Lab {
    pub root: PathBuf,
    data: PathBuf,
    /// Holds the lab's directory until the lab is down.
    _beside: tempfile::TempDir,
}
impl Drop for Lab {
    fn drop(&mut self) {
        cli(
            &self.data,
            &["lab", "down", "--root", self.root.to_str().unwrap()],
        );
    }
}

fn lab_up(data: &Path) -> Lab {
    lab_with(data, 4)
}

/// A lab of `sites` sites, adopted by the console's database in `data`. The lab lives beside
/// the data directory, not in it: the data directory is owner-only (0700) and the lab's sshd
/// reads its files as the lab user.
pub(crate) fn lab_with(data: &Path, sites: u32) -> Lab {
    lab_of(data, sites, &[])
}

/// A lab with some sites of other server profiles (`PROFILE:N`).
fn lab_of(data: &Path, sites: u32, profiles: &[&str]) -> Lab {
    let beside = tempfile::tempdir().unwrap();
    let root = beside.path().join("lab");
    let sites = sites.to_string();
    let mut args = vec![
        "lab",
        "up",
        "--sites",
        &sites,
        "--root",
        root.to_str().unwrap(),
    ];
    for p in profiles {
        args.extend(["--profile", p]);
    }
    cli(data, &args);
    Lab {
        root,
        data: data.to_owned(),
        _beside: beside,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_screen_checks_servers_pins_keys_and_keeps_secrets_inward() {
    let _one_lab = ONE_LAB.lock().await;
    let data = tempfile::tempdir().unwrap();
    let lab = lab_up(data.path());

    let driver = Driver::start();
    let ui = driver.launch(data.path()).await;
    ui.click("[data-test=lang-en]").await;
    ui.click("[data-test=nav-inventory]").await;
    ui.find("[data-test=server-row][data-name=lab-0004]").await;
    assert_eq!(ui.all("[data-test=server-row]").await.len(), 4);
    assert_eq!(
        ui.all("[data-test=pin-cell][data-state=pinned]")
            .await
            .len(),
        4
    );

    // Search narrows the list.
    ui.type_into("[data-test=inventory-search]", "lab-0002")
        .await;
    ui.wait_gone("[data-test=server-row][data-name=lab-0001]")
        .await;
    ui.type_into("[data-test=inventory-search]", "lab-").await;
    ui.find("[data-test=server-row][data-name=lab-0001]").await;

    // An ad-hoc check passes every step, and lands in the audit log.
    ui.click("[data-test=server-row][data-name=lab-0002] td")
        .await;
    ui.find("[data-test=server-panel][data-name=lab-0002]")
        .await;
    ui.click("[data-test=check-now]").await;
    ui.wait_for_attr("[data-test=check-report]", "data-passed", "true")
        .await;
    ui.find("[data-test=check-step][data-name=health_http][data-state=pass]")
        .await;
    ui.screenshot("inventory-check").await;

    // Allowlist mode set from the CLI shows on the open server page without a click.
    ui.find("[data-test=command-mode][data-mode=denylist]")
        .await;
    cli(
        data.path(),
        &[
            "inventory",
            "command-mode",
            "GUARDiA Lab",
            "lab-app",
            "playbook-only",
            "--reason",
            "e2e freeze",
        ],
    );
    ui.find("[data-test=command-mode][data-mode=playbook_only]")
        .await;
    // …and is switched back from the page: no reason, no switch; with one, it is audited.
    ui.click("[data-test=command-mode-change]").await;
    let apply = ui
        .find("[data-test=command-mode-apply][data-mode=denylist]")
        .await;
    assert!(
        !apply.is_enabled().await.unwrap(),
        "applies without a reason"
    );
    ui.type_into("[data-test=command-mode-reason]", "e2e freeze over")
        .await;
    ui.screenshot("inventory-command-mode").await;
    ui.click("[data-test=command-mode-apply]").await;
    ui.find("[data-test=command-mode][data-mode=denylist]")
        .await;
    ui.wait_gone("[data-test=command-mode-form]").await;
    let audit = cli(
        data.path(),
        &["audit", "list", "--kind", "inventory.system.command_mode"],
    );
    assert!(audit.contains("e2e freeze over"), "{audit}");

    // The site is reinstalled (new host key): the check fails at the host key…
    cli(
        data.path(),
        &[
            "lab",
            "fault",
            "lab-0003",
            "host-key-changed",
            "--root",
            lab.root.to_str().unwrap(),
        ],
    );
    ui.click("[data-test=server-row][data-name=lab-0003] td")
        .await;
    ui.find("[data-test=server-panel][data-name=lab-0003]")
        .await;
    ui.click("[data-test=check-now]").await;
    ui.wait_for_attr("[data-test=check-report]", "data-passed", "false")
        .await;
    ui.find("[data-test=check-step][data-name=host_key][data-state=fail]")
        .await;
    // …the operator fetches the presented key, sees it differs, compares, trusts it…
    ui.click("[data-test=fetch-key]").await;
    ui.find("[data-test=key-changed]").await;
    let presented = ui.text("[data-test=presented-fingerprint]").await;
    ui.screenshot("inventory-key-changed").await;
    ui.click("[data-test=trust-key]").await;
    ui.wait_for_text_containing(
        "[data-test=pin-state]",
        presented.split_whitespace().nth(1).unwrap(),
    )
    .await;
    // …and the next check passes.
    ui.click("[data-test=check-now]").await;
    ui.wait_for_attr("[data-test=check-report]", "data-passed", "true")
        .await;
    let audit = cli(data.path(), &["audit", "list", "--kind", "hostkey."]);
    assert!(
        audit.contains("hostkey.refused") && audit.contains("hostkey.trusted"),
        "{audit}"
    );

    // A credential goes into the keyring; the form forgets it; the list shows only that it exists.
    ui.click("[data-test=open-credentials]").await;
    ui.find("[data-test=credential-row][data-name=lab-key][data-in-keyring=true]")
        .await;
    ui.type_into("[data-test=credential-name]", "ui-password")
        .await;
    ui.find("[data-test=credential-kind]")
        .await
        .select_by_value("password")
        .await
        .unwrap();
    let secret = "planted-ui-secret-7f3a91";
    ui.type_into("[data-test=credential-secret]", secret).await;
    ui.click("[data-test=credential-save]").await;
    ui.find("[data-test=credential-row][data-name=ui-password][data-in-keyring=true]")
        .await;
    let value = ui
        .find("[data-test=credential-secret]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        value.as_deref(),
        Some(""),
        "the secret is cleared from the form"
    );
    let source = ui.client.source().await.unwrap();
    assert!(
        !source.contains(secret),
        "the secret is nowhere in the page"
    );

    // A bad import is refused whole, with line numbers.
    ui.click("[data-test=open-import]").await;
    ui.set_value(
        "[data-test=import-text]",
        "institution,system,site,tier,server,address,user\nA,s,x,1,new-01,10.0.0.1,u\nA,s,x,9,new-02,10.0.0.2,u\n",
    )
    .await;
    ui.click("[data-test=import-run]").await;
    ui.wait_for_text_containing("[data-test=import-error]", "line 3")
        .await;
    ui.screenshot("inventory-import-refused").await;
    assert_eq!(
        ui.all("[data-test=server-row]").await.len(),
        4,
        "nothing was imported"
    );
    ui.quit().await;

    cli(data.path(), &["credential", "delete", "ui-password"]);
    cli(data.path(), &["credential", "delete", "lab-key"]);
    drop(lab);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_and_appliance_servers_show_what_they_need_and_what_cannot_be_guaranteed() {
    let _one_lab = ONE_LAB.lock().await;
    let data = tempfile::tempdir().unwrap();
    let lab = lab_of(data.path(), 3, &["legacy-openssh:1", "busybox:1"]);
    cli(
        data.path(),
        &[
            "lab",
            "fault",
            "lab-0002",
            "no-process-group",
            "--root",
            lab.root.to_str().unwrap(),
        ],
    );

    let driver = Driver::start();
    let ui = driver.launch(data.path()).await;
    ui.click("[data-test=lang-en]").await;
    ui.click("[data-test=nav-inventory]").await;
    ui.find("[data-test=server-row][data-name=lab-0003]").await;
    assert!(ui.all("[data-test=legacy-badge]").await.is_empty());

    // The CentOS 6-era site is refused at the key exchange, naming the opt-in.
    ui.click("[data-test=server-row][data-name=lab-0001] td")
        .await;
    ui.find("[data-test=server-panel][data-name=lab-0001]")
        .await;
    ui.find("[data-test=legacy-crypto][data-state=off]").await;
    ui.click("[data-test=check-now]").await;
    ui.wait_for_attr("[data-test=check-report]", "data-passed", "false")
        .await;
    ui.find("[data-test=check-step][data-name=host_key][data-state=fail]")
        .await;
    let report = ui.text("[data-test=check-report]").await;
    assert!(report.contains("legacy_crypto"), "{report}");

    // The admin allows legacy algorithms for this server only, with a reason.
    ui.click("[data-test=legacy-change]").await;
    let apply = ui.find("[data-test=legacy-apply]").await;
    assert!(
        !apply.is_enabled().await.unwrap(),
        "allowed without a reason"
    );
    ui.type_into(
        "[data-test=legacy-reason]",
        "CentOS 6 until the 2027 replacement",
    )
    .await;
    ui.click("[data-test=legacy-apply]").await;
    ui.find("[data-test=legacy-crypto][data-state=on]").await;
    ui.find("[data-test=server-row][data-name=lab-0001] [data-test=legacy-badge]")
        .await;
    ui.click("[data-test=check-now]").await;
    ui.wait_for_attr("[data-test=check-report]", "data-passed", "true")
        .await;
    ui.find("[data-test=check-step][data-name=remote_stop][data-state=pass]")
        .await;
    ui.wait_for_text_containing("[data-test=algorithms]", "ssh-rsa")
        .await;
    ui.screenshot("inventory-legacy-server").await;

    // The BusyBox appliance with nothing to make a process group: the check says so, and
    // so do its page and the list, before anyone starts a rollout there.
    ui.click("[data-test=server-row][data-name=lab-0002] td")
        .await;
    ui.find("[data-test=server-panel][data-name=lab-0002]")
        .await;
    ui.find("[data-test=remote-stop][data-state=unknown]").await;
    ui.click("[data-test=check-now]").await;
    ui.wait_for_attr("[data-test=check-report]", "data-passed", "false")
        .await;
    ui.find("[data-test=check-step][data-name=remote_stop][data-state=fail]")
        .await;
    ui.find("[data-test=remote-stop][data-state=not-guaranteed]")
        .await;
    ui.find("[data-test=server-row][data-name=lab-0002] [data-test=stop-badge]")
        .await;
    ui.screenshot("inventory-stop-not-guaranteed").await;

    let audit = cli(
        data.path(),
        &["audit", "list", "--kind", "inventory.server.legacy_crypto"],
    );
    assert!(audit.contains("CentOS 6 until"), "{audit}");
    drop(lab);
}
