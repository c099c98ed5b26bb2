//! People who sign in, and the roles they hold: the storage interface.
//!
//! The password is kept only as its Argon2id PHC string (made and checked in the API); the
//! lockout counter sits beside it so a failure and its audit entry land in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guardia_domain::PersonName;
use guardia_domain::governance::{Attempts, RoleGrant};

use crate::{AuditFor, StoreError};

/// A person as stored, with the hash the API checks a password against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPerson {
    pub name: PersonName,
    pub display_name: String,
    /// Argon2id PHC string. Never leaves the API.
    pub password_hash: String,
    pub grants: Vec<RoleGrant>,
    pub attempts: Attempts,
    /// Set while an admin has locked the account, with their reason.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A person to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub name: PersonName,
    pub display_name: String,
    pub password_hash: String,
    pub grants: Vec<RoleGrant>,
}

/// What changes about an existing person, with its audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonChange {
    /// The roles are replaced by these.
    Grants(Vec<RoleGrant>),
    /// The sign-in counter after an attempt (success, failure or lockout).
    Attempts(Attempts),
    /// An admin locks (`Some(reason)`) or unlocks (`None`) the account; unlocking also
    /// clears the failure counter.
    Disabled(Option<String>),
    /// A new Argon2id hash.
    Password(String),
}

/// People and their roles.
#[async_trait]
pub trait PeopleStore: Send + Sync {
    /// How many people exist (none: the console is still in set-up).
    async fn count_people(&self) -> Result<u64, StoreError>;

    /// Adds a person with their roles and the audit entry, in one transaction.
    /// [`StoreError::PersonExists`] if the name is taken.
    async fn insert_person(
        &self,
        person: &NewPerson,
        at: DateTime<Utc>,
        audit: AuditFor<'_, StoredPerson>,
    ) -> Result<StoredPerson, StoreError>;

    /// Adds the first person only if there is nobody yet ([`StoreError::PersonExists`]
    /// naming who is there otherwise): two consoles racing at first run get one admin.
    async fn insert_first_person(
        &self,
        person: &NewPerson,
        at: DateTime<Utc>,
        audit: AuditFor<'_, StoredPerson>,
    ) -> Result<StoredPerson, StoreError>;

    async fn person(&self, name: &str) -> Result<Option<StoredPerson>, StoreError>;

    /// Everybody, by name.
    async fn people(&self) -> Result<Vec<StoredPerson>, StoreError>;

    /// Applies `change` and appends the entry `audit` makes of the person before and after.
    async fn change_person(
        &self,
        name: &str,
        change: PersonChange,
        at: DateTime<Utc>,
        audit: AuditFor<'_, (StoredPerson, StoredPerson)>,
    ) -> Result<StoredPerson, StoreError>;
}
