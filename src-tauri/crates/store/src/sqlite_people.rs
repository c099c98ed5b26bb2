//! [`PeopleStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_domain::PersonName;
use guardia_domain::governance::{Attempts, Role, RoleGrant, Scope};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use crate::people::{NewPerson, PeopleStore, PersonChange, StoredPerson};
use crate::sqlite_audit::append_in;
use crate::{AuditFor, SqliteStore, StoreError};

macro_rules! person_select {
    () => {
        "SELECT name, display_name, password_hash, failures, locked_until, disabled_reason, \
         created_at, updated_at FROM people "
    };
}

fn person_from_row(row: &SqliteRow, grants: Vec<RoleGrant>) -> Result<StoredPerson, StoreError> {
    let raw: String = row.try_get("name")?;
    let name =
        PersonName::parse(&raw).map_err(|e| StoreError::corrupt(format!("person {raw}"), e))?;
    let failures: i64 = row.try_get("failures")?;
    Ok(StoredPerson {
        name,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        grants,
        attempts: Attempts {
            failures: u32::try_from(failures)
                .map_err(|_| StoreError::corrupt(format!("person {raw}"), "failure count"))?,
            locked_until: row.try_get("locked_until")?,
        },
        disabled_reason: row.try_get("disabled_reason")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A grant as its three columns: institution and system `''` where the scope is wider.
fn grant_columns(grant: &RoleGrant) -> (&'static str, &str, &str) {
    match &grant.scope {
        Scope::Everywhere => (grant.role.code(), "", ""),
        Scope::Institution { institution } => (grant.role.code(), institution, ""),
        Scope::System {
            institution,
            system,
        } => (grant.role.code(), institution, system),
    }
}

fn grant_from_row(row: &SqliteRow) -> Result<RoleGrant, StoreError> {
    let person: String = row.try_get("person")?;
    let role: String = row.try_get("role")?;
    let institution: String = row.try_get("institution")?;
    let system: String = row.try_get("system")?;
    let role = Role::parse(&role)
        .ok_or_else(|| StoreError::corrupt(format!("roles of {person}"), role.clone()))?;
    let scope = match (institution.is_empty(), system.is_empty()) {
        (true, true) => Scope::Everywhere,
        (false, true) => Scope::Institution { institution },
        (false, false) => Scope::System {
            institution,
            system,
        },
        (true, false) => {
            return Err(StoreError::corrupt(
                format!("roles of {person}"),
                "a system without its institution",
            ));
        }
    };
    Ok(RoleGrant { role, scope })
}

async fn grants_in(conn: &mut SqliteConnection, name: &str) -> Result<Vec<RoleGrant>, StoreError> {
    let rows = sqlx::query(
        "SELECT person, role, institution, system FROM role_grants WHERE person = ?1 \
         ORDER BY role, institution, system",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

async fn person_in(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<StoredPerson>, StoreError> {
    let row = sqlx::query(concat!(person_select!(), "WHERE name = ?1"))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(None),
        Some(row) => {
            let grants = grants_in(conn, name).await?;
            person_from_row(&row, grants).map(Some)
        }
    }
}

async fn write_grants(
    conn: &mut SqliteConnection,
    name: &str,
    grants: &[RoleGrant],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM role_grants WHERE person = ?1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    for grant in grants {
        let (role, institution, system) = grant_columns(grant);
        sqlx::query(
            "INSERT OR IGNORE INTO role_grants (person, role, institution, system) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(name)
        .bind(role)
        .bind(institution)
        .bind(system)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl SqliteStore {
    async fn insert_person_where(
        &self,
        person: &NewPerson,
        at: DateTime<Utc>,
        audit: AuditFor<'_, StoredPerson>,
        only_first: bool,
    ) -> Result<StoredPerson, StoreError> {
        let mut tx = self.begin_write().await?;
        if only_first {
            let someone: Option<String> =
                sqlx::query_scalar("SELECT name FROM people ORDER BY created_at LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(someone) = someone {
                return Err(StoreError::PersonExists(someone));
            }
        }
        let name = person.name.as_str();
        let inserted = sqlx::query(
            "INSERT INTO people (name, display_name, password_hash, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(person.display_name.as_str())
        .bind(person.password_hash.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::PersonExists(name.to_owned()));
        }
        write_grants(&mut tx, name, &person.grants).await?;
        let stored = person_in(&mut tx, name)
            .await?
            .ok_or_else(|| StoreError::PersonNotFound(name.to_owned()))?;
        let head = append_in(&mut tx, &[audit(&stored)]).await?;
        self.commit(tx, head).await?;
        Ok(stored)
    }
}

#[async_trait]
impl PeopleStore for SqliteStore {
    async fn count_people(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn insert_person(
        &self,
        person: &NewPerson,
        at: DateTime<Utc>,
        audit: AuditFor<'_, StoredPerson>,
    ) -> Result<StoredPerson, StoreError> {
        self.insert_person_where(person, at, audit, false).await
    }

    async fn insert_first_person(
        &self,
        person: &NewPerson,
        at: DateTime<Utc>,
        audit: AuditFor<'_, StoredPerson>,
    ) -> Result<StoredPerson, StoreError> {
        self.insert_person_where(person, at, audit, true).await
    }

    async fn person(&self, name: &str) -> Result<Option<StoredPerson>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        person_in(&mut conn, name).await
    }

    async fn people(&self) -> Result<Vec<StoredPerson>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM people ORDER BY name")
            .fetch_all(&mut *conn)
            .await?;
        let mut people = Vec::with_capacity(names.len());
        for name in names {
            if let Some(person) = person_in(&mut conn, &name).await? {
                people.push(person);
            }
        }
        Ok(people)
    }

    async fn change_person(
        &self,
        name: &str,
        change: PersonChange,
        at: DateTime<Utc>,
        audit: AuditFor<'_, (StoredPerson, StoredPerson)>,
    ) -> Result<StoredPerson, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = person_in(&mut tx, name)
            .await?
            .ok_or_else(|| StoreError::PersonNotFound(name.to_owned()))?;
        match &change {
            PersonChange::Grants(grants) => write_grants(&mut tx, name, grants).await?,
            PersonChange::Attempts(attempts) => {
                sqlx::query("UPDATE people SET failures = ?2, locked_until = ?3 WHERE name = ?1")
                    .bind(name)
                    .bind(i64::from(attempts.failures))
                    .bind(attempts.locked_until)
                    .execute(&mut *tx)
                    .await?;
            }
            PersonChange::Disabled(reason) => {
                // Unlocking gives the person a clean start: no counted failures, no lockout.
                sqlx::query(
                    "UPDATE people SET disabled_reason = ?2, \
                     failures = CASE WHEN ?2 IS NULL THEN 0 ELSE failures END, \
                     locked_until = CASE WHEN ?2 IS NULL THEN NULL ELSE locked_until END \
                     WHERE name = ?1",
                )
                .bind(name)
                .bind(reason.as_deref())
                .execute(&mut *tx)
                .await?;
            }
            PersonChange::Password(hash) => {
                sqlx::query("UPDATE people SET password_hash = ?2 WHERE name = ?1")
                    .bind(name)
                    .bind(hash.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE people SET updated_at = ?2 WHERE name = ?1")
            .bind(name)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let after = person_in(&mut tx, name)
            .await?
            .ok_or_else(|| StoreError::PersonNotFound(name.to_owned()))?;
        let head = append_in(&mut tx, &[audit(&(before, after.clone()))]).await?;
        self.commit(tx, head).await?;
        Ok(after)
    }
}
