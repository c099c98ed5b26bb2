//! A rollout at work: what happens on each server, the step journal, and the group writer.
//!
//! **One connection per server, few remote processes.** A server gets one SSH connection
//! and, for a deploy, four commands: the pre-check script (which also prepares the staging
//! and backup folders), the upload of each artifact over SFTP with the server's SHA-256
//! check, one compound command for backup → drain → apply → restart, and one for the remote
//! post-checks (log since the restart, the new pid alive). The HTTP and port checks run from
//! the console. Each compound command prints a marker as every step begins and ends, so the
//! journal records each step — and a command cut off half-way says exactly which step's
//! outcome is unknown.
//!
//! **Journal before and after.** A step's `begin` row is committed before its command is
//! sent and its `end` row after the outcome is known; after a crash a `begin` without an
//! `end` is an unknown outcome, never a success. Writes go through the [`GroupWriter`]: while
//! one transaction commits, the next ones queue and are committed together, so 1,000 sites
//! cost a few hundred transactions, not tens of thousands.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use guardia_audit::Outcome;
use guardia_domain::command::{CommandContext, RemoteCommand, quote};
use guardia_domain::rollout::playbook::render;
use guardia_domain::rollout::{Directive, Plan, Playbook, RolloutState, SiteState, StepKind};
use guardia_domain::{PersonName, TaskEvent, TaskId};
use guardia_engine::probe;
use guardia_engine::rollout::{DriverEvent, RolloutHost};
use guardia_ipc::CheckState;
use guardia_ssh::{Credential, ExecLimits, ExecReport, RemoteEffect, SshError, SshSession};
use guardia_store::{
    DeploymentWrite, JournalRow, OwnedMove, RolloutWrite, SiteWrite, StoredServer,
};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::rollout_entries as entries;
use crate::{Api, ApiError, Caller, CheckpointReason};

/// The longest a compound command may run (shutdown and startup scripts included).
const STEP_TIMEOUT: Duration = Duration::from_secs(300);
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);
/// Health: this many failures in a row, or this long without a healthy answer, fail it.
pub(crate) const HEALTH_FAILURES: u32 = 3;
pub(crate) const HEALTH_WINDOW: Duration = Duration::from_secs(30);
const HEALTH_PAUSE: Duration = Duration::from_millis(500);
/// What is kept of a failed site's service log.
const LOG_TAIL_BYTES: u32 = 4096;
const KEPT_OUTPUT: usize = 16 * 1024;

// --- The group writer ----------------------------------------------------------------------

type Waiter = oneshot::Sender<Result<(), String>>;

/// Commits rollout writes in groups: whoever finds no commit running takes every write
/// queued so far and commits them in one transaction; the others wait for their answer.
#[derive(Default)]
pub(crate) struct GroupWriter {
    queue: Mutex<Vec<(RolloutWrite, Waiter)>>,
    turn: tokio::sync::Mutex<()>,
    /// Transactions and writes so far (the benchmark reports the ratio).
    pub(crate) commits: AtomicU32,
    pub(crate) writes: AtomicU32,
}

impl GroupWriter {
    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<(RolloutWrite, Waiter)>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits `write` (with whatever else is queued); returns once it is durable.
    pub(crate) async fn write(&self, api: &Api, write: RolloutWrite) -> Result<(), ApiError> {
        let (tx, mut rx) = oneshot::channel();
        self.queue().push((write, tx));
        loop {
            let turn = self.turn.lock().await;
            if let Ok(answer) = rx.try_recv() {
                return answer.map_err(ApiError::Internal);
            }
            let batch: Vec<(RolloutWrite, Waiter)> = std::mem::take(&mut *self.queue());
            if batch.is_empty() {
                drop(turn);
                continue;
            }
            let (writes, waiters): (Vec<RolloutWrite>, Vec<Waiter>) = batch.into_iter().unzip();
            let result = api.store.write_rollouts(&writes).await;
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.writes
                .fetch_add(writes.len() as u32, Ordering::Relaxed);
            let answer = result.map_err(|e| e.to_string());
            for waiter in waiters {
                let _gone = waiter.send(answer.clone());
            }
            drop(turn);
            if let Ok(answer) = rx.try_recv() {
                return answer.map_err(ApiError::Internal);
            }
        }
    }
}

// --- One run ---------------------------------------------------------------------------------

/// An artifact of the approved package, as deployed.
#[derive(Clone)]
pub(crate) struct Artifact {
    /// Under `artifacts/` in the package; under the deploy path on the server.
    pub path: String,
    pub bytes: Arc<Vec<u8>>,
    pub sha256: String,
}

/// A secret file a rollout installs (a TLS private key from the console's keyring): where it
/// goes (a template, rendered per server) and its bytes — never logged, journaled or stored.
pub(crate) struct SecretFile {
    pub path: String,
    pub bytes: Arc<guardia_secrets::Sensitive<Vec<u8>>>,
    pub sha256: String,
}

/// Everything a rollout's sites need, loaded once when it starts or resumes.
pub(crate) struct Run {
    pub api: Arc<Api>,
    pub id: String,
    pub task: TaskId,
    pub actor: PersonName,
    pub caller: Caller,
    pub plan: Arc<Plan>,
    pub playbook: Playbook,
    pub params: BTreeMap<String, String>,
    pub version: String,
    pub artifacts: Vec<Artifact>,
    pub secrets: Vec<SecretFile>,
    pub servers: HashMap<String, StoredServer>,
    pub credentials: tokio::sync::Mutex<HashMap<String, Arc<Credential>>>,
    pub writer: Arc<GroupWriter>,
    /// Sites settled in this run, and when it began (the board's ETA).
    pub settled: AtomicU32,
    pub began: Instant,
}

/// How one server's update ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ServerEnd {
    Done,
    /// Nothing changed (a pre-check or the staging failed).
    Clean(String),
    /// The change was undone.
    RolledBack(String),
    /// The rollback failed.
    Manual(String),
    Uncertain(String),
}

/// A file backed up before the change: where it lives and its hash (`absent`: there was
/// none, the rollback removes what the change put there).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Backup {
    path: String,
    sha256: String,
}

/// One server's rollback material, kept in the journal (the `backup` step's end row).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Restorable {
    backups: Vec<Backup>,
}

struct Markers {
    begun: Vec<String>,
    ended: Vec<String>,
    values: HashMap<String, String>,
    fail: Option<String>,
}

/// Reads the `@@` lines a compound command printed.
fn markers(stdout: &str) -> Markers {
    let mut m = Markers {
        begun: Vec::new(),
        ended: Vec::new(),
        values: HashMap::new(),
        fail: None,
    };
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("@@") else {
            continue;
        };
        let (word, value) = rest.split_once(' ').unwrap_or((rest, ""));
        match word {
            "begin" => m.begun.push(value.trim().to_owned()),
            "end" => m.ended.push(value.trim().to_owned()),
            "fail" => m.fail = Some(value.trim().to_owned()),
            _ => {
                m.values.insert(word.to_owned(), value.trim().to_owned());
            }
        }
    }
    m
}

impl Run {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.api.now()
    }

    fn site_key(&self, site: usize) -> &str {
        &self.plan.sites[site].key
    }

    fn phase_of(&self, site: usize) -> u32 {
        self.plan
            .phases
            .iter()
            .position(|p| p.sites().any(|s| s == site))
            .unwrap_or(0) as u32
    }

    async fn write(&self, write: RolloutWrite) {
        if let Err(e) = self.writer.write(&self.api, write).await {
            // The journal could not be written: the step must not run blind. Stopping the
            // rollout's work is what the kill switch's token is for; here we can only log —
            // the caller checks the token before every step.
            tracing::error!(rollout = %self.id, "journal write failed: {e}");
        }
    }

    fn base(&self) -> RolloutWrite {
        RolloutWrite {
            rollout_id: self.id.clone(),
            task: Some(self.task),
            at: Some(self.now()),
            ..RolloutWrite::default()
        }
    }

    fn journal_row(
        &self,
        site: usize,
        server: &str,
        step: &str,
        mark: &str,
        outcome: &str,
        detail: &str,
    ) -> JournalRow {
        JournalRow {
            seq: 0,
            site: site as u32,
            server: server.to_owned(),
            step: step.to_owned(),
            mark: mark.to_owned(),
            outcome: outcome.to_owned(),
            detail: detail.to_owned(),
            at: self.now(),
        }
    }

    /// Commits `begin` rows for `steps` (and anything in `write`) before they run.
    async fn begin(&self, site: usize, server: &str, steps: &[&str], mut write: RolloutWrite) {
        for step in steps {
            write
                .journal
                .push(self.journal_row(site, server, step, "begin", "pending", ""));
        }
        self.write(write).await;
    }

    /// An `end` row and its audit entry for one step.
    fn end(
        &self,
        write: &mut RolloutWrite,
        site: usize,
        server: &str,
        step: &str,
        outcome: Outcome,
        detail: &str,
    ) {
        write
            .journal
            .push(self.journal_row(site, server, step, "end", outcome.code(), detail));
        write.audit.push(entries::rollout_step(
            &self.id,
            self.site_key(site),
            server,
            step,
            outcome,
            detail,
            self.actor.as_str(),
            self.now(),
        ));
    }

    fn site_write(
        &self,
        site: usize,
        state: SiteState,
        detail: &str,
        log_tail: Option<String>,
    ) -> SiteWrite {
        SiteWrite {
            site: site as u32,
            key: self.site_key(site).to_owned(),
            phase: self.phase_of(site),
            state,
            detail: detail.to_owned(),
            log_tail,
        }
    }

    /// The values a server's templates may use.
    fn values(&self, stored: &StoredServer) -> BTreeMap<String, String> {
        let r = &stored.record;
        let mut v = self.params.clone();
        let deploy = r.deploy_path.clone().unwrap_or_default();
        let put = |v: &mut BTreeMap<String, String>, k: &str, x: Option<String>| {
            if let Some(x) = x {
                v.insert(k.to_owned(), x);
            }
        };
        put(&mut v, "server", Some(r.server.clone()));
        put(&mut v, "site", Some(r.site.clone()));
        put(&mut v, "system", Some(r.system.clone()));
        put(&mut v, "address", Some(r.address.clone()));
        put(&mut v, "user", Some(r.user.clone()));
        put(&mut v, "app_path", r.app_path.clone());
        put(&mut v, "deploy_path", r.deploy_path.clone());
        put(
            &mut v,
            "service_port",
            r.service_port.map(|p| p.to_string()),
        );
        put(&mut v, "health_log_file", r.health.log_file.clone());
        put(
            &mut v,
            "health_log_error_pattern",
            r.health.log_error_pattern.clone(),
        );
        put(&mut v, "health_http_url", r.health.http_url.clone());
        v.insert("version".into(), self.version.clone());
        v.insert("task".into(), self.task.to_string());
        v.insert("rollout".into(), self.id.clone());
        v.insert(
            "stage_dir".into(),
            format!("{deploy}/.guardia-stage/{}", self.id),
        );
        v
    }

    fn backup_dir(&self, stored: &StoredServer) -> String {
        format!(
            "{}/.guardia-backup/{}",
            stored.record.deploy_path.as_deref().unwrap_or("/tmp"),
            self.id
        )
    }

    /// The files the backup step copies, in order: every artifact's target, then each
    /// `backup file` line.
    fn backup_targets(
        &self,
        stored: &StoredServer,
        values: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, String> {
        let deploy = stored.record.deploy_path.clone().unwrap_or_default();
        let mut out = Vec::new();
        for line in self.playbook.step(StepKind::Backup) {
            match &line.directive {
                Directive::Artifacts => {
                    out.extend(
                        self.artifacts
                            .iter()
                            .map(|a| format!("{deploy}/{}", a.path)),
                    );
                }
                Directive::File { path } => out.push(render(path, values, false)?),
                _ => {}
            }
        }
        Ok(out)
    }

    async fn credential(&self, stored: &StoredServer) -> Result<Arc<Credential>, String> {
        let name = stored.record.credential.clone().unwrap_or_default();
        if let Some(c) = self.credentials.lock().await.get(&name) {
            return Ok(c.clone());
        }
        let c = Arc::new(
            self.api
                .ssh_credential(&stored.record)
                .await
                .map_err(|e| e.to_string())?,
        );
        self.credentials.lock().await.insert(name, c.clone());
        Ok(c)
    }

    async fn connect(
        &self,
        stored: &StoredServer,
        token: &CancellationToken,
    ) -> Result<SshSession, SshError> {
        let credential =
            self.credential(stored)
                .await
                .map_err(|reason| SshError::BadCredential {
                    target: Api::target(&stored.record).label(),
                    reason,
                })?;
        self.api
            .connect_with(&self.caller, stored, &credential, token)
            .await
    }

    async fn exec(
        &self,
        session: &SshSession,
        script: &str,
        token: &CancellationToken,
    ) -> Result<ExecReport, SshError> {
        let command = RemoteCommand::check(script, CommandContext::Playbook).map_err(|r| {
            SshError::Session {
                target: session.target().label(),
                stage: guardia_ssh::Stage::Running,
                reason: format!("refused by the denylist: {r}"),
                effect: RemoteEffect::None,
            }
        })?;
        session
            .run(
                &command,
                &ExecLimits {
                    timeout: STEP_TIMEOUT,
                    max_kept_bytes: KEPT_OUTPUT,
                },
                token,
            )
            .await
    }

    // --- Scripts -----------------------------------------------------------------------------

    /// Renders every script of the run for one server and runs each through the denylist:
    /// what the rollout would send, checked before it starts.
    pub(crate) fn probe_scripts(&self, stored: &StoredServer) -> Result<(), String> {
        let values = self.values(stored);
        let targets = self.backup_targets(stored, &values)?;
        let restorable = Restorable {
            backups: targets
                .iter()
                .map(|t| Backup {
                    path: t.clone(),
                    sha256: "0".repeat(64),
                })
                .collect(),
        };
        let mut scripts = vec![
            self.precheck_script(stored, &values)?,
            self.change_script(stored, &values, &targets)?,
            self.restore_script(stored, &values, &restorable, false)?,
        ];
        scripts.extend(self.postcheck_script(stored, &values, Some(0), Some("1"))?);
        if self.playbook.has(StepKind::Undrain) {
            scripts.push(self.run_lines(StepKind::Undrain, &values, 80)?);
        }
        for script in scripts {
            RemoteCommand::check(&script, CommandContext::Playbook).map_err(|r| r.to_string())?;
        }
        Ok(())
    }

    /// Uploads one staged file and checks the SHA-256 the server computed of what arrived.
    /// A mismatch names both hashes only when `shown` (the expected one) is given.
    async fn stage_file(
        session: &SshSession,
        bytes: &[u8],
        path: &str,
        sha256: &str,
        what: &str,
        shown: Option<&str>,
        token: &CancellationToken,
    ) -> Result<(), String> {
        if token.is_cancelled() {
            return Err("stopped before the upload".into());
        }
        match session.upload(bytes, path, UPLOAD_TIMEOUT, token).await {
            Ok(up) if up.sha256 == sha256 => Ok(()),
            Ok(up) => Err(match shown {
                Some(expected) => format!("{what}: the server has {} not {expected}", up.sha256),
                None => format!("{what} arrived altered"),
            }),
            Err(e) => Err(format!("{what}: {e}")),
        }
    }

    /// The pre-check script: every remote check, then the staging and backup folders.
    fn precheck_script(
        &self,
        stored: &StoredServer,
        values: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        let mut s = String::from("echo '@@begin pre-check'\n");
        for line in self.playbook.step(StepKind::PreCheck) {
            let n = line.line;
            match &line.directive {
                Directive::FreeDisk { path, min_mb } => {
                    let path = render(path, values, true)?;
                    let min = render(min_mb, values, false)?;
                    let min: u64 = min
                        .parse()
                        .map_err(|_| format!("line {n}: `{min}` is not a number"))?;
                    s.push_str(&format!(
                        "v=$(df -Pm {path} | awk 'NR==2 {{print $4}}')\n\
                         [ \"${{v:-0}}\" -ge {min} ] || {{ echo \"@@fail free disk on {p}: ${{v:-?}} MiB, {min} needed (line {n})\"; exit 20; }}\n",
                        p = path.replace('\'', "")
                    ));
                }
                Directive::FreeMemory { min_mb } => {
                    let min = render(min_mb, values, false)?;
                    let min: u64 = min
                        .parse()
                        .map_err(|_| format!("line {n}: `{min}` is not a number"))?;
                    s.push_str(&format!(
                        "v=$(awk '/^MemAvailable:/ {{print int($2 / 1024)}}' /proc/meminfo)\n\
                         [ \"${{v:-0}}\" -ge {min} ] || {{ echo \"@@fail free memory: ${{v:-?}} MiB, {min} needed (line {n})\"; exit 21; }}\n"
                    ));
                }
                Directive::Run { template } => {
                    let command = render(template, values, true)?;
                    s.push_str(&format!(
                        "( {command} ) >&2 || {{ echo '@@fail pre-check command failed (line {n})'; exit 22; }}\n"
                    ));
                }
                _ => {}
            }
        }
        // Where the change goes: staging and backup folders, and every target's folder.
        let mut dirs = vec![
            values.get("stage_dir").cloned().unwrap_or_default(),
            self.backup_dir(stored),
        ];
        let deploy = stored.record.deploy_path.clone().unwrap_or_default();
        let stage = values.get("stage_dir").cloned().unwrap_or_default();
        for a in &self.artifacts {
            if let Some((parent, _)) = a.path.rsplit_once('/') {
                dirs.push(format!("{stage}/{parent}"));
                dirs.push(format!("{deploy}/{parent}"));
            }
        }
        if self.playbook.has(StepKind::Stage) || self.playbook.has(StepKind::Backup) {
            let quoted: Vec<String> = dirs.iter().map(|d| quote(d)).collect();
            // The staging folder is owner-only: a secret file waits there for its install.
            s.push_str(&format!(
                "mkdir -p {} && chmod 700 {} || {{ echo '@@fail cannot create the staging folders'; exit 23; }}\n",
                quoted.join(" "),
                quote(&stage)
            ));
        }
        s.push_str("echo '@@end pre-check'\n");
        Ok(s)
    }

    fn run_lines(
        &self,
        step: StepKind,
        values: &BTreeMap<String, String>,
        code: u32,
    ) -> Result<String, String> {
        let mut s = String::new();
        for line in self.playbook.step(step) {
            if let Directive::Run { template } = &line.directive {
                let command = render(template, values, true)?;
                s.push_str(&format!(
                    "( {command} ) >&2 || {{ echo '@@fail {step} command failed (line {n})'; exit {code}; }}\n",
                    n = line.line
                ));
            }
        }
        Ok(s)
    }

    fn restart_lines(&self, values: &BTreeMap<String, String>) -> Result<String, String> {
        let mut s = String::new();
        for line in self.playbook.step(StepKind::Restart) {
            match &line.directive {
                Directive::Shutdown { script } => {
                    let script = render(script, values, true)?;
                    s.push_str(&format!(
                        "{script} >&2 || {{ echo '@@fail the shutdown script failed (line {n})'; exit 50; }}\n",
                        n = line.line
                    ));
                }
                Directive::Startup { script } => {
                    let script = render(script, values, true)?;
                    s.push_str(&format!(
                        "{script} >&2 || {{ echo '@@fail the startup script failed (line {n})'; exit 51; }}\n",
                        n = line.line
                    ));
                }
                _ => {}
            }
        }
        Ok(s)
    }

    fn pid_file(&self, values: &BTreeMap<String, String>) -> Result<Option<String>, String> {
        for line in self.playbook.step(StepKind::PostCheck) {
            if let Directive::NewPid { pid_file } = &line.directive {
                return render(pid_file, values, true).map(Some);
            }
        }
        Ok(None)
    }

    fn log_clean(&self) -> bool {
        self.playbook
            .step(StepKind::PostCheck)
            .any(|l| l.directive == Directive::LogClean)
    }

    /// backup → drain → apply → restart, as one command with markers.
    fn change_script(
        &self,
        stored: &StoredServer,
        values: &BTreeMap<String, String>,
        targets: &[String],
    ) -> Result<String, String> {
        let backup_dir = self.backup_dir(stored);
        let stage = values.get("stage_dir").cloned().unwrap_or_default();
        let deploy = stored.record.deploy_path.clone().unwrap_or_default();
        let mut s = String::new();
        if self.playbook.has(StepKind::Backup) {
            s.push_str("echo '@@begin backup'\n");
            for (i, target) in targets.iter().enumerate() {
                let t = quote(target);
                let b = quote(&format!("{backup_dir}/{i}"));
                s.push_str(&format!(
                    "if [ -e {t} ]; then cp -p {t} {b} || {{ echo '@@fail cannot back up {tt}'; exit 30; }}; \
                     echo \"@@hash{i} $(sha256sum < {t} | cut -c1-64)\"; else echo '@@hash{i} absent'; fi\n",
                    tt = target.replace('\'', "")
                ));
            }
            s.push_str("echo '@@end backup'\n");
        }
        if self.playbook.has(StepKind::Drain) {
            s.push_str("echo '@@begin drain'\n");
            s.push_str(&self.run_lines(StepKind::Drain, values, 35)?);
            s.push_str("echo '@@end drain'\n");
        }
        if self.playbook.has(StepKind::Apply) {
            s.push_str("echo '@@begin apply'\n");
            for line in self.playbook.step(StepKind::Apply) {
                if line.directive == Directive::InstallSecretFiles {
                    for (i, f) in self.secrets.iter().enumerate() {
                        let from = quote(&format!("{stage}/.secret-{i}"));
                        let to = render(&f.path, values, true)?;
                        s.push_str(&format!(
                            "chmod 600 {from} && mv -f {from} {to} || {{ echo '@@fail cannot put secret file {i} in place'; exit 42; }}\n"
                        ));
                    }
                }
                if line.directive == Directive::InstallArtifacts {
                    for a in &self.artifacts {
                        s.push_str(&format!(
                            "mv -f {} {} || {{ echo '@@fail cannot put {p} in place'; exit 40; }}\n",
                            quote(&format!("{stage}/{}", a.path)),
                            quote(&format!("{deploy}/{}", a.path)),
                            p = a.path.replace('\'', "")
                        ));
                    }
                }
            }
            s.push_str(&self.run_lines(StepKind::Apply, values, 41)?);
            s.push_str("echo '@@end apply'\n");
        }
        if self.playbook.has(StepKind::Restart) {
            s.push_str("echo '@@begin restart'\n");
            let pid = self.pid_file(values)?;
            if let Some(pid) = &pid {
                s.push_str(&format!("echo \"@@oldpid $(cat {pid} 2>/dev/null)\"\n"));
            }
            if let (true, Some(log)) = (self.log_clean(), &stored.record.health.log_file) {
                s.push_str(&format!(
                    "echo \"@@logsize $(wc -c < {} 2>/dev/null || echo 0)\"\n",
                    quote(log)
                ));
            }
            s.push_str(&self.restart_lines(values)?);
            if let Some(pid) = &pid {
                s.push_str(&format!("echo \"@@newpid $(cat {pid} 2>/dev/null)\"\n"));
            }
            s.push_str("echo '@@end restart'\n");
        }
        Ok(s)
    }

    /// The remote post-checks: no error in the log since the restart, the new pid alive,
    /// and the playbook's own check commands.
    fn postcheck_script(
        &self,
        stored: &StoredServer,
        values: &BTreeMap<String, String>,
        log_from: Option<u64>,
        new_pid: Option<&str>,
    ) -> Result<Option<String>, String> {
        let mut s = String::new();
        if let (Some(from), Some(log), Some(pattern)) = (
            log_from,
            &stored.record.health.log_file,
            &stored.record.health.log_error_pattern,
        ) {
            s.push_str(&format!(
                "if tail -c +{} {} 2>/dev/null | grep -E -m 3 -e {} >&2; then echo '@@fail errors in the service log since the restart'; exit 60; fi\n",
                from + 1,
                quote(log),
                quote(pattern)
            ));
        }
        if let Some(pid) =
            new_pid.filter(|p| p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty())
        {
            s.push_str(&format!(
                "kill -0 {pid} 2>/dev/null || {{ echo '@@fail the new process {pid} is not running'; exit 61; }}\n"
            ));
        }
        s.push_str(&self.run_lines(StepKind::PostCheck, values, 62)?);
        Ok((!s.is_empty()).then_some(s))
    }

    fn restore_script(
        &self,
        stored: &StoredServer,
        values: &BTreeMap<String, String>,
        restorable: &Restorable,
        drained: bool,
    ) -> Result<String, String> {
        let backup_dir = self.backup_dir(stored);
        let mut s = String::from("echo '@@begin rollback'\n");
        if drained || self.playbook.has(StepKind::Drain) {
            s.push_str(&self.run_lines(StepKind::Drain, values, 70)?);
        }
        for (i, b) in restorable.backups.iter().enumerate() {
            let t = quote(&b.path);
            if b.sha256 == "absent" {
                s.push_str(&format!("rm -f {t} || exit 71\n"));
            } else {
                s.push_str(&format!(
                    "cp -p {} {t} || {{ echo '@@fail cannot restore {p}'; exit 72; }}\n",
                    quote(&format!("{backup_dir}/{i}")),
                    p = b.path.replace('\'', "")
                ));
            }
        }
        s.push_str(&self.restart_lines(values)?);
        s.push_str("echo '@@end rollback'\n");
        Ok(s)
    }

    // --- Health ------------------------------------------------------------------------------

    /// HTTP (and port) health from the console: healthy at the first good answer; failed
    /// after [`HEALTH_FAILURES`] bad answers in a row or [`HEALTH_WINDOW`] without a good one.
    async fn healthy(
        &self,
        stored: &StoredServer,
        token: &CancellationToken,
    ) -> Result<(), String> {
        let r = &stored.record;
        let ports: Vec<u16> = self
            .playbook
            .step(StepKind::PostCheck)
            .filter_map(|l| match &l.directive {
                Directive::PortListening { port } => render(port, &self.values(stored), false)
                    .ok()
                    .and_then(|p| p.parse().ok()),
                _ => None,
            })
            .collect();
        let http = self
            .playbook
            .step(StepKind::PostCheck)
            .any(|l| l.directive == Directive::Http);
        let started = Instant::now();
        let mut failures = 0;
        loop {
            let mut problem = None;
            for port in &ports {
                let f = probe::tcp(&r.address, *port, probe::TCP_LIMIT, token).await;
                if f.state != CheckState::Pass {
                    problem = Some(f.detail);
                    break;
                }
            }
            if problem.is_none()
                && http
                && let Some(url) = &r.health.http_url
            {
                let expected = r.health.http_status.unwrap_or(200);
                let max = Duration::from_millis(u64::from(r.health.http_max_ms.unwrap_or(5_000)));
                let f = probe::http(
                    url,
                    expected,
                    max,
                    max.max(Duration::from_secs(2)) * 2,
                    token,
                )
                .await;
                if f.state != CheckState::Pass {
                    problem = Some(f.detail);
                }
            }
            if token.is_cancelled() {
                return Err("stopped before the health check ended".into());
            }
            let Some(problem) = problem else {
                return Ok(());
            };
            failures += 1;
            if failures >= HEALTH_FAILURES || started.elapsed() >= HEALTH_WINDOW {
                return Err(format!(
                    "unhealthy: {problem} ({failures} failed checks in {:.1} s)",
                    started.elapsed().as_secs_f64()
                ));
            }
            tokio::select! {
                () = token.cancelled() => return Err("stopped before the health check ended".into()),
                () = tokio::time::sleep(HEALTH_PAUSE) => {}
            }
        }
    }

    async fn log_tail(&self, session: &SshSession, stored: &StoredServer) -> Option<String> {
        let log = stored.record.health.log_file.as_ref()?;
        let script = format!("tail -c {LOG_TAIL_BYTES} {} 2>&1", quote(log));
        let fresh = CancellationToken::new();
        let run = self.exec(session, &script, &fresh);
        match tokio::time::timeout(CHECK_TIMEOUT, run).await {
            Ok(Ok(report)) => Some(report.stdout.text()),
            _ => None,
        }
    }

    // --- One server ----------------------------------------------------------------------

    /// Updates one server: pre-check, stage, backup → drain → apply → restart, post-check,
    /// undrain; rolls the server back itself when anything after the backup fails.
    async fn update_server(
        &self,
        site: usize,
        name: &str,
        token: &CancellationToken,
    ) -> (ServerEnd, Option<String>) {
        let Some(stored) = self.servers.get(name) else {
            return (
                ServerEnd::Clean(format!("server {name} is no longer in the inventory")),
                None,
            );
        };
        let values = self.values(stored);
        let step = |s: StepKind| s.as_str();
        // Connect and pre-check.
        self.begin(site, name, &[step(StepKind::PreCheck)], self.base())
            .await;
        if token.is_cancelled() {
            let mut w = self.base();
            self.end(
                &mut w,
                site,
                name,
                "pre-check",
                Outcome::Refused,
                "stopped before it started",
            );
            self.write(w).await;
            return (ServerEnd::Clean("stopped before it started".into()), None);
        }
        let session = match self.connect(stored, token).await {
            Ok(s) => s,
            Err(e) => {
                let mut w = self.base();
                let detail = format!("cannot connect: {e}");
                self.end(&mut w, site, name, "pre-check", Outcome::Failed, &detail);
                self.write(w).await;
                return (ServerEnd::Clean(detail), None);
            }
        };
        let end = self
            .update_over(site, name, stored, &values, &session, token)
            .await;
        let tail = match &end {
            ServerEnd::Done => None,
            _ => self.log_tail(&session, stored).await,
        };
        session.close().await;
        (end, tail)
    }

    async fn update_over(
        &self,
        site: usize,
        name: &str,
        stored: &StoredServer,
        values: &BTreeMap<String, String>,
        session: &SshSession,
        token: &CancellationToken,
    ) -> ServerEnd {
        // Pre-check.
        let script = match self.precheck_script(stored, values) {
            Ok(s) => s,
            Err(e) => return self.fail_clean(site, name, "pre-check", &e).await,
        };
        let pre = self.exec(session, &script, token).await;
        let mut problem = match &pre {
            Ok(r) if r.succeeded() => None,
            Ok(r) => Some(
                markers(&r.stdout.text())
                    .fail
                    .unwrap_or_else(|| format!("exit {:?}", r.exit)),
            ),
            Err(e) => Some(e.to_string()),
        };
        if problem.is_none() {
            for line in self.playbook.step(StepKind::PreCheck) {
                let (port, want) = match &line.directive {
                    Directive::PortListening { port } => (port, true),
                    Directive::PortFree { port } => (port, false),
                    _ => continue,
                };
                let port: u16 = render(port, values, false)
                    .ok()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                let f = probe::tcp(&stored.record.address, port, probe::TCP_LIMIT, token).await;
                if (f.state == CheckState::Pass) != want {
                    problem = Some(format!(
                        "port {port} is {} (line {})",
                        if want { "not listening" } else { "in use" },
                        line.line
                    ));
                    break;
                }
            }
        }
        if let Some(p) = problem {
            return self.fail_clean(site, name, "pre-check", &p).await;
        }
        drop(pre);
        // Stage.
        let mut w = self.base();
        self.end(&mut w, site, name, "pre-check", Outcome::Ok, "");
        let staged = self.playbook.has(StepKind::Stage)
            && (!self.artifacts.is_empty() || !self.secrets.is_empty());
        if staged {
            self.begin(site, name, &["stage"], w).await;
            let stage = values.get("stage_dir").cloned().unwrap_or_default();
            for a in &self.artifacts {
                let path = format!("{stage}/{}", a.path);
                let shown = Some(a.sha256.as_str());
                if let Err(e) =
                    Self::stage_file(session, &a.bytes, &path, &a.sha256, &a.path, shown, token)
                        .await
                {
                    return self.fail_clean(site, name, "stage", &e).await;
                }
            }
            // Secret files (TLS keys from the keyring) into the owner-only staging folder;
            // no hash of theirs is put in a message.
            for (i, f) in self.secrets.iter().enumerate() {
                let path = format!("{stage}/.secret-{i}");
                let what = "the key from the keyring";
                if let Err(e) = Self::stage_file(
                    session,
                    f.bytes.expose(),
                    &path,
                    &f.sha256,
                    what,
                    None,
                    token,
                )
                .await
                {
                    return self.fail_clean(site, name, "stage", &e).await;
                }
            }
            w = self.base();
            let keys = if self.secrets.is_empty() {
                String::new()
            } else {
                format!("; {} key(s) from the keyring", self.secrets.len())
            };
            self.end(
                &mut w,
                site,
                name,
                "stage",
                Outcome::Ok,
                &format!(
                    "{} file(s), SHA-256 verified on the server{keys}",
                    self.artifacts.len()
                ),
            );
        }
        // The change: backup → drain → apply → restart.
        let targets = match self.backup_targets(stored, values) {
            Ok(t) => t,
            Err(e) => return self.fail_clean(site, name, "backup", &e).await,
        };
        let script = match self.change_script(stored, values, &targets) {
            Ok(s) => s,
            Err(e) => return self.fail_clean(site, name, "apply", &e).await,
        };
        let steps: Vec<&str> = [
            StepKind::Backup,
            StepKind::Drain,
            StepKind::Apply,
            StepKind::Restart,
        ]
        .into_iter()
        .filter(|k| self.playbook.has(*k))
        .map(StepKind::as_str)
        .collect();
        self.begin(site, name, &steps, w).await;
        let result = self.exec(session, &script, token).await;
        let (stdout, report_ok, error) = match &result {
            Ok(r) => (r.stdout.text(), r.succeeded(), None),
            Err(e) => (
                e.partial().map(|p| p.stdout.text()).unwrap_or_default(),
                false,
                Some(e),
            ),
        };
        let m = markers(&stdout);
        let restorable = Restorable {
            backups: targets
                .iter()
                .enumerate()
                .filter_map(|(i, path)| {
                    m.values.get(&format!("hash{i}")).map(|h| Backup {
                        path: path.clone(),
                        sha256: h.clone(),
                    })
                })
                .collect(),
        };
        let mut w = self.base();
        let unknown_effect = error.is_some_and(|e| {
            e.effect() == RemoteEffect::Unknown
                || matches!(e, SshError::Cancelled { .. } | SshError::Timeout { .. })
        });
        let mut failed_step = None;
        for s in &steps {
            let ended = m.ended.iter().any(|e| e == s);
            let begun = m.begun.iter().any(|b| b == s);
            let detail = if *s == "backup" && ended {
                serde_json::to_string(&restorable).unwrap_or_default()
            } else {
                String::new()
            };
            if ended {
                self.end(&mut w, site, name, s, Outcome::Ok, &detail);
            } else if unknown_effect {
                // Cut off: whether this step ran, and how far, is not known.
                let why = error.map(|e| e.to_string()).unwrap_or_default();
                self.end(&mut w, site, name, s, Outcome::Unknown, &why);
                failed_step = failed_step.or(Some(*s));
            } else if begun {
                let (outcome, why) = if unknown_effect {
                    (
                        Outcome::Unknown,
                        error.map(|e| e.to_string()).unwrap_or_default(),
                    )
                } else {
                    (
                        Outcome::Failed,
                        m.fail.clone().unwrap_or_else(|| "failed".into()),
                    )
                };
                // A backup cut short still names what it saved, for the rollback.
                let why = if *s == "backup" {
                    format!(
                        "{why} {}",
                        serde_json::to_string(&restorable).unwrap_or_default()
                    )
                } else {
                    why
                };
                self.end(&mut w, site, name, s, outcome, &why);
                failed_step = Some(*s);
            } else if failed_step.is_none() && !report_ok && !unknown_effect {
                // Never begun though the command failed before it: counted as not run.
                self.end(&mut w, site, name, s, Outcome::Failed, "not run");
                failed_step = Some(*s);
            }
        }
        if unknown_effect {
            self.write(w).await;
            let why = error.map(|e| e.to_string()).unwrap_or_default();
            return ServerEnd::Uncertain(format!(
                "the outcome of `{}` is unknown: {why}",
                failed_step.unwrap_or("the change")
            ));
        }
        if !report_ok {
            let why = m.fail.clone().unwrap_or_else(|| "the change failed".into());
            if failed_step == Some("backup")
                && !m.ended.iter().any(|e| e == "backup")
                && restorable.backups.is_empty()
            {
                self.write(w).await;
                return ServerEnd::Clean(why);
            }
            self.write(w).await;
            return self
                .roll_back_server(
                    site,
                    name,
                    stored,
                    values,
                    session,
                    &restorable,
                    token,
                    &why,
                )
                .await;
        }
        // Post-check.
        self.begin(site, name, &["post-check"], w).await;
        let mut problem = None;
        if let Some(pid_file) = self.pid_file(values).ok().flatten() {
            let (old, new) = (m.values.get("oldpid"), m.values.get("newpid"));
            match (old, new) {
                (_, None) => problem = Some(format!("no pid in {pid_file} after the restart")),
                (_, Some(n)) if n.is_empty() => {
                    problem = Some(format!("no pid in {pid_file} after the restart"))
                }
                (Some(o), Some(n)) if o == n => {
                    problem = Some(format!(
                        "the pid did not change ({n}): the service was not restarted"
                    ))
                }
                _ => {}
            }
        }
        if problem.is_none()
            && let Err(e) = self.healthy(stored, token).await
        {
            problem = Some(e);
        }
        if problem.is_none() {
            let log_from = m
                .values
                .get("logsize")
                .and_then(|v| v.trim().parse::<u64>().ok());
            match self.postcheck_script(
                stored,
                values,
                log_from,
                m.values.get("newpid").map(String::as_str),
            ) {
                Ok(Some(script)) => match self.exec(session, &script, token).await {
                    Ok(r) if r.succeeded() => {}
                    Ok(r) => {
                        problem = Some(
                            markers(&r.stdout.text())
                                .fail
                                .unwrap_or_else(|| format!("post-check exit {:?}", r.exit)),
                        )
                    }
                    Err(e) if e.effect() == RemoteEffect::Unknown => {
                        let mut w = self.base();
                        self.end(
                            &mut w,
                            site,
                            name,
                            "post-check",
                            Outcome::Unknown,
                            &e.to_string(),
                        );
                        self.write(w).await;
                        return ServerEnd::Uncertain(format!(
                            "the post-check's outcome is unknown: {e}"
                        ));
                    }
                    Err(e) => problem = Some(e.to_string()),
                },
                Ok(None) => {}
                Err(e) => problem = Some(e),
            }
        }
        let mut w = self.base();
        if token.is_cancelled() {
            self.end(
                &mut w,
                site,
                name,
                "post-check",
                Outcome::Unknown,
                "stopped by the kill switch",
            );
            self.write(w).await;
            return ServerEnd::Uncertain(
                "stopped during the post-check (the change is in place, its health unknown)".into(),
            );
        }
        if let Some(problem) = problem {
            self.end(&mut w, site, name, "post-check", Outcome::Failed, &problem);
            self.write(w).await;
            return self
                .roll_back_server(
                    site,
                    name,
                    stored,
                    values,
                    session,
                    &restorable,
                    token,
                    &problem,
                )
                .await;
        }
        self.end(&mut w, site, name, "post-check", Outcome::Ok, "healthy");
        if self.playbook.has(StepKind::Undrain) {
            self.begin(site, name, &["undrain"], w).await;
            let script = self
                .run_lines(StepKind::Undrain, values, 80)
                .unwrap_or_default();
            let mut w = self.base();
            match self.exec(session, &script, token).await {
                Ok(r) if r.succeeded() => self.end(&mut w, site, name, "undrain", Outcome::Ok, ""),
                Ok(r) => {
                    let why = markers(&r.stdout.text())
                        .fail
                        .unwrap_or_else(|| "undrain failed".into());
                    self.end(&mut w, site, name, "undrain", Outcome::Failed, &why);
                    self.write(w).await;
                    return ServerEnd::Uncertain(format!(
                        "updated and healthy, but {why}: it may still be out of the load balancer"
                    ));
                }
                Err(e) => {
                    self.end(
                        &mut w,
                        site,
                        name,
                        "undrain",
                        Outcome::Unknown,
                        &e.to_string(),
                    );
                    self.write(w).await;
                    return ServerEnd::Uncertain(format!("undrain's outcome is unknown: {e}"));
                }
            }
            w = self.record_deployment(w, name, "deployed");
            self.write(w).await;
        } else {
            w = self.record_deployment(w, name, "deployed");
            self.write(w).await;
        }
        ServerEnd::Done
    }

    fn record_deployment(&self, mut w: RolloutWrite, server: &str, result: &str) -> RolloutWrite {
        let files: Vec<String> = self
            .artifacts
            .iter()
            .map(|a| format!("{} {}", a.path, a.sha256))
            .collect();
        // The deployment points at the last entry of this write (the step that settled it).
        w.deployments.push(DeploymentWrite {
            server: server.to_owned(),
            version: self.version.clone(),
            files: files.join("\n"),
            actor: self.actor.to_string(),
            result: result.to_owned(),
            audit_pos: w.audit.len().saturating_sub(1),
        });
        w
    }

    async fn fail_clean(&self, site: usize, name: &str, step: &str, why: &str) -> ServerEnd {
        let mut w = self.base();
        self.end(&mut w, site, name, step, Outcome::Failed, why);
        self.write(w).await;
        ServerEnd::Clean(why.to_owned())
    }

    /// Restores a server from its backups, restarts it and checks its health again.
    #[allow(clippy::too_many_arguments)]
    async fn roll_back_server(
        &self,
        site: usize,
        name: &str,
        stored: &StoredServer,
        values: &BTreeMap<String, String>,
        session: &SshSession,
        restorable: &Restorable,
        token: &CancellationToken,
        why: &str,
    ) -> ServerEnd {
        if token.is_cancelled() {
            return ServerEnd::Uncertain(format!(
                "{why}; the rollback did not run: the kill switch was pressed"
            ));
        }
        self.begin(site, name, &["rollback"], self.base()).await;
        let script = match self.restore_script(stored, values, restorable, false) {
            Ok(s) => s,
            Err(e) => {
                let mut w = self.base();
                self.end(&mut w, site, name, "rollback", Outcome::Failed, &e);
                self.write(w).await;
                return ServerEnd::Manual(format!("{why}; the rollback could not be built: {e}"));
            }
        };
        let mut w = self.base();
        let result = self.exec(session, &script, token).await;
        let problem = match result {
            Ok(r) if r.succeeded() => self.healthy(stored, token).await.err(),
            Ok(r) => Some(
                markers(&r.stdout.text())
                    .fail
                    .unwrap_or_else(|| format!("exit {:?}", r.exit)),
            ),
            Err(e) => Some(e.to_string()),
        };
        match problem {
            None => {
                self.end(
                    &mut w,
                    site,
                    name,
                    "rollback",
                    Outcome::Ok,
                    "restored and healthy",
                );
                let mut w = self.record_deployment(w, name, "rolled_back");
                if let Some(d) = w.deployments.last_mut() {
                    d.files = restorable
                        .backups
                        .iter()
                        .map(|b| format!("{} {}", b.path, b.sha256))
                        .collect::<Vec<_>>()
                        .join("\n");
                    d.version = "(before ".to_owned() + &self.version + ")";
                }
                self.write(w).await;
                ServerEnd::RolledBack(why.to_owned())
            }
            Some(p) => {
                self.end(&mut w, site, name, "rollback", Outcome::Failed, &p);
                self.write(w).await;
                ServerEnd::Manual(format!("{why}; the rollback failed: {p}"))
            }
        }
    }

    /// Rolls back one server later (a scope rollback, a person's request, after a crash):
    /// its backups come from the journal.
    async fn roll_back_later(
        &self,
        site: usize,
        name: &str,
        token: &CancellationToken,
    ) -> ServerEnd {
        let Some(stored) = self.servers.get(name) else {
            return ServerEnd::Manual(format!("server {name} is no longer in the inventory"));
        };
        let journal = match self.api.store.journal(&self.id, Some(site as u32)).await {
            Ok(j) => j,
            Err(e) => return ServerEnd::Manual(format!("cannot read the journal: {e}")),
        };
        let restorable = journal
            .iter()
            .rev()
            .find(|r| r.server == name && r.step == "backup" && r.mark == "end")
            .and_then(|r| {
                let json = r.detail.find('{').map(|at| &r.detail[at..]).unwrap_or("");
                serde_json::from_str::<Restorable>(json).ok()
            });
        let Some(restorable) = restorable else {
            // Nothing was backed up: nothing was changed on this server.
            return ServerEnd::RolledBack("nothing to restore".into());
        };
        let session = match self.connect(stored, token).await {
            Ok(s) => s,
            Err(e) => return ServerEnd::Manual(format!("cannot connect to roll back: {e}")),
        };
        let values = self.values(stored);
        let end = self
            .roll_back_server(
                site,
                name,
                stored,
                &values,
                &session,
                &restorable,
                token,
                "rollback requested",
            )
            .await;
        session.close().await;
        end
    }

    // --- One site --------------------------------------------------------------------------

    async fn update_site(&self, site: usize, token: &CancellationToken) -> SiteState {
        let servers = self.plan.sites[site].servers.clone();
        let mut w = self.base();
        let many = servers.len() > 1;
        w.sites.push(self.site_write(
            site,
            SiteState::Running,
            if many {
                "updating one server at a time"
            } else {
                ""
            },
            None,
        ));
        self.write(w).await;
        let mut done: Vec<&str> = Vec::new();
        let mut outcome = None;
        for name in &servers {
            let (end, tail) = self.update_server(site, name, token).await;
            match end {
                ServerEnd::Done => done.push(name),
                other => {
                    outcome = Some((name.clone(), other, tail));
                    break;
                }
            }
        }
        let (state, detail, tail) = match outcome {
            None => (SiteState::Done, String::new(), None),
            Some((server, end, tail)) => {
                // The servers already updated go back too: a site runs one version.
                let mut manual = None;
                for other in done.iter().rev() {
                    if let ServerEnd::Manual(why) = self.roll_back_later(site, other, token).await {
                        manual = Some(format!("{other}: {why}"));
                    }
                }
                let (state, why) = match end {
                    ServerEnd::Clean(why) if done.is_empty() => (SiteState::Failed, why),
                    ServerEnd::Clean(why) | ServerEnd::RolledBack(why) => {
                        (SiteState::RolledBack, why)
                    }
                    ServerEnd::Manual(why) => (SiteState::ManualInterventionRequired, why),
                    ServerEnd::Uncertain(why) => (SiteState::Uncertain, why),
                    ServerEnd::Done => (SiteState::Done, String::new()),
                };
                let state = if manual.is_some() && state != SiteState::Uncertain {
                    SiteState::ManualInterventionRequired
                } else {
                    state
                };
                let why = match manual {
                    Some(m) => format!("{server}: {why}; {m}"),
                    None => format!("{server}: {why}"),
                };
                (state, why, tail)
            }
        };
        self.settle(site, state, &detail, tail).await;
        state
    }

    async fn settle(&self, site: usize, state: SiteState, detail: &str, tail: Option<String>) {
        let mut w = self.base();
        w.sites.push(self.site_write(site, state, detail, tail));
        w.audit.push(entries::rollout_site(
            &self.id,
            self.site_key(site),
            state,
            detail,
            self.actor.as_str(),
            self.now(),
        ));
        self.write(w).await;
        self.settled.fetch_add(1, Ordering::Relaxed);
    }

    async fn roll_back_site(&self, site: usize, token: &CancellationToken) -> SiteState {
        let mut w = self.base();
        w.sites
            .push(self.site_write(site, SiteState::RollingBack, "", None));
        self.write(w).await;
        let mut worst = SiteState::RolledBack;
        let mut details = Vec::new();
        for name in self.plan.sites[site].servers.iter().rev() {
            match self.roll_back_later(site, name, token).await {
                ServerEnd::RolledBack(_) => {}
                ServerEnd::Manual(why) => {
                    worst = SiteState::ManualInterventionRequired;
                    details.push(format!("{name}: {why}"));
                }
                ServerEnd::Uncertain(why) | ServerEnd::Clean(why) => {
                    if worst != SiteState::ManualInterventionRequired {
                        worst = SiteState::Uncertain;
                    }
                    details.push(format!("{name}: {why}"));
                }
                ServerEnd::Done => {}
            }
        }
        let detail = if details.is_empty() {
            "rolled back".to_owned()
        } else {
            details.join("; ")
        };
        self.settle(site, worst, &detail, None).await;
        worst
    }

    /// The task's move for a rollout that ended in `state`.
    fn task_move(&self, state: RolloutState, reason: &str) -> Option<OwnedMove> {
        let event = match state {
            RolloutState::Completed => TaskEvent::RolloutCompleted,
            RolloutState::RolledBack => TaskEvent::RolledBack,
            RolloutState::Halted if reason.contains("kill switch") => TaskEvent::Halted,
            RolloutState::Halted | RolloutState::Aborted => TaskEvent::RolloutFailed,
            _ => return None,
        };
        let transition = guardia_domain::TaskStatus::RollingOut.apply(event).ok()?;
        Some(OwnedMove {
            transition,
            actor: self.actor.clone(),
            note: reason.to_owned(),
        })
    }
}

/// The engine's driver calls back into a run through this.
pub(crate) struct Host(pub Arc<Run>);

#[async_trait::async_trait]
impl RolloutHost for Host {
    async fn update(&self, site: usize, token: CancellationToken) -> SiteState {
        self.0.update_site(site, &token).await
    }

    async fn roll_back(&self, site: usize, token: CancellationToken) -> SiteState {
        self.0.roll_back_site(site, &token).await
    }

    async fn record(&self, event: DriverEvent) {
        let run = &self.0;
        let mut w = run.base();
        match event {
            DriverEvent::State { state, reason } => {
                w.state = Some((state, reason.clone()));
                if state != RolloutState::WaitingGate {
                    w.gate_until = Some(None);
                }
                w.audit.push(entries::rollout_state(
                    &run.id,
                    state,
                    &reason,
                    run.actor.as_str(),
                    run.now(),
                ));
                if let Some(m) = run.task_move(state, &reason) {
                    w.task_moves.push(m);
                }
            }
            DriverEvent::PhaseStarted { phase } => w.phase = Some(phase as u32),
            DriverEvent::PhaseEnded { phase } => {
                run.write(w).await;
                // A signed checkpoint at each phase end: what the phase did is provable.
                if let Err(e) = run
                    .api
                    .audit_checkpoint(&run.caller, CheckpointReason::RolloutPhase)
                    .await
                {
                    tracing::warn!(rollout = %run.id, phase, "phase checkpoint not signed: {e}");
                }
                return;
            }
            DriverEvent::GateWaiting { until, .. } => {
                w.gate_until = Some(until.map(|u| u.to_utc()));
            }
            DriverEvent::Skipped { sites } => {
                for site in sites {
                    w.sites
                        .push(run.site_write(site, SiteState::Skipped, "not reached", None));
                }
            }
        }
        run.write(w).await;
    }
}
