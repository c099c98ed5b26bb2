//! The IPC commands, generated: one Tauri adapter per row of the command table
//! (`guardia_ipc::for_each_command!`). Each converts nothing itself and calls
//! [`Api::invoke`](guardia_api::Api::invoke), which checks the caller's permission and runs
//! the operation; `invoke` only compiles for a command the operation table binds, so a
//! command cannot be declared without a permission and a handler.

use guardia_ipc::{self as ipc, Args, Reply};
use tauri::State;

use crate::Console;

macro_rules! adapters {
    ($( $(#[$doc:meta])* $ty:ident = $name:ident : $args:ty => $output:ty; )*) => {
        $(
            #[tauri::command]
            async fn $name(console: State<'_, Console>, args: Args<ipc::$ty>) -> Reply<ipc::$ty> {
                console.invoke::<ipc::$ty>(args).await
            }
        )*

        /// Every command name the shell answers, in registration order (for the contract test).
        #[cfg(test)]
        const REGISTERED: &[&str] = &[$(stringify!($name)),*];

        pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name,)* session_get, sign_in, session_end]
        }
    };
}

guardia_ipc::for_each_command!(adapters);

// The session commands decide who the caller is, so they are not in the operation table.

#[tauri::command]
async fn session_get(
    console: State<'_, Console>,
    args: Args<ipc::session::SessionGet>,
) -> Reply<ipc::session::SessionGet> {
    let () = args;
    console.session_get().await
}

#[tauri::command]
async fn sign_in(
    console: State<'_, Console>,
    args: Args<ipc::session::SignIn>,
) -> Reply<ipc::session::SignIn> {
    console.sign_in(args).await
}

#[tauri::command]
async fn session_end(
    console: State<'_, Console>,
    args: Args<ipc::session::SessionEndCmd>,
) -> Reply<ipc::session::SessionEndCmd> {
    console.session_end(args).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_descriptor_has_an_adapter_in_table_order() {
        assert_eq!(REGISTERED, ipc::COMMANDS);
    }

    /// The window may call exactly GUARDiA's commands and listen to the feed: each command
    /// needs `allow-<name>` in the capability; the only core permissions are the event
    /// listen/unlisten the feed needs. No plugin may sneak in.
    #[test]
    fn the_main_capability_grants_exactly_our_commands_and_the_feed() {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
        let granted: BTreeSet<String> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        let mut expected: BTreeSet<String> = ipc::COMMANDS
            .iter()
            .chain(ipc::session::NAMES)
            .map(|name| format!("allow-{}", name.replace('_', "-")))
            .collect();
        expected.insert("core:event:allow-listen".to_owned());
        expected.insert("core:event:allow-unlisten".to_owned());
        assert_eq!(granted, expected);
    }
}
