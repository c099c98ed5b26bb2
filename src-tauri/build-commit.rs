//! The commit a build came from, for `guardia --version`, `guardia-console --version` and the
//! About box (installers carry the programs far from their repository: the version alone does
//! not say which build it is). Included by the CLI's and the console's build scripts
//! (`#[path]`), so both name the same commit the same way.
//!
//! `GUARDIA_COMMIT`, when set, wins (a build from a source archive); otherwise `git` is asked;
//! outside a checkout the commit is `unknown`. (Uncommitted changes are not marked: watching
//! the index would rebuild the CLI after every `git status`.)

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Sets `GUARDIA_COMMIT` for the crate being built.
pub fn emit() {
    println!("cargo:rerun-if-env-changed=GUARDIA_COMMIT");
    let commit = match std::env::var("GUARDIA_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned()),
    };
    // A new commit (or a checkout of another) changes what HEAD and the refs say.
    // (Only paths that exist: cargo reruns a script every time for a missing one.)
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        for watched in ["HEAD", "refs/heads", "packed-refs"] {
            let path = std::path::Path::new(&dir).join(watched);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    println!("cargo:rustc-env=GUARDIA_COMMIT={commit}");
}
