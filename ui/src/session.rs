//! Sign-in, sign-out and the idle lock, as the window shows them. The backend decides:
//! every command is refused with `SIGN_IN` while nobody is signed in, and this module only
//! reacts — it asks where the session stands, shows the sign-in screen, and ends the
//! session when it has seen no input for the idle time.

use guardia_domain::governance::Permission;
use guardia_ipc::session::{SessionEndCmd, SessionGet, SignIn};
use guardia_ipc::{EndSession, ErrorCode, IpcError, Lang, SessionEnd, SessionState, SignInRequest};
use leptos::ev;
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::{Key, error_headline};
use crate::ipc;
use crate::widgets::shown;

/// What the window shows: nothing yet, the sign-in screen, or the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Loading,
    SignIn,
    Open,
}

/// The session as the window knows it.
#[derive(Clone, Copy)]
pub struct Auth {
    pub state: RwSignal<Option<SessionState>>,
    /// Why the last session request failed, until one succeeds.
    pub error: RwSignal<Option<IpcError>>,
}

impl Auth {
    pub fn phase(self) -> Phase {
        match self.state.get() {
            None => Phase::Loading,
            Some(SessionState::SignedOut { .. }) => Phase::SignIn,
            Some(SessionState::SetUp { .. } | SessionState::SignedIn(_)) => Phase::Open,
        }
    }

    /// Whether the signed-in person's roles grant `permission` somewhere (in set-up the OS
    /// account holds every role). Only for hiding what the backend would refuse.
    pub fn may(self, permission: Permission) -> bool {
        match self.state.get() {
            Some(SessionState::SignedIn(view)) => view
                .person
                .roles
                .iter()
                .any(|grant| grant.role.grants(permission)),
            Some(SessionState::SetUp { .. }) => true,
            Some(SessionState::SignedOut { .. }) | None => false,
        }
    }

    /// Asks the backend where the session stands.
    pub fn reload(self) {
        leptos::task::spawn_local(async move {
            match ipc::call::<SessionGet>(()).await {
                Ok(state) => {
                    self.error.set(None);
                    self.state.set(Some(state));
                }
                Err(error) => self.error.set(Some(error)),
            }
        });
    }

    /// Ends the session (signed out, or locked after idle time).
    pub fn end(self, how: EndSession) {
        leptos::task::spawn_local(async move {
            match ipc::call::<SessionEndCmd>(how).await {
                Ok(state) => self.state.set(Some(state)),
                Err(error) => self.error.set(Some(error)),
            }
        });
    }
}

/// Creates the session context and fetches the state; any command refused with `SIGN_IN`
/// from now on makes the window ask again (and so show the sign-in screen).
pub fn provide() -> Auth {
    let auth = Auth {
        state: RwSignal::new(None),
        error: RwSignal::new(None),
    };
    provide_context(auth);
    ipc::on_sign_in_required(move || auth.reload());
    auth.reload();
    auth
}

#[component]
pub fn SignInScreen() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let refused = RwSignal::new(None::<IpcError>);
    let name_box = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = name_box.get()
            && input.focus().is_err()
        {
            leptos::logging::warn!("cannot focus the name field");
        }
    });

    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let request = SignInRequest {
            name: name.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match ipc::call::<SignIn>(request).await {
                Ok(view) => {
                    refused.set(None);
                    password.set(String::new());
                    auth.state.set(Some(SessionState::SignedIn(view)));
                }
                Err(error) => {
                    password.set(String::new());
                    refused.set(Some(error));
                }
            }
            busy.set(false);
        });
    };

    let ended = move || match auth.state.get() {
        Some(SessionState::SignedOut {
            ended: Some(SessionEnd::Idle { .. }),
        }) => Some(ui.t(Key::SessionLockedIdle)),
        Some(SessionState::SignedOut {
            ended: Some(SessionEnd::SignedOut),
        }) => Some(ui.t(Key::SessionSignedOut)),
        _ => None,
    };
    let lang_button = move |lang: Lang, label: &'static str| {
        view! {
            <button
                class="lang"
                class:active=move || ui.lang.get() == lang
                data-test=format!("signin-lang-{}", lang.code())
                on:click=move |_| ui.lang.set(lang)
            >
                {label}
            </button>
        }
    };

    view! {
        <div class="splash signin" data-test="signin">
            <form
                class="signin-card"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <div class="brand">
                    <img src="icon.svg" alt="" width="32" height="32" />
                    <span class="brand-name">"GUARDiA"</span>
                </div>
                <h1>{move || ui.t(Key::SignInTitle)}</h1>
                <p class="muted">{move || ui.t(Key::SignInHint)}</p>
                {move || ended().map(|text| view! { <p class="notice-inline" data-test="signin-ended">{text}</p> })}
                <label>
                    <span>{move || ui.t(Key::SignInName)}</span>
                    <input
                        data-test="signin-name"
                        node_ref=name_box
                        autocomplete="username"
                        maxlength="32"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    <span>{move || ui.t(Key::SignInPassword)}</span>
                    <input
                        data-test="signin-password"
                        type="password"
                        autocomplete="current-password"
                        maxlength="1024"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                </label>
                {move || refused.get().map(|error| {
                    let headline = error_headline(ui.lang.get(), error.code);
                    let detail = if error.code == ErrorCode::SignIn {
                        shown(&error.message)
                    } else {
                        format!("{:?}: {}", error.code, shown(&error.message))
                    };
                    view! {
                        <div class="form-error" role="alert" data-test="signin-error">
                            <strong>{headline}</strong>
                            <br />
                            <span>{detail}</span>
                        </div>
                    }
                })}
                <div class="actions">
                    <div class="lang-switch" role="group" aria-label="Language / 언어">
                        {lang_button(Lang::Ko, "한국어")}
                        {lang_button(Lang::En, "English")}
                    </div>
                    <span class="spacer"></span>
                    <button class="primary" type="submit" data-test="signin-submit" disabled=move || busy.get()>
                        {move || ui.t(Key::SignInSubmit)}
                        " "
                        <kbd>"Enter"</kbd>
                    </button>
                </div>
            </form>
        </div>
    }
}

/// Ends the session once `last_input` is the idle time old, unless another watch (`watch`
/// moved on) or the component (disposed) took over.
fn idle_timer(auth: Auth, last_input: StoredValue<f64>, watch: StoredValue<u32>, mine: u32) {
    if watch.try_get_value() != Some(mine) {
        return;
    }
    let Some(SessionState::SignedIn(view)) = auth.state.get_untracked() else {
        return;
    };
    let Some(last) = last_input.try_get_value() else {
        return;
    };
    let left_ms = f64::from(view.idle_lock_minutes) * 60_000.0 - (js_sys::Date::now() - last);
    if left_ms <= 0.0 {
        auth.end(EndSession::Idle);
        return;
    }
    set_timeout(
        move || idle_timer(auth, last_input, watch, mine),
        std::time::Duration::from_millis(left_ms.ceil() as u64),
    );
}

/// The top bar's session corner: who is signed in and the sign-out button (Ctrl+Shift+L),
/// or that the console is still in set-up. While signed in it also watches for input and
/// locks the session after the idle time.
#[component]
pub fn SessionCorner() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let last_input = StoredValue::new(js_sys::Date::now());
    let touch = move || last_input.set_value(js_sys::Date::now());

    let keys = window_event_listener(ev::keydown, move |ev| {
        touch();
        if ev.ctrl_key() && ev.shift_key() && ev.code() == "KeyL" {
            ev.prevent_default();
            auth.end(EndSession::SignOut);
        }
    });
    let pointer = window_event_listener(ev::pointerdown, move |_| touch());
    // One timer per signed-in session, set for exactly the idle time still left: it wakes
    // when the session may have run idle (re-arming itself if input came meanwhile), never
    // on a schedule, and asks the backend nothing until it ends the session.
    let watch = StoredValue::new(0u32);
    Effect::new(move |_| {
        if matches!(auth.state.get(), Some(SessionState::SignedIn(_))) {
            watch.update_value(|w| *w += 1);
            idle_timer(auth, last_input, watch, watch.get_value());
        }
    });
    on_cleanup(move || {
        keys.remove();
        pointer.remove();
    });

    move || {
        match auth.state.get() {
        Some(SessionState::SignedIn(view)) => view! {
            <div class="session" data-test="session" data-person=view.person.name.clone()>
                <span class="operator" title=move || ui.t(Key::Operator)>{view.person.display_name.clone()}</span>
                <button class="ghost" data-test="sign-out" on:click=move |_| auth.end(EndSession::SignOut)>
                    {move || ui.t(Key::SignOut)}
                    " "
                    <kbd>"Ctrl+Shift+L"</kbd>
                </button>
            </div>
        }
        .into_any(),
        Some(SessionState::SetUp { operator }) => view! {
            <div class="session" data-test="session" data-set-up="true">
                <span class="operator" title=move || ui.t(Key::SetUpMode)>{operator}</span>
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    }
    }
}
