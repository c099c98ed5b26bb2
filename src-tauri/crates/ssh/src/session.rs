//! One authenticated SSH connection to one server, reused for the steps of a job.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guardia_domain::command::{CommandContext, RemoteCommand};
use guardia_secrets::Sensitive;
use russh::client::{self, Handle};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg};
use russh::{ChannelMsg, Preferred, cipher, kex, mac};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::error::{Partial, RemoteEffect, SshError, Stage};
use crate::hostkey::HostKey;
use crate::wrapper::{self, Preamble, StopMode};

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
    /// Also offer the SHA-1-era algorithms old servers (OpenSSH 5.x, old Dropbear) need —
    /// SHA-1 key exchange, `ssh-rsa` host and user keys, `hmac-sha1`, CBC ciphers — after
    /// every modern one. Only for servers an admin marked `legacy_crypto`.
    pub legacy_crypto: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(15),
            auth_timeout: Duration::from_secs(15),
            keepalive_interval: Duration::from_secs(15),
            legacy_crypto: false,
        }
    }
}

/// Our algorithm preferences. Key exchange: curve25519 first — on this class of machine it
/// costs the client ≈ 1 ms where the post-quantum hybrids cost tens; ML-KEM hybrid next for
/// servers that offer nothing else. Ciphers: AES-GCM first (hardware AES), then
/// ChaCha20-Poly1305. Host keys: no SHA-1 `ssh-rsa` signatures — unless `legacy`, when the
/// SHA-1-era algorithms ([`LEGACY_KEX`] …) follow the modern ones.
fn preferred(legacy: bool) -> Preferred {
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
    const MACS: &[mac::Name] = &[
        mac::HMAC_SHA256_ETM,
        mac::HMAC_SHA512_ETM,
        mac::HMAC_SHA256,
        mac::HMAC_SHA512,
    ];
    if !legacy {
        return Preferred {
            kex: KEX.into(),
            key: KEYS.into(),
            cipher: CIPHERS.into(),
            mac: MACS.into(),
            ..Preferred::DEFAULT
        };
    }
    let (modern_kex, markers) = KEX.split_at(KEX.len() - 2);
    Preferred {
        kex: [modern_kex, LEGACY_KEX, markers].concat().into(),
        key: [KEYS, &[Algorithm::Rsa { hash: None }]].concat().into(),
        cipher: [CIPHERS, LEGACY_CIPHERS].concat().into(),
        mac: [MACS, LEGACY_MACS].concat().into(),
        ..Preferred::DEFAULT
    }
}

/// SHA-1 key exchanges OpenSSH 5.x and old Dropbear offer.
const LEGACY_KEX: &[kex::Name] = &[kex::DH_G14_SHA1, kex::DH_GEX_SHA1];
const LEGACY_CIPHERS: &[cipher::Name] = &[cipher::AES_256_CBC, cipher::AES_128_CBC];
const LEGACY_MACS: &[mac::Name] = &[mac::HMAC_SHA1_ETM, mac::HMAC_SHA1];

/// Every algorithm a `legacy_crypto` server is offered beyond the modern ones, as the audit
/// log names the opt-in.
pub fn legacy_algorithm_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = LEGACY_KEX.iter().map(|k| k.as_ref()).collect();
    names.push("ssh-rsa");
    names.extend(LEGACY_CIPHERS.iter().map(|c| c.as_ref()));
    names.extend(LEGACY_MACS.iter().map(|m| m.as_ref()));
    names
}

/// The algorithms a connection negotiated, as the server and the audit log name them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Negotiated {
    pub kex: String,
    pub host_key: String,
    pub cipher: String,
    pub mac: String,
}

impl Negotiated {
    /// The negotiated algorithms that only a `legacy_crypto` server is offered.
    pub fn legacy(&self) -> Vec<&str> {
        let legacy_kex = LEGACY_KEX.iter().any(|k| k.as_ref() == self.kex);
        let legacy_cipher = LEGACY_CIPHERS.iter().any(|c| c.as_ref() == self.cipher);
        let legacy_mac = LEGACY_MACS.iter().any(|m| m.as_ref() == self.mac);
        [
            (legacy_kex, self.kex.as_str()),
            (self.host_key == "ssh-rsa", self.host_key.as_str()),
            (legacy_cipher, self.cipher.as_str()),
            (legacy_mac, self.mac.as_str()),
        ]
        .into_iter()
        .filter_map(|(l, n)| l.then_some(n))
        .collect()
    }
}

impl std::fmt::Display for Negotiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kex {}, host key {}, cipher {}, mac {}",
            self.kex, self.host_key, self.cipher, self.mac
        )
    }
}

/// The russh handler: checks the presented host key against the pin, and remembers what
/// was presented so a refusal can name it.
struct Pinning {
    pinned: Option<HostKey>,
    presented: Arc<Mutex<Option<Presented>>>,
    negotiated: Arc<Mutex<Option<Negotiated>>>,
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

    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        names: &russh::Names,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        let negotiated = Negotiated {
            kex: names.kex.as_ref().to_owned(),
            host_key: names.key.as_str().to_owned(),
            cipher: names.cipher.as_ref().to_owned(),
            mac: if names.cipher.as_ref().contains("gcm")
                || names.cipher.as_ref().contains("poly1305")
            {
                "(in the cipher)".to_owned()
            } else {
                names.client_mac.as_ref().to_owned()
            },
        };
        if let Ok(mut slot) = self.negotiated.lock() {
            *slot = Some(negotiated);
        }
        Ok(())
    }
}

/// An authenticated connection. Cheap to share: open one per server per job and run every
/// step over it; each command gets its own channel.
pub struct SshSession {
    handle: Handle<Pinning>,
    target: Target,
    host_key: HostKey,
    negotiated: Negotiated,
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
            stop_note: None,
            partial: None,
        };
        let cancelled = |stage: Stage| SshError::Cancelled {
            target: label.clone(),
            stage,
            effect: RemoteEffect::None,
            remote_stopped: None,
            stop_note: None,
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

        let mut config = client::Config {
            preferred: preferred(options.legacy_crypto),
            keepalive_interval: Some(options.keepalive_interval),
            keepalive_max: 3,
            nodelay: true,
            ..client::Config::default()
        };
        if options.legacy_crypto {
            // OpenSSH 5.x hands out 2048-bit groups for group exchange (our default minimum
            // is 3072).
            if let Ok(gex) = client::GexParams::new(2048, 3072, 8192) {
                config.gex = gex;
            }
        }
        let config = Arc::new(config);
        let presented = Arc::new(Mutex::new(None));
        let negotiated = Arc::new(Mutex::new(None));
        let handler = Pinning {
            pinned: pin.cloned(),
            presented: presented.clone(),
            negotiated: negotiated.clone(),
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
                    (_, _) if let russh::Error::NoCommonAlgo { kind, theirs, .. } = &e => {
                        no_common_algorithm(label, kind, theirs, options.legacy_crypto)
                    }
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

        let mut sha1_only = false;
        let auth = authenticate(
            &mut handle,
            target,
            credential,
            options.legacy_crypto,
            &mut sha1_only,
        );
        let outcome = bounded(auth, options.auth_timeout, cancel).await;
        match outcome {
            Bounded::Done(Ok(true)) => {}
            Bounded::Done(Ok(false)) => {
                return Err(SshError::AuthRejected {
                    target: label,
                    user: target.user.clone(),
                    method: credential.method(),
                    legacy_would_do: sha1_only && !options.legacy_crypto,
                });
            }
            Bounded::Done(Err(e)) => return Err(e),
            Bounded::TimedOut => return Err(timeout(Stage::Authenticating, options.auth_timeout)),
            Bounded::Cancelled => return Err(cancelled(Stage::Authenticating)),
        }

        let negotiated = negotiated
            .lock()
            .ok()
            .and_then(|n| n.clone())
            .unwrap_or_default();
        if !negotiated.legacy().is_empty() {
            tracing::info!("legacy algorithms negotiated: {negotiated}");
        }
        Ok(Self {
            handle,
            target: target.clone(),
            host_key,
            negotiated,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The host key this connection was made with (always equal to the pin).
    pub fn host_key(&self) -> &HostKey {
        &self.host_key
    }

    /// The algorithms this connection negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Runs a checked command, streaming its output to `sink` as it arrives.
    ///
    /// The command runs in a process group of its own on the server — where sshd did not
    /// start it as a group leader (Dropbear), the wrapper makes it one with `setsid`,
    /// `busybox setsid` or `perl` — and the wrapper reports the group first (see
    /// [`StopMode`]). On timeout or cancellation the whole group is killed over a second
    /// channel and the result says whether it was confirmed gone, and if a stop could not be
    /// guaranteed on this server, why — the outcome itself stays *unknown*.
    #[tracing::instrument(skip_all, fields(target = %self.target.label()))]
    pub async fn exec(
        &self,
        command: &RemoteCommand,
        limits: &ExecLimits,
        sink: &mut (dyn FnMut(OutputStream, &[u8]) + Send),
        cancel: &CancellationToken,
    ) -> Result<ExecReport, SshError> {
        self.exec_with_input(command, None, limits, sink, cancel)
            .await
    }

    /// [`Self::exec`], with `input` written to the command's stdin (then end of file).
    async fn exec_with_input(
        &self,
        command: &RemoteCommand,
        input: Option<&[u8]>,
        limits: &ExecLimits,
        sink: &mut (dyn FnMut(OutputStream, &[u8]) + Send),
        cancel: &CancellationToken,
    ) -> Result<ExecReport, SshError> {
        let label = self.target.label();
        let started = Instant::now();
        let mut channel = self.open_channel(cancel).await?;
        let nonce = wrapper::nonce();
        if let Err(e) = channel
            .exec(true, wrapper::wrap(command.text(), &nonce).into_bytes())
            .await
        {
            return Err(SshError::Session {
                target: label,
                stage: Stage::Running,
                reason: e.to_string(),
                effect: RemoteEffect::Unknown,
            });
        }

        let mut stdout = Capture::new(limits.max_kept_bytes);
        let mut stderr = Capture::new(limits.max_kept_bytes);
        let mut out_preamble = Preamble::new(format!("guardia-{nonce} "));
        let mut err_preamble = Preamble::new(format!("guardia-{nonce}"));
        let mut pid: Option<u32> = None;
        let mut mode: Option<StopMode> = None;
        let mut exit: Option<Exit> = None;
        let deadline = tokio::time::Instant::now() + limits.timeout;

        // Input goes in alongside reading (a command may answer while it reads); the end of
        // file follows the last byte.
        let mut writer = channel.make_writer();
        let writing = async move {
            if let Some(data) = input {
                writer.write_all(data).await?;
                writer.shutdown().await?;
            }
            Ok::<(), std::io::Error>(())
        };
        let mut writing = Box::pin(writing);
        let mut written = input.is_none();
        loop {
            let msg = tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    drop(writing);
                    let stop = self.stop(pid, mode, &mut channel, stdout, stderr).await;
                    return Err(SshError::Cancelled {
                        target: label,
                        stage: Stage::Running,
                        effect: RemoteEffect::Unknown,
                        remote_stopped: Some(stop.stopped),
                        stop_note: stop.note,
                        partial: Some(stop.partial),
                    });
                }
                () = tokio::time::sleep_until(deadline) => {
                    drop(writing);
                    let stop = self.stop(pid, mode, &mut channel, stdout, stderr).await;
                    return Err(SshError::Timeout {
                        target: label,
                        stage: Stage::Running,
                        limit: limits.timeout,
                        effect: RemoteEffect::Unknown,
                        remote_stopped: Some(stop.stopped),
                        stop_note: stop.note,
                        partial: Some(stop.partial),
                    });
                }
                r = &mut writing, if !written => {
                    written = true;
                    if let Err(e) = r {
                        // The command stopped reading (it failed, or exited early): its exit
                        // status says what happened.
                        tracing::debug!("writing the command's input stopped: {e}");
                    }
                    continue;
                }
                msg = channel.wait() => msg,
            };
            match msg {
                Some(ChannelMsg::Data { data }) => {
                    let (line, bytes) = out_preamble.push(&data);
                    if let Some(line) = line {
                        (pid, mode) = wrapper::parse_line(&line);
                    }
                    if !bytes.is_empty() {
                        stdout.push(&bytes);
                        sink(OutputStream::Stdout, &bytes);
                    }
                }
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    let (_, bytes) = err_preamble.push(&data);
                    if !bytes.is_empty() {
                        stderr.push(&bytes);
                        sink(OutputStream::Stderr, &bytes);
                    }
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
        // The wrapper never ran (no marker): what the server said instead is the output.
        for (preamble, capture, stream) in [
            (&mut out_preamble, &mut stdout, OutputStream::Stdout),
            (&mut err_preamble, &mut stderr, OutputStream::Stderr),
        ] {
            let held = preamble.finish();
            if !held.is_empty() {
                capture.push(&held);
                sink(stream, &held);
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
            stop_mode: mode,
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
                stop_note: None,
                partial: None,
            }),
            Bounded::Cancelled => Err(SshError::Cancelled {
                target: label,
                stage: Stage::OpeningChannel,
                effect: RemoteEffect::None,
                remote_stopped: None,
                stop_note: None,
                partial: None,
            }),
        }
    }

    /// Stops a command that is still running, within [`STOP_BUDGET`].
    ///
    /// First in-band: a `signal` request on the command's own channel (RFC 4254 6.9), TERM
    /// then, after [`SIGNAL_GRACE`] if the channel is still open, KILL. OpenSSH (7.9 and
    /// later) sends it to the session's process group with `killpg` — no new process on the
    /// server, so a thousand sites stop in one round trip. Servers that do not take signal
    /// requests ignore them. Then, always, the kill script over a second channel kills what
    /// is left of the group and confirms it gone: the first step is the fast one, the second
    /// the proof. The first channel is read throughout (a command flooding its output would
    /// otherwise fill the connection's buffers and stall the kill channel behind it). Says
    /// whether the command was confirmed gone — and, where the server gave it no process
    /// group of its own, that this cannot be guaranteed and why.
    async fn stop(
        &self,
        pid: Option<u32>,
        mode: Option<StopMode>,
        channel: &mut russh::Channel<client::Msg>,
        mut stdout: Capture,
        mut stderr: Capture,
    ) -> Stop {
        let budget = tokio::time::sleep(STOP_BUDGET);
        tokio::pin!(budget);
        let mut open = true;
        // The proof waits out the grace even where the channel closed at once, so that across
        // a fleet every signal is out before the kill scripts (a process each) load the hosts.
        let proof = tokio::time::sleep(SIGNAL_GRACE);
        for sig in [russh::Sig::TERM, russh::Sig::KILL] {
            if !open || channel.signal(sig).await.is_err() {
                break;
            }
            let grace = tokio::time::sleep(SIGNAL_GRACE);
            tokio::pin!(grace);
            while open {
                tokio::select! {
                    () = &mut grace => break,
                    () = &mut budget => break,
                    msg = channel.wait() => open = drain(msg, &mut stdout, &mut stderr),
                }
            }
        }
        if !open {
            proof.await;
        }
        let kill = self.kill_group(pid);
        tokio::pin!(kill);
        let gone = loop {
            tokio::select! {
                gone = &mut kill => break gone,
                () = &mut budget => {
                    tracing::warn!("the process group was not confirmed gone within {STOP_BUDGET:?}");
                    break false;
                }
                msg = channel.wait(), if open => open = drain(msg, &mut stdout, &mut stderr),
            }
        };
        if let Err(e) = channel.close().await {
            tracing::debug!("closing the channel failed: {e}");
        }
        let partial = Box::new(Partial {
            stdout: stdout.finish(),
            stderr: stderr.finish(),
        });
        let (stopped, note) = match (pid, mode) {
            (None, _) => (
                false,
                Some("the command's process was not known yet, so nothing could be stopped".into()),
            ),
            (Some(_), Some(m)) if !m.guaranteed() => (false, m.reason().map(str::to_owned)),
            (Some(_), _) if !gone => (
                false,
                Some(format!(
                    "the process group was not confirmed gone within {} s",
                    STOP_BUDGET.as_secs()
                )),
            ),
            (Some(_), _) => (true, None),
        };
        Stop {
            stopped,
            note,
            partial,
        }
    }

    /// Kills the command whose process is `pid` and its process group (TERM, then KILL after
    /// a grace period, all on the server) over a fresh channel. Returns whether both were
    /// confirmed gone.
    async fn kill_group(&self, pid: Option<u32>) -> bool {
        let Some(pid) = pid.filter(|p| *p > 1) else {
            return false;
        };
        match RemoteCommand::check(&wrapper::kill_script(pid), CommandContext::Playbook) {
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
                        tracing::warn!("could not stop process group {pid}: {e}");
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

    /// A script GUARDiA itself sends, checked like every command (a refusal names this server).
    fn checked(&self, text: &str, context: CommandContext) -> Result<RemoteCommand, SshError> {
        RemoteCommand::check(text, context).map_err(|refusal| SshError::Refused {
            target: self.target.label(),
            refusal,
        })
    }

    /// How this server lets a command be stopped, found by running `true` through the
    /// wrapper (what a check records, so an operator knows before a rollout).
    pub async fn stop_mode(&self, cancel: &CancellationToken) -> Result<StopMode, SshError> {
        let truth = self.checked("true", CommandContext::Check)?;
        let limits = ExecLimits {
            timeout: Duration::from_secs(20),
            max_kept_bytes: 1024,
        };
        let report = self.run(&truth, &limits, cancel).await?;
        report.stop_mode.ok_or_else(|| SshError::Session {
            target: self.target.label(),
            stage: Stage::Running,
            reason: format!(
                "the command wrapper did not run (exit {:?}: {})",
                report.exit,
                report.stderr.text().trim()
            ),
            effect: RemoteEffect::None,
        })
    }

    /// Uploads `data` to `remote_path` — by SFTP, or where the server has no SFTP subsystem
    /// (many appliances) by streaming it to `cat` over an exec channel — via a temporary name
    /// renamed into place when complete, then checks the server's SHA-256 of the file
    /// (`sha256sum`, `openssl` or `shasum`, whichever it has) against ours. The method used is
    /// in the result.
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
        let started = Instant::now();
        let method = match bounded(self.upload_sftp(data, remote_path), timeout, cancel).await {
            Bounded::Done(Ok(())) => UploadMethod::Sftp,
            Bounded::Done(Err(SftpFailure::NoSubsystem(why))) => {
                tracing::info!("no SFTP on {label} ({why}); uploading over exec");
                let left = timeout.saturating_sub(started.elapsed());
                match self.upload_exec(data, remote_path, left, cancel).await {
                    Ok(()) => {}
                    // Seen with Dropbear under load: the channel closes without an exit
                    // status. Whether the file arrived is exactly what the hash check below
                    // establishes, so it decides.
                    Err(SshError::Session {
                        stage: Stage::Running,
                        effect: RemoteEffect::Unknown,
                        reason,
                        ..
                    }) => tracing::warn!("exec upload to {label}: {reason}; checking by hash"),
                    Err(e) => return Err(e),
                }
                UploadMethod::Exec
            }
            Bounded::Done(Err(SftpFailure::Failed(e))) => return Err(e),
            Bounded::TimedOut => {
                return Err(SshError::Timeout {
                    target: label,
                    stage: Stage::Uploading,
                    limit: timeout,
                    effect: RemoteEffect::Unknown,
                    remote_stopped: None,
                    stop_note: None,
                    partial: None,
                });
            }
            Bounded::Cancelled => {
                return Err(SshError::Cancelled {
                    target: label,
                    stage: Stage::Uploading,
                    effect: RemoteEffect::Unknown,
                    remote_stopped: None,
                    stop_note: None,
                    partial: None,
                });
            }
        };
        let transferred = started.elapsed();

        let path = guardia_domain::command::quote(remote_path);
        let check = self.checked(&wrapper::hash_script(&path), CommandContext::Playbook)?;
        let limits = ExecLimits {
            timeout,
            max_kept_bytes: 4096,
        };
        // Reading a hash changes nothing: a lost exit status is worth one more try.
        let report = match self.run(&check, &limits, cancel).await {
            Err(SshError::Session {
                stage: Stage::Running,
                ..
            }) => self.run(&check, &limits, cancel).await?,
            other => other?,
        };
        let actual = wrapper::hash_in(&report.stdout.text());
        if report.exit != Exit::Code(0) || actual.as_deref() != Some(expected.as_str()) {
            return Err(SshError::UploadMismatch {
                target: label,
                path: remote_path.to_owned(),
                expected,
                actual: actual.unwrap_or_else(|| {
                    format!(
                        "unreadable ({})",
                        [report.stdout.text(), report.stderr.text()]
                            .join(" ")
                            .trim()
                    )
                }),
            });
        }
        Ok(Upload {
            bytes: data.len() as u64,
            sha256: expected,
            method,
            transferred,
            verified: started.elapsed(),
        })
    }

    /// SFTP to `PATH.guardia-part`, then a rename. A server without an SFTP subsystem is told
    /// apart from a failure once the transfer began.
    async fn upload_sftp(&self, data: &[u8], remote_path: &str) -> Result<(), SftpFailure> {
        let label = self.target.label();
        let failed = |reason: String| {
            SftpFailure::Failed(SshError::Session {
                target: label.clone(),
                stage: Stage::Uploading,
                reason,
                effect: RemoteEffect::Unknown,
            })
        };
        let partial = format!("{remote_path}.guardia-part");
        let mut channel = self.handle.channel_open_session().await.map_err(|e| {
            SftpFailure::Failed(SshError::Session {
                target: label.clone(),
                stage: Stage::OpeningChannel,
                reason: e.to_string(),
                effect: RemoteEffect::None,
            })
        })?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| SftpFailure::NoSubsystem(e.to_string()))?;
        // The server's answer to the request: a refusal (no `Subsystem sftp`) falls back at
        // once instead of waiting out SFTP's own handshake timeout.
        loop {
            match tokio::time::timeout(Duration::from_secs(10), channel.wait()).await {
                Ok(Some(ChannelMsg::Success)) => break,
                Ok(Some(ChannelMsg::Failure)) => {
                    return Err(SftpFailure::NoSubsystem("the server refused SFTP".into()));
                }
                Ok(Some(ChannelMsg::Eof | ChannelMsg::Close) | None) => {
                    return Err(SftpFailure::NoSubsystem(
                        "the channel closed before SFTP started".into(),
                    ));
                }
                Ok(Some(_)) => {}
                Err(_) => {
                    return Err(SftpFailure::NoSubsystem(
                        "no answer to the SFTP request within 10 s".into(),
                    ));
                }
            }
        }
        // Nothing is written before the server answers SFTP's version handshake.
        let sftp = russh_sftp::client::SftpSession::new(channel.into_stream())
            .await
            .map_err(|e| SftpFailure::NoSubsystem(format!("SFTP: {e}")))?;
        let mut file = sftp
            .create(partial.clone())
            .await
            .map_err(|e| failed(format!("{partial}: {e}")))?;
        file.write_all(data)
            .await
            .map_err(|e| failed(format!("{partial}: {e}")))?;
        file.shutdown()
            .await
            .map_err(|e| failed(format!("{partial}: {e}")))?;
        if sftp.try_exists(remote_path).await.unwrap_or(false) {
            sftp.remove_file(remote_path)
                .await
                .map_err(|e| failed(format!("{remote_path}: {e}")))?;
        }
        sftp.rename(partial.clone(), remote_path)
            .await
            .map_err(|e| failed(format!("{remote_path}: {e}")))?;
        if let Err(e) = sftp.close().await {
            tracing::debug!("closing SFTP failed: {e}");
        }
        Ok(())
    }

    /// `cat > PATH.guardia-part && mv -f PATH.guardia-part PATH`, the data on stdin.
    async fn upload_exec(
        &self,
        data: &[u8],
        remote_path: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(), SshError> {
        let label = self.target.label();
        let part = guardia_domain::command::quote(&format!("{remote_path}.guardia-part"));
        let path = guardia_domain::command::quote(remote_path);
        let text = format!("cat > {part} && mv -f -- {part} {path}");
        let command = self.checked(&text, CommandContext::Playbook)?;
        let limits = ExecLimits {
            timeout,
            max_kept_bytes: 4096,
        };
        let report = self
            .exec_with_input(&command, Some(data), &limits, &mut |_, _| {}, cancel)
            .await?;
        if report.succeeded() {
            Ok(())
        } else {
            Err(SshError::Session {
                target: label,
                stage: Stage::Uploading,
                reason: format!(
                    "{remote_path}: writing over exec failed ({:?}): {}",
                    report.exit,
                    report.stderr.text().trim()
                ),
                effect: RemoteEffect::Unknown,
            })
        }
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
    legacy: bool,
    sha1_only: &mut bool,
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
                // A server that names no RSA signature hash (no `server-sig-algs`, or only
                // `ssh-rsa`) is assumed to take SHA-256 — unless it is a legacy server, which
                // gets the SHA-1 `ssh-rsa` signature it asked for (or is old enough to expect).
                match handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(session_err)?
                {
                    Some(Some(hash)) => Some(hash),
                    _ if legacy => None,
                    _ => {
                        // An old server may take only SHA-1 `ssh-rsa` signatures: a refusal
                        // will say the opt-in could help.
                        *sha1_only = true;
                        Some(HashAlg::Sha256)
                    }
                }
            } else {
                None
            };
            let key = Arc::new(key);
            let accepted = handle
                .authenticate_publickey(
                    target.user.clone(),
                    PrivateKeyWithHashAlg::new(key.clone(), hash),
                )
                .await
                .map(|r| r.success())
                .map_err(session_err)?;
            if accepted || !legacy || hash.is_none() || !key.algorithm().is_rsa() {
                return Ok(accepted);
            }
            // Old servers (and some that advertise more than they accept) take RSA keys only
            // with the SHA-1 `ssh-rsa` signature: a legacy server gets that second try.
            handle
                .authenticate_publickey(target.user.clone(), PrivateKeyWithHashAlg::new(key, None))
                .await
                .map(|r| r.success())
                .map_err(session_err)
        }
    }
}

/// The longest a timed-out or cancelled command takes to be stopped (signals on its channel,
/// then the kill script over a second channel: TERM, a 2 s grace, KILL, confirmation): past
/// it the stop is reported as not confirmed.
pub const STOP_BUDGET: Duration = Duration::from_secs(8);

/// How long a command has to end after an in-band TERM before it gets KILL (and after KILL,
/// before the kill script runs).
const SIGNAL_GRACE: Duration = Duration::from_millis(500);

/// Keeps what a stopping command still prints; false once its channel has closed.
fn drain(msg: Option<ChannelMsg>, stdout: &mut Capture, stderr: &mut Capture) -> bool {
    match msg {
        Some(ChannelMsg::Data { data }) => stdout.push(&data),
        Some(ChannelMsg::ExtendedData { data, ext: 1 }) => stderr.push(&data),
        Some(_) => {}
        None => return false,
    }
    true
}

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
    /// How the server let the command be put in a process group (none: a stop is not
    /// guaranteed); `None` if the wrapper's report never arrived.
    pub stop_mode: Option<StopMode>,
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

/// How an upload reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMethod {
    Sftp,
    /// Streamed to `cat` over an exec channel: the server has no SFTP subsystem.
    Exec,
}

impl UploadMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sftp => "sftp",
            Self::Exec => "exec",
        }
    }
}

enum SftpFailure {
    /// No SFTP here: nothing was written, the exec fallback may go ahead.
    NoSubsystem(String),
    Failed(SshError),
}

/// What stopping a command found.
struct Stop {
    stopped: bool,
    note: Option<String>,
    partial: Box<Partial>,
}

/// A verified upload.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: u64,
    pub sha256: String,
    pub method: UploadMethod,
    /// Time to transfer.
    pub transferred: Duration,
    /// Time to transfer and verify.
    pub verified: Duration,
}

/// The error for a handshake that found no algorithm both sides allow. When the server offers
/// only what a `legacy_crypto` server would be offered, the message names the opt-in.
fn no_common_algorithm(
    target: String,
    kind: &russh::AlgorithmKind,
    theirs: &[String],
    legacy_allowed: bool,
) -> SshError {
    let kind = match kind {
        russh::AlgorithmKind::Kex => "key exchange",
        russh::AlgorithmKind::Key => "host key",
        russh::AlgorithmKind::Cipher => "cipher",
        russh::AlgorithmKind::Mac => "MAC",
        russh::AlgorithmKind::Compression => "compression",
    };
    let legacy_would_do = !legacy_allowed && {
        let legacy = preferred(true);
        theirs.iter().any(|t| {
            legacy.kex.iter().any(|k| k.as_ref() == t)
                || legacy.cipher.iter().any(|c| c.as_ref() == t)
                || legacy.mac.iter().any(|m| m.as_ref() == t)
                || t == "ssh-rsa"
        })
    };
    SshError::NoCommonAlgorithm {
        target,
        kind,
        offered: theirs.join(","),
        legacy_would_do,
    }
}
