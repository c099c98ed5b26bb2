//! Settings for people and governance: your own password; for admins the people of the
//! console (add, roles, lock), the sign-in policy, and every system's approval routing with
//! the mappings nobody has confirmed for 30 days. The backend checks every change; the
//! window only hides what the signed-in person's roles would be refused.

use guardia_domain::governance::{Permission, RoleGrant, Scope, SignInPolicy};
use guardia_ipc::{
    AccountLock, PasswordChange, PasswordChangeCmd, PersonAdd, PersonInput, PersonList,
    PersonLockSet, PersonView, RouteChange, RulesChange, SignInPolicyGet, SignInPolicySet,
    SystemRouteChange, SystemRouteSet, SystemRulesChange, SystemRulesList, SystemRulesSet, Topic,
};
use leptos::prelude::*;

use crate::app::Ui;
use crate::i18n::Key;
use crate::ipc;
use crate::live::Live;
use crate::session::Auth;
use crate::widgets::{local_time, shown};

/// `role@scope` words, as the CLI writes them (`team_lead@행정안전부/hr-portal`).
fn parse_roles(text: &str) -> Result<Vec<RoleGrant>, String> {
    text.split_whitespace()
        .map(|word| {
            let (role, scope) = word.split_once('@').unwrap_or((word, "*"));
            let role = guardia_domain::governance::Role::parse(role)
                .ok_or_else(|| format!("`{role}`?"))?;
            let scope = Scope::parse(scope).ok_or_else(|| format!("`{scope}`?"))?;
            Ok(RoleGrant { role, scope })
        })
        .collect()
}

fn roles_text(roles: &[RoleGrant]) -> String {
    roles
        .iter()
        .map(|g| format!("{}@{}", g.role, g.scope))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Changing one's own password: current, new, again.
#[component]
pub fn PasswordPanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let change = Action::new_local(|change: &(String, String)| {
        let change = PasswordChange {
            current: change.0.clone(),
            new: change.1.clone(),
        };
        async move { ipc::call::<PasswordChangeCmd>(change).await }
    });
    Effect::new(move |_| match change.value().get() {
        Some(Ok(())) => {
            current.set(String::new());
            new.set(String::new());
            again.set(String::new());
            error.set(None);
            ui.notify(ui.t(Key::PasswordChanged).to_owned());
        }
        Some(Err(e)) => error.set(Some(shown(&e.message))),
        None => {}
    });
    let submit = move || {
        if new.get_untracked() != again.get_untracked() {
            error.set(Some(ui.t(Key::PasswordsDiffer).to_owned()));
            return;
        }
        change.dispatch((current.get_untracked(), new.get_untracked()));
    };
    let field = move |label: Key, value: RwSignal<String>, test: &'static str| {
        view! {
            <label>
                <span>{move || ui.t(label)}</span>
                <input
                    type="password"
                    autocomplete="off"
                    data-test=test
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
            </label>
        }
    };
    view! {
        <form
            class="stack narrow"
            data-test="password-form"
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
        >
            {field(Key::PasswordCurrent, current, "password-current")}
            {field(Key::PasswordNew, new, "password-new")}
            {field(Key::PasswordAgain, again, "password-again")}
            <p class="field-error" role="alert" data-test="password-error">{move || error.get()}</p>
            <button type="submit" class="primary" disabled=move || change.pending().get()>
                {move || ui.t(Key::PasswordChange)}
            </button>
        </form>
    }
}

/// The people of the console (admins): who holds which roles where, locks, and adding.
#[component]
pub fn PeoplePanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let people = LocalResource::new(move || {
        live.track(Topic::Console);
        async move { ipc::call::<PersonList>(()).await }
    });
    let name = RwSignal::new(String::new());
    let display = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let roles = RwSignal::new(String::from("requester"));
    let error = RwSignal::new(None::<String>);
    let add = Action::new_local(|input: &PersonInput| {
        let input = input.clone();
        async move { ipc::call::<PersonAdd>(input).await }
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(person)) => {
            name.set(String::new());
            display.set(String::new());
            password.set(String::new());
            error.set(None);
            people.refetch();
            ui.notify(format!("{} {}", person.name, ui.t(Key::PersonAdded)));
        }
        Some(Err(e)) => error.set(Some(shown(&e.message))),
        None => {}
    });
    let lock = Action::new_local(|lock: &AccountLock| {
        let lock = lock.clone();
        async move { ipc::call::<PersonLockSet>(lock).await }
    });
    Effect::new(move |_| match lock.value().get() {
        Some(Ok(_)) => people.refetch(),
        Some(Err(e)) => ui.notify_error(&e),
        None => {}
    });
    let submit = move || match parse_roles(&roles.get_untracked()) {
        Ok(grants) => {
            add.dispatch(PersonInput {
                name: name.get_untracked(),
                display_name: display.get_untracked(),
                password: password.get_untracked(),
                roles: grants,
            });
        }
        Err(bad) => error.set(Some(format!("{} {bad}", ui.t(Key::RolesHint)))),
    };
    let row = move |person: PersonView| {
        let locked = person.locked_reason.is_some();
        let who = person.name.clone();
        let state = match (&person.locked_reason, person.locked_until) {
            (Some(reason), _) => format!("{}: {}", ui.t(Key::AccountLocked), shown(reason)),
            (None, Some(until)) => format!("{} {}", ui.t(Key::LockedOutUntil), local_time(until)),
            (None, None) => ui.t(Key::AccountActive).to_owned(),
        };
        view! {
            <tr data-test="person-row" data-name=person.name.clone()>
                <td class="mono">{person.name.clone()}</td>
                <td>{shown(&person.display_name)}</td>
                <td class="mono">{roles_text(&person.roles)}</td>
                <td>{state}</td>
                <td>
                    <button
                        class="ghost"
                        data-test="person-lock"
                        on:click=move |_| {
                            let reason = if locked {
                                String::new()
                            } else {
                                window()
                                    .prompt_with_message(ui.t(Key::LockReason))
                                    .ok()
                                    .flatten()
                                    .unwrap_or_default()
                            };
                            lock.dispatch(AccountLock { name: who.clone(), locked: !locked, reason });
                        }
                    >
                        {move || ui.t(if locked { Key::Unlock } else { Key::Lock })}
                    </button>
                </td>
            </tr>
        }
    };
    view! {
        <div data-test="people-panel">
            {move || match people.get() {
                None => view! { <p class="loading">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="field-error">{shown(&e.message)}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="task-table">
                        <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                    </table>
                }
                .into_any(),
            }}
            <form
                class="row wrap"
                data-test="person-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <input placeholder=move || ui.t(Key::SignInName) data-test="person-name"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                <input placeholder=move || ui.t(Key::DisplayName) data-test="person-display"
                    prop:value=move || display.get() on:input=move |ev| display.set(event_target_value(&ev)) />
                <input type="password" autocomplete="off" placeholder=move || ui.t(Key::SignInPassword)
                    data-test="person-password"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                <input placeholder=move || ui.t(Key::RolesHint) data-test="person-roles"
                    prop:value=move || roles.get() on:input=move |ev| roles.set(event_target_value(&ev)) />
                <button type="submit" class="primary" disabled=move || add.pending().get()>
                    {move || ui.t(Key::AddPerson)}
                </button>
            </form>
            <p class="field-error" role="alert" data-test="person-error">{move || error.get()}</p>
        </div>
    }
}

/// Lockout and idle-lock rules; an admin edits them.
#[component]
pub fn PolicyPanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let auth = expect_context::<Auth>();
    let policy = LocalResource::new(|| async { ipc::call::<SignInPolicyGet>(()).await });
    let edit = RwSignal::new(None::<SignInPolicy>);
    Effect::new(move |_| {
        if let Some(Ok(p)) = policy.get() {
            edit.set(Some(p));
        }
    });
    let save = Action::new_local(|p: &SignInPolicy| {
        let p = *p;
        async move { ipc::call::<SignInPolicySet>(p).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => ui.notify(ui.t(Key::Saved).to_owned()),
        Some(Err(e)) => ui.notify_error(&e),
        None => {}
    });
    let may = move || auth.may(Permission::ManagePeople);
    let number = move |label: Key,
                       get: fn(&SignInPolicy) -> u32,
                       set: fn(&mut SignInPolicy, u32),
                       test: &'static str| {
        view! {
            <label>
                <span>{move || ui.t(label)}</span>
                <input
                    type="number"
                    min="1"
                    data-test=test
                    disabled=move || !may()
                    prop:value=move || edit.get().map(|p| get(&p).to_string()).unwrap_or_default()
                    on:input=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse::<u32>() {
                            edit.update(|p| if let Some(p) = p { set(p, n) });
                        }
                    }
                />
            </label>
        }
    };
    view! {
        <form class="row wrap" data-test="policy-form" on:submit=move |ev| {
            ev.prevent_default();
            if let Some(p) = edit.get_untracked() {
                save.dispatch(p);
            }
        }>
            {number(Key::PolicyFailures, |p| p.max_failures, |p, n| p.max_failures = n, "policy-failures")}
            {number(Key::PolicyLockout, |p| p.lockout_minutes, |p, n| p.lockout_minutes = n, "policy-lockout")}
            {number(Key::PolicyIdle, |p| p.idle_lock_minutes, |p, n| p.idle_lock_minutes = n, "policy-idle")}
            <Show when=may>
                <button type="submit" class="primary">{move || ui.t(Key::Save)}</button>
            </Show>
        </form>
    }
}

/// Every system's approval routing; `!` marks a mapping unconfirmed for 30 days. The owner
/// marks themselves away, names the deputy and confirms; an admin sets owner and SLA.
#[component]
pub fn RoutingPanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let live = expect_context::<Live>();
    let auth = expect_context::<Auth>();
    let rules = LocalResource::new(move || {
        live.track(Topic::Tasks);
        async move { ipc::call::<SystemRulesList>(()).await }
    });
    let only_unconfirmed = RwSignal::new(false);
    let route = Action::new_local(|change: &SystemRouteChange| {
        let change = change.clone();
        async move { ipc::call::<SystemRouteSet>(change).await }
    });
    let set = Action::new_local(|change: &SystemRulesChange| {
        let change = change.clone();
        async move { ipc::call::<SystemRulesSet>(change).await }
    });
    Effect::new(move |_| {
        let failed = match (route.value().get(), set.value().get()) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(e),
            _ => None,
        };
        if let Some(e) = failed {
            ui.notify_error(&e);
        }
    });
    let me = move || crate::approvals::me(auth, ui);
    let admin = move || auth.may(Permission::EditGovernance);
    view! {
        <div data-test="routing-panel">
            <label class="inline">
                <input type="checkbox" data-test="only-unconfirmed"
                    prop:checked=move || only_unconfirmed.get()
                    on:change=move |ev| only_unconfirmed.set(event_target_checked(&ev)) />
                {move || ui.t(Key::OnlyUnconfirmed)}
            </label>
            {move || match rules.get() {
                None => view! { <p class="loading">{ui.t(Key::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="field-error">{shown(&e.message)}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">{ui.t(Key::NoRouting)}</p> }.into_any(),
                Some(Ok(list)) => {
                    let rows = list
                        .into_iter()
                        .filter(|r| !only_unconfirmed.get() || r.unconfirmed)
                        .map(|r| {
                            let system = r.system.clone();
                            let mine = r.owner.is_some() && r.owner == me();
                            let away = r.owner_away;
                            let s1 = system.clone();
                            let s2 = system.clone();
                            let s3 = system.clone();
                            let s4 = system.clone();
                            view! {
                                <tr data-test="routing-row" data-system=system.clone() data-unconfirmed=r.unconfirmed.to_string()>
                                    <td>{if r.unconfirmed { "!" } else { "" }}</td>
                                    <td class="mono">{system.clone()}</td>
                                    <td>{r.owner.clone().unwrap_or_else(|| "—".into())}{away.then(|| format!(" ({})", ui.t(Key::Away)))}</td>
                                    <td>{r.deputy.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{r.supervisor.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td class="mono">{format!("{} s", r.sla_seconds)}</td>
                                    <td>{if r.sensitive { ui.t(Key::Sensitive) } else { "" }}</td>
                                    <td class="mono">{r.confirmed_at.map(local_time).unwrap_or_else(|| "—".into())}</td>
                                    <td>
                                        <Show when=move || mine>
                                            <button class="ghost" data-test="route-away" on:click={
                                                let s = s1.clone();
                                                move |_| { route.dispatch(SystemRouteChange { system: s.clone(), change: RouteChange::Away { away: !away } }); }
                                            }>{move || ui.t(if away { Key::Back } else { Key::Away })}</button>
                                            <button class="ghost" data-test="route-deputy" on:click={
                                                let s = s2.clone();
                                                move |_| {
                                                    if let Ok(Some(who)) = window().prompt_with_message(ui.t(Key::DeputyPrompt)) {
                                                        let person = (!who.trim().is_empty()).then(|| who.trim().to_owned());
                                                        route.dispatch(SystemRouteChange { system: s.clone(), change: RouteChange::Deputy { person } });
                                                    }
                                                }
                                            }>{move || ui.t(Key::Deputy)}</button>
                                            <button class="ghost" data-test="route-confirm" on:click={
                                                let s = s3.clone();
                                                move |_| { route.dispatch(SystemRouteChange { system: s.clone(), change: RouteChange::Confirm }); }
                                            }>{move || ui.t(Key::Confirm)}</button>
                                        </Show>
                                        <Show when=admin>
                                            <button class="ghost" data-test="route-owner" on:click={
                                                let s = s4.clone();
                                                move |_| {
                                                    if let Ok(Some(who)) = window().prompt_with_message(ui.t(Key::OwnerPrompt)) {
                                                        let person = (!who.trim().is_empty()).then(|| who.trim().to_owned());
                                                        set.dispatch(SystemRulesChange { system: s.clone(), change: RulesChange::Owner { person } });
                                                    }
                                                }
                                            }>{move || ui.t(Key::Owner)}</button>
                                        </Show>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <table class="task-table">
                            <thead><tr>
                                <th></th>
                                <th>{move || ui.t(Key::ColSystem)}</th>
                                <th>{move || ui.t(Key::Owner)}</th>
                                <th>{move || ui.t(Key::Deputy)}</th>
                                <th>{move || ui.t(Key::Supervisor)}</th>
                                <th>"SLA"</th>
                                <th></th>
                                <th>{move || ui.t(Key::ConfirmedAt)}</th>
                                <th></th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}
