//! The operation table: each IPC command bound to the permission it requires and its
//! handler, in one place.
//!
//! [`Api::invoke`] is the only way a front end runs a command: it checks the caller's
//! permission, then runs the handler. The shell's Tauri adapters are generated from
//! `guardia_ipc::for_each_command!` and call `invoke::<C>`, which only compiles for a
//! command that has a row here; [`Api::dispatch`] does the same from a name and JSON (for
//! tests and scripted callers), so the table can be exercised without a window.

use std::future::Future;
use std::sync::Arc;

use guardia_ipc::{self as ipc, Command, ErrorCode, IpcError};

use crate::{Api, ApiError, Caller, CheckpointReason, Permission, VerifyTrigger};

/// A command the API can run: what it requires, and how.
pub trait Operation: Command {
    const PERMISSION: Permission;

    fn handle(
        api: &Arc<Api>,
        caller: &Caller,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Output, ApiError>> + Send;
}

macro_rules! operations {
    ($( $ty:ident: $permission:ident => |$api:ident, $caller:ident, $args:pat_param| $body:expr; )*) => {
        $(
            impl Operation for ipc::$ty {
                const PERMISSION: Permission = Permission::$permission;

                #[allow(unused_variables)]
                async fn handle(
                    $api: &Arc<Api>,
                    $caller: &Caller,
                    $args: Self::Args,
                ) -> Result<Self::Output, ApiError> {
                    $body
                }
            }
        )*

        /// Every bound command name, in table order (checked against the IPC table).
        pub const BOUND: &[&str] = &[$(<ipc::$ty as Command>::NAME),*];

        /// Every bound command with the permission it requires (the generated
        /// command × role test walks this).
        pub const PERMISSIONS: &[(&str, Permission)] =
            &[$((<ipc::$ty as Command>::NAME, Permission::$permission)),*];

        impl Api {
            /// Runs the command called `name` with JSON arguments; answers JSON. Unknown
            /// names and malformed arguments are `PROTOCOL` errors; nothing runs.
            pub async fn dispatch(
                self: &Arc<Self>,
                name: &str,
                caller: &Caller,
                args: serde_json::Value,
            ) -> Result<serde_json::Value, IpcError> {
                match name {
                    $(<ipc::$ty as Command>::NAME => self.dispatch_as::<ipc::$ty>(caller, args).await,)*
                    other => Err(IpcError::new(
                        ErrorCode::Protocol,
                        format!("there is no command `{other}`"),
                    )),
                }
            }
        }
    };
}

operations! {
    TaskCreate: WriteTasks => |api, caller, draft| Ok(api.tasks().create(caller, draft).await?);
    TaskList: ReadTasks => |api, caller, query| Ok(api.tasks().list(query).await?);
    TaskGet: ReadTasks => |api, caller, task| Ok(api.tasks().get(task).await?);
    PreferencesGet: OwnPreferences => |api, caller, ()| api.preferences_get(caller).await;
    PreferencesSet: OwnPreferences => |api, caller, preferences| {
        api.preferences_set(caller, preferences).await
    };
    AppInfoGet: OwnPreferences => |api, caller, ()| Ok(api.app_info(caller));
    AuditList: ReadAudit => |api, caller, query| api.audit_list(query).await;
    AuditStatusGet: ReadAudit => |api, caller, ()| api.audit_status().await;
    AuditVerify: SignAudit => |api, caller, ()| {
        api.audit_verify_start(caller, VerifyTrigger::Manual).await
    };
    AuditCheckpoint: SignAudit => |api, caller, ()| {
        api.audit_checkpoint(caller, CheckpointReason::OnDemand).await
    };
    AuditCheckpointExport: ExportAudit => |api, caller, export| {
        api.audit_checkpoint_export(caller, export).await
    };
    AuditCheckpointImport: SignAudit => |api, caller, import| {
        api.audit_checkpoint_import(caller, import).await
    };
    AuditAcknowledge: AcknowledgeAudit => |api, caller, ack| api.audit_acknowledge(caller, ack).await;
    AuditReportExport: ExportAudit => |api, caller, report| {
        api.audit_report_export(caller, report).await
    };
    ServerList: ReadInventory => |api, caller, query| api.server_list(query).await;
    ServerGet: ReadInventory => |api, caller, server| api.server_get(&server.name).await;
    ServerSaveCmd: EditInventory => |api, caller, save| {
        api.server_save(caller, save.draft, save.previous).await
    };
    ServerDelete: EditInventory => |api, caller, server| api.server_delete(caller, &server.name).await;
    InventoryImport: EditInventory => |api, caller, file| api.inventory_import(caller, file).await;
    InventoryExport: ReadInventory => |api, caller, ()| api.inventory_export_file().await;
    CredentialList: ReadInventory => |api, caller, ()| api.credential_list().await;
    CredentialSet: ManageCredentials => |api, caller, input| api.credential_set(caller, input).await;
    CredentialDelete: ManageCredentials => |api, caller, credential| {
        api.credential_delete(caller, &credential.name).await
    };
    HostKeyFetch: TrustHostKeys => |api, caller, server| api.host_key_fetch(&server.name).await;
    HostKeyTrust: TrustHostKeys => |api, caller, request| api.host_key_trust(caller, request).await;
    HostKeyForget: TrustHostKeys => |api, caller, server| {
        api.host_key_forget(caller, &server.name).await
    };
    SystemCommandModeSet: EditInventory => |api, caller, change| {
        api.system_command_mode_set(caller, change).await
    };
    ServerLegacyCryptoSet: TrustHostKeys => |api, caller, change| {
        api.server_legacy_crypto_set(caller, change).await
    };
    SshCheck: RunRemote => |api, caller, server| api.ssh_check_start(caller, server).await;
    SshRun: RunRemote => |api, caller, request| api.ssh_run_start(caller, request).await;
    JobList: FollowJobs => |api, caller, ()| Ok(api.runtime().jobs().running());
    JobCancel: FollowJobs => |api, caller, job| Ok(api.job_cancel(caller, job));
    PersonList: ManagePeople => |api, caller, ()| Ok(api.people().list().await?);
    PersonAdd: ManagePeople => |api, caller, input| Ok(api.people().add(caller, input).await?);
    PersonRolesSet: ManagePeople => |api, caller, change| {
        Ok(api.people().set_roles(caller, change).await?)
    };
    PersonLockSet: ManagePeople => |api, caller, lock| Ok(api.people().lock(caller, lock).await?);
    TaskSubmit: WriteTasks => |api, caller, task| Ok(api.approvals().submit(caller, task).await?);
    TaskDecide: DecideApprovals => |api, caller, decision| {
        Ok(api.approvals().decide(caller, decision).await?)
    };
    InboxGet: ReadInbox => |api, caller, ()| Ok(api.approvals().inbox(caller).await?);
    SystemRulesList: ReadTasks => |api, caller, ()| Ok(api.approvals().rules_list().await?);
    SystemRulesSet: EditGovernance => |api, caller, change| {
        Ok(api.approvals().set_rules(caller, change).await?)
    };
    SystemRouteSet: RouteOwnSystems => |api, caller, change| {
        Ok(api.approvals().set_route(caller, change).await?)
    };
    ServerBulkEdit: EditInventory => |api, caller, edit| api.server_bulk_edit(caller, edit).await;
    PasswordChangeCmd: OwnPreferences => |api, caller, change| {
        Ok(api.people().change_password(caller, change).await?)
    };
    PersonPasswordReset: ManagePeople => |api, caller, reset| {
        Ok(api.people().reset_password(caller, reset).await?)
    };
    SignInPolicyGet: ReadTasks => |api, caller, ()| Ok(api.people().policy().await?);
    SignInPolicySet: ManagePeople => |api, caller, policy| {
        Ok(api.people().set_policy(caller, policy).await?)
    };
    SystemChoices: ReadTasks => |api, caller, ()| Ok(api.approvals().system_choices().await?);
    ChainPolicyGet: ReadTasks => |api, caller, ()| Ok(api.approvals().policy().await?);
    ChainPolicySet: EditGovernance => |api, caller, policy| {
        Ok(api.approvals().set_policy(caller, policy).await?)
    };
    PackageImportCmd: ImportPackages => |api, caller, args| Ok(api.reviews().import(caller, args).await?);
    PackageGet: ReadTasks => |api, caller, r| Ok(api.reviews().get(caller, r).await?);
    DiffWindowGet: ReadTasks => |api, caller, q| Ok(api.reviews().window(caller, q).await?);
    DiffHighlight: ReadTasks => |api, caller, q| Ok(api.reviews().highlight(q).await?);
    DiffSearchCmd: ReadTasks => |api, caller, q| Ok(api.reviews().search(q).await?);
    LogWindowGet: ReadTasks => |api, caller, q| Ok(api.reviews().log_window(q).await?);
    LogSearchCmd: ReadTasks => |api, caller, q| Ok(api.reviews().log_search(q).await?);
    FileMarkSet: ReviewResults => |api, caller, mark| Ok(api.reviews().mark(caller, mark).await?);
    ReviewCommentAdd: ReviewResults => |api, caller, c| Ok(api.reviews().comment(caller, c).await?);
    ReviewDecide: ReviewResults => |api, caller, d| Ok(api.reviews().decide(caller, d).await?);
    ReviewDecisions: ReadTasks => |api, caller, task| Ok(api.reviews().decisions(&task.id).await?);
    TaskDocuments: ReadTasks => |api, caller, task| Ok(api.reviews().documents(&task.id).await?);
    PackageInbox: ImportPackages => |api, caller, ()| Ok(api.reviews().inbox(caller).await?);
    RolloutPreviewCmd: ReadTasks => |api, caller, r| api.rollouts().preview(caller, r).await;
    RolloutStart: RunRollouts => |api, caller, r| api.rollouts().start(caller, r).await;
    RolloutList: ReadTasks => |api, caller, ()| api.rollouts().list().await;
    RolloutGet: ReadTasks => |api, caller, r| api.rollouts().get(caller, r).await;
    RolloutSiteGet: ReadTasks => |api, caller, r| api.rollouts().site(caller, r).await;
    RolloutControl: RunRollouts => |api, caller, a| api.rollouts().control(caller, a).await;
    KillSwitchGet: ReadTasks => |api, caller, ()| api.rollouts().kill_switch().await;
    KillSwitchPress: PressKillSwitch => |api, caller, k| api.rollouts().press(caller, k).await;
    KillSwitchRearm: RearmKillSwitch => |api, caller, k| api.rollouts().rearm(caller, k).await;
    ServerHistoryGet: ReadInventory => |api, caller, r| api.rollouts().history(r).await;
    ServerDriftCheck: RunRemote => |api, caller, r| api.rollouts().drift(caller, r).await;
    IncidentOpenCmd: RunIncidents => |api, caller, o| api.incidents().open(caller, o).await;
    IncidentList: ReadIncidents => |api, caller, q| api.incidents().list(q).await;
    IncidentGet: ReadIncidents => |api, caller, r| api.incidents().get(&r.id).await;
    IncidentAckCmd: RunIncidents => |api, caller, a| api.incidents().acknowledge(caller, a).await;
    IncidentClassifyCmd: RunIncidents => |api, caller, c| api.incidents().classify(caller, c).await;
    IncidentRoleSetCmd: RunIncidents => |api, caller, r| api.incidents().set_role(caller, r).await;
    IncidentAdvanceCmd: RunIncidents => |api, caller, a| api.incidents().advance(caller, a).await;
    IncidentUpdatePostCmd: RunIncidents => |api, caller, u| {
        api.incidents().post_update(caller, u).await
    };
    IncidentChecklistSetCmd: RunIncidents => |api, caller, c| {
        api.incidents().set_checklist(caller, c).await
    };
    ReportDraftGet: ReadIncidents => |api, caller, r| api.incidents().report_draft(r).await;
    ReportSubmitCmd: SignOffReports => |api, caller, r| api.incidents().submit_report(caller, r).await;
    PostmortemSaveCmd: RunIncidents => |api, caller, p| {
        api.incidents().save_postmortem(caller, p).await
    };
    IncidentAlerts: ReadIncidents => |api, caller, ()| api.incidents().alerts().await;
    IncidentExport: ExportIncidents => |api, caller, r| api.incidents().export(caller, &r.id).await;
    IncidentStatsGet: ReadIncidents => |api, caller, q| api.incidents().stats(q).await;
    IncidentStatsExport: ExportIncidents => |api, caller, e| {
        api.incidents().stats_export(caller, e).await
    };
    IncidentSettingsGet: ReadIncidents => |api, caller, ()| api.incidents().settings().await;
    IncidentSettingsSet: EditIncidentSettings => |api, caller, c| {
        api.incidents().set_settings(caller, c).await
    };
}

impl Api {
    /// Runs command `C` for `caller`: the permission check, then the handler. Every front
    /// end goes through here, so the check cannot be forgotten.
    pub async fn invoke<C: Operation>(
        self: &Arc<Self>,
        caller: &Caller,
        args: C::Args,
    ) -> Result<C::Output, IpcError> {
        if let Err(refused) = caller.require(C::PERMISSION) {
            tracing::warn!(
                command = C::NAME,
                person = caller.name(),
                "refused: {refused}"
            );
            return Err(refused.into());
        }
        C::handle(self, caller, args).await.map_err(|error| {
            tracing::debug!(command = C::NAME, "failed: {error}");
            IpcError::from(error)
        })
    }

    async fn dispatch_as<C: Operation>(
        self: &Arc<Self>,
        caller: &Caller,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, IpcError> {
        // Refused callers learn nothing about the arguments, not even whether they parse.
        caller.require(C::PERMISSION)?;
        let args: C::Args = serde_json::from_value(args).map_err(|e| {
            IpcError::new(
                ErrorCode::Protocol,
                format!("the arguments of {} do not fit: {e}", C::NAME),
            )
        })?;
        let output = self.invoke::<C>(caller, args).await?;
        serde_json::to_value(output).map_err(|e| {
            IpcError::new(
                ErrorCode::Internal,
                format!("cannot encode the answer of {}: {e}", C::NAME),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ipc_command_is_bound_once_in_declaration_order() {
        assert_eq!(BOUND, ipc::COMMANDS);
    }
}
