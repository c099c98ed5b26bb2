//! Rollouts and the kill switch (issue 12): `api.rollouts()`.
//!
//! A rollout takes a task whose result package every step of its chain approved, the
//! built-in playbook its sub-type selects, and a plan resolved against the task's system's
//! servers (grouped into sites). It runs as a job of the runtime ([`crate::rollout_run`] does
//! the work on servers, `guardia_engine::rollout::drive` decides what runs when). Everything
//! a person does to it — start, pause, resume, open a gate, abort, roll back, abandon — and
//! the kill switch are here, each checked and audited.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Utc};
use guardia_domain::rollout::{
    Budget, Directive, Gate, PhaseSpec, Plan, PlanSite, PlanSpec, Playbook, RollbackScope,
    RolloutState, Selector, SiteState,
};
use guardia_domain::{Task, TaskEvent, TaskId, TaskStatus};
use guardia_engine::Concurrency;
use guardia_engine::rollout::{RolloutControl, drive};
use guardia_ipc::{
    ArtifactPlan, DeploymentView, DriftFile, DriftReport, JobKind, JobOutcome, JobState,
    JournalLine, KillSwitchInput, KillSwitchView, PhasePreview, PhaseProgress, PlanInput,
    RolloutAction, RolloutBrief, RolloutPreview, RolloutRef, RolloutRequest, RolloutView,
    ServerHistory, ServerRef, SiteDetail, SiteRef, SiteRow,
};
use guardia_store::{
    KillSwitchState, OwnedMove, RolloutWrite, ServerFilter, SiteWrite, StoredRollout, StoredServer,
};
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

use crate::rollout_entries as entries;
use crate::rollout_run::{Artifact, GroupWriter, Host, Run, SecretFile};
use crate::{Api, ApiError, Caller, Permission};

/// What stays allowed while the kill switch is engaged, and what does not (shown on every
/// screen's banner and by `guardia kill`).
pub const ALLOWED_WHILE_LOCKED: [&str; 4] = [
    "read-only server checks (reachability, host key, health) / 읽기 전용 서버 점검",
    "reading logs, the board and the audit log / 로그·현황판·감사 로그 조회",
    "reviews and approvals (nothing reaches a server) / 검토·승인 (서버 변경 없음)",
    "the audit verification / 감사 로그 검증",
];
pub const REFUSED_WHILE_LOCKED: [&str; 3] = [
    "starting or resuming a rollout, and rollbacks / 배포 시작·재개·롤백",
    "ad-hoc commands on servers / 서버 임의 명령 실행",
    "anything else that changes a server / 서버를 변경하는 모든 작업",
];

/// The rollouts this process runs, and the journal's group writer.
#[derive(Default)]
pub(crate) struct RolloutRegistry {
    live: Mutex<HashMap<String, (RolloutControl, Arc<Run>)>>,
    pub(crate) writer: Arc<GroupWriter>,
}

impl RolloutRegistry {
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, (RolloutControl, Arc<Run>)>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct Rollouts<'a> {
    api: &'a Arc<Api>,
}

impl Api {
    pub fn rollouts(self: &Arc<Self>) -> Rollouts<'_> {
        Rollouts { api: self }
    }

    /// Engages this process's kill switch if the stored one is engaged (at open, and when
    /// another process pressed it).
    pub(crate) async fn follow_kill_switch(&self) {
        match self.store.kill_switch().await {
            Ok(Some(k)) if k.engaged => {
                if !self.runtime.kill_switch().is_engaged() {
                    tracing::warn!(by = %k.by, "the kill switch is engaged: {}", k.reason);
                }
                self.runtime.kill_switch().engage();
            }
            Ok(_) => self.runtime.kill_switch().rearm(),
            Err(e) => {
                // Fail closed: an unreadable switch is an engaged one.
                tracing::error!("cannot read the kill switch ({e}); refusing automation");
                self.runtime.kill_switch().engage();
            }
        }
    }
}

/// A plan ready to run (or to show).
struct Prepared {
    task: Task,
    institutions: Vec<String>,
    playbook: Playbook,
    playbook_sha256: String,
    package_version: u32,
    package_sha256: String,
    artifacts: Vec<Artifact>,
    secrets: Vec<SecretFile>,
    params: BTreeMap<String, String>,
    version: String,
    plan: Plan,
    servers: HashMap<String, StoredServer>,
    blockers: Vec<String>,
    notes: Vec<String>,
}

/// A desktop notification about the kill switch (see [`Rollouts::kill_switch_notice`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillSwitchNotice {
    pub summary: String,
    pub body: String,
    pub urgent: bool,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn refused(why: impl Into<String>) -> ApiError {
    ApiError::InvalidRequest(why.into())
}

/// The built-in playbook `name`, validated, and the SHA-256 of its file (what a rollout
/// records, and what a resumed one must still find).
fn built_in(name: &str) -> Result<(Playbook, String), ApiError> {
    let (file, text) = guardia_domain::rollout::playbook::BUILT_INS
        .iter()
        .find(|(f, _)| f.strip_suffix(".playbook") == Some(name))
        .ok_or_else(|| refused(format!("no built-in playbook `{name}`")))?;
    let playbook = Playbook::parse(file, text).map_err(|e| refused(e.to_string()))?;
    Ok((playbook, hex::encode(Sha256::digest(text.as_bytes()))))
}

/// `tier:N`, `tag:T`, `count:N`, `percent:P[:MIN[:MAX]]`, `list:a,b`, `sample:N[:SEED]`,
/// `rest`.
fn selector(raw: &str, seed: u64) -> Result<Selector, String> {
    let (kind, rest) = raw.trim().split_once(':').unwrap_or((raw.trim(), ""));
    let num = |s: &str| -> Result<usize, String> {
        s.trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number (in `{raw}`)"))
    };
    Ok(match kind {
        "tier" => Selector::Tier {
            tier: rest
                .trim()
                .parse::<u8>()
                .ok()
                .and_then(guardia_domain::inventory::Tier::from_number)
                .ok_or_else(|| format!("`{rest}` is not a tier (1, 2, 3)"))?,
        },
        "tag" if !rest.trim().is_empty() => Selector::Tag {
            tag: rest.trim().to_owned(),
        },
        "count" => Selector::Count { count: num(rest)? },
        "percent" => {
            let parts: Vec<&str> = rest.split(':').collect();
            Selector::Percent {
                percent: num(parts[0])? as u32,
                min: parts.get(1).map(|m| num(m)).transpose()?.unwrap_or(0),
                max: parts.get(2).map(|m| num(m)).transpose()?.unwrap_or(0),
            }
        }
        "list" => Selector::List {
            sites: rest
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        "sample" => {
            let (n, s) = rest.split_once(':').unwrap_or((rest, ""));
            Selector::Sample {
                count: num(n)?,
                seed: if s.is_empty() {
                    seed
                } else {
                    s.trim()
                        .parse()
                        .map_err(|_| format!("`{s}` is not a seed"))?
                },
            }
        }
        "rest" => Selector::Rest,
        _ => {
            return Err(format!(
                "`{raw}` is not a site selector (tier:N, tag:T, count:N, percent:P[:MIN[:MAX]], list:a,b, sample:N[:SEED], rest)"
            ));
        }
    })
}

/// A person's plan, or the default one.
fn plan_spec(input: &PlanInput) -> Result<PlanSpec, String> {
    let mut spec = PlanSpec::default();
    if let Some(soak) = input.soak_seconds {
        spec.soak_seconds = soak;
    }
    let budget = input.budget.trim();
    if !budget.is_empty() {
        spec.budget = match budget.strip_suffix('%') {
            Some(p) => Budget::Percent {
                percent: p
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{budget}` is not a failure budget (N or P%)"))?,
            },
            None => Budget::Count {
                sites: budget
                    .parse()
                    .map_err(|_| format!("`{budget}` is not a failure budget (N or P%)"))?,
            },
        };
    }
    if !input.phases.is_empty() {
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).map_err(|e| format!("no randomness for a sample: {e}"))?;
        let seed = u64::from_le_bytes(seed);
        spec.phases = input
            .phases
            .iter()
            .map(|p| {
                Ok(PhaseSpec {
                    name: p.name.clone(),
                    select: selector(&p.select, seed)?,
                    window: p.window,
                    gate: match p.gate.trim() {
                        "" => None,
                        "manual" => Some(Gate::Manual),
                        other => Some(Gate::Soak {
                            seconds: other
                                .strip_prefix("soak:")
                                .and_then(|s| s.parse().ok())
                                .ok_or_else(|| {
                                    format!("`{other}` is not a gate (manual, soak:SECONDS)")
                                })?,
                        }),
                    },
                    scope: RollbackScope::parse(p.scope.trim()).ok_or_else(|| {
                        format!(
                            "`{}` is not a rollback scope (site, batch, phase, all)",
                            p.scope
                        )
                    })?,
                })
            })
            .collect::<Result<_, String>>()?;
    }
    Ok(spec)
}

fn gate_text(gate: Option<Gate>) -> String {
    match gate {
        None => String::new(),
        Some(Gate::Manual) => "manual".into(),
        Some(Gate::Soak { seconds }) => format!("soak {seconds} s"),
    }
}

/// The sites of a system: its servers grouped by site, each site's tier its most critical.
fn sites_of(servers: &[StoredServer]) -> Vec<PlanSite> {
    let mut by_site: BTreeMap<(String, String), PlanSite> = BTreeMap::new();
    for s in servers {
        let r = &s.record;
        let site = by_site
            .entry((r.system.clone(), r.site.clone()))
            .or_insert_with(|| PlanSite {
                key: format!("{}/{}", r.system, r.site),
                system: r.system.clone(),
                site: r.site.clone(),
                tier: r.tier,
                tags: Vec::new(),
                servers: Vec::new(),
            });
        site.tier = site.tier.min(r.tier);
        for t in &r.tags {
            if !site.tags.contains(t) {
                site.tags.push(t.clone());
            }
        }
        site.servers.push(r.server.clone());
    }
    by_site
        .into_values()
        .map(|mut s| {
            s.servers.sort();
            s
        })
        .collect()
}

impl Rollouts<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.api.now()
    }

    fn registry(&self) -> &RolloutRegistry {
        &self.api.rollout_registry
    }

    async fn task(&self, raw: &str) -> Result<Task, ApiError> {
        let id: TaskId = raw
            .trim()
            .parse()
            .map_err(|e| refused(format!("`{raw}`: {e}")))?;
        self.api
            .store
            .task(id)
            .await?
            .ok_or_else(|| ApiError::Store(guardia_store::StoreError::TaskNotFound(id)))
    }

    async fn prepare(&self, request: &RolloutRequest) -> Result<Prepared, ApiError> {
        let task = self.task(&request.task).await?;
        let mut blockers = Vec::new();
        let mut notes = Vec::new();
        if task.status != TaskStatus::ReadyToRollOut {
            blockers.push(format!(
                "the task is {}: only a task READY_TO_ROLL_OUT starts a rollout",
                task.status
            ));
        }
        // The approved package (every byte re-verified against its manifest and approval).
        let loaded = self.api.reviews().approved(task.id).await?;
        let package = loaded.package();
        let mut artifacts = Vec::new();
        for (path, entry) in package.artifacts() {
            let recorded = package
                .manifest
                .files
                .iter()
                .find(|f| f.path.strip_prefix("artifacts/") == Some(path))
                .map(|f| f.sha256.clone())
                .unwrap_or_default();
            let actual = hex::encode(Sha256::digest(&entry.bytes));
            if actual != recorded {
                return Err(refused(format!(
                    "artifact {path}: SHA-256 {actual} differs from the approved manifest's {recorded}; refused"
                )));
            }
            artifacts.push(Artifact {
                path: path.to_owned(),
                bytes: Arc::new(entry.bytes.clone()),
                sha256: actual,
            });
        }
        // The playbook the task's sub-type selects.
        let name = crate::reviews::playbook_for(&task);
        let (playbook, playbook_sha256) = built_in(name)?;
        if playbook.ships_artifacts() && artifacts.is_empty() {
            blockers.push(format!(
                "playbook {name} deploys artifacts but the approved package has none"
            ));
        }
        let params = playbook
            .bind(&request.params)
            .map_err(|e| refused(format!("playbook {name}: {e}")))?;
        let secrets = match self.secret_files(&playbook, &params).await {
            Ok(s) => s,
            Err(e) => {
                blockers.push(format!("playbook {name}: {e}"));
                Vec::new()
            }
        };
        // The fleet: the task's system's servers, by site.
        let system = task.system.as_str().to_owned();
        let servers: Vec<StoredServer> = self
            .api
            .store
            .servers(&ServerFilter {
                text: system.clone(),
                ..ServerFilter::default()
            })
            .await?
            .into_iter()
            .filter(|s| s.record.system == system)
            .collect();
        if servers.is_empty() {
            return Err(refused(format!(
                "system {system} has no server in the inventory"
            )));
        }
        let unpinned: Vec<&str> = servers
            .iter()
            .filter(|s| s.host_key.is_none())
            .map(|s| s.record.server.as_str())
            .take(10)
            .collect();
        if !unpinned.is_empty() {
            blockers.push(format!(
                "{} server(s) have no approved host key (e.g. {}): approve their keys first",
                servers.iter().filter(|s| s.host_key.is_none()).count(),
                unpinned.join(", ")
            ));
        }
        let mut institutions: Vec<String> = servers
            .iter()
            .map(|s| s.record.institution.clone())
            .collect();
        institutions.sort();
        institutions.dedup();
        let spec = plan_spec(&request.plan).map_err(refused)?;
        let plan = spec.resolve(sites_of(&servers)).map_err(refused)?;
        let multi = plan.multi_server_sites();
        if multi > 0 {
            notes.push(format!(
                "{multi} site(s) have several servers: they are updated one server at a time{}, so the site never goes fully down / 서버가 여러 대인 사이트 {multi}곳은 한 대씩 갱신되어 사이트 전체가 멈추지 않습니다",
                if playbook.has(guardia_domain::rollout::StepKind::Drain) {
                    " with drain/undrain around each"
                } else {
                    ""
                }
            ));
        }
        for (i, phase) in plan.phases.iter().enumerate() {
            if phase.gate == Some(Gate::Manual) && i + 1 < plan.phases.len() {
                notes.push(format!(
                    "after phase `{}` a person opens the gate to `{}` (tier-1 sites follow) / 다음 단계 전에 사람의 승인이 필요합니다",
                    phase.name,
                    plan.phases[i + 1].name
                ));
            }
        }
        // The deploy window, the audit alarm, the kill switch.
        let rules = self
            .api
            .approvals()
            .rules(&system)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Err(closed) = rules.windows.check(self.now()) {
            blockers.push(match closed.next_open() {
                Some(at) => format!(
                    "the deploy window of {system} is closed; it opens {}",
                    rfc3339(at)
                ),
                None => format!("the deploy window of {system} is closed"),
            });
        }
        if self.api.store.unacknowledged_failure().await?.is_some() {
            blockers
                .push("the audit log failed verification and no admin has acknowledged it".into());
        }
        if self.api.runtime.kill_switch().is_engaged() {
            blockers.push("the kill switch is engaged: a security officer must re-arm it".into());
        }
        let package_version = loaded.version();
        // The playbook renders and passes the denylist on a real server's values.
        if let Some(first) = servers.first() {
            let probe = Prepared {
                task: task.clone(),
                institutions: vec![],
                playbook: playbook.clone(),
                playbook_sha256: String::new(),
                package_version,
                package_sha256: String::new(),
                artifacts: artifacts.clone(),
                secrets: Vec::new(),
                params: params.clone(),
                version: format!("{}-v{package_version}", task.id),
                plan: plan.clone(),
                servers: HashMap::new(),
                blockers: vec![],
                notes: vec![],
            };
            let run = self.run_of(
                "R-preview",
                &Caller::with_every_role(task.requester.clone()),
                probe,
            );
            if let Err(e) = run.probe_scripts(first) {
                blockers.push(format!("playbook {name} on {}: {e}", first.record.server));
            }
        }
        Ok(Prepared {
            version: format!("{}-v{package_version}", task.id),
            package_sha256: loaded.sha256().to_owned(),
            package_version,
            task,
            institutions,
            playbook,
            playbook_sha256,
            artifacts,
            secrets,
            params,
            plan,
            servers: servers
                .into_iter()
                .map(|s| (s.record.server.clone(), s))
                .collect(),
            blockers,
            notes,
        })
    }

    fn preview_of(&self, p: &Prepared) -> RolloutPreview {
        RolloutPreview {
            task: p.task.id.to_string(),
            system: p.task.system.as_str().to_owned(),
            playbook: p.playbook.name.clone(),
            playbook_version: p.playbook.version,
            playbook_title: p.playbook.title.clone(),
            package_version: p.package_version,
            package_sha256: p.package_sha256.clone(),
            version_label: p.version.clone(),
            artifacts: p
                .artifacts
                .iter()
                .map(|a| ArtifactPlan {
                    path: a.path.clone(),
                    size: a.bytes.len() as u64,
                    sha256: a.sha256.clone(),
                })
                .collect(),
            params: p.params.clone(),
            sites: p.plan.sites.len(),
            servers: p.plan.servers(),
            phases: p
                .plan
                .phases
                .iter()
                .map(|ph| PhasePreview {
                    name: ph.name.clone(),
                    sites: ph.len(),
                    servers: ph.sites().map(|s| p.plan.sites[s].servers.len()).sum(),
                    batches: ph.batches.len(),
                    window: ph.window,
                    gate: gate_text(ph.gate),
                    scope: ph.scope.as_str().to_owned(),
                    first_sites: ph
                        .sites()
                        .take(20)
                        .map(|s| p.plan.sites[s].key.clone())
                        .collect(),
                    tier1_sites: ph
                        .sites()
                        .filter(|s| {
                            p.plan.sites[*s].tier == guardia_domain::inventory::Tier::Critical
                        })
                        .count(),
                })
                .collect(),
            budget: p.plan.budget,
            notes: p.notes.clone(),
            blockers: p.blockers.clone(),
        }
    }

    fn require(
        &self,
        caller: &Caller,
        p: &Prepared,
        permission: Permission,
    ) -> Result<(), ApiError> {
        let system = p.task.system.as_str();
        for institution in &p.institutions {
            caller.require_on(permission, institution, system)?;
        }
        Ok(())
    }

    /// The plan resolved against the fleet, and what would block it.
    pub async fn preview(
        &self,
        caller: &Caller,
        request: RolloutRequest,
    ) -> Result<RolloutPreview, ApiError> {
        let prepared = self.prepare(&request).await?;
        self.require(caller, &prepared, Permission::ReadTasks)?;
        Ok(self.preview_of(&prepared))
    }

    /// Starts a rollout; it runs as a job. Refused, with every reason, unless the task is
    /// READY_TO_ROLL_OUT, its window is open, the audit log is not in alarm and the kill
    /// switch is armed.
    pub async fn start(
        &self,
        caller: &Caller,
        request: RolloutRequest,
    ) -> Result<RolloutView, ApiError> {
        let prepared = self.prepare(&request).await?;
        self.require(caller, &prepared, Permission::RunRollouts)?;
        if !prepared.blockers.is_empty() {
            return Err(refused(format!(
                "the rollout cannot start: {}",
                prepared.blockers.join("; ")
            )));
        }
        let task = prepared.task.id;
        let n = self.api.store.rollouts(Some(task)).await?.len() + 1;
        let id = format!("R-{task}-{n}");
        let now = self.now();
        let plan_json = serde_json::to_string(&prepared.plan)
            .map_err(|e| ApiError::Internal(format!("plan: {e}")))?;
        let params_json = serde_json::to_value(&prepared.params).unwrap_or_default();
        let started = entries::Started {
            id: &id,
            task: &task.to_string(),
            package_version: prepared.package_version,
            package_sha256: &prepared.package_sha256,
            playbook: &prepared.playbook.name,
            playbook_version: prepared.playbook.version,
            playbook_sha256: &prepared.playbook_sha256,
            version_label: &prepared.version,
            artifacts: prepared
                .artifacts
                .iter()
                .map(|a| serde_json::json!({"path": a.path, "sha256": a.sha256}))
                .collect(),
            sites: prepared.plan.sites.len() as u64,
            servers: prepared.plan.servers() as u64,
            phases: prepared
                .plan
                .phases
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p.name, "sites": p.len(), "window": p.window,
                        "gate": gate_text(p.gate), "scope": p.scope.as_str(),
                        "selector": p.selector,
                    })
                })
                .collect(),
            budget: prepared.plan.budget as u64,
            params: params_json.clone(),
        };
        let transition = TaskStatus::ReadyToRollOut
            .apply(TaskEvent::RolloutStarted)
            .map_err(ApiError::Refused)?;
        let write = RolloutWrite {
            rollout_id: id.clone(),
            insert: Some(StoredRollout {
                id: id.clone(),
                task,
                package_version: prepared.package_version,
                package_sha256: prepared.package_sha256.clone(),
                playbook: prepared.playbook.name.clone(),
                playbook_version: prepared.playbook.version,
                playbook_sha256: prepared.playbook_sha256.clone(),
                version_label: prepared.version.clone(),
                params: params_json.to_string(),
                plan: plan_json,
                state: RolloutState::Running,
                reason: "started".into(),
                phase: 0,
                gate_until: None,
                request: String::new(),
                started_by: caller.name().to_owned(),
                started_at: now,
                updated_at: now,
            }),
            sites: prepared
                .plan
                .sites
                .iter()
                .enumerate()
                .map(|(i, s)| SiteWrite {
                    site: i as u32,
                    key: s.key.clone(),
                    phase: prepared
                        .plan
                        .phases
                        .iter()
                        .position(|p| p.sites().any(|x| x == i))
                        .unwrap_or(0) as u32,
                    state: SiteState::Pending,
                    detail: String::new(),
                    log_tail: None,
                })
                .collect(),
            task: Some(task),
            task_moves: vec![OwnedMove {
                transition,
                actor: caller.person.clone(),
                note: format!("rollout {id}"),
            }],
            at: Some(now),
            audit: vec![entries::rollout_started(&started, caller.name(), now)],
            ..RolloutWrite::default()
        };
        self.registry().writer.write(self.api, write).await?;
        let states = vec![SiteState::Pending; prepared.plan.sites.len()];
        let run = self.run_of(&id, caller, prepared);
        self.launch(run, states)?;
        self.get(caller, RolloutRef { id }).await
    }

    /// The secret files the playbook stages (TLS keys), read from the keyring by the
    /// credential names its parameters give. Nothing of them is kept but in memory.
    async fn secret_files(
        &self,
        playbook: &Playbook,
        params: &BTreeMap<String, String>,
    ) -> Result<Vec<SecretFile>, String> {
        let mut out = Vec::new();
        for line in playbook.step(guardia_domain::rollout::StepKind::Stage) {
            if let Directive::SecretFile { credential, path } = &line.directive {
                let name = guardia_domain::rollout::playbook::render(credential, params, false)
                    .map_err(|e| format!("line {}: {e}", line.line))?;
                let bytes = self.api.tls_key(&name).await.map_err(|e| e.to_string())?;
                let sha256 = hex::encode(Sha256::digest(bytes.expose()));
                out.push(SecretFile {
                    path: path.clone(),
                    bytes: Arc::new(bytes),
                    sha256,
                });
            }
        }
        Ok(out)
    }

    fn run_of(&self, id: &str, caller: &Caller, p: Prepared) -> Arc<Run> {
        Arc::new(Run {
            api: self.api.clone(),
            id: id.to_owned(),
            task: p.task.id,
            actor: caller.person.clone(),
            caller: caller.clone(),
            plan: Arc::new(p.plan),
            playbook: p.playbook,
            params: p.params,
            version: p.version,
            artifacts: p.artifacts,
            secrets: p.secrets,
            servers: p.servers,
            credentials: tokio::sync::Mutex::new(HashMap::new()),
            writer: self.registry().writer.clone(),
            settled: AtomicU32::new(0),
            began: Instant::now(),
        })
    }

    /// Runs the driver over `run` from `states` as a job.
    fn launch(&self, run: Arc<Run>, states: Vec<SiteState>) -> Result<(), ApiError> {
        let control = RolloutControl::default();
        let id = run.id.clone();
        self.registry()
            .live()
            .insert(id.clone(), (control.clone(), run.clone()));
        let api = self.api.clone();
        let clock = self.api.clock.clone();
        let started = self.api.runtime.jobs().start(
            JobKind::Rollout,
            entries::rollout_subject(&id),
            Concurrency::Many,
            move |ctx| async move {
                let plan = run.plan.clone();
                let host = Arc::new(Host(run.clone()));
                let (state, reason) =
                    drive(plan, states, host, control, ctx.token().clone(), clock).await;
                api.rollout_registry.live().remove(&run.id);
                tracing::info!(rollout = %run.id, %state, "rollout ended: {reason}");
                JobState::Finished {
                    outcome: Box::new(JobOutcome::Rollout(RolloutBrief {
                        id: run.id.clone(),
                        task: run.task.to_string(),
                        state: state.as_str().to_owned(),
                        reason,
                        version_label: run.version.clone(),
                        started_by: run.actor.to_string(),
                        started_at: String::new(),
                        sites: run.plan.sites.len() as u32,
                        failures: 0,
                    })),
                }
            },
        );
        if let Err(e) = started {
            self.registry().live().remove(&id);
            return Err(e.into());
        }
        Ok(())
    }

    /// Journal transactions and the writes they carried so far (the group writer's ratio;
    /// the benchmark prints it).
    pub fn journal_commits(&self) -> (u32, u32) {
        use std::sync::atomic::Ordering;
        let w = &self.registry().writer;
        (
            w.commits.load(Ordering::Relaxed),
            w.writes.load(Ordering::Relaxed),
        )
    }

    /// Waits until the rollout is no longer run by this process (tests, the CLI).
    pub async fn wait(&self, id: &str) {
        let mut feed = self.api.runtime.feed().subscribe();
        loop {
            if !self.registry().live().contains_key(id) {
                return;
            }
            if feed.recv().await.is_err() {
                tokio::task::yield_now().await;
            }
        }
    }

    pub async fn list(&self) -> Result<Vec<RolloutBrief>, ApiError> {
        let mut out = Vec::new();
        for r in self.api.store.rollouts(None).await? {
            let sites = self.api.store.rollout_sites(&r.id).await?;
            out.push(RolloutBrief {
                id: r.id.clone(),
                task: r.task.to_string(),
                state: r.state.as_str().to_owned(),
                reason: r.reason.clone(),
                version_label: r.version_label.clone(),
                started_by: r.started_by.clone(),
                started_at: rfc3339(r.started_at),
                sites: sites.len() as u32,
                failures: sites.iter().filter(|s| s.state.is_failure()).count() as u32,
            });
        }
        Ok(out)
    }

    async fn stored(&self, id: &str) -> Result<StoredRollout, ApiError> {
        self.api
            .store
            .rollout(id.trim())
            .await?
            .ok_or_else(|| refused(format!("there is no rollout `{id}`")))
    }

    fn plan_of(r: &StoredRollout) -> Result<Plan, ApiError> {
        serde_json::from_str(&r.plan).map_err(|e| {
            ApiError::Internal(format!("the stored plan of {} does not read: {e}", r.id))
        })
    }

    /// The board's view of one rollout.
    pub async fn get(&self, _caller: &Caller, r: RolloutRef) -> Result<RolloutView, ApiError> {
        // Whether it runs here is read first: a run that ends meanwhile has stored its final
        // state before leaving the registry, so `live: false` always comes with that state.
        let live = self
            .registry()
            .live()
            .get(r.id.trim())
            .map(|(_, run)| run.clone());
        let stored = self.stored(&r.id).await?;
        let plan = Self::plan_of(&stored)?;
        let sites = self.api.store.rollout_sites(&stored.id).await?;
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for s in &sites {
            *counts.entry(s.state.as_str().to_owned()).or_default() += 1;
        }
        let state_of = |i: usize| sites.get(i).map_or(SiteState::Pending, |s| s.state);
        let phases = plan
            .phases
            .iter()
            .map(|p| PhaseProgress {
                name: p.name.clone(),
                total: p.len() as u32,
                done: p
                    .sites()
                    .filter(|s| state_of(*s) == SiteState::Done)
                    .count() as u32,
                failed: p.sites().filter(|s| state_of(*s).is_failure()).count() as u32,
                running: p
                    .sites()
                    .filter(|s| matches!(state_of(*s), SiteState::Running | SiteState::RollingBack))
                    .count() as u32,
                gate: gate_text(p.gate),
            })
            .collect();
        let failures = sites.iter().filter(|s| s.state.is_failure()).count() as u32;
        let eta_seconds = live.as_ref().and_then(|run| {
            let settled = run.settled.load(std::sync::atomic::Ordering::Relaxed);
            let left = sites
                .iter()
                .filter(|s| s.state == SiteState::Pending || s.state == SiteState::Running)
                .count();
            (settled > 0).then(|| {
                (run.began.elapsed().as_secs_f64() / f64::from(settled) * left as f64) as u64
            })
        });
        Ok(RolloutView {
            id: stored.id.clone(),
            task: stored.task.to_string(),
            state: stored.state.as_str().to_owned(),
            reason: stored.reason.clone(),
            phase: stored.phase,
            gate_until: stored.gate_until.map(rfc3339),
            playbook: stored.playbook.clone(),
            version_label: stored.version_label.clone(),
            package_sha256: stored.package_sha256.clone(),
            started_by: stored.started_by.clone(),
            started_at: rfc3339(stored.started_at),
            updated_at: rfc3339(stored.updated_at),
            budget: plan.budget as u32,
            failures,
            counts,
            phases,
            sites: sites
                .iter()
                .map(|s| SiteRow {
                    index: s.site,
                    key: s.key.clone(),
                    phase: s.phase,
                    state: s.state.as_str().to_owned(),
                    detail: s.detail.clone(),
                })
                .collect(),
            eta_seconds,
            live: live.is_some(),
        })
    }

    pub async fn site(&self, _caller: &Caller, r: SiteRef) -> Result<SiteDetail, ApiError> {
        let stored = self.stored(&r.id).await?;
        let plan = Self::plan_of(&stored)?;
        let index = plan
            .sites
            .iter()
            .position(|s| s.key == r.site || s.site == r.site)
            .ok_or_else(|| refused(format!("rollout {} has no site `{}`", r.id, r.site)))?;
        let sites = self.api.store.rollout_sites(&stored.id).await?;
        let row = sites.iter().find(|s| s.site as usize == index);
        let journal = self
            .api
            .store
            .journal(&stored.id, Some(index as u32))
            .await?;
        Ok(SiteDetail {
            key: plan.sites[index].key.clone(),
            servers: plan.sites[index].servers.clone(),
            state: row.map_or("PENDING", |s| s.state.as_str()).to_owned(),
            detail: row.map(|s| s.detail.clone()).unwrap_or_default(),
            log_tail: row.map(|s| s.log_tail.clone()).unwrap_or_default(),
            journal: journal
                .into_iter()
                .map(|j| JournalLine {
                    seq: j.seq,
                    server: j.server,
                    step: j.step,
                    mark: j.mark,
                    outcome: j.outcome,
                    detail: j.detail,
                    at: rfc3339(j.at),
                })
                .collect(),
        })
    }

    async fn note(
        &self,
        caller: &Caller,
        stored: &StoredRollout,
        state: RolloutState,
        reason: String,
        moves: Vec<OwnedMove>,
        sites: Vec<SiteWrite>,
    ) -> Result<(), ApiError> {
        let now = self.now();
        let write = RolloutWrite {
            rollout_id: stored.id.clone(),
            state: Some((state, reason.clone())),
            task: Some(stored.task),
            task_moves: moves,
            sites,
            at: Some(now),
            audit: vec![entries::rollout_state(
                &stored.id,
                state,
                &reason,
                caller.name(),
                now,
            )],
            ..RolloutWrite::default()
        };
        self.registry().writer.write(self.api, write).await
    }

    /// Pause, resume, open a gate, abort, roll back, abandon.
    pub async fn control(
        &self,
        caller: &Caller,
        action: RolloutAction,
    ) -> Result<RolloutView, ApiError> {
        let stored = self.stored(&action.id).await?;
        let task = self
            .api
            .store
            .task(stored.task)
            .await?
            .ok_or_else(|| refused("the rollout's task is gone"))?;
        let institutions = self.api.store.institutions_of(task.system.as_str()).await?;
        for institution in &institutions {
            caller.require_on(Permission::RunRollouts, institution, task.system.as_str())?;
        }
        let live = self
            .registry()
            .live()
            .get(&stored.id)
            .map(|(c, _)| c.clone());
        let who = caller.name().to_owned();
        match (action.action.as_str(), live) {
            ("pause", Some(c)) => c.pause(),
            ("resume", Some(c)) => c.resume(),
            ("approve_gate", Some(c)) => {
                if stored.state != RolloutState::WaitingGate {
                    return Err(refused(format!("rollout {} waits at no gate", stored.id)));
                }
                // Recorded as running at once, so a second press finds no gate to open.
                self.note(
                    caller,
                    &stored,
                    RolloutState::Running,
                    format!("gate opened by {who}"),
                    vec![],
                    vec![],
                )
                .await?;
                c.approve_gate();
            }
            ("abort", Some(c)) => {
                self.note(
                    caller,
                    &stored,
                    stored.state,
                    format!("abort requested by {who}: {}", action.reason),
                    vec![],
                    vec![],
                )
                .await?;
                c.abort();
            }
            // Run by another process (the console, while this is the CLI): ask it.
            ("pause" | "resume" | "approve_gate" | "abort", None)
                if matches!(
                    stored.state,
                    RolloutState::Running | RolloutState::Paused | RolloutState::WaitingGate
                ) =>
            {
                let now = self.now();
                let reason = format!("{} requested by {who} {}", action.action, action.reason);
                let write = RolloutWrite {
                    rollout_id: stored.id.clone(),
                    request: Some(action.action.clone()),
                    at: Some(now),
                    audit: vec![entries::rollout_state(
                        &stored.id,
                        stored.state,
                        reason.trim(),
                        caller.name(),
                        now,
                    )],
                    ..RolloutWrite::default()
                };
                self.registry().writer.write(self.api, write).await?;
            }
            ("pause" | "approve_gate" | "abort", None) => {
                return Err(refused(format!(
                    "rollout {} is {} and not running; resume, roll back or abandon it",
                    stored.id, stored.state
                )));
            }
            ("resume", None) => self.resume(caller, &stored, &task).await?,
            ("rollback", None) => self.roll_back(caller, &stored, &action).await?,
            ("rollback", Some(_)) => {
                return Err(refused(format!(
                    "rollout {} is running: pause it (or press the kill switch) before rolling back",
                    stored.id
                )));
            }
            ("abandon", None) => {
                if stored.state.is_final() {
                    return Err(refused(format!("rollout {} is over already", stored.id)));
                }
                let sites = self.api.store.rollout_sites(&stored.id).await?;
                let skipped = sites
                    .iter()
                    .filter(|s| s.state == SiteState::Pending)
                    .map(|s| SiteWrite {
                        site: s.site,
                        key: s.key.clone(),
                        phase: s.phase,
                        state: SiteState::Skipped,
                        detail: "abandoned".into(),
                        log_tail: None,
                    })
                    .collect();
                let moves = match task.status.apply(TaskEvent::RolloutFailed) {
                    Ok(transition) => vec![OwnedMove {
                        transition,
                        actor: caller.person.clone(),
                        note: "rollout abandoned".into(),
                    }],
                    Err(_) => vec![],
                };
                self.note(
                    caller,
                    &stored,
                    RolloutState::Aborted,
                    format!("abandoned by {who}: {}", action.reason),
                    moves,
                    skipped,
                )
                .await?;
            }
            ("abandon", Some(_)) => {
                return Err(refused("the rollout is running: abort it instead"));
            }
            (other, _) => {
                return Err(refused(format!(
                    "`{other}` is not a rollout action (pause, resume, approve_gate, abort, rollback, abandon)"
                )));
            }
        }
        self.get(caller, RolloutRef { id: stored.id }).await
    }

    /// Rebuilds a run from what is stored (after a halt, a crash): the same plan, playbook,
    /// parameters and approved package — re-verified.
    async fn rebuild(&self, caller: &Caller, stored: &StoredRollout) -> Result<Arc<Run>, ApiError> {
        let plan = Self::plan_of(stored)?;
        let task = self
            .api
            .store
            .task(stored.task)
            .await?
            .ok_or_else(|| refused("the rollout's task is gone"))?;
        let loaded = self.api.reviews().approved(task.id).await?;
        if loaded.sha256() != stored.package_sha256 {
            return Err(refused(format!(
                "the approved package is now {}, not the {} this rollout started with",
                loaded.sha256(),
                stored.package_sha256
            )));
        }
        let (playbook, sha256) = built_in(&stored.playbook)?;
        if sha256 != stored.playbook_sha256 {
            return Err(refused(format!(
                "playbook {} changed since the rollout started; start a new rollout",
                stored.playbook
            )));
        }
        let params: BTreeMap<String, String> =
            serde_json::from_str(&stored.params).unwrap_or_default();
        let mut servers = HashMap::new();
        for name in plan.sites.iter().flat_map(|s| s.servers.iter()) {
            if let Some(s) = self.api.store.server(name).await? {
                servers.insert(name.clone(), s);
            }
        }
        let artifacts = loaded
            .package()
            .artifacts()
            .map(|(path, e)| Artifact {
                path: path.to_owned(),
                bytes: Arc::new(e.bytes.clone()),
                sha256: e.sha256_hex(),
            })
            .collect();
        let secrets = self
            .secret_files(&playbook, &params)
            .await
            .map_err(|e| refused(format!("playbook {}: {e}", stored.playbook)))?;
        let prepared = Prepared {
            task,
            institutions: vec![],
            playbook,
            playbook_sha256: stored.playbook_sha256.clone(),
            package_version: stored.package_version,
            package_sha256: stored.package_sha256.clone(),
            artifacts,
            secrets,
            params,
            version: stored.version_label.clone(),
            plan,
            servers,
            blockers: vec![],
            notes: vec![],
        };
        Ok(self.run_of(&stored.id, caller, prepared))
    }

    async fn resume(
        &self,
        caller: &Caller,
        stored: &StoredRollout,
        task: &Task,
    ) -> Result<(), ApiError> {
        if stored.state.is_final() {
            return Err(refused(format!(
                "rollout {} is over ({})",
                stored.id, stored.state
            )));
        }
        if self.api.runtime.kill_switch().is_engaged() {
            return Err(refused(
                "the kill switch is engaged: a security officer must re-arm it first",
            ));
        }
        let run = self.rebuild(caller, stored).await?;
        let sites = self.api.store.rollout_sites(&stored.id).await?;
        let mut states = vec![SiteState::Pending; run.plan.sites.len()];
        for s in &sites {
            if let Some(slot) = states.get_mut(s.site as usize) {
                *slot = s.state;
            }
        }
        if states
            .iter()
            .any(|s| matches!(s, SiteState::Running | SiteState::RollingBack))
        {
            return Err(refused(
                "some sites are still marked running: the rollout is not settled",
            ));
        }
        let moves = match task.status.apply(TaskEvent::RolloutResumed) {
            Ok(transition) => vec![OwnedMove {
                transition,
                actor: caller.person.clone(),
                note: format!("rollout {} resumed", stored.id),
            }],
            Err(_) => vec![],
        };
        self.note(
            caller,
            stored,
            RolloutState::Running,
            format!("resumed by {}", caller.name()),
            moves,
            vec![],
        )
        .await?;
        self.launch(run, states)
    }

    /// Rolls back one site, the current phase, or everything touched, as a job.
    async fn roll_back(
        &self,
        caller: &Caller,
        stored: &StoredRollout,
        action: &RolloutAction,
    ) -> Result<(), ApiError> {
        if self.api.runtime.kill_switch().is_engaged() {
            return Err(refused(
                "the kill switch is engaged: a security officer must re-arm it first",
            ));
        }
        let run = self.rebuild(caller, stored).await?;
        let sites = self.api.store.rollout_sites(&stored.id).await?;
        let touched = |s: &&guardia_store::StoredSite| {
            matches!(
                s.state,
                SiteState::Done | SiteState::Uncertain | SiteState::ManualInterventionRequired
            )
        };
        let chosen: Vec<usize> = match action.scope.as_str() {
            "site" => {
                let index = run
                    .plan
                    .sites
                    .iter()
                    .position(|s| s.key == action.site || s.site == action.site)
                    .ok_or_else(|| {
                        refused(format!("no site `{}` in {}", action.site, stored.id))
                    })?;
                vec![index]
            }
            "phase" => sites
                .iter()
                .filter(touched)
                .filter(|s| s.phase == stored.phase)
                .map(|s| s.site as usize)
                .collect(),
            "all" | "" => sites
                .iter()
                .filter(touched)
                .map(|s| s.site as usize)
                .collect(),
            other => {
                return Err(refused(format!(
                    "`{other}` is not a rollback scope (site, phase, all)"
                )));
            }
        };
        let everything = matches!(action.scope.as_str(), "all" | "");
        self.note(
            caller,
            stored,
            stored.state,
            format!(
                "rollback of {} site(s) requested by {}",
                chosen.len(),
                caller.name()
            ),
            vec![],
            vec![],
        )
        .await?;
        let id = stored.id.clone();
        let api = self.api.clone();
        let caller = caller.clone();
        self.registry()
            .live()
            .insert(id.clone(), (RolloutControl::default(), run.clone()));
        let started = self.api.runtime.jobs().start(
            JobKind::Rollout,
            entries::rollout_subject(&id),
            Concurrency::Many,
            move |ctx| async move {
                use futures_util::stream::{FuturesUnordered, StreamExt as _};
                let mut running: FuturesUnordered<_> = chosen
                    .iter()
                    .map(|&site| {
                        let host = Host(run.clone());
                        let token: CancellationToken = ctx.token().child_token();
                        async move {
                            guardia_engine::rollout::RolloutHost::roll_back(&host, site, token)
                                .await
                        }
                    })
                    .collect();
                let mut manual = 0;
                while let Some(state) = running.next().await {
                    if state != SiteState::RolledBack {
                        manual += 1;
                    }
                }
                drop(running);
                if everything && manual == 0 && !ctx.is_cancelled() {
                    let stored = api.store.rollout(&id).await.ok().flatten();
                    if let Some(stored) = stored {
                        let task = api.store.task(stored.task).await.ok().flatten();
                        let moves = task
                            .and_then(|t| t.status.apply(TaskEvent::RolledBack).ok())
                            .map(|transition| OwnedMove {
                                transition,
                                actor: caller.person.clone(),
                                note: format!("rollout {id} rolled back"),
                            })
                            .into_iter()
                            .collect();
                        let _ = api
                            .rollouts()
                            .note(
                                &caller,
                                &stored,
                                RolloutState::RolledBack,
                                "everything touched was rolled back".into(),
                                moves,
                                vec![],
                            )
                            .await;
                    }
                }
                api.rollout_registry.live().remove(&id);
                JobState::Finished {
                    outcome: Box::new(JobOutcome::Rollout(RolloutBrief {
                        id: id.clone(),
                        task: String::new(),
                        state: if manual == 0 {
                            "ROLLED_BACK".into()
                        } else {
                            "HALTED".into()
                        },
                        reason: format!("{manual} site(s) could not be rolled back"),
                        version_label: String::new(),
                        started_by: caller.name().to_owned(),
                        started_at: String::new(),
                        sites: chosen.len() as u32,
                        failures: manual,
                    })),
                }
            },
        );
        if let Err(e) = started {
            self.registry().live().remove(&stored.id);
            return Err(e.into());
        }
        Ok(())
    }

    /// Applies what other processes asked of the rollouts this process runs (the feed
    /// pump calls it when rollouts changed).
    pub(crate) async fn take_requests(&self) {
        let live: Vec<(String, RolloutControl)> = self
            .registry()
            .live()
            .iter()
            .map(|(id, (c, _))| (id.clone(), c.clone()))
            .collect();
        for (id, control) in live {
            let Ok(Some(stored)) = self.api.store.rollout(&id).await else {
                continue;
            };
            match stored.request.as_str() {
                "" => continue,
                "pause" => control.pause(),
                "resume" => control.resume(),
                "approve_gate" => control.approve_gate(),
                "abort" => control.abort(),
                other => tracing::warn!(rollout = %id, "unknown request `{other}` ignored"),
            }
            let clear = RolloutWrite {
                rollout_id: id.clone(),
                request: Some(String::new()),
                ..RolloutWrite::default()
            };
            if let Err(e) = self.registry().writer.write(self.api, clear).await {
                tracing::warn!(rollout = %id, "cannot clear the request: {e}");
            }
        }
    }

    /// At console start: rollouts that were running when the console stopped are marked
    /// INTERRUPTED, their running sites UNCERTAIN (a step's outcome is unknown), for a person
    /// to resume, roll back or abandon. Nothing is retried by itself.
    pub async fn recover(&self, caller: &Caller) -> Result<Vec<String>, ApiError> {
        let mut found = Vec::new();
        for r in self.api.store.open_rollouts().await? {
            if self.registry().live().contains_key(&r.id) {
                continue;
            }
            if !matches!(
                r.state,
                RolloutState::Running | RolloutState::Paused | RolloutState::WaitingGate
            ) {
                continue;
            }
            let sites = self.api.store.rollout_sites(&r.id).await?;
            let uncertain: Vec<SiteWrite> = sites
                .iter()
                .filter(|s| matches!(s.state, SiteState::Running | SiteState::RollingBack))
                .map(|s| SiteWrite {
                    site: s.site,
                    key: s.key.clone(),
                    phase: s.phase,
                    state: SiteState::Uncertain,
                    detail: "the console stopped while this site was being updated: its last step's outcome is unknown".into(),
                    log_tail: None,
                })
                .collect();
            let n = uncertain.len();
            self.note(
                caller,
                &r,
                RolloutState::Interrupted,
                format!("the console stopped during the rollout; {n} site(s) in an unknown state"),
                vec![],
                uncertain,
            )
            .await?;
            found.push(r.id.clone());
        }
        Ok(found)
    }

    // --- The kill switch -----------------------------------------------------------------

    pub async fn kill_switch(&self) -> Result<KillSwitchView, ApiError> {
        let stored = self.api.store.kill_switch().await?;
        Ok(KillSwitchView {
            engaged: stored.as_ref().is_some_and(|k| k.engaged)
                || self.api.runtime.kill_switch().is_engaged(),
            by: stored.as_ref().map(|k| k.by.clone()).unwrap_or_default(),
            reason: stored
                .as_ref()
                .map(|k| k.reason.clone())
                .unwrap_or_default(),
            at: stored.as_ref().map(|k| rfc3339(k.at)),
            allowed: ALLOWED_WHILE_LOCKED
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            refused: REFUSED_WHILE_LOCKED
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        })
    }

    /// What to tell everyone at a console when the kill switch changed since `seen` (the state
    /// last seen; `None` at start, when nothing is told): pressed (urgent) or re-armed, with
    /// who and why. Updates `seen`.
    pub async fn kill_switch_notice(
        &self,
        seen: &mut Option<bool>,
    ) -> Result<Option<KillSwitchNotice>, ApiError> {
        let now = self.kill_switch().await?;
        let changed = seen.is_some_and(|was| was != now.engaged);
        *seen = Some(now.engaged);
        if !changed {
            return Ok(None);
        }
        Ok(Some(if now.engaged {
            KillSwitchNotice {
                summary: "KILL SWITCH PRESSED / 킬 스위치 작동".to_owned(),
                body: format!(
                    "{} — {}\nEvery rollout is halted; nothing that changes a server runs until a \
                     security officer re-arms.\n모든 롤아웃이 중지되었습니다. 보안 담당자가 해제할 \
                     때까지 서버를 바꾸는 작업은 실행되지 않습니다.",
                    now.by, now.reason
                ),
                urgent: true,
            }
        } else {
            KillSwitchNotice {
                summary: "Kill switch re-armed / 킬 스위치 해제".to_owned(),
                body: format!(
                    "{} — {}\nAutomation may run again; halted rollouts wait for a decision.\n\
                     자동화를 다시 실행할 수 있습니다. 중지된 롤아웃은 결정을 기다립니다.",
                    now.by, now.reason
                ),
                urgent: false,
            }
        }))
    }

    /// Stops everything now: the runtime's kill-switch token first (every remote command's
    /// process group is killed, every rollout halts), then the record.
    pub async fn press(
        &self,
        caller: &Caller,
        input: KillSwitchInput,
    ) -> Result<KillSwitchView, ApiError> {
        let reason = input.reason.trim();
        if reason.is_empty() {
            return Err(refused("say why the kill switch is pressed"));
        }
        self.api.runtime.kill_switch().engage();
        let halted: Vec<String> = self.registry().live().keys().cloned().collect();
        let now = self.now();
        let write = RolloutWrite {
            kill_switch: Some(KillSwitchState {
                engaged: true,
                by: caller.name().to_owned(),
                reason: reason.to_owned(),
                at: now,
            }),
            at: Some(now),
            audit: vec![entries::kill_switch_pressed(
                reason,
                &halted,
                caller.name(),
                now,
            )],
            ..RolloutWrite::default()
        };
        self.registry().writer.write(self.api, write).await?;
        tracing::error!(
            by = caller.name(),
            rollouts = halted.len(),
            "KILL SWITCH PRESSED: {reason}"
        );
        self.kill_switch().await
    }

    pub async fn rearm(
        &self,
        caller: &Caller,
        input: KillSwitchInput,
    ) -> Result<KillSwitchView, ApiError> {
        let reason = input.reason.trim();
        if reason.is_empty() {
            return Err(refused("say why automation may go on again"));
        }
        let now = self.now();
        let write = RolloutWrite {
            kill_switch: Some(KillSwitchState {
                engaged: false,
                by: caller.name().to_owned(),
                reason: reason.to_owned(),
                at: now,
            }),
            at: Some(now),
            audit: vec![entries::kill_switch_rearmed(reason, caller.name(), now)],
            ..RolloutWrite::default()
        };
        self.registry().writer.write(self.api, write).await?;
        self.api.runtime.kill_switch().rearm();
        self.kill_switch().await
    }

    // --- History and drift ------------------------------------------------------------------

    pub async fn history(&self, r: ServerRef) -> Result<ServerHistory, ApiError> {
        self.api.stored_server(&r.name).await?;
        let rows = self.api.store.deployments(&r.name).await?;
        let view = |d: &guardia_store::Deployment| DeploymentView {
            at: rfc3339(d.at),
            task: d.task.to_string(),
            rollout: d.rollout.clone(),
            version: d.version.clone(),
            files: d.files.lines().map(str::to_owned).collect(),
            actor: d.actor.clone(),
            result: d.result.clone(),
            audit_index: d.audit_index,
        };
        Ok(ServerHistory {
            server: r.name.clone(),
            current: rows.first().map(view),
            history: rows.iter().map(view).collect(),
        })
    }

    /// Reads the SHA-256 of every file the last deployment recorded on the server.
    pub async fn drift(&self, caller: &Caller, r: ServerRef) -> Result<DriftReport, ApiError> {
        let stored = self.api.stored_server(&r.name).await?;
        let history = self.api.store.deployments(&r.name).await?;
        let Some(last) = history.first() else {
            return Ok(DriftReport {
                server: r.name,
                files: vec![],
                drifted: false,
            });
        };
        let deploy = stored.record.deploy_path.clone().unwrap_or_default();
        let recorded: Vec<(String, String)> = last
            .files
            .lines()
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(p, h)| {
                let path = if p.starts_with('/') {
                    p.to_owned()
                } else {
                    format!("{deploy}/{p}")
                };
                (path, h.to_owned())
            })
            .collect();
        let mut script = String::new();
        for (i, (path, _)) in recorded.iter().enumerate() {
            let q = guardia_domain::command::quote(path);
            script.push_str(&format!(
                "if [ -e {q} ]; then echo \"@@f{i} $(sha256sum < {q} | cut -c1-64)\"; else echo '@@f{i} absent'; fi\n"
            ));
        }
        let token = self.api.runtime.root().child_token();
        let session = self
            .api
            .connect(caller, &stored, &token)
            .await
            .map_err(ApiError::Ssh)?;
        let command = self
            .api
            .checked(
                caller,
                &stored,
                &script,
                guardia_domain::command::CommandContext::Check,
            )
            .await?;
        let report = session
            .run(&command, &guardia_ssh::ExecLimits::default(), &token)
            .await
            .map_err(ApiError::Ssh);
        session.close().await;
        let stdout = report?.stdout.text();
        let found: HashMap<&str, &str> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("@@f"))
            .filter_map(|l| l.split_once(' '))
            .collect();
        let files: Vec<DriftFile> = recorded
            .iter()
            .enumerate()
            .map(|(i, (path, hash))| {
                let f = found
                    .get(i.to_string().as_str())
                    .map(|s| (*s).to_owned())
                    .unwrap_or_default();
                DriftFile {
                    path: path.clone(),
                    recorded: hash.clone(),
                    same: &f == hash,
                    found: f,
                }
            })
            .collect();
        Ok(DriftReport {
            server: r.name,
            drifted: files.iter().any(|f| !f.same),
            files,
        })
    }
}
