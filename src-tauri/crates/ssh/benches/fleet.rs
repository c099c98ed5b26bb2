//! What the console itself spends to reach a fleet, against the lab's real sshd.
//!
//! `cargo bench -p guardia-ssh --bench fleet -- [SITES] [CONCURRENCY] [UPLOAD_SITES] [UPLOAD_MB]`
//! (defaults 1000 100 50 10; scripts/bench/ssh.sh). Under `cargo test` it runs a small smoke
//! pass (20 sites, 5 × 1 MB, and a mixed fleet of 20) so the code stays working.
//!
//! `… -- mixed [SITES] [CONCURRENCY] [LEGACY_%] [DROPBEAR_%]` (defaults 1000 100 10 10): a
//! mixed fleet of the lab's profiles — OpenSSH, legacy OpenSSH (SHA-1 era, opted in, RSA key),
//! Dropbear — reached all at once, then each profile on its own, with wall time and console
//! CPU per site per profile.
//!
//! CPU is this process's own user+sys time from /proc/self/stat: the sshd processes (the
//! real bottleneck on 2 cores) are not ours and do not count. For an anchor, the same
//! connect + auth + `true` with OpenSSH's `ssh` client is measured (children's CPU) on a
//! sample, with its default key exchange and with curve25519.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use guardia_domain::command::{CommandContext, RemoteCommand};
use guardia_lab::{LabSpec, Manifest, Profile, ProfileCount};
use guardia_secrets::Sensitive;
use guardia_ssh::{ConnectOptions, Credential, ExecLimits, HostKey, SshSession, Target};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// (own user+sys, waited-for children user+sys), in seconds.
fn cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<f64> = rest.split(' ').map(|x| x.parse().unwrap_or(0.0)).collect();
    // After the state field: utime is field 14 of the line, i.e. index 11 here.
    let tick = 100.0; // USER_HZ on Linux
    ((f[11] + f[12]) / tick, (f[13] + f[14]) / tick)
}

fn target(m: &Manifest, i: usize) -> Target {
    Target {
        host: m.sites[i].address.to_string(),
        port: m.ssh_port,
        user: m.user.clone(),
    }
}

fn key(m: &Manifest) -> Arc<Credential> {
    Arc::new(Credential::Key {
        openssh: Sensitive::new(std::fs::read_to_string(m.client_key()).unwrap()),
        passphrase: None,
    })
}

/// Starts the lab, runs `work` on a multi-threaded runtime, and takes the lab down whatever
/// happens.
fn with_lab(spec: &LabSpec, what: &str, work: impl AsyncFnOnce(&Manifest)) {
    let started = Instant::now();
    let m = guardia_lab::up(spec).unwrap();
    println!(
        "{what}: {} sites on {} servers, up in {:.1} s",
        m.sites.len(),
        m.groups.len(),
        started.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(work(&m))));
    let down = guardia_lab::down(&m.root).unwrap();
    assert!(down.survivors.is_empty());
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// Connects to site `i`, offering the legacy algorithms to legacy sites.
async fn connect(m: &Manifest, i: usize, cred: &Credential) -> SshSession {
    let pin = HostKey::parse_openssh(m.host_key_of(&m.sites[i])).unwrap();
    let options = ConnectOptions {
        legacy_crypto: m.sites[i].profile == Profile::LegacyOpenssh,
        ..ConnectOptions::default()
    };
    SshSession::connect(
        &target(m, i),
        Some(&pin),
        cred,
        &options,
        &CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("{}: {e}", m.sites[i].name))
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    if std::env::args().any(|a| a == "mixed") {
        let numbers: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        let arg = |i: usize, default: usize| numbers.get(i).copied().unwrap_or(default);
        return mixed(arg(0, 1000), arg(1, 100), arg(2, 10), arg(3, 10));
    }
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (sites, concurrency, upload_sites, upload_mb) = if bench {
        (
            numbers.first().copied().unwrap_or(1000),
            numbers.get(1).copied().unwrap_or(100),
            numbers.get(2).copied().unwrap_or(50),
            numbers.get(3).copied().unwrap_or(10),
        )
    } else {
        (20, 10, 5, 1)
    };
    let dir = tempfile::tempdir().unwrap();
    with_lab(
        &LabSpec::new(dir.path().join("lab"), sites),
        "lab",
        async |m| {
            run(m, sites, concurrency, upload_sites, upload_mb).await;
            openssh_anchor(m, if bench { 20 } else { 3 });
        },
    );
    if !bench {
        // The mixed-fleet pass too, small.
        mixed(20, 10, 10, 10);
    }
}

async fn run(
    m: &Manifest,
    sites: usize,
    concurrency: usize,
    upload_sites: usize,
    upload_mb: usize,
) {
    let all: Vec<usize> = (0..sites).collect();
    let (wall, spent) = reach(m, &all, concurrency).await;
    let done = sites;
    let per_site_ms = spent * 1000.0 / done as f64;
    println!(
        "connect+auth+`true`: {done} sites, concurrency {concurrency}: wall {wall:.2} s, {:.1} connections/s, \
         console CPU {spent:.2} s = {per_site_ms:.2} ms/site (target ≤ 2 ms)",
        done as f64 / wall,
    );

    // Uploads: sessions first (not measured), then 50 parallel 10 MB uploads + sha256sum.
    let cred = key(m);
    let m = Arc::new(m.clone());
    let n = upload_sites.min(sites);
    let mut sessions = Vec::new();
    for i in 0..n {
        sessions.push(Arc::new(connect(&m, i, &cred).await));
    }
    let data: Arc<Vec<u8>> = Arc::new(
        (0..upload_mb * 1024 * 1024)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
            .collect(),
    );
    let (cpu0, _) = cpu();
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, s) in sessions.iter().enumerate() {
        let (s, data) = (s.clone(), data.clone());
        let path = m.sites[i]
            .deploy_dir()
            .join("bench.bin")
            .display()
            .to_string();
        tasks.spawn(async move {
            s.upload(
                &data,
                &path,
                Duration::from_secs(600),
                &CancellationToken::new(),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let wall = t0.elapsed().as_secs_f64();
    let (cpu1, _) = cpu();
    let mb = (n * upload_mb) as f64;
    println!(
        "SFTP upload {upload_mb} MB + sha256sum verify to {n} sites in parallel: wall {wall:.2} s, \
         {:.1} MB/s, console CPU {:.2} s ({:.1} ms/MB)",
        mb / wall,
        cpu1 - cpu0,
        (cpu1 - cpu0) * 1000.0 / mb
    );
}

/// OpenSSH's own client on the same sites, sequentially: CPU per connection.
fn openssh_anchor(m: &Manifest, sample: usize) {
    let known = m.known_hosts();
    for (label, kex) in [
        ("default kex", None),
        ("curve25519-sha256", Some("curve25519-sha256")),
    ] {
        let (_, child0) = cpu();
        let t0 = Instant::now();
        for i in 0..sample.min(m.sites.len()) {
            let mut c = Command::new("ssh");
            c.args([
                "-q",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known.display()))
            .arg("-i")
            .arg(m.client_key())
            .args(["-p", &m.ssh_port.to_string()]);
            if let Some(k) = kex {
                c.args(["-o", &format!("KexAlgorithms={k}")]);
            }
            let status = c
                .arg(format!("{}@{}", m.user, m.sites[i].address))
                .arg("true")
                .status()
                .unwrap();
            assert!(status.success());
        }
        let (_, child1) = cpu();
        println!(
            "anchor: OpenSSH ssh client, {label}: {:.1} ms CPU/connection ({sample} sequential, {:.0} ms wall each)",
            (child1 - child0) * 1000.0 / sample as f64,
            t0.elapsed().as_secs_f64() * 1000.0 / sample as f64
        );
    }
}

/// A fleet of mixed server profiles: `legacy_pct` % legacy OpenSSH, `dropbear_pct` % Dropbear,
/// the rest OpenSSH.
fn mixed(sites: usize, concurrency: usize, legacy_pct: usize, dropbear_pct: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = LabSpec::new(dir.path().join("lab"), sites);
    let legacy = sites * legacy_pct / 100;
    let dropbear = sites * dropbear_pct / 100;
    spec.profiles = vec![
        ProfileCount {
            profile: Profile::LegacyOpenssh,
            count: Some(legacy),
        },
        ProfileCount {
            profile: Profile::Dropbear,
            count: Some(dropbear),
        },
    ];
    println!(
        "mixed fleet: {} openssh, {legacy} legacy-openssh, {dropbear} dropbear",
        sites - legacy - dropbear
    );
    with_lab(&spec, "mixed lab", async |m| {
        // Sites in a fixed shuffled order, so the profiles are spread over the run as in
        // a real fleet (Dropbear takes only 5 unauthenticated connections per client
        // address at a time; a block of 100 Dropbear sites at once would hit that).
        let mut order: Vec<usize> = (0..sites).collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in (1..order.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let (wall, cpu) = reach(m, &order, concurrency).await;
        println!(
            "mixed fleet, all at once: {sites} sites at concurrency {concurrency}: wall {wall:.2} s, \
                 console CPU {cpu:.2} s = {:.2} ms/site",
            cpu * 1000.0 / sites as f64
        );
        for profile in [Profile::Openssh, Profile::LegacyOpenssh, Profile::Dropbear] {
            // Round-robin over the profile's server processes, so connections in flight
            // spread evenly over them.
            let mut of: Vec<usize> = (0..sites)
                .filter(|i| m.sites[*i].profile == profile)
                .collect();
            let mut seen = std::collections::HashMap::new();
            let mut rank = vec![0usize; sites];
            for &i in &of {
                let n = seen.entry(m.sites[i].group).or_insert(0usize);
                rank[i] = *n;
                *n += 1;
            }
            of.sort_by_key(|i| (rank[*i], m.sites[*i].group));
            if of.is_empty() {
                continue;
            }
            // Dropbear: about 3 connections in flight per Dropbear process (it serves 10
            // sites and refuses a 6th unauthenticated connection from one address).
            let servers = m.groups.iter().filter(|g| g.profile == profile).count();
            let gate = if profile == Profile::Dropbear {
                concurrency.min(3 * servers)
            } else {
                concurrency
            };
            let (wall, cpu) = reach(m, &of, gate).await;
            println!(
                "  {:<15} {:>5} sites at concurrency {gate:>3}: wall {wall:>6.2} s, \
                     console CPU {:.2} ms/site",
                profile.as_str(),
                of.len(),
                cpu * 1000.0 / of.len() as f64
            );
        }
    });
}

/// Connect + authenticate + `true` on `sites` (indices into the lab) at `concurrency`, each
/// profile with what it needs; returns (wall s, console CPU s).
async fn reach(m: &Manifest, sites: &[usize], concurrency: usize) -> (f64, f64) {
    let ed25519 = key(m);
    let rsa = if m.rsa_client_key().exists() {
        Arc::new(Credential::Key {
            openssh: Sensitive::new(std::fs::read_to_string(m.rsa_client_key()).unwrap()),
            passphrase: None,
        })
    } else {
        ed25519.clone()
    };
    let m = Arc::new(m.clone());
    let gate = Arc::new(Semaphore::new(concurrency));
    let truth = RemoteCommand::check("true", CommandContext::AdHoc).unwrap();
    let (cpu0, _) = cpu();
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for &i in sites {
        let legacy = m.sites[i].profile == Profile::LegacyOpenssh;
        let cred = if legacy { rsa.clone() } else { ed25519.clone() };
        let (m, gate, truth) = (m.clone(), gate.clone(), truth.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let s = connect(&m, i, &cred).await;
            let limits = ExecLimits {
                timeout: Duration::from_secs(60),
                max_kept_bytes: 1024,
            };
            let r = s
                .run(&truth, &limits, &CancellationToken::new())
                .await
                .unwrap();
            assert!(r.succeeded());
            s.close().await;
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let wall = t0.elapsed().as_secs_f64();
    let (cpu1, _) = cpu();
    (wall, cpu1 - cpu0)
}
