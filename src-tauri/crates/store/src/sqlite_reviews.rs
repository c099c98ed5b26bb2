//! [`ReviewStore`] on SQLite.

use async_trait::async_trait;
use guardia_domain::{Task, TaskId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::reviews::{
    Comment, Document, DocumentKind, Mark, MarkState, PackageState, ReviewDecision, ReviewStore,
    ReviewVerdict, ReviewWrite, Side, StoredFile, StoredPackage,
};
use crate::sqlite_approvals::{moves_and_audit_in, update_chain_in};
use crate::{SqliteStore, StoreError};

fn version_of(row: &SqliteRow, what: &str) -> Result<u32, StoreError> {
    let raw: i64 = row.try_get("version")?;
    u32::try_from(raw).map_err(|e| StoreError::corrupt(what.to_owned(), e))
}

fn package_from_row(task: TaskId, row: &SqliteRow) -> Result<StoredPackage, StoreError> {
    let what = format!("package of {task}");
    let state: String = row.try_get("state")?;
    Ok(StoredPackage {
        task,
        version: version_of(row, &what)?,
        sha256: row.try_get("sha256")?,
        source_sha256: row.try_get("source_sha256")?,
        container: row.try_get("container")?,
        source_name: row.try_get("source_name")?,
        producer: row.try_get("producer")?,
        created_at: row.try_get("created_at")?,
        imported_at: row.try_get("imported_at")?,
        imported_by: row.try_get("imported_by")?,
        state: PackageState::parse(&state)
            .ok_or_else(|| StoreError::corrupt(what, format!("state `{state}`")))?,
        manifest: row.try_get("manifest")?,
        warnings: row.try_get("warnings")?,
    })
}

fn mark_from_row(task: TaskId, row: &SqliteRow) -> Result<Mark, StoreError> {
    let what = format!("review mark of {task}");
    let state: String = row.try_get("state")?;
    let shown: i64 = row.try_get("shown_rows")?;
    let carried: Option<i64> = row.try_get("carried_from")?;
    Ok(Mark {
        task,
        version: version_of(row, &what)?,
        path: row.try_get("path")?,
        person: row.try_get("person")?,
        diff_hash: row.try_get("diff_hash")?,
        state: match state.as_str() {
            "viewed" => MarkState::Viewed,
            "waived" => MarkState::Waived,
            other => return Err(StoreError::corrupt(what, format!("state `{other}`"))),
        },
        reason: row.try_get("reason")?,
        shown_rows: u32::try_from(shown).map_err(|e| StoreError::corrupt(what.clone(), e))?,
        at: row.try_get("at")?,
        carried_from: carried
            .map(u32::try_from)
            .transpose()
            .map_err(|e| StoreError::corrupt(what, e))?,
    })
}

fn comment_from_row(task: TaskId, row: &SqliteRow) -> Result<Comment, StoreError> {
    let what = format!("review comment of {task}");
    let side: String = row.try_get("side")?;
    let line: i64 = row.try_get("line")?;
    Ok(Comment {
        id: row.try_get("id")?,
        origin: row.try_get("origin")?,
        task,
        version: version_of(row, &what)?,
        path: row.try_get("path")?,
        side: match side.as_str() {
            "old" => Side::Old,
            "new" => Side::New,
            other => return Err(StoreError::corrupt(what, format!("side `{other}`"))),
        },
        line: u32::try_from(line).map_err(|e| StoreError::corrupt(what.clone(), e))?,
        line_text: row.try_get("line_text")?,
        body: row.try_get("body")?,
        author: row.try_get("author")?,
        at: row.try_get("at")?,
        outdated: row.try_get("outdated")?,
    })
}

#[async_trait]
impl ReviewStore for SqliteStore {
    async fn packages(&self, task: TaskId) -> Result<Vec<StoredPackage>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, sha256, source_sha256, container, source_name, producer, \
             created_at, imported_at, imported_by, state, manifest, warnings \
             FROM packages WHERE task_id = ?1 ORDER BY version",
        )
        .bind(task.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| package_from_row(task, row)).collect()
    }

    async fn package_files(
        &self,
        task: TaskId,
        version: u32,
    ) -> Result<Vec<StoredFile>, StoreError> {
        let rows = sqlx::query(
            "SELECT path, role, size, sha256, content FROM package_files \
             WHERE task_id = ?1 AND version = ?2 ORDER BY path",
        )
        .bind(task.to_string())
        .bind(i64::from(version))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let size: i64 = row.try_get("size")?;
                Ok(StoredFile {
                    path: row.try_get("path")?,
                    role: row.try_get("role")?,
                    size: u64::try_from(size)
                        .map_err(|e| StoreError::corrupt(format!("file size in {task}"), e))?,
                    sha256: row.try_get("sha256")?,
                    content: row.try_get("content")?,
                })
            })
            .collect()
    }

    async fn marks(&self, task: TaskId, version: u32) -> Result<Vec<Mark>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, path, person, diff_hash, state, reason, shown_rows, at, carried_from \
             FROM review_marks WHERE task_id = ?1 AND version = ?2 ORDER BY path, person",
        )
        .bind(task.to_string())
        .bind(i64::from(version))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| mark_from_row(task, row)).collect()
    }

    async fn set_mark(
        &self,
        key: (TaskId, u32, &str, &str),
        mark: Option<&Mark>,
    ) -> Result<(), StoreError> {
        let (task, version, path, person) = key;
        let mut conn = self.pool().acquire().await?;
        match mark {
            None => {
                sqlx::query(
                    "DELETE FROM review_marks WHERE task_id = ?1 AND version = ?2 AND path = ?3 \
                     AND person = ?4",
                )
                .bind(task.to_string())
                .bind(i64::from(version))
                .bind(path)
                .bind(person)
                .execute(&mut *conn)
                .await?;
            }
            Some(mark) => insert_mark(&mut conn, mark).await?,
        }
        Ok(())
    }

    async fn comments(&self, task: TaskId, version: u32) -> Result<Vec<Comment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, origin, version, path, side, line, line_text, body, author, at, outdated \
             FROM review_comments WHERE task_id = ?1 AND version = ?2 ORDER BY path, line, id",
        )
        .bind(task.to_string())
        .bind(i64::from(version))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| comment_from_row(task, row)).collect()
    }

    async fn decisions(&self, task: TaskId) -> Result<Vec<ReviewDecision>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, verdict, by, at, comment, record FROM review_decisions \
             WHERE task_id = ?1 ORDER BY at, version",
        )
        .bind(task.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let what = format!("review decision of {task}");
                let verdict: String = row.try_get("verdict")?;
                Ok(ReviewDecision {
                    task,
                    version: version_of(row, &what)?,
                    verdict: match verdict.as_str() {
                        "approve" => ReviewVerdict::Approve,
                        "rework" => ReviewVerdict::Rework,
                        "take_over" => ReviewVerdict::TakeOver,
                        other => {
                            return Err(StoreError::corrupt(what, format!("verdict `{other}`")));
                        }
                    },
                    by: row.try_get("by")?,
                    at: row.try_get("at")?,
                    comment: row.try_get("comment")?,
                    record: row.try_get("record")?,
                })
            })
            .collect()
    }

    async fn documents(&self, task: TaskId) -> Result<Vec<Document>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, kind, file_name, content, sha256, at, by FROM task_documents \
             WHERE task_id = ?1 ORDER BY seq",
        )
        .bind(task.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let what = format!("outbox document of {task}");
                let seq: i64 = row.try_get("seq")?;
                let kind: String = row.try_get("kind")?;
                Ok(Document {
                    task,
                    seq: u32::try_from(seq).map_err(|e| StoreError::corrupt(what.clone(), e))?,
                    kind: match kind.as_str() {
                        "work_order" => DocumentKind::WorkOrder,
                        "rework_brief" => DocumentKind::ReworkBrief,
                        "withdrawal" => DocumentKind::Withdrawal,
                        other => return Err(StoreError::corrupt(what, format!("kind `{other}`"))),
                    },
                    file_name: row.try_get("file_name")?,
                    content: row.try_get("content")?,
                    sha256: row.try_get("sha256")?,
                    at: row.try_get("at")?,
                    by: row.try_get("by")?,
                })
            })
            .collect()
    }

    async fn write_review(&self, write: ReviewWrite<'_>) -> Result<Task, StoreError> {
        let task_id = write.task.to_string();
        let mut tx = self.begin_write().await?;
        if let Some(new) = &write.package {
            let p = &new.package;
            let inserted = sqlx::query(
                "INSERT INTO packages (task_id, version, sha256, source_sha256, container, \
                 source_name, producer, created_at, imported_at, imported_by, state, manifest, \
                 warnings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&task_id)
            .bind(i64::from(p.version))
            .bind(&p.sha256)
            .bind(&p.source_sha256)
            .bind(&p.container)
            .bind(&p.source_name)
            .bind(&p.producer)
            .bind(p.created_at)
            .bind(p.imported_at)
            .bind(&p.imported_by)
            .bind(p.state.code())
            .bind(&p.manifest)
            .bind(&p.warnings)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                // Another console imported this version (or these very bytes) meanwhile.
                return Err(StoreError::PackageExists {
                    task: write.task,
                    version: p.version,
                });
            }
            for file in &new.files {
                sqlx::query(
                    "INSERT INTO package_files (task_id, version, path, role, size, sha256, \
                     content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .bind(&task_id)
                .bind(i64::from(p.version))
                .bind(&file.path)
                .bind(&file.role)
                .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
                .bind(&file.sha256)
                .bind(&file.content)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some((version, state)) = write.state {
            set_package_state_in(&mut tx, write.task, version, state).await?;
        }
        for mark in &write.marks {
            insert_mark(&mut tx, mark).await?;
        }
        for comment in &write.comments {
            sqlx::query(
                "INSERT INTO review_comments (origin, task_id, version, path, side, line, \
                 line_text, body, author, at, outdated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .bind(comment.origin)
            .bind(&task_id)
            .bind(i64::from(comment.version))
            .bind(&comment.path)
            .bind(comment.side.code())
            .bind(i64::from(comment.line))
            .bind(&comment.line_text)
            .bind(&comment.body)
            .bind(&comment.author)
            .bind(comment.at)
            .bind(comment.outdated)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(d) = &write.decision {
            sqlx::query(
                "INSERT INTO review_decisions (task_id, version, verdict, by, at, comment, record) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .bind(&task_id)
            .bind(i64::from(d.version))
            .bind(d.verdict.code())
            .bind(&d.by)
            .bind(d.at)
            .bind(&d.comment)
            .bind(&d.record)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(doc) = &write.document {
            insert_document_in(&mut tx, doc).await?;
        }
        if let Some((chain, version)) = write.chain {
            update_chain_in(&mut tx, write.task, chain, version, write.at).await?;
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

async fn insert_mark(conn: &mut sqlx::SqliteConnection, mark: &Mark) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO review_marks (task_id, version, path, person, diff_hash, state, reason, \
         shown_rows, at, carried_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (task_id, version, path, person) DO UPDATE SET diff_hash = excluded.diff_hash, \
         state = excluded.state, reason = excluded.reason, shown_rows = excluded.shown_rows, \
         at = excluded.at, carried_from = excluded.carried_from",
    )
    .bind(mark.task.to_string())
    .bind(i64::from(mark.version))
    .bind(&mark.path)
    .bind(&mark.person)
    .bind(&mark.diff_hash)
    .bind(mark.state.code())
    .bind(&mark.reason)
    .bind(i64::from(mark.shown_rows))
    .bind(mark.at)
    .bind(mark.carried_from.map(i64::from))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a document for the agent with the next number of its task.
pub(crate) async fn insert_document_in(
    conn: &mut sqlx::SqliteConnection,
    doc: &Document,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO task_documents (task_id, seq, kind, file_name, content, sha256, at, by) \
         SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7 \
         FROM task_documents WHERE task_id = ?1",
    )
    .bind(doc.task.to_string())
    .bind(doc.kind.code())
    .bind(&doc.file_name)
    .bind(&doc.content)
    .bind(&doc.sha256)
    .bind(doc.at)
    .bind(&doc.by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn set_package_state_in(
    conn: &mut sqlx::SqliteConnection,
    task: TaskId,
    version: u32,
    state: PackageState,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE packages SET state = ?3 WHERE task_id = ?1 AND version = ?2")
        .bind(task.to_string())
        .bind(i64::from(version))
        .bind(state.code())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
