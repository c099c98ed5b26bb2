//! Who is asking: every operation takes a [`Caller`], and the operation table checks its
//! [`Permission`] before the handler runs.
//!
//! A caller is a signed-in person (the console's session, or the CLI's `--user`), where they
//! sit, and the roles they hold with their scopes. The operation table checks that some role
//! grants the command's permission at all; operations on one system (deciding a step, routing
//! it) check the scope too ([`Caller::require_on`]).

use guardia_domain::PersonName;
pub use guardia_domain::governance::{Permission, Role, RoleGrant};

use crate::ApiError;

/// The person behind one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub person: PersonName,
    /// The machine they sit at (the audit log's "where", beside the server).
    pub workstation: String,
    pub grants: Vec<RoleGrant>,
}

impl Caller {
    /// The OS account at this machine, with every role: the stand-in until sign-in exists.
    /// Asked of the OS (passwd on Unix) first, because `USER` is often unset under services
    /// and CI; the environment is only a fallback. Without a name we cannot say who did
    /// what, so this fails rather than act anonymously.
    pub fn local_os() -> Result<Self, ApiError> {
        let from_os = whoami::username().ok();
        let from_env = ["USER", "LOGNAME", "USERNAME"]
            .into_iter()
            .filter_map(|var| std::env::var(var).ok());
        let person = from_os
            .into_iter()
            .chain(from_env)
            .find_map(|name| PersonName::parse(&name).ok())
            .ok_or(ApiError::UnknownOperator)?;
        Ok(Self::with_every_role(person))
    }

    /// `person` at this machine with every role (the local console; tests).
    pub fn with_every_role(person: PersonName) -> Self {
        Self {
            person,
            workstation: whoami::hostname().unwrap_or_else(|_| "localhost".to_owned()),
            grants: Role::ALL.into_iter().map(RoleGrant::everywhere).collect(),
        }
    }

    pub fn name(&self) -> &str {
        self.person.as_str()
    }

    /// `person` at this machine holding exactly `grants`.
    pub fn with_grants(person: PersonName, grants: Vec<RoleGrant>) -> Self {
        Self {
            grants,
            ..Self::with_every_role(person)
        }
    }

    /// Whether some role of the caller grants `permission` somewhere.
    pub fn may(&self, permission: Permission) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.role.grants(permission))
    }

    /// Whether some role grants `permission` on `system` of `institution`.
    pub fn may_on(&self, permission: Permission, institution: &str, system: &str) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.allows_on(permission, institution, system))
    }

    /// Whether the caller holds `role` with a scope over the system.
    pub fn holds_on(&self, role: Role, institution: &str, system: &str) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.role == role && grant.scope.covers(institution, system))
    }

    /// `Forbidden` unless a role grants `permission` on this very system.
    pub fn require_on(
        &self,
        permission: Permission,
        institution: &str,
        system: &str,
    ) -> Result<(), ApiError> {
        if self.may_on(permission, institution, system) {
            Ok(())
        } else {
            Err(self.forbidden(permission))
        }
    }

    /// `Forbidden` unless one of the caller's roles grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(self.forbidden(permission))
        }
    }

    fn forbidden(&self, permission: Permission) -> ApiError {
        ApiError::Forbidden {
            person: self.person.to_string(),
            permission,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_auditor_reads_and_verifies_but_cannot_touch_servers() {
        let auditor = Caller {
            person: PersonName::parse("kim").unwrap(),
            workstation: "ws-1".into(),
            grants: vec![RoleGrant::everywhere(Role::Auditor)],
        };
        assert!(auditor.may(Permission::ReadAudit));
        assert!(auditor.may(Permission::SignAudit));
        assert!(!auditor.may(Permission::RunRemote));
        assert!(!auditor.may(Permission::EditInventory));
        assert!(!auditor.may(Permission::AcknowledgeAudit));
        assert!(matches!(
            auditor.require(Permission::RunRemote),
            Err(ApiError::Forbidden { .. })
        ));
    }

    #[test]
    fn the_local_console_may_do_everything_until_sign_in_exists() {
        let local = Caller::with_every_role(PersonName::parse("operator").unwrap());
        for permission in [
            Permission::WriteTasks,
            Permission::DecideApprovals,
            Permission::AcknowledgeAudit,
            Permission::RunRemote,
            Permission::ManageCredentials,
        ] {
            assert!(local.may(permission), "{permission:?}");
        }
    }
}
