//! The Inventory screen: search and browse servers, a server's page (host key approval,
//! ad-hoc check, edit), import of CSV / Ansible INI, and credentials. The window sends
//! secrets inward only; it never receives one back.

use guardia_ipc::{
    BulkEdit, CheckReport, CheckState, CommandMode, CommandModeChange, CredentialDelete,
    CredentialInput, CredentialKindView, CredentialList, CredentialRef, CredentialSet,
    HostKeyFetch, HostKeyForget, HostKeyTrust, ImportReport, InventoryExport, InventoryFile,
    InventoryFormat, InventoryImport, LegacyCryptoChange, PresentedHostKey, ServerBulkEdit,
    ServerDraft, ServerGet, ServerLegacyCryptoSet, ServerList, ServerQuery, ServerRef, ServerSave,
    ServerSaveCmd, ServerView, SshCheck, SystemCommandModeSet, TrustHostKey,
};
use guardia_ipc::{JobCancel, JobId, JobOutcome, JobRef, JobState, Topic};
use leptos::ev;
use leptos::html;
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::Key;
use crate::ipc;
use crate::live::Live;
use crate::widgets::{ErrorPanel, focus, local_time, shown, typing_in_a_field};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Import,
    Credentials,
    Bulk,
}

#[component]
pub fn InventoryPage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let text = RwSignal::new(String::new());
    let tier = RwSignal::new(None::<u8>);
    let reload = RwSignal::new(0u32);
    let selected = RwSignal::new(None::<String>);
    let side = RwSignal::new(None::<Side>);

    let live = expect_context::<Live>();
    let servers = LocalResource::new(move || {
        live.track(Topic::Inventory);
        live.track(Topic::HostKeys);
        live.track(Topic::Credentials);
        let query = ServerQuery {
            text: text.get(),
            tier: tier.get(),
            limit: Some(5_000),
        };
        reload.get();
        async move { ipc::call::<ServerList>(query).await }
    });

    let export = Action::new_local(|(): &()| async { ipc::call::<InventoryExport>(()).await });
    Effect::new(move |_| match export.value().get() {
        Some(Ok(file)) => ui.notify(format!("{} {}", ui.t(Key::Saved), file.path)),
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });

    let search_box = NodeRef::<html::Input>::new();
    let keys = window_event_listener(ev::keydown, move |ev| {
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() || typing_in_a_field(&ev) {
            return;
        }
        match ev.key().as_str() {
            "/" => {
                ev.prevent_default();
                if let Some(input) = search_box.get_untracked() {
                    focus(&input, "the inventory search box");
                }
            }
            "r" | "R" => reload.update(|n| *n += 1),
            "Escape" => side.set(None),
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());

    let open_server = move |name: String| {
        selected.set(Some(name));
        side.set(Some(Side::Server));
    };
    let changed = Callback::new(move |()| reload.update(|n| *n += 1));

    view! {
        <section class="inventory" data-test="page-inventory">
            <h1>{move || ui.t(Key::InventoryTitle)}</h1>
            <div class="toolbar">
                <input
                    type="search"
                    node_ref=search_box
                    data-test="inventory-search"
                    placeholder=move || ui.t(Key::InventorySearch)
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
                <select
                    data-test="inventory-tier"
                    on:change=move |ev| tier.set(event_target_value(&ev).parse().ok())
                >
                    <option value="">{move || ui.t(Key::AllTiers)}</option>
                    <option value="1">{move || format!("{} 1", ui.t(Key::TierLabel))}</option>
                    <option value="2">{move || format!("{} 2", ui.t(Key::TierLabel))}</option>
                    <option value="3">{move || format!("{} 3", ui.t(Key::TierLabel))}</option>
                </select>
                <button data-test="open-import" on:click=move |_| side.set(Some(Side::Import))>
                    {move || ui.t(Key::ImportButton)}
                </button>
                <button data-test="export-inventory" on:click=move |_| { export.dispatch(()); }>
                    {move || ui.t(Key::ExportButton)}
                </button>
                <button
                    data-test="open-credentials"
                    on:click=move |_| side.set(Some(Side::Credentials))
                >
                    {move || ui.t(Key::CredentialsButton)}
                </button>
                <button data-test="open-bulk" on:click=move |_| side.set(Some(Side::Bulk))>
                    {move || ui.t(Key::BulkEdit)}
                </button>
            </div>
            <div class="split">
                <div class="list">
                    {move || match servers.get() {
                        None => view! { <p class="muted">{ui.t(Key::Loading)}</p> }.into_any(),
                        Some(Err(error)) => view! {
                            <ErrorPanel
                                title=Signal::derive(move || ui.t(Key::InventoryTitle).to_owned())
                                error=error
                                retry=Callback::new(move |()| servers.refetch())
                            />
                        }
                        .into_any(),
                        Some(Ok(list)) if list.is_empty() => view! {
                            <p class="muted" data-test="no-servers">{ui.t(Key::NoServers)}</p>
                        }
                        .into_any(),
                        Some(Ok(list)) => view! {
                            <ServerTable list=list selected=selected on_open=Callback::new(open_server) />
                        }
                        .into_any(),
                    }}
                </div>
                {move || match (side.get(), selected.get()) {
                    (Some(Side::Server), Some(name)) => view! {
                        <ServerPanel name=name on_changed=changed />
                    }
                    .into_any(),
                    (Some(Side::Import), _) => view! { <ImportPanel on_changed=changed /> }.into_any(),
                    (Some(Side::Credentials), _) => view! {
                        <CredentialsPanel on_changed=changed />
                    }
                    .into_any(),
                    (Some(Side::Bulk), _) => view! {
                        <BulkPanel text=text tier=tier on_changed=changed />
                    }
                    .into_any(),
                    _ => ().into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn ServerTable(
    list: Vec<ServerView>,
    selected: RwSignal<Option<String>>,
    on_open: Callback<String>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let rows = list
        .into_iter()
        .map(|s| {
            let name = s.record.server.clone();
            let open_name = name.clone();
            let is_selected = {
                let name = name.clone();
                move || selected.get().as_deref() == Some(name.as_str())
            };
            let pinned = s.host_key.is_some();
            let credential = s.credential_present;
            let legacy = s.legacy_crypto.is_some();
            let stop_unsure = s.ssh_seen.as_ref().is_some_and(|seen| !seen.stop_guaranteed);
            view! {
                <tr
                    class="server-row"
                    class:selected=is_selected
                    data-test="server-row"
                    data-name=name.clone()
                    on:click=move |_| on_open.run(open_name.clone())
                >
                    <td class="mono">
                        {name.clone()}
                        {legacy.then(|| view! {
                            " "<span class="badge warn" data-test="legacy-badge">{move || ui.t(Key::LegacyBadge)}</span>
                        })}
                        {stop_unsure.then(|| view! {
                            " "<span class="badge alarm" data-test="stop-badge">{move || ui.t(Key::StopNotGuaranteedBadge)}</span>
                        })}
                    </td>
                    <td>{format!("{} / {}", s.record.system, s.record.site)}</td>
                    <td class=format!("tier tier-{}", s.record.tier.number())>{s.record.tier.number()}</td>
                    <td class="mono">
                        {format!("{}@{}:{}", s.record.user, s.record.address, s.record.port)}
                    </td>
                    <td data-test="pin-cell" data-state=if pinned { "pinned" } else { "unpinned" }>
                        {move || if pinned { ui.t(Key::Pinned) } else { ui.t(Key::NotPinned) }}
                    </td>
                    <td class:alarm=!credential>
                        {move || if credential { ui.t(Key::CredentialOk) } else { ui.t(Key::NoCredential) }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="servers" data-test="server-table">
            <thead>
                <tr>
                    <th>{move || ui.t(Key::ServerCol)}</th>
                    <th>{move || ui.t(Key::SiteCol)}</th>
                    <th>{move || ui.t(Key::TierLabel)}</th>
                    <th>{move || ui.t(Key::AddressCol)}</th>
                    <th>{move || ui.t(Key::PinCol)}</th>
                    <th>{move || ui.t(Key::CredentialCol)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// An audited change that needs a reason: the reason field (Enter applies), the apply button
/// (disabled until a reason is typed, and while the change is on its way) and Cancel.
/// `data-test` names are `{test}-form`, `{test}-reason`, `{test}-apply`.
#[component]
fn ReasonForm(
    test: &'static str,
    label: Key,
    apply: Key,
    apply_class: &'static str,
    /// `data-mode` of the apply button: what it switches to.
    apply_mode: &'static str,
    reason: RwSignal<String>,
    pending: Signal<bool>,
    on_apply: Callback<String>,
    on_cancel: Callback<()>,
    children: Children,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let go = move || {
        let text = reason.get_untracked();
        if !text.trim().is_empty() && !pending.get_untracked() {
            on_apply.run(text);
        }
    };
    view! {
        <div class="presented" data-test=format!("{test}-form")>
            {children()}
            <label>
                {move || ui.t(label)}
                <input
                    data-test=format!("{test}-reason")
                    prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" { go() }
                />
            </label>
            <div class="actions">
                <button
                    class=apply_class
                    data-test=format!("{test}-apply")
                    data-mode=apply_mode
                    disabled=move || reason.get().trim().is_empty() || pending.get()
                    on:click=move |_| go()
                >
                    {move || ui.t(apply)}
                </button>
                <button class="ghost" on:click=move |_| on_cancel.run(())>
                    {move || ui.t(Key::Cancel)}
                </button>
            </div>
        </div>
    }
}

fn step_label(ui: Ui, name: &str) -> String {
    let key = match name {
        "reachable" => Key::StepReachable,
        "host_key" => Key::StepPin,
        "authenticated" => Key::StepAuth,
        "remote_stop" => Key::StepRemoteStop,
        "health_tcp" => Key::StepTcp,
        "health_http" => Key::StepHttp,
        "health_process" => Key::StepProcess,
        "health_log" => Key::StepLog,
        other => return other.to_owned(),
    };
    ui.t(key).to_owned()
}

fn state_code(state: CheckState) -> (&'static str, Key) {
    match state {
        CheckState::Pass => ("pass", Key::StatePass),
        CheckState::Fail => ("fail", Key::StateFail),
        CheckState::Unknown => ("unknown", Key::StateUnknown),
        CheckState::Skipped => ("skipped", Key::StateSkipped),
        CheckState::Cancelled => ("cancelled", Key::StateCancelled),
    }
}

#[component]
fn ServerPanel(name: String, on_changed: Callback<()>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let server_name = StoredValue::new(name.clone());
    let live = expect_context::<Live>();
    let editing = RwSignal::new(false);
    let server = LocalResource::new(move || {
        // While the edit form is open it must not be rebuilt under the operator's hands by
        // someone else's change; the page catches up when the form closes.
        if !editing.get() {
            live.track(Topic::Inventory);
            live.track(Topic::HostKeys);
            live.track(Topic::Credentials);
        }
        let name = server_name.get_value();
        async move { ipc::call::<ServerGet>(ServerRef { name }).await }
    });
    // The check runs as a job: its ticket is kept, its progress and report arrive pushed.
    let check_job = RwSignal::new(None::<JobId>);
    let check_state = Memo::new(move |_| check_job.get().and_then(|id| live.job(id)));
    let checking = move || check_state.get().is_some_and(|j| j.state.is_running());
    let presented = RwSignal::new(None::<PresentedHostKey>);

    let check = Action::new_local(move |(): &()| {
        let name = server_name.get_value();
        async move { ipc::call::<SshCheck>(ServerRef { name }).await }
    });
    Effect::new(move |_| match check.value().get() {
        Some(Ok(ticket)) => check_job.set(Some(ticket.id)),
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    let cancel = Action::new_local(|id: &JobId| {
        let id = *id;
        async move { ipc::call::<JobCancel>(JobRef { id }).await }
    });
    Effect::new(move |_| {
        if let Some(Err(error)) = cancel.value().get() {
            ui.notify_error(&error);
        }
    });
    let fetch = Action::new_local(move |(): &()| {
        let name = server_name.get_value();
        async move { ipc::call::<HostKeyFetch>(ServerRef { name }).await }
    });
    Effect::new(move |_| match fetch.value().get() {
        Some(Ok(k)) => presented.set(Some(k)),
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    let trust = Action::new_local(move |fingerprint: &String| {
        let request = TrustHostKey {
            server: server_name.get_value(),
            fingerprint: fingerprint.clone(),
        };
        async move { ipc::call::<HostKeyTrust>(request).await }
    });
    Effect::new(move |_| match trust.value().get() {
        // The pin's change comes back on the feed, which refetches the page once; a second
        // refetch here would rebuild it under the operator's next click.
        Some(Ok(_)) => {
            presented.set(None);
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    let forget = Action::new_local(move |(): &()| {
        let name = server_name.get_value();
        async move { ipc::call::<HostKeyForget>(ServerRef { name }).await }
    });
    Effect::new(move |_| match forget.value().get() {
        Some(Ok(())) => on_changed.run(()),
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });

    // Switching the system's command mode asks for a reason (it is audited); the typed
    // reason lives here, so a refetch of the page on someone else's change keeps it.
    let mode_form = RwSignal::new(false);
    let mode_reason = RwSignal::new(String::new());
    let set_mode = Action::new_local(move |change: &CommandModeChange| {
        let change = change.clone();
        async move { ipc::call::<SystemCommandModeSet>(change).await }
    });
    Effect::new(move |_| match set_mode.value().get() {
        // The new mode comes back on the feed (Inventory topic), which refetches the page.
        Some(Ok(())) => {
            mode_form.set(false);
            mode_reason.set(String::new());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });

    // The legacy-algorithm opt-in: an admin's decision with a reason (audited).
    let legacy_form = RwSignal::new(false);
    let legacy_reason = RwSignal::new(String::new());
    let set_legacy = Action::new_local(move |change: &LegacyCryptoChange| {
        let change = change.clone();
        async move { ipc::call::<ServerLegacyCryptoSet>(change).await }
    });
    Effect::new(move |_| match set_legacy.value().get() {
        Some(Ok(_)) => {
            legacy_form.set(false);
            legacy_reason.set(String::new());
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });

    let keys = window_event_listener(ev::keydown, move |ev| {
        if ev.key() == "Escape" && (mode_form.get_untracked() || legacy_form.get_untracked()) {
            mode_form.set(false);
            legacy_form.set(false);
            return;
        }
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() || typing_in_a_field(&ev) {
            return;
        }
        let busy = check.pending().get_untracked()
            || check_state
                .get_untracked()
                .is_some_and(|j| j.state.is_running());
        if matches!(ev.key().as_str(), "c" | "C") && !busy {
            ev.prevent_default();
            check.dispatch(());
        }
    });
    on_cleanup(move || keys.remove());

    view! {
        <aside class="detail server-panel" data-test="server-panel" data-name=name.clone()>
            <crate::incidents::OpenIncidentFrom link=name.clone() />
            {move || match server.get() {
                None => view! { <p class="muted">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <ErrorPanel
                        title=Signal::derive(move || ui.t(Key::ServerDetail).to_owned())
                        error=error
                        retry=Callback::new(move |()| server.refetch())
                    />
                }
                .into_any(),
                Some(Ok(s)) if editing.get() => view! {
                    <ServerForm
                        draft=s.record.to_draft()
                        previous=s.record.server.clone()
                        on_done=Callback::new(move |()| {
                            // Closing the form refetches (the page tracks changes again).
                            editing.set(false);
                            on_changed.run(());
                        })
                    />
                }
                .into_any(),
                Some(Ok(s)) => {
                    let r = s.record.clone();
                    let health = r.health.clone();
                    let pin = s.host_key.clone();
                    let pinned = pin.is_some();
                    let mode = s.command_mode;
                    let scope = StoredValue::new((r.institution.clone(), r.system.clone()));
                    let legacy = s.legacy_crypto.clone();
                    let legacy_on = legacy.is_some();
                    let seen = s.ssh_seen.clone();
                    view! {
                        <h2 class="mono">{r.server.clone()}</h2>
                        <dl class="facts">
                            <dt>{move || ui.t(Key::InstitutionLabel)}</dt><dd>{r.institution.clone()}</dd>
                            <dt>{move || ui.t(Key::SiteCol)}</dt><dd>{format!("{} / {}", r.system, r.site)}</dd>
                            <dt>{move || ui.t(Key::TierLabel)}</dt><dd>{r.tier.number()}</dd>
                            <dt>{move || ui.t(Key::CommandModeLabel)}</dt>
                            <dd
                                data-test="command-mode"
                                data-mode=s.command_mode.as_str()
                                class:warn=s.command_mode == CommandMode::PlaybookOnly
                            >
                                {move || match s.command_mode {
                                    CommandMode::Denylist => ui.t(Key::CommandModeDenylist),
                                    CommandMode::PlaybookOnly => ui.t(Key::CommandModePlaybookOnly),
                                }}
                                " "
                                <button
                                    class="ghost small"
                                    data-test="command-mode-change"
                                    aria-expanded=move || mode_form.get().to_string()
                                    on:click=move |_| mode_form.update(|open| *open = !*open)
                                >
                                    {move || ui.t(Key::CommandModeChange)}
                                </button>
                            </dd>
                            <dt>{move || ui.t(Key::AddressCol)}</dt>
                            <dd class="mono">{format!("{}@{}:{} ({})", r.user, r.address, r.port, r.auth.code())}</dd>
                            <dt>{move || ui.t(Key::SshLabel)}</dt>
                            <dd
                                data-test="legacy-crypto"
                                data-state=if legacy.is_some() { "on" } else { "off" }
                                class:warn=legacy.is_some()
                            >
                                {match legacy.clone() {
                                    Some(reason) => view! {
                                        {move || ui.t(Key::LegacyOn)}" — "<i>{reason}</i>
                                    }.into_any(),
                                    None => view! { {move || ui.t(Key::LegacyOff)} }.into_any(),
                                }}
                                " "
                                <button
                                    class="ghost small"
                                    data-test="legacy-change"
                                    aria-expanded=move || legacy_form.get().to_string()
                                    on:click=move |_| legacy_form.update(|open| *open = !*open)
                                >
                                    {move || if legacy_on { ui.t(Key::LegacyRevoke) } else { ui.t(Key::LegacyAllow) }}
                                </button>
                            </dd>
                            <dt>{move || ui.t(Key::RemoteStopLabel)}</dt>
                            <dd
                                data-test="remote-stop"
                                data-state=match &seen {
                                    None => "unknown",
                                    Some(seen) if seen.stop_guaranteed => "guaranteed",
                                    Some(_) => "not-guaranteed",
                                }
                                class:alarm=seen.as_ref().is_some_and(|seen| !seen.stop_guaranteed)
                            >
                                {match seen.clone() {
                                    None => view! { {move || ui.t(Key::RemoteStopUnknown)} }.into_any(),
                                    Some(seen) if seen.stop_guaranteed => view! {
                                        {move || ui.t(Key::RemoteStopGuaranteed)}
                                        {format!(" ({}, {})", seen.stop_detail, local_time(seen.at))}
                                    }.into_any(),
                                    Some(seen) => view! {
                                        {move || ui.t(Key::RemoteStopNotGuaranteed)}
                                        <br/><span class="small">{seen.stop_detail.clone()}</span>
                                    }.into_any(),
                                }}
                            </dd>
                            {seen.clone().map(|seen| view! {
                                <dt>{move || ui.t(Key::AlgorithmsLabel)}</dt>
                                <dd class="mono small" data-test="algorithms">{seen.algorithms}</dd>
                            })}
                            <dt>{move || ui.t(Key::CredentialCol)}</dt>
                            <dd data-test="server-credential">
                                {r.credential.clone().unwrap_or_default()}" "
                                {move || if s.credential_present { ui.t(Key::CredentialOk) } else { ui.t(Key::NoCredential) }}
                            </dd>
                            <dt>{move || ui.t(Key::HealthCriteria)}</dt>
                            <dd class="mono small">
                                {[
                                    health.tcp_port.map(|p| format!("tcp {p}")),
                                    health.http_url.clone().map(|u| format!("http {u} → {}", health.http_status.unwrap_or(200))),
                                    health.process.clone().map(|p| format!("process {p}")),
                                    health.log_file.clone().map(|l| format!("log {l}")),
                                ]
                                    .into_iter()
                                    .flatten()
                                    .collect::<Vec<_>>()
                                    .join(" · ")}
                            </dd>
                        </dl>
                        {move || mode_form.get().then(|| {
                            let target = match mode {
                                CommandMode::Denylist => CommandMode::PlaybookOnly,
                                CommandMode::PlaybookOnly => CommandMode::Denylist,
                            };
                            view! {
                                <ReasonForm
                                    test="command-mode"
                                    label=Key::CommandModeReason
                                    apply=match target {
                                        CommandMode::Denylist => Key::CommandModeToDenylist,
                                        CommandMode::PlaybookOnly => Key::CommandModeToPlaybookOnly,
                                    }
                                    apply_class="primary"
                                    apply_mode=target.as_str()
                                    reason=mode_reason
                                    pending=set_mode.pending().into()
                                    on_apply=Callback::new(move |reason| {
                                        let (institution, system) = scope.get_value();
                                        set_mode.dispatch(CommandModeChange {
                                            institution,
                                            system,
                                            mode: target,
                                            reason,
                                        });
                                    })
                                    on_cancel=Callback::new(move |()| mode_form.set(false))
                                >
                                    <p>{move || ui.t(Key::CommandModeScope)}" "<b>{scope.get_value().1}</b></p>
                                </ReasonForm>
                            }
                        })}
                        {move || legacy_form.get().then(|| view! {
                            <ReasonForm
                                test="legacy"
                                label=Key::LegacyReason
                                apply=if legacy_on { Key::LegacyApplyOff } else { Key::LegacyApplyOn }
                                apply_class=if legacy_on { "primary" } else { "danger" }
                                apply_mode=if legacy_on { "off" } else { "on" }
                                reason=legacy_reason
                                pending=set_legacy.pending().into()
                                on_apply=Callback::new(move |reason| {
                                    set_legacy.dispatch(LegacyCryptoChange {
                                        server: server_name.get_value(),
                                        on: !legacy_on,
                                        reason,
                                    });
                                })
                                on_cancel=Callback::new(move |()| legacy_form.set(false))
                            >
                                ""
                            </ReasonForm>
                        })}
                        <h3>{move || ui.t(Key::PinCol)}</h3>
                        <p
                            data-test="pin-state"
                            data-state=if pinned { "pinned" } else { "unpinned" }
                            class:alarm=!pinned
                        >
                            {match &pin {
                                Some(p) => format!(
                                    "{} {} — {} {}",
                                    p.algorithm,
                                    p.fingerprint,
                                    p.trusted_by,
                                    local_time(p.trusted_at)
                                ),
                                None => String::new(),
                            }}
                            {move || if pinned { "" } else { ui.t(Key::NotPinned) }}
                        </p>
                        <div class="actions">
                            <button data-test="fetch-key" on:click=move |_| { fetch.dispatch(()); }>
                                {move || ui.t(Key::FetchPresented)}
                            </button>
                            <button class="ghost" data-test="forget-key" on:click=move |_| { forget.dispatch(()); }>
                                {move || ui.t(Key::ForgetPin)}
                            </button>
                            <button class="ghost" data-test="edit-server" on:click=move |_| editing.set(true)>
                                {move || ui.t(Key::Edit)}
                            </button>
                        </div>
                        {move || presented.get().map(|k| {
                            let fingerprint = k.fingerprint.clone();
                            view! {
                                <div class="presented" data-test="presented-key">
                                    <p>{move || ui.t(Key::PresentedLabel)}</p>
                                    <p class="mono big" data-test="presented-fingerprint">
                                        {format!("{} {}", k.algorithm, k.fingerprint)}
                                    </p>
                                    {k.pinned_fingerprint.clone().map(|old| view! {
                                        <p class="alarm" data-test="key-changed">
                                            {move || ui.t(Key::ChangedPinWarning)}" "{old}
                                        </p>
                                    })}
                                    <p class="muted">{move || ui.t(Key::CompareHint)}</p>
                                    <button
                                        class="primary"
                                        data-test="trust-key"
                                        on:click=move |_| { trust.dispatch(fingerprint.clone()); }
                                    >
                                        {move || ui.t(Key::TrustPresented)}
                                    </button>
                                </div>
                            }
                        })}
                        <h3>{move || ui.t(Key::CheckNow)}</h3>
                        <div class="actions">
                            <button
                                class="primary"
                                data-test="check-now"
                                disabled=move || check.pending().get() || checking()
                                on:click=move |_| { check.dispatch(()); }
                            >
                                {move || if check.pending().get() || checking() { ui.t(Key::Checking) } else { ui.t(Key::CheckNow) }}
                            </button>
                            {move || check_state.get().filter(|j| j.state.is_running()).map(|j| {
                                let id = j.id;
                                let (done, total, step) = crate::live::progress_of(&j).unwrap_or_default();
                                view! {
                                    <span class="muted" data-test="check-progress" data-done=done data-total=total>
                                        {move || step_label(ui, &step)}{format!(" ({done}/{total})")}
                                    </span>
                                    <button class="ghost" data-test="check-cancel" on:click=move |_| { cancel.dispatch(id); }>
                                        {move || ui.t(Key::CancelCheck)}
                                    </button>
                                }
                            })}
                        </div>
                        {move || check_state.get().and_then(|j| match j.state {
                            JobState::Running { .. } => None,
                            JobState::Finished { outcome } => match *outcome {
                                JobOutcome::Check(r) => Some(view! { <CheckTable report=r /> }.into_any()),
                                _ => None,
                            },
                            JobState::Cancelled { outcome } => Some(view! {
                                <p class="muted" data-test="check-cancelled">{move || ui.t(Key::CheckCancelled)}</p>
                                {outcome.and_then(|o| match *o {
                                    JobOutcome::Check(r) => Some(view! { <CheckTable report=r /> }),
                                    _ => None,
                                })}
                            }.into_any()),
                            JobState::Failed { error } => Some(view! {
                                <p class="alarm" data-test="check-failed">
                                    {move || ui.t(Key::JobFailed)}": "{shown(&error.message)}
                                </p>
                            }.into_any()),
                        })}
                    }
                    .into_any()
                }
            }}
        </aside>
    }
}

#[component]
fn CheckTable(report: CheckReport) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let passed = report.passed();
    let rows = report
        .steps
        .into_iter()
        .map(|s| {
            let (code, key) = state_code(s.state);
            let name = s.name.clone();
            view! {
                <tr data-test="check-step" data-name=s.name.clone() data-state=code>
                    <td>{move || step_label(ui, &name)}</td>
                    <td class=format!("state-{code}")>{move || ui.t(key)}</td>
                    <td class="num">{format!("{} ms", s.millis)}</td>
                    <td class="small">{shown(&s.detail)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table
            class="check"
            data-test="check-report"
            data-passed=passed.to_string()
            data-audit-index=report.audit_index.to_string()
        >
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Every column of a server, in CSV order, with the label shown for it.
const FIELDS: [(&str, &str); 22] = [
    ("institution", "Institution / 기관"),
    ("system", "System / 시스템"),
    ("site", "Site / 사이트"),
    ("tier", "Tier / 등급 (1-3)"),
    ("server", "Server / 서버"),
    ("address", "Address / 주소"),
    ("port", "Port / 포트"),
    ("user", "User / 사용자"),
    ("auth", "Auth / 인증 (key|password)"),
    ("credential", "Credential / 자격 증명"),
    ("os", "OS"),
    ("app_path", "App path / 앱 경로"),
    ("deploy_path", "Deploy path / 배포 경로"),
    ("service_port", "Service port / 서비스 포트"),
    ("health_tcp_port", "Health TCP port"),
    ("health_http_url", "Health HTTP URL"),
    ("health_http_status", "Health HTTP status"),
    ("health_http_max_ms", "Health HTTP max ms"),
    ("health_process", "Health process"),
    ("health_log_file", "Health log file"),
    ("health_log_error_pattern", "Health log error pattern"),
    ("tags", "Tags / 태그 (a;b)"),
];

#[component]
fn ServerForm(draft: ServerDraft, previous: String, on_done: Callback<()>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let draft = RwSignal::new(draft);
    let save = Action::new_local(move |(): &()| {
        let request = ServerSave {
            draft: draft.get_untracked(),
            previous: Some(previous.clone()),
        };
        async move { ipc::call::<ServerSaveCmd>(request).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            ui.notify(ui.t(Key::Saved).to_owned());
            on_done.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    let inputs = FIELDS
        .iter()
        .map(|(name, label)| {
            let name = *name;
            view! {
                <label class="field">
                    <span>{*label}</span>
                    <input
                        data-test=format!("field-{name}")
                        prop:value=move || draft.with(|d| {
                            let mut d = d.clone();
                            d.field_mut(name).cloned().unwrap_or_default()
                        })
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            draft.update(|d| {
                                if let Some(slot) = d.field_mut(name) {
                                    *slot = value;
                                }
                            });
                        }
                    />
                </label>
            }
        })
        .collect_view();
    view! {
        <form class="server-form" data-test="server-form" on:submit=move |ev| {
            ev.prevent_default();
            save.dispatch(());
        }>
            <p class="muted">{move || ui.t(Key::EditHint)}</p>
            <div class="grid">{inputs}</div>
            <button type="submit" class="primary" data-test="save-server">
                {move || ui.t(Key::SaveServer)}
            </button>
            <button type="button" class="ghost" on:click=move |_| on_done.run(())>
                {move || ui.t(Key::Cancel)}
            </button>
        </form>
    }
}

#[component]
fn ImportPanel(on_changed: Callback<()>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let format = RwSignal::new(InventoryFormat::Csv);
    let text = RwSignal::new(String::new());
    let institution = RwSignal::new(String::new());
    let system = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let credential = RwSignal::new(String::new());
    let map = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<ImportReport, String>>);
    let run = Action::new_local(move |(): &()| {
        let file = InventoryFile {
            format: format.get_untracked(),
            text: text.get_untracked(),
            institution: institution.get_untracked(),
            system: system.get_untracked(),
            default_user: user.get_untracked(),
            credential: credential.get_untracked(),
            map: map
                .get_untracked()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        };
        async move { ipc::call::<InventoryImport>(file).await }
    });
    Effect::new(move |_| match run.value().get() {
        Some(Ok(report)) => {
            result.set(Some(Ok(report)));
            on_changed.run(());
        }
        Some(Err(error)) => result.set(Some(Err(shown(&error.message)))),
        None => {}
    });
    view! {
        <aside class="detail import-panel" data-test="import-panel">
            <h2>{move || ui.t(Key::ImportTitle)}</h2>
            <p class="muted">{move || ui.t(Key::InventoryImportHint)}</p>
            <select data-test="import-format" on:change=move |ev| {
                format.set(if event_target_value(&ev) == "ansible" {
                    InventoryFormat::AnsibleIni
                } else {
                    InventoryFormat::Csv
                });
            }>
                <option value="csv">{move || ui.t(Key::FormatCsv)}</option>
                <option value="ansible">{move || ui.t(Key::FormatAnsible)}</option>
            </select>
            {move || (format.get() == InventoryFormat::AnsibleIni).then(|| view! {
                <div class="grid">
                    <label class="field"><span>{ui.t(Key::InstitutionLabel)}</span>
                        <input data-test="import-institution" on:input=move |ev| institution.set(event_target_value(&ev)) />
                    </label>
                    <label class="field"><span>"System / 시스템"</span>
                        <input data-test="import-system" on:input=move |ev| system.set(event_target_value(&ev)) />
                    </label>
                    <label class="field"><span>{ui.t(Key::DefaultUserLabel)}</span>
                        <input data-test="import-user" on:input=move |ev| user.set(event_target_value(&ev)) />
                    </label>
                    <label class="field"><span>{ui.t(Key::CredentialCol)}</span>
                        <input data-test="import-credential" on:input=move |ev| credential.set(event_target_value(&ev)) />
                    </label>
                    <label class="field"><span>{ui.t(Key::MapLabel)}</span>
                        <input data-test="import-map" placeholder="app_dir=app_path" on:input=move |ev| map.set(event_target_value(&ev)) />
                    </label>
                </div>
            })}
            <textarea
                class="mono"
                rows="14"
                data-test="import-text"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <button
                class="primary"
                data-test="import-run"
                disabled=move || run.pending().get()
                on:click=move |_| { run.dispatch(()); }
            >
                {move || ui.t(Key::ImportRun)}
            </button>
            {move || result.get().map(|r| match r {
                Ok(report) => view! {
                    <p class="ok" data-test="import-result" data-created=report.created.to_string()>
                        {format!(
                            "{}: +{} ~{} ={}{}",
                            ui.t(Key::Imported),
                            report.created,
                            report.updated,
                            report.unchanged,
                            if report.warnings.is_empty() { String::new() } else { format!("\n{}", shown(&report.warnings.join("\n"))) }
                        )}
                    </p>
                    {(!report.changes.is_empty()).then(|| {
                        let changes = report
                            .changes
                            .iter()
                            .map(|c| shown(&format!("{}: {}", c.server, c.fields.join(", "))))
                            .collect::<Vec<_>>()
                            .join("\n");
                        view! {
                            <p class="small">{move || ui.t(Key::ImportChanged)}</p>
                            <pre class="small mono" data-test="import-changes">{changes}</pre>
                        }
                    })}
                }
                .into_any(),
                Err(message) => view! { <pre class="alarm" data-test="import-error">{message}</pre> }.into_any(),
            })}
        </aside>
    }
}

/// One change over every server the list's filter shows: credential, tier, tags. Preview
/// first (nothing changes), then apply — one transaction, one audit entry.
#[component]
fn BulkPanel(
    text: RwSignal<String>,
    tier: RwSignal<Option<u8>>,
    on_changed: Callback<()>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let credential = RwSignal::new(String::new());
    let new_tier = RwSignal::new(None::<u8>);
    let add_tags = RwSignal::new(String::new());
    let remove_tags = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<ImportReport, String>>);
    // What the last preview would change: Apply sends exactly these servers, and any edit
    // of the form (or of the list's filter) asks for a new preview first.
    let previewed = RwSignal::new(None::<Vec<String>>);
    Effect::new(move |_| {
        text.track();
        tier.track();
        credential.track();
        new_tier.track();
        add_tags.track();
        remove_tags.track();
        previewed.set(None);
    });
    let words = |s: String| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let run = Action::new_local(move |dry_run: &bool| {
        let servers = if *dry_run {
            Vec::new()
        } else {
            previewed.get_untracked().unwrap_or_default()
        };
        let edit = BulkEdit {
            filter: ServerQuery {
                text: text.get_untracked(),
                tier: tier.get_untracked(),
                limit: None,
            },
            servers,
            credential: Some(credential.get_untracked().trim().to_owned())
                .filter(|c| !c.is_empty()),
            tier: new_tier.get_untracked(),
            add_tags: words(add_tags.get_untracked()),
            remove_tags: words(remove_tags.get_untracked()),
            dry_run: *dry_run,
        };
        async move { ipc::call::<ServerBulkEdit>(edit).await }
    });
    Effect::new(move |_| match run.value().get() {
        Some(Ok(report)) => {
            let applied = report.warnings.is_empty();
            if applied {
                previewed.set(None);
                on_changed.run(());
            } else {
                previewed.set(Some(
                    report.changes.iter().map(|c| c.server.clone()).collect(),
                ));
            }
            result.set(Some(Ok(report)));
        }
        Some(Err(error)) => result.set(Some(Err(shown(&error.message)))),
        None => {}
    });
    view! {
        <aside class="detail import-panel" data-test="bulk-panel">
            <h2>{move || ui.t(Key::BulkEdit)}</h2>
            <p class="muted">{move || ui.t(Key::BulkHint)}</p>
            <div class="grid">
                <label class="field"><span>{move || ui.t(Key::CredentialCol)}</span>
                    <input data-test="bulk-credential" on:input=move |ev| credential.set(event_target_value(&ev)) />
                </label>
                <label class="field"><span>{move || ui.t(Key::BulkTier)}</span>
                    <select data-test="bulk-tier" on:change=move |ev| new_tier.set(event_target_value(&ev).parse().ok())>
                        <option value="">"—"</option>
                        <option value="1">"1"</option>
                        <option value="2">"2"</option>
                        <option value="3">"3"</option>
                    </select>
                </label>
                <label class="field"><span>{move || ui.t(Key::BulkAddTags)}</span>
                    <input data-test="bulk-add-tags" on:input=move |ev| add_tags.set(event_target_value(&ev)) />
                </label>
                <label class="field"><span>{move || ui.t(Key::BulkRemoveTags)}</span>
                    <input data-test="bulk-remove-tags" on:input=move |ev| remove_tags.set(event_target_value(&ev)) />
                </label>
            </div>
            <div class="actions">
                <button data-test="bulk-preview" disabled=move || run.pending().get() on:click=move |_| { run.dispatch(true); }>
                    {move || ui.t(Key::BulkPreview)}
                </button>
                <button
                    class="primary"
                    data-test="bulk-apply"
                    disabled=move || run.pending().get() || previewed.get().is_none_or(|p| p.is_empty())
                    on:click=move |_| { run.dispatch(false); }
                >
                    {move || ui.t(Key::BulkApply)}
                </button>
            </div>
            {move || result.get().map(|r| match r {
                Ok(report) => {
                    let changes = report
                        .changes
                        .iter()
                        .map(|c| shown(&format!("{}: {}", c.server, c.fields.join(", "))))
                        .collect::<Vec<_>>()
                        .join("\n");
                    view! {
                        <p class="ok" data-test="bulk-result" data-updated=report.updated.to_string()>
                            {format!("~{} ={} {}", report.updated, report.unchanged, report.warnings.join(" "))}
                        </p>
                        <pre class="small mono">{changes}</pre>
                    }
                    .into_any()
                }
                Err(message) => view! { <pre class="alarm" data-test="bulk-error">{message}</pre> }.into_any(),
            })}
        </aside>
    }
}

#[component]
fn CredentialsPanel(on_changed: Callback<()>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let list = LocalResource::new(|| async { ipc::call::<CredentialList>(()).await });
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(CredentialKindView::Key);
    let secret = RwSignal::new(String::new());
    let passphrase = RwSignal::new(String::new());
    let save = Action::new_local(move |(): &()| {
        let input = CredentialInput {
            name: name.get_untracked(),
            kind: kind.get_untracked(),
            secret: secret.get_untracked(),
            passphrase: Some(passphrase.get_untracked()).filter(|p| !p.is_empty()),
        };
        async move { ipc::call::<CredentialSet>(input).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            // The secret leaves the window's memory as soon as the keyring has it.
            secret.set(String::new());
            passphrase.set(String::new());
            ui.notify(ui.t(Key::Saved).to_owned());
            list.refetch();
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    let delete = Action::new_local(|name: &String| {
        let name = name.clone();
        async move { ipc::call::<CredentialDelete>(CredentialRef { name }).await }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            list.refetch();
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    view! {
        <aside class="detail credentials-panel" data-test="credentials-panel">
            <h2>{move || ui.t(Key::CredentialsTitle)}</h2>
            <p class="muted">{move || ui.t(Key::CredentialsHint)}</p>
            {move || match list.get() {
                None => view! { <p class="muted">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <ErrorPanel
                        title=Signal::derive(move || ui.t(Key::CredentialsTitle).to_owned())
                        error=error
                        retry=Callback::new(move |()| list.refetch())
                    />
                }
                .into_any(),
                Some(Ok(items)) => items
                    .into_iter()
                    .map(|c| {
                        let delete_name = c.name.clone();
                        view! {
                            <div
                                class="credential-row"
                                data-test="credential-row"
                                data-name=c.name.clone()
                                data-in-keyring=c.in_keyring.to_string()
                            >
                                <span class="mono">{c.name.clone()}</span>
                                <span>{move || match c.kind {
                                    CredentialKindView::Password => ui.t(Key::KindPassword),
                                    CredentialKindView::Key => ui.t(Key::KindPrivate),
                                    CredentialKindView::TlsKey => ui.t(Key::KindTls),
                                }}</span>
                                <span class:alarm=!c.in_keyring>
                                    {move || if c.in_keyring { ui.t(Key::InKeyring) } else { ui.t(Key::MissingFromKeyring) }}
                                </span>
                                <span>{move || format!("{} {}", ui.t(Key::UsedBy), c.servers)}</span>
                                <button class="ghost" on:click=move |_| { delete.dispatch(delete_name.clone()); }>
                                    {move || ui.t(Key::Delete)}
                                </button>
                            </div>
                        }
                    })
                    .collect_view()
                    .into_any(),
            }}
            <form class="credential-form" on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(());
            }>
                <label class="field"><span>{move || ui.t(Key::CredentialName)}</span>
                    <input data-test="credential-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label class="field"><span>{move || ui.t(Key::CredentialKind)}</span>
                    <select data-test="credential-kind" on:change=move |ev| {
                        kind.set(match event_target_value(&ev).as_str() {
                            "password" => CredentialKindView::Password,
                            "tls_key" => CredentialKindView::TlsKey,
                            _ => CredentialKindView::Key,
                        });
                    }>
                        <option value="key">{move || ui.t(Key::KindPrivate)}</option>
                        <option value="password">{move || ui.t(Key::KindPassword)}</option>
                        <option value="tls_key">{move || ui.t(Key::KindTls)}</option>
                    </select>
                </label>
                <label class="field"><span>{move || ui.t(Key::SecretLabel)}</span>
                    {move || match kind.get() {
                        CredentialKindView::Key | CredentialKindView::TlsKey => view! {
                            <textarea class="mono" rows="6" autocomplete="off" spellcheck="false" data-test="credential-secret"
                                prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))></textarea>
                        }.into_any(),
                        CredentialKindView::Password => view! {
                            <input type="password" autocomplete="off" data-test="credential-secret"
                                prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev)) />
                        }.into_any(),
                    }}
                </label>
                <label class="field"><span>{move || ui.t(Key::PassphraseLabel)}</span>
                    <input type="password" autocomplete="off" data-test="credential-passphrase"
                        prop:value=move || passphrase.get() on:input=move |ev| passphrase.set(event_target_value(&ev)) />
                </label>
                <button type="submit" class="primary" data-test="credential-save">
                    {move || ui.t(Key::SaveCredential)}
                </button>
            </form>
        </aside>
    }
}
