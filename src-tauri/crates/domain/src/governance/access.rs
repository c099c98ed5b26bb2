//! Roles, the scopes they hold in, and the permissions they grant (SPEC §1).
//!
//! A person holds one or more [`RoleGrant`]s: a role plus where it applies. A team lead of
//! `hr-portal` at 행정안전부 decides nothing about another institution's systems. The
//! permission table ([`Role::grants`]) is pure and exhaustive, shared by the backend (the
//! guard) and the UI (which only hides what the backend would refuse).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The roles of SPEC §1. A person may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Requester,
    TeamLead,
    Pm,
    Operator,
    SecurityOfficer,
    Auditor,
    Admin,
    /// Legal counsel / data protection officer: signs regulatory incident reports off.
    LegalDpo,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Requester,
        Role::TeamLead,
        Role::Pm,
        Role::Operator,
        Role::SecurityOfficer,
        Role::Auditor,
        Role::Admin,
        Role::LegalDpo,
    ];

    /// The wire and database spelling, e.g. `team_lead`.
    pub fn code(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::TeamLead => "team_lead",
            Role::Pm => "pm",
            Role::Operator => "operator",
            Role::SecurityOfficer => "security_officer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::LegalDpo => "legal_dpo",
        }
    }

    /// As stored, or as typed at a prompt (`team-lead`, `TEAM_LEAD`).
    pub fn parse(raw: &str) -> Option<Role> {
        let wanted = raw.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL.into_iter().find(|role| role.code() == wanted)
    }

    /// Whether a grant of this role is limited to institutions/systems. Auditors and admins
    /// act on the whole console (an auditor verifies the whole log; an admin manages people).
    pub fn is_scoped(self) -> bool {
        match self {
            Role::Requester
            | Role::TeamLead
            | Role::Pm
            | Role::Operator
            | Role::SecurityOfficer => true,
            Role::Auditor | Role::Admin | Role::LegalDpo => false,
        }
    }

    /// What this role may do. Pure, exhaustive: a new permission must be placed here.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission as P;
        match permission {
            // Everyone who can sign in may read tasks, the log and the integrity panel, see
            // their inbox and jobs, and set their own preferences.
            P::ReadTasks | P::ReadAudit | P::OwnPreferences | P::FollowJobs | P::ReadInbox => true,
            P::WriteTasks => matches!(self, Role::Requester | Role::TeamLead | Role::Pm),
            P::DecideApprovals => {
                matches!(self, Role::TeamLead | Role::Pm | Role::SecurityOfficer)
            }
            P::SignAudit | P::ExportAudit => {
                matches!(self, Role::Auditor | Role::Admin | Role::SecurityOfficer)
            }
            P::AcknowledgeAudit => matches!(self, Role::Admin),
            P::ReadInventory => !matches!(self, Role::Requester),
            // Owners set themselves away and name their deputy; the backend checks that the
            // caller is the owner (or an admin) of that very system.
            P::RouteOwnSystems => matches!(self, Role::TeamLead | Role::Admin),
            P::EditInventory
            | P::ManageCredentials
            | P::TrustHostKeys
            | P::ManagePeople
            | P::EditGovernance => matches!(self, Role::Admin),
            P::RunRemote => matches!(self, Role::Operator | Role::Admin),
            // Whoever carries the agent's work in: the PM, an operator at the inbox, an admin.
            P::ImportPackages => matches!(self, Role::Pm | Role::Operator | Role::Admin),
            P::ReviewResults => matches!(self, Role::Pm),
            P::RunRollouts => matches!(self, Role::Operator),
            // Whoever watches the fleet may stop it; only security decides it may go again.
            P::PressKillSwitch => matches!(self, Role::Operator | Role::SecurityOfficer),
            P::RearmKillSwitch => matches!(self, Role::SecurityOfficer),
            // Everyone sees incidents (the banner of overdue reports is on every screen).
            P::ReadIncidents => true,
            // Whoever may be on call runs incidents; requesters and auditors watch.
            P::RunIncidents => !matches!(self, Role::Requester | Role::Auditor),
            P::SignOffReports => matches!(self, Role::LegalDpo),
            P::EditIncidentSettings => matches!(self, Role::Admin),
            // The evidence pack and statistics go to auditors, legal and management.
            P::ExportIncidents => !matches!(self, Role::Requester),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What an operation requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ReadTasks,
    WriteTasks,
    /// See what waits for oneself.
    ReadInbox,
    /// Approve, reject or return a step one holds.
    DecideApprovals,
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
    /// Accounts, roles and scopes.
    ManagePeople,
    /// Approval chains, owners, SLAs, deploy windows, sensitivity.
    EditGovernance,
    /// Away and deputy for the systems one owns.
    RouteOwnSystems,
    /// Bring a result package in (file dialog, inbox folder, CLI).
    ImportPackages,
    /// Mark files viewed, comment, and decide a result package (the PM's review).
    ReviewResults,
    /// Start, steer and roll back rollouts.
    RunRollouts,
    /// Press the kill switch.
    PressKillSwitch,
    /// Re-arm the kill switch after it was pressed.
    RearmKillSwitch,
    ReadIncidents,
    /// Open, acknowledge, steer, update incidents; the checklist and the postmortem.
    RunIncidents,
    /// Sign a regulatory report off as submitted (legal/DPO).
    SignOffReports,
    /// Targets, escalation matrix, contacts, on-call roster.
    EditIncidentSettings,
    /// Evidence packs and statistics.
    ExportIncidents,
}

impl Permission {
    pub const ALL: [Permission; 28] = [
        Permission::ReadTasks,
        Permission::WriteTasks,
        Permission::ReadInbox,
        Permission::DecideApprovals,
        Permission::ReadAudit,
        Permission::SignAudit,
        Permission::ExportAudit,
        Permission::AcknowledgeAudit,
        Permission::ReadInventory,
        Permission::EditInventory,
        Permission::ManageCredentials,
        Permission::TrustHostKeys,
        Permission::RunRemote,
        Permission::FollowJobs,
        Permission::OwnPreferences,
        Permission::ManagePeople,
        Permission::EditGovernance,
        Permission::RouteOwnSystems,
        Permission::ImportPackages,
        Permission::ReviewResults,
        Permission::RunRollouts,
        Permission::PressKillSwitch,
        Permission::RearmKillSwitch,
        Permission::ReadIncidents,
        Permission::RunIncidents,
        Permission::SignOffReports,
        Permission::EditIncidentSettings,
        Permission::ExportIncidents,
    ];

    /// The name the `FORBIDDEN` message gives, e.g. `decide_approvals`.
    pub fn code(self) -> &'static str {
        match self {
            Permission::ReadTasks => "read_tasks",
            Permission::WriteTasks => "write_tasks",
            Permission::ReadInbox => "read_inbox",
            Permission::DecideApprovals => "decide_approvals",
            Permission::ReadAudit => "read_audit",
            Permission::SignAudit => "sign_audit",
            Permission::ExportAudit => "export_audit",
            Permission::AcknowledgeAudit => "acknowledge_audit",
            Permission::ReadInventory => "read_inventory",
            Permission::EditInventory => "edit_inventory",
            Permission::ManageCredentials => "manage_credentials",
            Permission::TrustHostKeys => "trust_host_keys",
            Permission::RunRemote => "run_remote",
            Permission::FollowJobs => "follow_jobs",
            Permission::OwnPreferences => "own_preferences",
            Permission::ManagePeople => "manage_people",
            Permission::EditGovernance => "edit_governance",
            Permission::RouteOwnSystems => "route_own_systems",
            Permission::ImportPackages => "import_packages",
            Permission::ReviewResults => "review_results",
            Permission::RunRollouts => "run_rollouts",
            Permission::PressKillSwitch => "press_kill_switch",
            Permission::RearmKillSwitch => "rearm_kill_switch",
            Permission::ReadIncidents => "read_incidents",
            Permission::RunIncidents => "run_incidents",
            Permission::SignOffReports => "sign_off_reports",
            Permission::EditIncidentSettings => "edit_incident_settings",
            Permission::ExportIncidents => "export_incidents",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where a role applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum Scope {
    /// Every institution and system.
    Everywhere,
    /// Every system of one institution.
    Institution { institution: String },
    /// One system.
    System { institution: String, system: String },
}

impl Scope {
    /// Whether this scope reaches `system` of `institution`.
    pub fn covers(&self, institution: &str, system: &str) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Institution { institution: i } => i == institution,
            Scope::System {
                institution: i,
                system: s,
            } => i == institution && s == system,
        }
    }

    /// `*`, `institution` or `institution/system`, as the CLI takes and prints it.
    pub fn parse(raw: &str) -> Option<Scope> {
        let raw = raw.trim();
        if raw == "*" || raw.is_empty() {
            return Some(Scope::Everywhere);
        }
        match raw.split_once('/') {
            None => Some(Scope::Institution {
                institution: raw.to_owned(),
            }),
            Some((institution, system)) => {
                let (institution, system) = (institution.trim(), system.trim());
                if institution.is_empty() || system.is_empty() || system.contains('/') {
                    return None;
                }
                Some(Scope::System {
                    institution: institution.to_owned(),
                    system: system.to_owned(),
                })
            }
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Everywhere => f.write_str("*"),
            Scope::Institution { institution } => f.write_str(institution),
            Scope::System {
                institution,
                system,
            } => write!(f, "{institution}/{system}"),
        }
    }
}

/// One role a person holds, and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    pub scope: Scope,
}

impl RoleGrant {
    /// `role` everywhere (unscoped roles are always this).
    pub fn everywhere(role: Role) -> Self {
        Self {
            role,
            scope: Scope::Everywhere,
        }
    }

    /// Whether this grant gives `permission` on `system` of `institution`.
    pub fn allows_on(&self, permission: Permission, institution: &str, system: &str) -> bool {
        self.role.grants(permission) && self.scope.covers(institution, system)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_people_and_governance() {
        for role in Role::ALL {
            assert_eq!(role.grants(Permission::ManagePeople), role == Role::Admin);
            assert_eq!(role.grants(Permission::EditGovernance), role == Role::Admin);
        }
    }

    #[test]
    fn an_auditor_reads_and_verifies_but_cannot_touch_servers_or_approve() {
        let auditor = Role::Auditor;
        assert!(auditor.grants(Permission::ReadAudit));
        assert!(auditor.grants(Permission::SignAudit));
        assert!(!auditor.grants(Permission::RunRemote));
        assert!(!auditor.grants(Permission::EditInventory));
        assert!(!auditor.grants(Permission::DecideApprovals));
        assert!(!auditor.grants(Permission::WriteTasks));
    }

    #[test]
    fn a_system_scope_covers_that_system_only() {
        let scope = Scope::parse("행정안전부/hr-portal").unwrap();
        assert!(scope.covers("행정안전부", "hr-portal"));
        assert!(!scope.covers("행정안전부", "mail"));
        assert!(!scope.covers("국세청", "hr-portal"));
        let institution = Scope::parse("행정안전부").unwrap();
        assert!(institution.covers("행정안전부", "mail"));
        assert!(!institution.covers("국세청", "mail"));
        assert!(Scope::parse("*").unwrap().covers("국세청", "mail"));
        assert_eq!(Scope::parse("a/"), None);
        assert_eq!(Scope::parse("a/b/c"), None);
    }

    #[test]
    fn scopes_and_roles_print_as_they_parse() {
        for raw in ["*", "행정안전부", "행정안전부/hr-portal"] {
            assert_eq!(Scope::parse(raw).unwrap().to_string(), raw);
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("Team-Lead"), Some(Role::TeamLead));
        assert_eq!(Role::parse("boss"), None);
    }

    #[test]
    fn a_grant_needs_both_the_permission_and_the_scope() {
        let lead = RoleGrant {
            role: Role::TeamLead,
            scope: Scope::parse("행정안전부/hr-portal").unwrap(),
        };
        assert!(lead.allows_on(Permission::DecideApprovals, "행정안전부", "hr-portal"));
        assert!(!lead.allows_on(Permission::DecideApprovals, "행정안전부", "mail"));
        assert!(!lead.allows_on(Permission::RunRemote, "행정안전부", "hr-portal"));
    }
}
