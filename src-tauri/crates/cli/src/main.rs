//! # guardia — the GUARDiA console without a window
//!
//! For automation, tests and the lab: every subcommand calls the same `guardia-api` method
//! the console window calls, on the same database, and `--json` prints the same types the
//! window receives over IPC.
//!
//! Exit codes: 0 done, 1 failed or "no" (the error is on stderr), 2 the command line or an
//! input file was wrong, 3 the keyring or the database could not be reached.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Local;
use clap::{Args, Parser, Subcommand};
use guardia_api::{
    Api, ApiError, Caller, CheckpointReason, DataDir, Permission, VerifyOptions, VerifyTrigger,
};
use guardia_audit::{VerifierKey, hex_lower};
use guardia_domain::governance::Verdict;
use guardia_domain::{Category, Priority, TaskStatus, TimelineKind};
use guardia_ipc::{
    Acknowledgement, AuditQuery, AuditStatus, CheckpointExport, CheckpointFormat, CheckpointImport,
    IpcError, ReportExport, ReportKind, TaskDetail, TaskDraft, TaskQuery, TaskRef, TaskSummary,
};
use serde::Serialize;

mod approvals;
mod fleet;
mod incidents;
#[cfg(unix)]
mod lab;
mod packages;
mod people;
mod rollouts;

#[derive(Debug, Parser)]
#[command(
    name = "guardia",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("GUARDIA_COMMIT"), ")"),
    about = "GUARDiA control-room console, headless",
    long_about = "GUARDiA control-room console, headless.\n\n\
                  Works on the same database as the console window. \
                  Exit codes: 0 done, 1 failed, 2 usage error or unusable input file, \
                  3 keyring or database unreachable."
)]
struct Cli {
    /// Directory holding the GUARDiA database [default: the OS data dir, e.g. ~/.local/share/guardia]
    #[arg(long, global = true, env = "GUARDIA_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Print machine-readable JSON (the console's IPC types) instead of text
    #[arg(long, global = true)]
    json: bool,

    /// Act as this person (needed once anybody has been added); the password comes from
    /// GUARDIA_PASSWORD or a prompt
    #[arg(long, global = true, env = "GUARDIA_USER", value_name = "NAME")]
    user: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Register, list and inspect ops tasks
    #[command(subcommand)]
    Task(TaskCommand),
    /// Fill an empty database with demo tasks (does nothing if tasks exist)
    Demo {
        /// Also add the demo people, one per role (only while nobody has been added; their
        /// password is in the README)
        #[arg(long)]
        people: bool,
    },
    /// The audit ledger: verify, prove, checkpoint, list, export
    #[command(subcommand)]
    Audit(AuditCommand),
    /// A fleet of fake sites behind real sshd on this machine, for tests and demos
    #[cfg(unix)]
    #[command(subcommand)]
    Lab(lab::LabCommand),
    /// Servers: import (CSV, Ansible INI), export, list
    #[command(subcommand)]
    Inventory(fleet::InventoryCommand),
    /// SSH passwords and private keys in the OS keyring
    #[command(subcommand)]
    Credential(fleet::CredentialCommand),
    /// Pinned host keys: fetch, trust, import known_hosts, forget
    #[command(subcommand)]
    Hosts(fleet::HostsCommand),
    /// Ad-hoc checks and commands on one server
    #[command(subcommand)]
    Ssh(fleet::SshCommand),
    /// Encrypted hand-over of inventory, pins and credentials between workstations
    #[command(subcommand)]
    Bundle(fleet::BundleCommand),
    /// People who sign in: add, list, roles, lock, unlock
    #[command(subcommand)]
    User(people::UserCommand),
    /// What waits for your decision (urgent first)
    Inbox,
    /// Approval routing per system: owner, deputy, supervisor, away, SLA, windows
    #[command(subcommand)]
    System(approvals::SystemCommand),
    /// Result packages: seal, import, show, mark, decide, documents, inbox
    #[command(subcommand)]
    Package(packages::PackageCommand),
    /// Rollouts: plan, start, status, pause, resume, gate, abort, rollback, history, drift
    #[command(subcommand)]
    Rollout(rollouts::RolloutCommand),
    /// Incidents: open, list, show, ack, severity, role, update, advance, report, postmortem, stats
    #[command(subcommand)]
    Incident(incidents::IncidentCommand),
    /// Press the kill switch: every remote command and rollout stops now
    Kill {
        #[arg(long)]
        reason: String,
    },
    /// Re-arm the kill switch (security officer)
    Rearm {
        #[arg(long)]
        reason: String,
    },
}

/// The permission a command needs: read from its IPC command's row in the operation table,
/// so the CLI refuses exactly what the window refuses. `user` commands check their
/// own (set-up lets the OS account add the first admin).
fn required(command: &Command) -> Option<Permission> {
    use fleet::{BundleCommand as B, CredentialCommand as C, HostsCommand as H};
    use fleet::{InventoryCommand as I, SshCommand as S};
    use guardia_ipc as ipc;
    /// The permission the operation table binds to IPC command `$c`.
    macro_rules! of {
        ($c:ident) => {
            <ipc::$c as guardia_api::Operation>::PERMISSION
        };
    }
    Some(match command {
        Command::Task(TaskCommand::Create(_)) | Command::Demo { .. } => of!(TaskCreate),
        Command::Task(TaskCommand::List(_)) => of!(TaskList),
        Command::Task(TaskCommand::Show { .. }) => of!(TaskGet),
        Command::Task(TaskCommand::Submit { .. }) => of!(TaskSubmit),
        Command::Task(
            TaskCommand::Approve { .. } | TaskCommand::Reject { .. } | TaskCommand::Return { .. },
        ) => of!(TaskDecide),
        Command::Inbox => of!(InboxGet),
        Command::System(
            approvals::SystemCommand::List | approvals::SystemCommand::Policy { .. },
        ) => of!(SystemRulesList),
        Command::System(
            approvals::SystemCommand::Deputy { .. }
            | approvals::SystemCommand::Away { .. }
            | approvals::SystemCommand::Confirm { .. },
        ) => of!(SystemRouteSet),
        Command::System(_) => of!(SystemRulesSet),
        Command::Audit(audit) => match audit {
            AuditCommand::Verify { .. } => of!(AuditVerify),
            AuditCommand::Checkpoint => of!(AuditCheckpoint),
            AuditCommand::Import { .. } => of!(AuditCheckpointImport),
            AuditCommand::Status => of!(AuditStatusGet),
            // A proof only reads the log, as the activity list does.
            AuditCommand::Proof { .. } | AuditCommand::List { .. } => of!(AuditList),
            AuditCommand::Export { .. } => of!(AuditCheckpointExport),
            AuditCommand::Report { .. } => of!(AuditReportExport),
            AuditCommand::Acknowledge { .. } => of!(AuditAcknowledge),
        },
        Command::Inventory(I::Import { .. }) => of!(InventoryImport),
        Command::Inventory(I::Bulk { .. }) => of!(ServerBulkEdit),
        Command::Inventory(I::CommandMode { .. }) => of!(SystemCommandModeSet),
        Command::Inventory(I::LegacyCrypto { .. }) => of!(ServerLegacyCryptoSet),
        Command::Inventory(I::Export { .. }) => of!(InventoryExport),
        Command::Inventory(I::List { .. }) => of!(ServerList),
        Command::Credential(C::Set { .. }) => of!(CredentialSet),
        Command::Credential(C::Delete { .. }) => of!(CredentialDelete),
        Command::Credential(C::List) => of!(CredentialList),
        Command::Hosts(H::Fetch { .. }) => of!(HostKeyFetch),
        // Importing known_hosts pins keys, as trusting one does.
        Command::Hosts(H::Trust { .. } | H::Import { .. }) => of!(HostKeyTrust),
        Command::Hosts(H::Forget { .. }) => of!(HostKeyForget),
        Command::Ssh(S::Check { .. }) => of!(SshCheck),
        Command::Ssh(S::Run { .. }) => of!(SshRun),
        // A bundle carries secrets out, and brings servers and secrets in.
        Command::Bundle(B::Export { .. } | B::Import { .. }) => of!(CredentialSet),
        Command::Package(p) => match p {
            packages::PackageCommand::Seal { .. } => return None,
            packages::PackageCommand::Import { .. } => of!(PackageImportCmd),
            packages::PackageCommand::Show { .. } => of!(PackageGet),
            packages::PackageCommand::Mark { .. } => of!(FileMarkSet),
            packages::PackageCommand::Decide { .. } => of!(ReviewDecide),
            packages::PackageCommand::Documents { .. } => of!(TaskDocuments),
            packages::PackageCommand::Inbox { .. } => of!(PackageInbox),
            packages::PackageCommand::Coverage { .. } => of!(SystemRulesSet),
        },
        Command::Rollout(r) => {
            use rollouts::RolloutCommand as R;
            match r {
                R::Plan(_) => of!(RolloutPreviewCmd),
                R::Start { .. } => of!(RolloutStart),
                R::Status { .. } => of!(RolloutGet),
                R::Site { .. } => of!(RolloutSiteGet),
                R::Pause { .. }
                | R::Resume { .. }
                | R::Gate { .. }
                | R::Abort { .. }
                | R::Rollback { .. }
                | R::Abandon { .. } => of!(RolloutControl),
                R::History { .. } => of!(ServerHistoryGet),
                R::Drift { .. } => of!(ServerDriftCheck),
            }
        }
        Command::Incident(i) => {
            use incidents::{IncidentCommand as N, ReportCommand as Rp};
            match i {
                N::Open { .. } => of!(IncidentOpenCmd),
                N::List { .. } => of!(IncidentList),
                N::Show { .. } => of!(IncidentGet),
                N::Ack { .. } => of!(IncidentAckCmd),
                N::Severity { .. } => of!(IncidentClassifyCmd),
                N::Role { .. } => of!(IncidentRoleSetCmd),
                N::Update { .. } => of!(IncidentUpdatePostCmd),
                N::Advance { .. } => of!(IncidentAdvanceCmd),
                N::Report(Rp::Checklist { .. }) => of!(IncidentChecklistSetCmd),
                N::Report(Rp::Draft { .. }) => of!(ReportDraftGet),
                N::Report(Rp::Submit { .. }) => of!(ReportSubmitCmd),
                N::Postmortem { .. } => of!(PostmortemSaveCmd),
                N::Export { .. } => of!(IncidentExport),
                N::Settings { file: None, .. } => of!(IncidentSettingsGet),
                N::Settings { file: Some(_), .. } => of!(IncidentSettingsSet),
                N::Stats { export: None, .. } => of!(IncidentStatsGet),
                N::Stats {
                    export: Some(_), ..
                } => of!(IncidentStatsExport),
            }
        }
        Command::Kill { .. } => of!(KillSwitchPress),
        Command::Rearm { .. } => of!(KillSwitchRearm),
        #[cfg(unix)]
        Command::Lab(_) => return None,
        Command::User(_) => return None,
    })
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Re-check every entry, the tree and every checkpoint; exit 1 naming the first bad entry
    Verify {
        /// A checkpoint kept elsewhere (file with the signed note); repeatable
        #[arg(long = "checkpoint", value_name = "FILE")]
        checkpoints: Vec<PathBuf>,
        /// Trust this verifier key (name+id+key, or a file holding it) instead of the keyring's
        #[arg(long, value_name = "KEY|FILE")]
        key: Option<String>,
        /// Only check: do not record the run in the log (e.g. on a copy kept for an audit).
        /// Runs against the keyring's key are recorded by default, like the console's, so
        /// a failure blocks rollouts until acknowledged.
        #[arg(long)]
        no_record: bool,
    },
    /// Write an inclusion proof of one entry that a third party can check
    Proof {
        /// The entry's index
        #[arg(long)]
        index: u64,
        /// Write it here instead of printing it
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Trust this verifier key instead of the keyring's
        #[arg(long, value_name = "KEY|FILE")]
        key: Option<String>,
    },
    /// Sign a checkpoint of the log as it stands and print it
    Checkpoint,
    /// Export the latest checkpoint as text, QR code (SVG) or a printable page
    Export {
        #[arg(long, value_parser = parse_format, default_value = "text")]
        format: CheckpointFormat,
    },
    /// Keep a checkpoint brought back from outside, and verify against it
    Import {
        /// File holding the signed note
        file: PathBuf,
        /// Where it was kept [default: the file name]
        #[arg(long)]
        label: Option<String>,
    },
    /// The integrity status
    Status,
    /// Activity, newest first
    List {
        #[arg(long, default_value = "")]
        kind: String,
        #[arg(long, default_value = "")]
        actor: String,
        #[arg(long, default_value = "")]
        subject: String,
        #[arg(long, default_value = "")]
        search: String,
        /// Older than this index (paging)
        #[arg(long)]
        before: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Acknowledge a failed verification (unblocks rollouts; logged)
    Acknowledge {
        #[arg(long)]
        note: String,
    },
    /// Write the activity CSV or the printable integrity report
    Report {
        #[arg(long, value_parser = parse_report, default_value = "csv")]
        kind: ReportKind,
    },
}

fn parse_format(raw: &str) -> Result<CheckpointFormat, String> {
    match raw {
        "text" | "txt" => Ok(CheckpointFormat::Text),
        "qr" | "svg" => Ok(CheckpointFormat::Qr),
        "print" | "html" => Ok(CheckpointFormat::Print),
        other => Err(format!(
            "unknown format `{other}`; expected text, qr or print"
        )),
    }
}

fn parse_report(raw: &str) -> Result<ReportKind, String> {
    match raw {
        "csv" | "activity" => Ok(ReportKind::ActivityCsv),
        "html" | "integrity" => Ok(ReportKind::IntegrityHtml),
        other => Err(format!("unknown report `{other}`; expected csv or html")),
    }
}

#[derive(Debug, Subcommand)]
enum TaskCommand {
    /// Register a new task and print its id
    Create(CreateArgs),
    /// List tasks, newest first
    List(ListArgs),
    /// Show one task with its timeline and approval chain
    Show {
        /// Task id, e.g. OPS-20261121-001
        id: String,
    },
    /// Send your task (new, or returned and edited) to its approval chain
    Submit { id: String },
    /// Approve the step you hold
    Approve {
        id: String,
        #[arg(long)]
        comment: String,
    },
    /// Reject the request (the chain ends)
    Reject {
        id: String,
        #[arg(long)]
        comment: String,
    },
    /// Return the request to its requester for more information
    Return {
        id: String,
        #[arg(long)]
        comment: String,
    },
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// One-line title
    #[arg(long)]
    title: String,
    /// DEPLOY, INFRA_CONTROL, DATA or INSPECTION
    #[arg(long, value_parser = parse_category)]
    category: Category,
    /// Target system, e.g. hr-portal
    #[arg(long)]
    system: String,
    /// Sub-type such as service-restart (optional; unspecified is treated as the riskiest)
    #[arg(long, default_value = "")]
    sub_type: String,
    /// Free-text request: what should be done and why
    #[arg(long, default_value = "")]
    request: String,
    /// Who asks for it [default: you]
    #[arg(long)]
    requester: Option<String>,
    /// urgent, high, normal or low (긴급/높음/보통/낮음); orders inboxes
    #[arg(long, value_parser = parse_priority, default_value = "normal")]
    priority: Priority,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only tasks in this status, e.g. PENDING_APPROVAL
    #[arg(long, value_parser = parse_status)]
    status: Option<TaskStatus>,
    /// Only tasks of this category
    #[arg(long, value_parser = parse_category)]
    category: Option<Category>,
    /// Only tasks whose id, title, system or requester contains this text
    #[arg(long, default_value = "")]
    search: String,
    /// At most this many tasks
    #[arg(long)]
    limit: Option<u32>,
}

fn parse_priority(raw: &str) -> Result<Priority, String> {
    Priority::parse(raw).ok_or_else(|| format!("`{raw}`: urgent, high, normal or low"))
}

fn parse_category(raw: &str) -> Result<Category, String> {
    raw.parse()
        .map_err(|e: guardia_domain::UnknownCategory| e.to_string())
}

/// A kept checkpoint file: at most [`guardia_audit::MAX_NOTE_BYTES`], UTF-8 text.
fn read_note(path: &std::path::Path) -> Result<String, ApiError> {
    use std::io::Read;
    let bad = |reason: String| ApiError::BadFile {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut bytes = Vec::new();
    file.take(guardia_audit::MAX_NOTE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    if bytes.len() > guardia_audit::MAX_NOTE_BYTES {
        return Err(bad(format!(
            "it is larger than a checkpoint can be ({} bytes at most)",
            guardia_audit::MAX_NOTE_BYTES
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text".into()))?;
    if text.trim().is_empty() {
        return Err(bad("it is empty".into()));
    }
    Ok(text)
}

fn parse_status(raw: &str) -> Result<TaskStatus, String> {
    let code = raw.trim().to_ascii_uppercase().replace('-', "_");
    TaskStatus::from_code(&code).ok_or_else(|| {
        let all: Vec<&str> = TaskStatus::ALL.iter().map(|s| s.code()).collect();
        format!("unknown status `{raw}`; expected one of {}", all.join(", "))
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Prints help/version (exit 0) or the usage error (exit 2), as clap decides.
        Err(err) => err.exit(),
    };
    guardia_api::init_logging("warn");

    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            return fail(
                json,
                &IpcError::new(guardia_ipc::ErrorCode::Internal, err.to_string()),
            );
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(Done::Success) => ExitCode::SUCCESS,
        Ok(Done::Failed) => ExitCode::FAILURE,
        Err(err) => {
            let code = err.exit_code();
            fail(json, &IpcError::from(err));
            ExitCode::from(code)
        }
    }
}

fn fail(json: bool, error: &IpcError) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let written = if json {
        serde_json::to_string(error)
            .map_err(std::io::Error::other)
            .and_then(|line| writeln!(stderr, "{line}"))
    } else {
        writeln!(
            stderr,
            "error: {}",
            guardia_domain::text::escape_invisible(&error.message, true)
        )
    };
    if written.is_err() {
        // Nothing left to report to; the exit code still says it failed.
    }
    ExitCode::FAILURE
}

/// How a command that ran to the end came out.
enum Done {
    Success,
    /// It ran, and the answer is "no" (e.g. verification found tampering): exit 1.
    Failed,
}

async fn run(cli: Cli) -> Result<Done, ApiError> {
    let cli = match cli.command {
        #[cfg(unix)]
        Command::Lab(command) => {
            return match lab::run(command, cli.data_dir, cli.user.as_deref(), cli.json).await {
                Ok(()) => Ok(Done::Success),
                Err(message) => Err(ApiError::InvalidRequest(message)),
            };
        }
        // Sealing writes a manifest into a folder: no database, nobody to sign in.
        Command::Package(command @ packages::PackageCommand::Seal { .. }) => {
            let out = Output { json: cli.json };
            return packages::seal(command, &out);
        }
        command => Cli { command, ..cli },
    };
    let api = Api::open(DataDir::locate(cli.data_dir.clone())?).await?;
    api.identify_build(env!("GUARDIA_COMMIT"));
    let api = std::sync::Arc::new(api);
    let caller = &people::caller_for(&api, cli.user.as_deref()).await?;
    if let Some(permission) = required(&cli.command) {
        caller.require(permission)?;
    }
    // The same runtime as the console: the feed pump's post-commit hook signs a checkpoint
    // every 256 entries whoever writes. Stopped (and caught up) before the process exits.
    api.start_pump(caller);
    let done = run_on(&api, caller, cli).await;
    api.after_commit(caller).await;
    if !api
        .runtime()
        .shutdown(std::time::Duration::from_secs(5))
        .await
    {
        tracing::warn!("background work did not stop within 5 s");
    }
    done
}

async fn run_on(api: &std::sync::Arc<Api>, caller: &Caller, cli: Cli) -> Result<Done, ApiError> {
    let out = Output { json: cli.json };
    let changes = matches!(
        cli.command,
        Command::Task(TaskCommand::Create(_)) | Command::Demo { .. }
    );
    let done = match cli.command {
        Command::Audit(command) => return audit(api, caller, &out, command).await,
        Command::Inventory(command) => {
            return signed(
                api,
                caller,
                fleet::inventory(api, caller, &out, command).await,
            )
            .await;
        }
        Command::Credential(command) => {
            return signed(
                api,
                caller,
                fleet::credential(api, caller, &out, command).await,
            )
            .await;
        }
        Command::Hosts(command) => {
            return signed(api, caller, fleet::hosts(api, caller, &out, command).await).await;
        }
        Command::Ssh(command) => {
            return signed(api, caller, fleet::ssh(api, caller, &out, command).await).await;
        }
        Command::Bundle(command) => {
            return signed(api, caller, fleet::bundle(api, caller, &out, command).await).await;
        }
        Command::User(command) => {
            return signed(api, caller, people::run(api, caller, &out, command).await).await;
        }
        Command::Inbox => return approvals::inbox(api, caller, &out).await,
        Command::Package(command) => {
            return signed(api, caller, packages::run(api, caller, &out, command).await).await;
        }
        Command::Rollout(command) => {
            return signed(api, caller, rollouts::run(api, caller, &out, command).await).await;
        }
        Command::Incident(command) => {
            return signed(
                api,
                caller,
                incidents::run(api, caller, &out, command).await,
            )
            .await;
        }
        Command::Kill { reason } => {
            return signed(api, caller, rollouts::kill(api, caller, &out, reason).await).await;
        }
        Command::Rearm { reason } => {
            return signed(
                api,
                caller,
                rollouts::rearm(api, caller, &out, reason).await,
            )
            .await;
        }
        Command::System(command) => {
            return signed(
                api,
                caller,
                approvals::system(api, caller, &out, command).await,
            )
            .await;
        }
        Command::Task(TaskCommand::Submit { id }) => {
            return signed(api, caller, approvals::submit(api, caller, &out, id).await).await;
        }
        Command::Task(TaskCommand::Approve { id, comment }) => {
            let done = approvals::decide(api, caller, &out, id, Verdict::Approve, comment).await;
            return signed(api, caller, done).await;
        }
        Command::Task(TaskCommand::Reject { id, comment }) => {
            let done = approvals::decide(api, caller, &out, id, Verdict::Reject, comment).await;
            return signed(api, caller, done).await;
        }
        Command::Task(TaskCommand::Return { id, comment }) => {
            let done = approvals::decide(api, caller, &out, id, Verdict::Return, comment).await;
            return signed(api, caller, done).await;
        }
        other => other,
    };
    match done {
        Command::Task(TaskCommand::Create(args)) => {
            let requester = args.requester.unwrap_or_else(|| caller.person.to_string());
            let detail = api
                .tasks()
                .create(
                    caller,
                    TaskDraft {
                        title: args.title,
                        category: Some(args.category),
                        sub_type: args.sub_type,
                        system: args.system,
                        request: args.request,
                        requester,
                        priority: Some(args.priority),
                    },
                )
                .await?;
            out.print(&detail, |d| d.task.id.to_string())
        }
        Command::Task(TaskCommand::List(args)) => {
            let tasks = api
                .tasks()
                .list(TaskQuery {
                    status: args.status,
                    category: args.category,
                    text: args.search,
                    limit: args.limit,
                })
                .await?;
            out.print(&tasks, |tasks| task_table(tasks))
        }
        Command::Task(TaskCommand::Show { id }) => {
            let detail = api.tasks().get(TaskRef { id }).await?;
            out.print(&detail, task_text)
        }
        Command::Demo { people } => {
            let added = api.seed_demo_if_empty().await?;
            let people = if people {
                api.people().seed_demo(caller).await?
            } else {
                0
            };
            out.print(
                &serde_json::json!({ "added": added, "people": people }),
                |_| {
                    let tasks = if added == 0 {
                        "the database already has tasks; no demo tasks added".to_owned()
                    } else {
                        format!("added {added} demo tasks")
                    };
                    if people > 0 {
                        format!(
                            "{tasks}; added {people} demo people (password: {})",
                            guardia_api::DEMO_PASSWORD
                        )
                    } else {
                        tasks
                    }
                },
            )
        }
        #[cfg(unix)]
        Command::Lab(_) => Ok(()),
        Command::Audit(_)
        | Command::Inventory(_)
        | Command::Credential(_)
        | Command::Hosts(_)
        | Command::Ssh(_)
        | Command::Bundle(_)
        | Command::User(_)
        | Command::Inbox
        | Command::System(_)
        | Command::Package(_)
        | Command::Rollout(_)
        | Command::Incident(_)
        | Command::Kill { .. }
        | Command::Rearm { .. }
        | Command::Task(
            TaskCommand::Submit { .. }
            | TaskCommand::Approve { .. }
            | TaskCommand::Reject { .. }
            | TaskCommand::Return { .. },
        ) => Ok(()),
    }?;
    if changes {
        // The CLI's "shutdown": sign what this run appended. The change is committed either
        // way; without a keyring it stays unsigned until the next checkpoint, and we say so.
        if let Err(e) = api
            .checkpoint_if_unsigned(caller, CheckpointReason::Shutdown)
            .await
        {
            tracing::warn!("no checkpoint signed: {e}");
        }
    }
    Ok(Done::Success)
}

/// Signs what a fleet command appended (as the task commands do), then passes its result on.
async fn signed(
    api: &Api,
    caller: &Caller,
    result: Result<Done, ApiError>,
) -> Result<Done, ApiError> {
    if let Err(e) = api
        .checkpoint_if_unsigned(caller, CheckpointReason::Shutdown)
        .await
    {
        tracing::warn!("no checkpoint signed: {e}");
    }
    result
}

/// A verifier key given on the command line, or the path of a file holding one.
fn read_key(raw: Option<String>) -> Result<Option<VerifierKey>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let text = if std::path::Path::new(&raw).is_file() {
        std::fs::read_to_string(&raw).map_err(ApiError::Io)?
    } else {
        raw
    };
    text.trim()
        .parse()
        .map(Some)
        .map_err(|e: guardia_audit::NoteError| ApiError::InvalidRequest(format!("--key: {e}")))
}

/// The JSON `guardia audit verify --json` prints.
#[derive(Debug, Serialize)]
struct VerifyJson {
    ok: bool,
    entries: u64,
    first_bad: Option<u64>,
    problem: Option<String>,
    problem_code: Option<&'static str>,
    checkpoints_verified: usize,
    verified_through: u64,
    root: String,
}

async fn audit(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: AuditCommand,
) -> Result<Done, ApiError> {
    match command {
        AuditCommand::Verify {
            checkpoints,
            key,
            no_record,
        } => {
            let mut external = Vec::new();
            for path in checkpoints {
                external.push((read_note(&path)?, path.display().to_string()));
            }
            let options = VerifyOptions {
                key: read_key(key)?,
                external,
                chunk_entries: None,
            };
            // Against this console's own key the run is recorded like the console's: a
            // failure blocks rollouts until acknowledged. An auditor's own key is their check.
            let record = options.key.is_none() && !no_record;
            let started_at = api.now();
            let show_progress = std::io::stderr().is_terminal() && !out.json;
            let last_shown = std::sync::Mutex::new(std::time::Instant::now());
            let progress = |done: u64, total: u64| {
                let Ok(mut last) = last_shown.lock() else {
                    return;
                };
                if show_progress && last.elapsed().as_millis() >= 250 {
                    *last = std::time::Instant::now();
                    eprint!("\rverifying {done}/{total} entries…");
                }
            };
            let cancel = tokio_util::sync::CancellationToken::new();
            let report = api.audit_verify_with(options, &cancel, &progress).await?;
            if show_progress {
                eprint!("\r\x1b[K");
            }
            // The verdict is printed whatever happens to the record: a log tampered with
            // badly enough may refuse the append itself.
            let recorded = if record {
                api.record_verification(caller, VerifyTrigger::Manual, started_at, &report)
                    .await
                    .err()
            } else {
                None
            };
            let failure = report.failure.as_ref();
            let json = VerifyJson {
                ok: report.ok(),
                entries: report.entries,
                first_bad: failure.map(|f| f.first_bad),
                problem: failure.map(|f| f.problem.to_string()),
                problem_code: failure.map(|f| f.problem.code()),
                checkpoints_verified: report.checkpoints_verified,
                verified_through: report.verified_through,
                root: hex_lower(&report.root),
            };
            out.print(&json, |j| match (&j.problem, j.first_bad) {
                (Some(problem), Some(first_bad)) => format!(
                    "TAMPERED: first bad entry {first_bad}\n{problem}\n\
                     ({} entries read, {} checkpoints verified, trusted through entry {})",
                    j.entries, j.checkpoints_verified, j.verified_through
                ),
                _ => format!(
                    "intact: {} entries, {} checkpoints verified (signed through {}), root {}",
                    j.entries, j.checkpoints_verified, j.verified_through, j.root
                ),
            })?;
            if let Some(e) = recorded {
                eprintln!("warning: the verification could not be recorded in the log: {e}");
            }
            Ok(if report.ok() {
                Done::Success
            } else {
                Done::Failed
            })
        }
        AuditCommand::Proof {
            index,
            out: file,
            key,
        } => {
            let proof = api.audit_proof(index, read_key(key)?).await?;
            match file {
                Some(path) => {
                    let text = serde_json::to_string_pretty(&proof)
                        .map_err(|e| ApiError::Io(std::io::Error::other(e)))?;
                    guardia_api::write_private(&path, (text + "\n").as_bytes())?;
                    out.print(&serde_json::json!({ "path": path }), |_| {
                        format!(
                            "inclusion proof of entry {index} written to {}",
                            path.display()
                        )
                    })?;
                }
                None => out.print(&proof, |p| {
                    serde_json::to_string_pretty(p).unwrap_or_default()
                })?,
            }
            Ok(Done::Success)
        }
        AuditCommand::Checkpoint => {
            let checkpoint = api
                .audit_checkpoint(caller, CheckpointReason::OnDemand)
                .await?;
            out.print(&checkpoint, |c| c.note.trim_end().to_owned())?;
            Ok(Done::Success)
        }
        AuditCommand::Export { format } => {
            let file = api
                .audit_checkpoint_export(caller, CheckpointExport { format })
                .await?;
            out.print(&file, |f| f.path.clone())?;
            Ok(Done::Success)
        }
        AuditCommand::Import { file, label } => {
            let note = read_note(&file)?;
            let label = label.unwrap_or_else(|| file.display().to_string());
            api.audit_import_checkpoint_now(caller, CheckpointImport { note, label })
                .await
                .map_err(|e| match e {
                    ApiError::BadCheckpoint(problem) => ApiError::BadFile {
                        path: file.display().to_string(),
                        reason: format!("not a checkpoint of this log: {problem}"),
                    },
                    other => other,
                })?;
            let status = api.audit_status().await?;
            let ok = status.last_verification.as_ref().is_some_and(|v| v.ok);
            out.print(&status, status_text)?;
            Ok(if ok { Done::Success } else { Done::Failed })
        }
        AuditCommand::Status => {
            let status = api.audit_status().await?;
            out.print(&status, status_text)?;
            Ok(Done::Success)
        }
        AuditCommand::List {
            kind,
            actor,
            subject,
            search,
            before,
            limit,
        } => {
            let page = api
                .audit_list(AuditQuery {
                    before,
                    kind,
                    actor,
                    subject,
                    result: String::new(),
                    text: search,
                    limit,
                })
                .await?;
            out.print(&page, |page| {
                let mut lines: Vec<String> = page
                    .entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{:>8}  {}  {:<16} {:<26} {:<24} {:<8} {}",
                            e.index,
                            local(e.at),
                            e.actor,
                            e.kind,
                            e.subject,
                            e.result,
                            e.details
                        )
                    })
                    .collect();
                if let Some(next) = page.next_before {
                    lines.push(format!("… older: --before {next}"));
                }
                lines.join("\n")
            })?;
            Ok(Done::Success)
        }
        AuditCommand::Acknowledge { note } => {
            let status = api
                .audit_acknowledge(caller, Acknowledgement { note })
                .await?;
            out.print(&status, status_text)?;
            Ok(Done::Success)
        }
        AuditCommand::Report { kind } => {
            let file = api
                .audit_report_export(
                    caller,
                    ReportExport {
                        kind,
                        query: AuditQuery::default(),
                    },
                )
                .await?;
            out.print(&file, |f| f.path.clone())?;
            Ok(Done::Success)
        }
    }
}

fn status_text(status: &AuditStatus) -> String {
    let mut lines = vec![
        format!("log          {}", status.origin),
        format!("entries      {}", status.entries),
        format!(
            "key          {}",
            status
                .verifier_key
                .clone()
                .or_else(|| status.key_problem.clone())
                .unwrap_or_default()
        ),
    ];
    match &status.last_checkpoint {
        Some(c) => lines.push(format!(
            "checkpoint   size {} ({}, {})",
            c.size,
            c.reason,
            local(c.created_at)
        )),
        None => lines.push("checkpoint   none yet".to_owned()),
    }
    lines.push(format!(
        "unexported   {} entries since the last exported checkpoint",
        status.entries_since_export
    ));
    match &status.last_verification {
        Some(v) if v.ok => lines.push(format!(
            "verified     ok, {} entries, {}",
            v.entries,
            local(v.finished_at)
        )),
        Some(v) => lines.push(format!(
            "verified     FAILED at entry {}: {}{}",
            v.first_bad.map_or("?".to_owned(), |b| b.to_string()),
            v.problem.clone().unwrap_or_default(),
            if v.acknowledged_by.is_some() {
                " (acknowledged)"
            } else {
                ""
            }
        )),
        None => lines.push("verified     never".to_owned()),
    }
    if status.rollouts_blocked {
        lines.push(
            "ROLLOUTS BLOCKED until an admin acknowledges (guardia audit acknowledge --note …)"
                .to_owned(),
        );
    }
    lines.join("\n")
}

/// Where results go: text for people, JSON for programs.
struct Output {
    json: bool,
}

impl Output {
    fn print<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce(&T) -> String,
    ) -> Result<(), ApiError> {
        let rendered = if self.json {
            serde_json::to_string_pretty(value)
                .map_err(|e| ApiError::Io(std::io::Error::other(e)))?
        } else {
            // Titles, remote details and file names may carry escape sequences or hidden
            // characters: the terminal sees them as <U+…>, never raw.
            guardia_domain::text::escape_invisible(&text(value), true).into_owned()
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{rendered}").map_err(ApiError::Io)
    }
}

fn local(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn task_table(tasks: &[TaskSummary]) -> String {
    if tasks.is_empty() {
        return "no tasks".to_owned();
    }
    let mut lines = vec![format!(
        "{:<18} {:<18} {:<8} {:<14} {:<16} {:<16} TITLE",
        "ID", "STATUS", "PRIORITY", "CATEGORY", "SYSTEM", "CREATED"
    )];
    lines.extend(tasks.iter().map(|t| {
        format!(
            "{:<18} {:<18} {:<8} {:<14} {:<16} {:<16} {}",
            t.id.to_string(),
            t.status.code(),
            t.priority.code(),
            t.category.code(),
            t.system.as_str(),
            local(t.created_at),
            t.title
        )
    }));
    lines.join("\n")
}

fn task_text(detail: &TaskDetail) -> String {
    let t = &detail.task;
    let mut lines = vec![
        format!("{}  {}", t.id, t.title),
        format!("status     {}", t.status),
        format!(
            "category   {}{}",
            t.category,
            t.sub_type
                .as_ref()
                .map(|s| format!(" / {s}"))
                .unwrap_or_default()
        ),
        format!("system     {}", t.system),
        format!("priority   {}", t.priority),
        format!("requester  {}", t.requester),
        format!("created    {}", local(t.created_at)),
        format!("updated    {}", local(t.updated_at)),
    ];
    if !t.request.as_str().is_empty() {
        lines.push(String::new());
        lines.push(t.request.as_str().to_owned());
    }
    if !detail.approvals.is_empty() {
        lines.push(String::new());
        lines.extend(approvals::chain_lines(&detail.approvals));
    }
    lines.push(String::new());
    lines.push("timeline".to_owned());
    for entry in &detail.timeline {
        let what = match entry.kind {
            TimelineKind::Created => "created".to_owned(),
            TimelineKind::Transition(tr) => format!("{} → {} ({})", tr.from, tr.to, tr.event),
        };
        let note = if entry.note.is_empty() {
            String::new()
        } else {
            format!(" — {}", entry.note)
        };
        lines.push(format!(
            "  {}  {:<16} {what}{note}",
            local(entry.at),
            entry.actor.as_str()
        ));
    }
    lines.join("\n")
}
