//! Ad-hoc commands and checks on one server: denylist first, intent audited before anything
//! is sent, result audited after (output by hash), unknown outcomes reported as unknown.

use std::time::{Duration, Instant};

use chrono::Utc;
use guardia_audit::{EntryDraft, EntryKind, Outcome};
use guardia_domain::command::{CommandContext, Refusal, RemoteCommand};
use guardia_domain::inventory::CommandMode;
use guardia_engine::probe::{self, Finding, RemoteProbe};
use guardia_ipc::{CheckReport, CheckState, CheckStep, CommandOutcome, CommandReport, RunCommand};
use guardia_ssh::{
    Captured, ExecLimits, ExecReport, Exit, HostKey, RemoteEffect, SshError, SshSession,
};
use guardia_store::StoredServer;
use tokio_util::sync::CancellationToken;

use crate::inventory::server_subject;
use crate::{Api, ApiError, Caller, audit_entries};

/// What the UI keeps of each stream; the audit log keeps the hash and size of all of it.
const KEPT_OUTPUT: usize = 64 * 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_TIMEOUT_SECS: u32 = 3600;

/// The size and hash of both output streams (output may carry secrets: never the text).
fn with_output(entry: EntryDraft, stdout: &Captured, stderr: &Captured) -> EntryDraft {
    entry
        .with("stdout_sha256", stdout.sha256.as_str())
        .with("stdout_bytes", stdout.total_bytes)
        .with("stderr_sha256", stderr.sha256.as_str())
        .with("stderr_bytes", stderr.total_bytes)
}

fn outcome_of(result: &Result<ExecReport, SshError>) -> (Outcome, CommandOutcome) {
    match result {
        Ok(r) if r.succeeded() => (Outcome::Ok, CommandOutcome::Ok),
        Ok(_) => (Outcome::Failed, CommandOutcome::Failed),
        Err(e) if e.effect() == RemoteEffect::Unknown => {
            (Outcome::Unknown, CommandOutcome::Unknown)
        }
        Err(_) => (Outcome::Failed, CommandOutcome::Failed),
    }
}

impl Api {
    async fn append(&self, entry: EntryDraft) -> Result<u64, ApiError> {
        let head = self
            .store
            .append_audit(std::slice::from_ref(&entry))
            .await?;
        Ok(head.size.saturating_sub(1))
    }

    /// Checks a command against the denylist; a refusal is audited and returned.
    pub(crate) async fn checked(
        &self,
        caller: &Caller,
        stored: &StoredServer,
        text: &str,
        context: CommandContext,
    ) -> Result<RemoteCommand, ApiError> {
        let server = stored.record.server.as_str();
        let (mode, system) = (stored.command_mode, stored.record.system.as_str());
        let checked = match mode {
            CommandMode::PlaybookOnly if context == CommandContext::AdHoc => {
                Err(Refusal::playbook_only(system))
            }
            _ => RemoteCommand::check(text, context),
        };
        match checked {
            Ok(c) => Ok(c),
            Err(refusal) => {
                let at = self.clock.now().with_timezone(&Utc);
                self.append(
                    EntryDraft::new(
                        at,
                        EntryKind::SshCommandRefused,
                        caller.name(),
                        server_subject(server),
                    )
                    .outcome(Outcome::Refused)
                    .with("command", text)
                    .with("rule", refusal.rule.as_str())
                    .with("matched", refusal.matched.as_str()),
                )
                .await?;
                Err(ApiError::CommandRefused(refusal))
            }
        }
    }

    /// Connects to a stored server with its pin and credential. Host-key refusals are audited.
    pub(crate) async fn connect(
        &self,
        caller: &Caller,
        stored: &StoredServer,
        cancel: &CancellationToken,
    ) -> Result<SshSession, SshError> {
        let credential = match self.ssh_credential(&stored.record).await {
            Ok(c) => c,
            Err(e) => {
                return Err(SshError::BadCredential {
                    target: Self::target(&stored.record).label(),
                    reason: e.to_string(),
                });
            }
        };
        self.connect_with(caller, stored, &credential, cancel).await
    }

    /// [`Self::connect`] with a credential already read (a rollout reads each once).
    pub(crate) async fn connect_with(
        &self,
        caller: &Caller,
        stored: &StoredServer,
        credential: &guardia_ssh::Credential,
        cancel: &CancellationToken,
    ) -> Result<SshSession, SshError> {
        let target = Self::target(&stored.record);
        let pin = stored
            .host_key
            .as_ref()
            .and_then(|p| HostKey::parse_openssh(&p.key).ok());
        let result = SshSession::connect(
            &target,
            pin.as_ref(),
            credential,
            &self.ssh_options(stored),
            cancel,
        )
        .await;
        if let Err(e @ (SshError::HostKeyChanged { .. } | SshError::HostKeyUnknown { .. })) =
            &result
        {
            self.audit_host_key_refusal(caller, &stored.record.server, e)
                .await;
        }
        result
    }

    /// Runs `command` over `session` with intent and result entries around it.
    async fn run_logged(
        &self,
        caller: &Caller,
        stored: &StoredServer,
        session: Result<&SshSession, &SshError>,
        command: &RemoteCommand,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(Result<ExecReport, SshError>, u64), ApiError> {
        let server = &stored.record.server;
        let actor = caller.name().to_owned();
        let at = self.clock.now().with_timezone(&Utc);
        self.append(
            EntryDraft::new(
                at,
                EntryKind::SshCommandIntent,
                actor.clone(),
                server_subject(server),
            )
            .with("command", command.text())
            .with("address", stored.record.address.as_str())
            .with("port", u64::from(stored.record.port))
            .with("user", stored.record.user.as_str())
            .with(
                "host_key",
                stored.host_key.as_ref().map(|p| p.fingerprint.clone()),
            )
            .with("timeout_ms", timeout.as_millis() as u64)
            .with(
                "legacy_algorithms",
                session
                    .ok()
                    .map(|s| s.negotiated().legacy().join(","))
                    .filter(|l| !l.is_empty()),
            ),
        )
        .await?;
        let started = Instant::now();
        let result = match session {
            Ok(s) => {
                s.run(
                    command,
                    &ExecLimits {
                        timeout,
                        max_kept_bytes: KEPT_OUTPUT,
                    },
                    cancel,
                )
                .await
            }
            // Nothing was sent; the result entry records why (the connection's own error code).
            Err(e) => Err(SshError::Session {
                target: Self::target(&stored.record).label(),
                stage: guardia_ssh::Stage::Connecting,
                reason: e.to_string(),
                effect: e.effect(),
            }),
        };
        let (outcome, _) = outcome_of(&result);
        let at = self.clock.now().with_timezone(&Utc);
        let mut entry = EntryDraft::new(
            at,
            EntryKind::SshCommandResult,
            actor,
            server_subject(server),
        )
        .outcome(outcome)
        .with("millis", started.elapsed().as_millis() as u64);
        match &result {
            Ok(r) => {
                entry = match &r.exit {
                    Exit::Code(c) => entry.with("exit_code", u64::from(*c)),
                    Exit::Signal(s) => entry.with("exit_signal", s.as_str()),
                };
                entry = with_output(entry, &r.stdout, &r.stderr);
            }
            Err(e) => {
                entry = entry.with("error", session.err().map_or(e.code(), SshError::code));
                if let Some(p) = e.partial() {
                    entry = with_output(entry, &p.stdout, &p.stderr);
                }
                if let SshError::Timeout { remote_stopped, .. }
                | SshError::Cancelled { remote_stopped, .. } = e
                {
                    entry = entry
                        .with(
                            "remote_stopped",
                            remote_stopped.map(|b| if b { "yes" } else { "no" }),
                        )
                        .with("stop_note", e.stop_note());
                }
            }
        }
        let index = self.append(entry).await?;
        Ok((result, index))
    }

    /// Runs an ad-hoc command on one server.
    pub async fn ssh_run(
        &self,
        caller: &Caller,
        request: RunCommand,
        cancel: &CancellationToken,
    ) -> Result<CommandReport, ApiError> {
        let stored = self.stored_server(&request.server).await?;
        let command = self
            .checked(caller, &stored, &request.command, CommandContext::AdHoc)
            .await?;
        let timeout = request
            .timeout_secs
            .map(|s| Duration::from_secs(u64::from(s.clamp(1, MAX_TIMEOUT_SECS))))
            .unwrap_or(DEFAULT_TIMEOUT);
        let session = self.connect(caller, &stored, cancel).await;
        let started = Instant::now();
        let (result, audit_index) = self
            .run_logged(caller, &stored, session.as_ref(), &command, timeout, cancel)
            .await?;
        let (_, outcome) = outcome_of(&result);
        let report = match result {
            Ok(r) => CommandReport {
                server: request.server,
                outcome,
                exit_code: match r.exit {
                    Exit::Code(c) => Some(c),
                    Exit::Signal(_) => None,
                },
                exit_signal: match &r.exit {
                    Exit::Signal(s) => Some(s.clone()),
                    Exit::Code(_) => None,
                },
                truncated: r.stdout.truncated() || r.stderr.truncated(),
                stdout: r.stdout.text(),
                stderr: r.stderr.text(),
                millis: started.elapsed().as_millis() as u64,
                error: None,
                remote_stopped: None,
                stop_note: None,
                audit_index,
            },
            Err(e) => CommandReport {
                server: request.server,
                outcome,
                exit_code: None,
                exit_signal: None,
                // A stopped command's output up to the stop is kept, not thrown away.
                stdout: e.partial().map(|p| p.stdout.text()).unwrap_or_default(),
                stderr: e.partial().map(|p| p.stderr.text()).unwrap_or_default(),
                truncated: e
                    .partial()
                    .is_some_and(|p| p.stdout.truncated() || p.stderr.truncated()),
                millis: started.elapsed().as_millis() as u64,
                error: Some(match &session {
                    Err(c) => c.to_string(),
                    Ok(_) => e.to_string(),
                }),
                remote_stopped: match &e {
                    SshError::Timeout { remote_stopped, .. }
                    | SshError::Cancelled { remote_stopped, .. } => *remote_stopped,
                    _ => None,
                },
                stop_note: e.stop_note().map(str::to_owned),
                audit_index,
            },
        };
        if let Ok(s) = session {
            s.close().await;
        }
        Ok(report)
    }

    /// Tests reachability, host key, authentication and the server's health criteria, in
    /// [`CHECK_STEPS`] order. Each probe races `cancel`; once it fires, every step not yet
    /// decided is reported [`CheckState::Cancelled`] (not failed), and so is the audit entry.
    /// `progress` hears each step as it starts.
    pub async fn ssh_check(
        &self,
        caller: &Caller,
        server: &str,
        cancel: &CancellationToken,
        progress: &(dyn Fn(u64, &str) + Send + Sync),
    ) -> Result<CheckReport, ApiError> {
        let stored = self.stored_server(server).await?;
        let record = stored.record.clone();
        let mut steps: Vec<CheckStep> = Vec::with_capacity(CHECK_STEPS.len());
        let push = |steps: &mut Vec<CheckStep>, found: Finding, started: Instant| {
            let name = CHECK_STEPS[steps.len()];
            steps.push(CheckStep {
                name: name.to_owned(),
                state: found.state,
                detail: found.detail,
                millis: started.elapsed().as_millis() as u64,
            });
        };
        let begin = |steps: &Vec<CheckStep>| {
            progress(
                steps.len() as u64,
                CHECK_STEPS[steps.len().min(CHECK_STEPS.len() - 1)],
            );
            Instant::now()
        };

        let t = begin(&steps);
        let reachable = probe::tcp(&record.address, record.port, probe::TCP_LIMIT, cancel).await;
        let reached = reachable.state == CheckState::Pass;
        push(&mut steps, reachable, t);

        let t = begin(&steps);
        let mut algorithms = None;
        let mut legacy_algorithms = Vec::new();
        let session = if reached {
            match self.connect(caller, &stored, cancel).await {
                Ok(s) => {
                    push(
                        &mut steps,
                        Finding::new(CheckState::Pass, s.host_key().fingerprint()),
                        t,
                    );
                    let legacy = s.negotiated().legacy();
                    let how = if legacy.is_empty() {
                        format!("as {} · {}", record.user, s.negotiated())
                    } else {
                        format!(
                            "as {} · {} · LEGACY (SHA-1 era): {}",
                            record.user,
                            s.negotiated(),
                            legacy.join(", ")
                        )
                    };
                    algorithms = Some(s.negotiated().to_string());
                    legacy_algorithms = legacy.iter().map(|l| (*l).to_owned()).collect();
                    push(&mut steps, Finding::new(CheckState::Pass, how), t);
                    Some(s)
                }
                Err(SshError::Cancelled { .. }) => None,
                Err(
                    e @ (SshError::HostKeyChanged { .. }
                    | SshError::HostKeyUnknown { .. }
                    | SshError::HostCertificate { .. }
                    | SshError::NoCommonAlgorithm { .. }),
                ) => {
                    push(&mut steps, Finding::new(CheckState::Fail, e.to_string()), t);
                    push(&mut steps, Finding::new(CheckState::Skipped, ""), t);
                    None
                }
                Err(e) => {
                    push(&mut steps, Finding::new(CheckState::Pass, ""), t);
                    let state = if e.effect() == RemoteEffect::Unknown {
                        CheckState::Unknown
                    } else {
                        CheckState::Fail
                    };
                    push(&mut steps, Finding::new(state, e.to_string()), t);
                    None
                }
            }
        } else {
            if !cancel.is_cancelled() {
                push(&mut steps, Finding::new(CheckState::Skipped, ""), t);
                push(&mut steps, Finding::new(CheckState::Skipped, ""), t);
            }
            None
        };

        // Whether a stop (timeout, Cancel, the kill switch) can reach every process a
        // command starts there — so the operator knows before a rollout, not during one.
        if !cancel.is_cancelled() && steps.len() == 3 {
            let t = begin(&steps);
            let mut why = String::new();
            let found = match session.as_ref() {
                None => Finding::new(CheckState::Skipped, "no SSH session"),
                Some(s) => match s.stop_mode(cancel).await {
                    Ok(mode) if mode.guaranteed() => {
                        why = mode.as_str().to_owned();
                        Finding::new(CheckState::Pass, mode.as_str())
                    }
                    Ok(mode) => {
                        why = mode.reason().unwrap_or_default().to_owned();
                        Finding::new(
                            CheckState::Fail,
                            format!("remote stop not guaranteed / 원격 중지 보장 안 됨: {why}"),
                        )
                    }
                    Err(SshError::Cancelled { .. }) => {
                        Finding::new(CheckState::Cancelled, "cancelled")
                    }
                    Err(e) => Finding::new(CheckState::Unknown, e.to_string()),
                },
            };
            if let (Some(algorithms), CheckState::Pass | CheckState::Fail) =
                (&algorithms, found.state)
            {
                let seen = guardia_store::SshSeen {
                    algorithms: algorithms.clone(),
                    stop_guaranteed: found.state == CheckState::Pass,
                    stop_detail: why,
                    at: self.clock.now().to_utc(),
                };
                if let Err(e) = self
                    .store
                    .note_ssh_seen(server, &record.address, record.port, &seen)
                    .await
                {
                    tracing::warn!("could not record what the check saw on {server}: {e}");
                }
            }
            push(&mut steps, found, t);
        }

        let health = &record.health;
        if !cancel.is_cancelled() {
            let t = begin(&steps);
            let found = match health.tcp_port {
                None => not_configured(),
                Some(port) => probe::tcp(&record.address, port, probe::TCP_LIMIT, cancel).await,
            };
            push(&mut steps, found, t);
        }
        if !cancel.is_cancelled() {
            let t = begin(&steps);
            let found = match &health.http_url {
                None => not_configured(),
                Some(url) => {
                    let expected = health.http_status.unwrap_or(200);
                    let max = Duration::from_millis(u64::from(health.http_max_ms.unwrap_or(5_000)));
                    probe::http(
                        url,
                        expected,
                        max,
                        max.max(Duration::from_secs(2)) * 2,
                        cancel,
                    )
                    .await
                }
            };
            push(&mut steps, found, t);
        }
        let process = health.process.as_deref().map(probe::Process);
        let log = match (&health.log_file, &health.log_error_pattern) {
            (Some(file), Some(pattern)) => Some(probe::LogPattern { file, pattern }),
            _ => None,
        };
        let remote: [Option<&dyn RemoteProbe>; 2] = [
            process.as_ref().map(|p| p as &dyn RemoteProbe),
            log.as_ref().map(|p| p as &dyn RemoteProbe),
        ];
        for remote_probe in remote {
            if cancel.is_cancelled() {
                break;
            }
            let t = begin(&steps);
            let (Some(remote_probe), Some(session)) = (remote_probe, session.as_ref()) else {
                let why = if remote_probe.is_none() {
                    "not configured"
                } else {
                    "no SSH session"
                };
                push(&mut steps, Finding::new(CheckState::Skipped, why), t);
                continue;
            };
            let command = self
                .checked(
                    caller,
                    &stored,
                    &remote_probe.command(),
                    CommandContext::Check,
                )
                .await?;
            let (result, _) = self
                .run_logged(
                    caller,
                    &stored,
                    Ok(session),
                    &command,
                    Duration::from_secs(20),
                    cancel,
                )
                .await?;
            let found = match result {
                Ok(report) => remote_probe.judge(&report),
                Err(SshError::Cancelled { .. }) => Finding::new(CheckState::Cancelled, "cancelled"),
                Err(e) if e.effect() == RemoteEffect::Unknown => {
                    Finding::new(CheckState::Unknown, e.to_string())
                }
                Err(e) => Finding::new(CheckState::Fail, e.to_string()),
            };
            push(&mut steps, found, t);
        }
        if let Some(s) = session {
            s.close().await;
        }
        // Whatever was not decided when the token fired was cancelled, not failed.
        while steps.len() < CHECK_STEPS.len() {
            push(
                &mut steps,
                Finding::new(CheckState::Cancelled, "cancelled"),
                Instant::now(),
            );
        }
        progress(CHECK_STEPS.len() as u64, "done");

        let mut report = CheckReport {
            server: server.to_owned(),
            steps,
            audit_index: 0,
            algorithms,
            legacy_algorithms,
        };
        report.audit_index = self
            .append(audit_entries::ssh_checked(
                caller,
                server,
                &report,
                self.clock.now().to_utc(),
            ))
            .await?;
        Ok(report)
    }
}

/// The steps of a server check, in order.
pub const CHECK_STEPS: [&str; 8] = [
    "reachable",
    "host_key",
    "authenticated",
    "remote_stop",
    "health_tcp",
    "health_http",
    "health_process",
    "health_log",
];

fn not_configured() -> Finding {
    Finding::new(CheckState::Skipped, "not configured")
}
