//! The Audit screen: the integrity panel (status, Verify now with progress, checkpoints in
//! and out, acknowledgement of a failure) and the searchable, paged activity list.

use guardia_ipc::{
    Acknowledgement, AuditAcknowledge, AuditCheckpoint, AuditCheckpointExport,
    AuditCheckpointImport, AuditList, AuditPage, AuditQuery, AuditReportExport, AuditStatus,
    AuditStatusGet, AuditVerify, CheckpointExport, CheckpointFormat, CheckpointImport,
    ExportedFile, ReportExport, ReportKind,
};
use guardia_ipc::{JobCancel, JobId, JobKind, JobRef, Topic};
use leptos::ev;
use leptos::html;
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::Key;
use crate::ipc;
use crate::live::Live;
use crate::widgets::{ErrorPanel, focus, local_time, shown, typing_in_a_field};

/// Rows per page of the activity list (paged by index, so a million entries cost the same).
const PAGE: u32 = 100;

/// Kind families offered in the filter; the backend matches a trailing `.` as a prefix.
const KIND_FAMILIES: [&str; 7] = [
    "task.",
    "approval.",
    "package.",
    "ssh.",
    "rollout.",
    "killswitch.",
    "audit.",
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    // Refetched when the log changes (any entry, from any process) and when a verification
    // starts or ends; its progress in between arrives pushed, job by job.
    let verifying = Memo::new(move |_| live.running(JobKind::Verification).map(|j| j.id));
    let status = LocalResource::new(move || {
        live.track(Topic::Audit);
        verifying.track();
        async { ipc::call::<AuditStatusGet>(()).await }
    });
    let exported = RwSignal::new(None::<(CheckpointFormat, ExportedFile)>);
    // What to show changes only when the kind of answer changes; the latest good status
    // feeds the mounted panel.
    let phase = Memo::new(move |_| match status.get() {
        None => Phase::Loading,
        Some(Err(_)) => Phase::Failed,
        Some(Ok(_)) => Phase::Shown,
    });
    let latest = Memo::new(
        move |previous: Option<&Option<AuditStatus>>| match status.get() {
            Some(Ok(current)) => Some(current),
            _ => previous.cloned().flatten(),
        },
    );

    let list_reload = RwSignal::new(0u32);

    let verify = Action::new_local(|(): &()| async { ipc::call::<AuditVerify>(()).await });
    Effect::new(move |_| {
        if let Some(Err(error)) = verify.value().get() {
            ui.notify_error(&error);
        }
    });
    let start_verify = move || {
        if !verify.pending().get_untracked() {
            verify.dispatch(());
        }
    };

    let refresh_all = move || {
        status.refetch();
        list_reload.update(|n| *n += 1);
    };

    let search_box = NodeRef::<html::Input>::new();
    let keys = window_event_listener(ev::keydown, move |ev| {
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() || typing_in_a_field(&ev) {
            return;
        }
        match ev.key().as_str() {
            "v" | "V" => {
                ev.prevent_default();
                start_verify();
            }
            "r" | "R" => refresh_all(),
            "/" => {
                ev.prevent_default();
                if let Some(input) = search_box.get_untracked() {
                    focus(&input, "the audit search box");
                }
            }
            "Escape" => exported.set(None),
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());

    view! {
        <section class="audit" data-test="page-audit">
            <h1>{move || ui.t(Key::AuditTitle)}</h1>
            // The panel stays mounted while the status refetches (every pushed change): its
            // actions, and whatever is typed into it, must survive a refresh.
            {move || match phase.get() {
                Phase::Loading => view! { <p class="muted">{ui.t(Key::Loading)}</p> }.into_any(),
                Phase::Failed => {
                    let error = match status.get_untracked() {
                        Some(Err(error)) => error,
                        _ => guardia_ipc::IpcError::new(guardia_ipc::ErrorCode::Internal, "?"),
                    };
                    view! {
                        <ErrorPanel
                            title=Signal::derive(move || ui.t(Key::Integrity).to_owned())
                            error=error
                            retry=Callback::new(move |()| status.refetch())
                        />
                    }
                    .into_any()
                }
                Phase::Shown => view! {
                    <IntegrityPanel
                        status=Signal::derive(move || latest.get().unwrap_or_default())
                        on_verify=Callback::new(move |()| start_verify())
                        on_changed=Callback::new(move |()| refresh_all())
                        exported=exported
                    />
                }
                .into_any(),
            }}
            <ExportView exported=exported />
            <ActivityList reload=list_reload search_box=search_box />
            <p class="muted hint">{move || ui.t(Key::AuditHint)}</p>
        </section>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Loading,
    Failed,
    Shown,
}

fn state_of(status: &AuditStatus) -> (&'static str, Key) {
    if status.progress.running {
        return ("running", Key::IntegrityRunning);
    }
    match &status.last_verification {
        None => ("never", Key::IntegrityNever),
        Some(v) if v.ok => ("verified", Key::IntegrityVerified),
        Some(v) if v.acknowledged_at.is_some() => ("failed-acknowledged", Key::IntegrityFailedAck),
        Some(_) => ("failed", Key::IntegrityFailed),
    }
}

#[component]
fn IntegrityPanel(
    status: Signal<AuditStatus>,
    on_verify: Callback<()>,
    on_changed: Callback<()>,
    exported: RwSignal<Option<(CheckpointFormat, ExportedFile)>>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let state = Memo::new(move |_| status.with(state_of));
    // While running: the pushed progress of the verification job. Afterwards the last
    // run's count: a failed run stops at the first bad entry, so its bar stays short (and
    // red) against the whole log.
    let counts = Memo::new(move |_| {
        let pushed = live
            .running(JobKind::Verification)
            .as_ref()
            .and_then(crate::live::progress_of);
        status.with(|status| match (pushed, &status.last_verification) {
            (Some((done, total, _)), _) => (done, total),
            (None, _) if status.progress.running => (status.progress.done, status.progress.total),
            (None, Some(v)) if v.ok => (v.entries, v.entries),
            (None, Some(v)) => (v.first_bad.unwrap_or(v.entries), status.entries),
            (None, None) => (0, status.entries),
        })
    });
    let running_job = move || live.running(JobKind::Verification).map(|j| j.id);
    let running = move || status.with(|s| s.progress.running) || running_job().is_some();
    let cancel = Action::new_local(|id: &JobId| {
        let id = *id;
        async move { ipc::call::<JobCancel>(JobRef { id }).await }
    });
    let blocked = Memo::new(move |_| status.with(|s| s.rollouts_blocked));

    let sign = Action::new_local(|(): &()| async { ipc::call::<AuditCheckpoint>(()).await });
    Effect::new(move |_| match sign.value().get() {
        Some(Ok(checkpoint)) => {
            ui.notify(format!(
                "{} ({})",
                ui.t(Key::CheckpointSigned),
                checkpoint.size
            ));
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    let export = Action::new_local(|format: &CheckpointFormat| {
        let format = *format;
        async move {
            ipc::call::<AuditCheckpointExport>(CheckpointExport { format })
                .await
                .map(|file| (format, file))
        }
    });
    Effect::new(move |_| match export.value().get() {
        Some(Ok(file)) => {
            exported.set(Some(file));
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    let report = Action::new_local(|kind: &ReportKind| {
        let export = ReportExport {
            kind: *kind,
            query: AuditQuery::default(),
        };
        async move { ipc::call::<AuditReportExport>(export).await }
    });
    Effect::new(move |_| match report.value().get() {
        Some(Ok(file)) => {
            ui.notify(format!("{}: {}", ui.t(Key::ExportedTo), file.path));
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });

    view! {
        <div class=move || format!("integrity-panel state-{}", state.get().0) data-test="integrity-panel">
            <div class="integrity-head">
                <h2>{move || ui.t(Key::Integrity)}</h2>
                <span
                    class=move || format!("badge integrity-{}", state.get().0)
                    data-test="integrity-state"
                    data-state=move || state.get().0
                >
                    {move || ui.t(state.get().1)}
                </span>
                <div class="spacer"></div>
                <button
                    class="primary"
                    data-test="verify-now"
                    disabled=running
                    on:click=move |_| on_verify.run(())
                >
                    {move || ui.t(Key::VerifyNow)}
                    <kbd>"V"</kbd>
                </button>
                {move || running_job().map(|id| view! {
                    <button class="ghost" data-test="verify-cancel" on:click=move |_| { cancel.dispatch(id); }>
                        {move || ui.t(Key::CancelVerify)}
                    </button>
                })}
            </div>
            <div
                class="verify-progress"
                class:failed=move || state.get().0.starts_with("failed")
                data-test="verify-progress"
                data-done=move || counts.get().0
                data-total=move || counts.get().1
                data-pushed=move || running_job().is_some().to_string()
            >
                <progress max=move || counts.get().1.max(1) value=move || counts.get().0></progress>
                <span>{move || {
                    let (done, total) = counts.get();
                    let percent = (done * 100).checked_div(total).unwrap_or(100);
                    format!("{done} / {total} ({percent}%)")
                }}</span>
            </div>
            {move || blocked.get().then(|| view! {
                <AcknowledgeBox on_changed=on_changed />
            })}
            {move || {
                let status = status.get();
                let last_verification = status.last_verification.clone();
                let last_checkpoint = status.last_checkpoint.clone();
                let key_problem = status.key_problem.clone();
                view! {
                    <dl class="facts">
                        <dt>{move || ui.t(Key::Entries)}</dt>
                        <dd data-test="audit-entries">{status.entries}</dd>
                        <dt>{move || ui.t(Key::LastVerification)}</dt>
                        <dd
                            data-test="last-verification"
                            data-trigger=last_verification.as_ref().map(|v| v.trigger.clone()).unwrap_or_default()
                        >{
                            let v = last_verification.clone();
                            move || match &v {
                                None => ui.t(Key::Never).to_owned(),
                                Some(v) if v.ok => format!("{} · {}{}", local_time(v.finished_at), v.entries, ui.t(Key::EntriesVerified)),
                                Some(v) => format!(
                                    "{} · {} {} — {}",
                                    local_time(v.finished_at),
                                    ui.t(Key::FirstBad),
                                    v.first_bad.map_or("?".to_owned(), |b| b.to_string()),
                                    v.problem.clone().unwrap_or_default()
                                ),
                            }
                        }{status.verification_due.then(|| view! { <span class="muted">" · "{move || ui.t(Key::DailyDue)}</span> })}</dd>
                        <dt>{move || ui.t(Key::LastCheckpoint)}</dt>
                        <dd data-test="last-checkpoint">{
                            let c = last_checkpoint.clone();
                            move || match &c {
                                None => ui.t(Key::Never).to_owned(),
                                Some(c) => format!("#{} · {} · {}", c.size, local_time(c.created_at), shown(&c.reason)),
                            }
                        }</dd>
                        <dt>{move || ui.t(Key::SinceExport)}</dt>
                        <dd data-test="since-export">{status.entries_since_export}</dd>
                        <dt>{move || ui.t(Key::VerifierKeyLabel)}</dt>
                        <dd class="mono small">{status.verifier_key.clone().unwrap_or_default()}
                            {key_problem.map(|p| view! { <span class="error-text">{move || ui.t(Key::SigningProblem)}": "{p.clone()}</span> })}
                        </dd>
                    </dl>
                }
            }}
            <div class="actions">
                <button data-test="sign-checkpoint" on:click=move |_| { sign.dispatch(()); }>{move || ui.t(Key::SignCheckpoint)}</button>
                <button data-test="export-text" on:click=move |_| { export.dispatch(CheckpointFormat::Text); }>{move || ui.t(Key::ExportText)}</button>
                <button data-test="export-qr" on:click=move |_| { export.dispatch(CheckpointFormat::Qr); }>{move || ui.t(Key::ExportQr)}</button>
                <button data-test="export-print" on:click=move |_| { export.dispatch(CheckpointFormat::Print); }>{move || ui.t(Key::ExportPrint)}</button>
                <button data-test="report-csv" on:click=move |_| { report.dispatch(ReportKind::ActivityCsv); }>{move || ui.t(Key::ReportCsv)}</button>
                <button data-test="report-html" on:click=move |_| { report.dispatch(ReportKind::IntegrityHtml); }>{move || ui.t(Key::ReportHtml)}</button>
            </div>
            <ImportBox on_changed=on_changed />
        </div>
    }
}

#[component]
fn AcknowledgeBox(on_changed: Callback<()>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let note = RwSignal::new(String::new());
    let ack = Action::new_local(|note: &String| {
        let note = note.clone();
        async move { ipc::call::<AuditAcknowledge>(Acknowledgement { note }).await }
    });
    Effect::new(move |_| match ack.value().get() {
        Some(Ok(_)) => {
            ui.notify(ui.t(Key::Acknowledged).to_owned());
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    view! {
        <div class="blocked" role="alert" data-test="rollouts-blocked">
            <strong>{move || ui.t(Key::RolloutsBlocked)}</strong>
            <textarea
                rows="2"
                data-test="ack-note"
                placeholder=move || ui.t(Key::AckNote)
                prop:value=move || note.get()
                on:input=move |ev| note.set(event_target_value(&ev))
            ></textarea>
            <button class="danger" data-test="acknowledge" on:click=move |_| { ack.dispatch(note.get_untracked()); }>
                {move || ui.t(Key::Acknowledge)}
            </button>
        </div>
    }
}

#[component]
fn ImportBox(on_changed: Callback<()>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let note = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let import = Action::new_local(|(note, label): &(String, String)| {
        let import = CheckpointImport {
            note: note.clone(),
            label: label.clone(),
        };
        async move { ipc::call::<AuditCheckpointImport>(import).await }
    });
    Effect::new(move |_| match import.value().get() {
        Some(Ok(_)) => {
            note.set(String::new());
            on_changed.run(());
        }
        Some(Err(error)) => ui.notify_error(&error),
        None => {}
    });
    view! {
        <details class="import">
            <summary>{move || ui.t(Key::ImportCheckpoint)}</summary>
            <p class="muted">{move || ui.t(Key::ImportHint)}</p>
            <textarea
                rows="6"
                class="mono"
                data-test="import-note"
                prop:value=move || note.get()
                on:input=move |ev| note.set(event_target_value(&ev))
            ></textarea>
            <input
                type="text"
                data-test="import-label"
                placeholder=move || ui.t(Key::ImportLabel)
                prop:value=move || label.get()
                on:input=move |ev| label.set(event_target_value(&ev))
            />
            <button data-test="import-checkpoint" on:click=move |_| {
                import.dispatch((note.get_untracked(), label.get_untracked()));
            }>{move || ui.t(Key::Import)}</button>
        </details>
    }
}

/// The exported checkpoint: where it was saved and, for QR and print, the page itself.
#[component]
fn ExportView(exported: RwSignal<Option<(CheckpointFormat, ExportedFile)>>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    move || {
        exported.get().map(|(format, file)| {
            let body = match format {
                CheckpointFormat::Text => view! { <pre class="mono">{file.content.clone()}</pre> }.into_any(),
                // Our own backend's SVG/HTML (escaped there); shown as the page to print.
                CheckpointFormat::Qr | CheckpointFormat::Print => {
                    view! { <div class="print-page" inner_html=file.content.clone()></div> }.into_any()
                }
            };
            view! {
                <div class="export-view" data-test="export-view">
                    <p>
                        {move || ui.t(Key::ExportedTo)}": "<code data-test="export-path">{file.path.clone()}</code>
                        <button on:click=move |_| {
                            if window().print().is_err() {
                                leptos::logging::warn!("printing is not available");
                            }
                        }>{move || ui.t(Key::Print)}</button>
                        <button class="ghost" on:click=move |_| exported.set(None)>{move || ui.t(Key::Close)}</button>
                    </p>
                    {body}
                </div>
            }
        })
    }
}

#[component]
fn ActivityList(reload: RwSignal<u32>, search_box: NodeRef<html::Input>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let text = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let actor = RwSignal::new(String::new());
    let result = RwSignal::new(String::new());
    // Indexes that started the pages before this one, for "newer".
    let pages = RwSignal::new(Vec::<Option<u64>>::new());
    let before = RwSignal::new(None::<u64>);

    let live = expect_context::<Live>();
    let list = LocalResource::new(move || {
        reload.track();
        live.track(Topic::Audit);
        let query = AuditQuery {
            before: before.get(),
            kind: kind.get(),
            actor: actor.get(),
            subject: String::new(),
            result: result.get(),
            text: text.get(),
            limit: Some(PAGE),
        };
        async move { ipc::call::<AuditList>(query).await }
    });
    let reset_paging = move || {
        pages.set(Vec::new());
        before.set(None);
    };

    let rows = move |page: AuditPage| {
        if page.entries.is_empty() {
            return view! { <p class="empty" data-test="audit-empty">{move || ui.t(Key::NoEntries)}</p> }.into_any();
        }
        let next = page.next_before;
        let body = page
            .entries
            .into_iter()
            .map(|e| {
                let row_class = format!("result-{}", e.result);
                let kind_code = e.kind.clone();
                view! {
                    <tr data-test="audit-row" data-kind=kind_code class=row_class>
                        <td class="num">{e.index}</td>
                        <td>{local_time(e.at)}</td>
                        <td>{shown(&e.actor)}</td>
                        <td class="mono">{e.kind}</td>
                        <td class="mono">{shown(&e.subject)}</td>
                        <td>{e.result}</td>
                        <td class="details" title=e.leaf>{shown(&e.details)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="grid audit-grid">
                <thead><tr>
                    <th>{move || ui.t(Key::ColIndex)}</th>
                    <th>{move || ui.t(Key::ColTime)}</th>
                    <th>{move || ui.t(Key::ColActor)}</th>
                    <th>{move || ui.t(Key::ColAction)}</th>
                    <th>{move || ui.t(Key::ColSubject)}</th>
                    <th>{move || ui.t(Key::ColResult)}</th>
                    <th>{move || ui.t(Key::ColDetails)}</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
            <div class="pager">
                <button data-test="audit-newer" disabled=move || pages.get().is_empty() on:click=move |_| {
                    let mut stack = pages.get_untracked();
                    let previous = stack.pop().flatten();
                    pages.set(stack);
                    before.set(previous);
                }>{move || ui.t(Key::Newer)}</button>
                <button data-test="audit-older" disabled=next.is_none() on:click=move |_| {
                    pages.update(|stack| stack.push(before.get_untracked()));
                    before.set(next);
                }>{move || ui.t(Key::Older)}</button>
            </div>
        }
        .into_any()
    };

    let kinds = KIND_FAMILIES
        .iter()
        .map(|k| view! { <option value=*k>{*k}</option> })
        .collect_view();
    view! {
        <div class="activity">
            <h2>{move || ui.t(Key::Activity)}</h2>
            <div class="toolbar">
                <input
                    type="search"
                    node_ref=search_box
                    data-test="audit-search"
                    placeholder=move || ui.t(Key::AuditSearch)
                    prop:value=move || text.get()
                    on:input=move |ev| { reset_paging(); text.set(event_target_value(&ev)); }
                />
                <select data-test="audit-kind" on:change=move |ev| { reset_paging(); kind.set(event_target_value(&ev)); }>
                    <option value="">{move || ui.t(Key::AllKinds)}</option>
                    {kinds}
                </select>
                <input
                    type="text"
                    data-test="audit-actor"
                    placeholder=move || ui.t(Key::ActorFilter)
                    prop:value=move || actor.get()
                    on:input=move |ev| { reset_paging(); actor.set(event_target_value(&ev)); }
                />
                <select data-test="audit-result" on:change=move |ev| { reset_paging(); result.set(event_target_value(&ev)); }>
                    <option value="">{move || ui.t(Key::AllResults)}</option>
                    <option value="ok">"ok"</option>
                    <option value="failed">"failed"</option>
                    <option value="refused">"refused"</option>
                    <option value="unknown">"unknown"</option>
                </select>
                <span class="muted" data-test="audit-total">{move || match list.get() {
                    Some(Ok(page)) => format!("{} {}", page.total, ui.t(Key::Entries)),
                    _ => String::new(),
                }}</span>
            </div>
            {move || match list.get() {
                None => view! { <p class="muted">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <ErrorPanel
                        title=Signal::derive(move || ui.t(Key::Activity).to_owned())
                        error=error
                        retry=Callback::new(move |()| list.refetch())
                    />
                }
                .into_any(),
                Some(Ok(page)) => rows(page),
            }}
        </div>
    }
}
