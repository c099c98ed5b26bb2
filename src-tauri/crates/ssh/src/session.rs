//! One authenticated SSH connection to one server, reused for the steps of a job.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guardia_domain::command::{CommandContext, RemoteCommand};
use guardia_secrets::Sensitive;
use russh::client::{self, Handle};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg};
use russh::{ChannelMsg, Preferred, cipher, kex};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::error::{Partial, RemoteEffect, SshError, Stage};
use crate::hostkey::HostKey;

/// Where to connect, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
}

impl Target {
    /// `user@host:port`, as messages name a server.
    pub fn label(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }
}

/// How to prove who we are. Built from keyring contents just before use.
#[derive(Debug)]
pub enum Credential {
    Password(Sensitive<String>),
    /// An OpenSSH private key (ed25519, RSA, ECDSA), optionally passphrase-protected.
    Key {
        openssh: Sensitive<String>,
        passphrase: Option<Sensitive<String>>,
    },
}

impl Credential {
    fn method(&self) -> &'static str {
        match self {
            Self::Password(_) => "password",
            Self::Key { .. } => "public-key",
        }
    }
}

/// Network limits for connecting. Every network step has one.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// TCP connect.
    pub connect_timeout: Duration,
    /// Banner, key exchange and host-key check.
    pub handshake_timeout: Duration,
    /// Authentication.
    pub auth_timeout: Duration,
    /// Keepalive: a silent server is declared lost after `keepalive_interval × 3`.
    pub keepalive_interval: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(15),
            auth_timeout: Duration::from_secs(15),
            keepalive_interval: Duration::from_secs(15),
        }
    }
}

/// Our algorithm preferences. Key exchange: curve25519 first — on this class of machine it
/// costs the client ≈ 1 ms where the post-quantum hybrids cost tens; ML-KEM hybrid next for
/// servers that offer nothing else. Ciphers: AES-GCM first (hardware AES), then
/// ChaCha20-Poly1305. Host keys: no SHA-1 `ssh-rsa` signatures.
fn preferred() -> Preferred {
    const KEX: &[kex::Name] = &[
        kex::CURVE25519,
        kex::CURVE25519_PRE_RFC_8731,
        kex::MLKEM768X25519_SHA256,
        kex::DH_GEX_SHA256,
        kex::DH_G16_SHA512,
        kex::DH_G14_SHA256,
        kex::EXTENSION_SUPPORT_AS_CLIENT,
        kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
    ];
    const CIPHERS: &[cipher::Name] = &[
        cipher::AES_128_GCM,
        cipher::AES_256_GCM,
        cipher::CHACHA20_POLY1305,
        cipher::AES_256_CTR,
        cipher::AES_128_CTR,
    ];
    use russh::keys::{Algorithm, EcdsaCurve};
    const KEYS: &[Algorithm] = &[
        Algorithm::Ed25519,
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        },
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP384,
        },
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP521,
        },
        Algorithm::Rsa {
            hash: Some(HashAlg::Sha512),
        },
        Algorithm::Rsa {
            hash: Some(HashAlg::Sha256),
        },
    ];
    Preferred {
        kex: KEX.into(),
        key: KEYS.into(),
        cipher: CIPHERS.into(),
        ..Preferred::DEFAULT
    }
}

/// The russh handler: checks the presented host key against the pin, and remembers what
/// was presented so a refusal can name it.
struct Pinning {
    pinned: Option<HostKey>,
    presented: Arc<Mutex<Option<Presented>>>,
}

#[derive(Clone)]
enum Presented {
    Key(HostKey),
    Certificate,
}

impl client::Handler for Pinning {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let presented = match server_public_key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => {
                match HostKey::from_russh(key) {
                    Some(k) => Presented::Key(k),
                    None => return Ok(false),
                }
            }
            russh::keys::PublicKeyOrCertificate::Certificate(_) => Presented::Certificate,
        };
        let accept = matches!((&presented, &self.pinned), (Presented::Key(k), Some(p)) if k == p);
        if let Ok(mut slot) = self.presented.lock() {
            *slot = Some(presented);
        }
        Ok(accept)
    }
}

/// An authenticated connection. Cheap to share: open one per server per job and run every
/// step over it; each command gets its own channel.
pub struct SshSession {
    handle: Handle<Pinning>,
    target: Target,
    host_key: HostKey,
}

impl std::fmt::Debug for SshSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshSession")
            .field("target", &self.target.label())
            .field("host_key", &self.host_key)
            .finish()
    }
}

/// Runs `fut` under a time limit and a cancellation token.
async fn bounded<T>(
    fut: impl Future<Output = T>,
    limit: Duration,
    cancel: &CancellationToken,
) -> Bounded<T> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Bounded::Cancelled,
        r = tokio::time::timeout(limit, fut) => match r {
            Ok(v) => Bounded::Done(v),
            Err(_) => Bounded::TimedOut,
        },
    }
}

enum Bounded<T> {
    Done(T),
    TimedOut,
    Cancelled,
}

impl SshSession {
    /// Connects, checks the host key against `pin`, and authenticates.
    ///
    /// With no pin the connection is always refused with [`SshError::HostKeyUnknown`], which
    /// carries the presented key for a person to approve — there is no trust on first use.
    #[tracing::instrument(skip_all, fields(target = %target.label()))]
    pub async fn connect(
        target: &Target,
        pin: Option<&HostKey>,
        credential: &Credential,
        options: &ConnectOptions,
        cancel: &CancellationToken,
    ) -> Result<Self, SshError> {
        let label = target.label();
        let timeout = |stage: Stage, limit: Duration| SshError::Timeout {
            target: label.clone(),
            stage,
            limit,
            effect: RemoteEffect::None,
            remote_stopped: None,
            partial: None,
        };
        let cancelled = |stage: Stage| SshError::Cancelled {
            target: label.clone(),
            stage,
            effect: RemoteEffect::None,
            remote_stopped: None,
            partial: None,
        };

        let addr = (target.host.as_str(), target.port);
        let socket = match bounded(
            tokio::net::TcpStream::connect(addr),
            options.connect_timeout,
            cancel,
        )
        .await
        {
            Bounded::Done(Ok(s)) => s,
            Bounded::Done(Err(e)) => {
                return Err(SshError::Unreachable {
                    target: label,
                    reason: e.to_string(),
                });
            }
            Bounded::TimedOut => return Err(timeout(Stage::Connecting, options.connect_timeout)),
            Bounded::Cancelled => return Err(cancelled(Stage::Connecting)),
        };
        if let Err(e) = socket.set_nodelay(true) {
            tracing::debug!("set_nodelay failed: {e}");
        }

        let config = Arc::new(client::Config {
            preferred: preferred(),
            keepalive_interval: Some(options.keepalive_interval),
            keepalive_max: 3,
            nodelay: true,
            ..client::Config::default()
        });
        let presented = Arc::new(Mutex::new(None));
        let handler = Pinning {
            pinned: pin.cloned(),
            presented: presented.clone(),
        };
        let handshake = client::connect_stream(config, socket, handler);
        let mut handle = match bounded(handshake, options.handshake_timeout, cancel).await {
            Bounded::Done(Ok(h)) => h,
            Bounded::Done(Err(e)) => {
                let seen = presented.lock().ok().and_then(|s| s.clone());
                return Err(match (seen, pin) {
                    (Some(Presented::Certificate), _) => {
                        SshError::HostCertificate { target: label }
                    }
                    (Some(Presented::Key(k)), None) => SshError::HostKeyUnknown {
                        target: label,
                        presented: k,
                    },
                    (Some(Presented::Key(k)), Some(p)) if &k != p => SshError::HostKeyChanged {
                        target: label,
                        pinned: p.clone(),
                        presented: k,
                    },
                    _ => SshError::Session {
                        target: label,
                        stage: Stage::KeyExchange,
                        reason: e.to_string(),
                        effect: RemoteEffect::None,
                    },
                });
            }
            Bounded::TimedOut => {
                return Err(timeout(Stage::KeyExchange, options.handshake_timeout));
            }
            Bounded::Cancelled => return Err(cancelled(Stage::KeyExchange)),
        };
        let host_key = match presented.lock().ok().and_then(|s| s.clone()) {
            Some(Presented::Key(k)) => k,
            _ => {
                return Err(SshError::Session {
                    target: label,
                    stage: Stage::KeyExchange,
                    reason: "the server's host key was not checked".into(),
                    effect: RemoteEffect::None,
                });
            }
        };

        let auth = authenticate(&mut handle, target, credential);
        match bounded(auth, options.auth_timeout, cancel).await {
            Bounded::Done(Ok(true)) => {}
            Bounded::Done(Ok(false)) => {
                return Err(SshError::AuthRejected {
                    target: label,
                    user: target.user.clone(),
                    method: credential.method(),
                });
            }
            Bounded::Done(Err(e)) => return Err(e),
            Bounded::TimedOut => return Err(timeout(Stage::Authenticating, options.auth_timeout)),
            Bounded::Cancelled => return Err(cancelled(Stage::Authenticating)),
        }

        Ok(Self {
            handle,
            target: target.clone(),
            host_key,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The host key this connection was made with (always equal to the pin).
    pub fn host_key(&self) -> &HostKey {
        &self.host_key
    }

    /// Runs a checked command, streaming its output to `sink` as it arrives.
    ///
    /// The command runs in its own process group on the server (sshd starts every session in
    /// a new session), and the wrapper reports that group's id before anything else. On
    /// timeout or cancellation the whole group is killed over a second channel and the
    /// result says whether it was confirmed gone — the outcome itself stays *unknown*.
    #[tracing::instrument(skip_all, fields(target = %self.target.label()))]
    pub async fn exec(
        &self,
        command: &RemoteCommand,
        limits: &ExecLimits,
        sink: &mut (dyn FnMut(OutputStream, &[u8]) + Send),
        cancel: &CancellationToken,
    ) -> Result<ExecReport, SshError> {
        let label = self.target.label();
        let started = Instant::now();
        let mut channel = self.open_channel(cancel).await?;
        let wrapped = format!(
            "printf 'guardia-pgid %s\\n' \"$$\"; exec /bin/sh -c {}",
            guardia_domain::command::quote(command.text())
        );
        if let Err(e) = channel.exec(true, wrapped.into_bytes()).await {
            return Err(SshError::Session {
                target: label,
                stage: Stage::Running,
                reason: e.to_string(),
                effect: RemoteEffect::Unknown,
            });
        }

        let mut stdout = Capture::new(limits.max_kept_bytes);
        let mut stderr = Capture::new(limits.max_kept_bytes);
        let mut pgid_line: Option<Vec<u8>> = Some(Vec::new());
        let mut pgid: Option<u32> = None;
        let mut exit: Option<Exit> = None;
        let deadline = tokio::time::Instant::now() + limits.timeout;

        loop {
            let msg = tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    let (remote_stopped, partial) =
                        self.stop(pgid, &mut channel, stdout, stderr).await;
                    return Err(SshError::Cancelled {
                        target: label,
                        stage: Stage::Running,
                        effect: RemoteEffect::Unknown,
                        remote_stopped: Some(remote_stopped),
                        partial: Some(partial),
                    });
                }
                () = tokio::time::sleep_until(deadline) => {
                    let (remote_stopped, partial) =
                        self.stop(pgid, &mut channel, stdout, stderr).await;
                    return Err(SshError::Timeout {
                        target: label,
                        stage: Stage::Running,
                        limit: limits.timeout,
                        effect: RemoteEffect::Unknown,
                        remote_stopped: Some(remote_stopped),
                        partial: Some(partial),
                    });
                }
                msg = channel.wait() => msg,
            };
            match msg {
                Some(ChannelMsg::Data { data }) => {
                    let mut bytes: &[u8] = &data;
                    if let Some(line) = pgid_line.as_mut() {
                        // The wrapper's first line; everything after it is the command's.
                        match bytes.iter().position(|b| *b == b'\n') {
                            Some(nl) => {
                                line.extend_from_slice(&bytes[..nl]);
                                pgid = std::str::from_utf8(line)
                                    .ok()
                                    .and_then(|l| l.strip_prefix("guardia-pgid "))
                                    .and_then(|n| n.trim().parse().ok());
                                pgid_line = None;
                                bytes = &bytes[nl + 1..];
                            }
                            None => {
                                line.extend_from_slice(bytes);
                                continue;
                            }
                        }
                    }
                    if !bytes.is_empty() {
                        stdout.push(bytes);
                        sink(OutputStream::Stdout, bytes);
                    }
                }
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    stderr.push(&data);
                    sink(OutputStream::Stderr, &data);
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    exit = Some(Exit::Code(exit_status))
                }
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                    exit = Some(Exit::Signal(format!("{signal_name:?}")));
                }
                Some(_) => {}
                None => break,
            }
        }

        let Some(exit) = exit else {
            // The channel closed without an exit status: the connection dropped or the
            // server gave up. The command may or may not have done its work.
            return Err(SshError::Session {
                target: label,
                stage: Stage::Running,
                reason: "the channel closed without an exit status".into(),
                effect: RemoteEffect::Unknown,
            });
        };
        Ok(ExecReport {
            exit,
            stdout: stdout.finish(),
            stderr: stderr.finish(),
            elapsed: started.elapsed(),
        })
    }

    /// Runs a command and collects its output without streaming it anywhere.
    pub async fn run(
        &self,
        command: &RemoteCommand,
        limits: &ExecLimits,
        cancel: &CancellationToken,
    ) -> Result<ExecReport, SshError> {
        self.exec(command, limits, &mut |_, _| {}, cancel).await
    }

    async fn open_channel(
        &self,
        cancel: &CancellationToken,
    ) -> Result<russh::Channel<client::Msg>, SshError> {
        let label = self.target.label();
        match bounded(
            self.handle.channel_open_session(),
            Duration::from_secs(15),
            cancel,
        )
        .await
        {
            Bounded::Done(Ok(c)) => Ok(c),
            Bounded::Done(Err(e)) => Err(SshError::Session {
                target: label,
                stage: Stage::OpeningChannel,
                reason: e.to_string(),
                effect: RemoteEffect::None,
            }),
            Bounded::TimedOut => Err(SshError::Timeout {
                target: label,
                stage: Stage::OpeningChannel,
                limit: Duration::from_secs(15),
                effect: RemoteEffect::None,
                remote_stopped: None,
                partial: None,
            }),
            Bounded::Cancelled => Err(SshError::Cancelled {
                target: label,
                stage: Stage::OpeningChannel,
                effect: RemoteEffect::None,
                remote_stopped: None,
                partial: None,
            }),
        }
    }

    /// Stops a command that is still running: kills its process group over a second channel
    /// while still reading the first one (a command flooding its output would otherwise fill
    /// the connection's buffers and stall the kill channel behind it), all within
    /// [`STOP_BUDGET`]. Returns whether the group was confirmed gone, and the output kept up
    /// to that moment.
    async fn stop(
        &self,
        pgid: Option<u32>,
        channel: &mut russh::Channel<client::Msg>,
        mut stdout: Capture,
        mut stderr: Capture,
    ) -> (bool, Box<Partial>) {
        let kill = self.kill_group(pgid);
        tokio::pin!(kill);
        let budget = tokio::time::sleep(STOP_BUDGET);
        tokio::pin!(budget);
        let mut open = true;
        let stopped = loop {
            tokio::select! {
                stopped = &mut kill => break stopped,
                () = &mut budget => {
                    tracing::warn!("the process group was not confirmed gone within {STOP_BUDGET:?}");
                    break false;
                }
                msg = channel.wait(), if open => match msg {
                    Some(ChannelMsg::Data { data }) => stdout.push(&data),
                    Some(ChannelMsg::ExtendedData { data, ext: 1 }) => stderr.push(&data),
                    Some(_) => {}
                    None => open = false,
                },
            }
        };
        if let Err(e) = channel.close().await {
            tracing::debug!("closing the channel failed: {e}");
        }
        let partial = Partial {
            stdout: stdout.finish(),
            stderr: stderr.finish(),
        };
        (stopped, Box::new(partial))
    }

    /// Kills the process group `pgid` (TERM, then KILL after a grace period, all on the
    /// server) over a fresh channel. Returns whether the group was confirmed gone.
    async fn kill_group(&self, pgid: Option<u32>) -> bool {
        let Some(pgid) = pgid.filter(|p| *p > 1) else {
            return false;
        };
        let script = format!(
            "kill -TERM -{pgid} 2>/dev/null; i=0; \
             while kill -0 -{pgid} 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; \
             kill -KILL -{pgid} 2>/dev/null; sleep 0.1; \
             if kill -0 -{pgid} 2>/dev/null; then echo alive; else echo gone; fi"
        );
        match RemoteCommand::check(&script, CommandContext::Playbook) {
            Ok(cmd) => {
                let limits = ExecLimits {
                    timeout: STOP_BUDGET,
                    max_kept_bytes: 1024,
                };
                // A fresh token: the caller's is already cancelled, and the kill must run.
                let fresh = CancellationToken::new();
                match Box::pin(self.exec(&cmd, &limits, &mut |_, _| {}, &fresh)).await {
                    Ok(r) => r.stdout.text().trim() == "gone",
                    Err(e) => {
                        tracing::warn!("could not stop process group {pgid}: {e}");
                        false
                    }
                }
            }
            Err(r) => {
                tracing::error!("kill script refused by the denylist: {r}");
                false
            }
        }
    }

    /// Uploads `data` to `remote_path` by SFTP (via a temporary name, renamed when complete),
    /// then checks the server's `sha256sum` of the file against ours.
    #[tracing::instrument(skip_all, fields(target = %self.target.label(), path = remote_path))]
    pub async fn upload(
        &self,
        data: &[u8],
        remote_path: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Upload, SshError> {
        let label = self.target.label();
        let expected = hex::encode(Sha256::digest(data));
        let session_err = |stage: Stage, reason: String| SshError::Session {
            target: label.clone(),
            stage,
            reason,
            effect: RemoteEffect::Unknown,
        };
        let started = Instant::now();
        let partial = format!("{remote_path}.guardia-part");
        let transfer = async {
            let channel = self
                .handle
                .channel_open_session()
                .await
                .map_err(|e| session_err(Stage::OpeningChannel, e.to_string()))?;
            channel
                .request_subsystem(true, "sftp")
                .await
                .map_err(|e| session_err(Stage::Uploading, e.to_string()))?;
            let sftp = russh_sftp::client::SftpSession::new(channel.into_stream())
                .await
                .map_err(|e| session_err(Stage::Uploading, format!("SFTP: {e}")))?;
            let mut file = sftp
                .create(partial.clone())
                .await
                .map_err(|e| session_err(Stage::Uploading, format!("{partial}: {e}")))?;
            file.write_all(data)
                .await
                .map_err(|e| session_err(Stage::Uploading, format!("{partial}: {e}")))?;
            file.shutdown()
                .await
                .map_err(|e| session_err(Stage::Uploading, format!("{partial}: {e}")))?;
            if sftp.try_exists(remote_path).await.unwrap_or(false) {
                sftp.remove_file(remote_path)
                    .await
                    .map_err(|e| session_err(Stage::Uploading, format!("{remote_path}: {e}")))?;
            }
            sftp.rename(partial.clone(), remote_path)
                .await
                .map_err(|e| session_err(Stage::Uploading, format!("{remote_path}: {e}")))?;
            if let Err(e) = sftp.close().await {
                tracing::debug!("closing SFTP failed: {e}");
            }
            Ok::<_, SshError>(())
        };
        match bounded(transfer, timeout, cancel).await {
            Bounded::Done(r) => r?,
            Bounded::TimedOut => {
                return Err(SshError::Timeout {
                    target: label,
                    stage: Stage::Uploading,
                    limit: timeout,
                    effect: RemoteEffect::Unknown,
                    remote_stopped: None,
                    partial: None,
                });
            }
            Bounded::Cancelled => {
                return Err(SshError::Cancelled {
                    target: label,
                    stage: Stage::Uploading,
                    effect: RemoteEffect::Unknown,
                    remote_stopped: None,
                    partial: None,
                });
            }
        }
        let transferred = started.elapsed();

        let check =
            RemoteCommand::program("sha256sum", &["--", remote_path], CommandContext::Playbook)
                .map_err(|refusal| SshError::Refused {
                    target: label.clone(),
                    refusal,
                })?;
        let report = self
            .run(
                &check,
                &ExecLimits {
                    timeout,
                    max_kept_bytes: 4096,
                },
                cancel,
            )
            .await?;
        let actual = report
            .stdout
            .text()
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned();
        if report.exit != Exit::Code(0) || actual != expected {
            return Err(SshError::UploadMismatch {
                target: label,
                path: remote_path.to_owned(),
                expected,
                actual: if actual.is_empty() {
                    format!("unreadable ({})", report.stderr.text().trim())
                } else {
                    actual
                },
            });
        }
        Ok(Upload {
            bytes: data.len() as u64,
            sha256: expected,
            transferred,
            verified: started.elapsed(),
        })
    }

    /// Says goodbye to the server. Dropping a session also closes it, less politely.
    pub async fn close(self) {
        if let Err(e) = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await
        {
            tracing::debug!("disconnect failed: {e}");
        }
    }
}

async fn authenticate(
    handle: &mut Handle<Pinning>,
    target: &Target,
    credential: &Credential,
) -> Result<bool, SshError> {
    let label = target.label();
    let session_err = |e: russh::Error| SshError::Session {
        target: label.clone(),
        stage: Stage::Authenticating,
        reason: e.to_string(),
        effect: RemoteEffect::None,
    };
    match credential {
        Credential::Password(password) => handle
            .authenticate_password(target.user.clone(), password.expose().clone())
            .await
            .map(|r| r.success())
            .map_err(session_err),
        Credential::Key {
            openssh,
            passphrase,
        } => {
            let key = russh::keys::decode_secret_key(
                openssh.expose(),
                passphrase.as_ref().map(|p| p.expose().as_str()),
            )
            .map_err(|e| SshError::BadCredential {
                target: label.clone(),
                reason: match e {
                    russh::keys::Error::KeyIsEncrypted => {
                        "the private key is encrypted and no passphrase is stored".into()
                    }
                    other => format!("the private key could not be read ({other})"),
                },
            })?;
            let hash = if key.algorithm().is_rsa() {
                handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(session_err)?
                    .flatten()
                    .or(Some(HashAlg::Sha256))
            } else {
                None
            };
            handle
                .authenticate_publickey(
                    target.user.clone(),
                    PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                )
                .await
                .map(|r| r.success())
                .map_err(session_err)
        }
    }
}

/// The longest a timed-out or cancelled command takes to be stopped (kill over a second
/// channel, TERM, a 2 s grace, KILL, confirmation): past it the stop is reported as not
/// confirmed.
pub const STOP_BUDGET: Duration = Duration::from_secs(8);

/// Limits for one command.
#[derive(Debug, Clone)]
pub struct ExecLimits {
    pub timeout: Duration,
    /// How much of each stream is kept in the report (the rest is counted and hashed).
    pub max_kept_bytes: usize,
}

impl Default for ExecLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_kept_bytes: 256 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(u32),
    Signal(String),
}

/// A finished command: how it ended and what it printed.
#[derive(Debug, Clone)]
pub struct ExecReport {
    pub exit: Exit,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
}

impl ExecReport {
    pub fn succeeded(&self) -> bool {
        self.exit == Exit::Code(0)
    }
}

/// One output stream: the first `kept` bytes, and the size and SHA-256 of all of it (what
/// the audit log records — output may carry secrets, so it is stored by hash).
#[derive(Debug, Clone)]
pub struct Captured {
    pub kept: Vec<u8>,
    pub total_bytes: u64,
    pub sha256: String,
}

impl Captured {
    pub fn truncated(&self) -> bool {
        (self.kept.len() as u64) < self.total_bytes
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }
}

pub(crate) struct Capture {
    kept: Vec<u8>,
    limit: usize,
    total: u64,
    hasher: Sha256,
}

impl Capture {
    fn new(limit: usize) -> Self {
        Self {
            kept: Vec::new(),
            limit,
            total: 0,
            hasher: Sha256::new(),
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        self.hasher.update(bytes);
        let room = self.limit.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish(self) -> Captured {
        Captured {
            kept: self.kept,
            total_bytes: self.total,
            sha256: hex::encode(self.hasher.finalize()),
        }
    }
}

/// A verified upload.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: u64,
    pub sha256: String,
    /// Time to transfer.
    pub transferred: Duration,
    /// Time to transfer and verify.
    pub verified: Duration,
}
