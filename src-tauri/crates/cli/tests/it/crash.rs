//! `kill -9` in the middle of imports (issue 16): the database, the audit log and the OS
//! keyring end up all-old or all-new together, never a mix, never orphans — for a sealed
//! bundle with credentials and for a large inventory import. Real processes, real SQLite,
//! real gnome-keyring. The kill points are spread over a measured uninterrupted run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use guardia_api::{Api, CREDENTIAL_SERVICE};
use guardia_ipc::{CredentialInput, CredentialKindView, InventoryFile, InventoryFormat};
use guardia_secrets::Sensitive;
use guardia_secrets::bundle::KdfCost;
use sqlx::Connection;

use crate::{guardia, who};

const PASS: &str = "a long bundle passphrase";
const CREDENTIALS: usize = 40;
const KILLS: u32 = 8;

/// Every credential keyring entry of `origin`, with its secret.
fn keyring_of(origin: &str) -> BTreeMap<String, String> {
    guardia_lab::keyring::entries(CREDENTIAL_SERVICE, &format!("{origin}/"))
        .expect("secret-tool runs")
}

fn inventory(generation: &str, servers: usize) -> String {
    let mut csv = String::from("institution,system,site,tier,server,address,user,credential\n");
    for i in 0..servers {
        let _ = writeln!(
            csv,
            "Seoul,hr,site-{},2,hr-{i:04},{generation}-{i}.example,deploy,pw-{}",
            i % 20,
            i % CREDENTIALS
        );
    }
    csv
}

/// A bundle whose servers' addresses and credentials' secrets all carry `generation`.
async fn bundle(dir: &Path, generation: &str) -> std::path::PathBuf {
    let api = Api::open(guardia_api::DataDir::create(dir).unwrap())
        .await
        .unwrap();
    api.inventory_import(
        &who(),
        InventoryFile {
            format: InventoryFormat::Csv,
            text: inventory(generation, 300),
            institution: String::new(),
            system: String::new(),
            default_user: String::new(),
            credential: String::new(),
            map: Vec::new(),
        },
    )
    .await
    .unwrap();
    for i in 0..CREDENTIALS {
        api.credential_set(
            &who(),
            CredentialInput {
                name: format!("pw-{i}"),
                kind: CredentialKindView::Password,
                secret: format!("{generation}-secret-{i}"),
                passphrase: None,
            },
        )
        .await
        .unwrap();
    }
    let cheap = KdfCost {
        memory_kib: 8 * 1024,
        passes: 1,
        lanes: 1,
    };
    let (sealed, _) = api
        .bundle_export_with(&who(), Sensitive::new(PASS.into()), cheap)
        .await
        .unwrap();
    let file = dir.join(format!("{generation}.bundle"));
    std::fs::write(&file, sealed).unwrap();
    file
}

fn import(data: &Path, file: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_guardia"))
        .arg("--data-dir")
        .arg(data)
        .args(["bundle", "import", "--replace"])
        .arg(file)
        .env("GUARDIA_BUNDLE_PASSPHRASE", PASS)
        .env_remove("GUARDIA_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Which generation the console holds, after a restart has tidied — panicking on any mix.
async fn generation_of(data: &Path) -> Option<String> {
    // Any command opens the API, which tidies what a killed process left in the keyring.
    let listed = guardia(data, &["--json", "credential", "list"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let verified = guardia(data, &["audit", "verify", "--no-record"]);
    assert!(
        verified.status.success(),
        "the audit log is intact: {}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", data.join("guardia.db").display()))
            .await
            .unwrap();
    let origin: String = sqlx::query_scalar("SELECT value FROM audit_meta WHERE key = 'origin'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT name, keyring_account FROM credentials")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let addresses: Vec<String> = sqlx::query_scalar("SELECT address FROM servers")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let keyring = keyring_of(&origin);
    let referenced: BTreeSet<String> = rows.iter().filter_map(|(_, a)| a.clone()).collect();
    assert_eq!(
        keyring.keys().cloned().collect::<BTreeSet<_>>(),
        referenced,
        "every keyring entry is referenced and every reference has its entry"
    );
    let mut seen = BTreeSet::new();
    for (name, account) in &rows {
        let secret = &keyring[account.as_ref().unwrap()];
        let (generation, rest) = secret.split_once("-secret-").unwrap();
        assert_eq!(format!("pw-{rest}"), *name);
        seen.insert(generation.to_owned());
    }
    for address in &addresses {
        seen.insert(address.split('-').next().unwrap().to_owned());
    }
    assert!(seen.len() <= 1, "a mix of generations: {seen:?}");
    if rows.is_empty() {
        assert!(addresses.is_empty());
        return None;
    }
    assert_eq!((rows.len(), addresses.len()), (CREDENTIALS, 300));
    seen.into_iter().next()
}

#[tokio::test]
async fn hardening_02_a_bundle_import_killed_anywhere_is_all_or_nothing_secrets_included() {
    let (src_a, src_b, dst) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let files = [
        bundle(src_a.path(), "alpha").await,
        bundle(src_b.path(), "bravo").await,
    ];

    let started = Instant::now();
    assert!(import(dst.path(), &files[0]).wait().unwrap().success());
    let full = started.elapsed();
    assert_eq!(generation_of(dst.path()).await.as_deref(), Some("alpha"));

    let mut landed = BTreeMap::new();
    let mut current = 0;
    for k in 1..=KILLS {
        let next = 1 - current;
        let mut child = import(dst.path(), &files[next]);
        // A kill schedule across the measured run, not a synchronisation.
        std::thread::sleep(full * k / (KILLS + 1));
        let _ = child.kill();
        let _ = child.wait();
        let generation = generation_of(dst.path()).await.unwrap();
        *landed.entry(generation.clone()).or_insert(0) += 1;
        current = usize::from(generation == "bravo");
    }
    eprintln!("uninterrupted import {full:?}; after {KILLS} kills: {landed:?}");
    // Leave the shared keyring as it was.
    for dir in [src_a.path(), src_b.path(), dst.path()] {
        for i in 0..CREDENTIALS {
            guardia(dir, &["credential", "delete", &format!("pw-{i}")]);
        }
    }
}

#[tokio::test]
async fn hardening_02_a_large_inventory_import_killed_anywhere_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    std::fs::write(&file, inventory("gen", 20_000)).unwrap();
    let data = dir.path().join("data");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_guardia"))
            .arg("--data-dir")
            .arg(&data)
            .args(["inventory", "import"])
            .arg(&file)
            .env_remove("GUARDIA_DATA_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Measure on a scratch copy, so the kills below start from an empty inventory.
    let scratch = dir.path().join("scratch");
    let started = Instant::now();
    let measured = Command::new(env!("CARGO_BIN_EXE_guardia"))
        .arg("--data-dir")
        .arg(&scratch)
        .args(["inventory", "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(measured.status.success());
    let full = started.elapsed().max(Duration::from_millis(200));
    for k in 1..=KILLS {
        let mut child = run();
        std::thread::sleep(full * k / (KILLS + 1));
        let _ = child.kill();
        let _ = child.wait();
        let servers: String = {
            let out = guardia(&data, &["--json", "inventory", "list", "--search", "gen-"]);
            assert!(out.status.success());
            let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            list.as_array().unwrap().len().to_string()
        };
        assert!(
            servers == "0" || servers == "20000",
            "kill {k}: {servers} servers"
        );
        let verified = guardia(&data, &["audit", "verify", "--no-record"]);
        assert!(verified.status.success());
        if servers == "20000" {
            break;
        }
    }
}

/// Another process holding the write lock longer than the old five-second wait: the change
/// queues behind it and lands, instead of failing with "database is locked (code 5)".
#[tokio::test]
async fn hardening_08_a_writer_waits_for_a_long_write_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(guardia(dir.path(), &["task", "list"]).status.success());
    let mut conn = sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}",
        dir.path().join("guardia.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_guardia"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["task", "create", "--title", "queued", "--category", "DATA"])
        .args(["--system", "db"])
        .env_remove("GUARDIA_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The long write: held past the old five-second limit.
    tokio::time::sleep(Duration::from_secs(7)).await;
    sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("locked"), "{err}");
}
