//! Rollouts in the window (issue 12): the kill switch on every screen (button, Ctrl+Alt+K,
//! banner with what stays allowed, re-arm for a security officer), and the Rollouts section:
//! a new rollout from a task READY_TO_ROLL_OUT (preview with phases, notes and blockers,
//! then start), the live board (every site a cell coloured by state, filters, per-phase
//! progress, the gate, ETA, pause/resume/abort/rollback) and one site's journal and log.
//! Everything refetches on the `Rollouts` topic of the feed; nothing polls.

use guardia_domain::TaskStatus;
use guardia_domain::governance::Permission;
use guardia_ipc::{
    IpcError, KILL_SWITCH_ASK_EVENT, KillSwitchGet, KillSwitchInput, KillSwitchPress,
    KillSwitchRearm, KillSwitchView, PlanInput, RolloutAction, RolloutControl, RolloutGet,
    RolloutList, RolloutPreviewCmd, RolloutRef, RolloutRequest, RolloutSiteGet, RolloutStart,
    RolloutView, SiteRef, TaskList, TaskQuery, Topic,
};
use leptos::ev;
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::Key;
use crate::ipc;
use crate::live::Live;
use crate::session::Auth;

/// Which rollout the section shows (the task page's "Roll out" sets the task to preview).
#[derive(Clone, Copy)]
pub struct RolloutNav {
    pub rollout: RwSignal<Option<String>>,
    pub task: RwSignal<Option<String>>,
}

/// The kill switch's state, for every screen.
#[derive(Clone, Copy)]
pub struct Switch {
    pub state: LocalResource<Result<KillSwitchView, IpcError>>,
    /// The press dialog is open.
    asking: RwSignal<bool>,
}

pub fn provide() {
    let live = expect_context::<Live>();
    let state = LocalResource::new(move || {
        live.track(Topic::Rollouts);
        async move { ipc::call::<KillSwitchGet>(()).await }
    });
    provide_context(Switch {
        state,
        asking: RwSignal::new(false),
    });
    provide_context(RolloutNav {
        rollout: RwSignal::new(None),
        task: RwSignal::new(None),
    });
}

fn engaged(switch: Switch) -> Option<KillSwitchView> {
    match switch.state.get() {
        Some(Ok(k)) if k.engaged => Some(k),
        _ => None,
    }
}

/// The big button in the top bar, and the chord. Shown to whoever may press it.
#[component]
pub fn KillSwitchButton() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let switch = expect_context::<Switch>();
    let chord = window_event_listener(ev::keydown, move |ev| {
        if ev.ctrl_key() && ev.alt_key() && ev.code() == "KeyK" {
            ev.prevent_default();
            if auth.may(Permission::PressKillSwitch) && engaged(switch).is_none() {
                switch.asking.set(true);
            }
        }
    });
    on_cleanup(move || chord.remove());
    // The tray menu's entry asks the same (the shell brings the window to the front).
    leptos::task::spawn_local(async move {
        let asked = ipc::listen::<String, _>(KILL_SWITCH_ASK_EVENT, move |_from| {
            if auth.may(Permission::PressKillSwitch) && engaged(switch).is_none() {
                switch.asking.set(true);
            }
        })
        .await;
        if let Err(e) = asked {
            leptos::logging::warn!("the tray cannot reach the kill switch: {}", e.message);
        }
    });
    view! {
        <Show when=move || auth.may(Permission::PressKillSwitch) && engaged(switch).is_none()>
            <button
                class="kill-switch"
                data-test="kill-switch"
                title="Ctrl+Alt+K"
                on:click=move |_| switch.asking.set(true)
            >
                {move || ui.t(Key::KillSwitch)}
                <kbd>"Ctrl+Alt+K"</kbd>
            </button>
        </Show>
        <Show when=move || switch.asking.get()>
            <KillDialog />
        </Show>
    }
}

#[component]
fn KillDialog() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let switch = expect_context::<Switch>();
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let press = move || {
        let why = reason.get_untracked();
        if why.trim().is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match ipc::call::<KillSwitchPress>(KillSwitchInput { reason: why }).await {
                Ok(_) => {
                    switch.asking.set(false);
                    switch.state.refetch();
                }
                Err(e) => ui.notify_error(&e),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="modal" role="dialog" aria-modal="true" data-test="kill-dialog">
            <div class="modal-body">
                <h2>{move || ui.t(Key::KillSwitchConfirm)}</h2>
                <p>{move || ui.t(Key::KillSwitchExplain)}</p>
                <input
                    type="text"
                    data-test="kill-reason"
                    placeholder=move || ui.t(Key::ReasonWord)
                    prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            press();
                        } else if ev.key() == "Escape" {
                            switch.asking.set(false);
                        }
                    }
                    autofocus
                />
                <div class="row">
                    <button
                        class="danger"
                        data-test="kill-confirm"
                        disabled=move || reason.get().trim().is_empty() || busy.get()
                        on:click=move |_| press()
                    >
                        {move || ui.t(Key::KillSwitch)}
                    </button>
                    <button class="ghost" on:click=move |_| switch.asking.set(false)>
                        {move || ui.t(Key::Cancel)}
                    </button>
                </div>
            </div>
        </div>
    }
}

/// Across every screen while the switch is engaged: who, why, what stays allowed, re-arm.
#[component]
pub fn KillSwitchBanner() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let switch = expect_context::<Switch>();
    let reason = RwSignal::new(String::new());
    let rearm = move |_| {
        let why = reason.get_untracked();
        if why.trim().is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match ipc::call::<KillSwitchRearm>(KillSwitchInput { reason: why }).await {
                Ok(_) => {
                    reason.set(String::new());
                    switch.state.refetch();
                }
                Err(e) => ui.notify_error(&e),
            }
        });
    };
    // Rebuilt only when the switch itself changes, not on every refetch: a rollout settling
    // after the press refetches it often, and the re-arm reason being typed must stay put.
    let current = Memo::new(move |_| engaged(switch));
    move || {
        current.get().map(|k| {
            let allowed = k.allowed.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view();
            let refused = k.refused.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view();
            view! {
                <div class="kill-banner" role="alert" data-test="kill-banner">
                    <strong>{ui.t(Key::KillSwitchEngaged)}</strong>
                    <span data-test="kill-by">{format!(" {} · {} · {}", k.by, k.at.clone().unwrap_or_default(), k.reason)}</span>
                    <details>
                        <summary>{ui.t(Key::KillSwitchWhat)}</summary>
                        <div class="two">
                            <ul class="allowed">{allowed}</ul>
                            <ul class="refused">{refused}</ul>
                        </div>
                    </details>
                    <Show when=move || auth.may(Permission::RearmKillSwitch)>
                        <span class="rearm">
                            <input
                                type="text"
                                data-test="rearm-reason"
                                placeholder=move || ui.t(Key::ReasonWord)
                                prop:value=move || reason.get()
                                on:input=move |ev| reason.set(event_target_value(&ev))
                            />
                            <button
                                data-test="rearm"
                                disabled=move || reason.get().trim().is_empty()
                                on:click=rearm
                            >
                                {ui.t(Key::Rearm)}
                            </button>
                        </span>
                    </Show>
                </div>
            }
        })
    }
}

// ── the section ────────────────────────────────────────────────────────────────────────

#[component]
pub fn RolloutsPage() -> impl IntoView {
    let nav = expect_context::<RolloutNav>();
    view! {
        <section class="rollouts" data-test="page-rollouts">
            <div class="rollout-side">
                <NewRollout />
                <RolloutListPane />
            </div>
            <div class="rollout-main">
                {move || nav.rollout.get().map(|id| view! { <Board id=id /> })}
            </div>
        </section>
    }
}

#[component]
fn NewRollout() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let nav = expect_context::<RolloutNav>();
    let ready = LocalResource::new(move || {
        live.track(Topic::Tasks);
        async move {
            ipc::call::<TaskList>(TaskQuery {
                status: Some(TaskStatus::ReadyToRollOut),
                category: None,
                text: String::new(),
                limit: Some(500),
            })
            .await
        }
    });
    let preview = RwSignal::new(None::<Result<guardia_ipc::RolloutPreview, IpcError>>);
    let busy = RwSignal::new(false);
    let soak = RwSignal::new("60".to_owned());
    let budget = RwSignal::new(String::new());
    // Playbook parameters, `NAME=VALUE` per line (e.g. `key_credential=site-tls`).
    let params = RwSignal::new(String::new());
    let request = move || RolloutRequest {
        task: nav.task.get_untracked().unwrap_or_default(),
        plan: PlanInput {
            phases: Vec::new(),
            budget: budget.get_untracked(),
            soak_seconds: soak.get_untracked().trim().parse().ok(),
        },
        params: params
            .get_untracked()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .filter(|(k, _)| !k.is_empty())
            .collect(),
    };
    let do_preview = move |_| {
        let r = request();
        leptos::task::spawn_local(async move {
            preview.set(Some(ipc::call::<RolloutPreviewCmd>(r).await));
        });
    };
    let start = move |_| {
        let r = request();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match ipc::call::<RolloutStart>(r).await {
                Ok(v) => {
                    preview.set(None);
                    nav.task.set(None);
                    nav.rollout.set(Some(v.id));
                }
                Err(e) => ui.notify_error(&e),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="card new-rollout" data-test="new-rollout">
            <h2>{move || ui.t(Key::NewRollout)}</h2>
            <select
                data-test="rollout-task"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    nav.task.set((!v.is_empty()).then_some(v));
                    preview.set(None);
                }
            >
                <option value="">{move || ui.t(Key::ChooseTask)}</option>
                {move || match ready.get() {
                    Some(Ok(tasks)) => tasks
                        .into_iter()
                        .map(|t| {
                            let id = t.id.to_string();
                            let selected = nav.task.get_untracked().as_deref() == Some(id.as_str());
                            view! {
                                <option value=id.clone() selected=selected>
                                    {format!("{id} · {} · {}", t.system, t.title)}
                                </option>
                            }
                        })
                        .collect_view()
                        .into_any(),
                    _ => ().into_any(),
                }}
            </select>
            <label>
                {move || ui.t(Key::SoakSeconds)}
                <input type="number" min="0" data-test="rollout-soak" prop:value=move || soak.get()
                    on:input=move |ev| { soak.set(event_target_value(&ev)); preview.set(None); } />
            </label>
            <label>
                {move || ui.t(Key::BudgetWord)}
                <input type="text" placeholder="5%" data-test="rollout-budget" prop:value=move || budget.get()
                    on:input=move |ev| { budget.set(event_target_value(&ev)); preview.set(None); } />
            </label>
            <label>
                {move || ui.t(Key::PlaybookParams)}
                <textarea class="mono" rows="2" placeholder="key_credential=site-tls" data-test="rollout-params"
                    prop:value=move || params.get()
                    on:input=move |ev| { params.set(event_target_value(&ev)); preview.set(None); }></textarea>
            </label>
            <button data-test="rollout-preview" disabled=move || nav.task.get().is_none() on:click=do_preview>
                {move || ui.t(Key::PreviewPlan)}
            </button>
            {move || preview.get().map(|p| match p {
                Err(e) => view! { <p class="error" data-test="preview-error">{e.message}</p> }.into_any(),
                Ok(p) => {
                    let blocked = !p.blockers.is_empty();
                    let phases = p.phases.iter().map(|ph| view! {
                        <tr data-test="preview-phase">
                            <td>{ph.name.clone()}</td>
                            <td class="num">{ph.sites}</td>
                            <td class="num">{ph.servers}</td>
                            <td class="num">{format!("{} × ≤{}", ph.batches, ph.window)}</td>
                            <td>{ph.gate.clone()}</td>
                            <td>{ph.scope.clone()}</td>
                        </tr>
                    }).collect_view();
                    let notes = p.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view();
                    let blockers = p.blockers.iter().map(|n| view! { <li class="error">{n.clone()}</li> }).collect_view();
                    view! {
                        <div class="preview" data-test="rollout-plan" data-blocked=blocked.to_string()>
                            <p>{format!("{} v{} · {} · {} sites / {} servers · budget {}", p.playbook, p.playbook_version, p.version_label, p.sites, p.servers, p.budget)}</p>
                            <table>
                                <thead><tr><th>{ui.t(Key::PhaseWord)}</th><th>{ui.t(Key::SitesWord)}</th><th>{ui.t(Key::ServersWord)}</th><th>{ui.t(Key::BatchesWord)}</th><th>{ui.t(Key::GateWord)}</th><th>{ui.t(Key::RollbackWord)}</th></tr></thead>
                                <tbody>{phases}</tbody>
                            </table>
                            <ul class="notes">{notes}</ul>
                            <ul class="blockers" data-test="rollout-blockers">{blockers}</ul>
                            <button class="primary" data-test="rollout-start" disabled=move || blocked || busy.get() on:click=start>
                                {ui.t(Key::StartRollout)}
                            </button>
                        </div>
                    }.into_any()
                }
            })}
        </div>
    }
}

#[component]
fn RolloutListPane() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let nav = expect_context::<RolloutNav>();
    let list = LocalResource::new(move || {
        live.track(Topic::Rollouts);
        async move { ipc::call::<RolloutList>(()).await }
    });
    view! {
        <div class="card">
            <h2>{move || ui.t(Key::NavRollouts)}</h2>
            <ul class="rollout-list" data-test="rollout-list">
                {move || match list.get() {
                    Some(Ok(items)) => items
                        .into_iter()
                        .map(|r| {
                            let id = r.id.clone();
                            let chosen = id.clone();
                            view! {
                                <li
                                    class="rollout-item"
                                    class:active=move || nav.rollout.get().as_deref() == Some(id.as_str())
                                    data-test="rollout-item"
                                    data-id=r.id.clone()
                                    data-state=r.state.clone()
                                    on:click=move |_| nav.rollout.set(Some(chosen.clone()))
                                >
                                    <span class=format!("state s-{}", r.state.to_lowercase())>{r.state.clone()}</span>
                                    <span>{format!(" {} · {} sites · {} failed", r.id, r.sites, r.failures)}</span>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any(),
                    Some(Err(e)) => view! { <li class="error">{e.message}</li> }.into_any(),
                    None => ().into_any(),
                }}
            </ul>
        </div>
    }
}

/// The live board of one rollout.
#[component]
fn Board(id: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    // The rollout, refetched when the feed says rollouts changed — coalesced: one call in
    // flight at a time, and one more after it if anything changed meanwhile (a 1,000-site
    // rollout commits many times a second; the board never queues a call per commit).
    let view_of = RwSignal::new(None::<Result<RolloutView, IpcError>>);
    let (in_flight, dirty) = (StoredValue::new(false), StoredValue::new(false));
    let rollout = StoredValue::new(id.clone());
    let fetch = move || {
        if in_flight.get_value() {
            dirty.set_value(true);
            return;
        }
        in_flight.set_value(true);
        leptos::task::spawn_local(async move {
            loop {
                dirty.set_value(false);
                let r = RolloutRef {
                    id: rollout.get_value(),
                };
                view_of.set(Some(ipc::call::<RolloutGet>(r).await));
                if !dirty.get_value() {
                    break;
                }
            }
            in_flight.set_value(false);
        });
    };
    Effect::new(move |_| {
        live.track(Topic::Rollouts);
        fetch();
    });
    let phase_filter = RwSignal::new(None::<u32>);
    let state_filter = RwSignal::new(String::new());
    let site = RwSignal::new(None::<String>);
    let act = move |action: &'static str, scope: &'static str| {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let a = RolloutAction {
                    id,
                    action: action.to_owned(),
                    scope: scope.to_owned(),
                    site: String::new(),
                    reason: String::new(),
                };
                if let Err(e) = ipc::call::<RolloutControl>(a).await {
                    ui.notify_error(&e);
                }
            });
        }
    };
    let buttons = {
        let (pause, resume, gate, abort, rollback, abandon) = (
            act("pause", ""),
            act("resume", ""),
            act("approve_gate", ""),
            act("abort", ""),
            act("rollback", "all"),
            act("abandon", ""),
        );
        // What the rollout's state allows (the backend decides; this only greys out the rest).
        let now = move || {
            view_of.with(|v| {
                v.as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .map(|v| (v.state.clone(), v.live))
            })
        };
        let allows =
            move |f: fn(&str, bool) -> bool| move || !now().is_some_and(|(s, live)| f(&s, live));
        view! {
            <div class="row board-actions">
                <button data-test="rollout-pause" on:click=pause
                    disabled=allows(|s, _| matches!(s, "RUNNING" | "WAITING_GATE"))>{move || ui.t(Key::PauseWord)}</button>
                <button data-test="rollout-resume" on:click=resume
                    disabled=allows(|s, _| matches!(s, "PAUSED" | "HALTED" | "INTERRUPTED"))>{move || ui.t(Key::ResumeWord)}</button>
                <button class="primary" data-test="rollout-gate" on:click=gate
                    disabled=allows(|s, _| s == "WAITING_GATE")>{move || ui.t(Key::OpenGate)}</button>
                <button data-test="rollout-abort" on:click=abort
                    disabled=allows(|s, _| matches!(s, "RUNNING" | "WAITING_GATE" | "PAUSED"))>{move || ui.t(Key::AbortWord)}</button>
                <button data-test="rollout-rollback" on:click=rollback
                    disabled=allows(|s, live| !live && s != "ROLLED_BACK")>{move || ui.t(Key::RollbackAll)}</button>
                <button class="ghost" data-test="rollout-abandon" on:click=abandon
                    disabled=allows(|s, live| !live && matches!(s, "HALTED" | "INTERRUPTED"))>{move || ui.t(Key::AbandonWord)}</button>
                <crate::incidents::OpenIncidentFrom link=rollout.get_value() />
            </div>
        }
    };
    // The grid is diffed, not rebuilt: a cell is keyed by what it shows, so a refetch touches
    // only the cells whose state changed (1,000 sites stay smooth).
    let cells = Memo::new(move |_| {
        view_of.with(|v| match v {
            Some(Ok(v)) => v
                .sites
                .iter()
                .map(|s| Cell {
                    key: s.key.clone(),
                    phase: s.phase,
                    state: s.state.clone(),
                    detail: s.detail.clone(),
                })
                .collect(),
            _ => Vec::new(),
        })
    });
    let phase_names = Memo::new(move |_| {
        view_of.with(|v| match v {
            Some(Ok(v)) => v.phases.iter().map(|p| p.name.clone()).collect(),
            _ => Vec::<String>::new(),
        })
    });
    let loaded = move || view_of.with(|v| matches!(v, Some(Ok(_))));
    view! {
        <div class="board" data-test="board">
            {move || match view_of.get() {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="error">{e.message}</p> }.into_any(),
                Some(Ok(v)) => board_head(ui, v).into_any(),
            }}
            <Show when=loaded>
                <div class="row filters">
                    <select data-test="filter-phase" on:change=move |ev| phase_filter.set(event_target_value(&ev).parse().ok())>
                        <option value="">{move || ui.t(Key::AllPhases)}</option>
                        <For
                            each=move || phase_names.get().into_iter().enumerate()
                            key=|p| p.clone()
                            let((i, name))
                        >
                            <option value=i.to_string()>{name}</option>
                        </For>
                    </select>
                    <select data-test="filter-state" on:change=move |ev| state_filter.set(event_target_value(&ev))>
                        <option value="">{move || ui.t(Key::AllStates)}</option>
                        {guardia_domain_states().into_iter().map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                    </select>
                </div>
                <div class="site-grid" data-test="site-grid">
                    <For each=move || cells.get() key=|c| c.clone() let(c)>
                        {site_cell(c, phase_filter, state_filter, site)}
                    </For>
                </div>
            </Show>
            {buttons}
            {move || site.get().map(|s| {
                let id = view_of.with(|v| v.as_ref().and_then(|v| v.as_ref().ok()).map(|v| v.id.clone())).unwrap_or_default();
                view! { <SiteJournal id=id site=s /> }
            })}
        </div>
    }
}

/// What one cell of the grid shows (its key in the diff).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Cell {
    key: String,
    phase: u32,
    state: String,
    detail: String,
}

fn site_cell(
    c: Cell,
    phase_filter: RwSignal<Option<u32>>,
    state_filter: RwSignal<String>,
    site: RwSignal<Option<String>>,
) -> impl IntoView {
    let (phase, state) = (c.phase, c.state.clone());
    let visible = move || {
        phase_filter.get().is_none_or(|p| p == phase)
            && (state_filter.with(String::is_empty) || state_filter.with(|f| *f == state))
    };
    let key = c.key.clone();
    view! {
        <button
            class=format!("site-cell s-{}", c.state.to_lowercase())
            class:hidden=move || !visible()
            title=format!("{} · {} {}", c.key, c.state, c.detail)
            data-test="site-cell"
            data-site=c.key.clone()
            data-state=c.state.clone()
            on:click=move |_| site.set(Some(key.clone()))
        ></button>
    }
}

/// The board's head: state, reason, budget, ETA, the gate, counts and per-phase progress.
fn board_head(ui: Ui, v: RolloutView) -> impl IntoView {
    let progress = v
        .phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let pct = ((p.done + p.failed) * 100).checked_div(p.total).unwrap_or(0);
            view! {
                <div class="phase" data-test="phase-progress" data-done=p.done.to_string() data-total=p.total.to_string()>
                    <span class="phase-name">{format!("{}. {}", i + 1, p.name)}</span>
                    <progress max="100" value=pct.to_string()></progress>
                    <span class="num">{format!("{}/{} · ✗{} · ▶{}", p.done, p.total, p.failed, p.running)}</span>
                    <span class="muted">{p.gate.clone()}</span>
                </div>
            }
        })
        .collect_view();
    let counts = v
        .counts
        .iter()
        .map(|(k, n)| view! { <span class=format!("count s-{}", k.to_lowercase())>{format!("{k} {n}")}</span> })
        .collect_view();
    let waiting = v.state == "WAITING_GATE";
    view! {
        <div class="board-head" data-test="board-head" data-state=v.state.clone() data-id=v.id.clone() data-live=v.live.to_string()>
            <h2>
                <span class=format!("state s-{}", v.state.to_lowercase())>{v.state.clone()}</span>
                {format!(" {} · {} · {}", v.id, v.task, v.version_label)}
            </h2>
            <p>{v.reason.clone()}</p>
            <p class="muted">
                {format!("{} {}/{} · ", ui.t(Key::BudgetWord), v.failures, v.budget)}
                {v.eta_seconds.map(|s| format!("ETA {s} s")).unwrap_or_default()}
            </p>
            {waiting.then(|| view! { <p class="gate-waiting" data-test="gate-waiting">{ui.t(Key::GateWaits)}</p> })}
            <div class="counts">{counts}</div>
        </div>
        <div class="phases">{progress}</div>
    }
}

fn guardia_domain_states() -> [&'static str; 9] {
    [
        "PENDING",
        "RUNNING",
        "DONE",
        "FAILED",
        "ROLLING_BACK",
        "ROLLED_BACK",
        "UNCERTAIN",
        "MANUAL_INTERVENTION_REQUIRED",
        "SKIPPED",
    ]
}

#[component]
fn SiteJournal(id: String, site: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let detail = LocalResource::new(move || {
        live.track(Topic::Rollouts);
        let r = SiteRef {
            id: id.clone(),
            site: site.clone(),
        };
        async move { ipc::call::<RolloutSiteGet>(r).await }
    });
    view! {
        <div class="card site-detail" data-test="site-detail">
            {move || match detail.get() {
                Some(Ok(d)) => {
                    let rows = d.journal.iter().map(|j| view! {
                        <tr class=format!("o-{}", j.outcome)>
                            <td class="num">{j.seq}</td><td>{j.at.clone()}</td><td>{j.server.clone()}</td>
                            <td>{j.step.clone()}</td><td>{j.mark.clone()}</td><td>{j.outcome.clone()}</td>
                            <td>{j.detail.clone()}</td>
                        </tr>
                    }).collect_view();
                    view! {
                        <h3>{format!("{} · {} · {}", d.key, d.state, d.servers.join(", "))}</h3>
                        <p>{d.detail.clone()}</p>
                        <table class="journal"><tbody>{rows}</tbody></table>
                        {(!d.log_tail.is_empty()).then(|| view! {
                            <h4>{ui.t(Key::ServiceLogTail)}</h4>
                            <pre class="log-tail">{d.log_tail.clone()}</pre>
                        })}
                    }.into_any()
                }
                Some(Err(e)) => view! { <p class="error">{e.message}</p> }.into_any(),
                None => ().into_any(),
            }}
        </div>
    }
}
