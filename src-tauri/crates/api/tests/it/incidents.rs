//! The incident desk through the API on a real SQLite file and a manual clock: the on-call
//! commander, escalations fired by the sweep minute by minute (and after a restart), breaches
//! announced once, incidents opened by themselves from the audit log (once per cause), the
//! reportability checklist's clocks, the legal/DPO sign-off, the postmortem's tasks, the
//! banner's alerts and the month's figures.

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use guardia_api::{Api, Caller, ManualClock};
use guardia_domain::PersonName;
use guardia_domain::governance::{Role, RoleGrant};
use guardia_domain::incident::{Contact, Duty, IncidentSettings, Level, Obligation, Stage};
use guardia_ipc::{
    ActionInput, ErrorCode, IncidentAck, IncidentAdvance, IncidentChecklistSet, IncidentClassify,
    IncidentOpen, IncidentQuery, IncidentSettingsChange, IncidentUpdatePost, KillSwitchInput,
    PostmortemSave, ReportRef, ReportSubmit, StatsExport, StatsQuery, TaskDraft,
};
use guardia_secrets::OsKeyring;
use serde_json::json;

use crate::support::api_with;

/// Monday 2026-12-07 09:00 KST.
const START: &str = "2026-12-07T09:00:00+09:00";

fn clock() -> ManualClock {
    ManualClock::new(DateTime::<FixedOffset>::parse_from_rfc3339(START).unwrap())
}

fn now(clock: &ManualClock) -> DateTime<Utc> {
    guardia_api::Clock::now(clock).to_utc()
}

async fn api(dir: &std::path::Path, clock: &ManualClock) -> Arc<Api> {
    api_with(dir, Arc::new(clock.clone()), Arc::new(OsKeyring)).await
}

fn person(name: &str, role: Role) -> Caller {
    Caller::with_grants(
        PersonName::parse(name).unwrap(),
        vec![RoleGrant::everywhere(role)],
    )
}

async fn people(api: &Api) {
    crate::support::add_people(
        api,
        &[
            ("kim.minji", Role::Requester),
            ("lee.teamlead", Role::TeamLead),
            ("han.head", Role::TeamLead),
            ("song.operator", Role::Operator),
            ("jung.dpo", Role::LegalDpo),
        ],
    )
    .await;
}

/// Contacts per level and song.operator on call all day.
async fn desk(api: &Arc<Api>, clock: &ManualClock) {
    let contact = |level, person: &str| Contact {
        level,
        person: person.into(),
        reach: "010-1234-5678".into(),
    };
    let settings = IncidentSettings {
        contacts: vec![
            contact(Level::TeamLead, "lee.teamlead"),
            contact(Level::HeadOfDivision, "han.head"),
            contact(Level::Cto, "admin"),
        ],
        roster: vec![Duty {
            person: "song.operator".into(),
            from: now(clock) - Duration::hours(1),
            until: now(clock) + Duration::hours(12),
        }],
        ..IncidentSettings::default()
    };
    let refused = api
        .dispatch(
            "incident_settings_set",
            &person("song.operator", Role::Operator),
            json!({"settings": settings, "reason": "on-call roster"}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused.code,
        ErrorCode::Forbidden,
        "only an admin edits them"
    );
    api.incidents()
        .set_settings(
            &person("admin", Role::Admin),
            IncidentSettingsChange {
                settings,
                reason: "on-call roster for December".into(),
            },
        )
        .await
        .unwrap();
}

async fn kinds_of(api: &Arc<Api>, id: &str) -> Vec<String> {
    api.incidents()
        .get(id)
        .await
        .unwrap()
        .timeline
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn rules(api_view: &guardia_ipc::IncidentView) -> Vec<(String, Vec<String>)> {
    api_view
        .incident
        .escalations
        .iter()
        .map(|e| {
            (
                e.rule.clone(),
                e.contacts.iter().map(|c| c.person.clone()).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn escalations_fire_on_the_clock_and_after_a_restart_and_breaches_are_announced_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let id = {
        let api = api(dir.path(), &clock).await;
        people(&api).await;
        desk(&api, &clock).await;
        let opened = api
            .incidents()
            .open(
                &person("lee.teamlead", Role::TeamLead),
                IncidentOpen {
                    title: "결제 화면 응답 지연 · payments slow".into(),
                    kind: "application".into(),
                    ..IncidentOpen::default()
                },
            )
            .await
            .unwrap();
        let i = &opened.incident;
        assert_eq!(i.id, "INC-20261207-001", "the UTC day of opening");
        assert_eq!(
            i.severity.code(),
            "P2",
            "application opens at the severe end"
        );
        assert_eq!(
            i.roles.commander.as_deref(),
            Some("song.operator"),
            "on call"
        );
        assert_eq!(opened.respond.due, now(&clock) + Duration::minutes(30));
        assert_eq!(opened.recover.due, now(&clock) + Duration::hours(4));
        assert_eq!(opened.respond.state, "running");
        assert_eq!(
            opened.next_update_due,
            Some(now(&clock) + Duration::hours(1)),
            "P2 wants hourly updates"
        );

        clock.advance(Duration::minutes(14) + Duration::seconds(59));
        let next = api.incidents().sweep().await.unwrap();
        assert!(rules(&api.incidents().get(&i.id).await.unwrap()).is_empty());
        assert_eq!(
            next,
            Some(opened.incident.opened_at + Duration::minutes(15)),
            "the sweep asks to run again at the first rule"
        );
        clock.advance(Duration::seconds(1));
        api.incidents().sweep().await.unwrap();
        let v = api.incidents().get(&i.id).await.unwrap();
        assert_eq!(
            rules(&v),
            [("P2@15m".to_owned(), vec!["lee.teamlead".to_owned()])]
        );
        // Raised to P1 at minute 20: P1's 15-minute rule is overdue and fires at once.
        clock.advance(Duration::minutes(5));
        let raised = api
            .incidents()
            .classify(
                &person("song.operator", Role::Operator),
                IncidentClassify {
                    id: i.id.clone(),
                    revision: v.revision,
                    severity: "P1".into(),
                    kind: String::new(),
                    reason: "every branch affected".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            raised.respond.state, "breached",
            "P1 responds within 15 min"
        );
        let stale = api
            .incidents()
            .acknowledge(
                &person("song.operator", Role::Operator),
                IncidentAck {
                    id: i.id.clone(),
                    revision: v.revision,
                    escalation: String::new(),
                },
            )
            .await
            .unwrap_err();
        assert!(
            stale.to_string().contains("changed meanwhile"),
            "an old revision is refused: {stale}"
        );
        api.incidents().sweep().await.unwrap();
        let v = api.incidents().get(&i.id).await.unwrap();
        assert_eq!(
            rules(&v),
            [
                ("P2@15m".to_owned(), vec!["lee.teamlead".to_owned()]),
                (
                    "P1@15m".to_owned(),
                    vec!["lee.teamlead".to_owned(), "han.head".to_owned()]
                ),
            ]
        );
        assert_eq!(
            kinds_of(&api, &i.id)
                .await
                .iter()
                .filter(|k| *k == "incident.breached")
                .count(),
            1,
            "the respond breach is announced once"
        );
        api.incidents().sweep().await.unwrap();
        assert_eq!(rules(&api.incidents().get(&i.id).await.unwrap()).len(), 2);
        i.id.clone()
    };
    // The console is off for 45 minutes: minute 30 and minute 60 pass meanwhile.
    clock.advance(Duration::minutes(45));
    let api = api(dir.path(), &clock).await;
    api.incidents().sweep().await.unwrap();
    let v = api.incidents().get(&id).await.unwrap();
    let fired: Vec<String> = rules(&v).into_iter().map(|(r, _)| r).collect();
    assert_eq!(fired, ["P2@15m", "P1@15m", "P1@30m", "P1@60m"]);
    assert_eq!(v.recover.state, "breached");
    let breaches = kinds_of(&api, &id)
        .await
        .into_iter()
        .filter(|k| k == "incident.breached")
        .count();
    assert_eq!(breaches, 2, "respond, then recover");
    // Contacts acknowledge their escalation; the commander takes the incident on.
    let v = api
        .incidents()
        .acknowledge(
            &person("han.head", Role::TeamLead),
            IncidentAck {
                id: id.clone(),
                revision: v.revision,
                escalation: "P1@30m".into(),
            },
        )
        .await
        .unwrap();
    let ack = v.incident.escalations[2].acknowledged.as_ref().unwrap();
    assert_eq!(ack.by, "han.head");
    let v = api
        .incidents()
        .acknowledge(
            &person("song.operator", Role::Operator),
            IncidentAck {
                id: id.clone(),
                revision: v.revision,
                escalation: String::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(v.respond.state, "met_late");
    assert_eq!(v.incident.stage, Stage::Triage);
    let alerts = api.incidents().alerts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.incident == id && a.kind == "target_breached"),
        "{alerts:?}"
    );
}

#[tokio::test]
async fn a_kill_switch_press_opens_one_infrastructure_incident() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    assert!(api.incidents().scan().await.unwrap().is_empty());
    api.rollouts()
        .press(
            &person("song.operator", Role::Operator),
            KillSwitchInput {
                reason: "HTTP 502 on tier-1 canaries".into(),
            },
        )
        .await
        .unwrap();
    let opened = api.incidents().scan().await.unwrap();
    assert_eq!(opened.len(), 1);
    assert!(api.incidents().scan().await.unwrap().is_empty(), "once");
    let v = api.incidents().get(&opened[0]).await.unwrap();
    assert_eq!(v.incident.severity.code(), "P1");
    assert_eq!(
        v.incident.kind,
        guardia_domain::incident::IncidentType::Infrastructure
    );
    assert!(
        v.incident.title.contains("HTTP 502"),
        "{}",
        v.incident.title
    );
    assert_eq!(v.incident.opened_by, "guardia");
    let listed = api
        .incidents()
        .list(IncidentQuery {
            open_only: true,
            month: "2026-12".into(),
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn reports_need_the_dpo_and_the_postmortem_turns_actions_into_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    let operator = person("song.operator", Role::Operator);
    let task = api
        .tasks()
        .create(
            &person("kim.minji", Role::Requester),
            TaskDraft {
                title: "Recommendation model update".into(),
                category: Some(guardia_domain::Category::Deploy),
                sub_type: String::new(),
                system: "hr-portal".into(),
                request: "Deploy the new ranking model.".into(),
                requester: "kim.minji".into(),
                priority: None,
            },
        )
        .await
        .unwrap()
        .task
        .id
        .to_string();
    let v = api
        .incidents()
        .open(
            &operator,
            IncidentOpen {
                title: "추천 모델이 특정 지원자를 배제 · model excluded applicants".into(),
                kind: "data".into(),
                task: task.clone(),
                ..IncidentOpen::default()
            },
        )
        .await
        .unwrap();
    let id = v.incident.id.clone();
    assert_eq!(v.incident.links.system.as_deref(), Some("hr-portal"));
    let v = api
        .incidents()
        .set_checklist(
            &operator,
            IncidentChecklistSet {
                id: id.clone(),
                revision: v.revision,
                ai_system: true,
                harms: vec!["fundamental_rights".into()],
                personal_data: false,
                affected_people: 0,
                occurred_at: now(&clock) - Duration::hours(2),
                detected_at: now(&clock),
            },
        )
        .await
        .unwrap();
    assert_eq!(v.reports.len(), 1);
    assert_eq!(v.reports[0].obligation, Obligation::EuAiActArt73);
    assert_eq!(v.reports[0].clock, "running");
    assert_eq!(v.reports[0].due, Some(now(&clock) + Duration::hours(72)));
    assert!(
        api.incidents()
            .alerts()
            .await
            .unwrap()
            .iter()
            .all(|a| a.kind != "report_due_soon")
    );
    clock.advance(Duration::hours(49));
    let alerts = api.incidents().alerts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.incident == id && a.kind == "report_due_soon"),
        "{alerts:?}"
    );
    let draft = api
        .incidents()
        .report_draft(ReportRef {
            id: id.clone(),
            obligation: Obligation::EuAiActArt73,
        })
        .await
        .unwrap();
    assert!(draft.text.contains("EU AI Act Art. 73"), "{}", draft.text);
    assert!(draft.text.contains("hr-portal"), "{}", draft.text);
    assert!(draft.text.contains("FundamentalRights"), "{}", draft.text);
    let submit = |revision| ReportSubmit {
        id: id.clone(),
        revision,
        obligation: Obligation::EuAiActArt73,
        text: draft.text.clone(),
    };
    let refused = api
        .dispatch(
            "report_submit",
            &operator,
            serde_json::to_value(submit(0)).unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused.code,
        ErrorCode::Forbidden,
        "only legal/DPO signs off"
    );
    let v = api
        .incidents()
        .submit_report(&person("jung.dpo", Role::LegalDpo), submit(0))
        .await
        .unwrap();
    assert_eq!(
        v.incident.reports[0].submissions[0].signed_off_by,
        "jung.dpo"
    );
    assert_eq!(
        v.reports[0].clock, "running",
        "the detailed report: 15 days"
    );

    // The lifecycle to recovery; the postmortem before recovery cannot be completed.
    let advance = |stage: &str| IncidentAdvance {
        id: id.clone(),
        revision: 0,
        stage: stage.into(),
        note: String::new(),
    };
    api.incidents()
        .acknowledge(
            &operator,
            IncidentAck {
                id: id.clone(),
                revision: 0,
                escalation: String::new(),
            },
        )
        .await
        .unwrap();
    let wrong = api
        .incidents()
        .advance(&operator, advance("verify"))
        .await
        .unwrap_err();
    assert_eq!(guardia_ipc::IpcError::from(wrong).code, ErrorCode::Conflict);
    let postmortem = |complete| PostmortemSave {
        id: id.clone(),
        revision: 0,
        impact: "312 applicants ranked out for 2 days".into(),
        whys: vec!["the model used a proxy feature".into()],
        root_cause: "no fairness check in the review".into(),
        went_well: "the kill switch held".into(),
        went_badly: "detected by a complaint".into(),
        actions: vec![ActionInput {
            what: "add a fairness check to the review".into(),
            owner: "lee.teamlead".into(),
            due: "2026-12-31".into(),
        }],
        lessons: "check outcomes, not only code".into(),
        attendees: vec!["song.operator".into(), "lee.teamlead".into()],
        complete,
    };
    let early = api
        .incidents()
        .save_postmortem(&operator, postmortem(true))
        .await
        .unwrap_err();
    assert!(early.to_string().contains("after recovery"), "{early}");
    let tasks_before = api.tasks().list(Default::default()).await.unwrap().len();
    assert_eq!(tasks_before, 1, "a refused postmortem made no task");
    for stage in ["root_cause", "recover", "verify"] {
        api.incidents()
            .advance(&operator, advance(stage))
            .await
            .unwrap();
    }
    let update = api
        .incidents()
        .post_update(
            &operator,
            IncidentUpdatePost {
                id: id.clone(),
                revision: 0,
                state: "recovered".into(),
                text: "the previous model is back".into(),
                next_in_minutes: Some(0),
            },
        )
        .await
        .unwrap();
    assert!(update.update_messages[0].contains("#1"));
    assert!(update.update_messages[0].contains("복구됨 / Recovered"));
    let v = api
        .incidents()
        .save_postmortem(&operator, postmortem(true))
        .await
        .unwrap();
    let action_task = v.incident.postmortem.as_ref().unwrap().actions[0]
        .task
        .clone()
        .expect("the action became a task");
    let made = api
        .tasks()
        .get(guardia_ipc::TaskRef { id: action_task })
        .await
        .unwrap();
    assert!(made.task.title.as_str().contains("fairness check"));
    assert_eq!(made.task.system.as_str(), "hr-portal");
    api.incidents()
        .advance(&operator, advance("postmortem"))
        .await
        .unwrap();
    let closed = api
        .incidents()
        .advance(&operator, advance("closed"))
        .await
        .unwrap();
    assert_eq!(closed.incident.stage, Stage::Closed);
    let kinds = kinds_of(&api, &id).await;
    for kind in [
        "task.created",
        "incident.opened",
        "incident.checklist",
        "incident.report.submitted",
        "incident.acknowledged",
        "incident.stage",
        "incident.update",
        "incident.postmortem",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }

    // The month's figures: one incident, responded after 49 h, recovered right after.
    let stats = api
        .incidents()
        .stats(StatsQuery {
            month: "2026-12".into(),
        })
        .await
        .unwrap();
    assert_eq!(stats.total, 1);
    assert_eq!(stats.respond_breaches, 1);
    let csv = api
        .incidents()
        .stats_export(
            &operator,
            StatsExport {
                month: "2026-12".into(),
                format: "csv".into(),
            },
        )
        .await
        .unwrap();
    assert!(
        csv.content.contains("2026-12,total,,1\n"),
        "{}",
        csv.content
    );
    assert!(csv.content.contains("2026-12,count_by_type,data,1\n"));
}

/// The story on the lab: a rollout with a bad site opens an incident by itself
/// (through the feed pump, as in the console), linked to the rollout, typed application at
/// P2, with the rollout's audit entries on its timeline; its evidence pack verifies with the
/// documented independent script, and one edited byte fails it.
#[tokio::test]
async fn a_bad_site_opens_an_incident_whose_evidence_pack_verifies_offline() {
    use crate::rollout_fleet::fleet;
    use guardia_ipc::{PhaseInput, PlanInput, RolloutRequest};

    let f = fleet(4, 1, 0).await;
    let mut feed = f.api.runtime().feed().subscribe();
    let started = f
        .api
        .rollouts()
        .start(
            &f.operator,
            RolloutRequest {
                task: f.task.clone(),
                plan: PlanInput {
                    phases: vec![PhaseInput {
                        name: "all".into(),
                        select: "rest".into(),
                        window: 4,
                        gate: String::new(),
                        scope: "site".into(),
                    }],
                    budget: "1".into(),
                    soak_seconds: Some(0),
                },
                params: Default::default(),
            },
        )
        .await
        .unwrap();
    f.api.rollouts().wait(&started.id).await;
    // The pump opens it after the commit that recorded the rollback: wait on the feed.
    let wait = async {
        loop {
            let list = f
                .api
                .incidents()
                .list(IncidentQuery::default())
                .await
                .unwrap();
            if let Some(brief) = list.into_iter().next() {
                return brief;
            }
            feed.recv().await.unwrap();
        }
    };
    let brief = tokio::time::timeout(std::time::Duration::from_secs(20), wait)
        .await
        .expect("an incident opened by itself");
    let v = f.api.incidents().get(&brief.id).await.unwrap();
    let i = &v.incident;
    assert_eq!(i.links.rollout.as_deref(), Some(started.id.as_str()));
    assert_eq!(i.links.task.as_deref(), Some(f.task.as_str()));
    assert_eq!(i.links.system.as_deref(), Some("lab-app"));
    assert!(
        i.links
            .server
            .as_deref()
            .is_some_and(|s| s.starts_with("lab-"))
    );
    assert_eq!(i.kind, guardia_domain::incident::IncidentType::Application);
    assert_eq!(i.severity.code(), "P2");
    assert_eq!(i.cause, guardia_domain::incident::Cause::RolledBack);
    let kinds: Vec<&str> = v.timeline.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "task.created",
        "rollout.started",
        "rollout.site",
        "incident.opened",
    ] {
        assert!(kinds.contains(&kind), "{kind} on the timeline: {kinds:?}");
    }
    assert_eq!(
        f.api
            .incidents()
            .list(IncidentQuery::default())
            .await
            .unwrap()
            .len(),
        1,
        "one incident for the rollout, however many entries caused it"
    );

    let auditor = person("park.auditor", Role::Auditor);
    let pack = f.api.incidents().export(&auditor, &i.id).await.unwrap();
    let key = f.api.audit_status().await.unwrap().verifier_key.unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../docs/tools/verify-audit.py");
    let check = |file: &std::path::Path| {
        let out = std::process::Command::new("python3")
            .arg(&script)
            .args(["--evidence", &file.display().to_string(), "--key", &key])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let path = std::path::PathBuf::from(&pack.path);
    let (code, text) = check(&path);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.starts_with(&format!("intact: incident {}", i.id)),
        "{text}"
    );
    let bytes = std::fs::read(&path).unwrap();
    // One edited byte in each part: an entry, the attachments (a log), the checkpoint.
    let edits = [
        ("entry_base64", 12),
        ("\"rollout_logs\"", 40),
        ("\"checkpoint\"", 30),
    ];
    for (anchor, offset) in edits {
        let at = pack
            .content
            .find(anchor)
            .unwrap_or_else(|| panic!("{anchor} in the pack"))
            + anchor.len()
            + offset;
        let mut edited = bytes.clone();
        edited[at] = if edited[at] == b'A' { b'B' } else { b'A' };
        let file = f.data.path().join("edited.json");
        std::fs::write(&file, &edited).unwrap();
        let (code, text) = check(&file);
        assert_eq!(code, Some(1), "an edit after {anchor} must fail: {text}");
        assert!(text.starts_with("TAMPERED"), "{text}");
    }
}

#[tokio::test]
async fn notices_tell_the_contacts_and_the_people_on_duty_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    desk(&api, &clock).await;
    let lead = person("lee.teamlead", Role::TeamLead);
    let operator = person("song.operator", Role::Operator);
    let requester = person("kim.minji", Role::Requester);
    let mut lead_memory = guardia_api::IncidentNoticeMemory::default();
    let mut operator_memory = guardia_api::IncidentNoticeMemory::default();
    let mut requester_memory = guardia_api::IncidentNoticeMemory::default();
    for (who, memory) in [
        (&lead, &mut lead_memory),
        (&operator, &mut operator_memory),
        (&requester, &mut requester_memory),
    ] {
        assert!(
            api.incidents()
                .notices(who, memory)
                .await
                .unwrap()
                .is_empty(),
            "primed"
        );
    }
    let v = api
        .incidents()
        .open(
            &operator,
            IncidentOpen {
                title: "VPN down".into(),
                kind: "infrastructure".into(),
                ..IncidentOpen::default()
            },
        )
        .await
        .unwrap();
    let told = api
        .incidents()
        .notices(&operator, &mut operator_memory)
        .await
        .unwrap();
    assert_eq!(told.len(), 1);
    assert!(told[0].urgent, "P1 is urgent");
    assert!(told[0].summary.contains(&v.incident.id) && told[0].summary.contains("opened"));
    assert!(
        api.incidents()
            .notices(&operator, &mut operator_memory)
            .await
            .unwrap()
            .is_empty(),
        "once"
    );
    clock.advance(Duration::minutes(16));
    api.incidents().sweep().await.unwrap();
    let told = api
        .incidents()
        .notices(&lead, &mut lead_memory)
        .await
        .unwrap();
    let escalated: Vec<&str> = told.iter().map(|n| n.summary.as_str()).collect();
    assert!(
        escalated
            .iter()
            .any(|s| s.contains("P1@15m") && s.contains("escalated to you")),
        "{escalated:?}"
    );
    let told = api
        .incidents()
        .notices(&operator, &mut operator_memory)
        .await
        .unwrap();
    let escalation = told
        .iter()
        .find(|n| n.summary.contains("P1@15m"))
        .expect("the people on duty hear of it");
    assert!(
        escalation.body.contains("lee.teamlead 010-1234-5678"),
        "{}",
        escalation.body
    );
    assert!(
        told.iter()
            .any(|n| n.summary.contains("respond target breached"))
    );
    assert!(
        api.incidents()
            .notices(&requester, &mut requester_memory)
            .await
            .unwrap()
            .is_empty(),
        "a requester runs no incident"
    );
}

/// Causes written by another process (here: a second store on the same file) open one
/// incident per rollout; a later, worse cause of the same rollout raises it, never lowers it.
#[tokio::test]
async fn a_later_worse_cause_raises_the_rollouts_incident() {
    use guardia_audit::{EntryDraft, EntryKind};
    use guardia_store::{AuditStore, SqliteStore};

    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    let other = SqliteStore::open(&dir.path().join("guardia.db"))
        .await
        .unwrap();
    let site = |state: &str| {
        EntryDraft::new(
            now(&clock),
            EntryKind::RolloutSite,
            "song.operator",
            "rollout:R-X-1",
        )
        .with("site", "lab-app/lab-0003")
        .with("state", state)
        .with("detail", "")
    };
    other.append_audit(&[site("DONE")]).await.unwrap();
    assert!(
        api.incidents().scan().await.unwrap().is_empty(),
        "a done site is no cause"
    );
    other.append_audit(&[site("ROLLED_BACK")]).await.unwrap();
    let opened = api.incidents().scan().await.unwrap();
    assert_eq!(opened.len(), 1);
    let v = api.incidents().get(&opened[0]).await.unwrap();
    assert_eq!(v.incident.severity.code(), "P2");
    assert_eq!(v.incident.links.server.as_deref(), Some("lab-0003"));
    other
        .append_audit(&[site("MANUAL_INTERVENTION_REQUIRED"), site("ROLLED_BACK")])
        .await
        .unwrap();
    assert!(
        api.incidents().scan().await.unwrap().is_empty(),
        "the same rollout"
    );
    let v = api.incidents().get(&opened[0]).await.unwrap();
    assert_eq!(
        v.incident.severity.code(),
        "P1",
        "a failed rollback is worse"
    );
    let raised: Vec<_> = v
        .timeline
        .iter()
        .filter(|e| e.kind == "incident.classified")
        .collect();
    assert_eq!(raised.len(), 1, "raised once, not lowered again");
    assert_eq!(raised[0].actor, "guardia");
    assert!(
        raised[0].details.contains("needs manual intervention"),
        "{}",
        raised[0].details
    );
}
