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
    pids_with(marker).len()
}

fn pids_with(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| runs(*pid, marker))
        .collect()
}

/// Whether `pid` is a live process (not a zombie) whose command line contains `marker`.
fn runs(pid: u32, marker: &str) -> bool {
    let live = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with(|c| c != 'Z')))
        .unwrap_or(false);
    live && std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| {
            String::from_utf8_lossy(&c)
                .replace('\0', " ")
                .contains(marker)
        })
        .unwrap_or(false)
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

async fn measure(sites: usize, ansible: bool, kill_only: bool) {
    if !kill_only {
        measure_speed(sites, ansible).await;
    }
    measure_kill(sites).await;
}

async fn measure_speed(sites: usize, ansible: bool) {
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
            ..FleetOptions::default()
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
    // GUARDIA_BENCH_KEEP=DIR keeps the database (journal timings: scripts/bench/steps.py).
    if let Some(dir) = std::env::var_os("GUARDIA_BENCH_KEEP") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["guardia.db", "guardia.db-wal"] {
            let from = f.data.path().join(name);
            if from.exists() {
                std::fs::copy(&from, dir.join(format!("{sites}-{name}"))).unwrap();
            }
        }
    }
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
}

/// The kill switch with every site mid-step.
async fn measure_kill(sites: usize) {
    let f = fleet_with(
        sites,
        0,
        0,
        FleetOptions {
            secrets: Arc::new(MemoryKeyring::default()),
            artifact_bytes: None,
            health_process: Some(guardia_bin()),
            ..FleetOptions::default()
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
    // Watch the processes found before the press (a full /proc scan takes seconds at this
    // size while the sites stop; these few reads do not): one is gone once it has exited (a
    // zombie waiting for init counts as gone) or its pid carries something else.
    let mut watched = pids_with(&wanted);
    let mid = watched.len();
    // When the rollout's recorded state turns HALTED (the board shows it), seen on the feed.
    let halted_at = {
        let api = f.api.clone();
        let who = f.operator.clone();
        let id = started.id.clone();
        let mut feed = api.runtime().feed().subscribe();
        tokio::spawn(async move {
            loop {
                let v = api
                    .rollouts()
                    .get(&who, RolloutRef { id: id.clone() })
                    .await
                    .unwrap();
                if v.state == "HALTED" {
                    return Instant::now();
                }
                if feed.recv().await.is_err() {
                    return Instant::now();
                }
            }
        })
    };
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
    let mut timeline = Vec::new();
    loop {
        watched.retain(|pid| runs(*pid, &wanted));
        if timeline.last().is_none_or(|(_, l)| *l != watched.len()) {
            timeline.push((pressed.elapsed().as_millis(), watched.len()));
        }
        if watched.is_empty() || pressed.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if std::env::var_os("GUARDIA_BENCH_TIMELINE").is_some() {
        println!("  processes left (ms, count): {timeline:?}");
    }
    let gone = pressed.elapsed();
    f.api.rollouts().wait(&started.id).await;
    let halted = halted_at.await.unwrap().duration_since(pressed);
    let ended = pressed.elapsed();
    println!(
        "kill switch: {mid} sites mid-step; press answered in {} ms, last remote process gone after {} ms \
         ({} left), rollout HALTED after {} ms, every stop confirmed and the run ended after {} ms",
        answered.as_millis(),
        gone.as_millis(),
        processes_with(&wanted),
        halted.as_millis(),
        ended.as_millis()
    );
    survivors(&wanted);
}

/// Prints what is left of the processes the kill switch should have stopped (pid, parent,
/// group, state), so a miss can be told apart from a slow stop.
fn survivors(marker: &str) {
    for pid in std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
    {
        let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if !String::from_utf8_lossy(&c)
            .replace('\0', " ")
            .contains(marker)
        {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        println!(
            "  left: {pid} {}",
            &stat[stat.rfind(')').map_or(0, |i| i + 2)..]
        );
    }
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
                    ..FleetOptions::default()
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
    let kill_only = args.iter().any(|a| a == "kill");
    // Warnings (a stop not confirmed, a kill that could not run) go to stderr: GUARDIA_LOG.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GUARDIA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![100, 1000];
    }
    for n in sizes {
        rt.block_on(measure(n, ansible && n <= 100, kill_only));
    }
}
