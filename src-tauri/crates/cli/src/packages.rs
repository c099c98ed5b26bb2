//! `guardia package …`: result packages from the command line — seal a folder an agent
//! produced, import it for a task, list and show versions, mark files, decide, see the
//! documents written for the agent and the inbox. Each calls the same `api.reviews()`
//! operation the review screen does, with the same checks.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;
use guardia_api::{Api, ApiError, Caller};
use guardia_ipc::{
    DiffView, DocumentView, FileMark, InboxFolderView, PackageImport, PackageRef, PackageView,
    ReviewDecisionInput, TaskRef,
};

use crate::{Done, Output, task_text};

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Write manifest.json for a package folder (what an agent does last): every file's
    /// size and SHA-256, roles from the paths
    Seal {
        dir: PathBuf,
        #[arg(long)]
        task: String,
        /// The package version (1 for the first, 2 after the first rework …)
        #[arg(long, default_value_t = 1)]
        version: u32,
        #[arg(long, default_value = "guardia-cli")]
        producer: String,
        #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
        producer_version: String,
        #[arg(long, default_value = "manual")]
        run_id: String,
    },
    /// Import a package (folder, .zip or .tar.gz) for a task; refused packages change nothing
    Import {
        path: PathBuf,
        #[arg(long)]
        task: String,
    },
    /// A package's outline: files with status and your marks, warnings, health, summary
    Show {
        task: String,
        /// The version (default: the latest)
        #[arg(long, default_value_t = 0)]
        version: u32,
    },
    /// Mark a file viewed, waive it (with --reason), or clear the mark (`none`)
    Mark {
        task: String,
        path: String,
        #[arg(value_parser = ["viewed", "waived", "none"])]
        state: String,
        #[arg(long, default_value_t = 0)]
        version: u32,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Decide the version under review: approve, rework or take-over (PM)
    Decide {
        task: String,
        #[arg(value_parser = ["approve", "rework", "take-over"])]
        verdict: String,
        #[arg(long)]
        comment: String,
    },
    /// Work orders, rework briefs and withdrawals written for the agent
    Documents {
        task: String,
        /// Write them to the outbox again (after a full disk, a missing stick)
        #[arg(long)]
        rewrite: bool,
    },
    /// The inbox folder and what became of each package in it
    Inbox {
        /// Import every package a task waits for, now
        #[arg(long)]
        import: bool,
    },
    /// Require every file viewed or waived before a system's results are approved — admin
    Coverage {
        system: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

pub async fn run(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: PackageCommand,
) -> Result<Done, ApiError> {
    let reviews = api.reviews();
    match command {
        PackageCommand::Seal { .. } => return seal(command, out),
        PackageCommand::Import { path, task } => {
            let view = reviews
                .import(
                    caller,
                    PackageImport {
                        task,
                        path: path.display().to_string(),
                    },
                )
                .await?;
            out.print(&view, package_text)?;
        }
        PackageCommand::Show { task, version } => {
            let view = reviews.get(caller, PackageRef { task, version }).await?;
            out.print(&view, package_text)?;
        }
        PackageCommand::Mark {
            task,
            path,
            state,
            version,
            reason,
        } => {
            let version = match version {
                0 => {
                    reviews
                        .get(
                            caller,
                            PackageRef {
                                task: task.clone(),
                                version: 0,
                            },
                        )
                        .await?
                        .version
                }
                v => v,
            };
            let coverage = reviews
                .mark(
                    caller,
                    FileMark {
                        task,
                        version,
                        path,
                        state,
                        reason,
                    },
                )
                .await?;
            out.print(&coverage, |c| {
                format!(
                    "{}: {} — {} of {} viewed, {} waived",
                    c.path,
                    c.mark.as_ref().map_or("not viewed", |m| m.state.as_str()),
                    c.viewed,
                    c.total,
                    c.waived
                )
            })?;
        }
        PackageCommand::Decide {
            task,
            verdict,
            comment,
        } => {
            let latest = reviews
                .get(
                    caller,
                    PackageRef {
                        task: task.clone(),
                        version: 0,
                    },
                )
                .await?;
            let detail = reviews
                .decide(
                    caller,
                    ReviewDecisionInput {
                        task,
                        version: latest.version,
                        sha256: latest.sha256,
                        verdict: verdict.replace('-', "_"),
                        comment,
                        view: DiffView::default(),
                    },
                )
                .await?;
            out.print(&detail, task_text)?;
        }
        PackageCommand::Documents { task, rewrite } => {
            let docs = if rewrite {
                reviews.redeliver(&task).await?
            } else {
                reviews.documents(&TaskRef { id: task }.id).await?
            };
            out.print(&docs, |docs| documents_text(docs))?;
        }
        PackageCommand::Inbox { import } => {
            if import {
                let n = reviews.sweep_inbox().await?;
                eprintln!("imported {n} package(s) from the inbox");
            }
            let view = reviews.inbox(caller).await?;
            out.print(&view, inbox_text)?;
        }
        PackageCommand::Coverage { system, state } => {
            let on = reviews
                .set_full_coverage(caller, &system, state == "on")
                .await?;
            out.print(
                &serde_json::json!({ "system": system, "full_coverage": on }),
                |_| {
                    if on {
                        format!("{system}: approvals now need every file viewed or waived")
                    } else {
                        format!("{system}: approvals no longer need full coverage")
                    }
                },
            )?;
        }
    }
    Ok(Done::Success)
}

/// `guardia package seal`: writes the manifest of a package folder.
pub fn seal(command: PackageCommand, out: &Output) -> Result<Done, ApiError> {
    let PackageCommand::Seal {
        dir,
        task,
        version,
        producer,
        producer_version,
        run_id,
    } = command
    else {
        return Err(ApiError::Internal("seal called for another command".into()));
    };
    let files = read_folder(&dir)?;
    let producer = guardia_package::Producer {
        name: producer,
        version: producer_version,
        run_id,
    };
    let manifest =
        guardia_package::seal(&files, task.trim(), version, producer, chrono::Utc::now()).map_err(
            |refusal| ApiError::BadFile {
                path: dir.display().to_string(),
                reason: refusal.to_string(),
            },
        )?;
    let target = dir.join(guardia_package::MANIFEST);
    std::fs::write(&target, &manifest).map_err(ApiError::Io)?;
    let shown = target.display().to_string();
    out.print(
        &serde_json::json!({ "manifest": shown, "files": files.len() }),
        |_| format!("wrote {shown} ({} files)", files.len()),
    )?;
    Ok(Done::Success)
}

fn read_folder(dir: &std::path::Path) -> Result<BTreeMap<String, Vec<u8>>, ApiError> {
    let bad = |reason: String| ApiError::BadFile {
        path: dir.display().to_string(),
        reason,
    };
    // The same reader the import uses (so a folder that would be refused cannot be sealed).
    let entries = guardia_package::read_path(dir, &guardia_package::Limits::default())
        .map_err(|refusal| bad(refusal.to_string()))?;
    if entries.container != guardia_package::Container::Folder {
        return Err(bad(
            "seal a folder; an archive is sealed before it is packed".into(),
        ));
    }
    Ok(entries
        .files
        .into_iter()
        .map(|(path, entry)| (path, entry.bytes))
        .collect())
}

fn package_text(p: &PackageView) -> String {
    let mut out = format!(
        "{} v{} [{}] package {}\n  from {} {} run {} · imported {} by {}\n  result: {} — {}\n",
        p.task,
        p.version,
        p.state,
        &p.sha256[..16.min(p.sha256.len())],
        p.producer.name,
        p.producer.version,
        p.producer.run_id,
        p.imported_at,
        p.imported_by,
        p.result.status,
        p.result.summary
    );
    for w in &p.warnings {
        out.push_str(&format!("  ⚠ {}: {}\n", w.message, w.subjects.join(", ")));
    }
    for h in &p.health {
        out.push_str(&format!(
            "  health {:<4} {}{}\n",
            h.status,
            h.name,
            h.detail
                .as_ref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "  files: {} of {} viewed, {} waived{}\n",
        p.viewed,
        p.files.len(),
        p.waived,
        if p.require_full_coverage {
            " (this system needs every file viewed or waived)"
        } else {
            ""
        }
    ));
    for f in &p.files {
        let mark = match f.mark.as_ref().map(|m| m.state.as_str()) {
            Some("viewed") => "✓",
            Some("waived") => "~",
            _ => " ",
        };
        out.push_str(&format!(
            "  [{mark}] {:<9} +{:<4} -{:<4} {}{}{}\n",
            f.status,
            f.added,
            f.removed,
            f.path,
            if f.binary { " (binary)" } else { "" },
            if f.generated { " (generated)" } else { "" }
        ));
    }
    for c in &p.comments {
        out.push_str(&format!(
            "  💬 {}:{} {} — {}{}\n",
            c.path,
            c.line,
            c.author,
            c.body,
            if c.outdated { " (outdated)" } else { "" }
        ));
    }
    match &p.decide_blocked {
        None if p.can_decide => out.push_str("  you may decide: guardia package decide …\n"),
        Some(why) => out.push_str(&format!("  decision: {why}\n")),
        None => {}
    }
    out.trim_end().to_owned()
}

fn documents_text(docs: &[DocumentView]) -> String {
    if docs.is_empty() {
        return "no documents written for this task yet".into();
    }
    docs.iter()
        .map(|d| {
            format!(
                "#{} {} {} by {} — {}",
                d.seq,
                d.kind,
                d.at,
                d.by,
                match (&d.written_to, &d.write_error) {
                    (Some(path), _) => path.clone(),
                    (None, Some(error)) => format!("NOT WRITTEN: {error}"),
                    (None, None) => d.file_name.clone(),
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn inbox_text(view: &InboxFolderView) -> String {
    let mut out = format!("inbox {}\noutbox {}\n", view.folder, view.outbox);
    if view.items.is_empty() {
        out.push_str("  (empty)\n");
    }
    for item in &view.items {
        out.push_str(&format!(
            "  {:<9} {} {}\n",
            item.state, item.path, item.detail
        ));
    }
    out.trim_end().to_owned()
}
