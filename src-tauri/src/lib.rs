//! # guardia-console — the desktop shell
//!
//! Deliberately thin. It parses the command line, opens [`guardia_api::Api`] on the data
//! directory, and exposes each IPC command as a few-line adapter in [`commands`]. Nothing
//! here decides anything: validation, ids, storage and (later) permissions live in the
//! Tauri-free crates, which the headless `guardia` CLI shares.
//!
//! If the database cannot be opened the window still comes up and every command answers
//! with the startup error, so the operator reads what went wrong instead of a blank window
//! or a silent exit.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use guardia_api::{Api, CheckpointReason, DataDir, VerifyTrigger};
use guardia_audit::EntryKind;
use guardia_ipc::IpcError;

/// GUARDiA Console: review, approve and roll out changes to legacy sites.
#[derive(Debug, Parser)]
#[command(name = "guardia-console", version)]
struct ConsoleArgs {
    /// Directory holding the GUARDiA database [default: the OS data dir, e.g. ~/.local/share/guardia]
    #[arg(long, env = "GUARDIA_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Fill an empty database with demo tasks on start
    #[arg(long)]
    demo: bool,
}

/// What the commands work on: the API, or why it could not be opened.
pub struct Console {
    api: Result<Arc<Api>, IpcError>,
}

impl Console {
    /// The API, or the startup error every command reports until the console is restarted.
    fn api(&self) -> Result<&Arc<Api>, IpcError> {
        self.api.as_ref().map_err(Clone::clone)
    }
}

/// How often the console signs unsigned entries and asks whether the daily verification is
/// due. The decisions are the API's, on its clock; this is only how soon they happen.
const BACKGROUND_TICK: Duration = Duration::from_secs(10 * 60);

async fn open(args: &ConsoleArgs) -> Result<Arc<Api>, IpcError> {
    let api = Api::open(DataDir::locate(args.data_dir.clone())?).await?;
    if args.demo {
        let added = api.seed_demo_if_empty().await?;
        tracing::info!(added, "demo data");
    }
    api.audit_note(
        EntryKind::ConsoleStarted,
        vec![("version", env!("CARGO_PKG_VERSION").into())],
    )
    .await?;
    Ok(Arc::new(api))
}

/// For as long as the console runs: signs whatever is not yet covered by a checkpoint (so a
/// killed process leaves at most one tick of unsigned entries), and runs the daily
/// verification whenever it is due.
async fn background_audit(api: Arc<Api>) {
    let mut ticks = tokio::time::interval(BACKGROUND_TICK);
    loop {
        ticks.tick().await;
        if let Err(e) = api.checkpoint_if_unsigned(CheckpointReason::Periodic).await {
            tracing::warn!(error = %e, "periodic audit checkpoint not written");
        }
        match api.audit_verification_due().await {
            Ok(true) => {
                if let Err(e) = api.audit_verify_start(VerifyTrigger::Daily).await {
                    tracing::warn!(error = %e, "daily audit verification did not start");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot tell whether verification is due"),
        }
    }
}

/// At exit: records the stop and signs whatever is not yet covered by a checkpoint.
async fn shut_down(api: &Api) {
    if let Err(e) = api.audit_note(EntryKind::ConsoleStopped, Vec::new()).await {
        tracing::error!(error = %e, "cannot record the console stopping");
    }
    match api.checkpoint_if_unsigned(CheckpointReason::Shutdown).await {
        Ok(Some(checkpoint)) => {
            tracing::info!(size = checkpoint.size, "shutdown checkpoint signed")
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "shutdown checkpoint not written"),
    }
}

/// Runs the console until its window closes.
pub fn main() -> ExitCode {
    let args = match ConsoleArgs::try_parse() {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    guardia_api::init_logging("info");

    // Tauri's async runtime is the one the commands run on; the database pool must live there.
    let api = tauri::async_runtime::block_on(open(&args));
    if let Err(error) = &api {
        tracing::error!(code = ?error.code, "cannot open the console's data: {}", error.message);
    }

    if let Ok(api) = &api {
        tauri::async_runtime::spawn(background_audit(api.clone()));
    }
    let for_exit = api.as_ref().ok().cloned();

    let app = tauri::Builder::default()
        .manage(Console { api })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("the console window failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    app.run(move |_app, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(api) = &for_exit
        {
            tauri::async_runtime::block_on(shut_down(api));
        }
    });
    ExitCode::SUCCESS
}
