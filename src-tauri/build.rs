//! Runs tauri-build with an ACL for GUARDiA's own commands: listing them makes Tauri refuse
//! any command a capability does not grant (by default app commands would all be allowed).
//! The list is `guardia_ipc::COMMANDS` and the session commands, the same ones the UI and
//! the contract test use.

use std::path::Path;

#[path = "build-commit.rs"]
mod build_commit;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ensure_frontend_dist()?;
    build_commit::emit();
    // tauri-build wants a 'static list; a build script runs once, so leaking it is free.
    let commands: &'static [&'static str] = Vec::leak(
        guardia_ipc::COMMANDS
            .iter()
            .chain(guardia_ipc::session::NAMES)
            .copied()
            .collect(),
    );
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )?;
    Ok(())
}

/// `generate_context!` embeds `ui/dist` and refuses to compile without it. The real UI is
/// built by trunk (scripts/build-ui.sh, run by both set-up commands); so that `cargo check`
/// and `cargo clippy` also work on a fresh clone, a page that says how to build the UI stands
/// in until then. Trunk replaces it, and the embedded files are tracked by the compiler, so
/// the next build picks up the real UI.
fn ensure_frontend_dist() -> std::io::Result<()> {
    let dist = Path::new("../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist");
    if dist.join("index.html").exists() {
        return Ok(());
    }
    println!(
        "cargo:warning=ui/dist is missing: embedding a placeholder page; run scripts/build-ui.sh"
    );
    std::fs::create_dir_all(dist)?;
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>GUARDiA Console</title>\
         <body>\
         <h1>GUARDiA Console</h1><p>The user interface was not built into this binary.</p>\
         <p>Run <code>scripts/build-ui.sh</code> (or <code>scripts/run.sh</code>) and rebuild.</p>\
         <p>UI가 빌드되지 않았습니다. <code>scripts/run.sh</code>를 실행하세요.</p></body></html>",
    )
}
