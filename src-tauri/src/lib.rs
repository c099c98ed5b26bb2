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

use clap::Parser;
use guardia_api::{Api, DataDir};
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
    api: Result<Api, IpcError>,
}

impl Console {
    /// The API, or the startup error every command reports until the console is restarted.
    fn api(&self) -> Result<&Api, IpcError> {
        self.api.as_ref().map_err(Clone::clone)
    }
}

async fn open(args: &ConsoleArgs) -> Result<Api, IpcError> {
    let api = Api::open(DataDir::locate(args.data_dir.clone())?).await?;
    if args.demo {
        let added = api.seed_demo_if_empty().await?;
        tracing::info!(added, "demo data");
    }
    Ok(api)
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

    let result = tauri::Builder::default()
        .manage(Console { api })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("the console window failed: {error}");
            ExitCode::FAILURE
        }
    }
}
