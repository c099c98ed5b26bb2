//! Incidents in the window (issue 14): the banner of overdue and due-soon reports and
//! breached targets on every screen, and the Incidents section — the list (open by hand with
//! `N`), one incident with live countdowns to its targets, acknowledge, severity, roles, the
//! lifecycle, escalations to acknowledge, the status-update composer with its messenger text,
//! the reportability checklist and its report clocks (pre-filled text, the legal/DPO's
//! sign-off), the postmortem whose actions become tasks, the evidence pack, the timeline —
//! and the month's figures. Everything refetches on the `Incidents` topic; nothing polls.

use chrono::{DateTime, Datelike, Utc};
use guardia_domain::governance::Permission;
use guardia_domain::incident::{Harm, IncidentRole, IncidentType, Stage, UpdateState};
use guardia_ipc::{
    ActionInput, IncidentAck, IncidentAckCmd, IncidentAdvance, IncidentAdvanceCmd, IncidentAlert,
    IncidentAlerts, IncidentChecklistSet, IncidentChecklistSetCmd, IncidentClassify,
    IncidentClassifyCmd, IncidentExport, IncidentGet, IncidentList, IncidentOpen, IncidentOpenCmd,
    IncidentQuery, IncidentRef, IncidentRoleSet, IncidentRoleSetCmd, IncidentStatsExport,
    IncidentStatsGet, IncidentUpdatePost, IncidentUpdatePostCmd, IncidentView, IpcError,
    PostmortemSave, PostmortemSaveCmd, ReportDraftGet, ReportRef, ReportSubmit, ReportSubmitCmd,
    StatsExport, StatsQuery, TargetView, Topic,
};
use leptos::ev;
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::Key;
use crate::ipc;
use crate::live::Live;
use crate::session::Auth;

/// Which incident the section shows (and the banner's links).
#[derive(Clone, Copy)]
pub struct IncidentNav {
    pub selected: RwSignal<Option<String>>,
    opening: RwSignal<bool>,
    /// What a new incident is linked to when opened from a task, server or rollout.
    link: RwSignal<String>,
}

#[derive(Clone, Copy)]
struct Alerts(LocalResource<Result<Vec<IncidentAlert>, IpcError>>);

pub fn provide() {
    let live = expect_context::<Live>();
    let alerts = LocalResource::new(move || {
        live.track(Topic::Incidents);
        async move { ipc::call::<IncidentAlerts>(()).await }
    });
    provide_context(Alerts(alerts));
    provide_context(IncidentNav {
        selected: RwSignal::new(None),
        opening: RwSignal::new(false),
        link: RwSignal::new(String::new()),
    });
}

/// Overdue and due-soon reports, breached targets, overdue postmortems: on every screen.
#[component]
pub fn IncidentBanner() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let Alerts(alerts) = expect_context::<Alerts>();
    let nav = expect_context::<IncidentNav>();
    let page = expect_context::<crate::app::Nav>();
    move || {
        let items = match alerts.get() {
            Some(Ok(items)) if !items.is_empty() => items,
            _ => return None,
        };
        let rows = items
            .into_iter()
            .map(|a| {
                let id = a.incident.clone();
                view! {
                    <li data-test="incident-alert" data-kind=a.kind.clone() data-incident=a.incident.clone()>
                        <button class="link" on:click=move |_| {
                            nav.selected.set(Some(id.clone()));
                            page.page.set(crate::app::Page::Incidents);
                        }>{a.text.clone()}</button>
                        {a.due.map(|d| view! { <span class="muted">{format!(" · {}", local(d))}</span> })}
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <div class="incident-banner" role="alert" data-test="incident-banner">
                <strong>{ui.t(Key::IncidentAlerts)}</strong>
                <ul>{rows}</ul>
            </div>
        })
    }
}

fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let nav = expect_context::<IncidentNav>();
    let auth = expect_context::<Auth>();
    let keys = window_event_listener(ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if !typing
            && !ev.ctrl_key()
            && !ev.alt_key()
            && ev.key() == "n"
            && auth.may(Permission::RunIncidents)
        {
            ev.prevent_default();
            nav.opening.set(true);
        }
    });
    on_cleanup(move || keys.remove());
    view! {
        <section class="incidents" data-test="page-incidents">
            <div class="incident-side">
                <OpenIncident />
                <IncidentListPane />
                <StatsCard />
            </div>
            <div class="incident-main">
                {move || nav.selected.get().map(|id| view! { <IncidentDetail id=id /> })}
            </div>
        </section>
    }
}

/// "Open an incident" on a task, a server or a rollout: the Incidents section with the form
/// open and linked to it.
#[component]
pub fn OpenIncidentFrom(link: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let nav = expect_context::<IncidentNav>();
    let page = expect_context::<crate::app::Nav>();
    let link = StoredValue::new(link);
    view! {
        <Show when=move || auth.may(Permission::RunIncidents)>
            <button class="ghost" data-test="open-incident-from" on:click=move |_| {
                nav.link.set(link.get_value());
                nav.opening.set(true);
                page.page.set(crate::app::Page::Incidents);
            }>{move || ui.t(Key::OpenIncident)}</button>
        </Show>
    }
}

#[component]
fn OpenIncident() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let nav = expect_context::<IncidentNav>();
    let title = RwSignal::new(String::new());
    let kind = RwSignal::new("application".to_owned());
    let severity = RwSignal::new(String::new());
    let link = nav.link;
    let open = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let link = link.get_untracked();
        let link = link.trim().to_owned();
        let (task, rollout, server) = if link.starts_with("R-") {
            (String::new(), link, String::new())
        } else if link.parse::<guardia_domain::TaskId>().is_ok() {
            (link, String::new(), String::new())
        } else {
            (String::new(), String::new(), link)
        };
        let input = IncidentOpen {
            title: title.get_untracked(),
            kind: kind.get_untracked(),
            severity: severity.get_untracked(),
            task,
            rollout,
            server,
            detected_at: None,
        };
        leptos::task::spawn_local(async move {
            match ipc::call::<IncidentOpenCmd>(input).await {
                Ok(v) => {
                    title.set(String::new());
                    nav.link.set(String::new());
                    nav.opening.set(false);
                    nav.selected.set(Some(v.incident.id));
                }
                Err(e) => ui.notify_error(&e),
            }
        });
    };
    view! {
        <Show when=move || auth.may(Permission::RunIncidents)>
            <div class="card">
                <button class="primary" data-test="open-incident" title="N" on:click=move |_| nav.opening.update(|o| *o = !*o)>
                    {move || ui.t(Key::OpenIncident)} <kbd>"N"</kbd>
                </button>
                <Show when=move || nav.opening.get()>
                    <form class="stack" data-test="incident-form" on:submit=open>
                        <input type="text" data-test="incident-title-input" placeholder=move || ui.t(Key::IncidentTitle)
                            prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
                        <select data-test="incident-type" on:change=move |ev| kind.set(event_target_value(&ev))>
                            {IncidentType::ALL.map(|t| view! {
                                <option value=t.code() selected=t == IncidentType::Application>{move || ui.pick(t.names())}</option>
                            }).collect_view()}
                        </select>
                        <select data-test="incident-severity-input" on:change=move |ev| severity.set(event_target_value(&ev))>
                            <option value="" selected=true>{move || ui.t(Key::SeverityByType)}</option>
                            {["P1", "P2", "P3", "P4"].map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                        </select>
                        <input type="text" data-test="incident-link" placeholder=move || ui.t(Key::IncidentLinkHint)
                            prop:value=move || link.get() on:input=move |ev| link.set(event_target_value(&ev)) />
                        <button class="primary" type="submit" data-test="incident-open-submit">{move || ui.t(Key::OpenIncident)}</button>
                    </form>
                </Show>
            </div>
        </Show>
    }
}

#[component]
fn IncidentListPane() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let nav = expect_context::<IncidentNav>();
    let open_only = RwSignal::new(true);
    let list = LocalResource::new(move || {
        live.track(Topic::Incidents);
        let open_only = open_only.get();
        async move {
            ipc::call::<IncidentList>(IncidentQuery {
                open_only,
                month: String::new(),
            })
            .await
        }
    });
    view! {
        <div class="card">
            <h2>{move || ui.t(Key::NavIncidents)}</h2>
            <label class="toggle">
                <input type="checkbox" data-test="incidents-open-only" prop:checked=move || open_only.get()
                    on:change=move |ev| open_only.set(event_target_checked(&ev)) />
                {move || ui.t(Key::OpenOnly)}
            </label>
            <ul class="incident-list" data-test="incident-list">
                {move || match list.get() {
                    Some(Ok(items)) if items.is_empty() => view! { <li class="muted">{ui.t(Key::NoIncidents)}</li> }.into_any(),
                    Some(Ok(items)) => items.into_iter().map(|i| {
                        let id = i.id.clone();
                        let chosen = id.clone();
                        view! {
                            <li class="incident-item" data-test="incident-row" data-id=i.id.clone()
                                class:active=move || nav.selected.get().as_deref() == Some(id.as_str())
                                on:click=move |_| nav.selected.set(Some(chosen.clone()))>
                                <span class=format!("sev sev-{}", i.severity.to_lowercase())>{i.severity.clone()}</span>
                                <span>{format!(" {} · {} · {}", i.id, i.stage, i.title)}</span>
                                {(i.respond.state == "breached" || i.recover.state == "breached")
                                    .then(|| view! { <span class="badge alarm">{ui.t(Key::Breached)}</span> })}
                            </li>
                        }
                    }).collect_view().into_any(),
                    Some(Err(e)) => view! { <li class="error">{e.message}</li> }.into_any(),
                    None => ().into_any(),
                }}
            </ul>
        </div>
    }
}

fn clock_text(ui: Ui, target: &TargetView, now: DateTime<Utc>) -> String {
    let hms = |secs: i64| format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    match target.state.as_str() {
        "met" | "met_late" => format!(
            "{} {}{}",
            ui.t(Key::TargetMet),
            target.met_at.map(local).unwrap_or_default(),
            if target.state == "met_late" {
                format!(" ({})", ui.t(Key::Late))
            } else {
                String::new()
            }
        ),
        _ => {
            let left = (target.due - now).num_seconds();
            if left >= 0 {
                format!(
                    "{} {} · {}",
                    hms(left),
                    ui.t(Key::LeftWord),
                    local(target.due)
                )
            } else {
                format!(
                    "{} +{} · {}",
                    ui.t(Key::Breached),
                    hms(-left),
                    local(target.due)
                )
            }
        }
    }
}

fn clock_state(target: &TargetView, now: DateTime<Utc>) -> &'static str {
    match target.state.as_str() {
        "met" => "met",
        "met_late" => "met_late",
        _ if target.due < now => "breached",
        _ => "running",
    }
}

#[component]
fn IncidentDetail(id: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let incident = StoredValue::new(id);
    let current = LocalResource::new(move || {
        live.track(Topic::Incidents);
        live.track(Topic::Rollouts);
        let id = incident.get_value();
        async move { ipc::call::<IncidentGet>(IncidentRef { id }).await }
    });
    let now = crate::widgets::display_clock(None);
    // Redrawn only when the incident itself changed: a refetch that brings the same incident
    // (every commit refetches) keeps the page — and what is typed into it — as it is.
    let shown = Memo::new(
        move |prev: Option<&Option<Result<IncidentView, IpcError>>>| match current.get() {
            Some(answer) => Some(answer.map(|mut v| {
                v.now = DateTime::<Utc>::UNIX_EPOCH;
                v
            })),
            None => prev.cloned().flatten(),
        },
    );
    // What is being typed survives a redraw (an escalation may arrive mid-sentence).
    let drafts = Drafts {
        update: RwSignal::new(String::new()),
        reason: RwSignal::new(String::new()),
    };
    move || {
        match shown.get() {
        None => view! { <div class="loading">{ui.t(Key::Loading)}</div> }.into_any(),
        Some(Err(e)) => view! { <div class="error-panel">{e.message}</div> }.into_any(),
        Some(Ok(v)) => view! {
            <IncidentBody v=v now=now drafts=drafts refresh=Callback::new(move |()| current.refetch()) />
        }
        .into_any(),
    }
    }
}

/// Text being typed on an incident's page, kept across redraws.
#[derive(Clone, Copy)]
struct Drafts {
    update: RwSignal<String>,
    reason: RwSignal<String>,
}

/// Runs one change and refreshes the incident (the feed refreshes every other window).
fn act<C>(ui: Ui, refresh: Callback<()>, args: C::Args, done: impl FnOnce() + 'static)
where
    C: guardia_ipc::Command + 'static,
    C::Args: 'static,
{
    leptos::task::spawn_local(async move {
        match ipc::call::<C>(args).await {
            Ok(_) => {
                done();
                refresh.run(());
            }
            Err(e) => ui.notify_error(&e),
        }
    });
}

#[component]
fn IncidentBody(
    v: IncidentView,
    now: ReadSignal<DateTime<Utc>>,
    drafts: Drafts,
    refresh: Callback<()>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let i = v.incident.clone();
    let id = i.id.clone();
    let revision = v.revision;
    let runs = move || auth.may(Permission::RunIncidents);
    let (respond, recover) = (v.respond.clone(), v.recover.clone());
    let (respond2, recover2) = (v.respond.clone(), v.recover.clone());

    // Acknowledge.
    let ack_id = id.clone();
    let acknowledge = move |_| {
        act::<IncidentAckCmd>(
            ui,
            refresh,
            IncidentAck {
                id: ack_id.clone(),
                revision,
                escalation: String::new(),
            },
            || {},
        );
    };
    // Severity.
    let new_severity = RwSignal::new(i.severity.code().to_owned());
    let severity_reason = drafts.reason;
    let sev_id = id.clone();
    let classify = move |_| {
        act::<IncidentClassifyCmd>(
            ui,
            refresh,
            IncidentClassify {
                id: sev_id.clone(),
                revision,
                severity: new_severity.get_untracked(),
                kind: String::new(),
                reason: severity_reason.get_untracked(),
            },
            move || severity_reason.set(String::new()),
        );
    };
    // Roles.
    let roles = IncidentRole::ALL
        .into_iter()
        .map(|role| {
            let person = RwSignal::new(String::new());
            let rid = id.clone();
            let holder = i.roles.get(role).unwrap_or("-").to_owned();
            let names = role.names();
            view! {
                <div class="role-row">
                    <span class="muted">{move || ui.pick(names)}</span>
                    <strong data-test=format!("role-{}", role.code())>{holder}</strong>
                    <Show when=runs>
                        <input type="text" data-test=format!("role-input-{}", role.code()) placeholder=move || ui.t(Key::PersonName)
                            prop:value=move || person.get() on:input=move |ev| person.set(event_target_value(&ev)) />
                        <button data-test=format!("role-set-{}", role.code()) on:click={
                            let rid = rid.clone();
                            move |_| act::<IncidentRoleSetCmd>(ui, refresh, IncidentRoleSet {
                                id: rid.clone(), revision, role: role.code().to_owned(), person: person.get_untracked(),
                            }, move || person.set(String::new()))
                        }>{move || ui.t(Key::Assign)}</button>
                    </Show>
                </div>
            }
        })
        .collect_view();
    // Lifecycle.
    let advances = Stage::ALL
        .into_iter()
        .filter(|to| i.stage.may_go_to(*to) && !(i.stage == Stage::Detect && *to == Stage::Triage))
        .map(|to| {
            let aid = id.clone();
            let names = to.names();
            let go = move |_| {
                let step = IncidentAdvance {
                    id: aid.clone(),
                    revision,
                    stage: to.code().to_owned(),
                    note: String::new(),
                };
                act::<IncidentAdvanceCmd>(ui, refresh, step, || {});
            };
            view! {
                <button data-test=format!("advance-{}", to.code()) on:click=go>
                    {move || format!("→ {}", ui.pick(names))}
                </button>
            }
        })
        .collect_view();
    // Escalations.
    let escalations = i
        .escalations
        .iter()
        .map(|e| {
            let rule = e.rule.clone();
            let eid = id.clone();
            let who: Vec<String> = e.contacts.iter().map(|c| format!("{} {}", c.person, c.reach)).collect();
            let acked = e.acknowledged.as_ref().map(|m| format!("✓ {} {}", m.by, local(m.at)));
            let ack = move |_| {
                let a = IncidentAck { id: eid.clone(), revision, escalation: rule.clone() };
                act::<IncidentAckCmd>(ui, refresh, a, || {});
            };
            view! {
                <li data-test="escalation" data-rule=e.rule.clone()>
                    <strong>{e.rule.clone()}</strong>
                    {format!(" {} → {}", local(e.at), if who.is_empty() { "-".to_owned() } else { who.join(", ") })}
                    {match acked {
                        Some(text) => view! { <span class="ok">{format!(" {text}")}</span> }.into_any(),
                        None => view! {
                            <button data-test="escalation-ack" on:click=ack>{move || ui.t(Key::AckEscalation)}</button>
                        }.into_any(),
                    }}
                </li>
            }
        })
        .collect_view();
    // Status updates.
    let update_state = RwSignal::new("investigating".to_owned());
    let update_text = drafts.update;
    let uid = id.clone();
    let post = move |_| {
        act::<IncidentUpdatePostCmd>(
            ui,
            refresh,
            IncidentUpdatePost {
                id: uid.clone(),
                revision,
                state: update_state.get_untracked(),
                text: update_text.get_untracked(),
                next_in_minutes: None,
            },
            move || update_text.set(String::new()),
        );
    };
    let messages = v
        .update_messages
        .iter()
        .rev()
        .map(|m| view! { <li><pre class="request" data-test="update-message">{m.clone()}</pre></li> })
        .collect_view();
    let next_update = v.next_update_due;

    let timeline = v
        .timeline
        .iter()
        .map(|e| {
            view! {
                <li data-test="incident-timeline-entry" data-kind=e.kind.clone()>
                    <span class="when">{local(e.at)}</span>
                    {format!(" #{} {} · {} · {}", e.index, e.kind, e.actor, e.result)}
                    <div class="muted small">{e.details.clone()}</div>
                </li>
            }
        })
        .collect_view();
    let export_id = id.clone();
    let export = move |_| {
        let id = export_id.clone();
        leptos::task::spawn_local(async move {
            match ipc::call::<IncidentExport>(IncidentRef { id }).await {
                Ok(file) => ui.notify(format!("{} {}", ui.t(Key::EvidenceWritten), file.path)),
                Err(e) => ui.notify_error(&e),
            }
        });
    };
    let responded = i.responded.is_some();
    let recovered = i.recovered_at.is_some();
    let (severity_names, kind_names) = (i.severity.names(), i.kind.names());
    let links = [
        ("task", i.links.task.clone()),
        ("rollout", i.links.rollout.clone()),
        ("server", i.links.server.clone()),
        ("system", i.links.system.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <div class="card incident-detail" data-test="incident-detail" data-id=i.id.clone()>
            <div class="board-head">
                <span class=format!("sev sev-{}", i.severity.code().to_lowercase()) data-test="incident-severity">{i.severity.code()}</span>
                <h2 data-test="incident-id">{i.id.clone()}</h2>
                <span class="badge" data-test="incident-stage">{i.stage.code()}</span>
                <span class="muted">{move || format!("{} · {}", ui.pick(severity_names), ui.pick(kind_names))}</span>
            </div>
            <p data-test="incident-title">{i.title.clone()}</p>
            <p class="muted small">{format!("{} {} · {}", local(i.opened_at), i.opened_by, links)}</p>
            <div class="countdowns">
                <div>
                    <span class="muted">{move || ui.t(Key::RespondWithin)}</span>
                    <p class="countdown" data-test="countdown-respond" data-state=move || clock_state(&respond, now.get())>
                        {move || clock_text(ui, &respond2, now.get())}
                    </p>
                </div>
                <div>
                    <span class="muted">{move || ui.t(Key::RecoverWithin)}</span>
                    <p class="countdown" data-test="countdown-recover" data-state=move || clock_state(&recover, now.get())>
                        {move || clock_text(ui, &recover2, now.get())}
                    </p>
                </div>
                {next_update.map(|due| view! {
                    <div>
                        <span class="muted">{move || ui.t(Key::NextUpdateDue)}</span>
                        <p class="countdown" data-test="countdown-update">{move || {
                            let left = (due - now.get()).num_seconds();
                            if left >= 0 { format!("{}:{:02} · {}", left / 60, left % 60, local(due)) } else { format!("{} · {}", ui.t(Key::Overdue), local(due)) }
                        }}</p>
                    </div>
                })}
            </div>
            <Show when=move || runs() && !responded>
                <button class="primary" data-test="incident-ack" on:click=acknowledge.clone()>{move || ui.t(Key::TakeIncident)}</button>
            </Show>
            <Show when=runs>
                <div class="toolbar">
                    <select data-test="severity-select" on:change=move |ev| new_severity.set(event_target_value(&ev))>
                        {["P1", "P2", "P3", "P4"].map(|s| view! { <option value=s selected=move || new_severity.get() == s>{s}</option> }).collect_view()}
                    </select>
                    <input type="text" data-test="severity-reason" placeholder=move || ui.t(Key::ReasonWord)
                        prop:value=move || severity_reason.get() on:input=move |ev| severity_reason.set(event_target_value(&ev)) />
                    <button data-test="severity-apply" on:click=classify.clone()>{move || ui.t(Key::ChangeSeverity)}</button>
                </div>
            </Show>
            {auth.may(Permission::RunIncidents).then(|| view! { <div class="toolbar" data-test="advance">{advances}</div> })}
            <h3>{move || ui.t(Key::IncidentRoles)}</h3>
            <div class="roles">{roles}</div>
            <h3>{move || ui.t(Key::Escalations)}</h3>
            <ul class="escalations" data-test="escalations">{escalations}</ul>
            <h3>{move || ui.t(Key::StatusUpdates)}</h3>
            <Show when=runs>
                <div class="stack">
                    <select data-test="update-state" on:change=move |ev| update_state.set(event_target_value(&ev))>
                        {UpdateState::ALL.map(|s| {
                            let names = s.names();
                            view! { <option value=s.code()>{move || ui.pick(names)}</option> }
                        }).collect_view()}
                    </select>
                    <textarea data-test="update-text" placeholder=move || ui.t(Key::WhatChanged)
                        prop:value=move || update_text.get() on:input=move |ev| update_text.set(event_target_value(&ev))></textarea>
                    <button data-test="update-post" on:click=post.clone()>{move || ui.t(Key::PostUpdate)}</button>
                </div>
            </Show>
            <ul class="updates" data-test="updates">{messages}</ul>
            <Reports v=v.clone() refresh=refresh />
            {recovered.then(|| view! { <PostmortemForm v=v.clone() refresh=refresh /> })}
            <div class="toolbar">
                <Show when=move || auth.may(Permission::ExportIncidents)>
                    <button data-test="incident-export" on:click=export.clone()>{move || ui.t(Key::ExportEvidence)}</button>
                </Show>
            </div>
            <h3>{move || ui.t(Key::Timeline)}</h3>
            <ul class="timeline" data-test="incident-timeline">{timeline}</ul>
        </div>
    }
}

const HARMS: [(Harm, Key); 4] = [
    (Harm::DeathOrHealth, Key::HarmHealth),
    (Harm::FundamentalRights, Key::HarmRights),
    (Harm::PropertyOrEnvironment, Key::HarmProperty),
    (Harm::BreachOfLaw, Key::HarmLaw),
];

/// The reportability checklist and the reports it makes apply.
#[component]
fn Reports(v: IncidentView, refresh: Callback<()>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let i = v.incident.clone();
    let current = i.checklist.clone();
    let ai = RwSignal::new(current.as_ref().is_some_and(|c| c.ai_system));
    let personal = RwSignal::new(current.as_ref().is_some_and(|c| c.personal_data));
    let affected = RwSignal::new(current.as_ref().map_or(0, |c| c.affected_people));
    let harms = RwSignal::new(
        current
            .as_ref()
            .map(|c| {
                c.harms
                    .iter()
                    .map(|h| h.code().to_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    );
    let (id, revision) = (i.id.clone(), v.revision);
    let occurred = current.as_ref().map_or(i.detected_at, |c| c.occurred_at);
    let detected = i.detected_at;
    let cid = id.clone();
    let save = move |_| {
        act::<IncidentChecklistSetCmd>(
            ui,
            refresh,
            IncidentChecklistSet {
                id: cid.clone(),
                revision,
                ai_system: ai.get_untracked(),
                harms: harms.get_untracked(),
                personal_data: personal.get_untracked(),
                affected_people: affected.get_untracked(),
                occurred_at: occurred,
                detected_at: detected,
            },
            || {},
        );
    };
    let harm_boxes = HARMS
        .iter()
        .map(|(harm, key)| {
            let code = harm.code().to_owned();
            let c2 = code.clone();
            view! {
                <label class="toggle">
                    <input type="checkbox" data-test=format!("harm-{code}")
                        prop:checked=move || harms.get().contains(&c2)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let code = code.clone();
                            harms.update(|h| { h.retain(|x| *x != code); if on { h.push(code); } });
                        } />
                    {move || ui.t(*key)}
                </label>
            }
        })
        .collect_view();
    let drafts = RwSignal::new(std::collections::BTreeMap::<String, String>::new());
    let signs = auth.may(Permission::SignOffReports);
    let reports = v
        .reports
        .iter()
        .map(|r| {
            let obligation = r.obligation;
            let key = format!("{obligation:?}");
            let did = id.clone();
            let draft_key = key.clone();
            let draft = move |_| {
                let id = did.clone();
                let k = draft_key.clone();
                leptos::task::spawn_local(async move {
                    match ipc::call::<ReportDraftGet>(ReportRef { id, obligation }).await {
                        Ok(d) => drafts.update(|m| {
                            m.insert(k, d.text);
                        }),
                        Err(e) => ui.notify_error(&e),
                    }
                });
            };
            let sid = id.clone();
            let submit_key = key.clone();
            let submit = move |_| {
                let text = drafts.get_untracked().get(&submit_key).cloned().unwrap_or_default();
                let k = submit_key.clone();
                let args = ReportSubmit { id: sid.clone(), revision, obligation, text };
                act::<ReportSubmitCmd>(ui, refresh, args, move || drafts.update(|m| {
                    m.remove(&k);
                }));
            };
            let shown_key = key.clone();
            let edit_key = key.clone();
            let has_draft_key = key.clone();
            view! {
                <li data-test="report" data-obligation=key.clone() data-clock=r.clock.clone() data-stage=format!("{:?}", r.stage)>
                    <strong>{r.rule.clone()}</strong>
                    {format!(" · {:?} · ", r.stage)}
                    <span class=format!("clock-{}", r.clock)>{r.clock.replace('_', " ")}</span>
                    {r.due.map(|d| view! { <span data-test="report-due">{format!(" · {}", local(d))}</span> })}
                    <button data-test="report-draft" on:click=draft>{move || ui.t(Key::ReportDraft)}</button>
                    <Show when=move || drafts.with(|m| m.contains_key(&has_draft_key))>
                        <textarea class="report-text" data-test="report-text"
                            prop:value={
                                let k = shown_key.clone();
                                move || drafts.with(|m| m.get(&k).cloned().unwrap_or_default())
                            }
                            on:input={
                                let k = edit_key.clone();
                                move |ev| {
                                    let t = event_target_value(&ev);
                                    let k = k.clone();
                                    drafts.update(|m| {
                                        m.insert(k, t);
                                    });
                                }
                            }></textarea>
                        {signs.then(|| view! {
                            <button class="primary" data-test="report-submit" on:click=submit.clone()>{move || ui.t(Key::SignOffSubmitted)}</button>
                        })}
                    </Show>
                </li>
            }
        })
        .collect_view();
    let submitted = i
        .reports
        .iter()
        .flat_map(|r| {
            r.submissions.iter().map(move |s| {
                view! {
                    <li data-test="report-submitted" data-obligation=format!("{:?}", r.obligation) data-stage=format!("{:?}", s.stage)>
                        {format!("✓ {} {:?} · {} · {}", r.preset.rule, s.stage, s.signed_off_by, local(s.at))}
                    </li>
                }
            })
        })
        .collect_view();
    view! {
        <h3>{move || ui.t(Key::Reportability)}</h3>
        <div class="stack" data-test="checklist">
            <label class="toggle"><input type="checkbox" data-test="check-ai" prop:checked=move || ai.get()
                on:change=move |ev| ai.set(event_target_checked(&ev)) />{move || ui.t(Key::AiInvolved)}</label>
            {harm_boxes}
            <label class="toggle"><input type="checkbox" data-test="check-personal" prop:checked=move || personal.get()
                on:change=move |ev| personal.set(event_target_checked(&ev)) />{move || ui.t(Key::PersonalData)}</label>
            <label>{move || ui.t(Key::AffectedPeople)}
                <input type="number" min="0" data-test="check-affected" prop:value=move || affected.get().to_string()
                    on:input=move |ev| affected.set(event_target_value(&ev).parse().unwrap_or(0)) /></label>
            <Show when=move || auth.may(Permission::RunIncidents)>
                <button data-test="checklist-save" on:click=save.clone()>{move || ui.t(Key::SaveChecklist)}</button>
            </Show>
        </div>
        <ul class="reports" data-test="reports">{reports}</ul>
        <ul class="reports" data-test="reports-submitted">{submitted}</ul>
    }
}

/// The blameless postmortem (after recovery): fields, actions that become tasks.
#[component]
fn PostmortemForm(v: IncidentView, refresh: Callback<()>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let i = v.incident.clone();
    let pm = i.postmortem.clone().unwrap_or_default();
    let complete = pm.completed.is_some();
    let field = |s: &str| RwSignal::new(s.to_owned());
    let impact = field(&pm.impact);
    let root = field(&pm.root_cause);
    let well = field(&pm.went_well);
    let badly = field(&pm.went_badly);
    let lessons = field(&pm.lessons);
    let attendees = field(&pm.attendees.join(", "));
    let whys: [RwSignal<String>; 5] =
        std::array::from_fn(|n| field(pm.whys.get(n).map_or("", String::as_str)));
    let mut rows: Vec<(String, String, String)> = pm
        .actions
        .iter()
        .map(|a| (a.what.clone(), a.owner.clone(), a.due.to_string()))
        .collect();
    if rows.is_empty() {
        rows.push(Default::default());
    }
    let actions = RwSignal::new(rows);
    let (id, revision) = (i.id.clone(), v.revision);
    let save = move |done: bool| {
        let input = PostmortemSave {
            id: id.clone(),
            revision,
            impact: impact.get_untracked(),
            whys: whys.iter().map(|w| w.get_untracked()).collect(),
            root_cause: root.get_untracked(),
            went_well: well.get_untracked(),
            went_badly: badly.get_untracked(),
            actions: actions
                .get_untracked()
                .into_iter()
                .filter(|(w, _, _)| !w.trim().is_empty())
                .map(|(what, owner, due)| ActionInput { what, owner, due })
                .collect(),
            lessons: lessons.get_untracked(),
            attendees: attendees
                .get_untracked()
                .split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
            complete: done,
        };
        act::<PostmortemSaveCmd>(ui, refresh, input, || {});
    };
    let save2 = save.clone();
    let text = move |key: Key, signal: RwSignal<String>, test: &'static str| {
        view! {
            <label>{move || ui.t(key)}
                <textarea data-test=test disabled=complete prop:value=move || signal.get()
                    on:input=move |ev| signal.set(event_target_value(&ev))></textarea></label>
        }
    };
    let action_rows = move || {
        actions
            .get()
            .into_iter()
            .enumerate()
            .map(|(n, (what, owner, due))| {
                let set = move |part: usize, value: String| actions.update(|rows| {
                    if let Some(row) = rows.get_mut(n) {
                        match part { 0 => row.0 = value, 1 => row.1 = value, _ => row.2 = value }
                    }
                });
                view! {
                    <div class="toolbar">
                        <input type="text" data-test=format!("pm-action-what-{n}") placeholder=move || ui.t(Key::ActionWhat) disabled=complete
                            prop:value=what on:input=move |ev| set(0, event_target_value(&ev)) />
                        <input type="text" data-test=format!("pm-action-owner-{n}") placeholder=move || ui.t(Key::ActionOwner) disabled=complete
                            prop:value=owner on:input=move |ev| set(1, event_target_value(&ev)) />
                        <input type="date" data-test=format!("pm-action-due-{n}") disabled=complete
                            prop:value=due on:input=move |ev| set(2, event_target_value(&ev)) />
                    </div>
                }
            })
            .collect_view()
    };
    let made = pm
        .actions
        .iter()
        .filter_map(|a| a.task.clone().map(|t| (a.what.clone(), t)))
        .map(|(what, task)| view! { <li data-test="pm-action-task" data-task=task.clone()>{format!("{what} → {task}")}</li> })
        .collect_view();
    view! {
        <h3>{move || ui.t(Key::Postmortem)}</h3>
        <p class="hint">{move || ui.t(Key::BlamelessHint)}</p>
        {v.postmortem_due.map(|d| view! { <p class="muted" data-test="postmortem-due">{format!("{} {}", ui.t(Key::DueWord), local(d))}</p> })}
        <div class="stack" data-test="postmortem">
            {text(Key::Impact, impact, "pm-impact")}
            {whys.into_iter().enumerate().map(|(n, w)| view! {
                <input type="text" data-test=format!("pm-why-{}", n + 1) disabled=complete placeholder=format!("Why {} / 왜 {}", n + 1, n + 1)
                    prop:value=move || w.get() on:input=move |ev| w.set(event_target_value(&ev)) />
            }).collect_view()}
            {text(Key::RootCause, root, "pm-root")}
            {text(Key::WentWell, well, "pm-well")}
            {text(Key::WentBadly, badly, "pm-badly")}
            <span class="muted">{move || ui.t(Key::PreventionActions)}</span>
            {action_rows}
            <Show when=move || !complete>
                <button data-test="pm-add-action" on:click=move |_| actions.update(|r| r.push(Default::default()))>"+"</button>
            </Show>
            {text(Key::Lessons, lessons, "pm-lessons")}
            <input type="text" data-test="pm-attendees" disabled=complete placeholder=move || ui.t(Key::Attendees)
                prop:value=move || attendees.get() on:input=move |ev| attendees.set(event_target_value(&ev)) />
            <Show when=move || !complete && auth.may(Permission::RunIncidents)>
                <div class="toolbar">
                    <button data-test="pm-save" on:click={ let save = save.clone(); move |_| save(false) }>{move || ui.t(Key::SaveDraft)}</button>
                    <button class="primary" data-test="pm-complete" on:click={ let save = save2.clone(); move |_| save(true) }>{move || ui.t(Key::CompletePostmortem)}</button>
                </div>
            </Show>
            <ul data-test="pm-actions-made">{made}</ul>
        </div>
    }
}

/// The month's figures, with CSV and a printable page.
#[component]
fn StatsCard() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let today = Utc::now();
    let month = RwSignal::new(format!("{:04}-{:02}", today.year(), today.month()));
    let stats = LocalResource::new(move || {
        live.track(Topic::Incidents);
        let month = month.get();
        async move { ipc::call::<IncidentStatsGet>(StatsQuery { month }).await }
    });
    let export = move |format: &'static str| {
        let month = month.get_untracked();
        leptos::task::spawn_local(async move {
            match ipc::call::<IncidentStatsExport>(StatsExport {
                month,
                format: format.to_owned(),
            })
            .await
            {
                Ok(file) => ui.notify(format!("{} {}", ui.t(Key::ExportWritten), file.path)),
                Err(e) => ui.notify_error(&e),
            }
        });
    };
    let mins = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |s| format!("{} min", s / 60));
    view! {
        <div class="card" data-test="incident-stats">
            <h2>{move || ui.t(Key::IncidentStats)}</h2>
            <input type="month" data-test="stats-month" prop:value=move || month.get() on:change=move |ev| month.set(event_target_value(&ev)) />
            {move || match stats.get() {
                Some(Ok(s)) => view! {
                    <dl class="facts">
                        <dt>{ui.t(Key::IncidentCount)}</dt><dd data-test="stats-total">{s.total}</dd>
                        <dt>{ui.t(Key::BySeverity)}</dt><dd>{s.by_severity.iter().map(|c| format!("{} {}", c.key, c.count)).collect::<Vec<_>>().join(" · ")}</dd>
                        <dt>{ui.t(Key::RespondTimes)}</dt><dd>{format!("{} / {}", mins(s.respond_mean_s), mins(s.respond_max_s))}</dd>
                        <dt>{ui.t(Key::RecoverTimes)}</dt><dd>{format!("{} / {}", mins(s.recover_mean_s), mins(s.recover_max_s))}</dd>
                        <dt>{ui.t(Key::TargetsMissed)}</dt><dd>{format!("{} / {}", s.respond_breaches, s.recover_breaches)}</dd>
                        <dt>{ui.t(Key::Recurrences)}</dt><dd>{s.recurrences}</dd>
                        <dt>"MTTR"</dt><dd>{s.mttr_trend.iter().map(|(m, v)| format!("{m} {}", mins(*v))).collect::<Vec<_>>().join(" → ")}</dd>
                    </dl>
                }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e.message}</p> }.into_any(),
                None => ().into_any(),
            }}
            <div class="toolbar">
                <button data-test="stats-csv" on:click=move |_| export("csv")>"CSV"</button>
                <button data-test="stats-print" on:click=move |_| export("html")>{move || ui.t(Key::Printable)}</button>
            </div>
        </div>
    }
}
