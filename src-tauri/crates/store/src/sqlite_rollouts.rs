//! [`RolloutStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_domain::TaskId;
use guardia_domain::rollout::{RolloutState, SiteState};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::rollouts::{
    Deployment, JournalRow, KillSwitchState, RolloutStore, RolloutWrite, StoredRollout, StoredSite,
};
use crate::sqlite::move_task_in;
use crate::sqlite_audit::append_in;
use crate::{SqliteStore, StoreError};

macro_rules! rollout_columns {
    () => {
        "id, task_id, package_version, package_sha256, playbook, playbook_version, \
         playbook_sha256, version_label, params, plan, state, reason, phase, gate_until, \
         request, started_by, started_at, updated_at"
    };
}

fn u32_of(row: &SqliteRow, column: &str) -> Result<u32, StoreError> {
    let v: i64 = row.try_get(column)?;
    u32::try_from(v).map_err(|e| StoreError::corrupt(format!("rollout column {column}"), e))
}

fn rollout_from_row(row: &SqliteRow) -> Result<StoredRollout, StoreError> {
    let task: String = row.try_get("task_id")?;
    let state: String = row.try_get("state")?;
    Ok(StoredRollout {
        id: row.try_get("id")?,
        task: task
            .parse()
            .map_err(|e| StoreError::corrupt(format!("rollout task id {task}"), e))?,
        package_version: u32_of(row, "package_version")?,
        package_sha256: row.try_get("package_sha256")?,
        playbook: row.try_get("playbook")?,
        playbook_version: u32_of(row, "playbook_version")?,
        playbook_sha256: row.try_get("playbook_sha256")?,
        version_label: row.try_get("version_label")?,
        params: row.try_get("params")?,
        plan: row.try_get("plan")?,
        state: RolloutState::parse(&state)
            .ok_or_else(|| StoreError::corrupt("rollout state", state.clone()))?,
        reason: row.try_get("reason")?,
        phase: u32_of(row, "phase")?,
        gate_until: row.try_get("gate_until")?,
        request: row.try_get("request")?,
        started_by: row.try_get("started_by")?,
        started_at: row.try_get("started_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait]
impl RolloutStore for SqliteStore {
    async fn rollout(&self, id: &str) -> Result<Option<StoredRollout>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            rollout_columns!(),
            " FROM rollouts WHERE id = ?1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(rollout_from_row).transpose()
    }

    async fn rollouts(&self, task: Option<TaskId>) -> Result<Vec<StoredRollout>, StoreError> {
        let rows = match task {
            Some(task) => {
                sqlx::query(concat!(
                    "SELECT ",
                    rollout_columns!(),
                    " FROM rollouts WHERE task_id = ?1 ORDER BY started_at DESC, id DESC"
                ))
                .bind(task.to_string())
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    rollout_columns!(),
                    " FROM rollouts ORDER BY started_at DESC, id DESC LIMIT 500"
                ))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(rollout_from_row).collect()
    }

    async fn open_rollouts(&self) -> Result<Vec<StoredRollout>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            rollout_columns!(),
            " FROM rollouts WHERE state NOT IN ('COMPLETED', 'ROLLED_BACK', 'ABORTED') \
             ORDER BY started_at"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rollout_from_row).collect()
    }

    async fn rollout_sites(&self, id: &str) -> Result<Vec<StoredSite>, StoreError> {
        let rows = sqlx::query(
            "SELECT site, key, phase, state, detail, log_tail, updated_at FROM rollout_sites \
             WHERE rollout_id = ?1 ORDER BY site",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get("state")?;
                Ok(StoredSite {
                    site: u32_of(row, "site")?,
                    key: row.try_get("key")?,
                    phase: u32_of(row, "phase")?,
                    state: SiteState::parse(&state)
                        .ok_or_else(|| StoreError::corrupt("site state", state.clone()))?,
                    detail: row.try_get("detail")?,
                    log_tail: row.try_get("log_tail")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    async fn journal(&self, id: &str, site: Option<u32>) -> Result<Vec<JournalRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, site, server, step, mark, outcome, detail, at FROM rollout_steps \
             WHERE rollout_id = ?1 AND (?2 IS NULL OR site = ?2) ORDER BY seq",
        )
        .bind(id)
        .bind(site.map(i64::from))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq")?;
                Ok(JournalRow {
                    seq: u64::try_from(seq).map_err(|e| StoreError::corrupt("journal seq", e))?,
                    site: u32_of(row, "site")?,
                    server: row.try_get("server")?,
                    step: row.try_get("step")?,
                    mark: row.try_get("mark")?,
                    outcome: row.try_get("outcome")?,
                    detail: row.try_get("detail")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }

    async fn deployments(&self, server: &str) -> Result<Vec<Deployment>, StoreError> {
        let rows = sqlx::query(
            "SELECT server, at, task_id, rollout_id, version, files, actor, result, audit_idx \
             FROM deployments WHERE server = ?1 ORDER BY at DESC, rowid DESC LIMIT 200",
        )
        .bind(server)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let task: String = row.try_get("task_id")?;
                let idx: i64 = row.try_get("audit_idx")?;
                Ok(Deployment {
                    server: row.try_get("server")?,
                    at: row.try_get("at")?,
                    task: task
                        .parse()
                        .map_err(|e| StoreError::corrupt("deployment task", e))?,
                    rollout: row.try_get("rollout_id")?,
                    version: row.try_get("version")?,
                    files: row.try_get("files")?,
                    actor: row.try_get("actor")?,
                    result: row.try_get("result")?,
                    audit_index: u64::try_from(idx)
                        .map_err(|e| StoreError::corrupt("deployment audit index", e))?,
                })
            })
            .collect()
    }

    async fn kill_switch(&self) -> Result<Option<KillSwitchState>, StoreError> {
        let row = sqlx::query("SELECT engaged, by, reason, at FROM kill_switch WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            let engaged: i64 = row.try_get("engaged")?;
            Ok(KillSwitchState {
                engaged: engaged != 0,
                by: row.try_get("by")?,
                reason: row.try_get("reason")?,
                at: row.try_get("at")?,
            })
        })
        .transpose()
    }

    async fn write_rollouts(&self, writes: &[RolloutWrite]) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let mut audit = Vec::new();
        let mut deployments = Vec::new();
        for write in writes {
            let at = write.at.unwrap_or_else(Utc::now);
            apply(&mut tx, write, at).await?;
            for d in &write.deployments {
                deployments.push((write, d, audit.len() + d.audit_pos, at));
            }
            audit.extend(write.audit.iter().cloned());
        }
        let head = append_in(&mut tx, &audit).await?;
        let before = head.size - audit.len() as u64;
        for (write, d, pos, at) in deployments {
            let task = write
                .task
                .or_else(|| write.insert.as_ref().map(|r| r.task))
                .ok_or_else(|| StoreError::corrupt("deployment", "a deployment names no task"))?;
            sqlx::query(
                "INSERT INTO deployments (server, at, task_id, rollout_id, version, files, actor, \
                 result, audit_idx) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(&d.server)
            .bind(at)
            .bind(task.to_string())
            .bind(&write.rollout_id)
            .bind(&d.version)
            .bind(&d.files)
            .bind(&d.actor)
            .bind(&d.result)
            .bind(i64::try_from(before + pos as u64).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, head).await
    }
}

async fn apply(
    conn: &mut sqlx::SqliteConnection,
    write: &RolloutWrite,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let id = write.rollout_id.as_str();
    if let Some(r) = &write.insert {
        sqlx::query(concat!(
            "INSERT INTO rollouts (",
            rollout_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        ))
        .bind(&r.id)
        .bind(r.task.to_string())
        .bind(i64::from(r.package_version))
        .bind(&r.package_sha256)
        .bind(&r.playbook)
        .bind(i64::from(r.playbook_version))
        .bind(&r.playbook_sha256)
        .bind(&r.version_label)
        .bind(&r.params)
        .bind(&r.plan)
        .bind(r.state.as_str())
        .bind(&r.reason)
        .bind(i64::from(r.phase))
        .bind(r.gate_until)
        .bind(&r.request)
        .bind(&r.started_by)
        .bind(r.started_at)
        .bind(r.updated_at)
        .execute(&mut *conn)
        .await?;
    }
    if let Some((state, reason)) = &write.state {
        sqlx::query("UPDATE rollouts SET state = ?1, reason = ?2, updated_at = ?3 WHERE id = ?4")
            .bind(state.as_str())
            .bind(reason)
            .bind(at)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(phase) = write.phase {
        sqlx::query("UPDATE rollouts SET phase = ?1, updated_at = ?2 WHERE id = ?3")
            .bind(i64::from(phase))
            .bind(at)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(until) = write.gate_until {
        sqlx::query("UPDATE rollouts SET gate_until = ?1, updated_at = ?2 WHERE id = ?3")
            .bind(until)
            .bind(at)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(request) = &write.request {
        sqlx::query("UPDATE rollouts SET request = ?1 WHERE id = ?2")
            .bind(request)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    for site in &write.sites {
        sqlx::query(
            "INSERT INTO rollout_sites (rollout_id, site, key, phase, state, detail, log_tail, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?7, ''), ?8) \
             ON CONFLICT (rollout_id, site) DO UPDATE SET state = excluded.state, \
             detail = excluded.detail, updated_at = excluded.updated_at, \
             log_tail = COALESCE(?7, rollout_sites.log_tail)",
        )
        .bind(id)
        .bind(i64::from(site.site))
        .bind(&site.key)
        .bind(i64::from(site.phase))
        .bind(site.state.as_str())
        .bind(&site.detail)
        .bind(site.log_tail.as_deref())
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    if !write.journal.is_empty() {
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM rollout_steps WHERE rollout_id = ?1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        for (i, row) in write.journal.iter().enumerate() {
            sqlx::query(
                "INSERT INTO rollout_steps (rollout_id, seq, site, server, step, mark, outcome, \
                 detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(id)
            .bind(next + i as i64)
            .bind(i64::from(row.site))
            .bind(&row.server)
            .bind(&row.step)
            .bind(&row.mark)
            .bind(&row.outcome)
            .bind(&row.detail)
            .bind(row.at)
            .execute(&mut *conn)
            .await?;
        }
    }
    if let Some(task) = write.task.or_else(|| write.insert.as_ref().map(|r| r.task)) {
        for m in &write.task_moves {
            move_task_in(conn, task, m.transition, &m.actor, &m.note, at).await?;
        }
    }
    if let Some(k) = &write.kill_switch {
        sqlx::query(
            "INSERT INTO kill_switch (id, engaged, by, reason, at) VALUES (1, ?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET engaged = excluded.engaged, by = excluded.by, \
             reason = excluded.reason, at = excluded.at",
        )
        .bind(i64::from(k.engaged))
        .bind(&k.by)
        .bind(&k.reason)
        .bind(k.at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
