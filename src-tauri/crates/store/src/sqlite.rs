//! The embedded SQLite implementation of [`Store`].

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use guardia_domain::{
    Category, NewTask, PersonName, Priority, RequestText, SubType, SystemName, Task, TaskEvent,
    TaskId, TaskStatus, TimelineEntry, TimelineKind, Title, Transition,
};
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use tokio::sync::watch;

use crate::sqlite_audit::append_in;
use crate::{AuditFor, AuditHead, PreferenceStore, Store, StoreError, TaskFilter, TaskStore};

static MIGRATOR: Migrator = sqlx::migrate!("../../../migrations/sqlite");

/// How long a writer waits for another process (the CLI, a second console) to release the
/// write lock. Writers queue: the longest write is a 100,000-server import (well under a
/// minute here), so the wait is sized to outlast it rather than fail a user's change.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(180);

/// The columns of a task row, in the order [`task_from_row`] reads them by name.
macro_rules! task_columns {
    () => {
        "id, title, category, sub_type, system, request, requester, priority, status, created_at, \
         updated_at"
    };
}

/// GUARDiA's state in one SQLite file.
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
    /// The audit log's size as this process last saw it committed: moved after each of our
    /// own commits and when [`AuditStore::notice_external`] finds another process's.
    committed: watch::Sender<u64>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    ///
    /// WAL lets the console read while the CLI writes; `synchronous=FULL` because a control
    /// room must not lose an approval or a rollout step to a power cut.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(BUSY_TIMEOUT + Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        let size: i64 = sqlx::query_scalar("SELECT size FROM audit_tree WHERE id = 1")
            .fetch_one(&pool)
            .await?;
        tracing::info!(path = %path.display(), "database open");
        Ok(Self {
            pool,
            path: path.to_owned(),
            committed: watch::Sender::new(u64::try_from(size).unwrap_or(0)),
        })
    }

    /// Closes every connection, checkpointing the WAL into the main file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction that takes the write lock at once, so it waits (up to the busy
    /// timeout) instead of failing half-way when another process is writing.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db)
                    if matches!(db.code().as_deref(), Some("5" | "517" | "261")) =>
                {
                    StoreError::Busy(BUSY_TIMEOUT.as_secs())
                }
                sqlx::Error::PoolTimedOut => StoreError::Busy(BUSY_TIMEOUT.as_secs()),
                _ => e.into(),
            })
    }

    /// Commits a change that appended to the audit log, then wakes this process's feed
    /// subscribers. Every audited write ends here, so no writer can forget to.
    pub(crate) async fn commit(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Sqlite>,
        head: AuditHead,
    ) -> Result<(), StoreError> {
        tx.commit().await?;
        self.saw_size(head.size);
        Ok(())
    }

    /// Moves the committed size forward (never back) and wakes subscribers if it moved.
    pub(crate) fn saw_size(&self, size: u64) -> bool {
        self.committed.send_if_modified(|seen| {
            if size > *seen {
                *seen = size;
                true
            } else {
                false
            }
        })
    }

    pub(crate) fn committed_feed(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }
}

fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn task_from_row(row: &SqliteRow) -> Result<Task, StoreError> {
    let raw_id: String = row.try_get("id")?;
    let id = TaskId::from_str(&raw_id).map_err(|e| StoreError::corrupt("task id", e))?;
    let field = |name: &str| format!("{name} of task {id}");
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get(name)?) };

    let title =
        Title::parse(&text("title")?).map_err(|e| StoreError::corrupt(field("title"), e))?;
    let category = Category::from_str(&text("category")?)
        .map_err(|e| StoreError::corrupt(field("category"), e))?;
    let sub_type = row
        .try_get::<Option<String>, _>("sub_type")?
        .map(|raw| SubType::parse(&raw))
        .transpose()
        .map_err(|e| StoreError::corrupt(field("sub_type"), e))?;
    let system =
        SystemName::parse(&text("system")?).map_err(|e| StoreError::corrupt(field("system"), e))?;
    let request = RequestText::parse(&text("request")?)
        .map_err(|e| StoreError::corrupt(field("request"), e))?;
    let requester = PersonName::parse(&text("requester")?)
        .map_err(|e| StoreError::corrupt(field("requester"), e))?;
    let status = parse_status(&text("status")?, || field("status"))?;
    let priority = Priority::parse(&text("priority")?)
        .ok_or_else(|| StoreError::corrupt(field("priority"), "unknown priority"))?;
    Ok(Task {
        id,
        title,
        category,
        sub_type,
        system,
        request,
        requester,
        priority,
        status,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn parse_status(code: &str, what: impl Fn() -> String) -> Result<TaskStatus, StoreError> {
    TaskStatus::from_code(code)
        .ok_or_else(|| StoreError::corrupt(what(), format!("unknown status `{code}`")))
}

fn timeline_entry_from_row(id: TaskId, row: &SqliteRow) -> Result<TimelineEntry, StoreError> {
    let seq: i64 = row.try_get("id")?;
    let what = || format!("timeline entry {seq} of task {id}");
    let kind: String = row.try_get("kind")?;
    let kind = match kind.as_str() {
        "created" => TimelineKind::Created,
        "transition" => {
            let code = |column: &str| -> Result<String, StoreError> {
                row.try_get::<Option<String>, _>(column)?
                    .ok_or_else(|| StoreError::corrupt(what(), format!("{column} is missing")))
            };
            let from = parse_status(&code("from_status")?, what)?;
            let to = parse_status(&code("to_status")?, what)?;
            let event_code = code("event")?;
            let event = TaskEvent::from_code(&event_code).ok_or_else(|| {
                StoreError::corrupt(what(), format!("unknown event `{event_code}`"))
            })?;
            // A stored transition the state machine would refuse means the history was
            // edited: report it rather than show an impossible timeline.
            match from.apply(event) {
                Ok(checked) if checked.to == to => TimelineKind::Transition(checked),
                _ => {
                    return Err(StoreError::corrupt(
                        what(),
                        format!("{from} --{event}--> {to} is not a legal transition"),
                    ));
                }
            }
        }
        other => {
            return Err(StoreError::corrupt(
                what(),
                format!("unknown kind `{other}`"),
            ));
        }
    };
    let actor: String = row.try_get("actor")?;
    Ok(TimelineEntry {
        at: row.try_get("at")?,
        actor: PersonName::parse(&actor).map_err(|e| StoreError::corrupt(what(), e))?,
        kind,
        note: row.try_get("note")?,
    })
}

pub(crate) async fn task_in(
    conn: &mut SqliteConnection,
    id: TaskId,
) -> Result<Option<Task>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        task_columns!(),
        " FROM tasks WHERE id = ?1"
    ))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(task_from_row).transpose()
}

/// Escapes `%`, `_` and `\` so a search for `50%` finds "50%" and not everything.
/// Moves a task along a checked transition if it is still in `transition.from`, with its
/// timeline entry; the caller's transaction appends the audit entry and commits.
pub(crate) async fn move_task_in(
    conn: &mut SqliteConnection,
    id: TaskId,
    transition: Transition,
    actor: &PersonName,
    note: &str,
    at: DateTime<Utc>,
) -> Result<Task, StoreError> {
    let moved =
        sqlx::query("UPDATE tasks SET status = ?1, updated_at = ?2 WHERE id = ?3 AND status = ?4")
            .bind(transition.to.code())
            .bind(at)
            .bind(id.to_string())
            .bind(transition.from.code())
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if moved == 0 {
        return Err(match task_in(conn, id).await? {
            None => StoreError::TaskNotFound(id),
            Some(task) => StoreError::Conflict {
                id,
                expected: transition.from,
                actual: task.status,
            },
        });
    }
    sqlx::query(
        "INSERT INTO task_events (task_id, at, actor, kind, from_status, to_status, event, note) \
         VALUES (?1, ?2, ?3, 'transition', ?4, ?5, ?6, ?7)",
    )
    .bind(id.to_string())
    .bind(at)
    .bind(actor.as_str().to_owned())
    .bind(transition.from.code())
    .bind(transition.to.code())
    .bind(transition.event.code())
    .bind(note.to_owned())
    .execute(&mut *conn)
    .await?;
    let task = task_in(conn, id)
        .await?
        .ok_or(StoreError::TaskNotFound(id))?;
    Ok(task)
}

pub(crate) fn like_pattern(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl TaskStore for SqliteStore {
    async fn insert_task(
        &self,
        task: &NewTask,
        day: NaiveDate,
        at: DateTime<Utc>,
        actor: &PersonName,
        audit: AuditFor<'_, Task>,
    ) -> Result<Task, StoreError> {
        let mut tx = self.begin_write().await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO task_day_counters (day, last_seq) VALUES (?1, 1) \
             ON CONFLICT (day) DO UPDATE SET last_seq = last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(day_key(day))
        .fetch_one(&mut *tx)
        .await?;
        let id = u32::try_from(seq)
            .ok()
            .and_then(|seq| TaskId::new(day, seq))
            .ok_or_else(|| StoreError::corrupt("task day counter", format!("sequence {seq}")))?;

        sqlx::query(
            "INSERT INTO tasks (id, day, seq, title, category, sub_type, system, request, \
             requester, status, created_at, updated_at, priority) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
        )
        .bind(id.to_string())
        .bind(day_key(day))
        .bind(seq)
        .bind(task.title.as_str().to_owned())
        .bind(task.category.code())
        .bind(task.sub_type.as_ref().map(|s| s.as_str().to_owned()))
        .bind(task.system.as_str().to_owned())
        .bind(task.request.as_str().to_owned())
        .bind(task.requester.as_str().to_owned())
        .bind(TaskStatus::Received.code())
        .bind(at)
        .bind(task.priority.code())
        .execute(&mut *tx)
        .await?;

        sqlx::query(
            "INSERT INTO task_events (task_id, at, actor, kind) VALUES (?1, ?2, ?3, 'created')",
        )
        .bind(id.to_string())
        .bind(at)
        .bind(actor.as_str().to_owned())
        .execute(&mut *tx)
        .await?;

        let stored = task_in(&mut tx, id)
            .await?
            .ok_or(StoreError::TaskNotFound(id))?;
        let head = append_in(&mut tx, &[audit(&stored)]).await?;
        self.commit(tx, head).await?;
        Ok(stored)
    }

    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks \
              WHERE (?1 IS NULL OR status = ?1) \
                AND (?2 IS NULL OR category = ?2) \
                AND (?3 = '' OR id LIKE ?3 ESCAPE '\\' OR title LIKE ?3 ESCAPE '\\' \
                     OR system LIKE ?3 ESCAPE '\\' OR requester LIKE ?3 ESCAPE '\\') \
              ORDER BY day DESC, seq DESC \
              LIMIT ?4"
        ))
        .bind(filter.status.map(TaskStatus::code))
        .bind(filter.category.map(Category::code))
        .bind(like_pattern(&filter.text))
        .bind(i64::from(filter.limit.min(TaskFilter::MAX_LIMIT)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(task_from_row).collect()
    }

    async fn task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        task_in(&mut conn, id).await
    }

    async fn timeline(&self, id: TaskId) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, kind, from_status, to_status, event, note \
             FROM task_events WHERE task_id = ?1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| timeline_entry_from_row(id, row))
            .collect()
    }

    async fn record_transition(
        &self,
        id: TaskId,
        transition: Transition,
        actor: &PersonName,
        note: &str,
        at: DateTime<Utc>,
        audit: AuditFor<'_, Task>,
    ) -> Result<Task, StoreError> {
        let mut tx = self.begin_write().await?;
        let task = move_task_in(&mut tx, id, transition, actor, note, at).await?;
        let head = append_in(&mut tx, &[audit(&task)]).await?;
        self.commit(tx, head).await?;
        Ok(task)
    }

    async fn count_tasks(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[async_trait]
impl PreferenceStore for SqliteStore {
    async fn preference(&self, owner: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM preferences WHERE owner = ?1 AND key = ?2")
                .bind(owner.to_owned())
                .bind(key.to_owned())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_preference(&self, owner: &str, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO preferences (owner, key, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (owner, key) DO UPDATE SET value = excluded.value",
        )
        .bind(owner.to_owned())
        .bind(key.to_owned())
        .bind(value.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("  "), "");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
