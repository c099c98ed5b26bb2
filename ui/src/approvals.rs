//! Approvals in the window: the "waiting for me" inbox (its count in the navigation), the
//! chain on a task's page with who holds each step and a live SLA countdown, and the
//! submit / approve / reject / return actions. The backend decides who may; the window only
//! offers what it would accept.

use chrono::{DateTime, Utc};
use guardia_domain::governance::{Chain, Holder, HopReason, StepKind, StepStatus, Verdict};
use guardia_domain::{TaskId, TaskStatus};
use guardia_ipc::{
    InboxGet, InboxItem, IpcError, SessionState, TaskDecide, TaskDecision, TaskDetail, TaskRef,
    TaskSubmit, Topic,
};
use leptos::ev;
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::Key;
use crate::ipc;
use crate::live::Live;
use crate::session::Auth;
use crate::widgets::{local_time, shown, typing_in_a_field};

/// The caller's inbox, refetched whenever tasks change (never polled).
#[derive(Clone, Copy)]
pub struct Inbox {
    pub items: LocalResource<Result<Vec<InboxItem>, IpcError>>,
    /// Comments being written, per task: a refetch of the task (any change to tasks
    /// rebuilds its page) must not wipe what the approver typed.
    drafts: StoredValue<std::collections::HashMap<TaskId, String>>,
}

impl Inbox {
    pub fn count(self) -> (usize, usize) {
        match self.items.get() {
            Some(Ok(items)) => (items.len(), items.iter().filter(|i| i.urgent).count()),
            _ => (0, 0),
        }
    }

    pub fn holds(self, id: TaskId) -> Option<InboxItem> {
        match self.items.get() {
            Some(Ok(items)) => items.into_iter().find(|i| i.task.id == id),
            _ => None,
        }
    }
}

/// Starts the inbox for the signed-in person and provides it to every screen.
pub fn provide() -> Inbox {
    let live = expect_context::<Live>();
    let auth = expect_context::<Auth>();
    let items = LocalResource::new(move || {
        live.track(Topic::Tasks);
        // A new person at the window has a new inbox.
        auth.state.track();
        async move { ipc::call::<InboxGet>(()).await }
    });
    let inbox = Inbox {
        items,
        drafts: StoredValue::new(std::collections::HashMap::new()),
    };
    provide_context(inbox);
    inbox
}

/// The count next to "Tasks" in the navigation: red when something is URGENT.
#[component]
pub fn InboxBadge() -> impl IntoView {
    let inbox = expect_context::<Inbox>();
    move || {
        let (count, urgent) = inbox.count();
        (count > 0).then(|| {
            view! {
                <span
                    class="nav-count"
                    class:urgent={urgent > 0}
                    data-test="inbox-count"
                    data-urgent=urgent.to_string()
                >
                    {count.to_string()}
                </span>
            }
        })
    }
}

/// Who the window is signed in as.
pub fn me(auth: Auth, ui: Ui) -> Option<String> {
    match auth.state.get() {
        Some(SessionState::SignedIn(view)) => Some(view.person.name),
        Some(SessionState::SetUp { operator }) => Some(operator),
        _ => ui.info.get().map(|i| i.operator),
    }
}

fn step_label(kind: StepKind) -> Key {
    match kind {
        StepKind::TeamLead => Key::StepTeamLead,
        StepKind::SecurityCheck => Key::StepSecurityCheck,
        StepKind::Pm => Key::StepPm,
        StepKind::SecurityOfficer => Key::StepSecurityOfficer,
    }
}

fn status_key(status: StepStatus) -> (Key, &'static str) {
    match status {
        StepStatus::Pending => (Key::StepPending, "closed"),
        StepStatus::Waiting => (Key::StepWaiting, "waiting"),
        StepStatus::Approved => (Key::StepApproved, "done"),
        StepStatus::Passed => (Key::StepPassed, "done"),
        StepStatus::Rejected => (Key::StepRejected, "alarm"),
        StepStatus::Failed => (Key::StepFailed, "alarm"),
        StepStatus::Returned => (Key::StepReturned, "active"),
    }
}

fn holder_text(ui: Ui, holder: &Holder) -> String {
    match holder {
        Holder::Person { name, level } => match level {
            Some(level) => format!("{name} ({})", level.code()),
            None => name.to_string(),
        },
        Holder::Pool { role } => format!("{role} — {}", ui.t(Key::AnyOfRole)),
    }
}

/// Time left until a step escalates, redrawn each second by a display clock (no data is
/// fetched: the chain itself arrives through the change feed). The clock runs only while
/// a countdown is on screen and stops once the deadline has passed.
#[component]
fn Countdown(due: DateTime<Utc>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let now = crate::widgets::display_clock(Some(due));
    view! {
        <p class="countdown" data-test="chain-countdown">
            {move || {
                let left = due - now.get();
                if left.num_seconds() <= 0 {
                    ui.t(Key::Overdue).to_owned()
                } else {
                    format!("{} {}", ui.t(Key::EscalatesIn), countdown(left))
                }
            }}
        </p>
    }
}

fn countdown(left: chrono::Duration) -> String {
    let secs = left.num_seconds().max(0);
    format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Every round of a task's chain: steps in order, who holds the waiting one and for how
/// long, hops, decisions with their comments, and the security check's findings.
#[component]
pub fn ChainPanel(rounds: Vec<Chain>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let last = rounds.len();
    rounds
        .into_iter()
        .enumerate()
        .map(|(r, chain)| {
            let current = r + 1 == last;
            let steps = chain
                .steps
                .into_iter()
                .enumerate()
                .map(|(i, step)| {
                    let (label, tone) = status_key(step.status);
                    let holder = step.holder.clone();
                    let waiting = step.status == StepStatus::Waiting;
                    let due = step.due.filter(|_| waiting);
                    let hops = step
                        .hops
                        .iter()
                        .map(|hop| {
                            let why = match hop.reason {
                                HopReason::SlaExpired => Key::ReasonSla,
                                HopReason::OwnerAway => Key::ReasonAway,
                            };
                            let to = hop.to.clone();
                            let at = hop.at;
                            view! {
                                <li class="hop" data-test="chain-hop">
                                    <span class="mono">{local_time(at)}</span>" "
                                    {move || ui.t(Key::HandedOn)}" → "{move || holder_text(ui, &to)}
                                    " ("{move || ui.t(why)}")"
                                </li>
                            }
                        })
                        .collect_view();
                    let decision = step.decision.clone().map(|d| {
                        view! {
                            <p class="decision" data-test="chain-decision">
                                <span class="mono">{local_time(d.at)}</span>" "
                                <strong>{d.by.to_string()}</strong>": "{shown(&d.comment)}
                            </p>
                        }
                    });
                    let failures = step
                        .check
                        .map(|c| c.failures)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|f| view! { <p class="field-error">{move || ui.t(Key::CheckFailed)}": "{shown(&f)}</p> })
                        .collect_view();
                    view! {
                        <li
                            class="chain-step"
                            data-test="chain-step"
                            data-status=format!("{:?}", step.status).to_lowercase()
                            data-kind=step.kind.code()
                        >
                            <div class="chain-head">
                                <span class="step-no">{(i + 1).to_string()}</span>
                                <span class="step-kind">{move || ui.t(step_label(step.kind))}</span>
                                <span class=format!("badge tone-{tone}")>{move || ui.t(label)}</span>
                                {step.urgent.then(|| view! {
                                    <span class="badge tone-alarm" data-test="chain-urgent">{move || ui.t(Key::Urgent)}</span>
                                })}
                            </div>
                            {holder.filter(|_| waiting).map(|h| view! {
                                <p class="muted" data-test="chain-holder">
                                    {move || ui.t(Key::HeldBy)}": "{move || holder_text(ui, &h)}
                                </p>
                            })}
                            {due.map(|due| view! { <Countdown due=due /> })}
                            <ul class="hops">{hops}</ul>
                            {decision}
                            {failures}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="chain" class:past=!current data-test="chain" data-round=chain.round.to_string()>
                    <p class="muted">{move || ui.t(Key::ApprovalRound)}" "{chain.round.to_string()}</p>
                    <ol class="chain-steps">{steps}</ol>
                </div>
            }
        })
        .collect_view()
}

/// Whether a dialog (the new-task form, …) is open: shortcuts of the page underneath wait.
fn modal_open() -> bool {
    document()
        .query_selector(".modal-backdrop")
        .ok()
        .flatten()
        .is_some()
}

/// Whether a key press comes from inside a decision box.
fn from_decision_box(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("[data-test=decision-box]").ok().flatten())
        .is_some()
}

/// What the signed-in person may do with this task now: submit it (its requester, while
/// new or returned) or decide the step they hold.
#[component]
pub fn ApprovalActions(detail: TaskDetail) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let inbox = expect_context::<Inbox>();
    let id = detail.task.id;
    let requester = StoredValue::new(detail.task.requester.to_string());
    let status = detail.task.status;
    let comment = RwSignal::new(
        inbox
            .drafts
            .with_value(|d| d.get(&id).cloned())
            .unwrap_or_default(),
    );
    Effect::new(move |_| {
        let text = comment.get();
        inbox.drafts.update_value(|d| {
            if text.is_empty() {
                d.remove(&id);
            } else {
                d.insert(id, text);
            }
        });
    });
    let error = RwSignal::new(None::<String>);

    let submit = Action::new_local(move |(): &()| async move {
        ipc::call::<TaskSubmit>(TaskRef { id: id.to_string() }).await
    });
    let decide = Action::new_local(move |(verdict, comment): &(Verdict, String)| {
        let decision = TaskDecision {
            id: id.to_string(),
            verdict: *verdict,
            comment: comment.clone(),
        };
        async move { ipc::call::<TaskDecide>(decision).await }
    });
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(_)) => ui.notify(format!("{id} {}", ui.t(Key::Submitted))),
        Some(Err(e)) => ui.notify_error(&e),
        None => {}
    });
    Effect::new(move |_| match decide.value().get() {
        Some(Ok(_)) => {
            comment.set(String::new());
            ui.notify(format!("{id} {}", ui.t(Key::Decided)));
        }
        Some(Err(e)) => ui.notify_error(&e),
        None => {}
    });

    let may_submit = move || {
        matches!(status, TaskStatus::Received | TaskStatus::Returned)
            && requester.with_value(|r| me(auth, ui).as_deref() == Some(r.as_str()))
    };
    let holds = move || inbox.holds(id);
    let run = move |verdict: Verdict| {
        if decide.pending().get_untracked() {
            return;
        }
        let text = comment.get_untracked();
        if text.trim().is_empty() {
            error.set(Some(ui.t(Key::CommentNeeded).to_owned()));
            return;
        }
        error.set(None);
        decide.dispatch((verdict, text));
    };

    let keys = window_event_listener(ev::keydown, move |ev| {
        if ev.alt_key() || ev.meta_key() || modal_open() {
            return;
        }
        // Ctrl+Enter approves only from inside this task's decision box; single keys act
        // when not typing.
        if ev.ctrl_key() {
            if ev.key() == "Enter" && holds().is_some() && from_decision_box(&ev) {
                ev.prevent_default();
                run(Verdict::Approve);
            }
            return;
        }
        if typing_in_a_field(&ev) {
            return;
        }
        match ev.key().as_str() {
            "s" | "S" if may_submit() && !submit.pending().get_untracked() => {
                ev.prevent_default();
                submit.dispatch(());
            }
            "a" | "A" if holds().is_some() => run(Verdict::Approve),
            "x" | "X" if holds().is_some() => run(Verdict::Reject),
            "b" | "B" if holds().is_some() => run(Verdict::Return),
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());

    view! {
        <Show when=may_submit>
            <button
                class="primary"
                data-test="submit-approval"
                disabled=move || submit.pending().get()
                on:click=move |_| {
                    submit.dispatch(());
                }
            >
                {move || ui.t(Key::SubmitForApproval)}<kbd>"S"</kbd>
            </button>
        </Show>
        {move || holds().map(|item| view! {
            <div class="decision-box" data-test="decision-box" class:urgent=item.urgent>
                {item.urgent.then(|| view! { <span class="badge tone-alarm">{move || ui.t(Key::Urgent)}</span> })}
                <label>
                    <span>{move || ui.t(Key::DecisionComment)}</span>
                    <textarea
                        rows="3"
                        data-test="decision-comment"
                        prop:value=move || comment.get()
                        on:input=move |ev| comment.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <p class="field-error" role="alert" data-test="decision-error">{move || error.get()}</p>
                <div class="actions">
                    <button class="primary" data-test="approve" disabled=move || decide.pending().get() on:click=move |_| run(Verdict::Approve)>
                        {move || ui.t(Key::Approve)}<kbd>"A"</kbd>
                    </button>
                    <button class="ghost" data-test="return" disabled=move || decide.pending().get() on:click=move |_| run(Verdict::Return)>
                        {move || ui.t(Key::ReturnForInfo)}<kbd>"B"</kbd>
                    </button>
                    <button class="danger" data-test="reject" disabled=move || decide.pending().get() on:click=move |_| run(Verdict::Reject)>
                        {move || ui.t(Key::Reject)}<kbd>"X"</kbd>
                    </button>
                </div>
            </div>
        })}
    }
}
