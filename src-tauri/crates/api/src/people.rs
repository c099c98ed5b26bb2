//! The people capability: accounts, roles and sign-in (`api.people()`).
//!
//! A console with nobody in it is in **set-up**: the OS account that owns the data directory
//! acts with every role, and the first person added must be an admin
//! ([`People::add_first_admin`]). From then on every request comes from a signed-in
//! [`Caller`] built here from the stored roles — the window's session or the CLI's `--user`.
//!
//! Sign-in follows the pure rules of `governance::account`: five failures lock the account
//! for fifteen minutes; an admin's lock stays until an admin unlocks. Every attempt, lock and
//! change is an audit entry naming the workstation. An unknown name and a wrong password get
//! the same answer, and an unknown name is not recorded at all (people type passwords into
//! the name field).

use guardia_domain::PersonName;
use guardia_domain::governance::{
    Failure, PasswordProblem, RoleGrant, Scope, SignInPolicy, check_new_password,
};
use guardia_ipc::{
    AccountLock, ErrorCode, IpcError, PasswordChange, PasswordReset, PersonInput, PersonView,
    RolesChange, SessionView, SignInRequest,
};
use guardia_secrets::Sensitive;
use guardia_secrets::password::{PasswordError, hash_password, verify_password};
use guardia_store::{NewPerson, PersonChange, StoreError, StoredPerson};

use crate::{Api, Caller, Permission, audit_entries};

/// The people of one console: `api.people()`.
#[derive(Clone, Copy)]
pub struct People<'a> {
    api: &'a Api,
}

/// Why a sign-in was refused. The messages never say whether the name exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInRefused {
    #[error("the name or the password is wrong")]
    WrongNameOrPassword,
    #[error("too many failed sign-ins: the account is locked until {0} (UTC)")]
    LockedOut(chrono::DateTime<chrono::Utc>),
    #[error("an admin has locked this account: {0}")]
    Disabled(String),
    #[error(
        "this console has people now: sign in (--user NAME, password from GUARDIA_PASSWORD or the prompt)"
    )]
    Required,
    #[error("nobody is signed in at this window: sign in first")]
    NotSignedIn,
    #[error("the session locked after {0} minutes without input: sign in again")]
    IdleLocked(u32),
}

/// Why a people operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error(transparent)]
    SignIn(#[from] SignInRefused),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Password(#[from] PasswordProblem),
    #[error("the console already has people (e.g. {0}); an admin adds the others")]
    NotInSetUp(String),
    #[error(transparent)]
    Hash(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl PeopleError {
    pub fn code(&self) -> ErrorCode {
        match self {
            PeopleError::SignIn(_) => ErrorCode::SignIn,
            PeopleError::Invalid(_) | PeopleError::Password(_) => ErrorCode::InvalidInput,
            PeopleError::NotInSetUp(_) | PeopleError::Store(StoreError::PersonExists(_)) => {
                ErrorCode::Conflict
            }
            PeopleError::Store(StoreError::PersonNotFound(_)) => ErrorCode::NotFound,
            PeopleError::Store(StoreError::Busy(_) | StoreError::AuditRace) => ErrorCode::Conflict,
            PeopleError::Store(_) | PeopleError::Hash(PasswordError::Malformed) => {
                ErrorCode::Storage
            }
            PeopleError::Hash(_) | PeopleError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<PeopleError> for IpcError {
    fn from(error: PeopleError) -> Self {
        IpcError::new(error.code(), error.to_string())
    }
}

/// The password of every demo person (README, "Demo people"). Demo data only: a console
/// with real people never gets these accounts.
pub const DEMO_PASSWORD: &str = "guardia-demo";

/// Where the sign-in policy is kept among the governance settings.
const POLICY_KEY: &str = "signin_policy";

/// The demo people, one per role, named as the demo tasks' timelines name them.
const DEMO_PEOPLE: [(&str, &str, crate::Role); 8] = [
    ("admin", "관리자", crate::Role::Admin),
    ("kim.minji", "김민지", crate::Role::Requester),
    ("lee.teamlead", "이팀장", crate::Role::TeamLead),
    ("oh.pm", "오PM", crate::Role::Pm),
    ("song.operator", "송운영", crate::Role::Operator),
    ("bae.security", "배보안", crate::Role::SecurityOfficer),
    ("park.auditor", "박감사", crate::Role::Auditor),
    ("jung.dpo", "정법무", crate::Role::LegalDpo),
];

/// The longest sign-in name.
pub const MAX_NAME_CHARS: usize = 32;

/// A sign-in name: 2–32 of `a-z 0-9 . _ -`, starting with a letter. Plain ASCII, so two
/// names that look alike are alike, and a name is safe in a shell, a file and a log.
fn parse_name(raw: &str) -> Result<PersonName, PeopleError> {
    let name = raw.trim();
    let valid = (2..=MAX_NAME_CHARS).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !valid {
        return Err(PeopleError::Invalid(format!(
            "name `{}`: use 2–{MAX_NAME_CHARS} lowercase letters, digits, `.`, `_` or `-`, starting with a letter",
            guardia_domain::text::escape_invisible(name, true)
        )));
    }
    if name == crate::approval_entries::CONSOLE {
        return Err(PeopleError::Invalid(format!(
            "`{name}` is the name the console records its own actions under; choose another"
        )));
    }
    PersonName::parse(name).map_err(|e| PeopleError::Invalid(e.to_string()))
}

fn parse_display_name(raw: &str, name: &PersonName) -> Result<String, PeopleError> {
    let shown = raw.trim();
    if shown.is_empty() {
        return Ok(name.to_string());
    }
    // The same single-line rules as any person's name in a task.
    PersonName::parse(shown)
        .map(|p| p.to_string())
        .map_err(|e| PeopleError::Invalid(format!("display name: {e}")))
}

/// Unscoped roles hold everywhere; a scope given to one is refused rather than dropped.
fn check_grants(grants: &[RoleGrant]) -> Result<Vec<RoleGrant>, PeopleError> {
    let mut checked = Vec::with_capacity(grants.len());
    for grant in grants {
        if !grant.role.is_scoped() && grant.scope != Scope::Everywhere {
            return Err(PeopleError::Invalid(format!(
                "role {} holds on the whole console; it takes no scope (got {})",
                grant.role, grant.scope
            )));
        }
        let empty = match &grant.scope {
            Scope::Everywhere => false,
            Scope::Institution { institution } => institution.trim().is_empty(),
            Scope::System {
                institution,
                system,
            } => institution.trim().is_empty() || system.trim().is_empty(),
        };
        if empty {
            return Err(PeopleError::Invalid(format!(
                "role {}: a scope names an institution, or institution/system",
                grant.role
            )));
        }
        if !checked.contains(grant) {
            checked.push(grant.clone());
        }
    }
    checked.sort();
    Ok(checked)
}

pub(crate) fn view(person: &StoredPerson) -> PersonView {
    PersonView {
        name: person.name.to_string(),
        display_name: person.display_name.clone(),
        roles: person.grants.clone(),
        locked_reason: person.disabled_reason.clone(),
        locked_until: person.attempts.locked_until,
        failures: person.attempts.failures,
    }
}

impl Api {
    /// The people capability.
    pub fn people(&self) -> People<'_> {
        People { api: self }
    }
}

impl People<'_> {
    /// The sign-in rules in force: what an admin set, else the defaults (5 failures lock
    /// for 15 minutes; 15 idle minutes lock a session).
    pub async fn policy(&self) -> Result<SignInPolicy, PeopleError> {
        Ok(self
            .api
            .setting_or_default(POLICY_KEY, "sign-in policy")
            .await?)
    }

    /// An admin changes the lockout and idle-lock rules (new sessions follow them).
    pub async fn set_policy(
        &self,
        caller: &Caller,
        policy: SignInPolicy,
    ) -> Result<SignInPolicy, PeopleError> {
        let within = |value: u32, low: u32, high: u32, what: &str| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(PeopleError::Invalid(format!(
                    "{what} must be {low} to {high}, not {value}"
                )))
            }
        };
        within(policy.max_failures, 1, 20, "failures before a lockout")?;
        within(policy.lockout_minutes, 1, 24 * 60, "lockout minutes")?;
        within(
            policy.idle_lock_minutes,
            1,
            8 * 60,
            "idle minutes before the session locks",
        )?;
        let before = self.policy().await?;
        if before == policy {
            return Ok(policy);
        }
        let json = serde_json::to_string(&policy)
            .map_err(|e| PeopleError::Internal(format!("policy: {e}")))?;
        let entry = audit_entries::signin_policy_changed(&before, &policy, caller, self.api.now());
        self.api
            .store
            .set_governance_setting(POLICY_KEY, &json, entry)
            .await?;
        Ok(policy)
    }

    /// A signed-in person changes their own password, proving it with the current one.
    pub async fn change_password(
        &self,
        caller: &Caller,
        change: PasswordChange,
    ) -> Result<(), PeopleError> {
        let current = Sensitive::new(change.current);
        let Some(person) = self.api.store.person(caller.name()).await? else {
            return Err(PeopleError::Invalid(
                "only a person added to this console has a password (set-up has none)".into(),
            ));
        };
        if let Err(until) = person.attempts.may_try(self.api.now()) {
            return Err(SignInRefused::LockedOut(until).into());
        }
        let matches = password_matches(&person, current).await?;
        let now = self.api.now();
        if !matches {
            // Counted like a failed sign-in: an unlocked session cannot guess forever.
            let policy = self.policy().await?;
            let mut attempts = person.attempts;
            let failure = attempts.failed(now, &policy);
            self.api
                .store
                .change_person(
                    person.name.as_str(),
                    PersonChange::Attempts(attempts),
                    now,
                    &|(_, after)| {
                        audit_entries::sign_in_failed(after, &caller.workstation, failure, now)
                    },
                )
                .await?;
            return Err(match failure {
                Failure::LockedOut { until } => SignInRefused::LockedOut(until).into(),
                Failure::Counted { .. } => PeopleError::Invalid(
                    "the current password is wrong; nothing was changed".into(),
                ),
            });
        }
        self.store_password(caller, person.name.as_str(), change.new)
            .await
            .map(drop)
    }

    /// An admin sets a new password for someone (who should change it at once).
    pub async fn reset_password(
        &self,
        caller: &Caller,
        reset: PasswordReset,
    ) -> Result<PersonView, PeopleError> {
        let name = parse_name(&reset.name)?;
        let stored = self
            .store_password(caller, name.as_str(), reset.new)
            .await?;
        Ok(view(&stored))
    }

    /// Hashes and stores `new` as `name`'s password, with its audit entry.
    async fn store_password(
        &self,
        caller: &Caller,
        name: &str,
        new: String,
    ) -> Result<StoredPerson, PeopleError> {
        let hash = self.hashed(new).await?;
        let now = self.api.now();
        Ok(self
            .api
            .store
            .change_person(name, PersonChange::Password(hash), now, &|(_, after)| {
                audit_entries::person_password_changed(after, caller, now)
            })
            .await?)
    }

    /// Whether the console is still in set-up (nobody to sign in as).
    pub async fn in_set_up(&self) -> Result<bool, PeopleError> {
        Ok(self.api.store.count_people().await? == 0)
    }

    async fn hashed(&self, password: String) -> Result<String, PeopleError> {
        let password = Sensitive::new(password);
        check_new_password(password.expose())?;
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| PeopleError::Internal(format!("password hashing: {e}")))?
            .map_err(PeopleError::from)
    }

    async fn new_person(&self, input: PersonInput) -> Result<NewPerson, PeopleError> {
        let name = parse_name(&input.name)?;
        let display_name = parse_display_name(&input.display_name, &name)?;
        let grants = check_grants(&input.roles)?;
        let password_hash = self.hashed(input.password).await?;
        Ok(NewPerson {
            name,
            display_name,
            password_hash,
            grants,
        })
    }

    /// Adds the first person of a console in set-up; they must hold the admin role.
    /// `caller` is the OS account doing the set-up.
    pub async fn add_first_admin(
        &self,
        caller: &Caller,
        input: PersonInput,
    ) -> Result<PersonView, PeopleError> {
        if !input
            .roles
            .iter()
            .any(|g| g.role == crate::Role::Admin && g.scope == Scope::Everywhere)
        {
            return Err(PeopleError::Invalid(
                "the first person must be an admin (role admin), who then adds the others".into(),
            ));
        }
        let person = self.new_person(input).await?;
        let stored = self
            .api
            .store
            .insert_first_person(&person, self.api.now(), &|p| {
                audit_entries::person_added(p, caller, self.api.now())
            })
            .await
            .map_err(|e| match e {
                StoreError::PersonExists(someone) => PeopleError::NotInSetUp(someone),
                other => other.into(),
            })?;
        tracing::info!(person = %stored.name, "first admin added");
        Ok(view(&stored))
    }

    /// Adds the demo people (one per role, password [`DEMO_PASSWORD`]) to a console in
    /// set-up; does nothing once anybody exists. Returns how many were added.
    pub async fn seed_demo(&self, caller: &Caller) -> Result<usize, PeopleError> {
        let mut added = 0;
        for (name, shown, role) in DEMO_PEOPLE {
            let input = PersonInput {
                name: name.to_owned(),
                display_name: shown.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
                roles: vec![RoleGrant::everywhere(role)],
            };
            if role == crate::Role::Admin {
                match self.add_first_admin(caller, input).await {
                    Ok(_) => {}
                    // Somebody exists already: not a demo console.
                    Err(PeopleError::NotInSetUp(_)) => return Ok(0),
                    Err(other) => return Err(other),
                }
            } else {
                self.add(caller, input).await?;
            }
            added += 1;
        }
        // The demo systems belong to the demo team lead, so the inbox and escalation work.
        self.api
            .approvals()
            .seed_demo_rules(caller)
            .await
            .map_err(|e| PeopleError::Internal(e.to_string()))?;
        Ok(added)
    }

    /// An admin adds a person.
    pub async fn add(
        &self,
        caller: &Caller,
        input: PersonInput,
    ) -> Result<PersonView, PeopleError> {
        let person = self.new_person(input).await?;
        let stored = self
            .api
            .store
            .insert_person(&person, self.api.now(), &|p| {
                audit_entries::person_added(p, caller, self.api.now())
            })
            .await?;
        Ok(view(&stored))
    }

    pub async fn list(&self) -> Result<Vec<PersonView>, PeopleError> {
        Ok(self.api.store.people().await?.iter().map(view).collect())
    }

    /// Replaces a person's roles (one audit entry with before and after).
    pub async fn set_roles(
        &self,
        caller: &Caller,
        change: RolesChange,
    ) -> Result<PersonView, PeopleError> {
        let name = parse_name(&change.name)?;
        let grants = check_grants(&change.roles)?;
        if name == caller.person
            && !grants
                .iter()
                .any(|g| g.role.grants(Permission::ManagePeople))
        {
            // Nobody takes away their own admin role by accident and locks everyone out.
            return Err(PeopleError::Invalid(
                "you cannot remove your own admin role; another admin can".into(),
            ));
        }
        let stored = self
            .api
            .store
            .change_person(
                name.as_str(),
                PersonChange::Grants(grants),
                self.api.now(),
                &|(before, after)| {
                    audit_entries::person_roles_changed(before, after, caller, self.api.now())
                },
            )
            .await?;
        Ok(view(&stored))
    }

    /// An admin locks (with a reason) or unlocks an account. Unlocking also clears a
    /// lockout after failed sign-ins.
    pub async fn lock(
        &self,
        caller: &Caller,
        lock: AccountLock,
    ) -> Result<PersonView, PeopleError> {
        let name = parse_name(&lock.name)?;
        let reason = lock.reason.trim();
        if lock.locked && name == caller.person {
            return Err(PeopleError::Invalid(
                "you cannot lock your own account".into(),
            ));
        }
        if lock.locked && reason.is_empty() {
            return Err(PeopleError::Invalid(
                "say why the account is locked (it goes into the audit log)".into(),
            ));
        }
        let change = PersonChange::Disabled(lock.locked.then(|| reason.to_owned()));
        let stored = self
            .api
            .store
            .change_person(name.as_str(), change, self.api.now(), &|(_, after)| {
                audit_entries::person_lock_changed(after, caller, reason, self.api.now())
            })
            .await?;
        Ok(view(&stored))
    }

    /// Checks `request` at `workstation`: the caller it signs in as, or why not. Every
    /// attempt is recorded (success, failure with the count left, lockout).
    pub async fn sign_in(
        &self,
        request: SignInRequest,
        workstation: &str,
    ) -> Result<(Caller, SessionView), PeopleError> {
        let password = Sensitive::new(request.password);
        let now = self.api.now();
        let policy = self.policy().await?;
        let typed = request.name.trim().to_owned();
        let known = match parse_name(&typed) {
            Ok(name) => self.api.store.person(name.as_str()).await?,
            Err(_) => None,
        };
        let Some(person) = known else {
            // Same answer as a wrong password; the typed name is not recorded.
            self.api
                .store
                .append_audit(&[audit_entries::sign_in_unknown(workstation, now)])
                .await?;
            // Spend the time a real check takes, so timing does not tell who exists.
            let decoy = tokio::task::spawn_blocking(move || hash_password(&password).map(drop))
                .await
                .map_err(|e| e.to_string())
                .and_then(|hashed| hashed.map_err(|e| e.to_string()));
            if let Err(e) = decoy {
                tracing::debug!("the decoy password hash did not run: {e}");
            }
            return Err(SignInRefused::WrongNameOrPassword.into());
        };
        // Refused before the password is checked: locked by an admin, or locked out.
        let early = match (&person.disabled_reason, person.attempts.may_try(now)) {
            (Some(reason), _) => Some(("locked_by_admin", SignInRefused::Disabled(reason.clone()))),
            (None, Err(until)) => Some(("locked_out", SignInRefused::LockedOut(until))),
            (None, Ok(())) => None,
        };
        if let Some((code, refused)) = early {
            self.api
                .store
                .append_audit(&[audit_entries::sign_in_refused(
                    &person.name,
                    workstation,
                    code,
                    now,
                )])
                .await?;
            return Err(refused.into());
        }
        let matches = password_matches(&person, password).await?;
        let mut attempts = person.attempts;
        if matches {
            attempts.succeeded();
            let stored = self
                .api
                .store
                .change_person(
                    person.name.as_str(),
                    PersonChange::Attempts(attempts),
                    now,
                    &|(_, after)| audit_entries::signed_in(after, workstation, now),
                )
                .await?;
            let caller = Caller {
                person: stored.name.clone(),
                workstation: workstation.to_owned(),
                grants: stored.grants.clone(),
            };
            tracing::info!(person = %stored.name, "signed in");
            return Ok((
                caller,
                SessionView {
                    person: view(&stored),
                    idle_lock_minutes: policy.idle_lock_minutes,
                },
            ));
        }
        let failure = attempts.failed(now, &policy);
        self.api
            .store
            .change_person(
                person.name.as_str(),
                PersonChange::Attempts(attempts),
                now,
                &|(_, after)| audit_entries::sign_in_failed(after, workstation, failure, now),
            )
            .await?;
        Err(match failure {
            Failure::Counted { .. } => SignInRefused::WrongNameOrPassword,
            Failure::LockedOut { until } => SignInRefused::LockedOut(until),
        }
        .into())
    }

    /// Records that a signed-in session ended: locked after idle time, or signed out.
    pub async fn session_ended(&self, caller: &Caller, idle: bool) -> Result<(), PeopleError> {
        self.api
            .store
            .append_audit(&[audit_entries::session_ended(caller, idle, self.api.now())])
            .await?;
        Ok(())
    }
}

/// Whether `password` is `person`'s, checked off the async threads (Argon2id is slow on
/// purpose).
async fn password_matches(
    person: &StoredPerson,
    password: Sensitive<String>,
) -> Result<bool, PeopleError> {
    let stored_hash = person.password_hash.clone();
    tokio::task::spawn_blocking(move || verify_password(&stored_hash, &password))
        .await
        .map_err(|e| PeopleError::Internal(format!("password check: {e}")))?
        .map_err(PeopleError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardia_domain::governance::Role;

    #[test]
    fn sign_in_names_are_plain_lowercase_ascii() {
        for good in ["kim", "kim.minsu", "lee_2", "park-jh"] {
            assert!(parse_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "k",
            "Kim",
            "김민수",
            "1kim",
            "kim minsu",
            "kim\u{200b}",
            &"a".repeat(33),
        ] {
            assert!(parse_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unscoped_role_with_a_scope_is_refused_and_duplicates_fold() {
        let admin_somewhere = RoleGrant {
            role: Role::Admin,
            scope: Scope::Institution {
                institution: "행정안전부".into(),
            },
        };
        assert!(check_grants(&[admin_somewhere]).is_err());
        let lead = RoleGrant {
            role: Role::TeamLead,
            scope: Scope::parse("행정안전부/hr-portal").unwrap(),
        };
        assert_eq!(
            check_grants(&[lead.clone(), lead.clone()]).unwrap(),
            vec![lead]
        );
    }
}
