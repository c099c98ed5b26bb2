//! People, their roles and sign-in, as the window and the CLI see them. Passwords travel
//! only inward (window → backend) and print redacted; no answer ever carries a password or
//! its hash.

use chrono::{DateTime, Utc};
use guardia_domain::governance::RoleGrant;
use serde::{Deserialize, Serialize};

/// A person as listed: who, which roles where, and whether they can sign in now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub name: String,
    pub display_name: String,
    pub roles: Vec<RoleGrant>,
    /// Locked by an admin, with the reason; signing in is refused until unlocked.
    pub locked_reason: Option<String>,
    /// Locked out after repeated failures until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// Failed sign-ins counted towards the lockout.
    pub failures: u32,
}

/// A new person. The password goes into an Argon2id hash and nowhere else.
#[derive(Clone, Serialize, Deserialize)]
pub struct PersonInput {
    /// Sign-in name: lowercase letters, digits, `.`, `_`, `-` (e.g. `kim.minsu`).
    pub name: String,
    /// As shown, e.g. 김민수.
    pub display_name: String,
    pub password: String,
    pub roles: Vec<RoleGrant>,
}

impl std::fmt::Debug for PersonInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonInput")
            .field("name", &self.name)
            .field("display_name", &self.display_name)
            .field("password", &"<redacted>")
            .field("roles", &self.roles)
            .finish()
    }
}

/// Replaces a person's roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolesChange {
    pub name: String,
    pub roles: Vec<RoleGrant>,
}

/// An admin locks or unlocks an account; a lock needs a reason (it is audited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLock {
    pub name: String,
    pub locked: bool,
    #[serde(default)]
    pub reason: String,
}

/// A sign-in attempt at a workstation.
#[derive(Clone, Serialize, Deserialize)]
pub struct SignInRequest {
    pub name: String,
    pub password: String,
}

impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Who is signed in, and what the console's sign-in rules are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub person: PersonView,
    /// Minutes without input before the window locks itself.
    pub idle_lock_minutes: u32,
}

/// Where this window's session stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionState {
    /// Nobody has been added yet: the OS account `operator` acts with every role until
    /// the first admin exists (`guardia user add NAME --role admin`).
    SetUp {
        operator: String,
    },
    /// Someone must sign in. `ended` says why the last session ended, if it did.
    SignedOut {
        ended: Option<SessionEnd>,
    },
    SignedIn(SessionView),
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    /// Locked after this many minutes without input.
    Idle {
        minutes: u32,
    },
    SignedOut,
}

/// How the window asks to end its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndSession {
    /// The window saw no input for the idle time.
    Idle,
    /// The person chose to sign out.
    SignOut,
}

/// A person changes their own password; the current one proves it is them.
#[derive(Clone, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { current: <redacted>, new: <redacted> }")
    }
}

/// An admin sets a new password for someone who lost theirs.
#[derive(Clone, Serialize, Deserialize)]
pub struct PasswordReset {
    pub name: String,
    pub new: String,
}

impl std::fmt::Debug for PasswordReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordReset")
            .field("name", &self.name)
            .field("new", &"<redacted>")
            .finish()
    }
}
