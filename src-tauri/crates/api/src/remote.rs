//! Ad-hoc commands and checks on one server: denylist first, intent audited before anything
//! is sent, result audited after (output by hash), unknown outcomes reported as unknown.

use std::time::{Duration, Instant};

use chrono::Utc;
use guardia_audit::{EntryDraft, EntryKind, Outcome};
use guardia_domain::command::{CommandContext, RemoteCommand, quote};
use guardia_ipc::{CheckReport, CheckState, CheckStep, CommandOutcome, CommandReport, RunCommand};
use guardia_ssh::{ExecLimits, ExecReport, Exit, HostKey, RemoteEffect, SshError, SshSession};
use guardia_store::StoredServer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;

use crate::inventory::server_subject;
use crate::{Api, ApiError};

/// What the UI keeps of each stream; the audit log keeps the hash and size of all of it.
const KEPT_OUTPUT: usize = 64 * 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_TIMEOUT_SECS: u32 = 3600;

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
    async fn checked(
        &self,
        server: &str,
        text: &str,
        context: CommandContext,
    ) -> Result<RemoteCommand, ApiError> {
        match RemoteCommand::check(text, context) {
            Ok(c) => Ok(c),
            Err(refusal) => {
                let at = self.clock.now().with_timezone(&Utc);
                self.append(
                    EntryDraft::new(
                        at,
                        EntryKind::SshCommandRefused,
                        self.operator.as_str(),
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
        stored: &StoredServer,
        cancel: &CancellationToken,
    ) -> Result<SshSession, SshError> {
        let target = Self::target(&stored.record);
        let pin = stored
            .host_key
            .as_ref()
            .and_then(|p| HostKey::parse_openssh(&p.key).ok());
        let credential = match self.ssh_credential(&stored.record).await {
            Ok(c) => c,
            Err(e) => {
                return Err(SshError::BadCredential {
                    target: target.label(),
                    reason: e.to_string(),
                });
            }
        };
        let result = SshSession::connect(
            &target,
            pin.as_ref(),
            &credential,
            &self.ssh_options(),
            cancel,
        )
        .await;
        if let Err(e @ (SshError::HostKeyChanged { .. } | SshError::HostKeyUnknown { .. })) =
            &result
        {
            self.audit_host_key_refusal(&stored.record.server, e).await;
        }
        result
    }

    /// Runs `command` over `session` with intent and result entries around it.
    async fn run_logged(
        &self,
        stored: &StoredServer,
        session: Result<&SshSession, &SshError>,
        command: &RemoteCommand,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(Result<ExecReport, SshError>, u64), ApiError> {
        let server = &stored.record.server;
        let actor = self.operator.as_str().to_owned();
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
            .with("timeout_ms", timeout.as_millis() as u64),
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
                entry = entry
                    .with("stdout_sha256", r.stdout.sha256.as_str())
                    .with("stdout_bytes", r.stdout.total_bytes)
                    .with("stderr_sha256", r.stderr.sha256.as_str())
                    .with("stderr_bytes", r.stderr.total_bytes);
            }
            Err(e) => {
                entry = entry.with("error", session.err().map_or(e.code(), SshError::code));
                if let SshError::Timeout { remote_stopped, .. }
                | SshError::Cancelled { remote_stopped, .. } = e
                {
                    entry = entry.with(
                        "remote_stopped",
                        remote_stopped.map(|b| if b { "yes" } else { "no" }),
                    );
                }
            }
        }
        let index = self.append(entry).await?;
        Ok((result, index))
    }

    /// Runs an ad-hoc command on one server.
    pub async fn ssh_run(
        &self,
        request: RunCommand,
        cancel: &CancellationToken,
    ) -> Result<CommandReport, ApiError> {
        let stored = self.stored_server(&request.server).await?;
        let command = self
            .checked(&request.server, &request.command, CommandContext::AdHoc)
            .await?;
        let timeout = request
            .timeout_secs
            .map(|s| Duration::from_secs(u64::from(s.clamp(1, MAX_TIMEOUT_SECS))))
            .unwrap_or(DEFAULT_TIMEOUT);
        let session = self.connect(&stored, cancel).await;
        let started = Instant::now();
        let (result, audit_index) = self
            .run_logged(&stored, session.as_ref(), &command, timeout, cancel)
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
                truncated: r.stdout.truncated() || r.stderr.truncated(),
                stdout: r.stdout.text(),
                stderr: r.stderr.text(),
                millis: started.elapsed().as_millis() as u64,
                error: None,
                audit_index,
            },
            Err(e) => CommandReport {
                server: request.server,
                outcome,
                exit_code: None,
                stdout: String::new(),
                stderr: String::new(),
                truncated: false,
                millis: started.elapsed().as_millis() as u64,
                error: Some(match &session {
                    Err(c) => c.to_string(),
                    Ok(_) => e.to_string(),
                }),
                audit_index,
            },
        };
        if let Ok(s) = session {
            s.close().await;
        }
        Ok(report)
    }

    /// Tests reachability, host key, authentication and the server's health criteria.
    pub async fn ssh_check(
        &self,
        server: &str,
        cancel: &CancellationToken,
    ) -> Result<CheckReport, ApiError> {
        let stored = self.stored_server(server).await?;
        let record = stored.record.clone();
        let mut steps = Vec::new();
        let step = |name: &str, state: CheckState, detail: String, started: Instant| CheckStep {
            name: name.to_owned(),
            state,
            detail,
            millis: started.elapsed().as_millis() as u64,
        };

        let t = Instant::now();
        let reachable = tcp_probe(&record.address, record.port).await;
        steps.push(step(
            "reachable",
            if reachable.is_ok() {
                CheckState::Pass
            } else {
                CheckState::Fail
            },
            reachable.err().unwrap_or_else(|| {
                format!("{}:{} accepts connections", record.address, record.port)
            }),
            t,
        ));

        let t = Instant::now();
        let session = if steps[0].state == CheckState::Pass {
            match self.connect(&stored, cancel).await {
                Ok(s) => {
                    steps.push(step(
                        "host_key",
                        CheckState::Pass,
                        s.host_key().fingerprint(),
                        t,
                    ));
                    steps.push(step(
                        "authenticated",
                        CheckState::Pass,
                        format!("as {}", record.user),
                        t,
                    ));
                    Some(s)
                }
                Err(
                    e @ (SshError::HostKeyChanged { .. }
                    | SshError::HostKeyUnknown { .. }
                    | SshError::HostCertificate { .. }),
                ) => {
                    steps.push(step("host_key", CheckState::Fail, e.to_string(), t));
                    steps.push(step("authenticated", CheckState::Skipped, String::new(), t));
                    None
                }
                Err(e) => {
                    steps.push(step("host_key", CheckState::Pass, String::new(), t));
                    let state = if e.effect() == RemoteEffect::Unknown {
                        CheckState::Unknown
                    } else {
                        CheckState::Fail
                    };
                    steps.push(step("authenticated", state, e.to_string(), t));
                    None
                }
            }
        } else {
            steps.push(step("host_key", CheckState::Skipped, String::new(), t));
            steps.push(step("authenticated", CheckState::Skipped, String::new(), t));
            None
        };

        let health = &record.health;
        let t = Instant::now();
        steps.push(match health.tcp_port {
            None => step(
                "health_tcp",
                CheckState::Skipped,
                "not configured".into(),
                t,
            ),
            Some(port) => match tcp_probe(&record.address, port).await {
                Ok(()) => step(
                    "health_tcp",
                    CheckState::Pass,
                    format!("port {port} open"),
                    t,
                ),
                Err(e) => step("health_tcp", CheckState::Fail, e, t),
            },
        });
        let t = Instant::now();
        steps.push(match &health.http_url {
            None => step(
                "health_http",
                CheckState::Skipped,
                "not configured".into(),
                t,
            ),
            Some(url) => {
                let expected = health.http_status.unwrap_or(200);
                let max = Duration::from_millis(u64::from(health.http_max_ms.unwrap_or(5_000)));
                match http_status(url, max.max(Duration::from_secs(2)) * 2).await {
                    Ok((status, took)) if status == expected && took <= max => step(
                        "health_http",
                        CheckState::Pass,
                        format!("{status} in {} ms", took.as_millis()),
                        t,
                    ),
                    Ok((status, took)) => step(
                        "health_http",
                        CheckState::Fail,
                        format!(
                            "{status} in {} ms (expected {expected} within {} ms)",
                            took.as_millis(),
                            max.as_millis()
                        ),
                        t,
                    ),
                    Err(e) => step("health_http", CheckState::Fail, e, t),
                }
            }
        });
        let remote_checks: [(&str, Option<String>); 2] = [
            (
                "health_process",
                health
                    .process
                    .as_ref()
                    .map(|p| format!("ps -eo comm= | grep -qxF -- {} && echo running", quote(p))),
            ),
            (
                "health_log",
                match (&health.log_file, &health.log_error_pattern) {
                    (Some(file), Some(pattern)) => Some(format!(
                        "tail -n 200 -- {} | grep -cE -- {}; exit 0",
                        quote(file),
                        quote(pattern)
                    )),
                    _ => None,
                },
            ),
        ];
        for (name, text) in remote_checks {
            let t = Instant::now();
            let (Some(text), Some(session)) = (text.clone(), session.as_ref()) else {
                let why = if text.is_none() {
                    "not configured"
                } else {
                    "no SSH session"
                };
                steps.push(step(name, CheckState::Skipped, why.into(), t));
                continue;
            };
            let command = self.checked(server, &text, CommandContext::AdHoc).await?;
            let (result, _) = self
                .run_logged(
                    &stored,
                    Ok(session),
                    &command,
                    Duration::from_secs(20),
                    cancel,
                )
                .await?;
            steps.push(match (name, result) {
                ("health_process", Ok(r)) if r.succeeded() => {
                    step(name, CheckState::Pass, "running".into(), t)
                }
                ("health_process", Ok(_)) => step(name, CheckState::Fail, "not running".into(), t),
                ("health_log", Ok(r)) => {
                    let count: u64 = r.stdout.text().trim().parse().unwrap_or(0);
                    if !r.stderr.text().trim().is_empty() && r.stdout.text().trim().is_empty() {
                        step(name, CheckState::Fail, r.stderr.text().trim().to_owned(), t)
                    } else if count == 0 {
                        step(
                            name,
                            CheckState::Pass,
                            "no error lines in the last 200".into(),
                            t,
                        )
                    } else {
                        step(
                            name,
                            CheckState::Fail,
                            format!("{count} error lines in the last 200"),
                            t,
                        )
                    }
                }
                (_, Err(e)) => {
                    let state = if e.effect() == RemoteEffect::Unknown {
                        CheckState::Unknown
                    } else {
                        CheckState::Fail
                    };
                    step(name, state, e.to_string(), t)
                }
                (_, Ok(_)) => step(name, CheckState::Unknown, String::new(), t),
            });
        }
        if let Some(s) = session {
            s.close().await;
        }

        let mut report = CheckReport {
            server: server.to_owned(),
            steps,
            audit_index: 0,
        };
        let at = self.clock.now().with_timezone(&Utc);
        let mut entry = EntryDraft::new(
            at,
            EntryKind::SshCheck,
            self.operator.as_str(),
            server_subject(server),
        )
        .outcome(if report.passed() {
            Outcome::Ok
        } else {
            Outcome::Failed
        });
        for s in &report.steps {
            let state = match s.state {
                CheckState::Pass => "pass",
                CheckState::Fail => "fail",
                CheckState::Unknown => "unknown",
                CheckState::Skipped => "skipped",
            };
            entry = entry.with(&s.name, state);
        }
        report.audit_index = self.append(entry).await?;
        Ok(report)
    }
}

async fn tcp_probe(host: &str, port: u16) -> Result<(), String> {
    match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("{host}:{port}: {e}")),
        Err(_) => Err(format!("{host}:{port}: no answer within 5 s")),
    }
}

/// `GET url` over plain HTTP/1.1: the status code and how long the answer took.
async fn http_status(url: &str, limit: Duration) -> Result<(u16, Duration), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!(
            "{url}: only http:// health URLs are checked so far"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("{url}: bad port"))?),
        None => (authority, 80),
    };
    let started = Instant::now();
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: GUARDiA\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let mut head = vec![0u8; 1024];
        let mut len = 0;
        while len < head.len() && !head[..len].contains(&b'\n') {
            let n = stream
                .read(&mut head[len..])
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if n == 0 {
                break;
            }
            len += n;
        }
        let line = String::from_utf8_lossy(&head[..len]);
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("{url}: not an HTTP answer"))?;
        Ok::<_, String>(status)
    };
    match tokio::time::timeout(limit, exchange).await {
        Ok(Ok(status)) => Ok((status, started.elapsed())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("{url}: no answer within {} ms", limit.as_millis())),
    }
}
