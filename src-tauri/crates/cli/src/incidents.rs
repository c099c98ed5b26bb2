//! `guardia incident …`: the same `api.incidents()` operations the incident desk calls, with
//! the same checks. A change names no revision here (0): it applies to the incident as it is
//! when the command runs, and is still refused if someone changes it in between.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use guardia_api::{Api, ApiError, Caller};
use guardia_domain::incident::Obligation;
use guardia_ipc::{
    ActionInput, IncidentAck, IncidentAdvance, IncidentBrief, IncidentChecklistSet,
    IncidentClassify, IncidentOpen, IncidentQuery, IncidentRoleSet, IncidentSettingsChange,
    IncidentStats, IncidentUpdatePost, IncidentView, PostmortemSave, ReportRef, ReportSubmit,
    StatsExport, StatsQuery,
};

use crate::{Done, Output, local};

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Open an incident by hand (its type decides the default severity)
    Open {
        #[arg(long)]
        title: String,
        /// infrastructure, application, security, data, performance, external_integration
        #[arg(long = "type")]
        kind: String,
        /// P1…P4 (default: the more severe end of the type's range)
        #[arg(long, default_value = "")]
        severity: String,
        #[arg(long, default_value = "")]
        task: String,
        #[arg(long, default_value = "")]
        rollout: String,
        #[arg(long, default_value = "")]
        server: String,
    },
    /// Incidents, newest first
    List {
        /// Only those not closed
        #[arg(long)]
        open: bool,
        /// Only those opened in this month (YYYY-MM)
        #[arg(long, default_value = "")]
        month: String,
    },
    /// One incident: targets, roles, escalations, updates, reports, timeline
    Show { id: String },
    /// Take the incident on (response target met), or acknowledge one escalation
    Ack {
        id: String,
        /// An escalation rule, e.g. P1@30m
        #[arg(long, default_value = "")]
        escalation: String,
    },
    /// Change severity and/or type
    Severity {
        id: String,
        /// P1…P4
        #[arg(default_value = "")]
        severity: String,
        #[arg(long = "type", default_value = "")]
        kind: String,
        #[arg(long)]
        reason: String,
    },
    /// Name the commander, tech lead, communications lead or scribe (empty person clears)
    Role {
        id: String,
        role: String,
        #[arg(default_value = "")]
        person: String,
    },
    /// Post a status update
    Update {
        id: String,
        /// investigating, mitigating, recovered
        #[arg(long)]
        state: String,
        #[arg(long)]
        text: String,
        /// Minutes to the next update (0: none; default: hourly for P1/P2)
        #[arg(long)]
        next: Option<u32>,
    },
    /// Move along the lifecycle: triage, contain, root_cause, recover, verify, postmortem, closed
    Advance {
        id: String,
        stage: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Regulatory reports: the checklist, a report's pre-filled text, the DPO's sign-off
    #[command(subcommand)]
    Report(ReportCommand),
    /// Save the postmortem from a JSON file ({"impact", "whys", "root_cause", "went_well",
    /// "went_badly", "actions": [{"what", "owner", "due"}], "lessons", "attendees"})
    Postmortem {
        id: String,
        #[arg(long, value_name = "FILE")]
        file: std::path::PathBuf,
        /// Complete it: each action becomes a task
        #[arg(long)]
        complete: bool,
    },
    /// Write an incident's evidence pack (check it with docs/tools/verify-audit.py --evidence)
    Export { id: String },
    /// Print the incident settings as JSON, or replace them from a JSON file (admin)
    Settings {
        #[arg(long, value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// A month's figures (or write them as csv / html)
    Stats {
        #[arg(long, default_value = "")]
        month: String,
        #[arg(long, value_parser = ["csv", "html"])]
        export: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Answer the reportability checklist; the applying reports' clocks start
    Checklist {
        id: String,
        /// An AI system was involved
        #[arg(long)]
        ai: bool,
        /// death_or_health, fundamental_rights, property_or_environment, breach_of_law
        #[arg(long = "harm")]
        harms: Vec<String>,
        #[arg(long)]
        personal_data: bool,
        #[arg(long, default_value_t = 0)]
        affected: u64,
        /// RFC 3339 (default: the detection time)
        #[arg(long)]
        occurred: Option<DateTime<Utc>>,
        /// RFC 3339 (default: when the incident was detected)
        #[arg(long)]
        detected: Option<DateTime<Utc>>,
    },
    /// Print the pre-filled text of a report's current stage
    Draft { id: String, obligation: String },
    /// Sign a report's current stage off as submitted (legal/DPO), with the text sent
    Submit {
        id: String,
        obligation: String,
        #[arg(long, value_name = "FILE")]
        text: std::path::PathBuf,
    },
}

fn obligation(raw: &str) -> Result<Obligation, ApiError> {
    Ok(
        match raw.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "euaiactart73" | "eu_ai_act" | "ai_act" => Obligation::EuAiActArt73,
            "koreapersonaldatanotification" | "pipa_notification" => {
                Obligation::KoreaPersonalDataNotification
            }
            "koreapersonaldatacommissionreport" | "pipa_commission" => {
                Obligation::KoreaPersonalDataCommissionReport
            }
            other => {
                return Err(ApiError::InvalidRequest(format!(
                    "unknown report `{other}`: use eu_ai_act, pipa_notification or pipa_commission"
                )));
            }
        },
    )
}

fn read(path: &std::path::Path) -> Result<String, ApiError> {
    std::fs::read_to_string(path).map_err(|e| ApiError::BadFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

pub async fn run(
    api: &Arc<Api>,
    caller: &Caller,
    out: &Output,
    command: IncidentCommand,
) -> Result<Done, ApiError> {
    let desk = api.incidents();
    let view = match command {
        IncidentCommand::Open {
            title,
            kind,
            severity,
            task,
            rollout,
            server,
        } => {
            desk.open(
                caller,
                IncidentOpen {
                    title,
                    kind,
                    severity,
                    task,
                    rollout,
                    server,
                    detected_at: None,
                },
            )
            .await?
        }
        IncidentCommand::List { open, month } => {
            let list = desk
                .list(IncidentQuery {
                    open_only: open,
                    month,
                })
                .await?;
            out.print(&list, |l| list_text(l))?;
            return Ok(Done::Success);
        }
        IncidentCommand::Show { id } => desk.get(&id).await?,
        IncidentCommand::Ack { id, escalation } => {
            desk.acknowledge(
                caller,
                IncidentAck {
                    id,
                    revision: 0,
                    escalation,
                },
            )
            .await?
        }
        IncidentCommand::Severity {
            id,
            severity,
            kind,
            reason,
        } => {
            desk.classify(
                caller,
                IncidentClassify {
                    id,
                    revision: 0,
                    severity,
                    kind,
                    reason,
                },
            )
            .await?
        }
        IncidentCommand::Role { id, role, person } => {
            desk.set_role(
                caller,
                IncidentRoleSet {
                    id,
                    revision: 0,
                    role,
                    person,
                },
            )
            .await?
        }
        IncidentCommand::Update {
            id,
            state,
            text,
            next,
        } => {
            desk.post_update(
                caller,
                IncidentUpdatePost {
                    id,
                    revision: 0,
                    state,
                    text,
                    next_in_minutes: next,
                },
            )
            .await?
        }
        IncidentCommand::Advance { id, stage, note } => {
            desk.advance(
                caller,
                IncidentAdvance {
                    id,
                    revision: 0,
                    stage,
                    note,
                },
            )
            .await?
        }
        IncidentCommand::Report(ReportCommand::Checklist {
            id,
            ai,
            harms,
            personal_data,
            affected,
            occurred,
            detected,
        }) => {
            let current = desk.get(&id).await?.incident;
            let detected = detected.unwrap_or(current.detected_at);
            desk.set_checklist(
                caller,
                IncidentChecklistSet {
                    id,
                    revision: 0,
                    ai_system: ai,
                    harms,
                    personal_data,
                    affected_people: affected,
                    occurred_at: occurred.unwrap_or(detected),
                    detected_at: detected,
                },
            )
            .await?
        }
        IncidentCommand::Report(ReportCommand::Draft { id, obligation: o }) => {
            let draft = desk
                .report_draft(ReportRef {
                    id,
                    obligation: obligation(&o)?,
                })
                .await?;
            out.print(&draft, |d| d.text.clone())?;
            return Ok(Done::Success);
        }
        IncidentCommand::Report(ReportCommand::Submit {
            id,
            obligation: o,
            text,
        }) => {
            desk.submit_report(
                caller,
                ReportSubmit {
                    id,
                    revision: 0,
                    obligation: obligation(&o)?,
                    text: read(&text)?,
                },
            )
            .await?
        }
        IncidentCommand::Postmortem { id, file, complete } => {
            #[derive(serde::Deserialize, Default)]
            #[serde(default)]
            struct Fields {
                impact: String,
                whys: Vec<String>,
                root_cause: String,
                went_well: String,
                went_badly: String,
                actions: Vec<ActionInput>,
                lessons: String,
                attendees: Vec<String>,
            }
            let f: Fields = serde_json::from_str(&read(&file)?).map_err(|e| ApiError::BadFile {
                path: file.display().to_string(),
                reason: e.to_string(),
            })?;
            desk.save_postmortem(
                caller,
                PostmortemSave {
                    id,
                    revision: 0,
                    impact: f.impact,
                    whys: f.whys,
                    root_cause: f.root_cause,
                    went_well: f.went_well,
                    went_badly: f.went_badly,
                    actions: f.actions,
                    lessons: f.lessons,
                    attendees: f.attendees,
                    complete,
                },
            )
            .await?
        }
        IncidentCommand::Export { id } => {
            let file = desk.export(caller, &id).await?;
            out.print(&file, |f| format!("written to {}", f.path))?;
            return Ok(Done::Success);
        }
        IncidentCommand::Settings { file, reason } => {
            let settings = match file {
                None => desk.settings().await?,
                Some(file) => {
                    let settings =
                        serde_json::from_str(&read(&file)?).map_err(|e| ApiError::BadFile {
                            path: file.display().to_string(),
                            reason: e.to_string(),
                        })?;
                    desk.set_settings(caller, IncidentSettingsChange { settings, reason })
                        .await?
                }
            };
            let json = serde_json::to_string_pretty(&settings)
                .map_err(|e| ApiError::Io(std::io::Error::other(e)))?;
            println!("{json}");
            return Ok(Done::Success);
        }
        IncidentCommand::Stats { month, export } => {
            if let Some(format) = export {
                let file = desk
                    .stats_export(caller, StatsExport { month, format })
                    .await?;
                out.print(&file, |f| format!("written to {}", f.path))?;
            } else {
                let stats = desk.stats(StatsQuery { month }).await?;
                out.print(&stats, stats_text)?;
            }
            return Ok(Done::Success);
        }
    };
    out.print(&view, view_text)?;
    Ok(Done::Success)
}

fn list_text(list: &[IncidentBrief]) -> String {
    if list.is_empty() {
        return "no incidents".to_owned();
    }
    let mut lines = vec![format!(
        "{:<17} {:<3} {:<20} {:<11} {:<16} {:<9} {:<9} TITLE",
        "ID", "SEV", "TYPE", "STAGE", "OPENED", "RESPOND", "RECOVER"
    )];
    lines.extend(list.iter().map(|i| {
        format!(
            "{:<17} {:<3} {:<20} {:<11} {:<16} {:<9} {:<9} {}",
            i.id,
            i.severity,
            i.kind,
            i.stage,
            local(i.opened_at),
            i.respond.state,
            i.recover.state,
            i.title
        )
    }));
    lines.join("\n")
}

fn view_text(v: &IncidentView) -> String {
    let i = &v.incident;
    let mut lines = vec![
        format!("{} [{}] {}", i.id, i.severity.code(), i.title),
        format!(
            "type {:?} · stage {} · cause {} · opened {} by {}",
            i.kind,
            i.stage.code(),
            i.cause.code(),
            local(i.opened_at),
            i.opened_by
        ),
        format!(
            "respond by {} ({}) · recover by {} ({})",
            local(v.respond.due),
            v.respond.state,
            local(v.recover.due),
            v.recover.state
        ),
    ];
    let links = [
        ("task", &i.links.task),
        ("rollout", &i.links.rollout),
        ("server", &i.links.server),
        ("system", &i.links.system),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
    .collect::<Vec<_>>();
    if !links.is_empty() {
        lines.push(format!("linked: {}", links.join(", ")));
    }
    for role in guardia_domain::incident::IncidentRole::ALL {
        if let Some(p) = i.roles.get(role) {
            lines.push(format!("{}: {p}", role.code()));
        }
    }
    for e in &i.escalations {
        let people: Vec<&str> = e.contacts.iter().map(|c| c.person.as_str()).collect();
        lines.push(format!(
            "escalation {} at {} → {} {}",
            e.rule,
            local(e.at),
            if people.is_empty() {
                "(no contacts set)".to_owned()
            } else {
                people.join(", ")
            },
            e.acknowledged.as_ref().map_or_else(
                || "(not acknowledged)".to_owned(),
                |m| format!("(ack {})", m.by)
            )
        ));
    }
    for m in &v.update_messages {
        lines.push(m.trim_end().to_owned());
    }
    if let Some(due) = v.next_update_due {
        lines.push(format!("next update due {}", local(due)));
    }
    for r in &v.reports {
        lines.push(format!(
            "report {} {:?}: {}{}",
            r.rule,
            r.stage,
            r.clock,
            r.due
                .map(|d| format!(" (due {})", local(d)))
                .unwrap_or_default()
        ));
    }
    if let Some(due) = v.postmortem_due {
        lines.push(format!("postmortem due {}", local(due)));
    }
    if let Some(p) = &i.postmortem {
        for a in &p.actions {
            lines.push(format!(
                "action: {} (owner {}, due {}){}",
                a.what,
                a.owner,
                a.due,
                a.task
                    .as_ref()
                    .map(|t| format!(" → task {t}"))
                    .unwrap_or_default()
            ));
        }
    }
    lines.push(format!("timeline ({} entries):", v.timeline.len()));
    lines.extend(v.timeline.iter().map(|e| {
        format!(
            "  #{} {} {} {} {}",
            e.index,
            local(e.at),
            e.kind,
            e.actor,
            e.result
        )
    }));
    lines.join("\n")
}

fn stats_text(s: &IncidentStats) -> String {
    let mins = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |s| format!("{} min", s / 60));
    let mut lines = vec![format!("{}: {} incident(s)", s.month, s.total)];
    for c in &s.by_severity {
        lines.push(format!("  {} {}", c.key, c.count));
    }
    for c in &s.by_type {
        lines.push(format!("  {} {}", c.key, c.count));
    }
    lines.push(format!(
        "respond mean {} max {} · recover mean {} max {}",
        mins(s.respond_mean_s),
        mins(s.respond_max_s),
        mins(s.recover_mean_s),
        mins(s.recover_max_s)
    ));
    lines.push(format!(
        "targets missed: respond {} recover {} · recurrences {}",
        s.respond_breaches, s.recover_breaches, s.recurrences
    ));
    for (m, v) in &s.mttr_trend {
        lines.push(format!("MTTR {m}: {}", mins(*v)));
    }
    lines.join("\n")
}
