//! Settings: language, where the data lives, and the keyboard map.

use guardia_domain::governance::Permission;
use guardia_ipc::{Lang, SessionState};

use crate::governance::{PasswordPanel, PeoplePanel, PolicyPanel, RoutingPanel};
use leptos::prelude::*;

use crate::app::{LangSwitch, Ui};
use crate::i18n::Key;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<crate::session::Auth>();
    let info = move || ui.info.get();
    let fact = move |label: Key, value: fn(&guardia_ipc::AppInfo) -> String, test: &'static str| {
        view! {
            <dt>{move || ui.t(label)}</dt>
            <dd class="mono" data-test=test>{move || info().map(|i| value(&i)).unwrap_or_default()}</dd>
        }
    };
    let shortcuts = [
        ("Alt+1 … Alt+6", Key::ShortcutNav),
        ("N", Key::ShortcutNew),
        ("I", Key::ShortcutNeedsMe),
        ("S A B X", Key::ShortcutDecide),
        ("/", Key::ShortcutSearch),
        ("↑ ↓", Key::ShortcutMove),
        ("R", Key::ShortcutRefresh),
        ("Esc", Key::ShortcutClose),
        ("Ctrl+Enter", Key::ShortcutSubmit),
    ]
    .map(|(keys, what)| view! { <tr><td><kbd>{keys}</kbd></td><td>{move || ui.t(what)}</td></tr> })
    .collect_view();

    view! {
        <section class="settings" data-test="page-settings">
            <h1>{move || ui.t(Key::NavSettings)}</h1>
            <h2>{move || ui.t(Key::SettingsLanguage)}</h2>
            <LangSwitch />
            <p class="muted">
                {move || match ui.lang.get() {
                    Lang::Ko => "선택한 언어는 이 데이터 폴더에 저장되어 다음 실행에도 유지됩니다.",
                    Lang::En => "The choice is saved with this data directory and kept on the next start.",
                }}
            </p>
            <h2>{move || ui.t(Key::SettingsAbout)}</h2>
            <dl class="facts">
                {fact(Key::Version, |i| i.version.clone(), "info-version")}
                {fact(Key::Commit, |i| i.commit.clone(), "info-commit")}
                {fact(Key::Operator, |i| i.operator.clone(), "info-operator")}
                {fact(Key::DataDir, |i| i.data_dir.clone(), "info-data-dir")}
                {fact(Key::Database, |i| i.database.clone(), "info-database")}
            </dl>
            <Show when=move || matches!(auth.state.get(), Some(SessionState::SignedIn(_)))>
                <h2>{move || ui.t(Key::SettingsPassword)}</h2>
                <PasswordPanel />
            </Show>
            <h2>{move || ui.t(Key::SettingsRouting)}</h2>
            <RoutingPanel />
            <h2>{move || ui.t(Key::SettingsPolicy)}</h2>
            <PolicyPanel />
            <Show when=move || auth.may(Permission::ManagePeople)>
                <h2>{move || ui.t(Key::SettingsPeople)}</h2>
                <PeoplePanel />
            </Show>
            <h2>{move || ui.t(Key::SettingsShortcuts)}</h2>
            <table class="shortcuts">{shortcuts}</table>
        </section>
    }
}
