//! Rollouts against the lab: real sshd on loopback, real health endpoints, the real OS
//! keyring (gnome-keyring under dbus-run-session), a real SQLite file. A task goes through
//! approval and review to READY_TO_ROLL_OUT with the example package; then the rollout runs
//! the built-in `deploy-artifact` playbook on lab sites.

use std::path::Path;
use std::sync::Arc;

use guardia_api::SystemClock;
use guardia_domain::TaskStatus;
use guardia_domain::governance::Role;
use guardia_ipc::{
    KillSwitchInput, PhaseInput, PlanInput, RolloutAction, RolloutRef, RolloutRequest, RolloutView,
    ServerRef, SiteRef, TaskRef,
};
use guardia_lab::Manifest;
use guardia_secrets::OsKeyring;

use crate::rollout_fleet::{Fleet, fleet, person};
use crate::support::who;

pub fn request(task: &str, plan: PlanInput) -> RolloutRequest {
    RolloutRequest {
        task: task.to_owned(),
        plan,
        params: Default::default(),
    }
}

fn phase(name: &str, select: &str, window: usize, gate: &str, scope: &str) -> PhaseInput {
    PhaseInput {
        name: name.into(),
        select: select.into(),
        window,
        gate: gate.into(),
        scope: scope.into(),
    }
}

async fn view(f: &Fleet, id: &str) -> RolloutView {
    f.api
        .rollouts()
        .get(&f.operator, RolloutRef { id: id.to_owned() })
        .await
        .unwrap()
}

async fn finish(f: &Fleet, id: &str) -> RolloutView {
    f.api.rollouts().wait(id).await;
    view(f, id).await
}

/// Follows a rollout to its end, opening every manual gate once the board shows it waiting
/// (and checking that nothing of the next phase started meanwhile). Returns the end and
/// how many gates a person opened.
async fn follow(f: &Fleet, id: &str) -> (RolloutView, usize) {
    let mut feed = f.api.runtime().feed().subscribe();
    let mut gates = 0;
    loop {
        let v = view(f, id).await;
        if !v.live {
            return (v, gates);
        }
        if v.state == "WAITING_GATE" {
            let next = v.phase as usize + 1;
            let started = v
                .sites
                .iter()
                .filter(|s| s.phase as usize >= next && s.state != "PENDING")
                .count();
            assert_eq!(started, 0, "the gate holds the next phase back");
            f.api
                .rollouts()
                .control(&f.operator, action(id, "approve_gate"))
                .await
                .unwrap();
            gates += 1;
        }
        let rollouts = f.api.rollouts();
        tokio::select! {
            _ = feed.recv() => {}
            () = rollouts.wait(id) => {}
        }
    }
}

fn action(id: &str, what: &str) -> RolloutAction {
    RolloutAction {
        id: id.to_owned(),
        action: what.to_owned(),
        scope: String::new(),
        site: String::new(),
        reason: String::new(),
    }
}

/// One site's record on the board: state, journal, log tail.
async fn site_detail(
    f: &Fleet,
    id: impl Into<String>,
    site: impl Into<String>,
) -> guardia_ipc::SiteDetail {
    f.api
        .rollouts()
        .site(
            &f.operator,
            SiteRef {
                id: id.into(),
                site: site.into(),
            },
        )
        .await
        .unwrap()
}

fn version_of(lab: &Manifest, site: &str) -> String {
    std::fs::read_to_string(lab.site(site).unwrap().app_dir().join("VERSION"))
        .unwrap()
        .trim()
        .to_owned()
}

async fn task_status(f: &Fleet) -> TaskStatus {
    f.api
        .tasks()
        .get(TaskRef { id: f.task.clone() })
        .await
        .unwrap()
        .task
        .status
}

#[tokio::test]
async fn a_clean_rollout_updates_every_site_and_records_every_step() {
    let f = fleet(50, 0, 0).await;
    let rollouts = f.api.rollouts();
    let preview = rollouts
        .preview(&f.operator, request(&f.task, PlanInput::default()))
        .await
        .unwrap();
    assert!(preview.blockers.is_empty(), "{:?}", preview.blockers);
    assert_eq!(preview.sites, 50);
    assert_eq!(
        preview.phases.iter().map(|p| p.sites).collect::<Vec<_>>(),
        [1, 5, 44]
    );
    assert_eq!(preview.artifacts[0].path, "web/notice.jsp");
    // Nobody but an operator starts one.
    let refused = rollouts
        .start(
            &person("oh.pm", Role::Pm),
            request(&f.task, PlanInput::default()),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), guardia_ipc::ErrorCode::Forbidden);

    let plan = PlanInput {
        soak_seconds: Some(0),
        ..PlanInput::default()
    };
    let started = rollouts
        .start(&f.operator, request(&f.task, plan))
        .await
        .unwrap();
    assert_eq!(task_status(&f).await, TaskStatus::RollingOut);
    // Tier-1 sites are in the last phase: a person opens the gate before it.
    let (end, gates) = follow(&f, &started.id).await;
    assert_eq!(gates, 1);
    assert_eq!(end.state, "COMPLETED", "{}: {:?}", end.reason, end.counts);
    assert_eq!(end.counts.get("DONE"), Some(&50));
    assert_eq!(task_status(&f).await, TaskStatus::Completed);

    // Every site runs the new version and the approved artifact.
    let approved = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures/packages/notice-fix/v2/artifacts/web/notice.jsp"),
    )
    .unwrap();
    for site in &f.lab.0.sites {
        assert_eq!(version_of(&f.lab.0, &site.name), format!("{}-v1", f.task));
        assert_eq!(
            std::fs::read(site.deploy_dir().join("web/notice.jsp")).unwrap(),
            approved
        );
    }
    // The journal: each step begun once and ended ok, in order.
    let detail = site_detail(&f, started.id.clone(), "lab-0007").await;
    let ends: Vec<&str> = detail
        .journal
        .iter()
        .filter(|j| j.mark == "end")
        .map(|j| j.step.as_str())
        .collect();
    assert_eq!(
        ends,
        [
            "pre-check",
            "stage",
            "backup",
            "apply",
            "restart",
            "post-check"
        ]
    );
    assert!(
        detail
            .journal
            .iter()
            .all(|j| j.mark == "begin" || j.outcome == "ok")
    );
    // History and drift on a server.
    let history = rollouts
        .history(ServerRef {
            name: "lab-0007".into(),
        })
        .await
        .unwrap();
    assert_eq!(history.current.as_ref().unwrap().result, "deployed");
    let drift = rollouts
        .drift(
            &f.operator,
            ServerRef {
                name: "lab-0007".into(),
            },
        )
        .await
        .unwrap();
    assert!(!drift.drifted, "{drift:?}");
    std::fs::write(
        f.lab
            .0
            .site("lab-0007")
            .unwrap()
            .deploy_dir()
            .join("web/notice.jsp"),
        "edited by hand",
    )
    .unwrap();
    let drift = rollouts
        .drift(
            &f.operator,
            ServerRef {
                name: "lab-0007".into(),
            },
        )
        .await
        .unwrap();
    assert!(drift.drifted);
    // The audit log verifies.
    let run = f
        .api
        .audit_verify_now(
            &who(),
            guardia_api::VerifyTrigger::Manual,
            &tokio_util::sync::CancellationToken::new(),
            &|_, _| {},
        )
        .await
        .unwrap();
    assert!(run.ok, "{run:?}");
}

fn one_phase(window: usize, budget: &str) -> PlanInput {
    PlanInput {
        phases: vec![phase("all", "rest", window, "", "site")],
        budget: budget.into(),
        soak_seconds: Some(0),
    }
}

#[tokio::test]
async fn bad_sites_roll_back_the_rest_go_on_and_a_spent_budget_halts() {
    // Within the budget: 3 bad sites of 12 roll back, the rest are updated.
    let f = fleet(12, 3, 0).await;
    let started = f
        .api
        .rollouts()
        .start(&f.operator, request(&f.task, one_phase(6, "3")))
        .await
        .unwrap();
    let end = finish(&f, &started.id).await;
    assert_eq!(end.state, "COMPLETED", "{}", end.reason);
    assert_eq!(end.counts.get("ROLLED_BACK"), Some(&3), "{:?}", end.counts);
    assert_eq!(end.counts.get("DONE"), Some(&9));
    for site in &f.lab.0.sites {
        let expected = if site.bad {
            "1.0.0".to_owned()
        } else {
            format!("{}-v1", f.task)
        };
        assert_eq!(version_of(&f.lab.0, &site.name), expected, "{}", site.name);
        if site.bad {
            // Restored: the new file is gone again (it was absent before).
            assert!(!site.deploy_dir().join("web/notice.jsp").exists());
        }
    }
    let bad = site_detail(&f, started.id.clone(), "lab-0012").await;
    assert_eq!(bad.state, "ROLLED_BACK");
    assert!(bad.detail.contains("unhealthy"), "{}", bad.detail);
    assert!(bad.log_tail.contains("started pid"), "{}", bad.log_tail);
    assert!(
        bad.journal
            .iter()
            .any(|j| j.step == "rollback" && j.mark == "end" && j.outcome == "ok")
    );
    let history = f
        .api
        .rollouts()
        .history(ServerRef {
            name: "lab-0012".into(),
        })
        .await
        .unwrap();
    assert_eq!(history.current.unwrap().result, "rolled_back");
    drop(f);

    // Over the budget: 3 bad sites, 1 allowed → halted after the batch they are in.
    let f = fleet(12, 3, 0).await;
    let started = f
        .api
        .rollouts()
        .start(&f.operator, request(&f.task, one_phase(4, "1")))
        .await
        .unwrap();
    let end = finish(&f, &started.id).await;
    assert_eq!(end.state, "HALTED");
    assert!(
        end.reason.contains("failure budget spent"),
        "{}",
        end.reason
    );
    assert_eq!(
        end.counts.get("PENDING"),
        None,
        "the last batch held the bad sites"
    );
    assert_eq!(task_status(&f).await, TaskStatus::Failed);
}

#[tokio::test]
async fn a_two_server_site_never_has_both_servers_down_and_a_phase_rollback_undoes_it() {
    // Sites: lab-0001 (servers 0001+0002), lab-0003 (0003+0004), lab-0005, lab-0006 (bad).
    let f = fleet(6, 1, 2).await;
    let preview = f
        .api
        .rollouts()
        .preview(&f.operator, request(&f.task, one_phase(4, "4")))
        .await
        .unwrap();
    assert_eq!((preview.sites, preview.servers), (4, 6));
    assert!(
        preview
            .notes
            .iter()
            .any(|n| n.contains("one server at a time")),
        "{:?}",
        preview.notes
    );
    let mut plan = one_phase(4, "4");
    plan.phases[0].scope = "phase".into();
    let started = f
        .api
        .rollouts()
        .start(&f.operator, request(&f.task, plan))
        .await
        .unwrap();
    let end = finish(&f, &started.id).await;
    // lab-0006 fails its health → the phase is rolled back, the rollout halts.
    assert_eq!(end.state, "HALTED", "{}", end.reason);
    assert!(end.reason.contains("phase"), "{}", end.reason);
    for site in &f.lab.0.sites {
        assert_eq!(version_of(&f.lab.0, &site.name), "1.0.0", "{}", site.name);
    }
    // On the two-server site, the second server's change began only after the first one
    // was healthy again.
    let pair = site_detail(&f, started.id.clone(), "lab-0001").await;
    assert_eq!(pair.servers, ["lab-0001", "lab-0002"]);
    let seq = |server: &str, step: &str, mark: &str| {
        pair.journal
            .iter()
            .find(|j| j.server == server && j.step == step && j.mark == mark)
            .map(|j| j.seq)
            .unwrap_or_else(|| panic!("{server} {step} {mark}: {:?}", pair.journal))
    };
    assert!(seq("lab-0001", "post-check", "end") < seq("lab-0002", "backup", "begin"));
    assert_eq!(pair.state, "ROLLED_BACK");
}

#[tokio::test]
async fn an_artifact_that_differs_from_the_approved_manifest_is_refused() {
    let f = fleet(2, 0, 0).await;
    let db = f.data.path().join("guardia.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE package_files SET content = ?1 WHERE path = 'artifacts/web/notice.jsp'")
        .bind(b"<% evil %>".to_vec())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let refused = f
        .api
        .rollouts()
        .start(&f.operator, request(&f.task, one_phase(2, "1")))
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("notice.jsp")
            || refused.to_string().contains("altered")
            || refused.to_string().contains("tamper"),
        "{refused}"
    );
    assert_eq!(task_status(&f).await, TaskStatus::ReadyToRollOut);
    assert!(f.api.rollouts().list().await.unwrap().is_empty());
    for site in &f.lab.0.sites {
        assert!(!site.deploy_dir().join("web/notice.jsp").exists());
    }
}

/// The lab processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(marker)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Waits (checking every 50 ms, at most `limit`) until `ok()` holds.
async fn until(limit: std::time::Duration, mut ok: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if ok() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ok()
}

/// Makes every site's startup script hang (a restart that never ends) with a marker.
fn hang_startup(lab: &Manifest, marker: &str) -> Vec<(std::path::PathBuf, String)> {
    lab.sites
        .iter()
        .map(|s| {
            let path = s.app_dir().join("startup.sh");
            let before = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, format!("#!/bin/sh\nsleep {marker}\n")).unwrap();
            (path, before)
        })
        .collect()
}

#[tokio::test]
async fn the_kill_switch_stops_remote_work_halts_and_needs_a_security_officer() {
    let f = fleet(6, 0, 0).await;
    let marker = "4711.25";
    let saved = hang_startup(&f.lab.0, marker);
    let started = f
        .api
        .rollouts()
        .start(&f.operator, request(&f.task, one_phase(6, "6")))
        .await
        .unwrap();
    // Every site's restart hangs on the server.
    assert!(
        until(std::time::Duration::from_secs(30), || processes_with(
            &format!("sleep {marker}")
        )
        .len()
            == 6)
        .await,
        "the restarts did not start"
    );
    let pressed = std::time::Instant::now();
    let view = f
        .api
        .rollouts()
        .press(
            &f.operator,
            KillSwitchInput {
                reason: "HTTP 502 on the canaries".into(),
            },
        )
        .await
        .unwrap();
    assert!(view.engaged);
    assert!(
        until(std::time::Duration::from_secs(5), || processes_with(
            &format!("sleep {marker}")
        )
        .is_empty())
        .await,
        "remote processes survived the kill switch"
    );
    let gone = pressed.elapsed();
    let end = finish(&f, &started.id).await;
    assert_eq!(end.state, "HALTED", "{}", end.reason);
    assert_eq!(end.counts.get("UNCERTAIN"), Some(&6), "{:?}", end.counts);
    assert_eq!(task_status(&f).await, TaskStatus::Halted);
    eprintln!(
        "kill switch: last remote process gone {} ms after the press",
        gone.as_millis()
    );

    // Locked: nothing that changes a server starts, not even by an operator.
    let resume = f
        .api
        .rollouts()
        .control(&f.operator, action(&started.id, "resume"))
        .await
        .unwrap_err();
    assert!(resume.to_string().contains("kill switch"), "{resume}");
    let refused = f
        .api
        .ssh_run_start(
            &f.operator,
            guardia_ipc::RunCommand {
                server: "lab-0001".into(),
                command: "true".into(),
                timeout_secs: Some(5),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), guardia_ipc::ErrorCode::Stopped);
    // Only a security officer re-arms, with a reason.
    let forbidden = f
        .api
        .invoke::<guardia_ipc::KillSwitchRearm>(
            &f.operator,
            KillSwitchInput {
                reason: "fixed".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(forbidden.code, guardia_ipc::ErrorCode::Forbidden);
    // A restart of the console does not re-arm it.
    let again =
        crate::support::api_with(f.data.path(), Arc::new(SystemClock), Arc::new(OsKeyring)).await;
    assert!(again.runtime().kill_switch().is_engaged());
    drop(again);
    f.api
        .rollouts()
        .rearm(
            &f.security,
            KillSwitchInput {
                reason: "cause found: the startup script hung".into(),
            },
        )
        .await
        .unwrap();
    // The operator chooses: roll back what was touched.
    for (path, before) in saved {
        std::fs::write(path, before).unwrap();
    }
    let mut back = action(&started.id, "rollback");
    back.scope = "all".into();
    f.api.rollouts().control(&f.operator, back).await.unwrap();
    let end = finish(&f, &started.id).await;
    assert_eq!(end.state, "ROLLED_BACK", "{} {:?}", end.reason, end.counts);
    assert_eq!(task_status(&f).await, TaskStatus::RolledBack);
    for site in &f.lab.0.sites {
        assert_eq!(version_of(&f.lab.0, &site.name), "1.0.0");
    }
}

#[tokio::test]
async fn a_connection_lost_mid_step_leaves_the_site_uncertain() {
    let f = fleet(2, 0, 0).await;
    let marker = "4712.5";
    let saved = hang_startup(&f.lab.0, marker);
    let started = f
        .api
        .rollouts()
        .start(&f.operator, request(&f.task, one_phase(2, "2")))
        .await
        .unwrap();
    assert!(
        until(std::time::Duration::from_secs(30), || processes_with(
            &format!("sleep {marker}")
        )
        .len()
            == 2)
        .await
    );
    // Cut the SSH connections: kill the sshd session processes above the hanging commands.
    for pid in processes_with(&format!("sleep {marker}")) {
        let mut p = pid;
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let ppid: u32 = stat
                .rsplit(") ")
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|x| x.parse().ok())
                .unwrap_or(1);
            let cmd = std::fs::read(format!("/proc/{ppid}/cmdline")).unwrap_or_default();
            if ppid <= 1 {
                break;
            }
            if String::from_utf8_lossy(&cmd).starts_with("sshd: ") {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &ppid.to_string()])
                    .status();
                break;
            }
            p = ppid;
        }
    }
    let end = finish(&f, &started.id).await;
    assert_eq!(
        end.counts.get("UNCERTAIN"),
        Some(&2),
        "{:?} {}",
        end.counts,
        end.reason
    );
    let site = site_detail(&f, started.id.clone(), "lab-0001").await;
    assert!(
        site.journal
            .iter()
            .any(|j| j.step == "restart" && j.mark == "end" && j.outcome == "unknown"),
        "{:?}",
        site.journal
    );
    assert!(
        !site
            .journal
            .iter()
            .any(|j| j.step == "post-check" && j.outcome == "ok")
    );
    for (path, before) in saved {
        std::fs::write(path, before).unwrap();
    }
    for pid in processes_with(&format!("sleep {marker}")) {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
}

/// The `guardia` binary next to this test binary (`cargo build --all-targets` built it).
fn guardia_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("guardia");
    assert!(bin.exists(), "build the CLI first: {}", bin.display());
    bin
}

#[tokio::test]
async fn kill_dash_nine_mid_rollout_then_restart_leaves_every_site_known_and_runs_nothing_twice() {
    let f = fleet(15, 0, 0).await;
    // Sites 11–15 hang in their restart: the console is killed while they run.
    let marker = "4713.75";
    let hanging: Vec<_> = f.lab.0.sites[10..]
        .iter()
        .map(|s| {
            let path = s.app_dir().join("startup.sh");
            let before = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, format!("#!/bin/sh\nsleep {marker}\n")).unwrap();
            (path, before)
        })
        .collect();
    let plan = f.data.path().join("plan.json");
    std::fs::write(
        &plan,
        serde_json::to_string(&PlanInput {
            phases: vec![
                phase(
                    "first",
                    "list:lab-0001,lab-0002,lab-0003,lab-0004,lab-0005,lab-0006,lab-0007,lab-0008,lab-0009,lab-0010",
                    5,
                    "soak:0",
                    "site",
                ),
                phase("rest", "rest", 5, "", "site"),
            ],
            budget: "15".into(),
            soak_seconds: Some(0),
        })
        .unwrap(),
    )
    .unwrap();
    let mut console = std::process::Command::new(guardia_bin())
        .arg("--data-dir")
        .arg(f.data.path())
        .args([
            "--user",
            "song.operator",
            "rollout",
            "start",
            &f.task,
            "--plan",
        ])
        .arg(&plan)
        .env("GUARDIA_PASSWORD", "long enough password 1")
        .env_remove("GUARDIA_DATA_DIR")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(f.data.path().join("cli.log")).unwrap())
        .spawn()
        .unwrap();
    assert!(
        until(std::time::Duration::from_secs(60), || processes_with(
            &format!("sleep {marker}")
        )
        .len()
            == 5)
        .await,
        "the second phase's restarts did not start: {}",
        std::fs::read_to_string(f.data.path().join("cli.log")).unwrap_or_default()
    );
    console.kill().unwrap(); // SIGKILL
    console.wait().unwrap();

    // The console starts again: the rollout is INTERRUPTED, each site in a known state.
    let found = f.api.rollouts().recover(&f.operator).await.unwrap();
    assert_eq!(found.len(), 1);
    let id = found[0].clone();
    let v = view(&f, &id).await;
    assert_eq!(v.state, "INTERRUPTED");
    assert_eq!(v.counts.get("DONE"), Some(&10), "{:?}", v.counts);
    assert_eq!(v.counts.get("UNCERTAIN"), Some(&5), "{:?}", v.counts);
    assert_eq!(v.counts.get("RUNNING"), None);
    for pid in processes_with(&format!("sleep {marker}")) {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    for (path, before) in hanging {
        std::fs::write(path, before).unwrap();
    }
    // Resume: nothing is retried by itself — the uncertain sites stay as they are.
    f.api
        .rollouts()
        .control(&f.operator, action(&id, "resume"))
        .await
        .unwrap();
    let end = finish(&f, &id).await;
    assert_eq!(end.state, "COMPLETED", "{}", end.reason);
    assert_eq!(end.counts.get("UNCERTAIN"), Some(&5));
    // Nothing ran twice: every step of every server began at most once.
    for site in &f.lab.0.sites {
        let d = site_detail(&f, id.clone(), site.name.clone()).await;
        let mut begun = std::collections::BTreeMap::new();
        for j in d.journal.iter().filter(|j| j.mark == "begin") {
            *begun.entry(j.step.clone()).or_insert(0) += 1;
        }
        assert!(begun.values().all(|n| *n == 1), "{}: {begun:?}", site.name);
    }
    let run = f
        .api
        .audit_verify_now(
            &who(),
            guardia_api::VerifyTrigger::Manual,
            &tokio_util::sync::CancellationToken::new(),
            &|_, _| {},
        )
        .await
        .unwrap();
    assert!(run.ok, "{run:?}");
}

/// A key pair and self-signed certificate for `cn`, made with the machine's openssl.
fn tls_pair(dir: &Path, cn: &str) -> (String, Vec<u8>) {
    let (key, cert) = (dir.join(format!("{cn}.key")), dir.join(format!("{cn}.crt")));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "30", "-subj", &format!("/CN={cn}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    (
        std::fs::read_to_string(key).unwrap(),
        std::fs::read(cert).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_rollout_installs_the_key_from_the_keyring_and_nowhere_else() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let certs = tempfile::tempdir().unwrap();
    let (old_key, old_cert) = tls_pair(certs.path(), "old.lab");
    let (new_key, new_cert) = tls_pair(certs.path(), "new.lab");
    let f = crate::rollout_fleet::fleet_with(
        2,
        0,
        0,
        crate::rollout_fleet::FleetOptions {
            sub_type: "certificate-replace",
            files: vec![("artifacts/tls/server.crt".into(), new_cert.clone())],
            ..Default::default()
        },
    )
    .await;
    // Each site serves TLS with its current key and certificate (openssl s_server as the
    // service, on the site's own address).
    let port = 18_443;
    for s in &f.lab.0.sites {
        let tls = s.deploy_dir().join("tls");
        std::fs::create_dir_all(&tls).unwrap();
        std::fs::write(tls.join("server.crt"), &old_cert).unwrap();
        std::fs::write(tls.join("server.key"), &old_key).unwrap();
        std::fs::set_permissions(
            tls.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        // Owned by the site's account (the lab's SSH user), as on a real server.
        let owner = std::fs::metadata(s.deploy_dir()).unwrap();
        for p in [tls.clone(), tls.join("server.crt"), tls.join("server.key")] {
            std::os::unix::fs::chown(&p, Some(owner.uid()), Some(owner.gid())).unwrap();
        }
        std::fs::write(
            s.app_dir().join("startup.sh"),
            format!(
                "#!/bin/sh\ncd \"$(dirname \"$0\")\" || exit 1\n\
                 setsid openssl s_server -quiet -www -accept {addr}:{port} \
                 -cert {tls}/server.crt -key {tls}/server.key </dev/null >/dev/null 2>&1 &\n\
                 echo $! > app.pid\necho started\n",
                addr = s.address,
                tls = tls.display()
            ),
        )
        .unwrap();
    }
    let params = |credential: &str| {
        [
            ("key_credential".to_owned(), credential.to_owned()),
            ("tls_port".to_owned(), port.to_string()),
        ]
        .into_iter()
        .collect()
    };
    let plan = PlanInput {
        phases: vec![phase("all", "rest", 2, "", "site")],
        budget: "0".into(),
        soak_seconds: Some(0),
    };
    // Named key not in the keyring as a TLS key: the preview says so, nothing starts.
    let mut req = request(&f.task, plan.clone());
    req.params = params("lab-key");
    let preview = f
        .api
        .rollouts()
        .preview(&f.operator, req.clone())
        .await
        .unwrap();
    assert!(
        preview
            .blockers
            .iter()
            .any(|b| b.contains("`lab-key` is a key, not a TLS private key")),
        "{:?}",
        preview.blockers
    );
    assert!(f.api.rollouts().start(&f.operator, req).await.is_err());

    // The new key goes into the keyring; the rollout takes it from there.
    let admin = person("admin", Role::Admin);
    f.api
        .credential_set(
            &admin,
            guardia_ipc::CredentialInput {
                name: "site-tls".into(),
                kind: guardia_ipc::CredentialKindView::TlsKey,
                secret: new_key.clone(),
                passphrase: None,
            },
        )
        .await
        .unwrap();
    let mut req = request(&f.task, plan);
    req.params = params("site-tls");
    let started = f.api.rollouts().start(&f.operator, req).await.unwrap();
    let end = finish(&f, &started.id).await;
    let first = site_detail(&f, started.id.clone(), f.lab.0.sites[0].name.clone()).await;
    assert_eq!(end.state, "COMPLETED", "{} {:?}", end.reason, first.journal);
    assert_eq!(end.counts.get("DONE"), Some(&2), "{:?}", end.counts);
    for s in &f.lab.0.sites {
        let tls = s.deploy_dir().join("tls");
        assert_eq!(std::fs::read(tls.join("server.crt")).unwrap(), new_cert);
        assert_eq!(
            std::fs::read_to_string(tls.join("server.key")).unwrap(),
            new_key
        );
        let mode = std::fs::metadata(tls.join("server.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", s.name);
        // The post-check read the certificate the server serves: the new one.
        let d = site_detail(&f, started.id.clone(), s.name.clone()).await;
        assert!(
            d.journal
                .iter()
                .any(|j| j.step == "stage" && j.detail.contains("1 key(s) from the keyring")),
            "{:?}",
            d.journal
        );
    }
    // The key is nowhere in the database (nor its WAL): only the keyring and the servers.
    let body: String = new_key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let probe = &body[..32];
    for name in ["guardia.db", "guardia.db-wal"] {
        let path = f.data.path().join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(probe),
                "the TLS key leaked into {name}"
            );
        }
    }
    for s in &f.lab.0.sites {
        if let Ok(pid) = std::fs::read_to_string(s.app_dir().join("app.pid")) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
    }
}
