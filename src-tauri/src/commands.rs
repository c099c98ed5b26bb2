//! The IPC commands: each converts nothing itself, calls one `Api` method, and lets `?` turn
//! an `ApiError` into the `{code, message}` the UI receives.

use guardia_api::{CheckpointReason, VerifyTrigger};
use guardia_ipc::{self as ipc, Args, Reply};
use tauri::State;

use crate::Console;

/// Registers the handlers and, from the same list, `REGISTERED` for the contract test.
/// Each entry also names its `guardia_ipc` descriptor, and a compile-time check makes sure
/// the function's name is the descriptor's wire name.
macro_rules! register {
    ($($command:ident => $descriptor:ty),* $(,)?) => {
        $(
            const _: () = assert!(
                same_name(stringify!($command), <$descriptor as ipc::Command>::NAME),
                concat!("command fn `", stringify!($command), "` does not match its descriptor")
            );
        )*

        /// Every command name the shell answers, in registration order (for the contract test).
        #[cfg(test)]
        const REGISTERED: &[&str] = &[$(stringify!($command)),*];

        pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($command),*]
        }
    };
}

const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

register! {
    task_create => ipc::TaskCreate,
    task_list => ipc::TaskList,
    task_get => ipc::TaskGet,
    preferences_get => ipc::PreferencesGet,
    preferences_set => ipc::PreferencesSet,
    app_info_get => ipc::AppInfoGet,
    audit_list => ipc::AuditList,
    audit_status_get => ipc::AuditStatusGet,
    audit_verify => ipc::AuditVerify,
    audit_checkpoint => ipc::AuditCheckpoint,
    audit_checkpoint_export => ipc::AuditCheckpointExport,
    audit_checkpoint_import => ipc::AuditCheckpointImport,
    audit_acknowledge => ipc::AuditAcknowledge,
    audit_report_export => ipc::AuditReportExport,
    server_list => ipc::ServerList,
    server_get => ipc::ServerGet,
    server_save => ipc::ServerSaveCmd,
    server_delete => ipc::ServerDelete,
    inventory_import => ipc::InventoryImport,
    inventory_export => ipc::InventoryExport,
    credential_list => ipc::CredentialList,
    credential_set => ipc::CredentialSet,
    credential_delete => ipc::CredentialDelete,
    host_key_fetch => ipc::HostKeyFetch,
    host_key_trust => ipc::HostKeyTrust,
    host_key_forget => ipc::HostKeyForget,
    ssh_check => ipc::SshCheck,
    ssh_run => ipc::SshRun,
}

#[tauri::command]
async fn task_create(
    console: State<'_, Console>,
    args: Args<ipc::TaskCreate>,
) -> Reply<ipc::TaskCreate> {
    Ok(console.api()?.task_create(args).await?)
}

#[tauri::command]
async fn task_list(console: State<'_, Console>, args: Args<ipc::TaskList>) -> Reply<ipc::TaskList> {
    Ok(console.api()?.task_list(args).await?)
}

#[tauri::command]
async fn task_get(console: State<'_, Console>, args: Args<ipc::TaskGet>) -> Reply<ipc::TaskGet> {
    Ok(console.api()?.task_get(args).await?)
}

#[tauri::command]
async fn preferences_get(
    console: State<'_, Console>,
    args: Args<ipc::PreferencesGet>,
) -> Reply<ipc::PreferencesGet> {
    let () = args;
    Ok(console.api()?.preferences_get().await?)
}

#[tauri::command]
async fn preferences_set(
    console: State<'_, Console>,
    args: Args<ipc::PreferencesSet>,
) -> Reply<ipc::PreferencesSet> {
    Ok(console.api()?.preferences_set(args).await?)
}

#[tauri::command]
async fn app_info_get(
    console: State<'_, Console>,
    args: Args<ipc::AppInfoGet>,
) -> Reply<ipc::AppInfoGet> {
    let () = args;
    Ok(console.api()?.app_info())
}

#[tauri::command]
async fn audit_list(
    console: State<'_, Console>,
    args: Args<ipc::AuditList>,
) -> Reply<ipc::AuditList> {
    Ok(console.api()?.audit_list(args).await?)
}

#[tauri::command]
async fn audit_status_get(
    console: State<'_, Console>,
    args: Args<ipc::AuditStatusGet>,
) -> Reply<ipc::AuditStatusGet> {
    let () = args;
    Ok(console.api()?.audit_status().await?)
}

#[tauri::command]
async fn audit_verify(
    console: State<'_, Console>,
    args: Args<ipc::AuditVerify>,
) -> Reply<ipc::AuditVerify> {
    let () = args;
    Ok(console
        .api()?
        .audit_verify_start(VerifyTrigger::Manual)
        .await?)
}

#[tauri::command]
async fn audit_checkpoint(
    console: State<'_, Console>,
    args: Args<ipc::AuditCheckpoint>,
) -> Reply<ipc::AuditCheckpoint> {
    let () = args;
    Ok(console
        .api()?
        .audit_checkpoint(CheckpointReason::OnDemand)
        .await?)
}

#[tauri::command]
async fn audit_checkpoint_export(
    console: State<'_, Console>,
    args: Args<ipc::AuditCheckpointExport>,
) -> Reply<ipc::AuditCheckpointExport> {
    Ok(console.api()?.audit_checkpoint_export(args).await?)
}

#[tauri::command]
async fn audit_checkpoint_import(
    console: State<'_, Console>,
    args: Args<ipc::AuditCheckpointImport>,
) -> Reply<ipc::AuditCheckpointImport> {
    Ok(console.api()?.audit_checkpoint_import(args).await?)
}

#[tauri::command]
async fn audit_acknowledge(
    console: State<'_, Console>,
    args: Args<ipc::AuditAcknowledge>,
) -> Reply<ipc::AuditAcknowledge> {
    Ok(console.api()?.audit_acknowledge(args).await?)
}

#[tauri::command]
async fn audit_report_export(
    console: State<'_, Console>,
    args: Args<ipc::AuditReportExport>,
) -> Reply<ipc::AuditReportExport> {
    Ok(console.api()?.audit_report_export(args).await?)
}

#[tauri::command]
async fn server_list(
    console: State<'_, Console>,
    args: Args<ipc::ServerList>,
) -> Reply<ipc::ServerList> {
    Ok(console.api()?.server_list(args).await?)
}

#[tauri::command]
async fn server_get(
    console: State<'_, Console>,
    args: Args<ipc::ServerGet>,
) -> Reply<ipc::ServerGet> {
    Ok(console.api()?.server_get(&args.name).await?)
}

#[tauri::command]
async fn server_save(
    console: State<'_, Console>,
    args: Args<ipc::ServerSaveCmd>,
) -> Reply<ipc::ServerSaveCmd> {
    Ok(console
        .api()?
        .server_save(args.draft, args.previous)
        .await?)
}

#[tauri::command]
async fn server_delete(
    console: State<'_, Console>,
    args: Args<ipc::ServerDelete>,
) -> Reply<ipc::ServerDelete> {
    Ok(console.api()?.server_delete(&args.name).await?)
}

#[tauri::command]
async fn inventory_import(
    console: State<'_, Console>,
    args: Args<ipc::InventoryImport>,
) -> Reply<ipc::InventoryImport> {
    Ok(console.api()?.inventory_import(args).await?)
}

#[tauri::command]
async fn inventory_export(
    console: State<'_, Console>,
    args: Args<ipc::InventoryExport>,
) -> Reply<ipc::InventoryExport> {
    let () = args;
    Ok(console.api()?.inventory_export_file().await?)
}

#[tauri::command]
async fn credential_list(
    console: State<'_, Console>,
    args: Args<ipc::CredentialList>,
) -> Reply<ipc::CredentialList> {
    let () = args;
    Ok(console.api()?.credential_list().await?)
}

#[tauri::command]
async fn credential_set(
    console: State<'_, Console>,
    args: Args<ipc::CredentialSet>,
) -> Reply<ipc::CredentialSet> {
    Ok(console.api()?.credential_set(args).await?)
}

#[tauri::command]
async fn credential_delete(
    console: State<'_, Console>,
    args: Args<ipc::CredentialDelete>,
) -> Reply<ipc::CredentialDelete> {
    Ok(console.api()?.credential_delete(&args.name).await?)
}

#[tauri::command]
async fn host_key_fetch(
    console: State<'_, Console>,
    args: Args<ipc::HostKeyFetch>,
) -> Reply<ipc::HostKeyFetch> {
    Ok(console.api()?.host_key_fetch(&args.name).await?)
}

#[tauri::command]
async fn host_key_trust(
    console: State<'_, Console>,
    args: Args<ipc::HostKeyTrust>,
) -> Reply<ipc::HostKeyTrust> {
    Ok(console.api()?.host_key_trust(args).await?)
}

#[tauri::command]
async fn host_key_forget(
    console: State<'_, Console>,
    args: Args<ipc::HostKeyForget>,
) -> Reply<ipc::HostKeyForget> {
    Ok(console.api()?.host_key_forget(&args.name).await?)
}

#[tauri::command]
async fn ssh_check(console: State<'_, Console>, args: Args<ipc::SshCheck>) -> Reply<ipc::SshCheck> {
    Ok(console
        .api()?
        .ssh_check(&args.name, &Default::default())
        .await?)
}

#[tauri::command]
async fn ssh_run(console: State<'_, Console>, args: Args<ipc::SshRun>) -> Reply<ipc::SshRun> {
    Ok(console.api()?.ssh_run(args, &Default::default()).await?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_registered_command_has_a_descriptor_and_every_descriptor_a_handler() {
        let registered: BTreeSet<&str> = REGISTERED.iter().copied().collect();
        let declared: BTreeSet<&str> = ipc::COMMANDS.iter().copied().collect();
        assert_eq!(
            registered.len(),
            REGISTERED.len(),
            "a command is registered twice"
        );
        let missing: Vec<_> = declared.difference(&registered).collect();
        let unknown: Vec<_> = registered.difference(&declared).collect();
        assert!(
            missing.is_empty(),
            "descriptors without a handler: {missing:?}"
        );
        assert!(
            unknown.is_empty(),
            "handlers without a descriptor: {unknown:?}"
        );
    }

    /// The window may call exactly GUARDiA's commands: each needs `allow-<name>` in the
    /// capability, and nothing else (no plugin or core permission) may sneak in.
    #[test]
    fn the_main_capability_grants_exactly_our_commands() {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
        let granted: BTreeSet<String> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        let expected: BTreeSet<String> = ipc::COMMANDS
            .iter()
            .map(|name| format!("allow-{}", name.replace('_', "-")))
            .collect();
        assert_eq!(granted, expected);
    }

    #[test]
    fn names_are_compared_exactly() {
        assert!(same_name("task_get", "task_get"));
        assert!(!same_name("task_get", "task_gets"));
        assert!(!same_name("task_get", "task_set"));
    }
}
