//! The kill switch: one token every piece of work that may change a server descends from.
//!
//! Engaging it cancels that token — every rollout and ad-hoc command sees it at its next
//! await and stops its remote process group — and from then on nothing that changes a server
//! may start ([`crate::JobRefused::Locked`]). Read-only work (checks, log reads, the audit
//! verification) hangs off the runtime's root instead and goes on. Re-arming puts a fresh
//! token in place. Whether the switch is engaged across restarts is the API's business (it
//! persists the state and engages the switch at start); this is the in-process mechanism.

use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct KillSwitch {
    current: Arc<Mutex<CancellationToken>>,
    root: CancellationToken,
}

impl KillSwitch {
    pub(crate) fn new(root: CancellationToken) -> Self {
        Self {
            current: Arc::new(Mutex::new(root.child_token())),
            root,
        }
    }

    fn token(&self) -> std::sync::MutexGuard<'_, CancellationToken> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A token for new work that may change a server; `None` while the switch is engaged
    /// (or the runtime stops).
    pub fn child(&self) -> Option<CancellationToken> {
        let token = self.token();
        (!token.is_cancelled()).then(|| token.child_token())
    }

    /// Stops every piece of work holding a child token, and refuses new work.
    pub fn engage(&self) {
        self.token().cancel();
    }

    pub fn is_engaged(&self) -> bool {
        self.token().is_cancelled()
    }

    /// Lets work start again (with a fresh token). No effect while the runtime stops.
    pub fn rearm(&self) {
        let mut token = self.token();
        if token.is_cancelled() && !self.root.is_cancelled() {
            *token = self.root.child_token();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engaging_cancels_every_child_and_refuses_new_ones_until_rearmed() {
        let root = CancellationToken::new();
        let switch = KillSwitch::new(root.clone());
        let running = switch.child().unwrap();
        switch.engage();
        assert!(running.is_cancelled());
        assert!(switch.is_engaged());
        assert!(switch.child().is_none());
        switch.rearm();
        assert!(!switch.is_engaged());
        let fresh = switch.child().unwrap();
        assert!(!fresh.is_cancelled());
        assert!(running.is_cancelled(), "re-arming resumes nothing");
        root.cancel();
        assert!(fresh.is_cancelled());
        switch.rearm();
        assert!(
            switch.child().is_none(),
            "a stopping runtime is not re-armed"
        );
    }
}
