//! The change feed's fan-out inside one process: every window (and test) subscribes here.

use guardia_ipc::FeedEvent;
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it is told it lagged (and then
/// refreshes everything instead of replaying).
const BACKLOG: usize = 1024;

/// A broadcast of [`FeedEvent`]s.
#[derive(Debug, Clone)]
pub struct Feed {
    sender: broadcast::Sender<FeedEvent>,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            sender: broadcast::Sender::new(BACKLOG),
        }
    }
}

impl Feed {
    pub fn publish(&self, event: FeedEvent) {
        // No subscriber is fine: nobody is looking.
        let _receivers = self.sender.send(event).unwrap_or(0);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<FeedEvent> {
        self.sender.subscribe()
    }
}
