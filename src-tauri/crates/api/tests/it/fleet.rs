//! The fleet through the API, against the lab's real sshd, the real OS keyring (gnome-keyring
//! under dbus-run-session) and a real SQLite file — then a search for the planted secrets in
//! everything the console wrote.

use crate::support::who;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset};
use guardia_api::{Api, ApiError, ApiParts, DataDir, FixedClock};
use guardia_ipc::{
    AuditQuery, CommandOutcome, CredentialInput, CredentialKindView, InventoryFile,
    InventoryFormat, Lang, RunCommand, ServerQuery, TrustHostKey,
};
use guardia_lab::{LabSpec, Manifest};
use guardia_secrets::bundle::KdfCost;
use guardia_secrets::{OsKeyring, Sensitive};
use guardia_store::SqliteStore;
use tokio_util::sync::CancellationToken;

const NOW: &str = "2026-11-21T10:00:00+09:00";

/// Everything any GUARDiA crate logs, at every level, kept for the secret search.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogSink;
impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(|| LogSink)
        .try_init();
}

async fn api_in(dir: &Path) -> Arc<Api> {
    let data_dir = DataDir::create(dir).unwrap();
    let store = SqliteStore::open(&data_dir.database()).await.unwrap();
    Arc::new(
        Api::new(ApiParts {
            store: Arc::new(store),
            clock: Arc::new(FixedClock(
                DateTime::<FixedOffset>::parse_from_rfc3339(NOW).unwrap(),
            )),
            data_dir,
            default_lang: Lang::En,
            secrets: Arc::new(OsKeyring),
        })
        .await
        .unwrap(),
    )
}

struct Lab(Manifest, #[allow(dead_code)] tempfile::TempDir);
impl Drop for Lab {
    fn drop(&mut self) {
        let report = guardia_lab::down(&self.0.root).unwrap();
        assert!(report.survivors.is_empty());
    }
}

fn unique(tag: &str) -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    format!(
        "{tag}-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

fn run(server: &str, command: &str) -> RunCommand {
    RunCommand {
        server: server.into(),
        command: command.into(),
        timeout_secs: Some(20),
    }
}

#[tokio::test]
async fn the_fleet_story_and_no_planted_secret_is_found_anywhere() {
    capture_logs();
    let lab_dir = tempfile::tempdir().unwrap();
    let lab = Lab(
        guardia_lab::up(&LabSpec::new(lab_dir.path().join("lab"), 3)).unwrap(),
        lab_dir,
    );
    let m = &lab.0;
    // The health endpoint in-process (the CLI runs it as its own process).
    let root = m.root.clone();
    tokio::spawn(async move { guardia_lab::serve_health(&root).await });
    let data = tempfile::tempdir().unwrap();
    let api = api_in(data.path()).await;
    let none = CancellationToken::new();

    // Planted secrets: a passphrase-protected key, the lab password (root labs), and the
    // plain lab key's body.
    let passphrase = unique("planted-passphrase");
    let keydir = tempfile::tempdir().unwrap();
    let enc = keydir.path().join("id_enc");
    assert!(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-C", "enc", "-N", &passphrase, "-f"])
            .arg(&enc)
            .status()
            .unwrap()
            .success()
    );
    m.authorize_key(&std::fs::read_to_string(enc.with_extension("pub")).unwrap())
        .unwrap();
    let enc_key = std::fs::read_to_string(&enc).unwrap();
    let plain_key = std::fs::read_to_string(m.client_key()).unwrap();
    let password = std::fs::read_to_string(m.password_file())
        .ok()
        .map(|p| p.trim().to_owned());
    let mut planted = vec![passphrase.clone(), key_body(&enc_key), key_body(&plain_key)];
    planted.extend(password.clone());

    api.credential_set(
        &who(),
        CredentialInput {
            name: "lab-key".into(),
            kind: CredentialKindView::Key,
            secret: plain_key.clone(),
            passphrase: None,
        },
    )
    .await
    .unwrap();
    // A key with the wrong passphrase is refused when stored, not at the first rollout.
    let wrong = api
        .credential_set(
            &who(),
            CredentialInput {
                name: "enc-key".into(),
                kind: CredentialKindView::Key,
                secret: enc_key.clone(),
                passphrase: Some("not it".into()),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(wrong, ApiError::InvalidRequest(_)), "{wrong}");
    api.credential_set(
        &who(),
        CredentialInput {
            name: "enc-key".into(),
            kind: CredentialKindView::Key,
            secret: enc_key.clone(),
            passphrase: Some(passphrase.clone()),
        },
    )
    .await
    .unwrap();
    if let Some(pw) = &password {
        api.credential_set(
            &who(),
            CredentialInput {
                name: "lab-pw".into(),
                kind: CredentialKindView::Password,
                secret: pw.clone(),
                passphrase: None,
            },
        )
        .await
        .unwrap();
    }

    // Inventory from the lab's CSV, one server per kind of credential; pins from known_hosts.
    let third = if password.is_some() {
        "lab-pw"
    } else {
        "enc-key"
    };
    let csv = std::fs::read_to_string(m.inventory()).unwrap();
    let csv: String = csv
        .lines()
        .map(|l| {
            if l.contains(",lab-0002,") {
                l.replace(",lab-key,", ",enc-key,")
            } else if l.contains(",lab-0003,") {
                l.replace(
                    ",key,lab-key,",
                    &format!(
                        ",{},{third},",
                        if third == "lab-pw" { "password" } else { "key" }
                    ),
                )
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let report = api
        .inventory_import(
            &who(),
            InventoryFile {
                format: InventoryFormat::Csv,
                text: csv,
                institution: String::new(),
                system: String::new(),
                default_user: String::new(),
                credential: String::new(),
                map: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.created, 3);
    let (pinned, conflicts) = api
        .host_keys_import(&who(), &std::fs::read_to_string(m.known_hosts()).unwrap())
        .await
        .unwrap();
    assert_eq!((pinned, conflicts.len()), (3, 0));

    // Password, encrypted key and plain key all log in; exit codes and streams come back.
    for server in ["lab-0001", "lab-0002", "lab-0003"] {
        let r = api
            .ssh_run(&who(), run(server, "id -un; echo oops >&2; exit 4"), &none)
            .await
            .unwrap();
        assert_eq!(r.outcome, CommandOutcome::Failed, "{server}: {:?}", r.error);
        assert_eq!(r.exit_code, Some(4));
        assert_eq!(r.stdout.trim(), m.user);
        assert_eq!(r.stderr, "oops\n");
    }

    // Denylisted: refused before anything is sent, and audited.
    let refused = api
        .ssh_run(&who(), run("lab-0001", "sudo rm -rf /etc"), &none)
        .await
        .unwrap_err();
    assert!(matches!(refused, ApiError::CommandRefused(_)));
    let entries = api
        .audit_list(AuditQuery {
            kind: "ssh.command.refused".into(),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.entries.len(), 1);

    // Timeout: unknown, never failed or ok.
    let slow = api
        .ssh_run(
            &who(),
            RunCommand {
                timeout_secs: Some(1),
                ..run("lab-0001", "sleep 30")
            },
            &none,
        )
        .await
        .unwrap();
    assert_eq!(slow.outcome, CommandOutcome::Unknown);

    // The ad-hoc check passes every configured step.
    let check = api
        .ssh_check(&who(), "lab-0001", &none, &|_, _| {})
        .await
        .unwrap();
    assert!(check.passed(), "{check:#?}");

    // Unknown host key: refused and audited; trusted only with the presented fingerprint.
    api.host_key_forget(&who(), "lab-0001").await.unwrap();
    let r = api
        .ssh_run(&who(), run("lab-0001", "true"), &none)
        .await
        .unwrap();
    assert_eq!(r.outcome, CommandOutcome::Failed);
    assert!(r.error.unwrap().contains("not trusted"));
    let presented = api.host_key_fetch("lab-0001").await.unwrap();
    let mismatch = api
        .host_key_trust(
            &who(),
            TrustHostKey {
                server: "lab-0001".into(),
                fingerprint: "SHA256:forged".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(mismatch, ApiError::FingerprintMismatch { .. }));
    api.host_key_trust(
        &who(),
        TrustHostKey {
            server: "lab-0001".into(),
            fingerprint: presented.fingerprint,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        api.ssh_run(&who(), run("lab-0001", "true"), &none)
            .await
            .unwrap()
            .outcome,
        CommandOutcome::Ok
    );

    // The bundle round-trips to a second workstation; a wrong passphrase or one flipped byte
    // imports nothing.
    let bundle_pass = unique("planted-bundle-passphrase");
    planted.push(bundle_pass.clone());
    let (sealed, _) = api
        .bundle_export_with(
            &who(),
            Sensitive::new(bundle_pass.clone()),
            KdfCost {
                memory_kib: 8 * 1024,
                passes: 1,
                lanes: 1,
            },
        )
        .await
        .unwrap();
    for needle in &planted {
        assert!(
            !contains(&sealed, needle),
            "a secret is readable in the sealed bundle"
        );
    }
    let other = tempfile::tempdir().unwrap();
    let api2 = api_in(other.path()).await;
    let wrong = api2
        .bundle_import(
            &who(),
            std::sync::Arc::new(sealed.clone()),
            Sensitive::new("wrong passphrase!".into()),
            false,
        )
        .await;
    assert!(matches!(wrong, Err(ApiError::Bundle(_))));
    let mut flipped = sealed.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    assert!(
        api2.bundle_import(
            &who(),
            std::sync::Arc::new(flipped),
            Sensitive::new(bundle_pass.clone()),
            false
        )
        .await
        .is_err()
    );
    assert!(
        api2.server_list(ServerQuery::default())
            .await
            .unwrap()
            .is_empty(),
        "nothing imported"
    );
    let imported = api2
        .bundle_import(
            &who(),
            std::sync::Arc::new(sealed),
            Sensitive::new(bundle_pass.clone()),
            false,
        )
        .await
        .unwrap();
    assert_eq!((imported.servers, imported.host_keys), (3, 3));
    let r = api2
        .ssh_run(
            &who(),
            run("lab-0002", "echo from the second console"),
            &none,
        )
        .await
        .unwrap();
    assert_eq!(r.outcome, CommandOutcome::Ok, "{:?}", r.error);

    // Search everything the consoles wrote: database files, audit entries, logs.
    let mut haystacks: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in [data.path(), other.path()] {
        for entry in walk(dir) {
            haystacks.push((entry.display().to_string(), std::fs::read(&entry).unwrap()));
        }
    }
    for a in [&api, &api2] {
        let page = a
            .audit_list(AuditQuery {
                limit: Some(1000),
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert!(page.entries.len() > 3);
        haystacks.push(("audit entries".into(), serde_json::to_vec(&page).unwrap()));
        let views = a.credential_list().await.unwrap();
        assert!(views.iter().all(|c| c.in_keyring));
        haystacks.push((
            "credential views".into(),
            serde_json::to_vec(&views).unwrap(),
        ));
    }
    haystacks.push(("logs".into(), LOG.lock().unwrap().clone()));
    assert!(
        LOG.lock().unwrap().len() > 1000,
        "the log capture must have seen the run"
    );
    for (name, bytes) in &haystacks {
        for needle in &planted {
            assert!(!contains(bytes, needle), "a planted secret is in {name}");
        }
    }

    for a in [&api, &api2] {
        for c in a.credential_list().await.unwrap() {
            a.credential_delete(&who(), &c.name).await.unwrap();
        }
    }
}

/// The base64 body of an OpenSSH private key (a long, unique run of it).
fn key_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()[40..100]
        .to_owned()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
