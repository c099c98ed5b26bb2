//! The task state machine (SPEC §2) as pure code.
//!
//! ```text
//! RECEIVED ─▶ PENDING_APPROVAL ─▶ APPROVED ─▶ IN_PROGRESS ─▶ PENDING_REVIEW ─▶ READY_TO_ROLL_OUT
//!                                               ▲                │
//!                                               └── rework ──────┘
//! READY_TO_ROLL_OUT ─▶ ROLLING_OUT ─▶ COMPLETED | ROLLED_BACK | FAILED | HALTED
//! PENDING_APPROVAL ─▶ RETURNED ─▶ PENDING_APPROVAL      (approver asks for more, requester resubmits)
//! RECEIVED | PENDING_APPROVAL | RETURNED | APPROVED ─▶ CANCELLED   (requester cancels, approver rejects)
//! HALTED | FAILED ─▶ ROLLED_BACK                         (operator rolls back what was touched)
//! ```
//!
//! [`TaskStatus::apply`] is the only way to compute a next status. It refuses anything not
//! drawn above, including skipping a state. Who may fire which event is governance's job
//! (`governance::chain` and the API); this module only knows what may follow what.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Received,
    PendingApproval,
    /// An approver sent the request back for more information; the requester edits and
    /// resubmits it (same task, a new round of the chain).
    Returned,
    Approved,
    InProgress,
    PendingReview,
    ReadyToRollOut,
    RollingOut,
    Completed,
    RolledBack,
    Failed,
    Halted,
    Cancelled,
}

/// Something that happened to a task and may move it to another status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskEvent {
    /// The requester sends the task for approval.
    Submitted,
    /// The last step of the approval chain signed.
    ChainApproved,
    /// An approver rejected the request.
    RequestRejected,
    /// An approver returned the request for more information.
    ReturnedForInfo,
    /// The requester resubmitted a returned request.
    Resubmitted,
    /// The requester withdrew the task before work started.
    Cancelled,
    /// An AI agent (or a person) started the work.
    WorkStarted,
    /// A result package was imported and verified.
    ResultImported,
    /// The reviewer rejected the result package with rework notes.
    ReworkRequested,
    /// The reviewer approved the result package.
    ResultApproved,
    /// An operator started the rollout.
    RolloutStarted,
    /// Every phase of the rollout finished healthy.
    RolloutCompleted,
    /// What the rollout touched was restored.
    RolledBack,
    /// The rollout failed and could not be rolled back automatically.
    RolloutFailed,
    /// The kill switch stopped the rollout.
    Halted,
    /// An operator resumed a halted or failed rollout (after the kill switch was re-armed,
    /// or after a crash).
    RolloutResumed,
}

/// A checked move from one status to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: TaskStatus,
    pub to: TaskStatus,
    pub event: TaskEvent,
}

/// The event is not allowed in the task's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a task in {from} cannot take `{event}`")]
pub struct TransitionRefused {
    pub from: TaskStatus,
    pub event: TaskEvent,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 13] = [
        TaskStatus::Received,
        TaskStatus::PendingApproval,
        TaskStatus::Returned,
        TaskStatus::Approved,
        TaskStatus::InProgress,
        TaskStatus::PendingReview,
        TaskStatus::ReadyToRollOut,
        TaskStatus::RollingOut,
        TaskStatus::Completed,
        TaskStatus::RolledBack,
        TaskStatus::Failed,
        TaskStatus::Halted,
        TaskStatus::Cancelled,
    ];

    /// The wire and database spelling, e.g. `PENDING_APPROVAL`.
    pub fn code(self) -> &'static str {
        match self {
            TaskStatus::Received => "RECEIVED",
            TaskStatus::PendingApproval => "PENDING_APPROVAL",
            TaskStatus::Returned => "RETURNED",
            TaskStatus::Approved => "APPROVED",
            TaskStatus::InProgress => "IN_PROGRESS",
            TaskStatus::PendingReview => "PENDING_REVIEW",
            TaskStatus::ReadyToRollOut => "READY_TO_ROLL_OUT",
            TaskStatus::RollingOut => "ROLLING_OUT",
            TaskStatus::Completed => "COMPLETED",
            TaskStatus::RolledBack => "ROLLED_BACK",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Halted => "HALTED",
            TaskStatus::Cancelled => "CANCELLED",
        }
    }

    /// The status spelled as [`TaskStatus::code`], if it is one.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Applies `event` and returns the checked transition, or refuses it.
    ///
    /// The match is on the event and lists, for each, the statuses it may leave from: adding
    /// an event forces a decision here, and no wildcard can let a new status slip through.
    pub fn apply(self, event: TaskEvent) -> Result<Transition, TransitionRefused> {
        use TaskStatus as S;
        let (sources, to): (&[TaskStatus], TaskStatus) = match event {
            TaskEvent::Submitted => (&[S::Received], S::PendingApproval),
            TaskEvent::ChainApproved => (&[S::PendingApproval], S::Approved),
            TaskEvent::RequestRejected => (&[S::PendingApproval], S::Cancelled),
            TaskEvent::ReturnedForInfo => (&[S::PendingApproval], S::Returned),
            TaskEvent::Resubmitted => (&[S::Returned], S::PendingApproval),
            // "Before work starts": once an agent works on it, stopping is a review decision.
            TaskEvent::Cancelled => (
                &[S::Received, S::PendingApproval, S::Returned, S::Approved],
                S::Cancelled,
            ),
            TaskEvent::WorkStarted => (&[S::Approved], S::InProgress),
            TaskEvent::ResultImported => (&[S::InProgress], S::PendingReview),
            TaskEvent::ReworkRequested => (&[S::PendingReview], S::InProgress),
            TaskEvent::ResultApproved => (&[S::PendingReview], S::ReadyToRollOut),
            TaskEvent::RolloutStarted => (&[S::ReadyToRollOut], S::RollingOut),
            TaskEvent::RolloutCompleted => (&[S::RollingOut], S::Completed),
            // After a kill-switch halt or a failure the operator may still restore what was touched.
            TaskEvent::RolledBack => (&[S::RollingOut, S::Halted, S::Failed], S::RolledBack),
            TaskEvent::RolloutFailed => (&[S::RollingOut], S::Failed),
            TaskEvent::Halted => (&[S::RollingOut], S::Halted),
            TaskEvent::RolloutResumed => (&[S::Halted, S::Failed], S::RollingOut),
        };
        if sources.contains(&self) {
            Ok(Transition {
                from: self,
                to,
                event,
            })
        } else {
            Err(TransitionRefused { from: self, event })
        }
    }

    /// The events this status accepts, in declaration order.
    pub fn accepted_events(self) -> Vec<TaskEvent> {
        TaskEvent::ALL
            .into_iter()
            .filter(|event| self.apply(*event).is_ok())
            .collect()
    }

    /// No event moves the task on; its story is over.
    pub fn is_terminal(self) -> bool {
        self.accepted_events().is_empty()
    }
}

impl TaskEvent {
    pub const ALL: [TaskEvent; 16] = [
        TaskEvent::Submitted,
        TaskEvent::ChainApproved,
        TaskEvent::RequestRejected,
        TaskEvent::ReturnedForInfo,
        TaskEvent::Resubmitted,
        TaskEvent::Cancelled,
        TaskEvent::WorkStarted,
        TaskEvent::ResultImported,
        TaskEvent::ReworkRequested,
        TaskEvent::ResultApproved,
        TaskEvent::RolloutStarted,
        TaskEvent::RolloutCompleted,
        TaskEvent::RolledBack,
        TaskEvent::RolloutFailed,
        TaskEvent::Halted,
        TaskEvent::RolloutResumed,
    ];

    /// The wire and database spelling, e.g. `chain_approved`.
    pub fn code(self) -> &'static str {
        match self {
            TaskEvent::Submitted => "submitted",
            TaskEvent::ChainApproved => "chain_approved",
            TaskEvent::RequestRejected => "request_rejected",
            TaskEvent::ReturnedForInfo => "returned_for_info",
            TaskEvent::Resubmitted => "resubmitted",
            TaskEvent::Cancelled => "cancelled",
            TaskEvent::WorkStarted => "work_started",
            TaskEvent::ResultImported => "result_imported",
            TaskEvent::ReworkRequested => "rework_requested",
            TaskEvent::ResultApproved => "result_approved",
            TaskEvent::RolloutStarted => "rollout_started",
            TaskEvent::RolloutCompleted => "rollout_completed",
            TaskEvent::RolledBack => "rolled_back",
            TaskEvent::RolloutFailed => "rollout_failed",
            TaskEvent::Halted => "halted",
            TaskEvent::RolloutResumed => "rollout_resumed",
        }
    }

    /// The event spelled as [`TaskEvent::code`], if it is one.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for TaskEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::TaskEvent as E;
    use super::TaskStatus as S;
    use super::*;

    /// The whole diagram of SPEC §2, one row per arrow. Everything not listed must be refused.
    const ALLOWED: &[(S, E, S)] = &[
        (S::Received, E::Submitted, S::PendingApproval),
        (S::Received, E::Cancelled, S::Cancelled),
        (S::PendingApproval, E::ChainApproved, S::Approved),
        (S::PendingApproval, E::RequestRejected, S::Cancelled),
        (S::PendingApproval, E::Cancelled, S::Cancelled),
        (S::PendingApproval, E::ReturnedForInfo, S::Returned),
        (S::Returned, E::Resubmitted, S::PendingApproval),
        (S::Returned, E::Cancelled, S::Cancelled),
        (S::Approved, E::WorkStarted, S::InProgress),
        (S::Approved, E::Cancelled, S::Cancelled),
        (S::InProgress, E::ResultImported, S::PendingReview),
        (S::PendingReview, E::ReworkRequested, S::InProgress),
        (S::PendingReview, E::ResultApproved, S::ReadyToRollOut),
        (S::ReadyToRollOut, E::RolloutStarted, S::RollingOut),
        (S::RollingOut, E::RolloutCompleted, S::Completed),
        (S::RollingOut, E::RolledBack, S::RolledBack),
        (S::RollingOut, E::RolloutFailed, S::Failed),
        (S::RollingOut, E::Halted, S::Halted),
        (S::Halted, E::RolledBack, S::RolledBack),
        (S::Failed, E::RolledBack, S::RolledBack),
        (S::Halted, E::RolloutResumed, S::RollingOut),
        (S::Failed, E::RolloutResumed, S::RollingOut),
    ];

    fn expected(from: S, event: E) -> Option<S> {
        ALLOWED
            .iter()
            .find(|(f, e, _)| *f == from && *e == event)
            .map(|(_, _, to)| *to)
    }

    #[test]
    fn every_allowed_transition_lands_where_the_diagram_says() {
        for &(from, event, to) in ALLOWED {
            assert_eq!(
                from.apply(event),
                Ok(Transition { from, to, event }),
                "{from} --{event}--> {to}"
            );
        }
    }

    #[test]
    fn every_other_status_and_event_pair_is_refused() {
        let mut refused = 0;
        for from in S::ALL {
            for event in E::ALL {
                if expected(from, event).is_none() {
                    assert_eq!(
                        from.apply(event),
                        Err(TransitionRefused { from, event }),
                        "{from} must refuse {event}"
                    );
                    refused += 1;
                }
            }
        }
        // 13 statuses × 16 events, minus the 22 arrows of the diagram.
        assert_eq!(refused, 13 * TaskEvent::ALL.len() - ALLOWED.len());
        assert_eq!(TaskEvent::ALL.len(), 16);
    }

    #[test]
    fn received_submitted_goes_to_pending_approval() {
        assert_eq!(
            S::Received.apply(E::Submitted).map(|t| t.to),
            Ok(S::PendingApproval)
        );
    }

    #[test]
    fn received_cannot_skip_approval_to_in_progress() {
        assert!(S::Received.apply(E::WorkStarted).is_err());
        assert!(S::Received.apply(E::ChainApproved).is_err());
    }

    #[test]
    fn in_progress_cannot_be_cancelled_once_work_started() {
        assert!(S::InProgress.apply(E::Cancelled).is_err());
        assert!(S::RollingOut.apply(E::Cancelled).is_err());
    }

    #[test]
    fn pending_review_rework_returns_to_in_progress_and_can_repeat() {
        let mut status = S::InProgress;
        for _ in 0..3 {
            status = status.apply(E::ResultImported).unwrap().to;
            assert_eq!(status, S::PendingReview);
            status = status.apply(E::ReworkRequested).unwrap().to;
            assert_eq!(status, S::InProgress);
        }
    }

    #[test]
    fn returned_request_resubmits_to_pending_approval_and_can_repeat() {
        let mut status = S::PendingApproval;
        for _ in 0..3 {
            status = status.apply(E::ReturnedForInfo).unwrap().to;
            assert_eq!(status, S::Returned);
            assert!(
                status.apply(E::ChainApproved).is_err(),
                "no approval while returned"
            );
            status = status.apply(E::Resubmitted).unwrap().to;
            assert_eq!(status, S::PendingApproval);
        }
    }

    #[test]
    fn halted_rollout_can_be_rolled_back_but_not_resumed_or_completed() {
        assert_eq!(
            S::Halted.apply(E::RolledBack).map(|t| t.to),
            Ok(S::RolledBack)
        );
        assert!(S::Halted.apply(E::RolloutStarted).is_err());
        assert!(S::Halted.apply(E::RolloutCompleted).is_err());
    }

    #[test]
    fn completed_rolled_back_and_cancelled_are_terminal() {
        let terminal: Vec<S> = S::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [S::Completed, S::RolledBack, S::Cancelled]);
    }

    #[test]
    fn every_status_is_reachable_from_received() {
        let mut reached = vec![S::Received];
        let mut frontier = vec![S::Received];
        while let Some(status) = frontier.pop() {
            for event in status.accepted_events() {
                let to = status.apply(event).unwrap().to;
                if !reached.contains(&to) {
                    reached.push(to);
                    frontier.push(to);
                }
            }
        }
        for status in S::ALL {
            assert!(reached.contains(&status), "{status} is unreachable");
        }
    }

    #[test]
    fn codes_round_trip_and_match_serde() {
        for status in S::ALL {
            assert_eq!(S::from_code(status.code()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.code())
            );
        }
        for event in E::ALL {
            assert_eq!(E::from_code(event.code()), Some(event));
            assert_eq!(
                serde_json::to_value(event).unwrap(),
                serde_json::json!(event.code())
            );
        }
    }

    #[test]
    fn refusal_names_status_and_event() {
        let err = S::Completed.apply(E::RolledBack).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a task in COMPLETED cannot take `rolled_back`"
        );
    }
}
