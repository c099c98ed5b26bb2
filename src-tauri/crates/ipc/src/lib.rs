//! # guardia-ipc — the contract between the console window and the backend
//!
//! Every command the UI may call is declared once, here, as a type implementing [`Command`]:
//! its wire name, its argument type and its output type. The Tauri shell registers a handler
//! for each name (a contract test checks the two lists are the same), the UI calls through
//! [`Command`] so it cannot send the wrong arguments or expect the wrong answer, and the CLI
//! prints the same output types with `--json`.
//!
//! Errors cross as [`IpcError`] — a stable [`ErrorCode`] plus an English message — so the UI
//! chooses what to show by code, never by matching message text.
//!
//! The crate is serde-only and compiles to wasm: no IO, no Tauri, no database.

mod approvals;
mod audit;
mod dto;
mod error;
mod incidents;
mod inventory;
mod live;
mod people;
mod reviews;
mod rollouts;

pub use approvals::{
    FreezeInput, InboxItem, RouteChange, RulesChange, SystemChoice, SystemRouteChange,
    SystemRulesChange, SystemRulesView, TaskDecision,
};
pub use audit::{
    Acknowledgement, AuditEntryView, AuditPage, AuditQuery, AuditStatus, CheckpointExport,
    CheckpointFormat, CheckpointImport, CheckpointView, ExportedFile, ReportExport, ReportKind,
    VerificationView, VerifyProgress,
};
pub use dto::{AppInfo, Lang, Preferences, TaskDetail, TaskQuery, TaskRef, TaskSummary};
pub use error::{ErrorCode, IpcError};
pub use guardia_domain::TaskDraft;
pub use guardia_domain::governance::{ChainPolicy, SignInPolicy};
pub use guardia_domain::incident::IncidentSettings;
pub use inventory::{
    BulkEdit, CheckReport, CheckState, CheckStep, CommandMode, CommandModeChange, CommandOutcome,
    CommandReport, CredentialInput, CredentialKindView, CredentialRef, CredentialView, HostKeyView,
    ImportReport, InventoryFile, InventoryFormat, LegacyCryptoChange, PresentedHostKey, RunCommand,
    ServerChangeView, ServerDraft, ServerQuery, ServerRecord, ServerRef, ServerSave, ServerView,
    SshSeenView, TrustHostKey,
};
pub use people::{
    AccountLock, EndSession, PasswordChange, PasswordReset, PersonInput, PersonView, RolesChange,
    SessionEnd, SessionState, SessionView, SignInRequest,
};

pub use reviews::{
    ArtifactView, CommentInput, CommentView, Coverage, DecisionView, DiffCell, DiffLayout, DiffRow,
    DiffSearch, DiffView, DiffWindow, DiffWindowQuery, DocumentView, FileMark, HealthRow,
    HighlightQuery, Highlights, InboxFolderView, InboxPackage, LogLine, LogSearch, LogWindow,
    LogWindowQuery, MarkView, PackageImport, PackageRef, PackageView, ProducerView, ResultView,
    ReviewDecisionInput, ReviewFile, SearchHits, Span, VersionBrief, VersionChange, WarningView,
};

pub use incidents::{
    ActionInput, CountRow, IncidentAck, IncidentAdvance, IncidentAlert, IncidentBrief,
    IncidentChecklistSet, IncidentClassify, IncidentOpen, IncidentQuery, IncidentRef,
    IncidentRoleSet, IncidentSettingsChange, IncidentStats, IncidentUpdatePost, IncidentView,
    PostmortemSave, ReportClockView, ReportDraft, ReportRef, ReportSubmit, StatsExport, StatsQuery,
    TargetView,
};
pub use rollouts::{
    ArtifactPlan, DeploymentView, DriftFile, DriftReport, JournalLine, KillSwitchInput,
    KillSwitchView, PhaseInput, PhasePreview, PhaseProgress, PlanInput, RolloutAction,
    RolloutBrief, RolloutPreview, RolloutRef, RolloutRequest, RolloutView, ServerHistory,
    SiteDetail, SiteRef, SiteRow,
};

pub use live::{
    FEED_EVENT, FeedEvent, JobId, JobKind, JobOutcome, JobRef, JobState, JobTicket, JobUpdate,
    KILL_SWITCH_ASK_EVENT, Topic,
};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// One IPC command: its wire name and the types that cross for it.
pub trait Command {
    /// The name the UI invokes and the shell registers (snake_case, unique).
    const NAME: &'static str;
    /// Sent by the UI as the single argument named `args`.
    type Args: Serialize + DeserializeOwned;
    /// Returned on success.
    type Output: Serialize + DeserializeOwned;
}

/// The argument type of command `C`.
pub type Args<C> = <C as Command>::Args;
/// What a handler of command `C` returns.
pub type Reply<C> = Result<<C as Command>::Output, IpcError>;

/// The command table: every command the window may call, once. Each row is
/// `Descriptor = wire_name: Args => Output;`.
///
/// `for_each_command!(callback)` hands the whole table to `callback!`. This crate declares
/// the descriptors and [`COMMANDS`] from it; `guardia-api` binds each row to its permission
/// and handler (the operation table); the shell generates its Tauri adapters from it. So a
/// command cannot exist without a capability, a permission check, a handler and an adapter.
/// Callbacks in other crates see the argument and output types as tokens and may ignore them.
#[macro_export]
macro_rules! for_each_command {
    ($callback:ident) => {
        $callback! {
            /// Registers a new task from a (not yet validated) draft; returns it with its timeline.
            TaskCreate = task_create: TaskDraft => TaskDetail;
            /// Lists tasks matching a filter, newest first.
            TaskList = task_list: TaskQuery => Vec<TaskSummary>;
            /// One task with its full timeline.
            TaskGet = task_get: TaskRef => TaskDetail;
            /// The operator's saved preferences (language).
            PreferencesGet = preferences_get: () => Preferences;
            /// Saves the operator's preferences and returns what was stored.
            PreferencesSet = preferences_set: Preferences => Preferences;
            /// Version, operator and where this console keeps its data.
            AppInfoGet = app_info_get: () => AppInfo;
            /// A page of the audit activity list, newest first.
            AuditList = audit_list: AuditQuery => AuditPage;
            /// The integrity panel: checkpoints, verification, progress, whether rollouts are blocked.
            AuditStatusGet = audit_status_get: () => AuditStatus;
            /// Starts a full verification as a job; progress and the recorded run arrive on the feed.
            AuditVerify = audit_verify: () => JobTicket;
            /// Signs a checkpoint of the log as it stands now.
            AuditCheckpoint = audit_checkpoint: () => CheckpointView;
            /// Writes the latest checkpoint as a text file, a QR code or a printable page.
            AuditCheckpointExport = audit_checkpoint_export: CheckpointExport => ExportedFile;
            /// Keeps a checkpoint brought back from outside and checks the log against it.
            AuditCheckpointImport = audit_checkpoint_import: CheckpointImport => AuditStatus;
            /// An admin acknowledges a failed verification, which unblocks rollouts (and is logged).
            AuditAcknowledge = audit_acknowledge: Acknowledgement => AuditStatus;
            /// Writes the activity CSV or the printable integrity report.
            AuditReportExport = audit_report_export: ReportExport => ExportedFile;
            /// Servers matching a search, by institution, system, site and name.
            ServerList = server_list: ServerQuery => Vec<ServerView>;
            /// One server with its pin and credential status.
            ServerGet = server_get: ServerRef => ServerView;
            /// Creates or edits a server (a changed address or port drops its pin).
            ServerSaveCmd = server_save: ServerSave => ServerView;
            /// Removes a server from the inventory.
            ServerDelete = server_delete: ServerRef => ();
            /// Imports a CSV or Ansible INI inventory: all rows or none.
            InventoryImport = inventory_import: InventoryFile => ImportReport;
            /// Writes the whole inventory as CSV to the exports folder.
            InventoryExport = inventory_export: () => ExportedFile;
            /// Credentials: name, kind, whether the keyring holds them — never the secret.
            CredentialList = credential_list: () => Vec<CredentialView>;
            /// Stores or replaces a credential in the OS keyring (the secret only travels inward).
            CredentialSet = credential_set: CredentialInput => CredentialView;
            /// Removes a credential from the keyring and the database.
            CredentialDelete = credential_delete: CredentialRef => ();
            /// The host key a server presents now, for a person to compare.
            HostKeyFetch = host_key_fetch: ServerRef => PresentedHostKey;
            /// Pins a server's key — only if it still presents the approved fingerprint.
            HostKeyTrust = host_key_trust: TrustHostKey => ServerView;
            /// Removes a server's pin.
            HostKeyForget = host_key_forget: ServerRef => ();
            /// Sets a system's command mode: `playbook_only` (allowlist mode) refuses ad-hoc commands.
            SystemCommandModeSet = system_command_mode_set: CommandModeChange => ();
            /// Opts one server in to (or out of) SHA-1-era SSH algorithms, with a reason (audited).
            ServerLegacyCryptoSet = server_legacy_crypto_set: LegacyCryptoChange => ServerView;
            /// Starts a check of one server as a job: reachability, host key, login and health
            /// criteria (audited). The report arrives on the feed.
            SshCheck = ssh_check: ServerRef => JobTicket;
            /// Starts an ad-hoc command on one server as a job: denylist first, audited before and
            /// after. The report arrives on the feed.
            SshRun = ssh_run: RunCommand => JobTicket;
            /// Jobs still running (a window opened late learns what is in flight).
            JobList = job_list: () => Vec<JobUpdate>;
            /// Asks a running job to stop; its last update on the feed says how it ended.
            JobCancel = job_cancel: JobRef => bool;
            /// Everybody who can sign in, with roles and lock state (never a password or hash).
            PersonList = person_list: () => Vec<PersonView>;
            /// Adds a person with a password (hashed with Argon2id) and roles.
            PersonAdd = person_add: PersonInput => PersonView;
            /// Replaces a person's roles and scopes (audited with before and after).
            PersonRolesSet = person_roles_set: RolesChange => PersonView;
            /// Locks an account (with a reason) or unlocks it (also clearing a lockout).
            PersonLockSet = person_lock_set: AccountLock => PersonView;
            TaskSubmit = task_submit: TaskRef => TaskDetail;
            TaskDecide = task_decide: TaskDecision => TaskDetail;
            InboxGet = inbox_get: () => Vec<InboxItem>;
            SystemRulesList = system_rules_list: () => Vec<SystemRulesView>;
            SystemRulesSet = system_rules_set: SystemRulesChange => SystemRulesView;
            SystemRouteSet = system_route_set: SystemRouteChange => SystemRulesView;
            ServerBulkEdit = server_bulk_edit: BulkEdit => ImportReport;
            PasswordChangeCmd = password_change: PasswordChange => ();
            PersonPasswordReset = person_password_reset: PasswordReset => PersonView;
            SignInPolicyGet = signin_policy_get: () => SignInPolicy;
            SignInPolicySet = signin_policy_set: SignInPolicy => SignInPolicy;
            SystemChoices = system_choices: () => Vec<SystemChoice>;
            ChainPolicyGet = chain_policy_get: () => ChainPolicy;
            ChainPolicySet = chain_policy_set: ChainPolicy => ChainPolicy;
            /// Import a result package from a path (file dialog or inbox).
            PackageImportCmd = package_import: PackageImport => PackageView;
            /// A package's outline for the review screen.
            PackageGet = package_get: PackageRef => PackageView;
            /// A window of display rows of a package's diff.
            DiffWindowGet = diff_window: DiffWindowQuery => DiffWindow;
            /// Highlighting of a window (asked after painting it).
            DiffHighlight = diff_highlight: HighlightQuery => Highlights;
            /// Search inside the diff.
            DiffSearchCmd = diff_search: DiffSearch => SearchHits;
            /// A window of the execution log.
            LogWindowGet = log_window: LogWindowQuery => LogWindow;
            /// Search inside the execution log.
            LogSearchCmd = log_search: LogSearch => SearchHits;
            /// Mark a file viewed / waived / not viewed.
            FileMarkSet = file_mark_set: FileMark => Coverage;
            /// Comment on a line.
            ReviewCommentAdd = review_comment: CommentInput => CommentView;
            /// Approve, ask for rework, or take the task over.
            ReviewDecide = review_decide: ReviewDecisionInput => TaskDetail;
            /// The review decisions of a task.
            ReviewDecisions = review_decisions: TaskRef => Vec<DecisionView>;
            /// What the console wrote for the agent (work orders, rework briefs).
            TaskDocuments = task_documents: TaskRef => Vec<DocumentView>;
            /// The inbox folder and what is in it.
            PackageInbox = package_inbox: () => InboxFolderView;
            /// A rollout plan resolved against the fleet, with what would block it (nothing runs).
            RolloutPreviewCmd = rollout_preview: RolloutRequest => RolloutPreview;
            /// Starts a rollout of a task's approved result; it runs as a job.
            RolloutStart = rollout_start: RolloutRequest => RolloutView;
            /// Rollouts, newest first.
            RolloutList = rollout_list: () => Vec<RolloutBrief>;
            /// One rollout for the live board: every site, per-phase progress, the gate.
            RolloutGet = rollout_get: RolloutRef => RolloutView;
            /// One site's step journal and fetched service log.
            RolloutSiteGet = rollout_site: SiteRef => SiteDetail;
            /// Pause, resume, open a gate, abort, roll back, abandon.
            RolloutControl = rollout_control: RolloutAction => RolloutView;
            /// The kill switch and what it allows.
            KillSwitchGet = kill_switch_get: () => KillSwitchView;
            /// Stops every remote command and rollout now; refuses new automation.
            KillSwitchPress = kill_switch_press: KillSwitchInput => KillSwitchView;
            /// Lets automation start again (security officer, with a reason).
            KillSwitchRearm = kill_switch_rearm: KillSwitchInput => KillSwitchView;
            /// A server's deployment history and what it runs now.
            ServerHistoryGet = server_history: ServerRef => ServerHistory;
            /// Compares the recorded hashes of a server's deployed files with the server's.
            ServerDriftCheck = server_drift: ServerRef => DriftReport;
            /// Opens an incident by hand; the on-call person becomes its commander.
            IncidentOpenCmd = incident_open: IncidentOpen => IncidentView;
            /// Incidents, newest first, with where their targets stand.
            IncidentList = incident_list: IncidentQuery => Vec<IncidentBrief>;
            /// One incident with its countdowns, reports and timeline.
            IncidentGet = incident_get: IncidentRef => IncidentView;
            /// Takes an incident on (the response target is met), or acknowledges one escalation.
            IncidentAckCmd = incident_ack: IncidentAck => IncidentView;
            /// Changes severity and/or type, with a reason (new targets, escalations of the new severity).
            IncidentClassifyCmd = incident_classify: IncidentClassify => IncidentView;
            /// Names (or clears) the commander, tech lead, communications lead or scribe.
            IncidentRoleSetCmd = incident_role_set: IncidentRoleSet => IncidentView;
            /// Moves an incident along its lifecycle (checked).
            IncidentAdvanceCmd = incident_advance: IncidentAdvance => IncidentView;
            /// Posts a status update and plans the next.
            IncidentUpdatePostCmd = incident_update_post: IncidentUpdatePost => IncidentView;
            /// Answers the reportability checklist: which reports apply, and their clocks.
            IncidentChecklistSetCmd = incident_checklist_set: IncidentChecklistSet => IncidentView;
            /// The pre-filled text of a report's current stage, Korean and English.
            ReportDraftGet = report_draft_get: ReportRef => ReportDraft;
            /// The legal/DPO signs a report's current stage off as submitted.
            ReportSubmitCmd = report_submit: ReportSubmit => IncidentView;
            /// Saves the postmortem; completing it turns each prevention action into a task.
            PostmortemSaveCmd = postmortem_save: PostmortemSave => IncidentView;
            /// Overdue and due-soon reports and breached targets, for every screen's banner.
            IncidentAlerts = incident_alerts: () => Vec<IncidentAlert>;
            /// Writes an incident's evidence pack (audit entries with inclusion proofs, journal, logs, reports, postmortem).
            IncidentExport = incident_export: IncidentRef => ExportedFile;
            /// One month's incident figures.
            IncidentStatsGet = incident_stats: StatsQuery => IncidentStats;
            /// One month's figures as CSV or a printable page.
            IncidentStatsExport = incident_stats_export: StatsExport => ExportedFile;
            /// Targets, escalation matrix, contacts and the on-call roster.
            IncidentSettingsGet = incident_settings_get: () => IncidentSettings;
            /// Replaces the incident settings (admin; audited with the reason).
            IncidentSettingsSet = incident_settings_set: IncidentSettingsChange => IncidentSettings;
        }
    };
}

/// Declares the descriptors and [`COMMANDS`] from [`for_each_command!`].
macro_rules! declare_commands {
    ($( $(#[$doc:meta])* $ty:ident = $name:ident : $args:ty => $output:ty; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;

            impl Command for $ty {
                const NAME: &'static str = stringify!($name);
                type Args = $args;
                type Output = $output;
            }
        )*

        /// Every command name, in declaration order.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}

for_each_command!(declare_commands);

/// The session commands: they decide *who* the window's caller is, so they cannot sit in the
/// operation table, which checks a caller's permission. Anyone at the window may call them;
/// the shell answers them from `guardia_api::Session`.
pub mod session {
    use super::{Command, EndSession, SessionState, SessionView, SignInRequest};

    macro_rules! session_commands {
        ($( $(#[$doc:meta])* $ty:ident = $name:literal : $args:ty => $output:ty; )*) => {$(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;
            impl Command for $ty {
                const NAME: &'static str = $name;
                type Args = $args;
                type Output = $output;
            }
        )*};
    }

    session_commands! {
        /// Whether someone is signed in (or the console is still in set-up).
        SessionGet = "session_get": () => SessionState;
        /// Signs a person in at this window (lockout and audit as everywhere else).
        SignIn = "sign_in": SignInRequest => SessionView;
        /// Ends the session: signed out, or locked after idle time (audited either way).
        SessionEndCmd = "session_end": EndSession => SessionState;
    }

    /// Every session command name.
    pub const NAMES: &[&str] = &[SessionGet::NAME, SignIn::NAME, SessionEndCmd::NAME];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_are_unique_snake_case() {
        for (i, name) in COMMANDS.iter().enumerate() {
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name} is not snake_case"
            );
            assert!(!COMMANDS[..i].contains(name), "{name} is declared twice");
        }
    }

    #[test]
    fn descriptors_and_list_agree() {
        assert_eq!(
            COMMANDS,
            [
                TaskCreate::NAME,
                TaskList::NAME,
                TaskGet::NAME,
                PreferencesGet::NAME,
                PreferencesSet::NAME,
                AppInfoGet::NAME,
                AuditList::NAME,
                AuditStatusGet::NAME,
                AuditVerify::NAME,
                AuditCheckpoint::NAME,
                AuditCheckpointExport::NAME,
                AuditCheckpointImport::NAME,
                AuditAcknowledge::NAME,
                AuditReportExport::NAME,
                ServerList::NAME,
                ServerGet::NAME,
                ServerSaveCmd::NAME,
                ServerDelete::NAME,
                InventoryImport::NAME,
                InventoryExport::NAME,
                CredentialList::NAME,
                CredentialSet::NAME,
                CredentialDelete::NAME,
                HostKeyFetch::NAME,
                HostKeyTrust::NAME,
                HostKeyForget::NAME,
                SystemCommandModeSet::NAME,
                ServerLegacyCryptoSet::NAME,
                SshCheck::NAME,
                SshRun::NAME,
                JobList::NAME,
                JobCancel::NAME,
                PersonList::NAME,
                PersonAdd::NAME,
                PersonRolesSet::NAME,
                PersonLockSet::NAME,
                TaskSubmit::NAME,
                TaskDecide::NAME,
                InboxGet::NAME,
                SystemRulesList::NAME,
                SystemRulesSet::NAME,
                SystemRouteSet::NAME,
                ServerBulkEdit::NAME,
                PasswordChangeCmd::NAME,
                PersonPasswordReset::NAME,
                SignInPolicyGet::NAME,
                SignInPolicySet::NAME,
                SystemChoices::NAME,
                ChainPolicyGet::NAME,
                ChainPolicySet::NAME,
                PackageImportCmd::NAME,
                PackageGet::NAME,
                DiffWindowGet::NAME,
                DiffHighlight::NAME,
                DiffSearchCmd::NAME,
                LogWindowGet::NAME,
                LogSearchCmd::NAME,
                FileMarkSet::NAME,
                ReviewCommentAdd::NAME,
                ReviewDecide::NAME,
                ReviewDecisions::NAME,
                TaskDocuments::NAME,
                PackageInbox::NAME,
                RolloutPreviewCmd::NAME,
                RolloutStart::NAME,
                RolloutList::NAME,
                RolloutGet::NAME,
                RolloutSiteGet::NAME,
                RolloutControl::NAME,
                KillSwitchGet::NAME,
                KillSwitchPress::NAME,
                KillSwitchRearm::NAME,
                ServerHistoryGet::NAME,
                ServerDriftCheck::NAME,
                IncidentOpenCmd::NAME,
                IncidentList::NAME,
                IncidentGet::NAME,
                IncidentAckCmd::NAME,
                IncidentClassifyCmd::NAME,
                IncidentRoleSetCmd::NAME,
                IncidentAdvanceCmd::NAME,
                IncidentUpdatePostCmd::NAME,
                IncidentChecklistSetCmd::NAME,
                ReportDraftGet::NAME,
                ReportSubmitCmd::NAME,
                PostmortemSaveCmd::NAME,
                IncidentAlerts::NAME,
                IncidentExport::NAME,
                IncidentStatsGet::NAME,
                IncidentStatsExport::NAME,
                IncidentSettingsGet::NAME,
                IncidentSettingsSet::NAME,
            ]
        );
    }
}
