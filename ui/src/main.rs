//! # guardia-ui — the console window
//!
//! Leptos in client-side-rendering mode, compiled to wasm by trunk and embedded in the
//! desktop binary. The UI sends intents and shows state; it never decides. Everything it
//! knows comes through [`ipc::call`] with a `guardia-ipc` descriptor, and the only logic it
//! shares with the backend is the domain's pure validation, used to show form errors as
//! you type (the backend validates again).

mod app;
mod approvals;
mod audit;
mod governance;
mod i18n;
mod incidents;
mod inventory;
mod ipc;
mod live;
mod reviews;
mod rollouts;
mod session;
mod settings;
mod tasks;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
