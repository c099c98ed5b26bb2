//! The window's frame: top bar, navigation, status bar, notices, and start-up states.

use guardia_domain::governance::Permission;
use guardia_ipc::{
    AppInfo, AppInfoGet, IpcError, Lang, Preferences, PreferencesGet, PreferencesSet,
};
use leptos::ev;
use leptos::prelude::*;

use crate::audit::AuditPage;
use crate::i18n::{Key, tr};
use crate::inventory::InventoryPage;
use crate::ipc;
use crate::reviews::ReviewsPage;
use crate::session::{Phase, SessionCorner, SignInScreen};
use crate::settings::SettingsPage;
use crate::tasks::TasksPage;
use crate::widgets::{ErrorPanel, shown};

/// What every screen may read: language, console facts, and the notice line.
#[derive(Clone, Copy)]
pub struct Ui {
    pub lang: RwSignal<Lang>,
    pub info: RwSignal<Option<AppInfo>>,
    notice: RwSignal<Option<Notice>>,
}

#[derive(Clone, PartialEq)]
struct Notice {
    serial: u64,
    text: String,
    is_error: bool,
}

/// How long a notice stays up. Errors stay until dismissed or replaced.
const NOTICE_MS: u64 = 6_000;

impl Ui {
    pub fn t(self, key: Key) -> &'static str {
        tr(self.lang.get(), key)
    }

    /// One of a domain value's (Korean, English) names, in the chosen language.
    pub fn pick(self, (ko, en): (&'static str, &'static str)) -> &'static str {
        match self.lang.get() {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }

    /// Shows a short confirmation; it fades on its own.
    pub fn notify(self, text: String) {
        self.show(text, false);
    }

    /// Shows an error until the operator dismisses it or another notice replaces it.
    pub fn notify_error(self, error: &IpcError) {
        let lang = self.lang.get_untracked();
        let headline = crate::i18n::error_headline(lang, error.code);
        self.show(format!("{headline}: {}", shown(&error.message)), true);
    }

    fn show(self, text: String, is_error: bool) {
        let serial = self.notice.get_untracked().map_or(1, |n| n.serial + 1);
        self.notice.set(Some(Notice {
            serial,
            text,
            is_error,
        }));
        if !is_error {
            let notice = self.notice;
            set_timeout(
                move || {
                    if notice.get_untracked().is_some_and(|n| n.serial == serial) {
                        notice.set(None);
                    }
                },
                std::time::Duration::from_millis(NOTICE_MS),
            );
        }
    }

    /// Switches the language at once and saves it for next time.
    pub fn set_lang(self, lang: Lang) {
        self.lang.set(lang);
        leptos::task::spawn_local(async move {
            if let Err(error) = ipc::call::<PreferencesSet>(Preferences { lang }).await {
                self.notify_error(&error);
            }
        });
    }
}

/// The console's sections, in navigation order (Alt+1 … Alt+7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Tasks,
    Reviews,
    Rollouts,
    Incidents,
    Audit,
    Inventory,
    Settings,
}

impl Page {
    const ALL: [Page; 7] = [
        Page::Tasks,
        Page::Reviews,
        Page::Rollouts,
        Page::Incidents,
        Page::Audit,
        Page::Inventory,
        Page::Settings,
    ];

    fn label(self) -> Key {
        match self {
            Page::Tasks => Key::NavTasks,
            Page::Reviews => Key::NavReviews,
            Page::Rollouts => Key::NavRollouts,
            Page::Incidents => Key::NavIncidents,
            Page::Audit => Key::NavAudit,
            Page::Inventory => Key::NavInventory,
            Page::Settings => Key::NavSettings,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Page::Tasks => "tasks",
            Page::Reviews => "reviews",
            Page::Rollouts => "rollouts",
            Page::Incidents => "incidents",
            Page::Audit => "audit",
            Page::Inventory => "inventory",
            Page::Settings => "settings",
        }
    }

    /// The keys this screen answers, for the status bar (Alt+1–7 work everywhere).
    fn keys(self) -> Key {
        match self {
            Page::Tasks => Key::StatusHint,
            Page::Audit => Key::AuditHint,
            Page::Inventory => Key::StatusInventory,
            Page::Reviews => Key::StatusReviews,
            Page::Rollouts => Key::StatusRollouts,
            Page::Incidents => Key::StatusIncidents,
            Page::Settings => Key::StatusOther,
        }
    }

    /// The permission that opens this section, if any.
    fn needs(self) -> Option<Permission> {
        match self {
            Page::Tasks | Page::Reviews | Page::Rollouts => Some(Permission::ReadTasks),
            Page::Incidents => Some(Permission::ReadIncidents),
            Page::Audit => Some(Permission::ReadAudit),
            Page::Inventory => Some(Permission::ReadInventory),
            Page::Settings => None,
        }
    }
}

/// Which section the window shows (screens switch it, e.g. a task's "Open review").
#[derive(Clone, Copy)]
pub struct Nav {
    pub page: RwSignal<Page>,
}

/// Until the saved preference arrives, guess from the webview's language.
fn initial_lang() -> Lang {
    let guess = window().navigator().language().unwrap_or_default();
    if guess.to_ascii_lowercase().starts_with("ko") {
        Lang::Ko
    } else {
        Lang::En
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ui = Ui {
        lang: RwSignal::new(initial_lang()),
        info: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    provide_context(ui);

    // The document language picks the right CJK glyphs and screen-reader voice.
    Effect::new(move |_| {
        let code = ui.lang.get().code();
        if let Some(root) = document().document_element()
            && root.set_attribute("lang", code).is_err()
        {
            leptos::logging::warn!("cannot set the document language");
        }
    });
    let auth = crate::session::provide();
    // Coarse, so that a refreshed session (same phase) does not rebuild the console.
    let phase = Memo::new(move |_| auth.phase());

    view! {
        {move || match (phase.get(), auth.error.get()) {
            (Phase::Loading, Some(error)) => view! {
                <div class="splash">
                    <ErrorPanel
                        title=Signal::derive(move || ui.t(Key::StartupFailed).to_owned())
                        error=error
                        retry=Callback::new(move |()| auth.reload())
                    />
                </div>
            }
            .into_any(),
            (Phase::Loading, None) => view! { <Splash /> }.into_any(),
            (Phase::SignIn, _) => view! { <SignInScreen /> }.into_any(),
            (Phase::Open, _) => view! { <Started /> }.into_any(),
        }}
    }
}

/// Shown while the first answers are on their way.
#[component]
fn Splash() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <div class="splash" data-test="splash">
            <div class="spinner"></div>
            <p>{move || ui.t(Key::Loading)}</p>
        </div>
    }
}

/// The console once someone may use it: preferences and facts first, then the frame.
#[component]
fn Started() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let startup = LocalResource::new(move || async move {
        let preferences = ipc::call::<PreferencesGet>(()).await?;
        let info = ipc::call::<AppInfoGet>(()).await?;
        Ok::<_, IpcError>((preferences, info))
    });
    Effect::new(move |_| {
        if let Some(Ok((preferences, info))) = startup.get() {
            ui.lang.set(preferences.lang);
            ui.info.set(Some(info));
        }
    });

    view! {
        {move || match startup.get() {
            None => view! { <Splash /> }.into_any(),
            Some(Err(error)) => view! {
                <div class="splash">
                    <ErrorPanel
                        title=Signal::derive(move || ui.t(Key::StartupFailed).to_owned())
                        error=error
                        retry=Callback::new(move |()| startup.refetch())
                    />
                </div>
            }
            .into_any(),
            Some(Ok(_)) => view! { <Shell /> }.into_any(),
        }}
    }
}

#[component]
fn Shell() -> impl IntoView {
    let ui = expect_context::<Ui>();
    crate::live::provide();
    crate::approvals::provide();
    crate::reviews::provide();
    crate::rollouts::provide();
    let page = RwSignal::new(Page::Tasks);
    provide_context(Nav { page });
    crate::incidents::provide();

    let keys = window_event_listener(ev::keydown, move |ev| {
        if !ev.alt_key() || ev.ctrl_key() || ev.meta_key() {
            return;
        }
        let chosen = ev
            .code()
            .strip_prefix("Digit")
            .and_then(|d| d.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| Page::ALL.get(i).copied());
        if let Some(chosen) = chosen {
            ev.prevent_default();
            page.set(chosen);
        }
    });
    on_cleanup(move || keys.remove());

    // Sections the signed-in person's roles do not open are not offered. Only a courtesy:
    // the backend refuses their commands anyway (Alt+N still reaches them, and says so).
    let auth = expect_context::<crate::session::Auth>();
    let nav = Page::ALL
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            view! {
                <Show when=move || p.needs().is_none_or(|needed| auth.may(needed))>
                    <button
                        class="nav-item"
                        class:active=move || page.get() == p
                        data-test=format!("nav-{}", p.slug())
                        on:click=move |_| page.set(p)
                    >
                        <span>{move || ui.t(p.label())}</span>
                        {(p == Page::Tasks).then(|| view! { <crate::approvals::InboxBadge /> })}
                        <kbd>{format!("Alt+{}", i + 1)}</kbd>
                    </button>
                </Show>
            }
        })
        .collect_view();

    view! {
        <div class="app" data-test="app">
            <header class="topbar">
                <div class="brand">
                    <img src="icon.svg" alt="" width="26" height="26" />
                    <span class="brand-name">"GUARDiA"</span>
                    <span class="brand-sub">{move || ui.t(Key::Tagline)}</span>
                </div>
                <div class="spacer"></div>
                <crate::rollouts::KillSwitchButton />
                <SessionCorner />
                <LangSwitch />
            </header>
            <nav class="sidebar">{nav}</nav>
            <main class="content">
                <crate::rollouts::KillSwitchBanner />
                <crate::incidents::IncidentBanner />
                {move || match page.get() {
                    Page::Tasks => view! { <TasksPage /> }.into_any(),
                    Page::Audit => view! { <AuditPage /> }.into_any(),
                    Page::Inventory => view! { <InventoryPage /> }.into_any(),
                    Page::Reviews => view! { <ReviewsPage /> }.into_any(),
                    Page::Settings => view! { <SettingsPage /> }.into_any(),
                    Page::Rollouts => view! { <crate::rollouts::RolloutsPage /> }.into_any(),
                    Page::Incidents => view! { <crate::incidents::IncidentsPage /> }.into_any(),
                }}
            </main>
            <footer class="statusbar" data-test="statusbar" data-page=move || page.get().slug()>
                <span data-test="keys">{move || ui.t(page.get().keys())}</span>
                <span class="spacer"></span>
                <LiveBadge />
            </footer>
            <NoticeLine />
        </div>
    }
}

#[component]
pub fn LangSwitch() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let choice = move |lang: Lang, label: &'static str| {
        view! {
            <button
                class="lang"
                class:active=move || ui.lang.get() == lang
                aria-pressed=move || (ui.lang.get() == lang).to_string()
                data-test=format!("lang-{}", lang.code())
                on:click=move |_| ui.set_lang(lang)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="lang-switch" role="group" aria-label="Language / 언어">
            {choice(Lang::Ko, "한국어")}
            {choice(Lang::En, "English")}
        </div>
    }
}

/// Whether pushed updates are arriving (the window never polls; without the feed it would
/// show stale data, so say so).
#[component]
fn LiveBadge() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<crate::live::Live>();
    view! {
        <span
            class="live-badge"
            class:on=move || live.connected.get()
            data-test="live"
            data-connected=move || live.connected.get().to_string()
            data-feed-count=move || live.changes.get().to_string()
        >
            {move || if live.connected.get() { ui.t(Key::LiveOn) } else { ui.t(Key::LiveOff) }}
        </span>
    }
}

#[component]
fn NoticeLine() -> impl IntoView {
    let ui = expect_context::<Ui>();
    move || {
        ui.notice.get().map(|notice| {
            view! {
                <div
                    class="notice"
                    class:error=notice.is_error
                    role=if notice.is_error { "alert" } else { "status" }
                    data-test="notice"
                >
                    <span>{notice.text}</span>
                    <button class="ghost" on:click=move |_| ui.notice.set(None) aria-label="close">
                        "×"
                    </button>
                </div>
            }
        })
    }
}
