//! Incidents in SQLite (`migrations/sqlite/0012_incidents.sql`).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use guardia_audit::EntryDraft;
use guardia_domain::incident::{Incident, IncidentId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::incidents::{IncidentFilter, IncidentStore, MakeIncident, StoredIncident};
use crate::sqlite_audit::append_in;
use crate::{SqliteStore, StoreError};

fn encode(incident: &Incident) -> Result<String, StoreError> {
    serde_json::to_string(incident).map_err(|e| StoreError::corrupt("incident", e))
}

fn decode(row: &SqliteRow) -> Result<StoredIncident, StoreError> {
    let id: String = row.try_get("id")?;
    let doc: String = row.try_get("doc")?;
    let revision: i64 = row.try_get("revision")?;
    let incident: Incident =
        serde_json::from_str(&doc).map_err(|e| StoreError::corrupt(format!("incident {id}"), e))?;
    if incident.id != id || IncidentId::parse(&id).is_none() {
        return Err(StoreError::corrupt(
            format!("incident {id}"),
            "the stored incident names another id",
        ));
    }
    Ok(StoredIncident {
        incident,
        revision: u64::try_from(revision)
            .map_err(|e| StoreError::corrupt(format!("incident {id} revision"), e))?,
    })
}

#[async_trait]
impl IncidentStore for SqliteStore {
    async fn insert_incident(
        &self,
        day: NaiveDate,
        cause_key: Option<&str>,
        make: MakeIncident<'_>,
    ) -> Result<Option<StoredIncident>, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(key) = cause_key {
            let seen: Option<String> =
                sqlx::query_scalar("SELECT id FROM incidents WHERE cause_key = ?1")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if seen.is_some() {
                return Ok(None);
            }
        }
        let day_code = day.format("%Y%m%d").to_string();
        let number: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM incidents WHERE day = ?1")
                .bind(&day_code)
                .fetch_one(&mut *tx)
                .await?;
        let id = u32::try_from(number)
            .ok()
            .and_then(|n| {
                IncidentId::new(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(), n)
            })
            .ok_or_else(|| {
                StoreError::corrupt("incident number", format!("day {day_code} is full (999)"))
            })?;
        let (incident, audit) = make(id.clone())?;
        if incident.id != id.as_str() || incident.cause_key.as_deref() != cause_key {
            return Err(StoreError::corrupt(
                "new incident",
                "made with another id or cause key",
            ));
        }
        sqlx::query(
            "INSERT INTO incidents (id, day, number, cause_key, opened_at, severity, kind, stage, \
             doc, revision, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?5)",
        )
        .bind(id.as_str())
        .bind(&day_code)
        .bind(number)
        .bind(cause_key)
        .bind(incident.opened_at)
        .bind(incident.severity.code())
        .bind(incident.kind.code())
        .bind(incident.stage.code())
        .bind(encode(&incident)?)
        .execute(&mut *tx)
        .await?;
        let head = append_in(&mut tx, &audit).await?;
        self.commit(tx, head).await?;
        Ok(Some(StoredIncident {
            incident,
            revision: 1,
        }))
    }

    async fn update_incident(
        &self,
        incident: &Incident,
        revision: u64,
        audit: &[EntryDraft],
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let at: DateTime<Utc> = audit.last().map_or_else(Utc::now, |e| e.at);
        let next = revision + 1;
        let changed = sqlx::query(
            "UPDATE incidents SET severity = ?1, kind = ?2, stage = ?3, doc = ?4, revision = ?5, \
             updated_at = ?6 WHERE id = ?7 AND revision = ?8",
        )
        .bind(incident.severity.code())
        .bind(incident.kind.code())
        .bind(incident.stage.code())
        .bind(encode(incident)?)
        .bind(i64::try_from(next).unwrap_or(i64::MAX))
        .bind(at)
        .bind(&incident.id)
        .bind(i64::try_from(revision).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(StoreError::IncidentChanged(incident.id.clone()));
        }
        let head = append_in(&mut tx, audit).await?;
        self.commit(tx, head).await?;
        Ok(next)
    }

    async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, StoreError> {
        let row = sqlx::query("SELECT id, doc, revision FROM incidents WHERE id = ?1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn incident_by_cause(&self, key: &str) -> Result<Option<StoredIncident>, StoreError> {
        let row = sqlx::query("SELECT id, doc, revision FROM incidents WHERE cause_key = ?1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<StoredIncident>, StoreError> {
        let limit = match filter.limit {
            0 => IncidentFilter::MAX_LIMIT,
            n => n.min(IncidentFilter::MAX_LIMIT),
        };
        let rows = sqlx::query(
            "SELECT id, doc, revision FROM incidents \
             WHERE (?1 IS NULL OR opened_at >= ?1) AND (?2 IS NULL OR opened_at < ?2) \
             AND (?3 = 0 OR stage <> 'CLOSED') \
             ORDER BY opened_at DESC, id DESC LIMIT ?4",
        )
        .bind(filter.since)
        .bind(filter.until)
        .bind(i64::from(filter.open_only))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode).collect()
    }

    async fn incident_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM incident_values WHERE key = ?1")
                .bind(key)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    async fn set_incident_value(
        &self,
        key: &str,
        value: &str,
        audit: &[EntryDraft],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO incident_values (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        if audit.is_empty() {
            tx.commit().await?;
            return Ok(());
        }
        let head = append_in(&mut tx, audit).await?;
        self.commit(tx, head).await
    }
}
