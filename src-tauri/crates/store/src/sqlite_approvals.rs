//! [`ApprovalStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_domain::governance::{Chain, DeployWindows, Routing};
use guardia_domain::{PersonName, SystemName, Task, TaskId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::approvals::{ApprovalStore, ChainWrite, StoredChain, SystemRules, SystemSummary};
use crate::sqlite::{move_task_in, task_in};
use crate::sqlite_audit::append_in;
use crate::sqlite_reviews::{insert_document_in, set_package_state_in};
use crate::{SqliteStore, StoreError};

macro_rules! rules_select {
    () => {
        "SELECT system, owner, deputy, supervisor, owner_away, sla_seconds, sensitive, windows, \
         confirmed_at, updated_at, updated_by FROM system_rules "
    };
}

fn person_column(
    row: &SqliteRow,
    column: &str,
    what: &str,
) -> Result<Option<PersonName>, StoreError> {
    let raw: Option<String> = row.try_get(column)?;
    raw.map(|raw| PersonName::parse(&raw).map_err(|e| StoreError::corrupt(what.to_owned(), e)))
        .transpose()
}

fn rules_from_row(row: &SqliteRow) -> Result<SystemRules, StoreError> {
    let raw: String = row.try_get("system")?;
    let what = format!("rules of system {raw}");
    let system = SystemName::parse(&raw).map_err(|e| StoreError::corrupt(what.clone(), e))?;
    let sla: i64 = row.try_get("sla_seconds")?;
    let windows: String = row.try_get("windows")?;
    let windows: DeployWindows =
        serde_json::from_str(&windows).map_err(|e| StoreError::corrupt(what.clone(), e))?;
    windows
        .check_definition()
        .map_err(|e| StoreError::corrupt(what.clone(), e))?;
    Ok(SystemRules {
        system,
        routing: Routing {
            owner: person_column(row, "owner", &what)?,
            deputy: person_column(row, "deputy", &what)?,
            supervisor: person_column(row, "supervisor", &what)?,
            owner_away: row.try_get("owner_away")?,
            sla_seconds: u32::try_from(sla).map_err(|e| StoreError::corrupt(what.clone(), e))?,
        },
        sensitive: row.try_get("sensitive")?,
        windows,
        confirmed_at: row.try_get("confirmed_at")?,
        updated_at: row.try_get("updated_at")?,
        updated_by: row.try_get("updated_by")?,
    })
}

fn chain_from_row(row: &SqliteRow) -> Result<StoredChain, StoreError> {
    let raw: String = row.try_get("task_id")?;
    let task: TaskId = raw
        .parse()
        .map_err(|e| StoreError::corrupt(format!("chain of {raw}"), e))?;
    let json: String = row.try_get("chain")?;
    let chain: Chain = serde_json::from_str(&json)
        .map_err(|e| StoreError::corrupt(format!("chain of {raw}"), e))?;
    let round: i64 = row.try_get("round")?;
    if i64::from(chain.round) != round {
        return Err(StoreError::corrupt(
            format!("chain of {raw}"),
            format!("row round {round} holds round {}", chain.round),
        ));
    }
    Ok(StoredChain {
        task,
        chain,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn person_text(person: Option<&PersonName>) -> Option<String> {
    person.map(|p| p.as_str().to_owned())
}

#[async_trait]
impl ApprovalStore for SqliteStore {
    async fn system_rules(&self, system: &str) -> Result<Option<SystemRules>, StoreError> {
        let row = sqlx::query(concat!(rules_select!(), "WHERE system = ?1"))
            .bind(system)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(rules_from_row).transpose()
    }

    async fn all_system_rules(&self) -> Result<Vec<SystemRules>, StoreError> {
        let rows = sqlx::query(concat!(rules_select!(), "ORDER BY system"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rules_from_row).collect()
    }

    async fn save_system_rules(
        &self,
        rules: &SystemRules,
        audit: guardia_audit::EntryDraft,
    ) -> Result<SystemRules, StoreError> {
        let windows = serde_json::to_string(&rules.windows)
            .map_err(|e| StoreError::corrupt("deploy windows", e))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO system_rules (system, owner, deputy, supervisor, owner_away, sla_seconds, \
             sensitive, windows, confirmed_at, updated_at, updated_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (system) DO UPDATE SET owner = ?2, deputy = ?3, supervisor = ?4, \
             owner_away = ?5, sla_seconds = ?6, sensitive = ?7, windows = ?8, confirmed_at = ?9, \
             updated_at = ?10, updated_by = ?11",
        )
        .bind(rules.system.as_str())
        .bind(person_text(rules.routing.owner.as_ref()))
        .bind(person_text(rules.routing.deputy.as_ref()))
        .bind(person_text(rules.routing.supervisor.as_ref()))
        .bind(rules.routing.owner_away)
        .bind(i64::from(rules.routing.sla_seconds))
        .bind(rules.sensitive)
        .bind(windows)
        .bind(rules.confirmed_at)
        .bind(rules.updated_at)
        .bind(rules.updated_by.as_str())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(concat!(rules_select!(), "WHERE system = ?1"))
            .bind(rules.system.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let stored = rules_from_row(&row)?;
        let head = append_in(&mut tx, &[audit]).await?;
        self.commit(tx, head).await?;
        Ok(stored)
    }

    async fn institutions_of(&self, system: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT i.name FROM systems s JOIN institutions i ON i.id = s.institution_id \
             WHERE s.name = ?1 ORDER BY i.name",
        )
        .bind(system)
        .fetch_all(self.pool())
        .await?)
    }

    async fn system_summaries(&self) -> Result<Vec<SystemSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.name AS institution, s.name AS system, \
             COUNT(DISTINCT si.id) AS sites, COUNT(sv.id) AS servers \
             FROM systems s JOIN institutions i ON i.id = s.institution_id \
             LEFT JOIN sites si ON si.system_id = s.id \
             LEFT JOIN servers sv ON sv.site_id = si.id \
             GROUP BY s.id ORDER BY s.name, i.name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let count = |name: &str| -> Result<u32, StoreError> {
                    let n: i64 = row.try_get(name)?;
                    u32::try_from(n).map_err(|e| StoreError::corrupt("system summary", e))
                };
                Ok(SystemSummary {
                    institution: row.try_get("institution")?,
                    system: row.try_get("system")?,
                    sites: count("sites")?,
                    servers: count("servers")?,
                })
            })
            .collect()
    }

    async fn governance_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM governance_settings WHERE key = ?1")
                .bind(key)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    async fn set_governance_setting(
        &self,
        key: &str,
        value: &str,
        audit: guardia_audit::EntryDraft,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO governance_settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = ?2",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        let head = append_in(&mut tx, &[audit]).await?;
        self.commit(tx, head).await
    }

    async fn chains(&self, task: TaskId) -> Result<Vec<StoredChain>, StoreError> {
        let rows = sqlx::query(
            "SELECT task_id, round, chain, version, updated_at FROM approval_chains \
             WHERE task_id = ?1 ORDER BY round",
        )
        .bind(task.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(chain_from_row).collect()
    }

    async fn open_chains(&self) -> Result<Vec<StoredChain>, StoreError> {
        let rows = sqlx::query(
            "SELECT task_id, round, chain, version, updated_at FROM approval_chains \
             WHERE is_open = 1 ORDER BY task_id, round",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(chain_from_row).collect()
    }

    async fn write_chain(&self, write: ChainWrite<'_>) -> Result<Task, StoreError> {
        let json = serde_json::to_string(write.chain)
            .map_err(|e| StoreError::corrupt(format!("chain of {}", write.task), e))?;
        let is_open = write.chain.waiting().is_some();
        let next_due: Option<DateTime<Utc>> = write.chain.next_deadline();
        let mut tx = self.begin_write().await?;
        let written = match write.expected_version {
            None => sqlx::query(
                "INSERT INTO approval_chains (task_id, round, chain, is_open, next_due, version, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6) ON CONFLICT DO NOTHING",
            )
            .bind(write.task.to_string())
            .bind(i64::from(write.chain.round))
            .bind(&json)
            .bind(is_open)
            .bind(next_due)
            .bind(write.at)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(version) => {
                update_chain_in(&mut tx, write.task, write.chain, version, write.at).await?;
                1
            }
        };
        if written == 0 {
            return Err(StoreError::ChainChanged(write.task));
        }
        for doc in &write.documents {
            insert_document_in(&mut tx, doc).await?;
        }
        if let Some((version, state)) = write.package_state {
            set_package_state_in(&mut tx, write.task, version, state).await?;
        }
        let (task, head) = moves_and_audit_in(
            &mut tx,
            write.task,
            &write.task_moves,
            write.at,
            &write.audit,
        )
        .await?;
        self.commit(tx, head).await?;
        Ok(task)
    }
}

/// Updates a chain round if it is still at `version` (compare-and-set), inside the caller's
/// transaction; [`StoreError::ChainChanged`] otherwise.
pub(crate) async fn update_chain_in(
    conn: &mut sqlx::SqliteConnection,
    task: TaskId,
    chain: &Chain,
    version: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(chain)
        .map_err(|e| StoreError::corrupt(format!("chain of {task}"), e))?;
    let written = sqlx::query(
        "UPDATE approval_chains SET chain = ?3, is_open = ?4, next_due = ?5, \
         version = version + 1, updated_at = ?6 \
         WHERE task_id = ?1 AND round = ?2 AND version = ?7",
    )
    .bind(task.to_string())
    .bind(i64::from(chain.round))
    .bind(&json)
    .bind(chain.waiting().is_some())
    .bind(chain.next_deadline())
    .bind(at)
    .bind(version)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if written == 0 {
        return Err(StoreError::ChainChanged(task));
    }
    Ok(())
}

/// The end of a chain or review write: the task's moves (compare-and-set each), then the
/// audit entries, inside the caller's transaction. Returns the task as it is now and the
/// log's new head for the commit.
pub(crate) async fn moves_and_audit_in(
    conn: &mut sqlx::SqliteConnection,
    task: TaskId,
    moves: &[crate::TaskMove<'_>],
    at: DateTime<Utc>,
    audit: &[guardia_audit::EntryDraft],
) -> Result<(Task, crate::AuditHead), StoreError> {
    for step in moves {
        move_task_in(conn, task, step.transition, step.actor, step.note, at).await?;
    }
    let now = task_in(conn, task)
        .await?
        .ok_or(StoreError::TaskNotFound(task))?;
    let head = append_in(conn, audit).await?;
    Ok((now, head))
}
