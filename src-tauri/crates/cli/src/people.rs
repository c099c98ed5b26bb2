//! `guardia user …` and who the CLI acts as (`--user NAME`).
//!
//! In set-up (nobody added yet) the CLI acts as the OS account with every role, and the
//! first `guardia user add` must make an admin. From then on every command needs `--user`
//! (or `GUARDIA_USER`); the password comes from `GUARDIA_PASSWORD` or a prompt without echo,
//! and goes through the same sign-in as the window: lockout, audit entries, roles.

use std::io::{IsTerminal, Write};

use clap::Subcommand;
use guardia_api::{Api, ApiError, Caller, Operation, PeopleError, Permission, SignInRefused};
use guardia_domain::governance::{Role, RoleGrant, Scope};
use guardia_ipc as ipc;
use guardia_ipc::{
    AccountLock, PasswordChange, PasswordReset, PersonInput, PersonView, RolesChange, SignInRequest,
};

use crate::{Done, Output};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person (in set-up: the first admin). Password from GUARDIA_NEW_PASSWORD or a prompt
    Add {
        /// Sign-in name: lowercase letters, digits, `.`, `_`, `-` (e.g. kim.minsu)
        name: String,
        /// Name as shown, e.g. 김민수 [default: the sign-in name]
        #[arg(long, default_value = "")]
        display: String,
        /// ROLE or ROLE@SCOPE, repeatable; SCOPE is `*`, an institution, or institution/system
        /// (e.g. --role requester@행정안전부 --role team_lead@행정안전부/hr-portal --role admin)
        #[arg(long = "role", value_parser = parse_grant, required = true)]
        roles: Vec<RoleGrant>,
    },
    /// Everybody, with roles and lock state
    List,
    /// Replace a person's roles (same ROLE@SCOPE form as `add`)
    Roles {
        name: String,
        #[arg(long = "role", value_parser = parse_grant)]
        roles: Vec<RoleGrant>,
    },
    /// Lock an account (sign-in refused until unlocked)
    Lock {
        name: String,
        #[arg(long)]
        reason: String,
    },
    /// Unlock an account (also clears a lockout after failed sign-ins)
    Unlock { name: String },
    /// Change your own password (current: GUARDIA_PASSWORD or the sign-in prompt; new:
    /// GUARDIA_NEW_PASSWORD or a prompt); with NAME, an admin resets someone else's
    Password { name: Option<String> },
    /// Show or change the sign-in policy: failures before a lockout, lockout and idle-lock
    /// minutes (changing it is an admin's)
    Policy {
        #[arg(long)]
        max_failures: Option<u32>,
        #[arg(long)]
        lockout_minutes: Option<u32>,
        #[arg(long)]
        idle_minutes: Option<u32>,
    },
}

/// The permission the operation table binds to the window's command `C`: `user` checks
/// exactly what the window's people commands check.
fn permission_of<C: Operation>() -> Permission {
    C::PERMISSION
}

/// `role` or `role@scope`.
pub fn parse_grant(raw: &str) -> Result<RoleGrant, String> {
    let (role, scope) = match raw.split_once('@') {
        Some((role, scope)) => (role, scope),
        None => (raw, "*"),
    };
    let role = Role::parse(role).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
        format!("unknown role `{role}`; expected one of {}", all.join(", "))
    })?;
    let scope = Scope::parse(scope)
        .ok_or_else(|| format!("scope `{scope}`: use *, an institution, or institution/system"))?;
    Ok(RoleGrant { role, scope })
}

fn roles_text(roles: &[RoleGrant]) -> String {
    roles
        .iter()
        .map(|g| format!("{}@{}", g.role, g.scope))
        .collect::<Vec<_>>()
        .join(" ")
}

fn people_table(people: &[PersonView]) -> String {
    let mut text = String::new();
    for p in people {
        let state = match (&p.locked_reason, p.locked_until) {
            (Some(reason), _) => format!("locked: {reason}"),
            (None, Some(until)) => {
                format!("locked out until {}", until.format("%Y-%m-%d %H:%M UTC"))
            }
            (None, None) => "active".to_owned(),
        };
        text.push_str(&format!(
            "{:<20} {:<16} {:<28} {}\n",
            p.name,
            p.display_name,
            state,
            roles_text(&p.roles)
        ));
    }
    text.trim_end().to_owned()
}

/// A password from `env`, else asked at the terminal without echo. Never from arguments
/// (they show in `ps`).
fn password(env: &str, prompt: &str) -> Result<String, ApiError> {
    if let Ok(from_env) = std::env::var(env) {
        return Ok(from_env);
    }
    if !std::io::stdin().is_terminal() {
        return Err(ApiError::InvalidRequest(format!(
            "no password: set {env} or run in a terminal to be asked"
        )));
    }
    let mut stderr = std::io::stderr();
    write!(stderr, "{prompt}").map_err(ApiError::Io)?;
    stderr.flush().map_err(ApiError::Io)?;
    let typed = read_without_echo().map_err(ApiError::Io)?;
    writeln!(stderr).map_err(ApiError::Io)?;
    Ok(typed.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads a line from stdin with the terminal's echo off (restored afterwards); from a pipe,
/// just the line.
#[cfg(unix)]
fn read_without_echo() -> std::io::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::BufRead;
    let read = || {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    };
    let stdin = std::io::stdin();
    let Ok(saved) = tcgetattr(&stdin) else {
        return read();
    };
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Now, &quiet).map_err(std::io::Error::from)?;
    let result = read();
    tcsetattr(&stdin, OptionalActions::Now, &saved).map_err(std::io::Error::from)?;
    result
}

/// Reads a line from the console with echo off (Windows console API, through rpassword).
#[cfg(windows)]
fn read_without_echo() -> std::io::Result<String> {
    rpassword::read_password()
}

fn workstation() -> String {
    whoami::hostname().unwrap_or_else(|_| "localhost".to_owned())
}

/// Who this run acts as: the signed-in `user`, or in set-up the OS account.
pub async fn caller_for(api: &Api, user: Option<&str>) -> Result<Caller, ApiError> {
    let in_set_up = api.people().in_set_up().await?;
    let Some(name) = user else {
        if in_set_up {
            return Caller::local_os();
        }
        return Err(PeopleError::SignIn(SignInRefused::Required).into());
    };
    if in_set_up {
        return Err(ApiError::InvalidRequest(
            "nobody has been added yet: add the first admin with `guardia user add NAME --role admin` (without --user)".into(),
        ));
    }
    let password = password("GUARDIA_PASSWORD", &format!("password for {name}: "))?;
    let (caller, _) = api
        .people()
        .sign_in(
            SignInRequest {
                name: name.to_owned(),
                password,
            },
            &workstation(),
        )
        .await?;
    Ok(caller)
}

pub async fn run(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: UserCommand,
) -> Result<Done, ApiError> {
    let people = api.people();
    match command {
        UserCommand::Add {
            name,
            display,
            roles,
        } => {
            let in_set_up = people.in_set_up().await?;
            if !in_set_up {
                caller.require(permission_of::<ipc::PersonAdd>())?;
            }
            let password = password(
                "GUARDIA_NEW_PASSWORD",
                &format!("new password for {name}: "),
            )?;
            let input = PersonInput {
                name,
                display_name: display,
                password,
                roles,
            };
            let added = if in_set_up {
                people.add_first_admin(caller, input).await?
            } else {
                people.add(caller, input).await?
            };
            out.print(&added, |p| {
                format!("added {} ({})", p.name, roles_text(&p.roles))
            })?;
        }
        UserCommand::List => {
            caller.require(permission_of::<ipc::PersonList>())?;
            let list = people.list().await?;
            out.print(&list, |l| people_table(l))?;
        }
        UserCommand::Roles { name, roles } => {
            caller.require(permission_of::<ipc::PersonRolesSet>())?;
            let changed = people
                .set_roles(caller, RolesChange { name, roles })
                .await?;
            out.print(&changed, |p| {
                format!("{}: {}", p.name, roles_text(&p.roles))
            })?;
        }
        UserCommand::Password { name: Some(name) } => {
            caller.require(permission_of::<ipc::PersonPasswordReset>())?;
            let new = password(
                "GUARDIA_NEW_PASSWORD",
                &format!("new password for {name}: "),
            )?;
            let person = people
                .reset_password(caller, PasswordReset { name, new })
                .await?;
            out.print(&person, |p| {
                format!(
                    "{}: password reset; ask them to change it when they next sign in",
                    p.name
                )
            })?;
        }
        UserCommand::Password { name: None } => {
            caller.require(permission_of::<ipc::PasswordChangeCmd>())?;
            let current = password("GUARDIA_PASSWORD", "current password: ")?;
            let new = password("GUARDIA_NEW_PASSWORD", "new password: ")?;
            people
                .change_password(caller, PasswordChange { current, new })
                .await?;
            out.print(&serde_json::json!({ "changed": true }), |_| {
                "password changed".to_owned()
            })?;
        }
        UserCommand::Policy {
            max_failures,
            lockout_minutes,
            idle_minutes,
        } => {
            let mut policy = people.policy().await?;
            let changing =
                max_failures.is_some() || lockout_minutes.is_some() || idle_minutes.is_some();
            if changing {
                caller.require(permission_of::<ipc::SignInPolicySet>())?;
                policy.max_failures = max_failures.unwrap_or(policy.max_failures);
                policy.lockout_minutes = lockout_minutes.unwrap_or(policy.lockout_minutes);
                policy.idle_lock_minutes = idle_minutes.unwrap_or(policy.idle_lock_minutes);
                policy = people.set_policy(caller, policy).await?;
            }
            out.print(&policy, |p| {
                format!(
                    "{} failed sign-ins lock an account for {} minutes; a session locks after {} idle minutes",
                    p.max_failures, p.lockout_minutes, p.idle_lock_minutes
                )
            })?;
        }
        UserCommand::Lock { name, reason } => lock(api, caller, out, name, Some(reason)).await?,
        UserCommand::Unlock { name } => lock(api, caller, out, name, None).await?,
    }
    Ok(Done::Success)
}

/// Locks an account with `reason`, or unlocks it without one.
async fn lock(
    api: &Api,
    caller: &Caller,
    out: &Output,
    name: String,
    reason: Option<String>,
) -> Result<(), ApiError> {
    caller.require(permission_of::<ipc::PersonLockSet>())?;
    let locked = reason.is_some();
    let person = api
        .people()
        .lock(
            caller,
            AccountLock {
                name,
                locked,
                reason: reason.unwrap_or_default(),
            },
        )
        .await?;
    let state = if locked { "locked" } else { "unlocked" };
    out.print(&person, |p| format!("{} is {state}", p.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_parse_as_role_at_scope() {
        assert_eq!(
            parse_grant("admin").unwrap(),
            RoleGrant::everywhere(Role::Admin)
        );
        let lead = parse_grant("team-lead@행정안전부/hr-portal").unwrap();
        assert_eq!(lead.role, Role::TeamLead);
        assert!(lead.scope.covers("행정안전부", "hr-portal"));
        assert!(parse_grant("boss@x").unwrap_err().contains("unknown role"));
        assert!(parse_grant("pm@a/b/c").is_err());
    }
}
