//! [`AuditStore`] on SQLite, and the in-transaction append every other write uses.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, Frontier, Hash, NodeId, format_time, leaf_hash};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use tokio::sync::mpsc;

use crate::sqlite::like_pattern;
use crate::{
    AuditFilter, AuditHead, AuditStore, Change, ExternalCheckpoint, NewVerification, SqliteStore,
    StoreError, StoredCheckpoint, StoredEntry, VerificationRecord,
};

fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::corrupt(what, format!("{value} is too large")))
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::corrupt(what, format!("{value} is negative")))
}

async fn frontier_in(conn: &mut SqliteConnection) -> Result<Frontier, StoreError> {
    let row = sqlx::query("SELECT size, peaks FROM audit_tree WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let size = to_u64(row.try_get("size")?, "audit tree size")?;
    let peaks: Vec<u8> = row.try_get("peaks")?;
    if !peaks.len().is_multiple_of(32) {
        return Err(StoreError::corrupt(
            "audit tree",
            "the right edge is not a list of hashes",
        ));
    }
    let peaks = peaks
        .chunks_exact(32)
        .map(|chunk| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect();
    Frontier::from_parts(size, peaks).map_err(|e| StoreError::corrupt("audit tree", e))
}

/// Appends `drafts` inside the caller's transaction. The indexes continue from the size the
/// log recorded, and that record moves only if nobody else moved it meanwhile.
pub(crate) async fn append_in(
    conn: &mut SqliteConnection,
    drafts: &[EntryDraft],
) -> Result<AuditHead, StoreError> {
    let mut frontier = frontier_in(conn).await?;
    let old_size = frontier.size();
    for draft in drafts {
        let index = frontier.size();
        let bytes = draft
            .encode(index)
            .map_err(|e| StoreError::corrupt(format!("audit entry {}", draft.kind), e))?;
        let leaf = leaf_hash(&bytes);
        let completed = frontier.append(leaf);
        sqlx::query(
            "INSERT INTO audit_entries (idx, entry, leaf, at, kind, actor, subject, result) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(to_i64(index, "audit index")?)
        .bind(bytes)
        .bind(leaf.to_vec())
        .bind(format_time(draft.at))
        .bind(draft.kind.code())
        .bind(draft.actor.clone())
        .bind(draft.subject.clone())
        .bind(draft.outcome.code())
        .execute(&mut *conn)
        .await?;
        for (id, hash) in completed.into_iter().filter(|(id, _)| id.level > 0) {
            sqlx::query("INSERT INTO audit_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
                .bind(i64::from(id.level))
                .bind(to_i64(id.index, "audit node")?)
                .bind(hash.to_vec())
                .execute(&mut *conn)
                .await?;
        }
    }
    let peaks: Vec<u8> = frontier.peaks().concat();
    let moved =
        sqlx::query("UPDATE audit_tree SET size = ?1, peaks = ?2 WHERE id = 1 AND size = ?3")
            .bind(to_i64(frontier.size(), "audit size")?)
            .bind(peaks)
            .bind(to_i64(old_size, "audit size")?)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if moved != 1 {
        // Another writer appended first (possible where the backend does not take the
        // write lock up front). Nothing of ours is committed: retry the whole change.
        return Err(StoreError::AuditRace);
    }
    Ok(AuditHead {
        size: frontier.size(),
        root: frontier.root(),
    })
}

async fn range_in(
    pool: &sqlx::SqlitePool,
    start: u64,
    end: u64,
) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT idx, entry, leaf FROM audit_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    )
    .bind(to_i64(start, "audit index")?)
    .bind(to_i64(end, "audit index")?)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

fn entry_from_row(row: &SqliteRow) -> Result<StoredEntry, StoreError> {
    Ok(StoredEntry {
        index: to_u64(row.try_get("idx")?, "audit index")?,
        bytes: row.try_get("entry")?,
        leaf: row.try_get("leaf")?,
    })
}

fn checkpoint_from_row(row: &SqliteRow) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint {
        size: to_u64(row.try_get("size")?, "checkpoint size")?,
        note: row.try_get("note")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
        exported_at: row.try_get("exported_at")?,
    })
}

fn verification_from_row(row: &SqliteRow) -> Result<VerificationRecord, StoreError> {
    let first_bad: Option<i64> = row.try_get("first_bad")?;
    Ok(VerificationRecord {
        id: row.try_get("id")?,
        run: NewVerification {
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            trigger: row.try_get("trigger")?,
            actor: row.try_get("actor")?,
            ok: row.try_get::<i64, _>("ok")? == 1,
            entries: to_u64(row.try_get("entries")?, "verified entries")?,
            checkpoints: to_u64(row.try_get("checkpoints")?, "verified checkpoints")?,
            first_bad: first_bad.map(|v| to_u64(v, "first bad")).transpose()?,
            problem_code: row.try_get("problem_code")?,
            problem: row.try_get("problem")?,
        },
        acknowledged_by: row.try_get("acknowledged_by")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        acknowledgement: row.try_get("acknowledgement")?,
    })
}

macro_rules! verification_columns {
    () => {
        "id, started_at, finished_at, trigger, actor, ok, entries, checkpoints, first_bad, \
         problem_code, problem, acknowledged_by, acknowledged_at, acknowledgement"
    };
}

/// A LIKE pattern matching `value` exactly or, when it ends in `family` (`task.`,
/// `server:`), everything under it. `None` for an empty value (no filter).
fn exact_or_family(value: &Option<String>, family: Option<char>) -> Option<String> {
    let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    let mut pattern = like_pattern(value);
    // like_pattern wraps in %…%; exact or prefix needs neither leading nor (for exact) trailing.
    pattern.remove(0);
    if !family.is_some_and(|f| value.ends_with(f)) {
        pattern.pop();
    }
    Some(pattern)
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn audit_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM audit_meta WHERE key = ?1")
                .bind(key.to_owned())
                .fetch_optional(self.pool())
                .await?,
        )
    }

    async fn init_audit_meta(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO audit_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key.to_owned())
        .bind(value.to_owned())
        .execute(&mut *tx)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM audit_meta WHERE key = ?1")
            .bind(key.to_owned())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn append_audit(&self, drafts: &[EntryDraft]) -> Result<AuditHead, StoreError> {
        let mut tx = self.begin_write().await?;
        let head = append_in(&mut tx, drafts).await?;
        self.commit(tx, head).await?;
        Ok(head)
    }

    async fn audit_head(&self) -> Result<AuditHead, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let frontier = frontier_in(&mut conn).await?;
        Ok(AuditHead {
            size: frontier.size(),
            root: frontier.root(),
        })
    }

    fn committed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.committed_feed()
    }

    async fn notice_external(&self) -> Result<u64, StoreError> {
        // One indexed single-row read; the feed moves only when the size grew.
        let size: i64 = sqlx::query_scalar("SELECT size FROM audit_tree WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        let size = to_u64(size, "audit tree size")?;
        self.saw_size(size);
        Ok(size)
    }

    async fn changes_after(&self, after: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, kind, subject FROM audit_entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        )
        .bind(to_i64(after, "audit index")?)
        .bind(i64::from(limit.clamp(1, AuditFilter::MAX_LIMIT)))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Change {
                    index: to_u64(row.try_get("idx")?, "audit index")?,
                    kind: row.try_get("kind")?,
                    subject: row.try_get("subject")?,
                })
            })
            .collect()
    }

    async fn audit_page(&self, filter: &AuditFilter) -> Result<Vec<StoredEntry>, StoreError> {
        let before = filter
            .before
            .map(|b| to_i64(b, "audit index"))
            .transpose()?;
        let rows = sqlx::query(
            // `idx < COALESCE(…)` rather than `?1 IS NULL OR idx < ?1`: a constant bound
            // lets SQLite seek the rowid, so page 5,000 costs what page 1 does.
            "SELECT idx, entry, leaf FROM audit_entries \
             WHERE idx < COALESCE(?1, 9223372036854775807) \
               AND (?2 IS NULL OR kind LIKE ?2 ESCAPE '\\') \
               AND (?3 IS NULL OR actor LIKE ?3 ESCAPE '\\') \
               AND (?4 IS NULL OR subject LIKE ?4 ESCAPE '\\') \
               AND (?5 IS NULL OR result = ?5) \
               AND (?6 = '' OR CAST(entry AS TEXT) LIKE ?6 ESCAPE '\\') \
             ORDER BY idx DESC LIMIT ?7",
        )
        .bind(before)
        .bind(exact_or_family(&filter.kind, Some('.')))
        .bind(exact_or_family(&filter.actor, None))
        .bind(exact_or_family(&filter.subject, Some(':')))
        .bind(filter.result.clone().filter(|r| !r.is_empty()))
        .bind(like_pattern(&filter.text))
        .bind(i64::from(filter.limit.clamp(1, AuditFilter::MAX_LIMIT)))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn audit_range(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, StoreError> {
        range_in(self.pool(), start, end).await
    }

    fn audit_scan(
        &self,
        total: u64,
        batch: u64,
    ) -> mpsc::Receiver<Result<Vec<StoredEntry>, StoreError>> {
        let (out, chunks) = mpsc::channel(2);
        let pool = self.pool().clone();
        let batch = batch.max(1);
        let count = total.div_ceil(batch);
        // Two readers fetch alternate chunks ([0,B), [2B,3B), … and [B,2B), [3B,4B), …),
        // each at most two chunks ahead; the merger hands them on in order. Every task ends
        // when the one after it stops listening.
        let mut lanes = Vec::with_capacity(2);
        for lane in 0..2u64 {
            let (send, receive) = mpsc::channel::<Result<Vec<StoredEntry>, StoreError>>(2);
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut chunk = lane;
                while chunk < count {
                    let start = chunk * batch;
                    let rows = range_in(&pool, start, (start + batch).min(total)).await;
                    let failed = rows.is_err();
                    if send.send(rows).await.is_err() || failed {
                        break;
                    }
                    chunk += 2;
                }
            });
            lanes.push(receive);
        }
        tokio::spawn(async move {
            for chunk in 0..count {
                let Some(rows) = lanes[(chunk % 2) as usize].recv().await else {
                    break;
                };
                let failed = rows.is_err();
                if out.send(rows).await.is_err() || failed {
                    break;
                }
            }
        });
        chunks
    }

    async fn audit_unrecorded(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_entries WHERE idx >= (SELECT size FROM audit_tree WHERE id = 1)",
        )
        .fetch_one(self.pool())
        .await?;
        to_u64(count, "unrecorded entries")
    }

    async fn audit_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let mut hashes = Vec::with_capacity(ids.len());
        for id in ids {
            let index = to_i64(id.index, "audit node")?;
            let stored: Option<Vec<u8>> = if id.level == 0 {
                sqlx::query_scalar("SELECT leaf FROM audit_entries WHERE idx = ?1")
                    .bind(index)
                    .fetch_optional(&mut *conn)
                    .await?
            } else {
                sqlx::query_scalar("SELECT hash FROM audit_nodes WHERE level = ?1 AND idx = ?2")
                    .bind(i64::from(id.level))
                    .bind(index)
                    .fetch_optional(&mut *conn)
                    .await?
            };
            let hash = stored
                .and_then(|bytes| <Hash>::try_from(bytes.as_slice()).ok())
                .ok_or_else(|| {
                    StoreError::corrupt(
                        format!("audit node {}/{}", id.level, id.index),
                        "missing or not a hash",
                    )
                })?;
            hashes.push(hash);
        }
        Ok(hashes)
    }

    async fn write_checkpoint(
        &self,
        entry: &EntryDraft,
        reason: &str,
        sign: &(dyn Fn(AuditHead) -> String + Send + Sync),
    ) -> Result<StoredCheckpoint, StoreError> {
        let mut tx = self.begin_write().await?;
        let head = append_in(&mut tx, std::slice::from_ref(entry)).await?;
        let checkpoint = StoredCheckpoint {
            size: head.size,
            note: sign(head),
            reason: reason.to_owned(),
            created_at: entry.at,
            exported_at: None,
        };
        sqlx::query(
            "INSERT INTO audit_checkpoints (size, note, reason, created_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(to_i64(checkpoint.size, "checkpoint size")?)
        .bind(checkpoint.note.clone())
        .bind(checkpoint.reason.clone())
        .bind(checkpoint.created_at)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, head).await?;
        Ok(checkpoint)
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT size, note, reason, created_at, exported_at FROM audit_checkpoints ORDER BY size",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(checkpoint_from_row).collect()
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row = sqlx::query(
            "SELECT size, note, reason, created_at, exported_at FROM audit_checkpoints \
             ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }

    async fn last_exported_size(&self) -> Result<Option<u64>, StoreError> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(size) FROM audit_checkpoints WHERE exported_at IS NOT NULL",
        )
        .fetch_one(self.pool())
        .await?;
        size.map(|s| to_u64(s, "checkpoint size")).transpose()
    }

    async fn mark_checkpoint_exported(
        &self,
        size: u64,
        at: DateTime<Utc>,
        entry: &EntryDraft,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let marked = sqlx::query("UPDATE audit_checkpoints SET exported_at = ?1 WHERE size = ?2")
            .bind(at)
            .bind(to_i64(size, "checkpoint size")?)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if marked != 1 {
            return Err(StoreError::corrupt(
                format!("checkpoint {size}"),
                "it does not exist",
            ));
        }
        let head = append_in(&mut tx, std::slice::from_ref(entry)).await?;
        self.commit(tx, head).await?;
        Ok(())
    }

    async fn add_external_checkpoint(
        &self,
        checkpoint: &ExternalCheckpoint,
        entry: &EntryDraft,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let added = sqlx::query(
            "INSERT INTO audit_external_checkpoints (note, size, label, imported_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (note) DO NOTHING",
        )
        .bind(checkpoint.note.clone())
        .bind(to_i64(checkpoint.size, "checkpoint size")?)
        .bind(checkpoint.label.clone())
        .bind(checkpoint.imported_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if added {
            let head = append_in(&mut tx, std::slice::from_ref(entry)).await?;
            self.commit(tx, head).await?;
        }
        Ok(added)
    }

    async fn external_checkpoints(&self) -> Result<Vec<ExternalCheckpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT note, size, label, imported_at FROM audit_external_checkpoints ORDER BY size",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ExternalCheckpoint {
                    note: row.try_get("note")?,
                    size: to_u64(row.try_get("size")?, "checkpoint size")?,
                    label: row.try_get("label")?,
                    imported_at: row.try_get("imported_at")?,
                })
            })
            .collect()
    }

    async fn record_verification(
        &self,
        run: &NewVerification,
        entry: &EntryDraft,
    ) -> Result<VerificationRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_verifications (started_at, finished_at, trigger, actor, ok, entries, \
             checkpoints, first_bad, problem_code, problem) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
        )
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(run.trigger.clone())
        .bind(run.actor.clone())
        .bind(i64::from(run.ok))
        .bind(to_i64(run.entries, "verified entries")?)
        .bind(to_i64(run.checkpoints, "verified checkpoints")?)
        .bind(run.first_bad.map(|v| to_i64(v, "first bad")).transpose()?)
        .bind(run.problem_code.clone())
        .bind(run.problem.clone())
        .fetch_one(&mut *tx)
        .await?;
        let head = append_in(&mut tx, std::slice::from_ref(entry)).await?;
        self.commit(tx, head).await?;
        Ok(VerificationRecord {
            id,
            run: run.clone(),
            acknowledged_by: None,
            acknowledged_at: None,
            acknowledgement: None,
        })
    }

    async fn latest_verification(&self) -> Result<Option<VerificationRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            verification_columns!(),
            " FROM audit_verifications ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(verification_from_row).transpose()
    }

    async fn unacknowledged_failure(&self) -> Result<Option<VerificationRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            verification_columns!(),
            " FROM audit_verifications WHERE ok = 0 AND acknowledged_at IS NULL \
              ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(verification_from_row).transpose()
    }

    async fn acknowledge_verification(
        &self,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
        note: &str,
        entry: &EntryDraft,
    ) -> Result<VerificationRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let marked = sqlx::query(
            "UPDATE audit_verifications SET acknowledged_by = ?1, acknowledged_at = ?2, \
             acknowledgement = ?3 WHERE id = ?4 AND ok = 0 AND acknowledged_at IS NULL",
        )
        .bind(by.to_owned())
        .bind(at)
        .bind(note.to_owned())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked != 1 {
            return Err(StoreError::corrupt(
                format!("verification {id}"),
                "it is not an unacknowledged failure",
            ));
        }
        let head = append_in(&mut tx, std::slice::from_ref(entry)).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            verification_columns!(),
            " FROM audit_verifications WHERE id = ?1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let record = verification_from_row(&row)?;
        self.commit(tx, head).await?;
        Ok(record)
    }
}
