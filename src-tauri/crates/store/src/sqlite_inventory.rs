//! [`InventoryStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use guardia_domain::inventory::{
    AuthKind, CommandMode, Given, HealthCriteria, ImportRow, ServerRecord, Tier,
};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use crate::inventory::{
    BundleAudit, BundleRows, CredentialKind, CredentialMeta, ImportOutcome, InventoryStore,
    JournalEntry, KeyringNote, PinSource, PinnedHostKey, ServerChange, ServerFilter, SshSeen,
    StoredServer,
};
use crate::sqlite_audit::append_in;
use crate::{AuditFor, SqliteStore, StoreError};

macro_rules! server_select {
    () => {
        "SELECT i.name AS institution, y.name AS system, t.name AS site, t.tier AS tier, \
         s.id AS id, s.name AS server, s.address, s.port, s.login_user, s.auth, s.credential, \
         s.os, s.app_path, s.deploy_path, s.service_port, s.health, s.tags, s.updated_at, \
         k.key AS pin_key, k.fingerprint AS pin_fingerprint, k.trusted_by AS pin_by, \
         k.trusted_at AS pin_at, k.source AS pin_source, y.command_mode, \
         s.legacy_reason, s.ssh_algorithms, s.ssh_stop_guaranteed, s.ssh_stop_detail, s.ssh_seen_at \
         FROM servers s \
         JOIN sites t ON t.id = s.site_id \
         JOIN systems y ON y.id = t.system_id \
         JOIN institutions i ON i.id = y.institution_id \
         LEFT JOIN host_keys k ON k.server_id = s.id "
    };
}

fn server_from_row(row: &SqliteRow) -> Result<StoredServer, StoreError> {
    let name: String = row.try_get("server")?;
    let corrupt = |reason: String| StoreError::corrupt(format!("server {name}"), reason);
    let tier: i64 = row.try_get("tier")?;
    let tier = u8::try_from(tier)
        .ok()
        .and_then(Tier::from_number)
        .ok_or_else(|| corrupt(format!("tier {tier}")))?;
    let port: i64 = row.try_get("port")?;
    let auth: String = row.try_get("auth")?;
    let health: String = row.try_get("health")?;
    let tags: String = row.try_get("tags")?;
    let service_port: Option<i64> = row.try_get("service_port")?;
    let record = ServerRecord {
        institution: row.try_get("institution")?,
        system: row.try_get("system")?,
        site: row.try_get("site")?,
        tier,
        server: name.clone(),
        address: row.try_get("address")?,
        port: u16::try_from(port).map_err(|_| corrupt(format!("port {port}")))?,
        user: row.try_get("login_user")?,
        auth: AuthKind::from_code(&auth).ok_or_else(|| corrupt(format!("auth {auth}")))?,
        credential: row.try_get("credential")?,
        os: row.try_get("os")?,
        app_path: row.try_get("app_path")?,
        deploy_path: row.try_get("deploy_path")?,
        service_port: service_port
            .map(|p| u16::try_from(p).map_err(|_| corrupt(format!("service port {p}"))))
            .transpose()?,
        health: serde_json::from_str::<HealthCriteria>(&health)
            .map_err(|e| corrupt(format!("health criteria: {e}")))?,
        tags: serde_json::from_str(&tags).map_err(|e| corrupt(format!("tags: {e}")))?,
    };
    // Whatever is stored must still be a valid record (someone may have edited the file).
    let record = record
        .to_draft()
        .validate()
        .map_err(|p| corrupt(format!("{p:?}")))?;
    let pin_key: Option<String> = row.try_get("pin_key")?;
    let host_key = match pin_key {
        None => None,
        Some(key) => {
            let source: String = row.try_get("pin_source")?;
            Some(PinnedHostKey {
                key,
                fingerprint: row.try_get("pin_fingerprint")?,
                trusted_by: row.try_get("pin_by")?,
                trusted_at: row.try_get("pin_at")?,
                source: PinSource::from_code(&source)
                    .ok_or_else(|| corrupt(format!("pin source {source}")))?,
            })
        }
    };
    let mode: String = row.try_get("command_mode")?;
    let seen_at: Option<DateTime<Utc>> = row.try_get("ssh_seen_at")?;
    let guaranteed: Option<i64> = row.try_get("ssh_stop_guaranteed")?;
    let ssh_seen = match (seen_at, guaranteed) {
        (Some(at), Some(g)) => Some(SshSeen {
            algorithms: row
                .try_get::<Option<String>, _>("ssh_algorithms")?
                .unwrap_or_default(),
            stop_guaranteed: g == 1,
            stop_detail: row
                .try_get::<Option<String>, _>("ssh_stop_detail")?
                .unwrap_or_default(),
            at,
        }),
        _ => None,
    };
    Ok(StoredServer {
        record,
        host_key,
        updated_at: row.try_get("updated_at")?,
        command_mode: CommandMode::parse(&mode)
            .ok_or_else(|| corrupt(format!("command mode {mode}")))?,
        legacy_crypto: row.try_get("legacy_reason")?,
        ssh_seen,
    })
}

async fn server_in(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<StoredServer>, StoreError> {
    let row = sqlx::query(concat!(server_select!(), "WHERE s.name = ?1"))
        .bind(name.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(server_from_row).transpose()
}

/// The id of the site a record belongs to, creating institution, system and site as needed.
/// A site's tier follows the latest record that names it.
async fn site_id_in(conn: &mut SqliteConnection, r: &ServerRecord) -> Result<i64, StoreError> {
    sqlx::query("INSERT INTO institutions (name) VALUES (?1) ON CONFLICT (name) DO NOTHING")
        .bind(r.institution.clone())
        .execute(&mut *conn)
        .await?;
    let institution: i64 = sqlx::query_scalar("SELECT id FROM institutions WHERE name = ?1")
        .bind(r.institution.clone())
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO systems (institution_id, name) VALUES (?1, ?2) \
         ON CONFLICT (institution_id, name) DO NOTHING",
    )
    .bind(institution)
    .bind(r.system.clone())
    .execute(&mut *conn)
    .await?;
    let system: i64 =
        sqlx::query_scalar("SELECT id FROM systems WHERE institution_id = ?1 AND name = ?2")
            .bind(institution)
            .bind(r.system.clone())
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO sites (system_id, name, tier) VALUES (?1, ?2, ?3) \
         ON CONFLICT (system_id, name) DO UPDATE SET tier = excluded.tier",
    )
    .bind(system)
    .bind(r.site.clone())
    .bind(i64::from(r.tier.number()))
    .execute(&mut *conn)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM sites WHERE system_id = ?1 AND name = ?2")
            .bind(system)
            .bind(r.site.clone())
            .fetch_one(&mut *conn)
            .await?,
    )
}

enum Saved {
    Created,
    Updated {
        pin_dropped: bool,
        fields: Vec<&'static str>,
    },
    Unchanged,
}

/// Sites already looked up in this transaction: (institution, system, site) → (id, tier).
/// A 50,000-row import names a few hundred sites; each is read or written once.
type Sites = std::collections::HashMap<(String, String, String), (i64, Tier)>;

fn site_key(r: &ServerRecord) -> (String, String, String) {
    (r.institution.clone(), r.system.clone(), r.site.clone())
}

/// What saving one record did, and which other servers of its site changed tier with it.
struct Upserted {
    saved: Saved,
    retiered: Vec<String>,
}

/// The stored tier of the site a record names, if the site exists.
async fn site_tier_in(
    conn: &mut SqliteConnection,
    r: &ServerRecord,
) -> Result<Option<(i64, Tier)>, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT t.id, t.tier FROM sites t JOIN systems y ON y.id = t.system_id \
         JOIN institutions i ON i.id = y.institution_id \
         WHERE i.name = ?1 AND y.name = ?2 AND t.name = ?3",
    )
    .bind(r.institution.clone())
    .bind(r.system.clone())
    .bind(r.site.clone())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.and_then(|(id, tier)| {
        u8::try_from(tier)
            .ok()
            .and_then(Tier::from_number)
            .map(|t| (id, t))
    }))
}

/// Creates or updates the server `previous` (or `r.server`) to be `r` where `given` names a
/// column, and what is stored elsewhere.
async fn upsert_in(
    conn: &mut SqliteConnection,
    sites: &mut Sites,
    incoming: &ServerRecord,
    given: Given,
    previous: &str,
    at: DateTime<Utc>,
) -> Result<Upserted, StoreError> {
    let existing = server_in(conn, previous).await?;
    let site = match sites.get(&site_key(incoming)) {
        Some(known) => Some(*known),
        None => site_tier_in(conn, incoming).await?,
    };
    let mut r = match &existing {
        Some(old) => incoming.over(&old.record, given),
        None => incoming.clone(),
    };
    if !given.has("tier") {
        r.tier = site
            .map(|(_, t)| t)
            .or(existing.as_ref().map(|e| e.record.tier))
            .unwrap_or(incoming.tier);
    }
    let r = &r;
    if existing.as_ref().is_some_and(|e| e.record == *r) {
        return Ok(Upserted {
            saved: Saved::Unchanged,
            retiered: Vec::new(),
        });
    }
    if previous != r.server && server_in(conn, &r.server).await?.is_some() {
        return Err(StoreError::ServerExists(r.server.clone()));
    }
    let clash: Option<String> = sqlx::query_scalar(
        "SELECT name FROM servers WHERE lower(name) = lower(?1) AND name <> ?1 AND name <> ?2",
    )
    .bind(r.server.clone())
    .bind(previous.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(existing) = clash {
        return Err(StoreError::ServerCaseClash {
            name: r.server.clone(),
            existing,
        });
    }
    // A site has one tier: changing it changes every server of the site.
    let retiered = match site {
        Some((site_id, tier)) if tier != r.tier => {
            sqlx::query_scalar("SELECT name FROM servers WHERE site_id = ?1 AND name <> ?2")
                .bind(site_id)
                .bind(previous.to_owned())
                .fetch_all(&mut *conn)
                .await?
        }
        _ => Vec::new(),
    };
    let site = match site {
        Some((id, tier)) if tier == r.tier => id,
        _ => site_id_in(conn, r).await?,
    };
    sites.insert(site_key(r), (site, r.tier));
    let (statement, saved) = match &existing {
        None => (
            "INSERT INTO servers (site_id, name, address, port, login_user, auth, credential, \
             os, app_path, deploy_path, service_port, health, tags, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            Saved::Created,
        ),
        Some(old) => {
            let moved = old.record.address != r.address || old.record.port != r.port;
            if moved {
                forget_pin_in(conn, previous).await?;
                // Another address may be another machine: its legacy opt-in and what was
                // seen there do not carry over (fail closed).
                sqlx::query(
                    "UPDATE servers SET legacy_reason = NULL, ssh_algorithms = NULL, \
                     ssh_stop_guaranteed = NULL, ssh_stop_detail = NULL, ssh_seen_at = NULL \
                     WHERE name = ?1",
                )
                .bind(previous)
                .execute(&mut *conn)
                .await?;
            }
            (
                "UPDATE servers SET site_id = ?1, name = ?2, address = ?3, port = ?4, \
                 login_user = ?5, auth = ?6, credential = ?7, os = ?8, app_path = ?9, \
                 deploy_path = ?10, service_port = ?11, health = ?12, tags = ?13, updated_at = ?14 \
                 WHERE name = ?15",
                Saved::Updated {
                    pin_dropped: moved && old.host_key.is_some(),
                    fields: r.changed_columns(&old.record),
                },
            )
        }
    };
    // Both statements take the same 14 parameters; UPDATE also names the row by its old name.
    let query = sqlx::query(statement)
        .bind(site)
        .bind(r.server.clone())
        .bind(r.address.clone())
        .bind(i64::from(r.port))
        .bind(r.user.clone())
        .bind(r.auth.code())
        .bind(r.credential.clone())
        .bind(r.os.clone())
        .bind(r.app_path.clone())
        .bind(r.deploy_path.clone())
        .bind(r.service_port.map(i64::from))
        .bind(
            serde_json::to_string(&r.health)
                .map_err(|e| StoreError::corrupt("health criteria", e))?,
        )
        .bind(serde_json::to_string(&r.tags).map_err(|e| StoreError::corrupt("tags", e))?)
        .bind(at);
    let query = match existing {
        Some(_) => query.bind(previous.to_owned()),
        None => query,
    };
    query.execute(&mut *conn).await?;
    Ok(Upserted { saved, retiered })
}

/// Every row of an import, inside the caller's transaction.
async fn import_rows_in(
    conn: &mut SqliteConnection,
    rows: &[ImportRow],
    at: DateTime<Utc>,
) -> Result<ImportOutcome, StoreError> {
    let mut outcome = ImportOutcome::default();
    let mut changes: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    let mut untouched: Vec<&str> = Vec::new();
    let mut sites = Sites::new();
    for row in rows {
        let done = upsert_in(
            conn,
            &mut sites,
            &row.record,
            row.given,
            &row.record.server,
            at,
        )
        .await?;
        match done.saved {
            Saved::Created => outcome.created += 1,
            Saved::Updated {
                pin_dropped,
                fields,
            } => {
                outcome.pins_dropped += u32::from(pin_dropped);
                let seen = changes.entry(row.record.server.clone()).or_default();
                for f in fields {
                    if !seen.contains(&f) {
                        seen.push(f);
                    }
                }
            }
            Saved::Unchanged => untouched.push(&row.record.server),
        }
        for other in done.retiered {
            let seen = changes.entry(other).or_default();
            if !seen.contains(&"tier") {
                seen.push("tier");
            }
        }
    }
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    // A row found unchanged may still have changed tier through an earlier row of its site.
    outcome.unchanged = count(
        untouched
            .iter()
            .filter(|s| !changes.contains_key(**s))
            .count(),
    );
    outcome.changes = changes
        .into_iter()
        .map(|(server, fields)| ServerChange { server, fields })
        .collect();
    outcome.updated = count(outcome.changes.len());
    Ok(outcome)
}

async fn note_keyring_in(
    conn: &mut SqliteConnection,
    account: &str,
    note: KeyringNote,
    owner_pid: u32,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO keyring_journal (account, state, owner_pid, noted_at) \
         VALUES (?1, ?2, ?3, datetime('now')) \
         ON CONFLICT (account) DO UPDATE SET state = excluded.state, owner_pid = excluded.owner_pid",
    )
    .bind(account.to_owned())
    .bind(note.code())
    .bind(i64::from(owner_pid))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The account a credential's secret is kept under (the name, before scoping).
fn account_of(meta: &CredentialMeta) -> &str {
    meta.keyring_account.as_deref().unwrap_or(&meta.name)
}

async fn save_credential_in(
    conn: &mut SqliteConnection,
    meta: &CredentialMeta,
) -> Result<(), StoreError> {
    if let Some(old) = credential_in(conn, &meta.name).await?
        && old.keyring_account.is_some()
        && account_of(&old) != account_of(meta)
    {
        note_keyring_in(
            conn,
            account_of(&old),
            KeyringNote::Retired,
            std::process::id(),
        )
        .await?;
    }
    sqlx::query(
        "INSERT INTO credentials (name, kind, has_passphrase, updated_at, updated_by, keyring_account) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, \
         has_passphrase = excluded.has_passphrase, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by, keyring_account = excluded.keyring_account",
    )
    .bind(meta.name.clone())
    .bind(meta.kind.code())
    .bind(i64::from(meta.has_passphrase))
    .bind(meta.updated_at)
    .bind(meta.updated_by.clone())
    .bind(meta.keyring_account.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn pin_in(
    conn: &mut SqliteConnection,
    server: &str,
    pin: &PinnedHostKey,
) -> Result<(), StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM servers WHERE name = ?1")
        .bind(server.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    let id = id.ok_or_else(|| StoreError::ServerNotFound(server.to_owned()))?;
    sqlx::query(
        "INSERT INTO host_keys (server_id, key, fingerprint, trusted_by, trusted_at, source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (server_id) DO UPDATE SET key = excluded.key, \
         fingerprint = excluded.fingerprint, trusted_by = excluded.trusted_by, \
         trusted_at = excluded.trusted_at, source = excluded.source",
    )
    .bind(id)
    .bind(pin.key.clone())
    .bind(pin.fingerprint.clone())
    .bind(pin.trusted_by.clone())
    .bind(pin.trusted_at)
    .bind(pin.source.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn forget_pin_in(conn: &mut SqliteConnection, server: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM host_keys WHERE server_id = (SELECT id FROM servers WHERE name = ?1)")
        .bind(server.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

macro_rules! credential_select {
    () => {
        "SELECT name, kind, has_passphrase, updated_at, updated_by, keyring_account FROM credentials "
    };
}

async fn credential_in(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<CredentialMeta>, StoreError> {
    let row = sqlx::query(concat!(credential_select!(), "WHERE name = ?1"))
        .bind(name.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(credential_from_row).transpose()
}

fn credential_from_row(row: &SqliteRow) -> Result<CredentialMeta, StoreError> {
    let name: String = row.try_get("name")?;
    let kind: String = row.try_get("kind")?;
    let has_passphrase: i64 = row.try_get("has_passphrase")?;
    Ok(CredentialMeta {
        kind: match kind.as_str() {
            "password" => CredentialKind::Password,
            "key" => CredentialKind::Key,
            "tls_key" => CredentialKind::TlsKey,
            other => return Err(StoreError::corrupt(format!("credential {name}"), other)),
        },
        name,
        has_passphrase: has_passphrase != 0,
        keyring_account: row.try_get("keyring_account")?,
        updated_at: row.try_get("updated_at")?,
        updated_by: row.try_get("updated_by")?,
    })
}

#[async_trait]
impl InventoryStore for SqliteStore {
    async fn import_servers(
        &self,
        rows: &[ImportRow],
        at: DateTime<Utc>,
        audit: AuditFor<'_, ImportOutcome>,
    ) -> Result<ImportOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = import_rows_in(&mut tx, rows, at).await?;
        let head = append_in(&mut tx, &[audit(&outcome)]).await?;
        self.commit(tx, head).await?;
        Ok(outcome)
    }

    async fn save_server(
        &self,
        record: &ServerRecord,
        previous: Option<&str>,
        at: DateTime<Utc>,
        audit: AuditFor<'_, StoredServer>,
    ) -> Result<StoredServer, StoreError> {
        let mut tx = self.begin_write().await?;
        let previous = previous.unwrap_or(&record.server);
        upsert_in(&mut tx, &mut Sites::new(), record, Given::ALL, previous, at).await?;
        let stored = server_in(&mut tx, &record.server)
            .await?
            .ok_or_else(|| StoreError::ServerNotFound(record.server.clone()))?;
        let head = append_in(&mut tx, &[audit(&stored)]).await?;
        self.commit(tx, head).await?;
        Ok(stored)
    }

    async fn delete_server(
        &self,
        name: &str,
        audit: AuditFor<'_, StoredServer>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let stored = server_in(&mut tx, name)
            .await?
            .ok_or_else(|| StoreError::ServerNotFound(name.to_owned()))?;
        sqlx::query("DELETE FROM servers WHERE name = ?1")
            .bind(name.to_owned())
            .execute(&mut *tx)
            .await?;
        let head = append_in(&mut tx, &[audit(&stored)]).await?;
        self.commit(tx, head).await?;
        Ok(())
    }

    async fn servers(&self, filter: &ServerFilter) -> Result<Vec<StoredServer>, StoreError> {
        let text = filter.text.trim().to_ascii_lowercase();
        let rows = sqlx::query(concat!(
            server_select!(),
            "WHERE (?1 = '' OR instr(lower(s.name), ?1) > 0 OR instr(lower(s.address), ?1) > 0 \
               OR instr(lower(t.name), ?1) > 0 OR instr(lower(y.name), ?1) > 0 \
               OR instr(lower(i.name), ?1) > 0 OR instr(lower(s.tags), ?1) > 0) \
             AND (?2 IS NULL OR t.tier = ?2) \
             ORDER BY i.name, y.name, t.name, s.name LIMIT ?3"
        ))
        .bind(text)
        .bind(filter.tier.map(|t| i64::from(t.number())))
        .bind(i64::from(filter.limit.min(ServerFilter::MAX_LIMIT)))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(server_from_row).collect()
    }

    async fn server(&self, name: &str) -> Result<Option<StoredServer>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        server_in(&mut conn, name).await
    }

    async fn for_each_server(
        &self,
        page: &mut (dyn FnMut(Vec<StoredServer>) -> Result<(), StoreError> + Send),
    ) -> Result<u64, StoreError> {
        const PAGE: i64 = 5_000;
        // A read transaction: every page comes from the same snapshot (WAL).
        let mut tx = self.pool().begin().await?;
        let mut seen = 0i64;
        loop {
            let rows = sqlx::query(concat!(
                server_select!(),
                "ORDER BY i.name, y.name, t.name, s.name LIMIT ?1 OFFSET ?2"
            ))
            .bind(PAGE)
            .bind(seen)
            .fetch_all(&mut *tx)
            .await?;
            let n = rows.len();
            let servers = rows
                .iter()
                .map(server_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            seen += i64::try_from(n).unwrap_or(0);
            if n > 0 {
                page(servers)?;
            }
            if i64::try_from(n).unwrap_or(0) < PAGE {
                break;
            }
        }
        tx.rollback().await?;
        Ok(u64::try_from(seen).unwrap_or(0))
    }

    async fn count_servers(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM servers")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn pin_host_keys(
        &self,
        pins: &[(String, PinnedHostKey)],
        audit: AuditFor<'_, (String, PinnedHostKey)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut drafts = Vec::with_capacity(pins.len());
        for (server, pin) in pins {
            pin_in(&mut tx, server, pin).await?;
            drafts.push(audit(&(server.clone(), pin.clone())));
        }
        let head = append_in(&mut tx, &drafts).await?;
        self.commit(tx, head).await?;
        Ok(())
    }

    async fn forget_host_key(
        &self,
        server: &str,
        audit: AuditFor<'_, StoredServer>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let stored = server_in(&mut tx, server)
            .await?
            .ok_or_else(|| StoreError::ServerNotFound(server.to_owned()))?;
        forget_pin_in(&mut tx, server).await?;
        let head = append_in(&mut tx, &[audit(&stored)]).await?;
        self.commit(tx, head).await?;
        Ok(())
    }

    async fn set_command_mode(
        &self,
        institution: &str,
        system: &str,
        mode: CommandMode,
        audit: AuditFor<'_, CommandMode>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT y.command_mode FROM systems y JOIN institutions i ON i.id = y.institution_id \
             WHERE i.name = ?1 AND y.name = ?2",
        )
        .bind(institution)
        .bind(system)
        .fetch_optional(&mut *tx)
        .await?;
        let previous = previous
            .ok_or_else(|| StoreError::SystemNotFound(format!("{institution}/{system}")))?;
        let previous = CommandMode::parse(&previous).ok_or_else(|| {
            StoreError::corrupt(format!("system {institution}/{system}"), previous)
        })?;
        sqlx::query(
            "UPDATE systems SET command_mode = ?3 WHERE name = ?2 \
             AND institution_id = (SELECT id FROM institutions WHERE name = ?1)",
        )
        .bind(institution)
        .bind(system)
        .bind(mode.as_str())
        .execute(&mut *tx)
        .await?;
        let head = append_in(&mut tx, &[audit(&previous)]).await?;
        self.commit(tx, head).await?;
        Ok(())
    }

    async fn set_legacy_crypto(
        &self,
        server: &str,
        reason: Option<&str>,
        audit: AuditFor<'_, StoredServer>,
    ) -> Result<StoredServer, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = server_in(&mut tx, server)
            .await?
            .ok_or_else(|| StoreError::ServerNotFound(server.to_owned()))?;
        sqlx::query("UPDATE servers SET legacy_reason = ?2 WHERE name = ?1")
            .bind(server)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        let head = append_in(&mut tx, &[audit(&before)]).await?;
        let after = server_in(&mut tx, server)
            .await?
            .ok_or_else(|| StoreError::ServerNotFound(server.to_owned()))?;
        self.commit(tx, head).await?;
        Ok(after)
    }

    async fn note_ssh_seen(
        &self,
        server: &str,
        address: &str,
        port: u16,
        seen: &SshSeen,
    ) -> Result<(), StoreError> {
        // Only if the server is still at the address the check reached: a check that began
        // before an address change must not describe the new machine.
        sqlx::query(
            "UPDATE servers SET ssh_algorithms = ?2, ssh_stop_guaranteed = ?3, \
             ssh_stop_detail = ?4, ssh_seen_at = ?5 WHERE name = ?1 AND address = ?6 AND port = ?7",
        )
        .bind(server)
        .bind(&seen.algorithms)
        .bind(i64::from(seen.stop_guaranteed))
        .bind(&seen.stop_detail)
        .bind(seen.at)
        .bind(address)
        .bind(i64::from(port))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn credentials(&self) -> Result<Vec<CredentialMeta>, StoreError> {
        let rows = sqlx::query(concat!(credential_select!(), "ORDER BY name"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(credential_from_row).collect()
    }

    async fn credential(&self, name: &str) -> Result<Option<CredentialMeta>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        credential_in(&mut conn, name).await
    }

    async fn save_credential(
        &self,
        meta: &CredentialMeta,
        audit: AuditFor<'_, CredentialMeta>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        save_credential_in(&mut tx, meta).await?;
        let head = append_in(&mut tx, &[audit(meta)]).await?;
        self.commit(tx, head).await?;
        Ok(())
    }

    async fn delete_credential(
        &self,
        name: &str,
        audit: AuditFor<'_, CredentialMeta>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let meta = credential_in(&mut tx, name)
            .await?
            .ok_or_else(|| StoreError::CredentialNotFound(name.to_owned()))?;
        sqlx::query("DELETE FROM credentials WHERE name = ?1")
            .bind(name.to_owned())
            .execute(&mut *tx)
            .await?;
        if meta.keyring_account.is_some() {
            note_keyring_in(
                &mut tx,
                account_of(&meta),
                KeyringNote::Retired,
                std::process::id(),
            )
            .await?;
        }
        let head = append_in(&mut tx, &[audit(&meta)]).await?;
        self.commit(tx, head).await?;
        Ok(())
    }

    async fn import_bundle(
        &self,
        rows: BundleRows<'_>,
        at: DateTime<Utc>,
        audit: BundleAudit<'_>,
    ) -> Result<ImportOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = import_rows_in(&mut tx, rows.servers, at).await?;
        let mut drafts = vec![(audit.servers)(&outcome)];
        for meta in rows.credentials {
            save_credential_in(&mut tx, meta).await?;
            drafts.push((audit.credential)(meta));
        }
        for (server, pin) in rows.pins {
            pin_in(&mut tx, server, pin).await?;
            drafts.push((audit.pin)(&(server.clone(), pin.clone())));
        }
        let head = append_in(&mut tx, &drafts).await?;
        self.commit(tx, head).await?;
        Ok(outcome)
    }

    async fn stage_keyring(&self, accounts: &[String], owner_pid: u32) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for account in accounts {
            note_keyring_in(&mut tx, account, KeyringNote::Staged, owner_pid).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn keyring_journal(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT account, state, owner_pid FROM keyring_journal ORDER BY account",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(account, state, pid)| {
                let note = match state.as_str() {
                    "staged" => KeyringNote::Staged,
                    "retired" => KeyringNote::Retired,
                    other => return Err(StoreError::corrupt("keyring journal state", other)),
                };
                Ok(JournalEntry {
                    account,
                    note,
                    owner_pid: u32::try_from(pid).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn settle_keyring(&self, accounts: &[String]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for account in accounts {
            sqlx::query("DELETE FROM keyring_journal WHERE account = ?1")
                .bind(account.clone())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn move_credential_account(&self, name: &str, account: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE credentials SET keyring_account = ?2 WHERE name = ?1 AND keyring_account IS NULL",
        )
        .bind(name.to_owned())
        .bind(account.to_owned())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
