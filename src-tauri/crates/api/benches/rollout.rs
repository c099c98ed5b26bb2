//! Rollout speed against the lab (issue 12), compared in the same run with the lab floor and
//! Ansible.
//!
//! `cargo bench -p guardia-api --bench rollout -- [SITES…] [ansible]` (scripts/bench/rollout.sh;
//! default 100 1000): per size, a lab of SITES sites (2 % of them `--bad`: they fail health
//! after the change and are rolled back), a task whose approved package carries a 1 MiB
//! artifact, and the built-in `deploy-artifact` playbook under the default plan (canary 1 %
//! → 9 % → the rest in batches of 50; the soak set to 0, the manual gate before tier-1 sites
//! opened at once). Printed: wall time, this process's own CPU per site, journal transactions.
//! Then, on the same lab: the floor (`scripts/bench/floor.sh`: scp + ssh + curl per site,
//! 50 in parallel) and, with `ansible` at 100 sites, Ansible (`scripts/bench/ansible.sh`).
//! Last, the kill switch with every site mid-step: press → last remote process gone.
//!
//! Under `cargo test` (no `--bench`) it runs a 6-site smoke rollout so the code stays working.
//! Secrets come from the in-memory keyring (a named fake: the OS keyring is read once per
//! credential and is not what is measured); the health endpoint runs as its own process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/it/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../tests/it/rollout_fleet.rs"]
#[allow(dead_code)]
mod rollout_fleet;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use guardia_ipc::{
    KillSwitchInput, PhaseInput, PlanInput, RolloutAction, RolloutRef, RolloutRequest,
};
use guardia_secrets::MemoryKeyring;
use rollout_fleet::{Fleet, FleetOptions, fleet_with};

/// This process's own user+sys CPU, seconds (/proc/self/stat, USER_HZ = 100).
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<f64> = rest.split(' ').map(|x| x.parse().unwrap_or(0.0)).collect();
    (f[11] + f[12]) / 100.0
}

fn guardia_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("guardia");
    assert!(
        bin.exists(),
        "build the CLI first (cargo build --release -p guardia-cli): {}",
        bin.display()
    );
    bin
}

fn request(task: &str, plan: PlanInput) -> RolloutRequest {
    RolloutRequest {
        task: task.to_owned(),
        plan,
        params: Default::default(),
    }
}

/// Runs the rollout to its end, opening manual gates at once. Returns (state, counts).
async fn run(f: &Fleet, plan: PlanInput) -> (String, std::collections::BTreeMap<String, u32>) {
    let rollouts = f.api.rollouts();
    let started = rollouts
        .start(&f.operator, request(&f.task, plan))
        .await
        .unwrap();
    let mut feed = f.api.runtime().feed().subscribe();
    loop {
        let v = rollouts
            .get(
                &f.operator,
                RolloutRef {
                    id: started.id.clone(),
                },
            )
            .await
            .unwrap();
        if !v.live {
            return (v.state, v.counts);
        }
        if v.state == "WAITING_GATE" {
            let a = RolloutAction {
                id: v.id.clone(),
                action: "approve_gate".into(),
                scope: String::new(),
                site: String::new(),
                reason: String::new(),
            };
            rollouts.control(&f.operator, a).await.unwrap();
        }
        tokio::select! {
            _ = feed.recv() => {}
            () = rollouts.wait(&started.id) => {}
        }
    }
}

fn processes_with(marker: &str) -> usize {
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
        .count()
}

fn script(name: &str, args: &[&str]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../scripts/bench")
        .join(name);
    let out = std::process::Command::new("bash")
        .arg(path)
        .args(args)
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        println!("{name} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

async fn measure(sites: usize, ansible: bool) {
    let bad = (sites / 50).max(1);
    let setup = Instant::now();
    let f = fleet_with(
        sites,
        bad,
        0,
        FleetOptions {
            secrets: Arc::new(MemoryKeyring::default()),
            artifact_bytes: Some(1 << 20),
            health_process: Some(guardia_bin()),
        },
    )
    .await;
    println!(
        "rollout: {sites} lab sites ({bad} bad), 1 MiB artifact; set up in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let writer_before = f.api.rollouts().journal_commits();
    let (c0, t0) = (cpu(), Instant::now());
    let (state, counts) = run(
        &f,
        PlanInput {
            soak_seconds: Some(0),
            ..PlanInput::default()
        },
    )
    .await;
    let (wall, own) = (t0.elapsed().as_secs_f64(), cpu() - c0);
    let (commits, writes) = f.api.rollouts().journal_commits();
    println!(
        "guardia: {sites} sites in {wall:.1} s ({state} {counts:?}); console CPU {:.2} ms/site; \
         journal {} writes in {} transactions",
        own * 1000.0 / sites as f64,
        writes - writer_before.1,
        commits - writer_before.0
    );
    // The same lab, the same artifact: the floor and (at 100 sites) Ansible.
    let artifact = f.data.path().join("app.war");
    let bytes = guardia_package::corpus::read_folder(&f.data.path().join("pkg"))
        .unwrap()
        .remove("artifacts/app.war")
        .unwrap();
    std::fs::write(&artifact, bytes).unwrap();
    let root = f.lab.0.root.display().to_string();
    script("floor.sh", &[&root, artifact.to_str().unwrap(), "50"]);
    if ansible {
        script("ansible.sh", &[&root, artifact.to_str().unwrap()]);
    }
    drop(f);

    // The kill switch with every site mid-step.
    let f = fleet_with(
        sites,
        0,
        0,
        FleetOptions {
            secrets: Arc::new(MemoryKeyring::default()),
            artifact_bytes: None,
            health_process: Some(guardia_bin()),
        },
    )
    .await;
    let marker = format!("{}.5", 5000 + sites);
    for s in &f.lab.0.sites {
        std::fs::write(
            s.app_dir().join("startup.sh"),
            format!("#!/bin/sh\nsleep {marker}\n"),
        )
        .unwrap();
    }
    let plan = PlanInput {
        phases: vec![PhaseInput {
            name: "all".into(),
            select: "rest".into(),
            window: sites,
            gate: String::new(),
            scope: "site".into(),
        }],
        budget: sites.to_string(),
        soak_seconds: Some(0),
    };
    let started = f
        .api
        .rollouts()
        .start(&f.operator, request(&f.task, plan))
        .await
        .unwrap();
    let wanted = format!("sleep {marker}");
    let deadline = Instant::now() + Duration::from_secs(600);
    while processes_with(&wanted) < sites && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mid = processes_with(&wanted);
    let pressed = Instant::now();
    f.api
        .rollouts()
        .press(
            &f.operator,
            KillSwitchInput {
                reason: "bench".into(),
            },
        )
        .await
        .unwrap();
    let answered = pressed.elapsed();
    while processes_with(&wanted) > 0 && pressed.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let gone = pressed.elapsed();
    f.api.rollouts().wait(&started.id).await;
    let halted = pressed.elapsed();
    println!(
        "kill switch: {mid} sites mid-step; press answered in {} ms, last remote process gone after {} ms \
         ({} left), every rollout HALTED after {} ms",
        answered.as_millis(),
        gone.as_millis(),
        processes_with(&wanted),
        halted.as_millis()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if !full {
        // Smoke: a 6-site rollout with one bad site completes, the bad one rolled back.
        rt.block_on(async {
            let f = fleet_with(
                6,
                1,
                0,
                FleetOptions {
                    secrets: Arc::new(MemoryKeyring::default()),
                    artifact_bytes: Some(64 * 1024),
                    health_process: None,
                },
            )
            .await;
            let (state, counts) = run(
                &f,
                PlanInput {
                    soak_seconds: Some(0),
                    budget: "1".into(),
                    ..PlanInput::default()
                },
            )
            .await;
            assert_eq!(state, "COMPLETED", "{counts:?}");
            assert_eq!(counts.get("ROLLED_BACK"), Some(&1), "{counts:?}");
            println!("rollout smoke: 6 sites, {counts:?}");
        });
        return;
    }
    let ansible = args.iter().any(|a| a == "ansible");
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![100, 1000];
    }
    for n in sizes {
        rt.block_on(measure(n, ansible && n <= 100));
    }
}
