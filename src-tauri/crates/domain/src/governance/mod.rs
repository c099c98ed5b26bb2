//! Governance as pure code: who may do what where, which chain a task's risk needs, who
//! holds each step and when it escalates, and when a system may be changed (SPEC §1, §3).
//!
//! Everything here takes time and routing as values and returns decisions and effects as
//! data; the API stores them, schedules the deadlines on the runtime and notifies people.

pub mod access;
pub mod account;
pub mod chain;
pub mod routing;
pub mod window;

pub use access::{Permission, Role, RoleGrant, Scope};
pub use account::{Attempts, Failure, PasswordProblem, SignInPolicy, check_new_password};
pub use chain::{
    Chain, ChainPolicy, CheckResult, Decision, DecisionRefused, Effect, Holder, Hop, HopReason,
    PolicyProblem, RiskClass, Stage, Step, StepKind, StepStatus, Verdict,
};
pub use routing::{RouteLevel, Routing, RoutingProblem};
pub use window::{Closed, DeployWindows, Freeze, WeeklyHours, WindowProblem};
