//! What the transport tests share: a lab of real SSH servers started per test (and always
//! taken down), connections to its sites, and `ps` on a site.
#![allow(dead_code)] // each test binary uses its part

use std::time::Duration;

use guardia_domain::command::{CommandContext, RemoteCommand};
use guardia_lab::{LabSpec, Manifest, Profile, ProfileCount};
use guardia_secrets::Sensitive;
use guardia_ssh::{ConnectOptions, Credential, ExecLimits, HostKey, SshError, SshSession, Target};
use tokio_util::sync::CancellationToken;

pub struct Lab {
    pub manifest: Manifest,
    _dir: tempfile::TempDir,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let report = guardia_lab::down(&self.manifest.root).expect("lab down");
        assert!(
            report.survivors.is_empty(),
            "lab processes survived: {:?}",
            report.survivors
        );
    }
}

/// `sites` OpenSSH sites.
pub fn lab(sites: usize) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let spec = LabSpec::new(dir.path().join("lab"), sites);
    start(dir, spec)
}

/// One site of `profile`, on addresses `127.<octet>.0.1`.
pub fn lab_of(profile: Profile, octet: u8) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = LabSpec::new(dir.path().join("lab"), 1);
    spec.profiles = vec![ProfileCount {
        profile,
        count: None,
    }];
    spec.octet = octet;
    let lab = start(dir, spec);
    assert_eq!(lab.manifest.sites[0].profile, profile);
    lab
}

fn start(dir: tempfile::TempDir, spec: LabSpec) -> Lab {
    let manifest = guardia_lab::up(&spec).expect("lab up");
    Lab {
        manifest,
        _dir: dir,
    }
}

impl Lab {
    pub fn target(&self, i: usize) -> Target {
        Target {
            host: self.manifest.sites[i].address.to_string(),
            port: self.manifest.ssh_port,
            user: self.manifest.user.clone(),
        }
    }

    pub fn pin(&self, i: usize) -> HostKey {
        HostKey::parse_openssh(self.manifest.host_key_of(&self.manifest.sites[i])).unwrap()
    }

    /// The ed25519 key every site but a legacy one accepts.
    pub fn key(&self) -> Credential {
        read_key(&self.manifest.client_key())
    }

    /// The key site `i` accepts (RSA for a legacy site: OpenSSH 5.3 knew no ed25519).
    pub fn key_for(&self, i: usize) -> Credential {
        if self.manifest.sites[i].profile == Profile::LegacyOpenssh {
            read_key(&self.manifest.rsa_client_key())
        } else {
            self.key()
        }
    }

    /// Connects to site `i` with its key and pin, legacy algorithms offered or not.
    pub async fn connect(&self, i: usize, legacy: bool) -> Result<SshSession, SshError> {
        let options = ConnectOptions {
            legacy_crypto: legacy,
            ..ConnectOptions::default()
        };
        SshSession::connect(
            &self.target(i),
            Some(&self.pin(i)),
            &self.key_for(i),
            &options,
            &CancellationToken::new(),
        )
        .await
    }

    pub async fn session(&self, i: usize) -> SshSession {
        self.connect(i, false).await.expect("connect")
    }
}

fn read_key(path: &std::path::Path) -> Credential {
    Credential::Key {
        openssh: Sensitive::new(std::fs::read_to_string(path).unwrap()),
        passphrase: None,
    }
}

pub fn cmd(text: &str) -> RemoteCommand {
    RemoteCommand::check(text, CommandContext::AdHoc).unwrap()
}

pub fn limits(timeout: Duration) -> ExecLimits {
    ExecLimits {
        timeout,
        max_kept_bytes: 64 * 1024,
    }
}

/// The live command lines on the site (the lab's sites are local), read with the site's own
/// `ps` — procps, or BusyBox's.
pub async fn remote_ps(session: &SshSession) -> String {
    session
        .run(
            &cmd("ps -eo stat=,args= 2>/dev/null || ps"),
            &limits(Duration::from_secs(10)),
            &CancellationToken::new(),
        )
        .await
        .unwrap()
        .stdout
        .text()
        .lines()
        .filter(|l| !l.starts_with('Z'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `command` (which prints `started` once its children run) and cancels it then;
/// returns the error the cancel produced.
pub async fn cancel_once_started(session: &SshSession, command: &str) -> SshError {
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    session
        .exec(
            &cmd(command),
            &limits(Duration::from_secs(60)),
            &mut |_, bytes| {
                if String::from_utf8_lossy(bytes).contains("started") {
                    trigger.cancel();
                }
            },
            &cancel,
        )
        .await
        .unwrap_err()
}
