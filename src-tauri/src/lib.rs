//! # guardia-console — the desktop shell
//!
//! Deliberately thin. It parses the command line, opens [`guardia_api::Api`] on the data
//! directory, starts and stops its runtime, forwards the runtime's feed to the windows, and
//! exposes each IPC command through an adapter generated from the command table
//! ([`commands`]). Nothing here decides anything: validation, ids, storage, jobs, deadlines
//! and permissions live in the Tauri-free crates, which the headless `guardia` CLI shares.
//!
//! If the database cannot be opened the window still comes up and every command answers
//! with the startup error, so the operator reads what went wrong instead of a blank window
//! or a silent exit.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use guardia_api::{Api, Caller, DataDir, NoticeMemory, Operation, Session};
use guardia_ipc::{
    EndSession, FEED_EVENT, FeedEvent, IpcError, KILL_SWITCH_ASK_EVENT, SessionState, SessionView,
    SignInRequest, Topic,
};
use tauri::{Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

/// GUARDiA Console: review, approve and roll out changes to legacy sites.
#[derive(Debug, Parser)]
#[command(
    name = "guardia-console",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("GUARDIA_COMMIT"), ")")
)]
struct ConsoleArgs {
    /// Directory holding the GUARDiA database [default: the OS data dir, e.g. ~/.local/share/guardia]
    #[arg(long, env = "GUARDIA_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Fill an empty database with demo tasks on start
    #[arg(long)]
    demo: bool,

    /// Add the demo people (one per role, password in the README) to a console nobody has
    /// been added to yet; the window then opens on the sign-in screen
    #[arg(long)]
    demo_people: bool,
}

/// What the commands work on: the API and who sits at this console, or why the console
/// could not open.
pub struct Console {
    opened: Result<Opened, IpcError>,
}

#[derive(Clone)]
struct Opened {
    api: Arc<Api>,
    /// Who the window's commands come from: the signed-in person (or, in set-up, the OS
    /// account). Signed out, every command is refused with `SIGN_IN`.
    session: Arc<Session>,
    /// The OS account at this workstation: what the console does by itself (its start and
    /// stop, checkpoints) is recorded under it.
    console: Caller,
}

impl Console {
    fn opened(&self) -> Result<&Opened, IpcError> {
        self.opened.as_ref().map_err(Clone::clone)
    }

    /// Runs command `C` for this window's signed-in caller, or reports the startup error
    /// every command answers until the console is restarted.
    async fn invoke<C: Operation>(&self, args: C::Args) -> Result<C::Output, IpcError> {
        let opened = self.opened()?;
        let caller = opened.session.caller(&opened.api).await?;
        opened.api.invoke::<C>(&caller, args).await
    }

    async fn session_get(&self) -> Result<SessionState, IpcError> {
        let opened = self.opened()?;
        Ok(opened.session.state(&opened.api).await?)
    }

    async fn sign_in(&self, request: SignInRequest) -> Result<SessionView, IpcError> {
        let opened = self.opened()?;
        Ok(opened.session.sign_in(&opened.api, request).await?)
    }

    async fn session_end(&self, how: EndSession) -> Result<SessionState, IpcError> {
        let opened = self.opened()?;
        Ok(opened.session.end(&opened.api, how).await?)
    }
}

async fn open(args: &ConsoleArgs) -> Result<Opened, IpcError> {
    let caller = Caller::local_os()?;
    let api = Api::open(DataDir::locate(args.data_dir.clone())?).await?;
    api.identify_build(env!("GUARDIA_COMMIT"));
    let api = Arc::new(api);
    if args.demo_people {
        let added = api.people().seed_demo(&caller).await?;
        tracing::info!(added, "demo people");
    }
    let session = Arc::new(Session::open(&api, caller.clone()).await?);
    if args.demo {
        let added = api.seed_demo_if_empty().await?;
        tracing::info!(added, "demo data");
    }
    api.console_started(&caller).await?;
    // Rollouts that were running when the console stopped wait for a person now (resume,
    // roll back or abandon); nothing is retried by itself.
    match api.rollouts().recover(&caller).await {
        Ok(found) if !found.is_empty() => {
            tracing::warn!(rollouts = ?found, "rollouts interrupted by the last stop")
        }
        Ok(_) => {}
        Err(e) => tracing::error!("cannot look for interrupted rollouts: {e}"),
    }
    api.start(&caller);
    Ok(Opened {
        api,
        session,
        console: caller,
    })
}

/// Forwards the runtime's feed to every window, as the one event the UI listens to. A
/// window that fell behind is told everything changed (it refetches, rather than replay).
async fn forward_feed(api: Arc<Api>, app: tauri::AppHandle) {
    let mut feed = api.runtime().feed().subscribe();
    loop {
        let event = match feed.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "the window feed fell behind; refreshing everything");
                FeedEvent::Changed {
                    after: 0,
                    upto: 0,
                    topics: Topic::ALL.to_vec(),
                }
            }
            Err(RecvError::Closed) => return,
        };
        if let Err(e) = app.emit(FEED_EVENT, &event) {
            tracing::warn!(error = %e, "cannot push a change to the windows");
        }
    }
}

/// Tells the person at this window, with a desktop notification, when a step starts waiting
/// for them, reaches them by escalation (URGENT), or their request is decided — whoever made
/// the change (this window, the CLI, another console). Nothing of that is shown while signed
/// out. The kill switch is told to everyone at every console, signed in or not: pressed
/// (URGENT) and re-armed, with who and why.
async fn notify_desktop(opened: Opened) {
    let mut feed = opened.api.runtime().feed().subscribe();
    let mut memory = NoticeMemory::default();
    let mut incidents = guardia_api::IncidentNoticeMemory::default();
    // What waits at start is on the screen already: remember it silently.
    if let Ok(caller) = opened.session.caller(&opened.api).await {
        if let Err(e) = opened.api.approvals().notices(&caller, &mut memory).await {
            tracing::warn!(error = %e, "cannot read what waits for the person at this window");
        }
        if let Err(e) = opened
            .api
            .incidents()
            .notices(&caller, &mut incidents)
            .await
        {
            tracing::warn!(error = %e, "cannot read the incidents for the person at this window");
        }
    }
    // The switch as it is at start (nothing is told about it: the banner shows it).
    let mut engaged = None;
    kill_switch_notice(&opened, &mut engaged).await;
    loop {
        match feed.recv().await {
            // Tasks, and console changes: a sign-in primes what the new person has already
            // seen, so their first escalation is not swallowed. Checkpoints and the rest of
            // the log cost no lookups.
            Ok(FeedEvent::Changed { topics, .. }) => {
                if topics.contains(&Topic::Rollouts) {
                    kill_switch_notice(&opened, &mut engaged).await;
                }
                if topics.contains(&Topic::Incidents) || topics.contains(&Topic::Console) {
                    incident_notices(&opened, &mut incidents).await;
                }
                if !topics.contains(&Topic::Tasks) && !topics.contains(&Topic::Console) {
                    continue;
                }
            }
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => kill_switch_notice(&opened, &mut engaged).await,
            Err(RecvError::Closed) => return,
        }
        let Ok(caller) = opened.session.caller(&opened.api).await else {
            continue;
        };
        let notices = match opened.api.approvals().notices(&caller, &mut memory).await {
            Ok(notices) => notices,
            Err(e) => {
                tracing::warn!(error = %e, "cannot work out what to notify");
                continue;
            }
        };
        for notice in notices {
            show_notification(notice.summary, notice.body, notice.urgent).await;
        }
    }
}

/// Shows what is new about incidents for the person at this window.
async fn incident_notices(opened: &Opened, memory: &mut guardia_api::IncidentNoticeMemory) {
    let Ok(caller) = opened.session.caller(&opened.api).await else {
        return;
    };
    match opened.api.incidents().notices(&caller, memory).await {
        Ok(notices) => {
            for n in notices {
                show_notification(n.summary, n.body, n.urgent).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot work out what to notify about incidents"),
    }
}

/// Shows what changed about the kill switch since `seen`, if anything.
async fn kill_switch_notice(opened: &Opened, seen: &mut Option<bool>) {
    match opened.api.rollouts().kill_switch_notice(seen).await {
        Ok(Some(n)) => show_notification(n.summary, n.body, n.urgent).await,
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the kill switch"),
    }
}

/// Shows one desktop notification (off the async threads: D-Bus calls block).
async fn show_notification(summary: String, body: String, urgent: bool) {
    let shown = tauri::async_runtime::spawn_blocking(move || {
        let urgency = if urgent {
            notify_rust::Urgency::Critical
        } else {
            notify_rust::Urgency::Normal
        };
        notify_rust::Notification::new()
            .appname("GUARDiA")
            .summary(&summary)
            .body(&body)
            .urgency(urgency)
            .show()
            .map(|_| ())
    })
    .await;
    match shown {
        Ok(Ok(())) => tracing::info!("desktop notification shown"),
        // No notification daemon (a bare X server): the screens still show it.
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot show a desktop notification"),
        Err(e) => tracing::warn!(error = %e, "the notification task failed"),
    }
}

/// The tray icon: its menu brings the window to the front, or opens the kill-switch dialog
/// there (the reason is asked in the window, as for the button and Ctrl+Alt+K; the backend
/// checks the permission when it is pressed).
fn tray(app: &tauri::App) -> tauri::Result<()> {
    use tauri::menu::{Menu, MenuItem};
    use tauri::tray::TrayIconBuilder;
    let kill = MenuItem::with_id(app, "kill", "KILL SWITCH… / 킬 스위치…", true, None::<&str>)?;
    let show = MenuItem::with_id(
        app,
        "show",
        "Show GUARDiA / GUARDiA 열기",
        true,
        None::<&str>,
    )?;
    let menu = Menu::with_items(app, &[&kill, &show])?;
    let mut tray = TrayIconBuilder::with_id("guardia")
        .menu(&menu)
        .tooltip("GUARDiA")
        .on_menu_event(|app, event| {
            if let Some(window) = app.get_webview_window("main") {
                let shown = window
                    .unminimize()
                    .and_then(|()| window.show())
                    .and_then(|()| window.set_focus());
                if let Err(e) = shown {
                    tracing::warn!(error = %e, "cannot bring the window to the front");
                }
            }
            if event.id().as_ref() == "kill"
                && let Err(e) = app.emit(KILL_SWITCH_ASK_EVENT, "tray")
            {
                tracing::error!(error = %e, "cannot open the kill-switch dialog");
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// A service manager (or `run.sh`, or `timeout`) stops the console with SIGTERM: leave the
/// way closing the window does, so the stop is recorded and the log signed. The handler is
/// installed before the window is built, so a TERM during start-up is not lost either.
#[cfg(unix)]
async fn exit_on_sigterm(mut term: tokio::signal::unix::Signal, app: tauri::AppHandle) {
    if term.recv().await.is_some() {
        tracing::info!("SIGTERM: closing the console");
        app.exit(0);
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
    let opened = tauri::async_runtime::block_on(open(&args));
    if let Err(error) = &opened {
        tracing::error!(code = ?error.code, "cannot open the console's data: {}", error.message);
    }
    let for_exit = opened.as_ref().ok().cloned();
    let for_feed = for_exit.clone();
    #[cfg(unix)]
    let sigterm = tauri::async_runtime::block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for SIGTERM"))
            .ok()
    });

    let app = tauri::Builder::default()
        .manage(Console { opened })
        .invoke_handler(commands::handler())
        .setup(move |app| {
            // Without a tray host (a bare X server) the console runs on; the button and
            // Ctrl+Alt+K still reach the kill switch.
            if let Err(e) = tray(app) {
                tracing::warn!(error = %e, "no tray icon");
            }
            if let Some(opened) = for_feed {
                let api = opened.api.clone();
                let handle = app.handle().clone();
                opened
                    .api
                    .runtime()
                    .spawn("window-feed", forward_feed(api, handle));
                opened
                    .api
                    .runtime()
                    .spawn("desktop-notices", notify_desktop(opened.clone()));
                #[cfg(unix)]
                if let Some(term) = sigterm {
                    opened
                        .api
                        .runtime()
                        .spawn("sigterm", exit_on_sigterm(term, app.handle().clone()));
                }
            }
            Ok(())
        })
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
            && let Some(opened) = &for_exit
        {
            tauri::async_runtime::block_on(opened.api.shut_down(&opened.console));
        }
    });
    ExitCode::SUCCESS
}
