//! Who is asking: every operation takes a [`Caller`], and the operation table checks its
//! [`Permission`] before the handler runs.
//!
//! Until sign-in arrives (governance) the caller is the OS account at this workstation, with
//! every role. The shape is already the one governance needs: a person, where they sit, and
//! roles that grant permissions — so checks written now keep their meaning later.

use guardia_domain::PersonName;

use crate::ApiError;

/// The roles of SPEC §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Requester,
    TeamLead,
    Pm,
    Operator,
    SecurityOfficer,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Requester,
        Role::TeamLead,
        Role::Pm,
        Role::Operator,
        Role::SecurityOfficer,
        Role::Auditor,
        Role::Admin,
    ];

    /// What this role may do. Pure, exhaustive: a new permission must be placed here.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission as P;
        match permission {
            // Everyone who can sign in may read tasks, the log and the integrity panel, and
            // set their own preferences.
            P::ReadTasks | P::ReadAudit | P::OwnPreferences | P::FollowJobs => true,
            P::WriteTasks => matches!(
                self,
                Role::Requester | Role::TeamLead | Role::Pm | Role::Admin
            ),
            P::SignAudit | P::ExportAudit => {
                matches!(self, Role::Auditor | Role::Admin | Role::SecurityOfficer)
            }
            P::AcknowledgeAudit => matches!(self, Role::Admin),
            P::ReadInventory => !matches!(self, Role::Requester),
            P::EditInventory | P::ManageCredentials | P::TrustHostKeys => {
                matches!(self, Role::Admin)
            }
            P::RunRemote => matches!(self, Role::Operator | Role::Admin),
        }
    }
}

/// What an operation requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ReadTasks,
    WriteTasks,
    ReadAudit,
    SignAudit,
    ExportAudit,
    AcknowledgeAudit,
    ReadInventory,
    EditInventory,
    ManageCredentials,
    TrustHostKeys,
    /// Checks and ad-hoc commands on servers.
    RunRemote,
    /// See and cancel one's jobs.
    FollowJobs,
    OwnPreferences,
}

/// The person behind one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub person: PersonName,
    /// The machine they sit at (the audit log's "where", beside the server).
    pub workstation: String,
    pub roles: Vec<Role>,
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
            roles: Role::ALL.to_vec(),
        }
    }

    pub fn name(&self) -> &str {
        self.person.as_str()
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.roles.iter().any(|role| role.grants(permission))
    }

    /// `Forbidden` unless one of the caller's roles grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                person: self.person.to_string(),
                permission,
            })
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
            roles: vec![Role::Auditor],
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
            Permission::AcknowledgeAudit,
            Permission::RunRemote,
            Permission::ManageCredentials,
        ] {
            assert!(local.may(permission), "{permission:?}");
        }
    }
}
