//! The SSH transport against real OpenSSH sshd, started by each test as a small lab.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use guardia_lab::Fault;
use guardia_secrets::Sensitive;
use guardia_ssh::{
    ConnectOptions, Credential, ExecLimits, Exit, RemoteEffect, SshError, SshSession, Stage,
};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

mod common;

use common::{cancel_once_started, cmd, lab, limits, remote_ps};

#[tokio::test]
async fn exit_codes_and_both_streams_come_back_separately() {
    let lab = lab(1);
    let s = lab.session(0).await;
    let r = s
        .run(
            &cmd("echo out; echo err >&2; exit 3"),
            &limits(Duration::from_secs(10)),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(r.exit, Exit::Code(3));
    assert_eq!(r.stdout.text(), "out\n");
    assert_eq!(r.stderr.text(), "err\n");
    let ok = s
        .run(
            &cmd("true"),
            &limits(Duration::from_secs(10)),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(ok.succeeded());
    assert_eq!(
        ok.stdout.total_bytes, 0,
        "the wrapper's pgid line must not leak into stdout"
    );
}

#[tokio::test]
async fn large_output_is_kept_bounded_but_counted_and_hashed_in_full() {
    let lab = lab(1);
    let s = lab.session(0).await;
    let mut streamed = 0usize;
    let r = s
        .exec(
            &cmd("head -c 300000 /dev/zero | tr '\\0' a"),
            &ExecLimits {
                timeout: Duration::from_secs(20),
                max_kept_bytes: 1000,
            },
            &mut |_, bytes| streamed += bytes.len(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(r.stdout.kept.len(), 1000);
    assert!(r.stdout.truncated());
    assert_eq!(r.stdout.total_bytes, 300_000);
    assert_eq!(streamed, 300_000, "every byte reaches the caller's sink");
    assert_eq!(
        r.stdout.sha256,
        hex::encode(Sha256::digest(vec![b'a'; 300_000]))
    );
}

#[tokio::test]
async fn a_timeout_reports_an_unknown_outcome_and_kills_the_remote_process() {
    let lab = lab(1);
    let s = lab.session(0).await;
    let err = s
        .run(
            &cmd("sleep 31340"),
            &limits(Duration::from_millis(800)),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    match &err {
        SshError::Timeout {
            stage,
            effect,
            remote_stopped,
            ..
        } => {
            assert_eq!(*stage, Stage::Running);
            assert_eq!(
                *effect,
                RemoteEffect::Unknown,
                "a timed-out command never counts as failed or done"
            );
            assert_eq!(*remote_stopped, Some(true));
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert_eq!(err.effect(), RemoteEffect::Unknown);
    assert!(!remote_ps(&s).await.contains("sleep 31340"));
}

#[tokio::test]
async fn cancel_stops_the_whole_remote_process_group() {
    let lab = lab(1);
    let s = lab.session(0).await;
    let err = cancel_once_started(&s, "sleep 31341 & sleep 31342 & echo started; wait").await;
    assert!(
        matches!(
            err,
            SshError::Cancelled {
                remote_stopped: Some(true),
                effect: RemoteEffect::Unknown,
                ..
            }
        ),
        "{err:?}"
    );
    let ps = remote_ps(&s).await;
    assert!(
        !ps.contains("sleep 31341") && !ps.contains("sleep 31342"),
        "{ps}"
    );
}

#[tokio::test]
async fn hardening_09_a_command_flooding_its_output_stops_in_bounded_time_and_keeps_its_output() {
    let lab = lab(1);
    let s = lab.session(0).await;
    let timeout = Duration::from_secs(2);
    let started = std::time::Instant::now();
    let err = s
        .run(
            &cmd("echo begin >&2; yes flood-31343"),
            &limits(timeout),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took < timeout + guardia_ssh::STOP_BUDGET,
        "stopped after {took:?}"
    );
    assert!(
        matches!(
            err,
            SshError::Timeout {
                remote_stopped: Some(true),
                ..
            }
        ),
        "{err:?}"
    );
    let partial = err.partial().expect("the output so far is kept");
    assert!(
        partial
            .stdout
            .text()
            .starts_with("flood-31343\nflood-31343\n")
    );
    assert_eq!(partial.stdout.kept.len(), 64 * 1024);
    assert!(partial.stdout.total_bytes > 64 * 1024);
    assert_eq!(partial.stderr.text(), "begin\n");
    assert!(!remote_ps(&s).await.contains("yes flood-31343"));
}

#[tokio::test]
async fn host_keys_unknown_is_refused_changed_is_refused_trusted_is_accepted() {
    let lab = lab(2);
    let options = ConnectOptions::default();
    let none = CancellationToken::new();

    // Unknown: refused, and the refusal carries the key for a person to approve.
    let err = SshSession::connect(&lab.target(0), None, &lab.key(), &options, &none)
        .await
        .unwrap_err();
    let SshError::HostKeyUnknown { presented, .. } = &err else {
        panic!("expected an unknown host key, got {err}");
    };
    assert_eq!(*presented, lab.pin(0));
    assert!(err.to_string().contains(&lab.pin(0).fingerprint()));
    let fetched = guardia_ssh::fetch_host_key(&lab.target(0), &options, &none)
        .await
        .unwrap();
    assert_eq!(fetched, lab.pin(0));

    // Trusted: accepted.
    let s = SshSession::connect(
        &lab.target(0),
        Some(&lab.pin(0)),
        &lab.key(),
        &options,
        &none,
    )
    .await
    .unwrap();
    assert_eq!(s.host_key(), &lab.pin(0));
    s.close().await;

    // Changed: refused loudly, naming both fingerprints.
    let old = lab.pin(1);
    guardia_lab::fault(&lab.manifest.root, "lab-0002", Fault::HostKeyChanged).unwrap();
    let err = SshSession::connect(&lab.target(1), Some(&old), &lab.key(), &options, &none)
        .await
        .unwrap_err();
    let SshError::HostKeyChanged {
        pinned, presented, ..
    } = &err
    else {
        panic!("expected a changed host key, got {err}");
    };
    assert_eq!(*pinned, old);
    assert_ne!(*presented, old);
    let message = err.to_string();
    assert!(message.contains("HOST KEY CHANGED"));
    assert!(message.contains(&old.fingerprint()) && message.contains(&presented.fingerprint()));
}

#[tokio::test]
async fn password_authentication_accepts_the_right_password_only() {
    let lab = lab(1);
    if !lab.manifest.password_auth {
        eprintln!(
            "skipped: password logins need a root lab (a non-root sshd cannot check passwords)"
        );
        return;
    }
    let password = std::fs::read_to_string(lab.manifest.password_file()).unwrap();
    let options = ConnectOptions::default();
    let none = CancellationToken::new();
    let s = SshSession::connect(
        &lab.target(0),
        Some(&lab.pin(0)),
        &Credential::Password(Sensitive::new(password.trim().to_owned())),
        &options,
        &none,
    )
    .await
    .unwrap();
    let r = s
        .run(&cmd("id -un"), &limits(Duration::from_secs(10)), &none)
        .await
        .unwrap();
    assert_eq!(r.stdout.text().trim(), lab.manifest.user);
    let err = SshSession::connect(
        &lab.target(0),
        Some(&lab.pin(0)),
        &Credential::Password(Sensitive::new("not-the-password".into())),
        &options,
        &none,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            SshError::AuthRejected {
                method: "password",
                ..
            }
        ),
        "{err}"
    );
}

fn keygen(dir: &Path, kind: &str, bits: Option<&str>, passphrase: &str) -> (String, String) {
    let path = dir.join(format!("id_{kind}"));
    let mut c = Command::new("ssh-keygen");
    c.args(["-q", "-t", kind, "-N", passphrase, "-C", "test", "-f"])
        .arg(&path);
    if let Some(bits) = bits {
        c.args(["-b", bits]);
    }
    assert!(c.status().unwrap().success());
    (
        std::fs::read_to_string(&path).unwrap(),
        std::fs::read_to_string(path.with_extension("pub")).unwrap(),
    )
}

#[tokio::test]
async fn encrypted_private_keys_of_every_kind_authenticate_with_their_passphrase() {
    let lab = lab(1);
    let dir = tempfile::tempdir().unwrap();
    let options = ConnectOptions::default();
    let none = CancellationToken::new();
    for (kind, bits) in [
        ("ed25519", None),
        ("ecdsa", Some("256")),
        ("rsa", Some("2048")),
    ] {
        let (private, public) = keygen(dir.path(), kind, bits, "correct horse");
        lab.manifest.authorize_key(&public).unwrap();
        let with = |passphrase: Option<&str>| Credential::Key {
            openssh: Sensitive::new(private.clone()),
            passphrase: passphrase.map(|p| Sensitive::new(p.to_owned())),
        };
        let s = SshSession::connect(
            &lab.target(0),
            Some(&lab.pin(0)),
            &with(Some("correct horse")),
            &options,
            &none,
        )
        .await
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
        s.close().await;
        for wrong in [None, Some("wrong")] {
            let err = SshSession::connect(
                &lab.target(0),
                Some(&lab.pin(0)),
                &with(wrong),
                &options,
                &none,
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, SshError::BadCredential { .. }),
                "{kind} {wrong:?}: {err}"
            );
            assert!(!err.to_string().contains("correct horse"));
        }
    }
}

#[tokio::test]
async fn an_unreachable_site_fails_before_anything_is_sent() {
    let lab = lab(2);
    guardia_lab::fault(&lab.manifest.root, "lab-0001", Fault::SshdDown).unwrap();
    let err = SshSession::connect(
        &lab.target(0),
        Some(&lab.pin(0)),
        &lab.key(),
        &ConnectOptions::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SshError::Unreachable { .. }), "{err}");
    assert_eq!(err.effect(), RemoteEffect::None);
    // Its neighbour on the same sshd is unaffected.
    lab.session(1).await.close().await;
}

#[tokio::test]
async fn an_upload_arrives_whole_and_is_verified_by_the_server() {
    let lab = lab(1);
    let s = lab.session(0).await;
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = lab.manifest.sites[0].deploy_dir().join("artifact.bin");
    let path = path.to_str().unwrap();
    let up = s
        .upload(
            &data,
            path,
            Duration::from_secs(60),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(up.bytes, 3_000_000);
    assert_eq!(up.sha256, hex::encode(Sha256::digest(&data)));
    assert_eq!(std::fs::read(path).unwrap(), data);
    assert!(!Path::new(&format!("{path}.guardia-part")).exists());
}
