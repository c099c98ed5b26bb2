//! The Tasks screen: register, filter, and inspect ops tasks.

use guardia_domain::{Category, Field, Priority, TaskDraft, TaskId, TaskStatus, TimelineKind};
use guardia_ipc::Topic;
use guardia_ipc::{
    IpcError, SystemChoices, TaskCreate, TaskDetail, TaskGet, TaskList, TaskQuery, TaskRef,
    TaskSummary,
};
use leptos::ev;
use leptos::html;
use leptos::prelude::*;

use crate::app::Ui;
use crate::approvals::{ApprovalActions, ChainPanel, Inbox};
use crate::i18n::{
    Key, category_label, event_label, priority_label, problem_text, status_label, sub_type_label,
    task_count,
};
use crate::ipc;
use crate::live::Live;
use crate::widgets::{ErrorPanel, StatusBadge, focus, local_time, shown, typing_in_a_field};

/// How many tasks the list asks for at once. The backend answers newest first.
const PAGE: u32 = 500;

#[component]
pub fn TasksPage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let text = RwSignal::new(String::new());
    let category = RwSignal::new(None::<Category>);
    let status = RwSignal::new(None::<TaskStatus>);
    let selected = RwSignal::new(None::<TaskId>);
    let form_open = RwSignal::new(false);
    // Only what waits for me (the "Needs me" tile, key I).
    let mine = RwSignal::new(false);
    let inbox = expect_context::<Inbox>();
    let search_box = NodeRef::<html::Input>::new();

    let live = expect_context::<Live>();
    let list = LocalResource::new(move || {
        live.track(Topic::Tasks);
        let query = TaskQuery {
            status: status.get(),
            category: category.get(),
            text: text.get(),
            limit: Some(PAGE),
        };
        async move { ipc::call::<TaskList>(query).await }
    });

    // Whether any filter is set: decides the empty-list message and what a new task clears.
    let filtering = move || {
        !text.get_untracked().is_empty()
            || category.get_untracked().is_some()
            || status.get_untracked().is_some()
    };

    // The list as shown: everything, or only what waits for me (urgent first).
    let shown_tasks = move || -> Option<Result<Vec<TaskSummary>, IpcError>> {
        let tasks = list.get()?;
        if !mine.get() {
            return Some(tasks);
        }
        Some(match inbox.items.get() {
            Some(Ok(items)) => Ok(items.into_iter().map(|i| i.task).collect()),
            Some(Err(e)) => Err(e),
            None => Ok(Vec::new()),
        })
    };
    let loaded_ids = move || -> Vec<TaskId> {
        match shown_tasks() {
            Some(Ok(tasks)) => tasks.iter().map(|t| t.id).collect(),
            _ => Vec::new(),
        }
    };

    let keys = window_event_listener(ev::keydown, move |ev| {
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() {
            return;
        }
        if ev.key() == "Escape" {
            if form_open.get_untracked() {
                form_open.set(false);
            } else {
                selected.set(None);
            }
            return;
        }
        if form_open.get_untracked() || typing_in_a_field(&ev) {
            return;
        }
        match ev.key().as_str() {
            "n" | "N" => {
                ev.prevent_default();
                form_open.set(true);
            }
            "/" => {
                ev.prevent_default();
                if let Some(input) = search_box.get_untracked() {
                    focus(&input, "the search box");
                }
            }
            "r" | "R" => list.refetch(),
            "i" | "I" => mine.update(|m| *m = !*m),
            "ArrowDown" | "ArrowUp" => {
                ev.prevent_default();
                let ids = loaded_ids();
                let current = selected
                    .get_untracked()
                    .and_then(|id| ids.iter().position(|x| *x == id));
                let next = match (ev.key().as_str(), current) {
                    (_, None) => 0,
                    ("ArrowDown", Some(i)) => (i + 1).min(ids.len().saturating_sub(1)),
                    (_, Some(i)) => i.saturating_sub(1),
                };
                if let Some(id) = ids.get(next) {
                    selected.set(Some(*id));
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());

    let on_created = Callback::new(move |detail: TaskDetail| {
        form_open.set(false);
        let id = detail.task.id;
        // Clear filters that could hide the new task; any change refetches the list.
        if filtering() {
            text.set(String::new());
            category.set(None);
            status.set(None);
        } else {
            list.refetch();
        }
        selected.set(Some(id));
        ui.notify(format!("{id} {}", ui.t(Key::Registered)));
    });

    view! {
        <section class="tasks" data-test="page-tasks">
            <div class="toolbar">
                <button class="primary" data-test="new-task" on:click=move |_| form_open.set(true)>
                    {move || ui.t(Key::NewTask)}
                    <kbd>"N"</kbd>
                </button>
                <input
                    type="search"
                    class="search"
                    data-test="task-search"
                    node_ref=search_box
                    placeholder=move || ui.t(Key::SearchPlaceholder)
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
                <select
                    data-test="filter-category"
                    aria-label=move || ui.t(Key::ColCategory)
                    on:change=move |ev| category.set(event_target_value(&ev).parse().ok())
                    prop:value=move || category.get().map(Category::code).unwrap_or_default()
                >
                    <option value="">{move || ui.t(Key::AllCategories)}</option>
                    {Category::ALL
                        .map(|c| {
                            view! {
                                <option value=c.code()>{move || category_label(ui.lang.get(), c)}</option>
                            }
                        })
                        .collect_view()}
                </select>
                <select
                    data-test="filter-status"
                    aria-label=move || ui.t(Key::ColStatus)
                    on:change=move |ev| status.set(TaskStatus::from_code(&event_target_value(&ev)))
                    prop:value=move || status.get().map(TaskStatus::code).unwrap_or_default()
                >
                    <option value="">{move || ui.t(Key::AllStatuses)}</option>
                    {TaskStatus::ALL
                        .map(|s| {
                            view! {
                                <option value=s.code()>{move || status_label(ui.lang.get(), s)}</option>
                            }
                        })
                        .collect_view()}
                </select>
                <button class="ghost" title=move || ui.t(Key::Refresh) data-test="refresh" on:click=move |_| list.refetch()>
                    "↻"
                </button>
                <span class="count" data-test="task-count">
                    {move || match list.get() {
                        Some(Ok(tasks)) => {
                            let full = u32::try_from(tasks.len()).is_ok_and(|n| n >= PAGE);
                            task_count(ui.lang.get(), tasks.len(), full)
                        }
                        _ => String::new(),
                    }}
                </span>
            </div>
            <CountTiles list=list mine=mine />
            <div class="split">
                <div class="list-pane">
                    {move || match shown_tasks() {
                        None => view! { <p class="loading" data-test="tasks-loading">{ui.t(Key::Loading)}</p> }.into_any(),
                        Some(Err(error)) => view! {
                            <ErrorPanel
                                title=Signal::derive(move || ui.t(Key::NavTasks).to_owned())
                                error=error
                                retry=Callback::new(move |()| list.refetch())
                            />
                        }
                        .into_any(),
                        Some(Ok(tasks)) if tasks.is_empty() && mine.get() => view! {
                            <div class="empty" data-test="inbox-empty">
                                <h2>{move || ui.t(Key::InboxEmpty)}</h2>
                            </div>
                        }
                        .into_any(),
                        Some(Ok(tasks)) if tasks.is_empty() => {
                            let filtered = filtering();
                            view! {
                                <div class="empty" data-test="tasks-empty">
                                    <h2>{move || ui.t(if filtered { Key::NoMatches } else { Key::NoTasks })}</h2>
                                    <p>{move || if filtered { "" } else { ui.t(Key::NoTasksHint) }}</p>
                                </div>
                            }
                            .into_any()
                        }
                        Some(Ok(tasks)) => view! { <TaskTable tasks=tasks selected=selected /> }.into_any(),
                    }}
                </div>
                {move || selected.get().map(|id| view! { <TaskDetailPane id=id selected=selected /> })}
            </div>
            {move || form_open.get().then(|| view! {
                <TaskForm on_close=Callback::new(move |()| form_open.set(false)) on_created=on_created />
            })}
        </section>
    }
}

#[component]
fn TaskTable(tasks: Vec<TaskSummary>, selected: RwSignal<Option<TaskId>>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let inbox = expect_context::<Inbox>();
    let rows = tasks
        .into_iter()
        .map(|task| {
            let id = task.id;
            view! {
                <tr
                    data-test="task-row"
                    data-id=id.to_string()
                    class:selected=move || selected.get() == Some(id)
                    on:click=move |_| selected.set(Some(id))
                >
                    <td>
                        // A real button per row: Tab reaches every task, Enter opens it.
                        <button class="link mono" data-test="open-task" on:click=move |_| selected.set(Some(id))>
                            {id.to_string()}
                        </button>
                    </td>
                    <td class="title">
                        {(task.priority <= Priority::High).then(|| view! {
                            <span
                                class="badge"
                                class:tone-alarm={task.priority == Priority::Urgent}
                                class:tone-active={task.priority == Priority::High}
                                data-test="row-priority"
                                data-priority=task.priority.code()
                            >
                                {move || priority_label(ui.lang.get(), task.priority)}
                            </span>
                            " "
                        })}
                        {shown(&task.title.to_string())}
                    </td>
                    <td>{move || category_label(ui.lang.get(), task.category)}</td>
                    <td>{task.system.to_string()}</td>
                    <td>
                        <StatusBadge status=task.status />
                        {move || inbox.holds(id).map(|item| view! {
                            <span
                                class="badge"
                                class:tone-alarm=item.urgent
                                class:tone-waiting=!item.urgent
                                data-test="row-needs-me"
                                data-urgent=item.urgent.to_string()
                            >
                                {move || ui.t(if item.urgent { Key::Urgent } else { Key::TileNeedsMe })}
                            </span>
                        })}
                    </td>
                    <td>{shown(&task.requester.to_string())}</td>
                    <td class="mono muted">{local_time(task.created_at)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="task-table" data-test="task-table">
            <thead>
                <tr>
                    <th>{move || ui.t(Key::ColId)}</th>
                    <th>{move || ui.t(Key::ColTitle)}</th>
                    <th>{move || ui.t(Key::ColCategory)}</th>
                    <th>{move || ui.t(Key::ColSystem)}</th>
                    <th>{move || ui.t(Key::ColStatus)}</th>
                    <th>{move || ui.t(Key::ColRequester)}</th>
                    <th>{move || ui.t(Key::ColCreated)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn TaskDetailPane(id: TaskId, selected: RwSignal<Option<TaskId>>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let detail = LocalResource::new(move || {
        live.track(Topic::Tasks);
        async move { ipc::call::<TaskGet>(TaskRef { id: id.to_string() }).await }
    });
    view! {
        <aside class="detail-pane" data-test="task-detail" aria-label=move || ui.t(Key::Details)>
            <div class="detail-head">
                <span class="mono">{id.to_string()}</span>
                <button class="ghost" data-test="detail-close" title=move || ui.t(Key::Close) on:click=move |_| selected.set(None)>
                    "×"
                </button>
            </div>
            {move || match detail.get() {
                None => view! { <p class="loading">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <ErrorPanel
                        title=Signal::derive(move || ui.t(Key::Details).to_owned())
                        error=error
                        retry=Callback::new(move |()| detail.refetch())
                    />
                }
                .into_any(),
                Some(Ok(detail)) => view! { <TaskDetailBody detail=detail /> }.into_any(),
            }}
        </aside>
    }
}

#[component]
fn TaskDetailBody(detail: TaskDetail) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let actions = detail.clone();
    let rounds = detail.approvals;
    let task = detail.task;
    let sub_type = task.sub_type.map(|s| s.to_string());
    let request = task.request.as_str().to_owned();
    let timeline = detail
        .timeline
        .into_iter()
        .map(|entry| {
            let kind = entry.kind;
            let what = move || match kind {
                TimelineKind::Created => ui.t(Key::TimelineCreated).to_owned(),
                TimelineKind::Transition(t) => format!(
                    "{} · {} → {}",
                    event_label(ui.lang.get(), t.event),
                    status_label(ui.lang.get(), t.from),
                    status_label(ui.lang.get(), t.to)
                ),
            };
            let note = (!entry.note.is_empty())
                .then(|| view! { <p class="note">{shown(&entry.note)}</p> });
            view! {
                <li data-test="timeline-entry">
                    <div class="when mono">{local_time(entry.at)}</div>
                    <div class="what">{what}</div>
                    <div class="who">{entry.actor.to_string()}</div>
                    {note}
                </li>
            }
        })
        .collect_view();
    view! {
        <h2 class="detail-title" data-test="detail-title">{shown(&task.title.to_string())}</h2>
        <div data-test="detail-status"><StatusBadge status=task.status /></div>
        <crate::incidents::OpenIncidentFrom link=task.id.to_string() />
        <dl class="facts">
            <dt>{move || ui.t(Key::FieldCategory)}</dt>
            <dd>{move || category_label(ui.lang.get(), task.category)}</dd>
            <dt>{move || ui.t(Key::FieldSubType)}</dt>
            <dd>
                {move || match &sub_type {
                    Some(code) => sub_type_label(ui.lang.get(), code),
                    None => "—".to_owned(),
                }}
            </dd>
            <dt>{move || ui.t(Key::FieldSystem)}</dt>
            <dd>{shown(&task.system.to_string())}</dd>
            <dt>{move || ui.t(Key::FieldPriority)}</dt>
            <dd data-test="detail-priority">{move || priority_label(ui.lang.get(), task.priority)}</dd>
            <dt>{move || ui.t(Key::FieldRequester)}</dt>
            <dd>{shown(&task.requester.to_string())}</dd>
            <dt>{move || ui.t(Key::Created)}</dt>
            <dd class="mono">{local_time(task.created_at)}</dd>
            <dt>{move || ui.t(Key::Updated)}</dt>
            <dd class="mono">{local_time(task.updated_at)}</dd>
        </dl>
        <h3>{move || ui.t(Key::FieldRequest)}</h3>
        {if request.is_empty() {
            view! { <p class="muted">{move || ui.t(Key::NoRequestText)}</p> }.into_any()
        } else {
            view! { <p class="request" data-test="detail-request">{shown(&request)}</p> }.into_any()
        }}
        <div class="approval-actions">
            <ApprovalActions detail=actions />
        </div>
        {matches!(task.status, TaskStatus::PendingReview | TaskStatus::ReadyToRollOut | TaskStatus::InProgress
            | TaskStatus::RollingOut | TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Halted | TaskStatus::RolledBack)
            .then(|| {
                let id = task.id.to_string();
                view! {
                    <button class="primary" data-test="open-review-from-task" on:click=move |_| {
                        expect_context::<crate::reviews::ReviewNav>().task.set(Some(id.clone()));
                        expect_context::<crate::app::Nav>().page.set(crate::app::Page::Reviews);
                    }>{move || ui.t(Key::OpenReview)}</button>
                }
            })}
        {(task.status == TaskStatus::ReadyToRollOut).then(|| {
            let id = task.id.to_string();
            view! {
                <button class="primary" data-test="roll-out-from-task" on:click=move |_| {
                    expect_context::<crate::rollouts::RolloutNav>().task.set(Some(id.clone()));
                    expect_context::<crate::app::Nav>().page.set(crate::app::Page::Rollouts);
                }>{move || ui.t(Key::StartRollout)}</button>
            }
        })}
        <h3>{move || ui.t(Key::Documents)}</h3>
        <crate::reviews::DocumentsList task=task.id.to_string() />
        {(!rounds.is_empty()).then(|| view! {
            <h3>{move || ui.t(Key::ApprovalChain)}</h3>
            <div data-test="approval-chain"><ChainPanel rounds=rounds /></div>
        })}
        <h3>{move || ui.t(Key::Timeline)}</h3>
        <ol class="timeline" data-test="timeline">{timeline}</ol>
    }
}

/// Waiting / in progress / done / needs me, over the tasks loaded; "needs me" filters the
/// list to the inbox (key I).
#[component]
fn CountTiles(
    list: LocalResource<Result<Vec<TaskSummary>, IpcError>>,
    mine: RwSignal<bool>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let inbox = expect_context::<Inbox>();
    let counts = move || {
        let tasks = match list.get() {
            Some(Ok(tasks)) => tasks,
            _ => Vec::new(),
        };
        let count = |f: fn(TaskStatus) -> bool| tasks.iter().filter(|t| f(t.status)).count();
        (
            count(|s| {
                matches!(
                    s,
                    TaskStatus::Received | TaskStatus::PendingApproval | TaskStatus::Returned
                )
            }),
            count(|s| {
                matches!(
                    s,
                    TaskStatus::Approved
                        | TaskStatus::InProgress
                        | TaskStatus::PendingReview
                        | TaskStatus::ReadyToRollOut
                        | TaskStatus::RollingOut
                )
            }),
            count(|s| s.is_terminal()),
        )
    };
    let tile = move |key: Key, value: Signal<usize>, test: &'static str| {
        view! {
            <div class="tile" data-test=test>
                <span class="tile-value">{move || value.get().to_string()}</span>
                <span class="tile-label">{move || ui.t(key)}</span>
            </div>
        }
    };
    view! {
        <div class="tiles">
            {tile(Key::TileWaiting, Signal::derive(move || counts().0), "tile-waiting")}
            {tile(Key::TileInProgress, Signal::derive(move || counts().1), "tile-in-progress")}
            {tile(Key::TileDone, Signal::derive(move || counts().2), "tile-done")}
            <button
                class="tile"
                class:active=move || mine.get()
                class:urgent={move || inbox.count().1 > 0}
                data-test="tile-needs-me"
                title=move || ui.t(Key::InboxTitle)
                aria-pressed=move || mine.get().to_string()
                on:click=move |_| mine.update(|m| *m = !*m)
            >
                <span class="tile-value">{move || inbox.count().0.to_string()}</span>
                <span class="tile-label">{move || ui.t(Key::TileNeedsMe)}<kbd>"I"</kbd></span>
            </button>
        </div>
    }
}

#[component]
fn TaskForm(on_close: Callback<()>, on_created: Callback<TaskDetail>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let title = RwSignal::new(String::new());
    let category = RwSignal::new(None::<Category>);
    let sub_type = RwSignal::new(String::new());
    let system = RwSignal::new(String::new());
    let requester = RwSignal::new(
        ui.info
            .get_untracked()
            .map(|i| i.operator)
            .unwrap_or_default(),
    );
    let request = RwSignal::new(String::new());
    let priority = RwSignal::new(Priority::Normal);
    // The systems of the inventory: the target is picked from them (free text only while the
    // inventory is empty).
    let choices =
        LocalResource::new(|| async { ipc::call::<SystemChoices>(()).await.unwrap_or_default() });
    let chosen = move || {
        let name = system.get();
        choices
            .get()
            .and_then(|all| all.into_iter().find(|c| c.system == name.trim()))
    };
    // Errors appear after the first attempt to submit, then follow every keystroke.
    let attempted = RwSignal::new(false);
    let server_error = RwSignal::new(None::<IpcError>);
    let title_box = NodeRef::<html::Input>::new();

    let draft = move || TaskDraft {
        title: title.get(),
        category: category.get(),
        sub_type: sub_type.get(),
        system: system.get(),
        request: request.get(),
        requester: requester.get(),
        priority: Some(priority.get()),
    };
    let client_errors = Memo::new(move |_| draft().validate().err().unwrap_or_default());
    let field_error = move |field: Field| {
        if !attempted.get() {
            return None;
        }
        let from_client = client_errors.get().into_iter().find(|e| e.field == field);
        let from_server = move || {
            server_error
                .get()
                .and_then(|e| e.fields.into_iter().find(|f| f.field == field))
        };
        from_client
            .or_else(from_server)
            .map(|e| problem_text(ui.lang.get(), e.problem))
    };

    let create = Action::new_local(|draft: &TaskDraft| {
        let draft = draft.clone();
        async move { ipc::call::<TaskCreate>(draft).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(detail)) => on_created.run(detail),
        Some(Err(error)) => server_error.set(Some(error)),
        None => {}
    });

    let submit = move || {
        attempted.set(true);
        server_error.set(None);
        if create.pending().get_untracked() {
            return;
        }
        if client_errors.get_untracked().is_empty() {
            create.dispatch(draft());
        } else if let Some(input) = title_box.get_untracked()
            && title.get_untracked().trim().is_empty()
        {
            // Put the cursor back in the form so the operator can fix it by keyboard.
            focus(&input, "the title field");
        }
    };

    Effect::new(move |_| {
        if let Some(input) = title_box.get() {
            focus(&input, "the title field");
        }
    });

    let sub_types = move || {
        category
            .get()
            .map(|c| c.suggested_sub_types())
            .unwrap_or(&[])
    };
    let error_line = move |field: Field, test: &'static str| {
        view! {
            <p class="field-error" data-test=test role="alert">
                {move || field_error(field)}
            </p>
        }
    };

    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" data-test="task-form">
                <h2>{move || ui.t(Key::FormTitle)}</h2>
                <form
                    novalidate
                    on:submit=move |ev| {
                        ev.prevent_default();
                        submit();
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                            ev.prevent_default();
                            submit();
                        }
                    }
                >
                    <label>
                        <span>{move || ui.t(Key::FieldTitle)}" *"</span>
                        <input
                            data-test="field-title"
                            node_ref=title_box
                            maxlength="200"
                            class:invalid=move || field_error(Field::Title).is_some()
                            prop:value=move || title.get()
                            on:input=move |ev| title.set(event_target_value(&ev))
                        />
                        <span class="counter">{move || format!("{}/120", title.get().trim().chars().count())}</span>
                    </label>
                    {error_line(Field::Title, "error-title")}
                    <div class="row">
                        <label>
                            <span>{move || ui.t(Key::FieldCategory)}" *"</span>
                            <select
                                data-test="field-category"
                                class:invalid=move || field_error(Field::Category).is_some()
                                prop:value=move || category.get().map(Category::code).unwrap_or_default()
                                on:change=move |ev| {
                                    let chosen = event_target_value(&ev).parse::<Category>().ok();
                                    category.set(chosen);
                                    let keep = chosen
                                        .is_some_and(|c| c.suggested_sub_types().contains(&sub_type.get_untracked().as_str()));
                                    if !keep {
                                        sub_type.set(String::new());
                                    }
                                }
                            >
                                <option value="">{move || ui.t(Key::ChooseCategory)}</option>
                                {Category::ALL
                                    .map(|c| view! { <option value=c.code()>{move || category_label(ui.lang.get(), c)}</option> })
                                    .collect_view()}
                            </select>
                        </label>
                        <label>
                            <span>{move || ui.t(Key::FieldSubType)}</span>
                            <select
                                data-test="field-sub-type"
                                prop:value=move || sub_type.get()
                                on:change=move |ev| sub_type.set(event_target_value(&ev))
                            >
                                <option value="">{move || ui.t(Key::SubTypeUnspecified)}</option>
                                {move || sub_types()
                                    .iter()
                                    .map(|code| view! { <option value=*code>{move || sub_type_label(ui.lang.get(), code)}</option> })
                                    .collect_view()}
                            </select>
                        </label>
                    </div>
                    {error_line(Field::Category, "error-category")}
                    {error_line(Field::SubType, "error-sub-type")}
                    <div class="row">
                        <label>
                            <span>{move || ui.t(Key::FieldSystem)}" *"</span>
                            <input
                                data-test="field-system"
                                list="system-choices"
                                autocomplete="off"
                                placeholder=move || ui.t(Key::SystemPlaceholder)
                                class:invalid=move || field_error(Field::System).is_some()
                                prop:value=move || system.get()
                                on:input=move |ev| system.set(event_target_value(&ev))
                            />
                            <datalist id="system-choices">
                                {move || choices.get().unwrap_or_default().into_iter().map(|c| view! {
                                    <option value=c.system.clone()>{format!("{} · {}", c.institution, c.system)}</option>
                                }).collect_view()}
                            </datalist>
                            <span class="hint" data-test="system-facts">
                                {move || chosen().map(|c| format!(
                                    "{} · {} {} · {} {} · {} {}",
                                    c.institution,
                                    c.sites,
                                    ui.t(Key::SitesWord),
                                    c.servers,
                                    ui.t(Key::ServersWord),
                                    ui.t(Key::Owner),
                                    c.owner.unwrap_or_else(|| "—".into()),
                                ))}
                            </span>
                        </label>
                        <label>
                            <span>{move || ui.t(Key::FieldRequester)}" *"</span>
                            <input
                                data-test="field-requester"
                                class:invalid=move || field_error(Field::Requester).is_some()
                                prop:value=move || requester.get()
                                on:input=move |ev| requester.set(event_target_value(&ev))
                            />
                        </label>
                    </div>
                    <label>
                        <span>{move || ui.t(Key::FieldPriority)}</span>
                        <select
                            data-test="field-priority"
                            prop:value=move || priority.get().code()
                            on:change=move |ev| {
                                if let Some(p) = Priority::parse(&event_target_value(&ev)) {
                                    priority.set(p);
                                }
                            }
                        >
                            {Priority::ALL
                                .map(|p| view! { <option value=p.code()>{move || priority_label(ui.lang.get(), p)}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    {error_line(Field::System, "error-system")}
                    {error_line(Field::Requester, "error-requester")}
                    <label>
                        <span>{move || ui.t(Key::FieldRequest)}</span>
                        <textarea
                            data-test="field-request"
                            rows="6"
                            placeholder=move || ui.t(Key::RequestPlaceholder)
                            prop:value=move || request.get()
                            on:input=move |ev| request.set(event_target_value(&ev))
                        ></textarea>
                    </label>
                    {error_line(Field::Request, "error-request")}
                    {move || {
                        let general = server_error.get().filter(|e| e.fields.is_empty());
                        let summary = attempted.get() && !client_errors.get().is_empty();
                        match (general, summary) {
                            (Some(error), _) => Some(view! {
                                <p class="form-error" role="alert" data-test="form-error">
                                    {crate::i18n::error_headline(ui.lang.get(), error.code)}": "{shown(&error.message)}
                                </p>
                            }.into_any()),
                            (None, true) => Some(view! {
                                <p class="form-error" data-test="form-error">{ui.t(Key::FormHasErrors)}</p>
                            }.into_any()),
                            (None, false) => None,
                        }
                    }}
                    <div class="actions">
                        <button type="button" class="ghost" data-test="cancel-task" on:click=move |_| on_close.run(())>
                            {move || ui.t(Key::Cancel)}
                            <kbd>"Esc"</kbd>
                        </button>
                        <button type="submit" class="primary" data-test="submit-task" disabled=move || create.pending().get()>
                            {move || ui.t(if create.pending().get() { Key::Registering } else { Key::Register })}
                            <kbd>"Ctrl+Enter"</kbd>
                        </button>
                    </div>
                </form>
            </div>
        </div>
    }
}
