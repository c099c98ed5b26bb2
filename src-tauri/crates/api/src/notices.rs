//! What a person should be told on their desktop (issue 10): a step now waits for them, a
//! step reached them by escalation (URGENT), their request was decided. Derived from the
//! stored state, not from in-process events, so a change made by the CLI or another console
//! is noticed as well; the shell calls [`Approvals::notices`] when the feed says tasks
//! changed and shows each with a desktop notification.

use std::collections::{HashMap, HashSet};

use guardia_domain::{PersonName, TaskId, TaskStatus};
use guardia_store::TaskFilter;

use crate::{ApprovalError, Approvals, Caller};

/// One desktop notification, in Korean and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub task: TaskId,
    pub summary: String,
    pub body: String,
    pub urgent: bool,
}

/// What the person has already been told; starts silent (what waits at sign-in is on the
/// screen already).
#[derive(Debug, Default)]
pub struct NoticeMemory {
    person: Option<PersonName>,
    waiting: HashSet<(TaskId, u32, usize)>,
    urgent: HashSet<(TaskId, u32, usize)>,
    mine: HashMap<TaskId, TaskStatus>,
}

impl Approvals<'_> {
    /// What is new for `caller` since `memory` was last updated.
    pub async fn notices(
        &self,
        caller: &Caller,
        memory: &mut NoticeMemory,
    ) -> Result<Vec<Notice>, ApprovalError> {
        let primed = memory.person.as_ref() == Some(&caller.person);
        if !primed {
            *memory = NoticeMemory {
                person: Some(caller.person.clone()),
                ..NoticeMemory::default()
            };
        }
        let mut notices = Vec::new();
        let inbox = self.inbox(caller).await?;
        let mut waiting = HashSet::new();
        let mut urgent = HashSet::new();
        for item in &inbox {
            let key = (item.task.id, item.round, item.step);
            waiting.insert(key);
            if item.urgent {
                urgent.insert(key);
            }
            let title = item.task.title.as_str();
            if item.urgent && !memory.urgent.contains(&key) {
                notices.push(Notice {
                    task: item.task.id,
                    summary: format!(
                        "URGENT 긴급 · {} 결재 이관 · escalated to you",
                        item.task.id
                    ),
                    body: format!("{title} ({})", item.task.system),
                    urgent: true,
                });
            } else if !memory.waiting.contains(&key) && !item.urgent {
                notices.push(Notice {
                    task: item.task.id,
                    summary: format!("{} 결재 대기 · waits for you", item.task.id),
                    body: format!("{title} ({})", item.task.system),
                    urgent: false,
                });
            }
        }
        let filter = TaskFilter {
            text: caller.person.to_string(),
            limit: TaskFilter::MAX_LIMIT,
            ..TaskFilter::default()
        };
        let mut mine = HashMap::new();
        for task in self.api.store.list_tasks(&filter).await? {
            if task.requester != caller.person {
                continue;
            }
            let before = memory.mine.get(&task.id).copied();
            let decided = matches!(
                task.status,
                TaskStatus::Approved | TaskStatus::Cancelled | TaskStatus::Returned
            );
            if decided && before == Some(TaskStatus::PendingApproval) {
                let (ko, en) = match task.status {
                    TaskStatus::Approved => ("승인됨", "approved"),
                    TaskStatus::Returned => ("보완 요청", "returned for information"),
                    _ => ("반려됨", "rejected"),
                };
                notices.push(Notice {
                    task: task.id,
                    summary: format!("{} {ko} · your request was {en}", task.id),
                    body: task.title.as_str().to_owned(),
                    urgent: false,
                });
            }
            mine.insert(task.id, task.status);
        }
        memory.waiting = waiting;
        memory.urgent = urgent;
        memory.mine = mine;
        Ok(if primed { notices } else { Vec::new() })
    }
}
