//! What the API tests share: the caller they act as, and an API over a real SQLite file.

use std::path::Path;
use std::sync::Arc;

use guardia_api::{Api, ApiParts, Caller, Clock, DataDir};
use guardia_domain::PersonName;
use guardia_domain::governance::{Role, RoleGrant};
use guardia_ipc::{Lang, PersonInput};
use guardia_secrets::SecretStore;
use guardia_store::SqliteStore;

/// The person every test acts as (every role, like the local console).
pub fn who() -> Caller {
    Caller::with_every_role(PersonName::parse("test.operator").unwrap())
}

/// Ends set-up with an `admin` (added by the OS stand-in), then adds `people`, each holding
/// one role everywhere, all with the same long password.
pub async fn add_people(api: &Api, people: &[(&str, Role)]) {
    let add = |name: &str, role: Role| PersonInput {
        name: name.into(),
        display_name: String::new(),
        password: "long enough password 1".into(),
        roles: vec![RoleGrant::everywhere(role)],
    };
    api.people()
        .add_first_admin(&who(), add("admin", Role::Admin))
        .await
        .unwrap();
    for (name, role) in people {
        api.people().add(&who(), add(name, *role)).await.unwrap();
    }
}

/// An API over a fresh SQLite file in `dir`.
pub async fn api_with(
    dir: &Path,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretStore>,
) -> Arc<Api> {
    let data_dir = DataDir::create(dir).unwrap();
    let store = SqliteStore::open(&data_dir.database()).await.unwrap();
    Arc::new(
        Api::new(ApiParts {
            store: Arc::new(store),
            clock,
            data_dir,
            default_lang: Lang::En,
            secrets,
        })
        .await
        .unwrap(),
    )
}

/// The integrity panel once a checkpoint exists, woken by the feed (a checkpoint is itself
/// a change), within ten seconds.
pub async fn signed_status(
    api: &Api,
    feed: &mut tokio::sync::broadcast::Receiver<guardia_ipc::FeedEvent>,
) -> guardia_ipc::AuditStatus {
    let wait = async {
        loop {
            let status = api.audit_status().await.unwrap();
            if status.last_checkpoint.is_some() {
                return status;
            }
            feed.recv().await.unwrap();
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .expect("a checkpoint was signed")
}
