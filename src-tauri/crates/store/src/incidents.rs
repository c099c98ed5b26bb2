//! Incidents: the storage interface (issue 14).
//!
//! An incident is stored whole (the domain's [`Incident`]) with its revision; every change is
//! compare-and-set on that revision and lands with its audit entries in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use guardia_audit::EntryDraft;
use guardia_domain::incident::{Incident, IncidentId};

use crate::StoreError;

/// An incident as stored: the incident and the revision a change must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIncident {
    pub incident: Incident,
    pub revision: u64,
}

/// Which incidents to list, newest first. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Opened at or after.
    pub since: Option<DateTime<Utc>>,
    /// Opened before.
    pub until: Option<DateTime<Utc>>,
    /// Only those not closed.
    pub open_only: bool,
    pub limit: u32,
}

impl IncidentFilter {
    pub const MAX_LIMIT: u32 = 10_000;
}

/// Makes a new incident (and its audit entries) once the store has chosen its id.
pub type MakeIncident<'a> =
    &'a (dyn Fn(IncidentId) -> Result<(Incident, Vec<EntryDraft>), StoreError> + Send + Sync);

#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Stores a new incident as the next of day `day` (UTC), unless an incident with the same
    /// cause key exists already (then `None`, nothing written: that cause is handled).
    async fn insert_incident(
        &self,
        day: NaiveDate,
        cause_key: Option<&str>,
        make: MakeIncident<'_>,
    ) -> Result<Option<StoredIncident>, StoreError>;

    /// Replaces an incident if it is still at `revision` (else `IncidentChanged`), with its
    /// audit entries, in one transaction. Returns the new revision.
    async fn update_incident(
        &self,
        incident: &Incident,
        revision: u64,
        audit: &[EntryDraft],
    ) -> Result<u64, StoreError>;

    async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, StoreError>;

    /// The incident a cause key opened, if any.
    async fn incident_by_cause(&self, key: &str) -> Result<Option<StoredIncident>, StoreError>;

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<StoredIncident>, StoreError>;

    /// A named value of the incident desk (`settings`, `scan_cursor`).
    async fn incident_value(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Sets a named value; with audit entries, in one transaction with them.
    async fn set_incident_value(
        &self,
        key: &str,
        value: &str,
        audit: &[EntryDraft],
    ) -> Result<(), StoreError>;
}
