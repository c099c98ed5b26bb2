//! A rollout in the real window (issue 12): from a task whose result is approved, the
//! operator previews the plan and starts it on the lab; the board fills as sites finish and
//! stops at the manual gate before the tier-1 sites; the operator presses the kill switch —
//! the banner shows on every screen and the rollout is HALTED; a security officer re-arms.

use std::path::{Path, PathBuf};

use guardia_e2e::{Console, Driver, cli_as};
use guardia_package::corpus;

const PW: &str = "a long demo password 1";

fn guardia(data: &Path, user: Option<&str>, args: &[&str]) -> String {
    cli_as(data, user, PW, args)
}

/// A lab beside the data directory, adopted by the console's database; stopped on drop.
struct Lab {
    root: PathBuf,
    data: PathBuf,
    _beside: tempfile::TempDir,
}

impl Drop for Lab {
    fn drop(&mut self) {
        guardia(
            &self.data,
            None,
            &["lab", "down", "--root", self.root.to_str().unwrap()],
        );
    }
}

/// People, a lab of `sites` sites adopted by the data directory `d`, and a task whose result
/// package (the example) is approved: READY_TO_ROLL_OUT. Returns the lab and the task's id.
fn ready_task(d: &Path, sites: usize) -> (Lab, String) {
    let admin = Some("admin");
    guardia(d, None, &["user", "add", "admin", "--role", "admin"]);
    for (name, role) in [
        ("kim.minji", "requester"),
        ("lee.teamlead", "team_lead"),
        ("oh.pm", "pm"),
        ("song.operator", "operator"),
        ("bae.security", "security_officer"),
    ] {
        guardia(d, admin, &["user", "add", name, "--role", role]);
    }
    let beside = tempfile::tempdir().unwrap();
    let lab = Lab {
        root: beside.path().join("lab"),
        data: d.to_owned(),
        _beside: beside,
    };
    guardia(
        d,
        admin,
        &[
            "lab",
            "up",
            "--sites",
            &sites.to_string(),
            "--root",
            lab.root.to_str().unwrap(),
        ],
    );
    guardia(d, admin, &["system", "owner", "lab-app", "lee.teamlead"]);
    let id = guardia(
        d,
        Some("kim.minji"),
        &[
            "task",
            "create",
            "--title",
            "공지사항 제목 이스케이프",
            "--category",
            "DEPLOY",
            "--sub-type",
            "web-fix",
            "--system",
            "lab-app",
        ],
    )
    .trim()
    .to_owned();
    guardia(d, Some("kim.minji"), &["task", "submit", &id]);
    guardia(
        d,
        Some("lee.teamlead"),
        &["task", "approve", &id, "--comment", "go"],
    );
    let pkg = d.join("incoming/v1");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packages/notice-fix/v2");
    let mut files = corpus::read_folder(&fixture).unwrap();
    files.remove("manifest.json");
    for (path, bytes) in files {
        let target = pkg.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let pkg = pkg.to_str().unwrap();
    guardia(
        d,
        None,
        &["package", "seal", pkg, "--task", &id, "--version", "1"],
    );
    guardia(d, Some("oh.pm"), &["package", "import", pkg, "--task", &id]);
    guardia(
        d,
        Some("oh.pm"),
        &["package", "decide", &id, "approve", "--comment", "ok"],
    );

    (lab, id)
}

/// Signs in as the operator, opens the task's page and its "Start rollout", sets the soak to
/// 0 and previews: the plan shows, not blocked.
async fn preview_from_task(ui: &Console, id: &str) {
    ui.click("[data-test=signin-lang-en]").await;
    ui.sign_in("song.operator", PW).await;
    // The task's page offers the rollout.
    ui.click(&format!(
        "[data-test=task-row][data-id='{id}'] [data-test=open-task]"
    ))
    .await;
    ui.click("[data-test=roll-out-from-task]").await;
    ui.find("[data-test=page-rollouts]").await;
    ui.set_value("[data-test=rollout-soak]", "0").await;
    ui.click("[data-test=rollout-preview]").await;
    ui.wait_for_attr("[data-test=rollout-plan]", "data-blocked", "false")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_starts_a_rollout_watches_the_board_and_stops_everything() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let (lab, id) = ready_task(d, 12);
    let driver = Driver::start();
    let ui = driver.launch(d).await;
    preview_from_task(&ui, &id).await;
    assert_eq!(ui.all("[data-test=preview-phase]").await.len(), 3);
    ui.screenshot("rollout-preview").await;
    ui.click("[data-test=rollout-start]").await;

    // The board fills without a click, and stops at the gate before tier-1 sites.
    ui.find("[data-test=site-grid]").await;
    assert_eq!(ui.all("[data-test=site-cell]").await.len(), 12);
    ui.wait_for_attr("[data-test=board-head]", "data-state", "WAITING_GATE")
        .await;
    assert_eq!(
        ui.all("[data-test=site-cell][data-state=DONE]").await.len(),
        3
    );
    ui.screenshot("rollout-board-gate").await;

    // The kill switch: reason, confirm; the banner; the rollout HALTED.
    ui.click("[data-test=kill-switch]").await;
    ui.type_into("[data-test=kill-reason]", "HTTP 502 on the canaries")
        .await;
    ui.click("[data-test=kill-confirm]").await;
    ui.wait_for_text_containing("[data-test=kill-by]", "HTTP 502 on the canaries")
        .await;
    ui.wait_for_attr("[data-test=board-head]", "data-state", "HALTED")
        .await;
    ui.wait_gone("[data-test=kill-switch]").await;
    // Every screen shows it.
    ui.click("[data-test=nav-tasks]").await;
    ui.find("[data-test=kill-banner]").await;
    // An operator cannot re-arm.
    assert!(ui.all("[data-test=rearm]").await.is_empty());
    ui.screenshot("kill-switch-engaged").await;

    // A security officer re-arms, with a reason.
    ui.sign_out().await;
    ui.sign_in("bae.security", PW).await;
    ui.type_into("[data-test=rearm-reason]", "cause found; fixed in v2")
        .await;
    ui.click("[data-test=rearm]").await;
    ui.wait_gone("[data-test=kill-banner]").await;
    ui.find("[data-test=kill-switch]").await;
    ui.quit().await;
    let status = guardia(d, Some("song.operator"), &["rollout", "status"]);
    assert!(status.contains("HALTED"), "{status}");
    drop(lab);
}

/// The console's resident memory, KiB: its own process and the WebKit processes it started
/// (the web and network processes draw the board).
fn console_rss_kib(data: &Path) -> u64 {
    let procs: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat[stat.rfind(')')? + 2..]
                .split(' ')
                .nth(1)?
                .parse()
                .ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            Some((pid, ppid, String::from_utf8_lossy(&cmd).replace('\0', " ")))
        })
        .collect();
    let data = data.display().to_string();
    let Some(console) = procs
        .iter()
        .find(|(_, _, c)| c.contains("guardia-console") && c.contains(&data))
        .map(|p| p.0)
    else {
        return 0;
    };
    procs
        .iter()
        .filter(|(pid, ppid, _)| *pid == console || *ppid == console)
        .filter_map(|(pid, _, _)| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}

/// The board with many sites (a benchmark, not a test: `scripts/bench/board.sh`, default
/// 1,000 sites): the console's RSS (with its WebKit processes) sampled through the rollout,
/// and the window's frame times (requestAnimationFrame intervals) while every site updates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench/board.sh"]
async fn board_at_scale() {
    let sites: usize = std::env::var("GUARDIA_BOARD_SITES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_owned();
    let (lab, id) = ready_task(&d, sites);
    let driver = Driver::start();
    let ui = driver.launch(&d).await;
    preview_from_task(&ui, &id).await;
    let idle = console_rss_kib(&d);
    ui.click("[data-test=rollout-start]").await;
    ui.find("[data-test=site-grid]").await;
    ui.client
        .execute(
            "window.__frames = []; window.__framesOn = true; let last = performance.now(); \
             const tick = (t) => { window.__frames.push(t - last); last = t; \
             if (window.__framesOn) requestAnimationFrame(tick); }; requestAnimationFrame(tick);",
            vec![],
        )
        .await
        .unwrap();
    // RSS sampled while the rollout runs.
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = {
        let (d, peak) = (d.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                peak.fetch_max(console_rss_kib(&d), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        })
    };
    let started = std::time::Instant::now();
    let long = std::time::Duration::from_secs(900);
    let mut gates = 0;
    loop {
        let head = ui
            .client
            .wait()
            .at_most(long)
            .for_element(fantoccini::Locator::Css(
                "[data-test=board-head]:not([data-state=RUNNING])",
            ))
            .await
            .unwrap();
        let state = head.attr("data-state").await.unwrap().unwrap_or_default();
        if state == "WAITING_GATE" {
            ui.click("[data-test=rollout-gate]").await;
            gates += 1;
            ui.client
                .wait()
                .at_most(long)
                .for_element(fantoccini::Locator::Css(
                    "[data-test=board-head]:not([data-state=WAITING_GATE])",
                ))
                .await
                .unwrap();
            continue;
        }
        if state != "PAUSED" {
            break;
        }
    }
    let wall = started.elapsed();
    let stats = ui
        .client
        .execute(
            "window.__framesOn = false; const f = window.__frames.slice(1).sort((a, b) => a - b); \
             const at = (q) => f[Math.min(f.length - 1, Math.floor(q * f.length))]; \
             return JSON.stringify({frames: f.length, p50: at(0.5), p95: at(0.95), \
             p99: at(0.99), max: f[f.length - 1], over50: f.filter((x) => x > 50).length});",
            vec![],
        )
        .await
        .unwrap();
    let end = console_rss_kib(&d);
    sampling.abort();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed).max(end);
    let cells = ui.all("[data-test=site-cell]").await.len();
    println!(
        "board: {sites} sites ({cells} cells), rollout ended in {:.1} s through {gates} gate(s); \
         console RSS (with its WebKit processes): {} MiB before the start, peak {} MiB, {} MiB \
         at the end; frame times (ms) {}",
        wall.as_secs_f64(),
        idle / 1024,
        peak / 1024,
        end / 1024,
        stats.as_str().unwrap_or_default()
    );
    ui.screenshot("rollout-board-1000").await;
    ui.quit().await;
    drop(lab);
}
