//! Regression tests of the bad-input campaign (issue 16), through the API, on real SQLite
//! files and the real OS keyring (gnome-keyring under dbus-run-session).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use guardia_api::{Api, ApiError, CREDENTIAL_SERVICE, SystemClock};
use guardia_ipc::{CredentialInput, CredentialKindView, InventoryFile, InventoryFormat};
use guardia_secrets::bundle::KdfCost;
use guardia_secrets::{OsKeyring, SecretName, SecretStore, Sensitive};
use sqlx::Connection;

use crate::support::{api_with, who};

async fn api_in(dir: &Path) -> Arc<Api> {
    api_with(dir, Arc::new(SystemClock), Arc::new(OsKeyring)).await
}

/// Every credential keyring entry whose account starts with `prefix`, with its secret.
pub fn keyring_entries(prefix: &str) -> BTreeMap<String, String> {
    guardia_lab::keyring::entries(CREDENTIAL_SERVICE, prefix).expect("secret-tool runs")
}

fn password(name: &str, secret: &str) -> CredentialInput {
    CredentialInput {
        name: name.into(),
        kind: CredentialKindView::Password,
        secret: secret.into(),
        passphrase: None,
    }
}

async fn raw(dir: &Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.join("guardia.db").display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn hardening_01_two_data_directories_never_share_a_credential() {
    let (prod, scratch) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (api_in(prod.path()).await, api_in(scratch.path()).await);
    a.credential_set(&who(), password("db-pw", "production-secret"))
        .await
        .unwrap();
    b.credential_set(&who(), password("db-pw", "throw-away"))
        .await
        .unwrap();
    b.credential_delete(&who(), "db-pw").await.unwrap();

    let mine = keyring_entries(&format!("{}/", a.audit_origin()));
    assert_eq!(
        mine.values().collect::<Vec<_>>(),
        vec!["production-secret"],
        "{mine:?}"
    );
    assert!(keyring_entries(&format!("{}/", b.audit_origin())).is_empty());
    let listed = a.credential_list().await.unwrap();
    assert!(listed[0].in_keyring, "production still has its secret");
    a.credential_delete(&who(), "db-pw").await.unwrap();
    assert!(keyring_entries(&format!("{}/", a.audit_origin())).is_empty());
}

#[tokio::test]
async fn hardening_01_an_unscoped_entry_is_copied_to_a_scoped_one_and_left_for_others() {
    let dir = tempfile::tempdir().unwrap();
    let api = api_in(dir.path()).await;
    let origin = api.audit_origin().to_owned();
    drop(api);
    let legacy_name = format!("legacy-{}", std::process::id());
    let legacy = SecretName::new(CREDENTIAL_SERVICE, &legacy_name);
    OsKeyring
        .set(&legacy, &Sensitive::new(b"old-secret".to_vec()))
        .unwrap();
    let mut conn = raw(dir.path()).await;
    sqlx::query(
        "INSERT INTO credentials (name, kind, has_passphrase, updated_at, updated_by) \
         VALUES (?1, 'password', 0, '2026-11-21T00:00:00Z', 'someone')",
    )
    .bind(&legacy_name)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    let api = api_in(dir.path()).await;
    let scoped = keyring_entries(&format!("{origin}/{legacy_name}/"));
    assert_eq!(scoped.values().collect::<Vec<_>>(), vec!["old-secret"]);
    assert!(api.credential_list().await.unwrap()[0].in_keyring);
    assert!(
        OsKeyring.get(&legacy).unwrap().is_some(),
        "the shared entry stays for data directories not yet moved"
    );
    OsKeyring.delete(&legacy).unwrap();
}

#[tokio::test]
async fn hardening_02_a_change_the_database_refuses_leaves_the_keyring_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let api = api_in(dir.path()).await;
    api.credential_set(&who(), password("k", "first"))
        .await
        .unwrap();
    let mut conn = raw(dir.path()).await;
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE UPDATE ON credentials BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert!(
        api.credential_set(&who(), password("k", "second"))
            .await
            .is_err()
    );
    let left = keyring_entries(&format!("{}/", api.audit_origin()));
    assert_eq!(left.values().collect::<Vec<_>>(), vec!["first"], "{left:?}");
    sqlx::query("DROP TRIGGER refuse")
        .execute(&mut conn)
        .await
        .unwrap();
    let journal: i64 = sqlx::query_scalar("SELECT count(*) FROM keyring_journal")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(journal, 0);
    api.credential_delete(&who(), "k").await.unwrap();
}

#[tokio::test]
async fn hardening_12_blank_and_huge_secrets_are_refused_without_quoting_them() {
    let dir = tempfile::tempdir().unwrap();
    let api = api_in(dir.path()).await;
    for secret in ["   \t ".to_owned(), "s3cret-".repeat(20_000)] {
        let e = api
            .credential_set(&who(), password("k", &secret))
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(matches!(e, ApiError::InvalidRequest(_)), "{e}");
    }
    assert!(api.credential_list().await.unwrap().is_empty());
}

const INVENTORY: &str = "institution,system,site,tier,server,address,user,credential\n\
    Seoul,hr,gangnam,1,hr-01,10.0.0.1,deploy,hr-pw\n";

#[tokio::test]
async fn hardening_18_a_bundle_that_would_replace_something_is_listed_and_refused() {
    let (src, dst) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (api_in(src.path()).await, api_in(dst.path()).await);
    let csv = |text: &str| InventoryFile {
        format: InventoryFormat::Csv,
        text: text.into(),
        institution: String::new(),
        system: String::new(),
        default_user: String::new(),
        credential: String::new(),
        map: Vec::new(),
    };
    a.inventory_import(&who(), csv(INVENTORY)).await.unwrap();
    a.credential_set(&who(), password("hr-pw", "from-a"))
        .await
        .unwrap();
    b.inventory_import(&who(), csv(&INVENTORY.replace("10.0.0.1", "10.9.9.9")))
        .await
        .unwrap();
    b.credential_set(&who(), password("hr-pw", "from-b"))
        .await
        .unwrap();
    let pass = "a long bundle passphrase";
    let cheap = KdfCost {
        memory_kib: 8 * 1024,
        passes: 1,
        lanes: 1,
    };
    let (sealed, _) = a
        .bundle_export_with(&who(), Sensitive::new(pass.into()), cheap)
        .await
        .unwrap();
    let sealed = Arc::new(sealed);
    let refused = b
        .bundle_import(&who(), sealed.clone(), Sensitive::new(pass.into()), false)
        .await
        .unwrap_err();
    let text = refused.to_string();
    assert!(matches!(refused, ApiError::WouldReplace(_)), "{text}");
    assert!(
        text.contains("credential hr-pw") && text.contains("server hr-01 (address)"),
        "{text}"
    );
    let b_prefix = format!("{}/", b.audit_origin());
    assert_eq!(
        keyring_entries(&b_prefix).values().collect::<Vec<_>>(),
        vec!["from-b"]
    );
    b.bundle_import(&who(), sealed, Sensitive::new(pass.into()), true)
        .await
        .unwrap();
    assert_eq!(
        keyring_entries(&b_prefix).values().collect::<Vec<_>>(),
        vec!["from-a"],
        "replaced, and the old entry is gone"
    );
    for api in [&a, &b] {
        api.credential_delete(&who(), "hr-pw").await.unwrap();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn hardening_14_everything_written_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let api = guardia_api::Api::open(guardia_api::DataDir::create(&data).unwrap())
        .await
        .unwrap();
    let exported = api.inventory_export_file().await.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("guardia.db")), 0o600);
    assert_eq!(mode(&data.join("exports")), 0o700);
    assert_eq!(mode(Path::new(&exported.path)), 0o600);
    let wal = data.join("guardia.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
}

#[tokio::test]
async fn hardening_10_a_playbook_only_system_refuses_ad_hoc_commands_before_connecting() {
    use guardia_domain::command::DenyRule;
    use guardia_ipc::{AuditQuery, CommandMode, CommandModeChange, RunCommand};

    let dir = tempfile::tempdir().unwrap();
    let api = api_in(dir.path()).await;
    api.inventory_import(
        &who(),
        InventoryFile {
            format: InventoryFormat::Csv,
            text: INVENTORY.into(),
            institution: String::new(),
            system: String::new(),
            default_user: String::new(),
            credential: String::new(),
            map: Vec::new(),
        },
    )
    .await
    .unwrap();
    let change = |system: &str, reason: &str| CommandModeChange {
        institution: "Seoul".into(),
        system: system.into(),
        mode: CommandMode::PlaybookOnly,
        reason: reason.into(),
    };
    assert!(matches!(
        api.system_command_mode_set(&who(), change("hr", "  "))
            .await,
        Err(ApiError::InvalidRequest(_))
    ));
    assert!(
        api.system_command_mode_set(&who(), change("payroll", "freeze"))
            .await
            .unwrap_err()
            .to_string()
            .contains("Seoul/payroll")
    );
    let before = api.server_get("hr-01").await.unwrap();
    assert_eq!(before.command_mode, CommandMode::Denylist);

    api.system_command_mode_set(&who(), change("hr", "payroll freeze until the audit ends"))
        .await
        .unwrap();
    assert_eq!(
        api.server_get("hr-01").await.unwrap().command_mode,
        CommandMode::PlaybookOnly
    );
    let newest = &api.audit_list(AuditQuery::default()).await.unwrap().entries[0];
    assert_eq!(newest.kind, "inventory.system.command_mode");
    assert!(
        newest.details.contains("previous=denylist")
            && newest.details.contains("mode=playbook_only"),
        "{}",
        newest.details
    );

    // 10.0.0.1 does not exist: a refusal that came after connecting would time out instead.
    let refused = api
        .ssh_run(
            &who(),
            RunCommand {
                server: "hr-01".into(),
                command: "uptime".into(),
                timeout_secs: Some(5),
            },
            &tokio_util::sync::CancellationToken::new(),
        )
        .await
        .unwrap_err();
    match refused {
        ApiError::CommandRefused(r) => assert_eq!(r.rule, DenyRule::PlaybookOnly),
        other => panic!("expected a refusal, got {other}"),
    }
    let newest = &api.audit_list(AuditQuery::default()).await.unwrap().entries[0];
    assert_eq!(newest.kind, "ssh.command.refused");
    assert!(
        newest.details.contains("rule=playbook_only"),
        "{}",
        newest.details
    );
}
