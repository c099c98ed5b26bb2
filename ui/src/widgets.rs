//! Small building blocks shared by the screens.

use chrono::{DateTime, Local, Utc};
use guardia_domain::TaskStatus;
use guardia_ipc::IpcError;
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::{Key, error_headline, status_label};

/// Free text as a reviewer must see it: direction overrides, zero-width and control
/// characters shown as `<U+202E>` instead of silently rearranging or hiding what is around
/// them (newlines and tabs kept). Everything free-form the window displays goes through it.
pub fn shown(text: &str) -> String {
    guardia_domain::text::escape_invisible(text, true).into_owned()
}

/// An error as the operator should see it: what happened (by code, in their language), the
/// backend's detail line, and a way to try again.
#[component]
pub fn ErrorPanel(
    #[prop(into)] title: Signal<String>,
    error: IpcError,
    retry: Callback<()>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let code = error.code;
    view! {
        <div class="error-panel" role="alert" data-test="error-panel">
            <h2>{move || title.get()}</h2>
            <p class="headline">{move || error_headline(ui.lang.get(), code)}</p>
            <p class="detail"><code>{format!("{code:?}")}</code>" "{shown(&error.message)}</p>
            <button class="primary" on:click=move |_| retry.run(())>{move || ui.t(Key::Retry)}</button>
        </div>
    }
}

/// A coloured status chip.
#[component]
pub fn StatusBadge(status: TaskStatus) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let tone = match status {
        TaskStatus::Received
        | TaskStatus::PendingApproval
        | TaskStatus::Returned
        | TaskStatus::PendingReview => "waiting",
        TaskStatus::Approved
        | TaskStatus::InProgress
        | TaskStatus::ReadyToRollOut
        | TaskStatus::RollingOut => "active",
        TaskStatus::Completed => "done",
        TaskStatus::RolledBack | TaskStatus::Failed | TaskStatus::Halted => "alarm",
        TaskStatus::Cancelled => "closed",
    };
    view! {
        <span class=format!("badge tone-{tone}") data-status=status.code()>
            {move || status_label(ui.lang.get(), status)}
        </span>
    }
}

pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// True when a key press belongs to a text field rather than to a shortcut.
pub fn typing_in_a_field(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.is_content_editable()
        })
}

/// Moves keyboard focus to `element`; a failure only costs convenience, so it is logged.
pub fn focus(element: &web_sys::HtmlElement, what: &str) {
    if element.focus().is_err() {
        leptos::logging::warn!("cannot focus {what}");
    }
}

/// A display clock for countdowns: now, redrawn each second (nothing is fetched — the data
/// itself arrives through the change feed). It stops once `until` has passed, if given, and
/// when the view that asked for it goes away.
pub fn display_clock(until: Option<DateTime<Utc>>) -> ReadSignal<DateTime<Utc>> {
    let (now, set_now) = signal(Utc::now());
    let timer = StoredValue::new(None::<TimeoutHandle>);
    fn tick(
        until: Option<DateTime<Utc>>,
        set_now: WriteSignal<DateTime<Utc>>,
        timer: StoredValue<Option<TimeoutHandle>>,
    ) {
        let handle = set_timeout_with_handle(
            move || {
                let now = Utc::now();
                set_now.set(now);
                if until.is_none_or(|due| now < due) {
                    tick(until, set_now, timer);
                }
            },
            std::time::Duration::from_secs(1),
        )
        .ok();
        timer.try_set_value(handle);
    }
    tick(until, set_now, timer);
    on_cleanup(move || {
        if let Some(Some(handle)) = timer.try_get_value() {
            handle.clear();
        }
    });
    now
}
