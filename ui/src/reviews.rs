//! The Reviews screen: result packages waiting for a PM, the inbox folder, and the review
//! of one package — file tree with marks, the diff as a fixed-row-height virtual list fed
//! in windows by the backend (highlighting arrives after the rows), search inside the diff,
//! line comments, the execution log, health results, documents for the agent, and the
//! decision bound to what was seen.
//!
//! Nothing here decides: the backend checks who may mark, comment and decide, and records
//! which rows it served to whom. The window keeps only what it is showing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use guardia_domain::TaskStatus;
use guardia_ipc::{
    CommentInput, DiffCell, DiffHighlight, DiffLayout, DiffRow, DiffSearch, DiffSearchCmd,
    DiffView, DiffWindowGet, DiffWindowQuery, DocumentView, FileMark, FileMarkSet, HighlightQuery,
    Highlights, IpcError, LogSearch, LogSearchCmd, LogWindowGet, LogWindowQuery, MarkView,
    PackageGet, PackageImport, PackageImportCmd, PackageInbox, PackageRef, PackageView,
    ReviewCommentAdd, ReviewDecide, ReviewDecisionInput, ReviewFile, Span, TaskDocuments, TaskList,
    TaskQuery, TaskRef, Topic, VersionChange,
};
use leptos::ev;
use leptos::html;
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::Key;
use crate::ipc;
use crate::live::Live;
use crate::widgets::{ErrorPanel, StatusBadge, focus, local_time, shown, typing_in_a_field};

/// One diff row, in CSS pixels (the list maps scroll offsets to rows with it).
pub const ROW: f64 = 20.0;
/// Rows fetched per window.
const CHUNK: u32 = 200;
/// Rows rendered above and below the viewport.
const OVERSCAN: u32 = 30;

/// Which task's review is open (shared with the Tasks screen's "Open review").
#[derive(Clone, Copy)]
pub struct ReviewNav {
    pub task: RwSignal<Option<String>>,
}

pub fn provide() -> ReviewNav {
    let nav = ReviewNav {
        task: RwSignal::new(None),
    };
    provide_context(nav);
    nav
}

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let nav = expect_context::<ReviewNav>();
    view! {
        {move || match nav.task.get() {
            Some(task) => view! { <ReviewScreen task=task /> }.into_any(),
            None => view! { <ReviewQueue /> }.into_any(),
        }}
    }
}

// ── the queue ───────────────────────────────────────────────────────────────────────────

#[component]
fn ReviewQueue() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let nav = expect_context::<ReviewNav>();
    let waiting = LocalResource::new(move || {
        live.track(Topic::Tasks);
        async move {
            ipc::call::<TaskList>(TaskQuery {
                status: Some(TaskStatus::PendingReview),
                category: None,
                text: String::new(),
                limit: Some(500),
            })
            .await
        }
    });
    let for_work = LocalResource::new(move || {
        live.track(Topic::Tasks);
        async move {
            let mut tasks = ipc::call::<TaskList>(TaskQuery {
                status: Some(TaskStatus::Approved),
                category: None,
                text: String::new(),
                limit: Some(500),
            })
            .await?;
            tasks.extend(
                ipc::call::<TaskList>(TaskQuery {
                    status: Some(TaskStatus::InProgress),
                    category: None,
                    text: String::new(),
                    limit: Some(500),
                })
                .await?,
            );
            Ok::<_, IpcError>(tasks)
        }
    });
    let inbox = LocalResource::new(move || {
        live.track(Topic::Tasks);
        async move { ipc::call::<PackageInbox>(()).await }
    });
    let import_task = RwSignal::new(String::new());
    let import_path = RwSignal::new(String::new());
    let import = Action::new_local(move |(task, path): &(String, String)| {
        let args = PackageImport {
            task: task.clone(),
            path: path.clone(),
        };
        async move { ipc::call::<PackageImportCmd>(args).await }
    });
    Effect::new(move |_| match import.value().get() {
        Some(Ok(view)) => {
            ui.notify(format!(
                "{} v{} {}",
                view.task,
                view.version,
                ui.t(Key::PackageImported)
            ));
            import_path.set(String::new());
            nav.task.set(Some(view.task));
        }
        Some(Err(e)) => ui.notify_error(&e),
        None => {}
    });

    view! {
        <section class="reviews" data-test="page-reviews">
            <h1>{move || ui.t(Key::NavReviews)}</h1>
            <p class="blurb muted">{move || ui.t(Key::ReviewsBlurb)}</p>
            <h2>{move || ui.t(Key::WaitingForReview)}</h2>
            {move || match waiting.get() {
                None => view! { <p class="loading">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <ErrorPanel title=Signal::derive(move || ui.t(Key::NavReviews).to_owned()) error=error retry=Callback::new(move |()| waiting.refetch()) />
                }.into_any(),
                Some(Ok(tasks)) if tasks.is_empty() => view! {
                    <p class="muted" data-test="review-queue-empty">{ui.t(Key::NothingToReview)}</p>
                }.into_any(),
                Some(Ok(tasks)) => view! {
                    <table class="task-table" data-test="review-queue">
                        <tbody>
                            {tasks.into_iter().map(|t| {
                                let id = t.id.to_string();
                                let open = id.clone();
                                view! {
                                    <tr data-test="review-row" data-id=id.clone()>
                                        <td><button class="link mono" data-test="open-review" on:click=move |_| nav.task.set(Some(open.clone()))>{id.clone()}</button></td>
                                        <td class="title">{shown(&t.title.to_string())}</td>
                                        <td>{t.system.to_string()}</td>
                                        <td><StatusBadge status=t.status /></td>
                                        <td class="mono muted">{local_time(t.updated_at)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
            <h2>{move || ui.t(Key::ImportPackage)}</h2>
            <form class="import-form" data-test="import-form" on:submit=move |ev| {
                ev.prevent_default();
                let (task, path) = (import_task.get_untracked(), import_path.get_untracked());
                if !task.is_empty() && !path.trim().is_empty() {
                    import.dispatch((task, path));
                }
            }>
                <select
                    data-test="import-task"
                    aria-label=move || ui.t(Key::ImportForTask)
                    on:change=move |ev| import_task.set(event_target_value(&ev))
                    prop:value=move || import_task.get()
                >
                    <option value="">{move || ui.t(Key::ImportForTask)}</option>
                    {move || for_work.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|t| {
                        let id = t.id.to_string();
                        view! { <option value=id.clone()>{format!("{id} — {}", shown(&t.title.to_string()))}</option> }
                    }).collect_view()}
                </select>
                <input
                    type="text"
                    class="path"
                    data-test="import-path"
                    placeholder=move || ui.t(Key::ImportPathHint)
                    prop:value=move || import_path.get()
                    on:input=move |ev| import_path.set(event_target_value(&ev))
                />
                <button class="primary" type="submit" data-test="import-submit" disabled=move || import.pending().get()>
                    {move || ui.t(Key::Import)}
                </button>
            </form>
            <h2>{move || ui.t(Key::InboxFolder)}</h2>
            {move || match inbox.get() {
                None => view! { <p class="loading">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(error)) => view! { <p class="field-error">{shown(&error.message)}</p> }.into_any(),
                Some(Ok(folder)) => {
                    let items = folder.items.clone();
                    view! {
                        <p class="muted mono" data-test="inbox-folder">{folder.folder.clone()}" → "{folder.outbox.clone()}</p>
                        <button class="ghost" data-test="inbox-refresh" on:click=move |_| inbox.refetch()>"↻ "{move || ui.t(Key::Refresh)}</button>
                        <ul class="inbox-list" data-test="inbox-items">
                            {items.into_iter().map(|item| {
                                let ready = item.state == "ready";
                                let (task, path) = (item.task.clone().unwrap_or_default(), item.path.clone());
                                view! {
                                    <li data-test="inbox-item" data-state=item.state.clone()>
                                        <span class=format!("badge tone-{}", if ready { "waiting" } else if item.state == "refused" { "alarm" } else { "closed" })>{item.state.clone()}</span>
                                        " "<span class="mono">{item.path.clone()}</span>
                                        " "<span class="muted">{shown(&item.detail)}</span>
                                        {ready.then(|| view! {
                                            <button class="primary small" data-test="inbox-import" on:click=move |_| {
                                                import.dispatch((task.clone(), path.clone()));
                                            }>{move || ui.t(Key::Import)}</button>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </section>
    }
}

// ── one package ─────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Diff,
    Log,
    Health,
    Documents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Approve,
    Rework,
    TakeOver,
}

impl Decision {
    fn code(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Rework => "rework",
            Decision::TakeOver => "take_over",
        }
    }
}

/// The review of one task's package.
#[component]
fn ReviewScreen(task: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let nav = expect_context::<ReviewNav>();
    let version = RwSignal::new(0u32);
    // What the reviewer set up survives a refetch of the package (a comment saved here or a
    // change made by another console rebuilds the view below).
    let state = ViewState {
        tab: RwSignal::new(Tab::Diff),
        layout: RwSignal::new(DiffLayout::Unified),
        hide_ws: RwSignal::new(false),
        against: RwSignal::new(0),
        scroll: RwSignal::new(0.0),
    };
    let task_id = StoredValue::new(task.clone());
    let package = LocalResource::new(move || {
        live.track(Topic::Tasks);
        let r = PackageRef {
            task: task_id.get_value(),
            version: version.get(),
        };
        async move { ipc::call::<PackageGet>(r).await }
    });
    // The screen is rebuilt only when the package or its review state changes; a new
    // comment (here or from another console) only updates the comment list and markers.
    let key = Memo::new(move |_| {
        package.get().map(|answer| {
            answer.map(|v| (v.version, v.sha256.clone(), v.state.clone(), v.can_decide))
        })
    });
    let comments = Memo::new(move |_| match package.get() {
        Some(Ok(v)) => v.comments,
        _ => Vec::new(),
    });
    view! {
        <section class="review" data-test="review-screen" data-task=task.clone()>
            {move || match key.get() {
                None => view! { <p class="loading" data-test="review-loading">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <div class="review-missing">
                        <button class="ghost" data-test="review-back" on:click=move |_| nav.task.set(None)>"← "{move || ui.t(Key::Back)}</button>
                        <ErrorPanel title=Signal::derive(move || ui.t(Key::NavReviews).to_owned()) error=error retry=Callback::new(move |()| package.refetch()) />
                    </div>
                }.into_any(),
                Some(Ok(_)) => match package.get_untracked() {
                    Some(Ok(view)) => view! {
                        <PackageReview view=view version=version state=state comments=comments.into() />
                    }.into_any(),
                    _ => ().into_any(),
                },
            }}
        </section>
    }
}

/// The reviewer's view of a package, kept across refetches.
#[derive(Clone, Copy)]
struct ViewState {
    tab: RwSignal<Tab>,
    layout: RwSignal<DiffLayout>,
    hide_ws: RwSignal<bool>,
    against: RwSignal<u32>,
    /// The diff pane's scroll offset.
    scroll: RwSignal<f64>,
}

/// Whether a key press belongs to a text field (a checkbox with focus does not take keys).
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    let checkbox = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| el.get_attribute("type").as_deref() == Some("checkbox"));
    !checkbox && typing_in_a_field(ev)
}

/// The caller's marks as the screen shows them: what the package said, then what this
/// window changed since.
type Marks = RwSignal<HashMap<String, Option<MarkView>>>;

#[component]
fn PackageReview(
    view: PackageView,
    version: RwSignal<u32>,
    state: ViewState,
    comments: Signal<Vec<guardia_ipc::CommentView>>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let nav = expect_context::<ReviewNav>();
    let pkg = StoredValue::new(view.clone());
    let ViewState {
        tab,
        layout,
        hide_ws,
        against,
        scroll,
    } = state;
    // Another version has nothing to compare against that this one had.
    if against.get_untracked() >= view.version {
        against.set(0);
    }
    let marks: Marks = RwSignal::new(
        view.files
            .iter()
            .map(|f| (f.path.clone(), f.mark.clone()))
            .collect(),
    );
    let current_file = RwSignal::new(0u32);
    let jump = RwSignal::new(None::<u32>);
    let goto = RwSignal::new(None::<(String, String)>);
    let decision = RwSignal::new(None::<Decision>);
    let comment_at = RwSignal::new(None::<(String, String, u32)>);
    let diff_view = Signal::derive(move || DiffView {
        layout: layout.get(),
        hide_whitespace: hide_ws.get(),
        against: against.get(),
    });
    let viewed_count = move || {
        marks.with(|m| {
            m.values()
                .filter(|v| v.as_ref().is_some_and(|m| m.state == "viewed"))
                .count()
        })
    };
    let waived_count = move || {
        marks.with(|m| {
            m.values()
                .filter(|v| v.as_ref().is_some_and(|m| m.state == "waived"))
                .count()
        })
    };
    let total = view.files.len();
    let deciding = view.state == "review";

    let set_mark = Action::new_local(move |(path, state, reason): &(String, String, String)| {
        let p = pkg.get_value();
        let args = FileMark {
            task: p.task.clone(),
            version: p.version,
            path: path.clone(),
            state: state.clone(),
            reason: reason.clone(),
        };
        async move { ipc::call::<FileMarkSet>(args).await }
    });
    Effect::new(move |_| match set_mark.value().get() {
        Some(Ok(coverage)) => marks.update(|m| {
            m.insert(coverage.path, coverage.mark);
        }),
        Some(Err(e)) => ui.notify_error(&e),
        None => {}
    });
    let toggle_viewed = move |path: String| {
        let viewed = marks.with_untracked(|m| {
            m.get(&path)
                .and_then(Option::as_ref)
                .is_some_and(|m| m.state == "viewed")
        });
        let state = if viewed { "none" } else { "viewed" };
        set_mark.dispatch((path, state.to_owned(), String::new()));
    };
    let file_paths: StoredValue<Vec<String>> =
        StoredValue::new(view.files.iter().map(|f| f.path.clone()).collect());
    let next_unviewed = move || {
        let paths = file_paths.get_value();
        let from = current_file.get_untracked() as usize;
        let n = paths.len();
        (1..=n).map(|k| (from + k) % n).find(|i| {
            marks.with_untracked(|m| m.get(&paths[*i]).and_then(Option::as_ref).is_none())
        })
    };

    let keys = window_event_listener(ev::keydown, move |ev| {
        if ev.alt_key()
            || ev.meta_key()
            || decision.get_untracked().is_some()
            || comment_at.get_untracked().is_some()
        {
            if ev.key() == "Escape" {
                decision.set(None);
                comment_at.set(None);
            }
            return;
        }
        if ev.ctrl_key() {
            if ev.key() == "f" || ev.key() == "F" {
                ev.prevent_default();
                tab.set(Tab::Diff);
                if let Some(input) = document()
                    .query_selector("[data-test=diff-search]")
                    .ok()
                    .flatten()
                {
                    use wasm_bindgen::JsCast;
                    if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                        focus(&input, "the diff search");
                    }
                }
            }
            return;
        }
        if typing(&ev) {
            return;
        }
        match ev.key().as_str() {
            "Escape" => nav.task.set(None),
            "1" => tab.set(Tab::Diff),
            "2" => tab.set(Tab::Log),
            "3" => tab.set(Tab::Health),
            "4" => tab.set(Tab::Documents),
            "s" => layout.update(|l| {
                *l = if *l == DiffLayout::Unified {
                    DiffLayout::Split
                } else {
                    DiffLayout::Unified
                }
            }),
            "w" => hide_ws.update(|w| *w = !*w),
            "d" => {
                let p = pkg.get_value();
                if p.version > 1 {
                    against.update(|a| *a = if *a == 0 { p.version - 1 } else { 0 });
                }
            }
            "v" if deciding && against.get_untracked() == 0 => {
                if let Some(path) = file_paths
                    .get_value()
                    .get(current_file.get_untracked() as usize)
                {
                    toggle_viewed(path.clone());
                }
            }
            "u" => {
                if let Some(i) = next_unviewed() {
                    jump.set(Some(i as u32));
                }
            }
            "A" if deciding => decision.set(Some(Decision::Approve)),
            "R" if deciding => decision.set(Some(Decision::Rework)),
            "T" if deciding => decision.set(Some(Decision::TakeOver)),
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || keys.remove());

    let versions = view.versions.clone();
    let warnings = view.warnings.clone();
    let files_for_tree = view.files.clone();
    let files_for_diff = view.files.clone();
    let health = view.health.clone();
    let result = view.result.clone();
    let artifacts = view.artifacts.clone();
    let context = view.context.clone();
    let task_for_docs = view.task.clone();
    let blocked = view.decide_blocked.clone();
    let can_decide = view.can_decide;

    view! {
        <div class="review-head" data-test="review-head" data-version=view.version.to_string() data-sha=view.sha256.clone()>
            <button class="ghost" data-test="review-back" on:click=move |_| nav.task.set(None)>"← "{move || ui.t(Key::Back)}<kbd>"Esc"</kbd></button>
            <span class="mono">{view.task.clone()}</span>
            <select data-test="version-select" aria-label="version"
                on:change=move |ev| version.set(event_target_value(&ev).parse().unwrap_or(0))
                prop:value=view.version.to_string()>
                {versions.into_iter().map(|v| view! {
                    <option value=v.version.to_string()>{format!("v{} · {}", v.version, v.state)}</option>
                }).collect_view()}
            </select>
            <span class=format!("badge tone-{}", match view.state.as_str() { "approved" => "done", "rework" | "taken_over" => "alarm", _ => "waiting" }) data-test="package-state">{view.state.clone()}</span>
            <span class="mono muted" title=view.sha256.clone()>{format!("sha256 {}…", &view.sha256[..12.min(view.sha256.len())])}</span>
            <span class="muted">{format!("{} {} · {}", view.producer.name, view.producer.version, view.producer.run_id)}</span>
            <span class="spacer"></span>
            <span class="coverage" data-test="coverage" data-viewed=move || viewed_count().to_string() data-total=total.to_string()>
                {move || format!("{} {} / {} {}", viewed_count(), ui.t(Key::OfWord), total, ui.t(Key::ViewedWord))}
                {move || (waived_count() > 0).then(|| format!(" · {} {}", waived_count(), ui.t(Key::WaivedWord)))}
            </span>
            <progress max=total.max(1).to_string() value=move || (viewed_count() + waived_count()).to_string()></progress>
            {deciding.then(|| view! {
                <button class="primary" data-test="decide-approve" disabled=!can_decide title=blocked.clone().unwrap_or_default() on:click=move |_| decision.set(Some(Decision::Approve))>{move || ui.t(Key::Approve)}<kbd>"⇧A"</kbd></button>
                <button class="ghost" data-test="decide-rework" disabled=!can_decide on:click=move |_| decision.set(Some(Decision::Rework))>{move || ui.t(Key::RequestRework)}<kbd>"⇧R"</kbd></button>
                <button class="ghost" data-test="decide-takeover" disabled=!can_decide on:click=move |_| decision.set(Some(Decision::TakeOver))>{move || ui.t(Key::TakeOver)}<kbd>"⇧T"</kbd></button>
            })}
        </div>
        {(!warnings.is_empty()).then(|| view! {
            <ul class="warnings" data-test="package-warnings">
                {warnings.into_iter().map(|w| view! {
                    <li data-kind=w.kind.clone()>"⚠ "{shown(&w.message)}
                        <span class="muted">{format!(" {}", w.subjects.join(", "))}</span></li>
                }).collect_view()}
            </ul>
        })}
        <div class="tabs" role="tablist">
            {[(Tab::Diff, Key::TabDiff, "1"), (Tab::Log, Key::TabLog, "2"), (Tab::Health, Key::TabHealth, "3"), (Tab::Documents, Key::TabDocuments, "4")]
                .into_iter().map(|(t, label, k)| view! {
                    <button role="tab" class="tab" class:active=move || tab.get() == t aria-selected=move || (tab.get() == t).to_string()
                        data-test=format!("tab-{}", k) on:click=move |_| tab.set(t)>
                        {move || ui.t(label)}<kbd>{k}</kbd>
                    </button>
                }).collect_view()}
            <span class="spacer"></span>
            <label class="toggle"><input type="checkbox" data-test="toggle-split" prop:checked=move || layout.get() == DiffLayout::Split
                on:change=move |ev| layout.set(if event_target_checked(&ev) { DiffLayout::Split } else { DiffLayout::Unified }) />{move || ui.t(Key::SideBySide)}<kbd>"S"</kbd></label>
            <label class="toggle"><input type="checkbox" data-test="toggle-whitespace" prop:checked=move || hide_ws.get()
                on:change=move |ev| hide_ws.set(event_target_checked(&ev)) />{move || ui.t(Key::HideWhitespace)}<kbd>"W"</kbd></label>
            {(view.version > 1).then(|| {
                let previous = view.version - 1;
                view! {
                    <label class="toggle"><input type="checkbox" data-test="toggle-against" prop:checked=move || against.get() != 0
                        on:change=move |ev| against.set(if event_target_checked(&ev) { previous } else { 0 }) />
                        {move || format!("{} v{previous}", ui.t(Key::CompareWith))}<kbd>"D"</kbd></label>
                }
            })}
        </div>
        <div class="review-body">
            {move || match tab.get() {
                Tab::Diff => view! {
                    <div class="review-split">
                        <div class="review-side">
                        <FileTree files=files_for_tree.clone() marks=marks current=current_file jump=jump deciding=deciding
                            on_toggle=Callback::new(move |path: String| toggle_viewed(path))
                            on_waive=Callback::new(move |path: String| {
                                let reason = window().prompt_with_message(ui.t(Key::WaiveReason)).ok().flatten().unwrap_or_default();
                                if !reason.trim().is_empty() {
                                    set_mark.dispatch((path, "waived".to_owned(), reason));
                                }
                            }) />
                        <CommentsList comments=comments goto=goto />
                        </div>
                        <DiffPane pkg=pkg files=files_for_diff.clone() view=diff_view current=current_file jump=jump scroll=scroll goto=goto
                            comments=comments comment_at=comment_at deciding=deciding />
                    </div>
                }.into_any(),
                Tab::Log => view! { <LogPane pkg=pkg /> }.into_any(),
                Tab::Health => view! {
                    <HealthPane health=health.clone() result=result.clone() artifacts=artifacts.clone() context=context.clone() />
                }.into_any(),
                Tab::Documents => view! { <DocumentsList task=task_for_docs.clone() /> }.into_any(),
            }}
        </div>
        {move || decision.get().map(|d| view! { <DecisionDialog pkg=pkg decision=d marks=marks view=diff_view on_close=Callback::new(move |()| decision.set(None)) /> })}
        {move || comment_at.get().map(|(path, side, line)| view! {
            <CommentDialog pkg=pkg path=path side=side line=line on_close=Callback::new(move |()| comment_at.set(None)) />
        })}
    }
}

/// The files, grouped by folder, with status, size of change, marks and what changed
/// since the previous version.
#[component]
fn FileTree(
    files: Vec<ReviewFile>,
    marks: Marks,
    current: RwSignal<u32>,
    jump: RwSignal<Option<u32>>,
    deciding: bool,
    on_toggle: Callback<String>,
    on_waive: Callback<String>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let mut folders: BTreeMap<String, Vec<ReviewFile>> = BTreeMap::new();
    for file in files {
        let folder = file
            .path
            .rsplit_once('/')
            .map(|(d, _)| d.to_owned())
            .unwrap_or_default();
        folders.entry(folder).or_default().push(file);
    }
    view! {
        <nav class="file-tree" data-test="file-tree" aria-label=move || ui.t(Key::FilesWord)>
            {folders.into_iter().map(|(folder, files)| view! {
                <div class="folder">
                    <div class="folder-name mono muted">{if folder.is_empty() { "/".to_owned() } else { format!("{folder}/") }}</div>
                    {files.into_iter().map(|f| {
                        let index = f.index;
                        let path = f.path.clone();
                        let (p1, p2, p3) = (path.clone(), path.clone(), path.clone());
                        let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
                        let letter = match f.status.as_str() { "added" => "A", "deleted" => "D", "renamed" => "R", "copied" => "C", _ => "M" };
                        let key = StoredValue::new(p1);
                        let mark = move || marks.with(|m| key.with_value(|k| m.get(k).cloned().flatten()));
                        let since = match f.since_previous {
                            VersionChange::Changed => Some(("changed", Key::ChangedSince)),
                            VersionChange::New => Some(("new", Key::NewSince)),
                            VersionChange::Same | VersionChange::First => None,
                        };
                        view! {
                            <div class="tree-file" class:current=move || current.get() == index data-test="tree-file" data-path=path.clone()
                                data-mark=move || mark().map(|m| m.state).unwrap_or_else(|| "none".to_owned())>
                                <input type="checkbox" data-test="viewed-box" disabled=!deciding
                                    title=move || ui.t(Key::ViewedWord)
                                    prop:checked=move || mark().is_some_and(|m| m.state == "viewed")
                                    on:change=move |_| on_toggle.run(p2.clone()) />
                                <button class="link file-name" on:click=move |_| jump.set(Some(index))>
                                    <span class=format!("status-letter s-{letter}")>{letter}</span>" "{name}
                                </button>
                                {since.map(|(code, label)| view! { <span class=format!("badge since-{code}") data-test="since-previous">{move || ui.t(label)}</span> })}
                                {f.binary.then(|| view! { <span class="badge">{move || ui.t(Key::BinaryWord)}</span> })}
                                {f.generated.then(|| view! { <span class="badge">{move || ui.t(Key::GeneratedWord)}</span> })}
                                {move || mark().filter(|m| m.state == "waived").map(|m| view! { <span class="badge tone-closed" title=m.reason.clone()>{ui.t(Key::WaivedWord)}</span> })}
                                <span class="delta mono"><span class="plus">{format!("+{}", f.added)}</span>" "<span class="minus">{format!("-{}", f.removed)}</span></span>
                                {deciding.then(|| view! {
                                    <button class="ghost tiny" title=move || ui.t(Key::Waive) on:click=move |_| on_waive.run(p3.clone())>"~"</button>
                                })}
                            </div>
                        }
                    }).collect_view()}
                </div>
            }).collect_view()}
        </nav>
    }
}

/// The version's line comments: carried over from an earlier version, or outdated when
/// their line changed.
#[component]
fn CommentsList(
    comments: Signal<Vec<guardia_ipc::CommentView>>,
    /// Asks the diff pane to show a comment's line: (path, the line's text).
    goto: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    move || {
        let comments = comments.get();
        (!comments.is_empty()).then(|| {
        view! {
            <div class="comments" data-test="comments">
                <h3>{move || ui.t(Key::CommentsWord)}</h3>
                <ul>
                    {comments.into_iter().map(|c| {
                        let target = (c.path.clone(), c.line_text.clone());
                        view! {
                        <li data-test="comment-item" data-path=c.path.clone() data-line=c.line.to_string()
                            data-outdated=c.outdated.to_string() class:outdated=c.outdated>
                            <button class="link mono" data-test="comment-goto" on:click=move |_| goto.set(Some(target.clone()))>
                                {format!("{}:{}", c.path.rsplit('/').next().unwrap_or(&c.path), c.line)}
                            </button>
                            {c.outdated.then(|| view! { <span class="badge tone-closed">{move || ui.t(Key::Outdated)}</span> })}
                            {c.carried_from.map(|v| view! { <span class="badge">{format!("v{v}")}</span> })}
                            <p>{shown(&c.body)}<span class="muted">{format!(" — {}", c.author)}</span></p>
                            {c.outdated.then(|| view! { <p class="muted mono">{shown(&c.line_text)}</p> })}
                        </li>
                    }}).collect_view()}
                </ul>
            </div>
        }
        })
    }
}

/// What the diff pane knows of the view it shows.
#[derive(Clone, Default)]
struct Outline {
    total: u32,
    file_starts: Vec<u32>,
    hunk_rows: Vec<u32>,
    files: Vec<String>,
}

/// The diff as a virtual list: a spacer as tall as every row, and only the rows near the
/// viewport in the DOM, fetched a window at a time; highlighting arrives per window after.
#[component]
fn DiffPane(
    pkg: StoredValue<PackageView>,
    files: Vec<ReviewFile>,
    view: Signal<DiffView>,
    current: RwSignal<u32>,
    jump: RwSignal<Option<u32>>,
    scroll: RwSignal<f64>,
    goto: RwSignal<Option<(String, String)>>,
    comments: Signal<Vec<guardia_ipc::CommentView>>,
    comment_at: RwSignal<Option<(String, String, u32)>>,
    deciding: bool,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let scroller = NodeRef::<html::Div>::new();
    let outline = RwSignal::new(None::<Outline>);
    let chunks = RwSignal::new(HashMap::<u32, Vec<DiffRow>>::new());
    let lights = RwSignal::new(HashMap::<u32, Highlights>::new());
    let asked = StoredValue::new(BTreeSet::<u32>::new());
    let scroll_top = scroll;
    let retry = RwSignal::new(0u32);
    let height = RwSignal::new(600.0f64);
    let selected = RwSignal::new(None::<u32>);
    let search = RwSignal::new(String::new());
    let hits = RwSignal::new(Vec::<u32>::new());
    let hit_at = RwSignal::new(0usize);
    let paths: StoredValue<Vec<String>> =
        StoredValue::new(files.iter().map(|f| f.path.clone()).collect());
    // Comments by file, side and line (for the gutter marker).
    let commented = Memo::new(move |_| {
        comments.with(|all| {
            all.iter()
                .filter(|c| !c.outdated)
                .map(|c| (c.path.clone(), c.side.clone(), c.line))
                .collect::<BTreeSet<(String, String, u32)>>()
        })
    });
    // A new view (layout, whitespace, version diff) is a new list.
    let generation = StoredValue::new(0u64);
    Effect::new(move |previous: Option<DiffView>| {
        let now = view.get();
        if previous.is_some_and(|p| p != now) {
            scroll_top.set(0.0);
        }
        generation.update_value(|g| *g += 1);
        chunks.set(HashMap::new());
        lights.set(HashMap::new());
        asked.set_value(BTreeSet::new());
        outline.set(None);
        hits.set(Vec::new());
        now
    });

    let fetch = move |chunk: u32| {
        if asked.with_value(|a| a.contains(&chunk)) {
            return;
        }
        asked.update_value(|a| {
            a.insert(chunk);
        });
        let p = pkg.get_value();
        let v = view.get_untracked();
        let gen_at_start = generation.get_value();
        leptos::task::spawn_local(async move {
            let query = DiffWindowQuery {
                task: p.task.clone(),
                version: p.version,
                view: v,
                start: chunk * CHUNK,
                count: CHUNK,
            };
            match ipc::call::<DiffWindowGet>(query).await {
                Ok(window) if generation.get_value() == gen_at_start => {
                    if outline.with_untracked(Option::is_none) {
                        outline.set(Some(Outline {
                            total: window.total,
                            file_starts: window.file_starts.clone(),
                            hunk_rows: window.hunk_rows.clone(),
                            files: window.files.clone(),
                        }));
                    }
                    chunks.update(|c| {
                        c.insert(chunk, window.rows);
                    });
                    // Colour comes second, so the rows paint first.
                    let q = HighlightQuery {
                        task: p.task.clone(),
                        version: p.version,
                        view: v,
                        start: chunk * CHUNK,
                        count: CHUNK,
                    };
                    if let Ok(h) = ipc::call::<DiffHighlight>(q).await
                        && generation.get_value() == gen_at_start
                    {
                        lights.update(|l| {
                            l.insert(chunk, h);
                        });
                    }
                }
                Ok(_) => {}
                Err(e) if generation.get_value() == gen_at_start => {
                    asked.update_value(|a| {
                        a.remove(&chunk);
                    });
                    ui.notify_error(&e);
                    // Ask again in a while (the backend may have been busy).
                    set_timeout(
                        move || retry.update(|n| *n += 1),
                        std::time::Duration::from_secs(2),
                    );
                }
                Err(_) => {}
            }
        });
    };

    // Which rows are near the viewport.
    let range = move || {
        let first = (scroll_top.get() / ROW).floor().max(0.0) as u32;
        let visible = (height.get() / ROW).ceil() as u32 + 1;
        let total = outline.with(|o| o.as_ref().map_or(CHUNK, |o| o.total));
        let start = first.saturating_sub(OVERSCAN);
        let end = (first + visible + OVERSCAN).min(total);
        (start, end.max(start))
    };
    Effect::new(move |_| {
        let _ = view.get();
        retry.track();
        let (start, end) = range();
        for chunk in start / CHUNK..=end.saturating_sub(1) / CHUNK {
            fetch(chunk);
        }
    });
    // The file at the top of the viewport is "current" (v marks it, the tree shows it).
    Effect::new(move |_| {
        let first = (scroll_top.get() / ROW).floor().max(0.0) as u32;
        let file = outline.with(|o| {
            o.as_ref().map(|o| {
                o.file_starts
                    .partition_point(|s| *s <= first)
                    .saturating_sub(1) as u32
            })
        });
        if let Some(file) = file
            && view.get_untracked().against == 0
        {
            current.set(file);
        }
    });
    let scroll_to = move |row: u32| {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top((row as f64 * ROW) as i32);
            scroll_top.set(row as f64 * ROW);
        }
    };
    // Jumps asked by the tree, the keyboard (next unviewed) or a search hit.
    Effect::new(move |_| {
        if let Some(file) = jump.get() {
            // In the version diff the files are its own: find the package file by path.
            let start = outline.with(|o| {
                o.as_ref().and_then(|o| {
                    let at = if o.files.is_empty() {
                        Some(file as usize)
                    } else {
                        let path = paths.with_value(|p| p.get(file as usize).cloned())?;
                        o.files.iter().position(|f| *f == path)
                    };
                    at.and_then(|i| o.file_starts.get(i).copied())
                })
            });
            if let Some(start) = start {
                scroll_to(start);
                jump.set(None);
            }
        }
    });
    Effect::new(move |_| {
        if let Some(el) = scroller.get() {
            height.set(f64::from(el.client_height().max(200)));
            // Back where the reviewer was (a rebuilt view keeps its place).
            el.set_scroll_top(scroll_top.get_untracked() as i32);
        }
    });
    let resize = window_event_listener(ev::resize, move |_| {
        if let Some(el) = scroller.get_untracked() {
            height.set(f64::from(el.client_height().max(200)));
        }
    });
    on_cleanup(move || resize.remove());

    // A comment's line: its text searched in the diff, the first hit inside its file (or the
    // file's start when the line is gone — an outdated comment).
    Effect::new(move |_| {
        let Some((path, text)) = goto.get() else {
            return;
        };
        goto.set(None);
        let Some(o) = outline.get_untracked() else {
            return;
        };
        let file = if o.files.is_empty() {
            paths.with_value(|p| p.iter().position(|f| *f == path))
        } else {
            o.files.iter().position(|f| *f == path)
        };
        let Some(file) = file else { return };
        let start = o.file_starts.get(file).copied().unwrap_or(0);
        let end = o.file_starts.get(file + 1).copied().unwrap_or(o.total);
        scroll_to(start);
        let p = pkg.get_value();
        let v = view.get_untracked();
        leptos::task::spawn_local(async move {
            let found = ipc::call::<DiffSearchCmd>(DiffSearch {
                task: p.task,
                version: p.version,
                view: v,
                text,
                case_sensitive: true,
            })
            .await;
            if let Ok(found) = found
                && let Some(row) = found.rows.into_iter().find(|r| (start..end).contains(r))
            {
                scroll_to(row.saturating_sub(3));
                selected.set(Some(row));
            }
        });
    });
    let run_search = move || {
        let text = search.get_untracked();
        if text.trim().is_empty() {
            hits.set(Vec::new());
            return;
        }
        let p = pkg.get_value();
        let v = view.get_untracked();
        leptos::task::spawn_local(async move {
            match ipc::call::<DiffSearchCmd>(DiffSearch {
                task: p.task,
                version: p.version,
                view: v,
                text,
                case_sensitive: false,
            })
            .await
            {
                Ok(found) => {
                    hit_at.set(0);
                    if let Some(first) = found.rows.first() {
                        scroll_to(first.saturating_sub(3));
                        selected.set(Some(*first));
                    }
                    hits.set(found.rows);
                }
                Err(e) => ui.notify_error(&e),
            }
        });
    };
    let step_hit = move |forward: bool| {
        let n = hits.with_untracked(Vec::len);
        if n == 0 {
            return;
        }
        let at = hit_at.get_untracked();
        let next = if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        };
        hit_at.set(next);
        if let Some(row) = hits.with_untracked(|h| h.get(next).copied()) {
            scroll_to(row.saturating_sub(3));
            selected.set(Some(row));
        }
    };

    // Hunk and file navigation from the row at the top.
    let keys = window_event_listener(ev::keydown, move |ev| {
        if ev.alt_key()
            || ev.ctrl_key()
            || ev.meta_key()
            || typing(&ev)
            || comment_at.get_untracked().is_some()
        {
            return;
        }
        if document()
            .query_selector(".modal-backdrop")
            .ok()
            .flatten()
            .is_some()
        {
            return;
        }
        let top = (scroll_top.get_untracked() / ROW).floor() as u32;
        let Some(o) = outline.get_untracked() else {
            return;
        };
        let pick = |list: &[u32], forward: bool| -> Option<u32> {
            if forward {
                list.iter().copied().find(|r| *r > top)
            } else {
                list.iter().rev().copied().find(|r| *r < top)
            }
        };
        let target = match ev.key().as_str() {
            "j" => pick(&o.hunk_rows, true),
            "k" => pick(&o.hunk_rows, false),
            "]" | "J" => pick(&o.file_starts, true),
            "[" | "K" => pick(&o.file_starts, false),
            "n" => {
                step_hit(true);
                None
            }
            "N" => {
                step_hit(false);
                None
            }
            "c" if deciding => {
                if let Some(row) = selected.get_untracked()
                    && let Some(target) = comment_target(chunks, row, paths, &o)
                {
                    comment_at.set(Some(target));
                }
                None
            }
            _ => return,
        };
        ev.prevent_default();
        if let Some(row) = target {
            scroll_to(row);
        }
    });
    on_cleanup(move || keys.remove());

    let rows = move || {
        let (start, end) = range();
        let split = view.get().layout == DiffLayout::Split;
        let hits_set: BTreeSet<u32> = hits.with(|h| {
            h.iter()
                .copied()
                .filter(|r| *r >= start && *r < end)
                .collect()
        });
        let current_hit = hits.with(|h| h.get(hit_at.get()).copied());
        let o = outline.get();
        (start..end)
            .map(|i| {
                let chunk = i / CHUNK;
                let offset = (i % CHUNK) as usize;
                let row = chunks.with(|c| c.get(&chunk).and_then(|rows| rows.get(offset).cloned()));
                let light = lights.with(|l| {
                    l.get(&chunk).map(|h| {
                        (
                            h.left.get(offset).cloned().unwrap_or_default(),
                            h.right.get(offset).cloned().unwrap_or_default(),
                        )
                    })
                });
                // Set as the element's `style` property (the CSSOM's cssText), which the CSP
                // allows; a `style` attribute in markup is refused (style-src 'self').
                let top = format!("top:{}px", i as f64 * ROW);
                let Some(row) = row else {
                    return view! { <div class="drow pending" prop:style=top></div> }.into_any();
                };
                let file_path = match &o {
                    Some(o) if !o.files.is_empty() => o.files.get(row.file as usize).cloned().unwrap_or_default(),
                    _ => paths.with_value(|p| p.get(row.file as usize).cloned().unwrap_or_default()),
                };
                let is_hit = hits_set.contains(&i);
                let is_current = current_hit == Some(i);
                match row.kind.as_str() {
                    "file" => view! {
                        <div class="drow file-row" prop:style=top data-test="diff-file" data-row=i.to_string() data-path=file_path.clone()
                            class:hit=is_hit class:hit-current=is_current>
                            <span class="mono">{shown(&row.text)}</span>
                        </div>
                    }.into_any(),
                    "hunk" | "note" => view! {
                        <div class=format!("drow {}-row", row.kind) prop:style=top data-row=i.to_string() class:hit=is_hit class:hit-current=is_current>
                            <span class="mono">{shown(&row.text)}</span>
                        </div>
                    }.into_any(),
                    _ => {
                        let (left_spans, right_spans) = light.unwrap_or_default();
                        let marked = |cell: &Option<DiffCell>, side: &str| {
                            cell.as_ref().is_some_and(|c| commented.with(|s| s.contains(&(file_path.clone(), side.to_owned(), c.line))))
                        };
                        let note_left = marked(&row.left, if split { "old" } else { side_of(row.left.as_ref()) });
                        let note_right = marked(&row.right, "new");
                        let is_selected = move || selected.get() == Some(i);
                        if split {
                            view! {
                                <div class="drow line split" prop:style=top data-row=i.to_string() data-test="diff-line"
                                    class:hit=is_hit class:hit-current=is_current class:selected=is_selected
                                    on:click=move |_| selected.set(Some(i))>
                                    {half(row.left.clone(), left_spans, note_left)}
                                    {half(row.right.clone(), right_spans, note_right)}
                                </div>
                            }.into_any()
                        } else {
                            let cell = row.left.clone();
                            let kind = cell.as_ref().map_or("context", |c| c.kind.as_str()).to_owned();
                            let (old, new) = match (&cell, kind.as_str()) {
                                (Some(c), "removed") => (c.line.to_string(), String::new()),
                                (Some(c), "added") => (String::new(), c.line.to_string()),
                                (Some(c), _) if c.old_line > 0 => (c.old_line.to_string(), c.line.to_string()),
                                (Some(c), _) => (String::new(), c.line.to_string()),
                                (None, _) => (String::new(), String::new()),
                            };
                            let marker = match kind.as_str() { "added" => "+", "removed" => "-", _ => " " };
                            let text = cell.map(|c| c.text).unwrap_or_default();
                            view! {
                                <div class=format!("drow line k-{kind}") prop:style=top data-row=i.to_string() data-test="diff-line"
                                    class:hit=is_hit class:hit-current=is_current class:selected=is_selected
                                    on:click=move |_| selected.set(Some(i))>
                                    <span class="ln">{old}</span>
                                    <span class="ln">{new}</span>
                                    <span class="mk">{marker}{note_left.then(|| view! { <span class="dot" title="comment">"●"</span> })}</span>
                                    <span class="code">{spans(&text, &left_spans)}</span>
                                </div>
                            }.into_any()
                        }
                    }
                }
            })
            .collect_view()
    };

    view! {
        <div class="diff-pane">
            <div class="diff-tools">
                <input type="search" data-test="diff-search" placeholder=move || ui.t(Key::SearchInDiff)
                    prop:value=move || search.get()
                    on:input=move |ev| {
                        search.set(event_target_value(&ev));
                        hits.set(Vec::new());
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            if hits.with_untracked(Vec::is_empty) { run_search() } else { step_hit(!ev.shift_key()) }
                        } else if ev.key() == "Escape" {
                            search.set(String::new());
                            hits.set(Vec::new());
                        }
                    } />
                <span class="muted" data-test="search-count" data-hits=move || hits.with(Vec::len).to_string()>
                    {move || {
                        let n = hits.with(Vec::len);
                        if n == 0 { String::new() } else { format!("{} / {}", hit_at.get() + 1, n) }
                    }}
                </span>
                <span class="spacer"></span>
                {deciding.then(|| view! {
                    <button class="ghost" data-test="comment-line" disabled=move || selected.get().is_none()
                        on:click=move |_| {
                            if let Some(row) = selected.get_untracked()
                                && let Some(o) = outline.get_untracked()
                                && let Some(target) = comment_target(chunks, row, paths, &o)
                            {
                                comment_at.set(Some(target));
                            }
                        }>
                        {move || ui.t(Key::CommentOnLine)}<kbd>"C"</kbd>
                    </button>
                })}
                <span class="muted keys">{move || ui.t(Key::ReviewKeys)}</span>
            </div>
            <div class="diff-scroller" node_ref=scroller data-test="diff-pane"
                data-total=move || outline.with(|o| o.as_ref().map_or(0, |o| o.total)).to_string()
                data-loaded=move || chunks.with(|c| c.len()).to_string()
                data-lit=move || lights.with(|l| l.len()).to_string()
                on:scroll=move |ev| {
                    use wasm_bindgen::JsCast;
                    if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                        scroll_top.set(f64::from(el.scroll_top()));
                    }
                }>
                <div class="diff-spacer" prop:style=move || format!("height:{}px", outline.with(|o| o.as_ref().map_or(0, |o| o.total)) as f64 * ROW)>
                    {rows}
                </div>
            </div>
        </div>
    }
}

fn side_of(cell: Option<&DiffCell>) -> &'static str {
    match cell.map(|c| c.kind.as_str()) {
        Some("removed") => "old",
        _ => "new",
    }
}

/// The file, side and line a selected row's comment goes on.
fn comment_target(
    chunks: RwSignal<HashMap<u32, Vec<DiffRow>>>,
    row: u32,
    paths: StoredValue<Vec<String>>,
    outline: &Outline,
) -> Option<(String, String, u32)> {
    if !outline.files.is_empty() {
        // The version diff is not a place to comment (comments belong to a version).
        return None;
    }
    let r = chunks.with_untracked(|c| {
        c.get(&(row / CHUNK))
            .and_then(|rows| rows.get((row % CHUNK) as usize).cloned())
    })?;
    let path = paths.with_value(|p| p.get(r.file as usize).cloned())?;
    let cell = r.right.clone().or(r.left.clone())?;
    let side = if r.right.is_some() {
        "new"
    } else {
        side_of(Some(&cell))
    };
    Some((path, side.to_owned(), cell.line))
}

fn half(cell: Option<DiffCell>, light: Vec<Span>, noted: bool) -> impl IntoView {
    match cell {
        None => view! { <span class="half empty"></span> }.into_any(),
        Some(c) => {
            let kind = c.kind.clone();
            view! {
                <span class=format!("half k-{kind}")>
                    <span class="ln">{c.line.to_string()}</span>
                    <span class="mk">{if kind == "added" { "+" } else if kind == "removed" { "-" } else { " " }}{noted.then(|| view! { <span class="dot" title="comment">"●"</span> })}</span>
                    <span class="code">{spans(&c.text, &light)}</span>
                </span>
            }
            .into_any()
        }
    }
}

/// A line's text with its highlighted runs as spans (byte offsets from the backend).
fn spans(text: &str, runs: &[Span]) -> impl IntoView {
    let text = shown(text);
    if runs.is_empty() {
        return view! { <span>{text}</span> }.into_any();
    }
    let mut out = Vec::new();
    let mut at = 0usize;
    for run in runs {
        let (start, end) = (run.start as usize, (run.start + run.len) as usize);
        if start < at
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            // The text was escaped for display (invisible characters): show it plain.
            return view! { <span>{text}</span> }.into_any();
        }
        if start > at {
            out.push(view! { <span>{text[at..start].to_owned()}</span> }.into_any());
        }
        out.push(view! { <span class=format!("hl hl-{}", run.class)>{text[start..end].to_owned()}</span> }.into_any());
        at = end;
    }
    if at < text.len() {
        out.push(view! { <span>{text[at..].to_owned()}</span> }.into_any());
    }
    out.into_view().into_any()
}

/// The execution log, a window at a time, error lines marked, searchable.
#[component]
fn LogPane(pkg: StoredValue<PackageView>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let p = pkg.get_value();
    let errors: Vec<u32> = p.log_errors.clone();
    let total = p.log_lines;
    let start = RwSignal::new(0u32);
    let search = RwSignal::new(String::new());
    let found = RwSignal::new(Vec::<u32>::new());
    let window = LocalResource::new(move || {
        let p = pkg.get_value();
        let from = start.get();
        async move {
            ipc::call::<LogWindowGet>(LogWindowQuery {
                task: p.task,
                version: p.version,
                start: from,
                count: 500,
            })
            .await
        }
    });
    let run_search = move || {
        let p = pkg.get_value();
        let text = search.get_untracked();
        leptos::task::spawn_local(async move {
            match ipc::call::<LogSearchCmd>(LogSearch {
                task: p.task,
                version: p.version,
                text,
            })
            .await
            {
                Ok(hits) => found.set(hits.rows),
                Err(e) => ui.notify_error(&e),
            }
        });
    };
    view! {
        <div class="log-pane" data-test="log-pane">
            <div class="diff-tools">
                <input type="search" data-test="log-search" placeholder=move || ui.t(Key::SearchInLog)
                    prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); run_search() } />
                <span class="muted">{move || format!("{} {}", found.with(Vec::len), ui.t(Key::HitsWord))}</span>
                <span class="muted">{format!("{total} lines · ")}</span>
                {errors.iter().take(20).map(|n| {
                    let n = *n;
                    view! { <button class="ghost tiny error-jump" data-test="log-error-jump" on:click=move |_| start.set(n.saturating_sub(1) / 500 * 500)>{format!("⚠ {n}")}</button> }
                }).collect_view()}
            </div>
            {move || match window.get() {
                None => view! { <p class="loading">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="field-error">{shown(&e.message)}</p> }.into_any(),
                Some(Ok(w)) => {
                    let hits: BTreeSet<u32> = found.get().into_iter().collect();
                    view! {
                        <pre class="log" data-test="log-lines">
                            {w.lines.into_iter().map(|l| view! {
                                <div class="log-line" class:error=l.error class:hit=hits.contains(&l.number) data-error=l.error.to_string()>
                                    <span class="ln">{l.number.to_string()}</span>{shown(&l.text)}
                                </div>
                            }).collect_view()}
                        </pre>
                        {(w.total > 500).then(|| view! {
                            <div class="pager">
                                <button class="ghost" disabled=move || start.get() == 0 on:click=move |_| start.update(|s| *s = s.saturating_sub(500))>"‹"</button>
                                <span class="muted">{format!("{}–{} / {}", w.start + 1, (w.start + 500).min(w.total), w.total)}</span>
                                <button class="ghost" on:click=move |_| start.update(|s| *s += 500)>"›"</button>
                            </div>
                        })}
                    }.into_any()
                }
            }}
        </div>
    }
}

#[component]
fn HealthPane(
    health: Vec<guardia_ipc::HealthRow>,
    result: guardia_ipc::ResultView,
    artifacts: Vec<guardia_ipc::ArtifactView>,
    context: Option<String>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <div class="health-pane" data-test="health-pane">
            <h3>{move || ui.t(Key::Summary)}</h3>
            <p data-test="result-status"><span class=format!("badge tone-{}", if result.status == "success" { "done" } else { "alarm" })>{result.status.clone()}</span>" "{shown(&result.summary)}</p>
            {(!result.error_codes.is_empty()).then(|| view! { <p class="field-error">{result.error_codes.join(", ")}</p> })}
            <h3>{move || ui.t(Key::HealthChecks)}</h3>
            <table class="task-table" data-test="health-table">
                <tbody>
                    {health.into_iter().map(|h| view! {
                        <tr data-test="health-row" data-status=h.status.clone()>
                            <td><span class=format!("badge tone-{}", match h.status.as_str() { "pass" => "done", "fail" => "alarm", _ => "closed" })>{h.status.clone()}</span></td>
                            <td>{shown(&h.name)}</td>
                            <td class="mono">{h.target.clone().unwrap_or_default()}</td>
                            <td class="muted">{shown(&h.detail.clone().unwrap_or_default())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>{move || ui.t(Key::Artifacts)}</h3>
            <ul class="artifacts">
                {artifacts.into_iter().map(|a| view! {
                    <li><span class="mono">{a.path}</span>" "<span class="muted mono">{format!("{} B · sha256 {}", a.size, a.sha256)}</span></li>
                }).collect_view()}
            </ul>
            {context.map(|c| view! { <h3>"context.md"</h3><pre class="request">{shown(&c)}</pre> })}
        </div>
    }
}

/// What the console wrote for the agent: work orders, rework briefs, withdrawals.
#[component]
pub fn DocumentsList(task: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let id = StoredValue::new(task);
    let docs = LocalResource::new(move || {
        live.track(Topic::Tasks);
        async move { ipc::call::<TaskDocuments>(TaskRef { id: id.get_value() }).await }
    });
    let item = move |d: DocumentView| {
        let kind = match d.kind.as_str() {
            "work_order" => Key::WorkOrder,
            "rework_brief" => Key::ReworkBrief,
            _ => Key::Withdrawal,
        };
        view! {
            <li class="document" data-test="document" data-kind=d.kind.clone()>
                <details>
                    <summary>
                        <strong>{move || ui.t(kind)}</strong>" #"{d.seq.to_string()}" · "<span class="mono">{d.at.clone()}</span>" · "{d.by.clone()}
                        {match (&d.written_to, &d.write_error) {
                            (Some(path), _) => view! { <span class="muted mono" data-test="document-path">{format!(" → {path}")}</span> }.into_any(),
                            (None, Some(error)) => view! { <span class="field-error">{format!(" {} {}", ui.t(Key::NotWritten), error)}</span> }.into_any(),
                            (None, None) => ().into_any(),
                        }}
                    </summary>
                    <pre class="request mono">{shown(&d.content)}</pre>
                </details>
            </li>
        }
    };
    view! {
        <div class="documents" data-test="documents">
            {move || match docs.get() {
                None => view! { <p class="loading">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="field-error">{shown(&e.message)}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">{ui.t(Key::NoDocuments)}</p> }.into_any(),
                Some(Ok(list)) => view! { <ul class="document-list">{list.into_iter().map(item).collect_view()}</ul> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn DecisionDialog(
    pkg: StoredValue<PackageView>,
    decision: Decision,
    marks: Marks,
    view: Signal<DiffView>,
    on_close: Callback<()>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let comment = RwSignal::new(String::new());
    let p = pkg.get_value();
    let not_viewed: Vec<String> = marks.with_untracked(|m| {
        p.files
            .iter()
            .filter(|f| m.get(&f.path).and_then(Option::as_ref).is_none())
            .map(|f| f.path.clone())
            .collect()
    });
    let blocked =
        decision == Decision::Approve && p.require_full_coverage && !not_viewed.is_empty();
    let send = Action::new_local(move |text: &String| {
        let p = pkg.get_value();
        let args = ReviewDecisionInput {
            task: p.task.clone(),
            version: p.version,
            sha256: p.sha256.clone(),
            verdict: decision.code().to_owned(),
            comment: text.clone(),
            view: view.get_untracked(),
        };
        async move { ipc::call::<ReviewDecide>(args).await }
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(detail)) => {
            ui.notify(format!("{} {}", detail.task.id, ui.t(Key::Decided)));
            on_close.run(());
        }
        Some(Err(e)) => ui.notify_error(&e),
        None => {}
    });
    let title = match decision {
        Decision::Approve => Key::Approve,
        Decision::Rework => Key::RequestRework,
        Decision::TakeOver => Key::TakeOver,
    };
    let submit = move || {
        let text = comment.get_untracked();
        if !text.trim().is_empty() && !send.pending().get_untracked() {
            send.dispatch(text);
        }
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" data-test="decision-dialog" data-verdict=decision.code()>
                <h2>{move || ui.t(title)}" — "{format!("{} v{}", p.task, p.version)}</h2>
                <p class="mono muted">{format!("sha256 {}", p.sha256)}</p>
                <p data-test="decision-coverage">{format!("{} / {} ", p.files.len() - not_viewed.len(), p.files.len())}{move || ui.t(Key::ViewedOrWaived)}</p>
                {(!not_viewed.is_empty()).then(|| view! {
                    <p class="field-error" data-test="not-viewed">{move || ui.t(Key::NotViewedYet)}": "{not_viewed.join(", ")}</p>
                })}
                {blocked.then(|| view! { <p class="field-error" data-test="coverage-required">{move || ui.t(Key::FullCoverageRequired)}</p> })}
                <label>
                    <span>{move || ui.t(if decision == Decision::Approve { Key::DecisionComment } else { Key::ReworkNotes })}</span>
                    <textarea rows="5" data-test="decision-text" prop:value=move || comment.get()
                        on:input=move |ev| comment.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.ctrl_key() && ev.key() == "Enter" { ev.prevent_default(); submit() }></textarea>
                </label>
                <div class="actions">
                    <button class="primary" data-test="decision-send" disabled=move || blocked || send.pending().get() || comment.get().trim().is_empty()
                        on:click=move |_| submit()>{move || ui.t(title)}<kbd>"Ctrl+Enter"</kbd></button>
                    <button class="ghost" on:click=move |_| on_close.run(())>{move || ui.t(Key::Cancel)}<kbd>"Esc"</kbd></button>
                </div>
            </div>
        </div>
    }
}

#[component]
fn CommentDialog(
    pkg: StoredValue<PackageView>,
    path: String,
    side: String,
    line: u32,
    on_close: Callback<()>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let body = RwSignal::new(String::new());
    let place = StoredValue::new((path.clone(), side.clone()));
    let send = Action::new_local(move |text: &String| {
        let p = pkg.get_value();
        let (path, side) = place.get_value();
        let args = CommentInput {
            task: p.task,
            version: p.version,
            path,
            side,
            line,
            body: text.clone(),
        };
        async move { ipc::call::<ReviewCommentAdd>(args).await }
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(_)) => {
            ui.notify(ui.t(Key::CommentSaved).to_owned());
            on_close.run(());
        }
        Some(Err(e)) => ui.notify_error(&e),
        None => {}
    });
    let submit = move || {
        let text = body.get_untracked();
        if !text.trim().is_empty() {
            send.dispatch(text);
        }
    };
    let area = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(el) = area.get() {
            focus(&el, "the comment box");
        }
    });
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" data-test="comment-dialog">
                <h2>{move || ui.t(Key::CommentOnLine)}</h2>
                <p class="mono">{format!("{path}:{line} ({side})")}</p>
                <textarea rows="4" node_ref=area data-test="comment-text" prop:value=move || body.get()
                    on:input=move |ev| body.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.ctrl_key() && ev.key() == "Enter" { ev.prevent_default(); submit() }></textarea>
                <div class="actions">
                    <button class="primary" data-test="comment-send" disabled=move || send.pending().get() on:click=move |_| submit()>
                        {move || ui.t(Key::Save)}<kbd>"Ctrl+Enter"</kbd></button>
                    <button class="ghost" on:click=move |_| on_close.run(())>{move || ui.t(Key::Cancel)}<kbd>"Esc"</kbd></button>
                </div>
            </div>
        </div>
    }
}
