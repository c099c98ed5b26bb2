//! # guardia — the GUARDiA console without a window
//!
//! For automation, tests and the lab: every subcommand calls the same `guardia-api` method
//! the console window calls, on the same database, and `--json` prints the same types the
//! window receives over IPC.
//!
//! Exit codes: 0 done, 1 failed (the error is on stderr), 2 the command line was wrong.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Local;
use clap::{Args, Parser, Subcommand};
use guardia_api::{Api, ApiError, DataDir};
use guardia_domain::{Category, TaskStatus, TimelineKind};
use guardia_ipc::{IpcError, TaskDetail, TaskDraft, TaskQuery, TaskRef, TaskSummary};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(
    name = "guardia",
    version,
    about = "GUARDiA control-room console, headless",
    long_about = "GUARDiA control-room console, headless.\n\n\
                  Works on the same database as the console window. \
                  Exit codes: 0 done, 1 failed, 2 usage error."
)]
struct Cli {
    /// Directory holding the GUARDiA database [default: the OS data dir, e.g. ~/.local/share/guardia]
    #[arg(long, global = true, env = "GUARDIA_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Print machine-readable JSON (the console's IPC types) instead of text
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Register, list and inspect ops tasks
    #[command(subcommand)]
    Task(TaskCommand),
    /// Fill an empty database with demo tasks (does nothing if tasks exist)
    Demo,
}

#[derive(Debug, Subcommand)]
enum TaskCommand {
    /// Register a new task and print its id
    Create(CreateArgs),
    /// List tasks, newest first
    List(ListArgs),
    /// Show one task with its timeline
    Show {
        /// Task id, e.g. OPS-20261121-001
        id: String,
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

fn parse_category(raw: &str) -> Result<Category, String> {
    raw.parse()
        .map_err(|e: guardia_domain::UnknownCategory| e.to_string())
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
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(json, &IpcError::from(err)),
    }
}

fn fail(json: bool, error: &IpcError) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let written = if json {
        serde_json::to_string(error)
            .map_err(std::io::Error::other)
            .and_then(|line| writeln!(stderr, "{line}"))
    } else {
        writeln!(stderr, "error: {}", error.message)
    };
    if written.is_err() {
        // Nothing left to report to; the exit code still says it failed.
    }
    ExitCode::FAILURE
}

async fn run(cli: Cli) -> Result<(), ApiError> {
    let api = Api::open(DataDir::locate(cli.data_dir)?).await?;
    let out = Output { json: cli.json };
    match cli.command {
        Command::Task(TaskCommand::Create(args)) => {
            let requester = args.requester.unwrap_or_else(|| api.operator().to_string());
            let detail = api
                .task_create(TaskDraft {
                    title: args.title,
                    category: Some(args.category),
                    sub_type: args.sub_type,
                    system: args.system,
                    request: args.request,
                    requester,
                })
                .await?;
            out.print(&detail, |d| d.task.id.to_string())
        }
        Command::Task(TaskCommand::List(args)) => {
            let tasks = api
                .task_list(TaskQuery {
                    status: args.status,
                    category: args.category,
                    text: args.search,
                    limit: args.limit,
                })
                .await?;
            out.print(&tasks, |tasks| task_table(tasks))
        }
        Command::Task(TaskCommand::Show { id }) => {
            let detail = api.task_get(TaskRef { id }).await?;
            out.print(&detail, task_text)
        }
        Command::Demo => {
            let added = api.seed_demo_if_empty().await?;
            out.print(&serde_json::json!({ "added": added }), |_| {
                if added == 0 {
                    "the database already has tasks; no demo data added".to_owned()
                } else {
                    format!("added {added} demo tasks")
                }
            })
        }
    }
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
            text(value)
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
        "{:<18} {:<18} {:<14} {:<16} {:<16} TITLE",
        "ID", "STATUS", "CATEGORY", "SYSTEM", "CREATED"
    )];
    lines.extend(tasks.iter().map(|t| {
        format!(
            "{:<18} {:<18} {:<14} {:<16} {:<16} {}",
            t.id.to_string(),
            t.status.code(),
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
        format!("requester  {}", t.requester),
        format!("created    {}", local(t.created_at)),
        format!("updated    {}", local(t.updated_at)),
    ];
    if !t.request.as_str().is_empty() {
        lines.push(String::new());
        lines.push(t.request.as_str().to_owned());
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
