//! The audit entries the console writes for task changes. The request text goes in as a
//! digest (it is long free text and may carry something that must not be copied into the
//! log); a transition's note is a decision's reason and goes in as written.

use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, EntryKind};
use guardia_domain::{PersonName, Task, Transition};

pub(crate) fn task_subject(task: &Task) -> String {
    format!("task:{}", task.id)
}

pub(crate) fn task_created(task: &Task, actor: &PersonName) -> EntryDraft {
    EntryDraft::new(
        task.created_at,
        EntryKind::TaskCreated,
        actor.as_str(),
        task_subject(task),
    )
    .with("title", task.title.as_str())
    .with("category", task.category.code())
    .with(
        "sub_type",
        task.sub_type.as_ref().map(|s| s.as_str().to_owned()),
    )
    .with("system", task.system.as_str())
    .with("requester", task.requester.as_str())
    .with("status", task.status.code())
    .with_digest("request", task.request.as_str().as_bytes())
}

pub(crate) fn task_transitioned(
    task: &Task,
    transition: Transition,
    actor: &PersonName,
    note: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::TaskTransitioned,
        actor.as_str(),
        task_subject(task),
    )
    .with("from", transition.from.code())
    .with("to", transition.to.code())
    .with("event", transition.event.code())
    .with("note", note)
}
