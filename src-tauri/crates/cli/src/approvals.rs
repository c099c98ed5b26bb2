//! `guardia task submit|approve|reject|return`, `guardia inbox` and `guardia system …`:
//! approval chains and the rules that route them, from the command line. Each calls the
//! same `api.approvals()` operation the window does, with the same checks.

use chrono::DateTime;
use clap::Subcommand;
use guardia_api::{Api, ApiError, Caller};
use guardia_domain::governance::{Chain, Holder, RiskClass, StepKind, StepStatus, Verdict};
use guardia_ipc::{
    FreezeInput, InboxItem, RouteChange, RulesChange, SystemRouteChange, SystemRulesChange,
    SystemRulesView, TaskDecision, TaskRef,
};

use crate::{Done, Output, local, task_text};

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Every system with approval rules (owner, deputy, SLA, windows); `!` marks a mapping
    /// not confirmed for 30 days
    List,
    /// Set (or with no NAME clear) the system's owner — admin
    Owner {
        system: String,
        person: Option<String>,
    },
    /// Name (or with no NAME clear) your deputy — only the system's owner
    Deputy {
        system: String,
        person: Option<String>,
    },
    /// Set (or clear) the supervisor steps escalate to after the deputy — admin
    Supervisor {
        system: String,
        person: Option<String>,
    },
    /// Mark the owner away (`on`) or back (`off`) — the owner or an admin
    Away {
        system: String,
        #[arg(value_parser = parse_on_off, action = clap::ArgAction::Set)]
        state: bool,
    },
    /// Time to answer a step before it escalates: 90s, 10m, 2h — admin
    Sla {
        system: String,
        #[arg(value_parser = parse_duration)]
        duration: u32,
    },
    /// Mark a system sensitive (`on`: every chain on it ends with the security officer) — admin
    Sensitive {
        system: String,
        #[arg(value_parser = parse_on_off, action = clap::ArgAction::Set)]
        state: bool,
    },
    /// Replace the deploy windows — admin. No --hours: any hour
    Window {
        system: String,
        /// UTC offset the hours are written in
        #[arg(long, default_value = "+09:00")]
        tz: String,
        /// Authorised hours, repeatable: "mon-fri 09:00-18:00", "daily 02:00-05:00"
        #[arg(long = "hours")]
        hours: Vec<String>,
        /// A change freeze, repeatable: FROM..TO=REASON with RFC 3339 times
        #[arg(long = "freeze", value_parser = parse_freeze)]
        freezes: Vec<FreezeInput>,
    },
    /// Confirm the owner/deputy mapping is still right — the owner or an admin
    Confirm { system: String },
    /// Show the approval chain each risk class gets, or set one — admin:
    /// `guardia system policy --risk change --steps team_lead,pm`
    Policy {
        /// inspection, service_restart, change or infra_security
        #[arg(long, requires = "steps")]
        risk: Option<String>,
        /// Steps in order: team_lead, security_check, pm, security_officer
        #[arg(long, requires = "risk", value_delimiter = ',')]
        steps: Vec<String>,
    },
}

fn parse_on_off(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("`{raw}`: write on or off")),
    }
}

/// `90s`, `10m`, `2h`, or plain seconds.
pub fn parse_duration(raw: &str) -> Result<u32, String> {
    let raw = raw.trim();
    let (number, unit) = match raw.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => raw.split_at(i),
        None => (raw, "s"),
    };
    let number: u32 = number
        .parse()
        .map_err(|_| format!("`{raw}`: write a duration such as 90s, 10m or 2h"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("`{raw}`: the unit is s, m or h")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("`{raw}` is too long"))
}

fn parse_freeze(raw: &str) -> Result<FreezeInput, String> {
    let usage = || {
        format!(
            "`{raw}`: write FROM..TO=REASON, e.g. 2026-12-24T00:00:00+09:00..2026-12-26T00:00:00+09:00=holidays"
        )
    };
    let (range, reason) = raw.split_once('=').ok_or_else(usage)?;
    let (from, to) = range.split_once("..").ok_or_else(usage)?;
    let time = |t: &str| {
        DateTime::parse_from_rfc3339(t.trim())
            .map(|t| t.to_utc())
            .map_err(|_| usage())
    };
    Ok(FreezeInput {
        from: time(from)?,
        to: time(to)?,
        reason: reason.to_owned(),
    })
}

pub async fn submit(
    api: &Api,
    caller: &Caller,
    out: &Output,
    id: String,
) -> Result<Done, ApiError> {
    let detail = api.approvals().submit(caller, TaskRef { id }).await?;
    out.print(&detail, task_text)?;
    Ok(Done::Success)
}

pub async fn decide(
    api: &Api,
    caller: &Caller,
    out: &Output,
    id: String,
    verdict: Verdict,
    comment: String,
) -> Result<Done, ApiError> {
    let detail = api
        .approvals()
        .decide(
            caller,
            TaskDecision {
                id,
                verdict,
                comment,
            },
        )
        .await?;
    out.print(&detail, task_text)?;
    Ok(Done::Success)
}

pub async fn inbox(api: &Api, caller: &Caller, out: &Output) -> Result<Done, ApiError> {
    // A CLI run has no scheduler: bring overdue steps up to date first, as the console would.
    api.approvals().escalate_due().await?;
    let items = api.approvals().inbox(caller).await?;
    out.print(&items, |items| inbox_text(items))?;
    Ok(Done::Success)
}

fn inbox_text(items: &[InboxItem]) -> String {
    if items.is_empty() {
        return "nothing waits for you".to_owned();
    }
    let mut lines = vec![format!(
        "{:<7} {:<18} {:<16} {:<16} {:<11} {:<16} TITLE",
        "", "TASK", "STEP", "SYSTEM", "AS", "ESCALATES"
    )];
    lines.extend(items.iter().map(|item| {
        format!(
            "{:<7} {:<18} {:<16} {:<16} {:<11} {:<16} {}",
            if item.urgent { "URGENT" } else { "" },
            item.task.id.to_string(),
            item.kind.code(),
            item.task.system.as_str(),
            item.held_as,
            item.due.map(local).unwrap_or_default(),
            item.task.title
        )
    }));
    lines.join("\n")
}

pub async fn system(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: SystemCommand,
) -> Result<Done, ApiError> {
    let approvals = api.approvals();
    let rules = |system: String, change| SystemRulesChange { system, change };
    let route = |system: String, change| SystemRouteChange { system, change };
    let view = match command {
        SystemCommand::List => {
            let all = approvals.rules_list().await?;
            out.print(&all, |all| rules_table(all))?;
            return Ok(Done::Success);
        }
        SystemCommand::Policy { risk, steps } => {
            let mut policy = approvals.policy().await?;
            if let Some(risk) = risk {
                caller
                    .require(<guardia_ipc::ChainPolicySet as guardia_api::Operation>::PERMISSION)?;
                let risk = RiskClass::ALL
                    .into_iter()
                    .find(|r| r.code() == risk.trim().replace('-', "_"))
                    .ok_or_else(|| {
                        ApiError::InvalidRequest(format!(
                            "unknown risk `{risk}`: inspection, service_restart, change or infra_security"
                        ))
                    })?;
                let steps = steps
                    .iter()
                    .map(|raw| {
                        let code = raw.trim().replace('-', "_");
                        [
                            StepKind::TeamLead,
                            StepKind::SecurityCheck,
                            StepKind::Pm,
                            StepKind::SecurityOfficer,
                        ]
                        .into_iter()
                        .find(|k| k.code() == code)
                        .ok_or_else(|| {
                            ApiError::InvalidRequest(format!(
                                "unknown step `{raw}`: team_lead, security_check, pm or security_officer"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                match risk {
                    RiskClass::Inspection => policy.inspection = steps,
                    RiskClass::ServiceRestart => policy.service_restart = steps,
                    RiskClass::Change => policy.change = steps,
                    RiskClass::InfraSecurity => policy.infra_security = steps,
                }
                policy = approvals.set_policy(caller, policy).await?;
            }
            out.print(&policy, |p| {
                RiskClass::ALL
                    .iter()
                    .map(|risk| {
                        let steps: Vec<&str> = p.steps(*risk).iter().map(|s| s.code()).collect();
                        format!("{:<16} {}", risk.code(), steps.join(" → "))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            return Ok(Done::Success);
        }
        SystemCommand::Owner { system, person } => {
            approvals
                .set_rules(caller, rules(system, RulesChange::Owner { person }))
                .await?
        }
        SystemCommand::Supervisor { system, person } => {
            approvals
                .set_rules(caller, rules(system, RulesChange::Supervisor { person }))
                .await?
        }
        SystemCommand::Sla { system, duration } => {
            approvals
                .set_rules(
                    caller,
                    rules(system, RulesChange::Sla { seconds: duration }),
                )
                .await?
        }
        SystemCommand::Sensitive { system, state } => {
            approvals
                .set_rules(
                    caller,
                    rules(system, RulesChange::Sensitive { sensitive: state }),
                )
                .await?
        }
        SystemCommand::Window {
            system,
            tz,
            hours,
            freezes,
        } => {
            approvals
                .set_rules(
                    caller,
                    rules(
                        system,
                        RulesChange::Windows {
                            utc_offset: tz,
                            hours,
                            freezes,
                        },
                    ),
                )
                .await?
        }
        SystemCommand::Deputy { system, person } => {
            approvals
                .set_route(caller, route(system, RouteChange::Deputy { person }))
                .await?
        }
        SystemCommand::Away { system, state } => {
            approvals
                .set_route(caller, route(system, RouteChange::Away { away: state }))
                .await?
        }
        SystemCommand::Confirm { system } => {
            approvals
                .set_route(caller, route(system, RouteChange::Confirm))
                .await?
        }
    };
    out.print(&view, |view| rules_table(std::slice::from_ref(view)))?;
    Ok(Done::Success)
}

fn rules_table(all: &[SystemRulesView]) -> String {
    if all.is_empty() {
        return "no system has approval rules yet (guardia system owner SYSTEM NAME)".to_owned();
    }
    let name = |p: &Option<String>| p.clone().unwrap_or_else(|| "-".to_owned());
    let mut lines = vec![format!(
        "{:<2}{:<18} {:<16} {:<16} {:<16} {:>7} {:<9} WINDOWS",
        "", "SYSTEM", "OWNER", "DEPUTY", "SUPERVISOR", "SLA", ""
    )];
    lines.extend(all.iter().map(|r| {
        let owner = if r.owner_away {
            format!("{} (away)", name(&r.owner))
        } else {
            name(&r.owner)
        };
        let windows = if r.windows.hours.is_empty() && r.windows.freezes.is_empty() {
            "any time".to_owned()
        } else {
            let mut parts = r.hours_text.clone();
            parts.extend(
                r.windows
                    .freezes
                    .iter()
                    .map(|f| format!("freeze until {} ({})", local(f.to), f.reason)),
            );
            format!("{} {}", r.utc_offset, parts.join("; "))
        };
        format!(
            "{:<2}{:<18} {:<16} {:<16} {:<16} {:>6}s {:<9} {}",
            if r.unconfirmed { "!" } else { "" },
            r.system,
            owner,
            name(&r.deputy),
            name(&r.supervisor),
            r.sla_seconds,
            if r.sensitive { "sensitive" } else { "" },
            windows
        )
    }));
    lines.join("\n")
}

/// The approval rounds of a task, for `task show`.
pub fn chain_lines(rounds: &[Chain]) -> Vec<String> {
    let mut lines = Vec::new();
    for chain in rounds {
        lines.push(format!(
            "approval round {} ({}{})",
            chain.round,
            chain.risk.code(),
            if chain.sensitive { ", sensitive" } else { "" }
        ));
        for (i, step) in chain.steps.iter().enumerate() {
            let status = match step.status {
                StepStatus::Pending => "pending",
                StepStatus::Waiting => "waiting",
                StepStatus::Approved => "approved",
                StepStatus::Rejected => "rejected",
                StepStatus::Returned => "returned",
                StepStatus::Passed => "passed",
                StepStatus::Failed => "failed",
            };
            let holder = match &step.holder {
                Some(Holder::Person { name, level }) => match level {
                    Some(level) => format!("{name} ({})", level.code()),
                    None => name.to_string(),
                },
                Some(Holder::Pool { role }) => format!("any {role}"),
                None => String::new(),
            };
            let mut line = format!(
                "  {}. {:<17} {:<9} {}{}",
                i + 1,
                step.kind.code(),
                status,
                holder,
                if step.urgent { "  URGENT" } else { "" }
            );
            if let Some(due) = step.due.filter(|_| step.status == StepStatus::Waiting) {
                line.push_str(&format!("  escalates {}", local(due)));
            }
            lines.push(line);
            for hop in &step.hops {
                lines.push(format!(
                    "       {}  handed on ({}) to {}",
                    local(hop.at),
                    hop.reason.code(),
                    holder_name(&hop.to)
                ));
            }
            if let Some(d) = &step.decision {
                lines.push(format!(
                    "       {}  {} by {} — {}",
                    local(d.at),
                    d.verdict.code(),
                    d.by,
                    d.comment
                ));
            }
            if let Some(check) = &step.check {
                for failure in &check.failures {
                    lines.push(format!("       failed: {failure}"));
                }
            }
        }
    }
    lines
}

fn holder_name(holder: &Holder) -> String {
    match holder {
        Holder::Person { name, .. } => name.to_string(),
        Holder::Pool { role } => format!("any {role}"),
    }
}
