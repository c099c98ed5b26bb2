//! Approval chains through the API on a real SQLite file, on a manual clock: submit,
//! four-eyes refusals, the owner's approval, the inbox of whoever holds the next step, SLA
//! escalation owner → deputy → supervisor (also across a restart), an away owner, return
//! and resubmit, the security check failing closed outside the deploy window, and scopes.

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};
use guardia_api::{Api, ApprovalError, Caller, ManualClock};
use guardia_domain::governance::{DecisionRefused, Role, RoleGrant, Scope, StepStatus, Verdict};
use guardia_domain::{Category, PersonName, TaskStatus};
use guardia_ipc::{
    AuditQuery, ErrorCode, IpcError, PersonInput, RouteChange, RulesChange, SystemRouteChange,
    SystemRulesChange, TaskDecision, TaskDraft, TaskRef,
};
use guardia_secrets::OsKeyring;

use crate::support::{api_with, who};

/// Sunday 2026-12-06 09:00 KST.
const START: &str = "2026-12-06T09:00:00+09:00";

fn clock() -> ManualClock {
    ManualClock::new(DateTime::<FixedOffset>::parse_from_rfc3339(START).unwrap())
}

async fn api(dir: &std::path::Path, clock: &ManualClock) -> Arc<Api> {
    api_with(dir, Arc::new(clock.clone()), Arc::new(OsKeyring)).await
}

fn person(name: &str, roles: &[Role]) -> Caller {
    Caller::with_grants(
        PersonName::parse(name).unwrap(),
        roles.iter().map(|r| RoleGrant::everywhere(*r)).collect(),
    )
}

/// The people of these tests, added (set-up lets the test's OS stand-in add an admin first).
async fn people(api: &Api) {
    crate::support::add_people(
        api,
        &[
            ("kim.minji", Role::Requester),
            ("lee.teamlead", Role::TeamLead),
            ("choi.deputy", Role::TeamLead),
            ("han.head", Role::TeamLead),
            ("oh.pm", Role::Pm),
            ("bae.security", Role::SecurityOfficer),
        ],
    )
    .await;
}

async fn route(api: &Api, sla_seconds: u32) {
    let admin = person("admin", &[Role::Admin]);
    let set = |change| SystemRulesChange {
        system: "hr-portal".into(),
        change,
    };
    let rules = api.approvals();
    for change in [
        RulesChange::Owner {
            person: Some("lee.teamlead".into()),
        },
        RulesChange::Supervisor {
            person: Some("han.head".into()),
        },
        RulesChange::Sla {
            seconds: sla_seconds,
        },
    ] {
        rules.set_rules(&admin, set(change)).await.unwrap();
    }
    rules
        .set_route(
            &person("lee.teamlead", &[Role::TeamLead]),
            SystemRouteChange {
                system: "hr-portal".into(),
                change: RouteChange::Deputy {
                    person: Some("choi.deputy".into()),
                },
            },
        )
        .await
        .unwrap();
}

async fn task(api: &Api, category: Category, sub_type: &str) -> String {
    let detail = api
        .tasks()
        .create(
            &person("kim.minji", &[Role::Requester]),
            TaskDraft {
                title: "Fix the payroll export".into(),
                category: Some(category),
                sub_type: sub_type.into(),
                system: "hr-portal".into(),
                request: "The December export misses overtime.".into(),
                requester: "kim.minji".into(),
                priority: None,
            },
        )
        .await
        .unwrap();
    detail.task.id.to_string()
}

async fn decide(
    api: &Api,
    who: &Caller,
    id: &str,
    verdict: Verdict,
    comment: &str,
) -> Result<guardia_ipc::TaskDetail, ApprovalError> {
    api.approvals()
        .decide(
            who,
            TaskDecision {
                id: id.into(),
                verdict,
                comment: comment.into(),
            },
        )
        .await
}

async fn inbox_of(api: &Api, who: &Caller) -> Vec<(String, bool)> {
    api.approvals()
        .inbox(who)
        .await
        .unwrap()
        .into_iter()
        .map(|item| (item.task.id.to_string(), item.urgent))
        .collect()
}

/// Kinds of the newest `n` entries, oldest first.
async fn last_kinds(api: &Api, n: u32) -> Vec<String> {
    let page = api
        .audit_list(AuditQuery {
            limit: Some(n),
            ..Default::default()
        })
        .await
        .unwrap();
    page.entries.iter().rev().map(|e| e.kind.clone()).collect()
}

#[tokio::test]
async fn a_deploy_goes_from_requester_to_owner_to_approved_with_four_eyes_refusals_recorded_nowhere()
 {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    route(&api, 600).await;
    let kim = person("kim.minji", &[Role::Requester]);
    let lee = person("lee.teamlead", &[Role::TeamLead]);
    let oh = person("oh.pm", &[Role::Pm]);
    let id = task(&api, Category::Deploy, "web-fix").await;

    // Only the requester submits.
    let err = api
        .approvals()
        .submit(&lee, TaskRef { id: id.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");

    let detail = api
        .approvals()
        .submit(&kim, TaskRef { id: id.clone() })
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::PendingApproval);
    assert_eq!(detail.approvals.len(), 1);
    assert_eq!(inbox_of(&api, &lee).await, [(id.clone(), false)]);
    assert!(inbox_of(&api, &kim).await.is_empty());
    assert!(inbox_of(&api, &oh).await.is_empty());

    // Four-eyes: the requester's own approval is refused with the reason, and nothing moves.
    let size = api.audit_status().await.unwrap().entries;
    let err = decide(&api, &kim, &id, Verdict::Approve, "looks fine")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    // A requester decides nothing (the permission is named); four-eyes for someone who
    // could decide is the next check.
    assert!(err.to_string().contains("decide_approvals"), "{err}");
    let both = Caller::with_grants(
        PersonName::parse("kim.minji").unwrap(),
        vec![
            RoleGrant::everywhere(Role::Requester),
            RoleGrant::everywhere(Role::TeamLead),
        ],
    );
    let err = decide(&api, &both, &id, Verdict::Approve, "looks fine")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("own request"), "{err}");
    // Someone who does not hold the step is refused too.
    let err = decide(&api, &oh, &id, Verdict::Approve, "ok")
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ApprovalError::Refused {
            refused: DecisionRefused::NotYourStep { .. },
            ..
        }
    ));
    // A decision needs a comment.
    let err = decide(&api, &lee, &id, Verdict::Approve, "  ")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(api.audit_status().await.unwrap().entries, size);

    clock.advance(Duration::minutes(3));
    let detail = decide(&api, &lee, &id, Verdict::Approve, "checked with payroll")
        .await
        .unwrap();
    // A deploy's request stage is the owner; the PM step opens with the result review.
    assert_eq!(detail.task.status, TaskStatus::Approved);
    let chain = &detail.approvals[0];
    assert_eq!(chain.steps[0].status, StepStatus::Approved);
    assert_eq!(chain.steps[1].status, StepStatus::Pending);
    let decision = chain.steps[0].decision.as_ref().unwrap();
    assert_eq!(decision.by.as_str(), "lee.teamlead");
    assert_eq!(decision.comment, "checked with payroll");
    assert!(inbox_of(&api, &lee).await.is_empty());
    // The same person cannot decide twice.
    let err = decide(&api, &lee, &id, Verdict::Approve, "again")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");

    let kinds = last_kinds(&api, 4).await;
    assert_eq!(
        kinds,
        [
            "approval.granted",
            "outbox.written",
            "task.transitioned",
            "audit.checkpoint"
        ],
        "the decision, the work order for the agent, the task's move and the checkpoint it signs"
    );
    let checkpoint = api.audit_status().await.unwrap().last_checkpoint.unwrap();
    assert_eq!(checkpoint.reason, "approval");
}

#[tokio::test]
async fn an_unanswered_step_escalates_owner_deputy_supervisor_each_with_a_fresh_sla_also_across_a_restart()
 {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let id = {
        let api = api(dir.path(), &clock).await;
        people(&api).await;
        route(&api, 600).await;
        let id = task(&api, Category::Inspection, "health-check").await;
        api.approvals()
            .submit(
                &person("kim.minji", &[Role::Requester]),
                TaskRef { id: id.clone() },
            )
            .await
            .unwrap();
        clock.advance(Duration::seconds(599));
        assert_eq!(
            api.approvals().escalate_due().await.unwrap(),
            Some((clock_now(&clock) + Duration::seconds(1)).to_utc())
        );
        assert_eq!(
            inbox_of(&api, &person("lee.teamlead", &[Role::TeamLead])).await,
            [(id.clone(), false)],
            "not a second early"
        );
        clock.advance(Duration::seconds(1));
        api.approvals().escalate_due().await.unwrap();
        assert!(
            inbox_of(&api, &person("lee.teamlead", &[Role::TeamLead]))
                .await
                .is_empty()
        );
        assert_eq!(
            inbox_of(&api, &person("choi.deputy", &[Role::TeamLead])).await,
            [(id.clone(), true)],
            "the deputy holds it at minute 10, URGENT"
        );
        id
    };
    // The console is off for an hour: the deputy's SLA (minute 20) passes meanwhile.
    clock.advance(Duration::minutes(60));
    let api = api(dir.path(), &clock).await;
    api.approvals().escalate_due().await.unwrap();
    let han = person("han.head", &[Role::TeamLead]);
    assert_eq!(inbox_of(&api, &han).await, [(id.clone(), true)]);
    let detail = api.tasks().get(TaskRef { id: id.clone() }).await.unwrap();
    let step = &detail.approvals[0].steps[0];
    assert_eq!(step.hops.len(), 2);
    assert_eq!(
        step.original_owner.as_ref().unwrap().as_str(),
        "lee.teamlead"
    );
    assert_eq!(
        step.due.unwrap(),
        (clock_now(&clock) + Duration::minutes(10)).to_utc(),
        "a fresh SLA from the moment it reached the supervisor"
    );
    assert_eq!(
        last_kinds(&api, 1).await,
        ["approval.escalated"],
        "the hop at start is recorded"
    );
    let detail = decide(
        &api,
        &han,
        &id,
        Verdict::Approve,
        "approved on behalf of the team",
    )
    .await
    .unwrap();
    assert_eq!(detail.task.status, TaskStatus::Approved);
}

fn clock_now(clock: &ManualClock) -> DateTime<FixedOffset> {
    guardia_api::Clock::now(clock)
}

#[tokio::test]
async fn an_away_owner_hands_waiting_steps_to_the_deputy_and_only_the_owner_names_the_deputy() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    route(&api, 600).await;
    let lee = person("lee.teamlead", &[Role::TeamLead]);
    let choi = person("choi.deputy", &[Role::TeamLead]);
    let id = task(&api, Category::Inspection, "log-review").await;
    api.approvals()
        .submit(
            &person("kim.minji", &[Role::Requester]),
            TaskRef { id: id.clone() },
        )
        .await
        .unwrap();
    assert_eq!(inbox_of(&api, &lee).await.len(), 1);

    // Not the owner: an admin may not name the deputy either.
    for who in [choi.clone(), person("admin", &[Role::Admin])] {
        let err = api
            .approvals()
            .set_route(
                &who,
                SystemRouteChange {
                    system: "hr-portal".into(),
                    change: RouteChange::Deputy {
                        person: Some("han.head".into()),
                    },
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    }

    let view = api
        .approvals()
        .set_route(
            &lee,
            SystemRouteChange {
                system: "hr-portal".into(),
                change: RouteChange::Away { away: true },
            },
        )
        .await
        .unwrap();
    assert!(view.owner_away);
    assert!(inbox_of(&api, &lee).await.is_empty());
    assert_eq!(inbox_of(&api, &choi).await, [(id.clone(), false)]);
    let detail = decide(&api, &choi, &id, Verdict::Approve, "covering for lee")
        .await
        .unwrap();
    let step = &detail.approvals[0].steps[0];
    assert_eq!(
        step.original_owner.as_ref().unwrap().as_str(),
        "lee.teamlead"
    );
    assert_eq!(step.hops[0].reason.code(), "owner_away");
}

#[tokio::test]
async fn a_return_for_information_is_resubmitted_as_round_two_and_a_rejection_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    route(&api, 600).await;
    let kim = person("kim.minji", &[Role::Requester]);
    let lee = person("lee.teamlead", &[Role::TeamLead]);
    let id = task(&api, Category::Inspection, "log-review").await;
    let submit = || async {
        api.approvals()
            .submit(&kim, TaskRef { id: id.clone() })
            .await
    };
    submit().await.unwrap();
    let detail = decide(&api, &lee, &id, Verdict::Return, "which log, which days?")
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::Returned);
    let err = submit().await;
    assert!(err.is_ok(), "a returned task is resubmitted: {err:?}");
    let detail = api.tasks().get(TaskRef { id: id.clone() }).await.unwrap();
    assert_eq!(detail.task.status, TaskStatus::PendingApproval);
    assert_eq!(detail.approvals.len(), 2, "round 1 kept as history");
    assert_eq!(detail.approvals[1].round, 2);
    let detail = decide(&api, &lee, &id, Verdict::Reject, "not needed after all")
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::Cancelled);
    let err = submit().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    let events: Vec<String> = detail
        .timeline
        .iter()
        .filter_map(|e| match e.kind {
            guardia_domain::TimelineKind::Transition(t) => Some(t.event.code().to_owned()),
            guardia_domain::TimelineKind::Created => None,
        })
        .collect();
    assert_eq!(
        events,
        [
            "submitted",
            "returned_for_info",
            "resubmitted",
            "request_rejected"
        ]
    );
}

#[tokio::test]
async fn the_security_check_fails_closed_outside_the_deploy_window_and_names_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    route(&api, 600).await;
    api.approvals()
        .set_rules(
            &person("admin", &[Role::Admin]),
            SystemRulesChange {
                system: "hr-portal".into(),
                change: RulesChange::Windows {
                    utc_offset: "+09:00".into(),
                    hours: vec!["mon-fri 09:00-18:00".into()],
                    freezes: Vec::new(),
                },
            },
        )
        .await
        .unwrap();
    let id = task(&api, Category::InfraControl, "service-restart").await;
    api.approvals()
        .submit(
            &person("kim.minji", &[Role::Requester]),
            TaskRef { id: id.clone() },
        )
        .await
        .unwrap();
    // Sunday: the owner approves, then the automatic check refuses.
    let detail = decide(
        &api,
        &person("lee.teamlead", &[Role::TeamLead]),
        &id,
        Verdict::Approve,
        "restart is fine",
    )
    .await
    .unwrap();
    assert_eq!(detail.task.status, TaskStatus::Cancelled);
    let check = detail.approvals[0].steps[1].check.as_ref().unwrap();
    assert_eq!(detail.approvals[0].steps[1].status, StepStatus::Failed);
    assert!(
        check
            .failures
            .iter()
            .any(|f| f.contains("outside the authorised hours")
                && f.contains("2026-12-07 09:00 +09:00")),
        "{check:?}"
    );
    let note = &detail.timeline.last().unwrap().note;
    assert!(note.contains("security check failed"), "{note}");
}

#[tokio::test]
async fn roles_scoped_to_another_system_are_refused_by_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    let id = task(&api, Category::Inspection, "health-check").await;
    // A requester whose role covers only another system cannot submit this one.
    let elsewhere = |role| {
        Caller::with_grants(
            PersonName::parse("kim.minji").unwrap(),
            vec![RoleGrant {
                role,
                scope: Scope::parse("행정안전부/tax-portal").unwrap(),
            }],
        )
    };
    let err = api
        .approvals()
        .submit(&elsewhere(Role::Requester), TaskRef { id: id.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    assert!(err.to_string().contains("hr-portal"), "{err}");
    api.approvals()
        .submit(
            &person("kim.minji", &[Role::Requester]),
            TaskRef { id: id.clone() },
        )
        .await
        .unwrap();
    // No owner: the step is any team lead's of hr-portal — not one of tax-portal.
    let other_lead = Caller::with_grants(
        PersonName::parse("lee.teamlead").unwrap(),
        vec![RoleGrant {
            role: Role::TeamLead,
            scope: Scope::parse("행정안전부/tax-portal").unwrap(),
        }],
    );
    assert!(inbox_of(&api, &other_lead).await.is_empty());
    let err = decide(&api, &other_lead, &id, Verdict::Approve, "ok")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    // Through the operation table the answer is the same FORBIDDEN.
    let answer: IpcError = api
        .dispatch(
            "task_decide",
            &other_lead,
            serde_json::json!({"id": id, "verdict": "approve", "comment": "ok"}),
        )
        .await
        .unwrap_err();
    assert_eq!(answer.code, ErrorCode::Forbidden);
    let lead = person("lee.teamlead", &[Role::TeamLead]);
    assert_eq!(inbox_of(&api, &lead).await.len(), 1);
}

#[tokio::test]
async fn the_inbox_orders_by_priority_and_a_task_targets_a_system_of_the_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    route(&api, 600).await;
    let kim = person("kim.minji", &[Role::Requester]);
    let mut ids = Vec::new();
    for (title, priority) in [
        ("low first", guardia_domain::Priority::Low),
        ("urgent second", guardia_domain::Priority::Urgent),
        ("normal third", guardia_domain::Priority::Normal),
    ] {
        let detail = api
            .tasks()
            .create(
                &kim,
                TaskDraft {
                    title: title.into(),
                    category: Some(Category::Inspection),
                    sub_type: "log-review".into(),
                    system: "hr-portal".into(),
                    request: String::new(),
                    requester: "kim.minji".into(),
                    priority: Some(priority),
                },
            )
            .await
            .unwrap();
        assert_eq!(detail.task.priority, priority);
        let id = detail.task.id.to_string();
        api.approvals()
            .submit(&kim, TaskRef { id: id.clone() })
            .await
            .unwrap();
        ids.push(id);
    }
    let order: Vec<String> = inbox_of(&api, &person("lee.teamlead", &[Role::TeamLead]))
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(order, [ids[1].clone(), ids[2].clone(), ids[0].clone()]);

    // Once the inventory has systems, the target must be one of them.
    let csv = "institution,system,site,tier,server,address,port,user,auth\n\
               행정안전부,hr-portal,seoul-1,1,was-01,10.0.0.1,22,ops,key\n";
    api.inventory_import(
        &who(),
        guardia_ipc::InventoryFile {
            format: guardia_ipc::InventoryFormat::Csv,
            text: csv.into(),
            institution: String::new(),
            system: String::new(),
            default_user: String::new(),
            credential: String::new(),
            map: Vec::new(),
        },
    )
    .await
    .unwrap();
    let choices = api.approvals().system_choices().await.unwrap();
    assert_eq!(choices.len(), 1);
    assert_eq!(
        (
            choices[0].institution.as_str(),
            choices[0].sites,
            choices[0].servers,
            choices[0].owner.as_deref()
        ),
        ("행정안전부", 1, 1, Some("lee.teamlead"))
    );
    let refused = api
        .tasks()
        .create(
            &kim,
            TaskDraft {
                title: "somewhere else".into(),
                category: Some(Category::Inspection),
                sub_type: String::new(),
                system: "not-in-inventory".into(),
                request: String::new(),
                requester: "kim.minji".into(),
                priority: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("not a system of the inventory"),
        "{refused}"
    );
}

#[tokio::test]
async fn the_demo_people_find_the_demo_tasks_that_wait_for_approval_in_their_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    api.people().seed_demo(&who()).await.unwrap();
    assert!(api.seed_demo_if_empty().await.unwrap() > 0);
    let lead = Caller::with_grants(
        PersonName::parse("lee.teamlead").unwrap(),
        vec![RoleGrant::everywhere(Role::TeamLead)],
    );
    let waiting = api.approvals().inbox(&lead).await.unwrap();
    assert!(!waiting.is_empty(), "the demo team lead has work waiting");
    assert!(waiting.iter().all(|i| i.held_as == "owner"));
}

#[tokio::test]
async fn routing_names_only_people_who_may_decide_and_wrong_current_passwords_count() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let api = api(dir.path(), &clock).await;
    people(&api).await;
    let admin = person("admin", &[Role::Admin]);
    let owner = |name: &str| SystemRulesChange {
        system: "hr-portal".into(),
        change: RulesChange::Owner {
            person: Some(name.into()),
        },
    };
    let err = api
        .approvals()
        .set_rules(&admin, owner("kim.minji"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("decides approvals"), "{err}");
    api.people()
        .lock(
            &who(),
            guardia_ipc::AccountLock {
                name: "choi.deputy".into(),
                locked: true,
                reason: "left the team".into(),
            },
        )
        .await
        .unwrap();
    let err = api
        .approvals()
        .set_rules(&admin, owner("choi.deputy"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
    assert!(api.approvals().rules_list().await.unwrap().is_empty());

    // Guessing the current password counts like failed sign-ins: the fifth locks out.
    let lee = person("lee.teamlead", &[Role::TeamLead]);
    for _ in 0..4 {
        let err = api
            .people()
            .change_password(
                &lee,
                guardia_ipc::PasswordChange {
                    current: "not it at all".into(),
                    new: "a brand new password".into(),
                },
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("current password is wrong"),
            "{err}"
        );
    }
    let err = api
        .people()
        .change_password(
            &lee,
            guardia_ipc::PasswordChange {
                current: "not it at all".into(),
                new: "a brand new password".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("locked until"), "{err}");
    // The console's own name is not a person's.
    let err = api
        .people()
        .add(
            &who(),
            PersonInput {
                name: "guardia".into(),
                display_name: String::new(),
                password: "long enough password 1".into(),
                roles: vec![RoleGrant::everywhere(Role::Auditor)],
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("its own actions"), "{err}");
}
