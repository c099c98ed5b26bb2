//! Who a step goes to: a system's owner, deputy and supervisor, and its SLA (SPEC §3).
//!
//! The owner holds a team-lead step; while the owner is away, the deputy does. A step left
//! unanswered for the SLA escalates one hop along owner → deputy → supervisor, with a fresh
//! SLA per hop. Four-eyes is part of routing: the requester and anyone who already signed
//! the chain are never handed a step, so the route skips them.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::PersonName;

/// The SLA a system gets until an admin sets another (SPEC §3: 10 minutes).
pub const DEFAULT_SLA_SECONDS: u32 = 10 * 60;
/// The shortest SLA an admin may set (the e2e test uses a few seconds).
pub const MIN_SLA_SECONDS: u32 = 1;
/// The longest: a week. Longer is "no SLA", which SPEC §3 does not allow.
pub const MAX_SLA_SECONDS: u32 = 7 * 24 * 60 * 60;

/// How one system's steps are routed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    pub owner: Option<PersonName>,
    pub deputy: Option<PersonName>,
    pub supervisor: Option<PersonName>,
    /// The owner marked themselves away: their steps go to the deputy.
    pub owner_away: bool,
    pub sla_seconds: u32,
}

impl Default for Routing {
    fn default() -> Self {
        Self {
            owner: None,
            deputy: None,
            supervisor: None,
            owner_away: false,
            sla_seconds: DEFAULT_SLA_SECONDS,
        }
    }
}

/// Where on the route a person stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteLevel {
    Owner,
    Deputy,
    Supervisor,
}

impl RouteLevel {
    pub fn code(self) -> &'static str {
        match self {
            RouteLevel::Owner => "owner",
            RouteLevel::Deputy => "deputy",
            RouteLevel::Supervisor => "supervisor",
        }
    }
}

impl Routing {
    pub fn sla(&self) -> Duration {
        Duration::seconds(i64::from(self.sla_seconds))
    }

    /// The route in escalation order, people only where named.
    pub fn route(&self) -> Vec<(RouteLevel, &PersonName)> {
        [
            (RouteLevel::Owner, &self.owner),
            (RouteLevel::Deputy, &self.deputy),
            (RouteLevel::Supervisor, &self.supervisor),
        ]
        .into_iter()
        .filter_map(|(level, person)| person.as_ref().map(|p| (level, p)))
        .collect()
    }

    /// The first person at or after `from` who may hold a step: not the away owner, and not
    /// anyone `excluded` (the requester and earlier signers, four-eyes).
    pub fn first_eligible(
        &self,
        from: RouteLevel,
        excluded: &[&PersonName],
    ) -> Option<(RouteLevel, PersonName)> {
        self.route()
            .into_iter()
            .filter(|(level, _)| *level >= from)
            .find(|(level, person)| {
                let away = *level == RouteLevel::Owner && self.owner_away;
                !away && !excluded.contains(person)
            })
            .map(|(level, person)| (level, person.clone()))
    }

    /// The next person after `level` who may hold a step (an escalation hop).
    pub fn next_after(
        &self,
        level: RouteLevel,
        excluded: &[&PersonName],
    ) -> Option<(RouteLevel, PersonName)> {
        let next = match level {
            RouteLevel::Owner => RouteLevel::Deputy,
            RouteLevel::Deputy | RouteLevel::Supervisor => RouteLevel::Supervisor,
        };
        if level == RouteLevel::Supervisor {
            return None;
        }
        self.first_eligible(next, excluded)
    }

    /// Why an SLA or routing value cannot be stored.
    pub fn check(&self) -> Result<(), RoutingProblem> {
        if !(MIN_SLA_SECONDS..=MAX_SLA_SECONDS).contains(&self.sla_seconds) {
            return Err(RoutingProblem::SlaOutOfRange {
                seconds: self.sla_seconds,
            });
        }
        if let (Some(owner), Some(deputy)) = (&self.owner, &self.deputy)
            && owner == deputy
        {
            return Err(RoutingProblem::OwnDeputy);
        }
        if self.owner_away && self.owner.is_none() {
            return Err(RoutingProblem::AwayWithoutOwner);
        }
        Ok(())
    }
}

/// A routing that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingProblem {
    #[error("the SLA must be between {MIN_SLA_SECONDS} s and {MAX_SLA_SECONDS} s, not {seconds} s")]
    SlaOutOfRange { seconds: u32 },
    #[error("the owner cannot be their own deputy")]
    OwnDeputy,
    #[error("a system without an owner has nobody to mark away")]
    AwayWithoutOwner,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str) -> PersonName {
        PersonName::parse(name).unwrap()
    }

    fn full() -> Routing {
        Routing {
            owner: Some(p("lee")),
            deputy: Some(p("park")),
            supervisor: Some(p("choi")),
            ..Routing::default()
        }
    }

    #[test]
    fn a_step_goes_to_the_owner_or_to_the_deputy_while_the_owner_is_away() {
        let routing = full();
        assert_eq!(
            routing.first_eligible(RouteLevel::Owner, &[]),
            Some((RouteLevel::Owner, p("lee")))
        );
        let away = Routing {
            owner_away: true,
            ..full()
        };
        assert_eq!(
            away.first_eligible(RouteLevel::Owner, &[]),
            Some((RouteLevel::Deputy, p("park")))
        );
    }

    #[test]
    fn the_route_skips_the_requester_and_ends_at_the_supervisor() {
        let routing = full();
        let requester = p("park");
        assert_eq!(
            routing.next_after(RouteLevel::Owner, &[&requester]),
            Some((RouteLevel::Supervisor, p("choi")))
        );
        assert_eq!(routing.next_after(RouteLevel::Supervisor, &[]), None);
    }

    #[test]
    fn nonsense_routings_are_refused() {
        let zero = Routing {
            sla_seconds: 0,
            ..full()
        };
        assert!(matches!(
            zero.check(),
            Err(RoutingProblem::SlaOutOfRange { .. })
        ));
        let own = Routing {
            deputy: Some(p("lee")),
            ..full()
        };
        assert_eq!(own.check(), Err(RoutingProblem::OwnDeputy));
        assert_eq!(full().check(), Ok(()));
    }
}
