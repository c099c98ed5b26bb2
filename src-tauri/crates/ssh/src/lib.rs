//! # guardia-ssh — reaching a site with nothing installed on it but sshd
//!
//! GUARDiA talks to ~1,000 legacy servers over plain SSH and SFTP. This crate is the
//! transport and nothing else: it knows nothing of inventories, keyrings, audit logs or
//! Tauri. The layer above decides *what* to run and records it; this crate makes sure that
//! what is run is run safely:
//!
//! * **Host keys are pinned.** [`SshSession::connect`] takes the pinned key or nothing; with
//!   nothing it refuses and hands back the presented key for a person to approve
//!   ([`SshError::HostKeyUnknown`]); a different key is refused loudly with both
//!   fingerprints ([`SshError::HostKeyChanged`]). There is no "accept any key" switch.
//! * **Every network step has a time limit and races a cancellation token.** A failure
//!   after a command was sent is reported with [`RemoteEffect::Unknown`], never as a plain
//!   failure (and never as success).
//! * **Cancelling a command stops it on the server.** Commands run in their own process
//!   group and report its id first; cancel and timeout kill the group over a second channel
//!   and say whether it is confirmed gone.
//! * **Only checked commands are sent.** [`SshSession::exec`] takes a
//!   [`guardia_domain::command::RemoteCommand`], which exists only once the denylist passed.
//! * **Output is bounded and hashed.** A report keeps the first bytes of each stream and the
//!   SHA-256 and size of all of it, which is what the audit log records.
//! * **Uploads are verified on the server** with `sha256sum` before they count.

mod error;
pub mod hostkey;
mod session;
mod wrapper;

pub use error::{Partial, RemoteEffect, SshError, Stage};
pub use hostkey::{HostKey, HostKeyError, KnownHost, KnownHostsError, parse_known_hosts};
pub use session::{
    Captured, ConnectOptions, Credential, ExecLimits, ExecReport, Exit, Negotiated, OutputStream,
    STOP_BUDGET, SshSession, Target, Upload, UploadMethod, legacy_algorithm_names,
};
pub use wrapper::StopMode;

use tokio_util::sync::CancellationToken;

/// Connects without a pin to read the key the server presents, for a person to compare and
/// approve. Nothing is authenticated and nothing is run.
pub async fn fetch_host_key(
    target: &Target,
    options: &ConnectOptions,
    cancel: &CancellationToken,
) -> Result<HostKey, SshError> {
    let nobody = Credential::Password(guardia_secrets::Sensitive::new(String::new()));
    match SshSession::connect(target, None, &nobody, options, cancel).await {
        Err(SshError::HostKeyUnknown { presented, .. }) => Ok(presented),
        Err(e) => Err(e),
        Ok(session) => {
            // Unreachable by construction (no pin never connects); close it all the same.
            let key = session.host_key().clone();
            session.close().await;
            Ok(key)
        }
    }
}

/// Reads an OpenSSH private key (with its passphrase, if any) the way a connection would,
/// and returns its public key's fingerprint — so a credential is checked when it is stored,
/// not when a rollout first needs it.
pub fn private_key_fingerprint(openssh: &str, passphrase: Option<&str>) -> Result<String, String> {
    match russh::keys::decode_secret_key(openssh, passphrase) {
        Ok(key) => Ok(key
            .public_key()
            .fingerprint(russh::keys::HashAlg::Sha256)
            .to_string()),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            Err("the private key is encrypted: give its passphrase".into())
        }
        Err(e) => Err(format!(
            "not a usable OpenSSH private key (or the passphrase is wrong): {e}"
        )),
    }
}
