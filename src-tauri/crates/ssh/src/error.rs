use std::fmt;
use std::time::Duration;

use crate::hostkey::HostKey;
use crate::session::Captured;

/// The output of a command that did not finish: kept like a finished one's (bounded,
/// counted and hashed in full), up to the moment its process group was stopped.
#[derive(Debug, Clone)]
pub struct Partial {
    pub stdout: Captured,
    pub stderr: Captured,
}

/// Where a connection or a command was when something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connecting,
    KeyExchange,
    Authenticating,
    OpeningChannel,
    Running,
    Uploading,
    Verifying,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::KeyExchange => "key_exchange",
            Self::Authenticating => "authenticating",
            Self::OpeningChannel => "opening_channel",
            Self::Running => "running",
            Self::Uploading => "uploading",
            Self::Verifying => "verifying",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the failure means for the remote side. The console never reports success it did
/// not see: once a command has been sent, a lost answer means *unknown*, not *failed*.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteEffect {
    /// Nothing was sent that could change the server.
    None,
    /// Something was sent; whether it ran, or how far, is not known.
    Unknown,
}

/// Why an SSH operation failed. Messages name the server (`user@host:port`) and never
/// contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("{target}: cannot reach the SSH port: {reason}")]
    Unreachable { target: String, reason: String },

    #[error("{target}: no answer within {} s while {stage}", limit.as_secs_f32())]
    Timeout {
        target: String,
        stage: Stage,
        limit: Duration,
        effect: RemoteEffect,
        /// After a timed-out command: whether its process group was confirmed gone.
        remote_stopped: Option<bool>,
        /// Why the stop is not confirmed (or cannot be guaranteed on this server).
        stop_note: Option<String>,
        /// After a timed-out command: what it printed before it was stopped.
        partial: Option<Box<Partial>>,
    },

    #[error(
        "{target}: host key not trusted yet — the server presents {presented}. \
         Check the fingerprint with the site and approve it before connecting"
    )]
    HostKeyUnknown { target: String, presented: HostKey },

    #[error(
        "{target}: HOST KEY CHANGED — pinned {} but the server presents {}. \
         Connection refused: someone may be intercepting, or the server was reinstalled. \
         Confirm with the site before trusting the new key",
        pinned.fingerprint(), presented.fingerprint()
    )]
    HostKeyChanged {
        target: String,
        pinned: HostKey,
        presented: HostKey,
    },

    #[error(
        "{target}: the server offers no {kind} algorithm GUARDiA allows (it offers {offered}){}",
        if *legacy_would_do {
            ". These are SHA-1-era algorithms of an old server: an admin can allow them for \
             this server only by marking it legacy_crypto with a reason (the server page's \
             SSH → Allow legacy…, or guardia inventory legacy-crypto SERVER on --reason …) / \
             오래된 서버의 SHA-1 알고리즘입니다. 관리자가 사유와 함께 이 서버에만 legacy_crypto를 \
             허용할 수 있습니다"
        } else { "" }
    )]
    NoCommonAlgorithm {
        target: String,
        kind: &'static str,
        offered: String,
        /// The server would be reachable with the legacy algorithms (not allowed for it now).
        legacy_would_do: bool,
    },

    #[error("{target}: the server presented a host certificate; GUARDiA pins plain host keys")]
    HostCertificate { target: String },

    #[error(
        "{target}: the server refused {method} authentication for user `{user}`{}",
        if *legacy_would_do {
            ". It names no SHA-2 signature for RSA keys: if it is an old server that takes only \
             SHA-1 `ssh-rsa` signatures, an admin can allow them for this server by marking it \
             legacy_crypto / 오래된 서버라면 관리자가 이 서버에 legacy_crypto를 허용할 수 있습니다"
        } else { "" }
    )]
    AuthRejected {
        target: String,
        user: String,
        method: &'static str,
        /// An RSA key was refused by a server that named no SHA-2 RSA signature.
        legacy_would_do: bool,
    },

    #[error("{target}: the stored credential cannot be used: {reason}")]
    BadCredential { target: String, reason: String },

    #[error("{target}: the SSH session failed while {stage}: {reason}")]
    Session {
        target: String,
        stage: Stage,
        reason: String,
        effect: RemoteEffect,
    },

    #[error("{target}: cancelled while {stage}")]
    Cancelled {
        target: String,
        stage: Stage,
        effect: RemoteEffect,
        /// For a running command: whether its process group was confirmed gone.
        remote_stopped: Option<bool>,
        /// Why the stop is not confirmed (or cannot be guaranteed on this server).
        stop_note: Option<String>,
        /// For a running command: what it printed before it was stopped.
        partial: Option<Box<Partial>>,
    },

    #[error("{target}: {path}: the server's SHA-256 is {actual}, expected {expected}")]
    UploadMismatch {
        target: String,
        path: String,
        expected: String,
        actual: String,
    },

    #[error("{target}: {refusal}")]
    Refused {
        target: String,
        #[source]
        refusal: guardia_domain::command::Refusal,
    },
}

impl SshError {
    /// What the failure means on the server.
    pub fn effect(&self) -> RemoteEffect {
        match self {
            Self::Timeout { effect, .. }
            | Self::Session { effect, .. }
            | Self::Cancelled { effect, .. } => *effect,
            Self::UploadMismatch { .. } => RemoteEffect::Unknown,
            Self::Unreachable { .. }
            | Self::HostKeyUnknown { .. }
            | Self::HostKeyChanged { .. }
            | Self::HostCertificate { .. }
            | Self::NoCommonAlgorithm { .. }
            | Self::AuthRejected { .. }
            | Self::BadCredential { .. }
            | Self::Refused { .. } => RemoteEffect::None,
        }
    }

    /// What a command that was stopped (timeout or cancel) had printed by then.
    pub fn partial(&self) -> Option<&Partial> {
        match self {
            Self::Timeout { partial, .. } | Self::Cancelled { partial, .. } => partial.as_deref(),
            _ => None,
        }
    }

    /// Why a stopped command's stop is not confirmed, if it is not.
    pub fn stop_note(&self) -> Option<&str> {
        match self {
            Self::Timeout { stop_note, .. } | Self::Cancelled { stop_note, .. } => {
                stop_note.as_deref()
            }
            _ => None,
        }
    }

    /// A short stable code for audit entries and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreachable { .. } => "unreachable",
            Self::Timeout { .. } => "timeout",
            Self::HostKeyUnknown { .. } => "host_key_unknown",
            Self::HostKeyChanged { .. } => "host_key_changed",
            Self::HostCertificate { .. } => "host_certificate",
            Self::NoCommonAlgorithm { .. } => "no_common_algorithm",
            Self::AuthRejected { .. } => "auth_rejected",
            Self::BadCredential { .. } => "bad_credential",
            Self::Session { .. } => "session_failed",
            Self::Cancelled { .. } => "cancelled",
            Self::UploadMismatch { .. } => "upload_mismatch",
            Self::Refused { .. } => "refused",
        }
    }
}
