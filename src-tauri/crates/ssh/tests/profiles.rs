//! The SSH transport against every kind of server the lab can run (`guardia lab up
//! --profile …`): Debian's OpenSSH, sshd restricted to OpenSSH 5.3's algorithms with a tcsh
//! login shell and login noise, Dropbear without SFTP, and Dropbear with a BusyBox `ash`
//! login shell. Each must connect, run with exit codes and both streams, take a verified
//! upload, and leave no remote process after a timeout or a cancel — or say why it could not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use guardia_lab::{Fault, Profile};
use guardia_ssh::{Exit, RemoteEffect, SshError, StopMode, UploadMethod};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

mod common;

use common::{cancel_once_started, cmd, lab_of, limits, remote_ps};

/// Everything a rollout needs from one server, on one profile. `seed` keeps the `sleep`
/// markers of parallel tests apart.
async fn everything_works_on(profile: Profile, octet: u8, seed: u32) {
    let lab = lab_of(profile, octet);
    let legacy = profile == Profile::LegacyOpenssh;
    let s = lab.connect(0, legacy).await.expect("connect");

    // Algorithms: modern everywhere but on the legacy server, which is named as such.
    let negotiated = s.negotiated().clone();
    assert!(!negotiated.kex.is_empty(), "{negotiated:?}");
    if legacy {
        assert_eq!(negotiated.host_key, "ssh-rsa", "{negotiated}");
        assert!(negotiated.kex.ends_with("sha1"), "{negotiated}");
        assert!(!negotiated.legacy().is_empty());
    } else {
        assert!(negotiated.legacy().is_empty(), "{profile:?}: {negotiated}");
    }

    // Exit codes and both streams, unharmed by login noise or the login shell.
    let r = s
        .run(
            &cmd("echo out-$((6*7)); echo 'err line' >&2; printf 'multi\\nline\\n'; exit 3"),
            &limits(Duration::from_secs(20)),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(r.exit, Exit::Code(3), "{profile:?}");
    assert_eq!(r.stdout.text(), "out-42\nmulti\nline\n", "{profile:?}");
    assert_eq!(r.stderr.text(), "err line\n", "{profile:?}");
    let stop_mode = s.stop_mode(&CancellationToken::new()).await.unwrap();
    assert!(stop_mode.guaranteed(), "{profile:?}: {stop_mode:?}");
    match profile {
        Profile::Openssh => assert_eq!(stop_mode, StopMode::Group),
        // The forced login script runs under a shell that forks it, out of the session's
        // group leader: the wrapper makes the group itself.
        Profile::LegacyOpenssh => assert_eq!(stop_mode, StopMode::Made("setsid")),
        Profile::Dropbear => assert_eq!(stop_mode, StopMode::Made("setsid")),
        Profile::Busybox => assert_eq!(stop_mode, StopMode::Made("busybox setsid")),
    }

    // Upload, verified by the server's hash: SFTP where there is one, exec where not.
    let data: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let path = lab.manifest.sites[0].deploy_dir().join("app.war");
    let path = path.to_str().unwrap();
    std::fs::write(path, b"the previous version").unwrap();
    let up = s
        .upload(
            &data,
            path,
            Duration::from_secs(60),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(up.sha256, hex::encode(Sha256::digest(&data)));
    assert_eq!(std::fs::read(path).unwrap(), data, "{profile:?}");
    let expected = match profile {
        Profile::Openssh | Profile::LegacyOpenssh => UploadMethod::Sftp,
        Profile::Dropbear | Profile::Busybox => UploadMethod::Exec,
    };
    assert_eq!(up.method, expected, "{profile:?}");

    // A timeout leaves nothing running on the server.
    let marker = format!("sleep {}", 41_000 + seed);
    let err = s
        .run(
            &cmd(&format!("{marker}; echo late")),
            &limits(Duration::from_millis(1500)),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            SshError::Timeout {
                remote_stopped: Some(true),
                effect: RemoteEffect::Unknown,
                ..
            }
        ),
        "{profile:?}: {err:?}"
    );
    let ps = remote_ps(&s).await;
    assert!(!ps.contains(&marker), "{profile:?}: still running:\n{ps}");

    // A cancel stops the command and what it started in the background.
    let (a, b) = (
        format!("sleep {}", 42_000 + seed),
        format!("sleep {}", 43_000 + seed),
    );
    let err = cancel_once_started(&s, &format!("{a} & {b} & echo started; wait")).await;
    assert!(
        matches!(
            err,
            SshError::Cancelled {
                remote_stopped: Some(true),
                ..
            }
        ),
        "{profile:?}: {err:?}"
    );
    let ps = remote_ps(&s).await;
    assert!(
        !ps.contains(&a) && !ps.contains(&b),
        "{profile:?}: still running:\n{ps}"
    );
    s.close().await;
}

#[tokio::test]
async fn openssh_sites_do_everything() {
    everything_works_on(Profile::Openssh, 61, 1).await;
}

#[tokio::test]
async fn legacy_openssh_sites_do_everything_once_opted_in() {
    everything_works_on(Profile::LegacyOpenssh, 62, 2).await;
}

#[tokio::test]
async fn dropbear_sites_do_everything_without_sftp() {
    everything_works_on(Profile::Dropbear, 63, 3).await;
}

#[tokio::test]
async fn busybox_sites_do_everything_with_ash_and_no_setsid() {
    everything_works_on(Profile::Busybox, 64, 4).await;
}

#[tokio::test]
async fn a_legacy_server_without_the_opt_in_is_refused_naming_the_opt_in() {
    let lab = lab_of(Profile::LegacyOpenssh, 65);
    let err = lab.connect(0, false).await.unwrap_err();
    assert!(
        matches!(
            &err,
            SshError::NoCommonAlgorithm {
                legacy_would_do: true,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("legacy_crypto"), "{text}");
    assert!(text.contains("diffie-hellman-group14-sha1"), "{text}");
    assert_eq!(err.effect(), RemoteEffect::None);
}

#[tokio::test]
async fn where_no_process_group_can_be_made_a_stop_says_it_is_not_guaranteed() {
    let lab = lab_of(Profile::Busybox, 66);
    guardia_lab::fault(&lab.manifest.root, "lab-0001", Fault::NoProcessGroup).unwrap();
    let s = lab.connect(0, false).await.unwrap();
    let mode = s.stop_mode(&CancellationToken::new()).await.unwrap();
    assert_eq!(mode, StopMode::None);
    assert!(mode.reason().unwrap().contains("setsid"));

    let err = s
        .run(
            &cmd("sleep 44005; echo late"),
            &limits(Duration::from_millis(1500)),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    match &err {
        SshError::Timeout {
            remote_stopped,
            stop_note,
            effect,
            ..
        } => {
            assert_eq!(*remote_stopped, Some(false), "never claimed stopped");
            assert_eq!(*effect, RemoteEffect::Unknown);
            assert!(
                stop_note
                    .as_deref()
                    .is_some_and(|n| n.contains("process group")),
                "{stop_note:?}"
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // Clearing the fault gives the site its `busybox setsid` back.
    guardia_lab::fault(&lab.manifest.root, "lab-0001", Fault::Clear).unwrap();
    let mode = s.stop_mode(&CancellationToken::new()).await.unwrap();
    assert_eq!(mode, StopMode::Made("busybox setsid"));
    s.close().await;
}
