//! `guardia rollout …`, `guardia kill` and `guardia rearm`: the same `api.rollouts()`
//! operations the board and the kill-switch button call, with the same checks.
//!
//! `rollout start` runs the rollout in this process and follows it until it ends (or stops
//! at a gate, with `--detach`, or is halted). A rollout the console runs is steered from
//! here by request: `pause`, `resume`, `gate` and `abort` are picked up by the console.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use guardia_api::{Api, ApiError, Caller};
use guardia_ipc::{
    FeedEvent, KillSwitchInput, KillSwitchView, PlanInput, RolloutAction, RolloutPreview,
    RolloutRef, RolloutRequest, RolloutView, ServerRef, SiteRef, Topic,
};

use crate::{Done, Output};

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Preview the plan for a task's approved result: phases, sites, gates, what blocks it
    Plan(PlanArgs),
    /// Start the rollout and follow it here until it ends (the board shows it too)
    Start {
        #[command(flatten)]
        plan: PlanArgs,
        /// Return once it started instead of following it (it then runs only while this
        /// process lives: use the console for long rollouts)
        #[arg(long)]
        detach: bool,
    },
    /// Rollouts, or one rollout with every site
    Status { id: Option<String> },
    /// One site's step journal and fetched service log
    Site { id: String, site: String },
    /// Stop dispatching new batches (running sites finish)
    Pause { id: String },
    /// Go on after a pause, a halt or a crash (nothing is retried by itself)
    Resume { id: String },
    /// Open a manual gate to the next phase
    Gate { id: String },
    /// Stop the rollout; sites not reached are skipped
    Abort {
        id: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Roll back one site, the current phase or everything touched
    Rollback {
        id: String,
        #[arg(long, value_parser = ["site", "phase", "all"], default_value = "all")]
        scope: String,
        #[arg(long, default_value = "")]
        site: String,
    },
    /// End a halted or interrupted rollout as it stands
    Abandon {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// A server's deployments and the version it runs
    History { server: String },
    /// Compare the recorded hashes of a server's deployed files with the files on it
    Drift { server: String },
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The task whose approved result is rolled out
    task: String,
    /// A plan file (JSON: {"phases": [{"name", "select", "window", "gate", "scope"}],
    /// "budget", "soak_seconds"}); default: canary 1% → 9% → the rest, batches of 50
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Failure budget across all phases: N sites or P%
    #[arg(long)]
    budget: Option<String>,
    /// Soak between automatic phases, seconds
    #[arg(long)]
    soak: Option<u64>,
    /// A playbook parameter, NAME=VALUE (repeatable)
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
}

fn request(args: PlanArgs) -> Result<RolloutRequest, ApiError> {
    let mut plan = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| ApiError::BadFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            serde_json::from_str::<PlanInput>(&text).map_err(|e| ApiError::BadFile {
                path: path.display().to_string(),
                reason: format!("not a plan: {e}"),
            })?
        }
        None => PlanInput::default(),
    };
    if let Some(b) = args.budget {
        plan.budget = b;
    }
    if let Some(s) = args.soak {
        plan.soak_seconds = Some(s);
    }
    let mut params = BTreeMap::new();
    for p in args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| ApiError::InvalidRequest(format!("`{p}` is not NAME=VALUE")))?;
        params.insert(k.trim().to_owned(), v.to_owned());
    }
    Ok(RolloutRequest {
        task: args.task,
        plan,
        params,
    })
}

pub fn preview_text(p: &RolloutPreview) -> String {
    let mut out = format!(
        "{} → {} ({} v{}, package v{} {}…)\n{} site(s), {} server(s); failure budget {} site(s)\n",
        p.task,
        p.system,
        p.playbook,
        p.playbook_version,
        p.package_version,
        &p.package_sha256[..p.package_sha256.len().min(12)],
        p.sites,
        p.servers,
        p.budget
    );
    for a in &p.artifacts {
        out.push_str(&format!(
            "  artifact {} {} B {}\n",
            a.path, a.size, a.sha256
        ));
    }
    for (i, ph) in p.phases.iter().enumerate() {
        out.push_str(&format!(
            "  {}. {:<8} {:>5} site(s) {:>5} server(s) in {} batch(es) of ≤{}; rollback: {}{}{}\n",
            i + 1,
            ph.name,
            ph.sites,
            ph.servers,
            ph.batches,
            ph.window,
            ph.scope,
            if ph.tier1_sites > 0 {
                format!("; {} tier-1", ph.tier1_sites)
            } else {
                String::new()
            },
            if ph.gate.is_empty() {
                String::new()
            } else {
                format!("; then gate: {}", ph.gate)
            },
        ));
    }
    for n in &p.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    for b in &p.blockers {
        out.push_str(&format!("BLOCKED: {b}\n"));
    }
    out.trim_end().to_owned()
}

pub fn view_text(v: &RolloutView, all_sites: bool) -> String {
    let mut out = format!(
        "{} {} — {} ({}) v {} by {} at {}\nbudget: {} failed of {} allowed{}\n",
        v.id,
        v.state,
        v.task,
        v.reason,
        v.version_label,
        v.started_by,
        v.started_at,
        v.failures,
        v.budget,
        v.eta_seconds
            .map(|s| format!("; about {s} s left"))
            .unwrap_or_default()
    );
    for p in &v.phases {
        out.push_str(&format!(
            "  {:<8} {:>5}/{:<5} done, {} failed, {} running{}\n",
            p.name,
            p.done,
            p.total,
            p.failed,
            p.running,
            if p.gate.is_empty() {
                String::new()
            } else {
                format!(" (gate: {})", p.gate)
            }
        ));
    }
    let counts: Vec<String> = v.counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    out.push_str(&format!("  sites: {}\n", counts.join(", ")));
    for s in &v.sites {
        if all_sites || !matches!(s.state.as_str(), "DONE" | "PENDING") {
            out.push_str(&format!("  {:<28} {:<28} {}\n", s.key, s.state, s.detail));
        }
    }
    out.trim_end().to_owned()
}

fn switch_text(k: &KillSwitchView) -> String {
    let mut out = if k.engaged {
        format!(
            "KILL SWITCH ENGAGED by {} at {}: {}\n",
            k.by,
            k.at.clone().unwrap_or_default(),
            k.reason
        )
    } else {
        "kill switch armed (automation allowed)\n".to_owned()
    };
    if k.engaged {
        out.push_str("allowed while engaged:\n");
        for a in &k.allowed {
            out.push_str(&format!("  + {a}\n"));
        }
        out.push_str("refused while engaged:\n");
        for r in &k.refused {
            out.push_str(&format!("  - {r}\n"));
        }
    }
    out.trim_end().to_owned()
}

pub async fn run(
    api: &Arc<Api>,
    caller: &Caller,
    out: &Output,
    command: RolloutCommand,
) -> Result<Done, ApiError> {
    let rollouts = api.rollouts();
    let act = |id: String, action: &str| RolloutAction {
        id,
        action: action.to_owned(),
        scope: String::new(),
        site: String::new(),
        reason: String::new(),
    };
    match command {
        RolloutCommand::Plan(args) => {
            let p = rollouts.preview(caller, request(args)?).await?;
            out.print(&p, preview_text)?;
            if !p.blockers.is_empty() {
                return Ok(Done::Failed);
            }
        }
        RolloutCommand::Start { plan, detach } => {
            let mut feed = api.runtime().feed().subscribe();
            let view = rollouts.start(caller, request(plan)?).await?;
            if !out.json {
                println!("started {} on {} site(s)", view.id, view.sites.len());
            }
            if detach {
                out.print(&view, |v| view_text(v, false))?;
                return Ok(Done::Success);
            }
            // Follow it: one line per change of state, the board at the end.
            let mut last = view.state.clone();
            loop {
                let changed = tokio::select! {
                    event = feed.recv() => match &event {
                        Ok(FeedEvent::Changed { topics, .. }) => topics.contains(&Topic::Rollouts),
                        Ok(_) => false,
                        Err(_) => true,
                    },
                    () = rollouts.wait(&view.id) => true,
                };
                if !changed {
                    continue;
                }
                let now = rollouts
                    .get(
                        caller,
                        RolloutRef {
                            id: view.id.clone(),
                        },
                    )
                    .await?;
                if now.state != last && !out.json {
                    println!("{}: {} — {}", now.id, now.state, now.reason);
                    last = now.state.clone();
                }
                if !now.live {
                    out.print(&now, |v| view_text(v, false))?;
                    return Ok(if now.state == "COMPLETED" {
                        Done::Success
                    } else {
                        Done::Failed
                    });
                }
                if now.state == "WAITING_GATE" && !out.json {
                    println!(
                        "a gate waits: open it with `guardia rollout gate {}` (another terminal or the console)",
                        now.id
                    );
                }
            }
        }
        RolloutCommand::Status { id: None } => {
            let list = rollouts.list().await?;
            out.print(&list, |l| {
                l.iter()
                    .map(|r| {
                        format!(
                            "{:<28} {:<12} {:<18} {:>5} sites {:>4} failed  {}",
                            r.id, r.state, r.task, r.sites, r.failures, r.reason
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        }
        RolloutCommand::Status { id: Some(id) } => {
            let v = rollouts.get(caller, RolloutRef { id }).await?;
            out.print(&v, |v| view_text(v, true))?;
        }
        RolloutCommand::Site { id, site } => {
            let d = rollouts.site(caller, SiteRef { id, site }).await?;
            out.print(&d, |d| {
                let mut t = format!(
                    "{} {} ({}) {}\n",
                    d.key,
                    d.state,
                    d.servers.join(", "),
                    d.detail
                );
                for j in &d.journal {
                    t.push_str(&format!(
                        "  {:>4} {} {:<10} {:<11} {:<5} {:<8} {}\n",
                        j.seq, j.at, j.server, j.step, j.mark, j.outcome, j.detail
                    ));
                }
                if !d.log_tail.is_empty() {
                    t.push_str("service log (tail):\n");
                    t.push_str(&d.log_tail);
                }
                t.trim_end().to_owned()
            })?;
        }
        RolloutCommand::Pause { id } => {
            let v = rollouts.control(caller, act(id, "pause")).await?;
            out.print(&v, |v| view_text(v, false))?;
        }
        RolloutCommand::Resume { id } => {
            let v = rollouts.control(caller, act(id, "resume")).await?;
            if v.live {
                rollouts.wait(&v.id).await;
                let v = rollouts.get(caller, RolloutRef { id: v.id }).await?;
                out.print(&v, |v| view_text(v, false))?;
            } else {
                out.print(&v, |v| view_text(v, false))?;
            }
        }
        RolloutCommand::Gate { id } => {
            let v = rollouts.control(caller, act(id, "approve_gate")).await?;
            out.print(&v, |v| view_text(v, false))?;
        }
        RolloutCommand::Abort { id, reason } => {
            let mut a = act(id, "abort");
            a.reason = reason;
            let v = rollouts.control(caller, a).await?;
            out.print(&v, |v| view_text(v, false))?;
        }
        RolloutCommand::Rollback { id, scope, site } => {
            let mut a = act(id, "rollback");
            a.scope = scope;
            a.site = site;
            let v = rollouts.control(caller, a).await?;
            rollouts.wait(&v.id).await;
            let v = rollouts.get(caller, RolloutRef { id: v.id }).await?;
            out.print(&v, |v| view_text(v, false))?;
        }
        RolloutCommand::Abandon { id, reason } => {
            let mut a = act(id, "abandon");
            a.reason = reason;
            let v = rollouts.control(caller, a).await?;
            out.print(&v, |v| view_text(v, false))?;
        }
        RolloutCommand::History { server } => {
            let h = rollouts.history(ServerRef { name: server }).await?;
            out.print(&h, |h| {
                let mut t = match &h.current {
                    Some(c) => format!("{} runs {} ({})\n", h.server, c.version, c.result),
                    None => format!("{}: no deployment recorded\n", h.server),
                };
                for d in &h.history {
                    t.push_str(&format!(
                        "  {} {:<12} {:<26} {:<22} by {} (audit #{})\n",
                        d.at, d.result, d.version, d.rollout, d.actor, d.audit_index
                    ));
                }
                t.trim_end().to_owned()
            })?;
        }
        RolloutCommand::Drift { server } => {
            let d = rollouts.drift(caller, ServerRef { name: server }).await?;
            out.print(&d, |d| {
                let mut t = format!(
                    "{}: {}\n",
                    d.server,
                    if d.drifted { "DRIFTED" } else { "as deployed" }
                );
                for f in &d.files {
                    t.push_str(&format!(
                        "  {} {} recorded {} found {}\n",
                        if f.same { "=" } else { "!" },
                        f.path,
                        f.recorded,
                        f.found
                    ));
                }
                t.trim_end().to_owned()
            })?;
            if d.drifted {
                return Ok(Done::Failed);
            }
        }
    }
    Ok(Done::Success)
}

pub async fn kill(
    api: &Arc<Api>,
    caller: &Caller,
    out: &Output,
    reason: String,
) -> Result<Done, ApiError> {
    let k = api
        .rollouts()
        .press(caller, KillSwitchInput { reason })
        .await?;
    out.print(&k, switch_text)?;
    Ok(Done::Success)
}

pub async fn rearm(
    api: &Arc<Api>,
    caller: &Caller,
    out: &Output,
    reason: String,
) -> Result<Done, ApiError> {
    let k = api
        .rollouts()
        .rearm(caller, KillSwitchInput { reason })
        .await?;
    out.print(&k, switch_text)?;
    Ok(Done::Success)
}
