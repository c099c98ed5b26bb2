//! The audit entries of incidents. Subject `incident:<id>`; each kind has one constructor
//! here and a golden test (`tests/golden/incident.txt`). Free text a person wrote (updates,
//! reports, the postmortem) goes in by SHA-256 and length only: the log proves what was said
//! without carrying what may be personal data; the evidence pack carries the text itself.

use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, EntryKind, sha256_hex};
use guardia_domain::incident::{Escalation, Incident, Obligation, ReportStage, StatusUpdate};

pub(crate) fn incident_subject(id: &str) -> String {
    format!("incident:{id}")
}

fn entry(kind: EntryKind, actor: &str, id: &str, at: DateTime<Utc>) -> EntryDraft {
    EntryDraft::new(at, kind, actor, incident_subject(id))
}

/// `sha256:<hex> (<n> chars)` of a text.
pub(crate) fn text_digest(text: &str) -> String {
    format!(
        "sha256:{} ({} chars)",
        sha256_hex(text.as_bytes()),
        text.chars().count()
    )
}

fn opt(value: Option<&str>) -> &str {
    value.unwrap_or("")
}

pub(crate) fn opened(i: &Incident, actor: &str) -> EntryDraft {
    entry(EntryKind::IncidentOpened, actor, &i.id, i.opened_at)
        .with("title", i.title.as_str())
        .with("type", format!("{:?}", i.kind))
        .with("severity", i.severity.code())
        .with("cause", i.cause.code())
        .with("cause_key", opt(i.cause_key.as_deref()))
        .with("task", opt(i.links.task.as_deref()))
        .with("rollout", opt(i.links.rollout.as_deref()))
        .with("server", opt(i.links.server.as_deref()))
        .with("system", opt(i.links.system.as_deref()))
        .with("detected_at", i.detected_at.to_rfc3339())
        .with("commander", opt(i.roles.commander.as_deref()))
}

pub(crate) fn acknowledged(id: &str, actor: &str, at: DateTime<Utc>) -> EntryDraft {
    entry(EntryKind::IncidentAcknowledged, actor, id, at)
}

pub(crate) fn classified(
    i: &Incident,
    before: &str,
    reason: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    entry(EntryKind::IncidentClassified, actor, &i.id, at)
        .with("severity", i.severity.code())
        .with("type", format!("{:?}", i.kind))
        .with("before", before)
        .with("reason", reason)
}

pub(crate) fn role(
    id: &str,
    role: &str,
    person: Option<&str>,
    before: Option<&str>,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    entry(EntryKind::IncidentRole, actor, id, at)
        .with("role", role)
        .with("person", opt(person))
        .with("before", opt(before))
}

pub(crate) fn stage(
    id: &str,
    from: &str,
    to: &str,
    note: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    entry(EntryKind::IncidentStage, actor, id, at)
        .with("from", from)
        .with("to", to)
        .with("note", note)
}

pub(crate) fn update(id: &str, u: &StatusUpdate) -> EntryDraft {
    entry(EntryKind::IncidentUpdate, &u.by, id, u.at)
        .with("number", u64::from(u.number))
        .with("state", u.state.code())
        .with("text", text_digest(&u.text))
        .with(
            "next_due",
            u.next_due.map(|d| d.to_rfc3339()).unwrap_or_default(),
        )
}

pub(crate) fn escalated(id: &str, e: &Escalation, actor: &str) -> EntryDraft {
    let levels: Vec<String> = e.levels.iter().map(|l| format!("{l:?}")).collect();
    let people: Vec<&str> = e.contacts.iter().map(|c| c.person.as_str()).collect();
    entry(EntryKind::IncidentEscalated, actor, id, e.at)
        .with("rule", e.rule.as_str())
        .with("levels", levels.join(","))
        .with("notified", people.join(","))
}

pub(crate) fn escalation_acknowledged(
    id: &str,
    rule: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    entry(EntryKind::IncidentEscalationAcknowledged, actor, id, at).with("rule", rule)
}

pub(crate) fn breached(
    id: &str,
    target: &str,
    due: DateTime<Utc>,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    entry(EntryKind::IncidentBreached, actor, id, at)
        .outcome(guardia_audit::Outcome::Failed)
        .with("target", target)
        .with("due", due.to_rfc3339())
}

pub(crate) fn checklist(i: &Incident, actor: &str, at: DateTime<Utc>) -> EntryDraft {
    let obligations: Vec<String> = i
        .reports
        .iter()
        .map(|r| format!("{:?}", r.obligation))
        .collect();
    let mut e = entry(EntryKind::IncidentChecklist, actor, &i.id, at)
        .with("obligations", obligations.join(","));
    if let Some(c) = &i.checklist {
        let harms: Vec<String> = c.harms.iter().map(|h| format!("{h:?}")).collect();
        e = e
            .with("ai_system", c.ai_system)
            .with("harms", harms.join(","))
            .with("personal_data", c.personal_data)
            .with("affected_people", c.affected_people)
            .with("occurred_at", c.occurred_at.to_rfc3339())
            .with("detected_at", c.detected_at.to_rfc3339());
    }
    e
}

pub(crate) fn report_submitted(
    id: &str,
    obligation: Obligation,
    rule: &str,
    stage: ReportStage,
    text: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    entry(EntryKind::IncidentReportSubmitted, actor, id, at)
        .with("obligation", format!("{obligation:?}"))
        .with("rule", rule)
        .with("stage", format!("{stage:?}"))
        .with("text", text_digest(text))
}

pub(crate) fn postmortem(i: &Incident, actor: &str, at: DateTime<Utc>) -> EntryDraft {
    let Some(p) = &i.postmortem else {
        return entry(EntryKind::IncidentPostmortem, actor, &i.id, at);
    };
    let tasks: Vec<&str> = p.actions.iter().filter_map(|a| a.task.as_deref()).collect();
    let body = serde_json::to_string(p).unwrap_or_default();
    entry(EntryKind::IncidentPostmortem, actor, &i.id, at)
        .with("complete", p.completed.is_some())
        .with("actions", p.actions.len() as u64)
        .with("tasks", tasks.join(","))
        .with("text", text_digest(&body))
}

pub(crate) fn settings(
    digest_before: &str,
    digest_after: &str,
    reason: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::IncidentSettings,
        actor,
        "console:incident-settings",
    )
    .with("before", digest_before)
    .with("after", digest_after)
    .with("reason", reason)
}

/// An evidence pack was written; `attachments_sha256` binds what the pack carries beside
/// the proven entries (the auditor's script recomputes it).
pub(crate) fn exported(
    id: &str,
    file: &str,
    attachments_sha256: &str,
    entries: u64,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    entry(EntryKind::IncidentExported, actor, id, at)
        .with("file", file)
        .with("attachments_sha256", attachments_sha256)
        .with("entries", entries)
}

#[cfg(test)]
mod golden {
    //! One golden line per incident entry kind: the canonical bytes an auditor's script reads.

    use chrono::TimeZone;
    use guardia_domain::incident::{
        Cause, Checklist, Contact, Harm, IncidentType, Level, Links, NewIncident, Postmortem,
        PreventionAction, Severity, Targets, UpdateState,
    };

    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap() + chrono::Duration::seconds(s)
    }

    #[test]
    fn every_incident_entry_kind_has_its_canonical_form() {
        let mut i = Incident::open(
            "INC-20261207-001".into(),
            NewIncident {
                title:
                    "롤아웃 R-1 · lab-app/lab-0012 롤백 / rollout R-1: lab-app/lab-0012 rolled back"
                        .into(),
                kind: IncidentType::Application,
                severity: Severity::P2,
                cause: Cause::RolledBack,
                cause_key: Some("rollout:R-1".into()),
                links: Links {
                    task: Some("OPS-20261207-001".into()),
                    rollout: Some("R-1".into()),
                    server: Some("lab-0012".into()),
                    system: Some("lab-app".into()),
                },
                opened_by: "guardia".into(),
                detected_at: at(0),
                targets: Targets::default_for(Severity::P2, 540),
                commander: Some("song.operator".into()),
            },
            at(0),
        )
        .unwrap();
        let mut lines = vec![opened(&i, "guardia")];
        lines.push(acknowledged(&i.id, "song.operator", at(60)));
        i.set_severity(Severity::P1, Targets::default_for(Severity::P1, 540))
            .unwrap();
        lines.push(classified(
            &i,
            "P2 application",
            "every site down",
            "song.operator",
            at(120),
        ));
        lines.push(role(
            &i.id,
            "scribe",
            Some("oh.pm"),
            None,
            "song.operator",
            at(180),
        ));
        lines.push(stage(
            &i.id,
            "TRIAGE",
            "ROOT_CAUSE",
            "no containment needed",
            "song.operator",
            at(240),
        ));
        let u = i
            .post_update(
                "song.operator",
                UpdateState::Investigating,
                "3 sites rolled back",
                Some(at(3900)),
                at(300),
            )
            .unwrap();
        lines.push(update(&i.id, &u));
        let rule = guardia_domain::incident::EscalationMatrix::default().rules[0].clone();
        i.escalate(
            &rule,
            vec![Contact {
                level: Level::TeamLead,
                person: "lee.teamlead".into(),
                reach: "010-0000-0000".into(),
            }],
            at(900),
        );
        lines.push(escalated(&i.id, &i.escalations[0], "guardia"));
        lines.push(escalation_acknowledged(
            &i.id,
            "P1@15m",
            "lee.teamlead",
            at(960),
        ));
        lines.push(breached(&i.id, "respond", at(900), "guardia", at(901)));
        i.set_checklist(
            Checklist {
                ai_system: true,
                harms: vec![Harm::FundamentalRights],
                personal_data: true,
                affected_people: 1200,
                occurred_at: at(-600),
                detected_at: at(0),
            },
            &guardia_domain::incident::report::ReportPreset::defaults(),
        )
        .unwrap();
        lines.push(checklist(&i, "song.operator", at(1000)));
        lines.push(report_submitted(
            &i.id,
            Obligation::EuAiActArt73,
            "EU AI Act Art. 73",
            ReportStage::Initial,
            "initial report as sent",
            "jung.dpo",
            at(1100),
        ));
        i.postmortem = Some(Postmortem {
            impact: "3 sites, 12 minutes".into(),
            root_cause: "pool size missing".into(),
            actions: vec![PreventionAction {
                what: "lint the pool size".into(),
                owner: "song.operator".into(),
                due: chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
                task: Some("OPS-20261207-002".into()),
            }],
            ..Postmortem::default()
        });
        lines.push(postmortem(&i, "song.operator", at(1200)));
        lines.push(settings(
            "sha256:aa (2 chars)",
            "sha256:bb (2 chars)",
            "new on-call roster",
            "admin",
            at(1300),
        ));
        lines.push(exported(
            &i.id,
            "INC-20261207-001-evidence.json",
            "cafe",
            42,
            "park.auditor",
            at(1400),
        ));
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(n, e)| String::from_utf8(e.encode(70 + n as u64).unwrap()).unwrap() + "\n")
            .collect();
        assert_eq!(
            text.trim_end(),
            include_str!("../tests/golden/incident.txt").trim_end(),
            "the canonical entries changed; if deliberate, the new golden text is:\n{text}"
        );
    }
}
