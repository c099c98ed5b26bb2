//! The approval chain, driven with plain times (the "manual clock" of pure code).

use chrono::{DateTime, Duration, Utc};

use super::*;

fn p(name: &str) -> PersonName {
    PersonName::parse(name).unwrap()
}

fn at(minute: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T09:00:00Z")
        .unwrap()
        .to_utc()
        + Duration::minutes(minute)
}

fn routing() -> Routing {
    Routing {
        owner: Some(p("lee.owner")),
        deputy: Some(p("park.deputy")),
        supervisor: Some(p("choi.supervisor")),
        owner_away: false,
        sla_seconds: 600,
    }
}

fn started(risk: RiskClass, sensitive: bool) -> (Chain, Vec<Effect>) {
    let mut chain = Chain::new(
        &ChainPolicy::default(),
        risk,
        sensitive,
        p("kim.requester"),
        1,
    );
    let effects = chain.start(at(0), &routing());
    (chain, effects)
}

fn kinds(chain: &Chain) -> Vec<StepKind> {
    chain.steps.iter().map(|s| s.kind).collect()
}

fn holder(chain: &Chain) -> Option<Holder> {
    chain.waiting().and_then(|(_, s)| s.holder.clone())
}

fn person(name: &str, level: RouteLevel) -> Holder {
    Holder::Person {
        name: p(name),
        level: Some(level),
    }
}

/// Anyone is a PM / security officer of the system (the pool check is the API's).
fn any_role(_: Role) -> bool {
    true
}

fn approve(chain: &mut Chain, by: &str, minute: i64) -> Vec<Effect> {
    chain
        .decide(
            &p(by),
            any_role,
            Verdict::Approve,
            "확인했습니다 / checked",
            at(minute),
            &routing(),
        )
        .unwrap()
}

#[test]
fn risk_classes_follow_the_category_and_sub_type() {
    let restart = SubType::parse("service-restart").unwrap();
    let cert = SubType::parse("certificate-replace").unwrap();
    assert_eq!(
        RiskClass::of(Category::Inspection, None),
        RiskClass::Inspection
    );
    assert_eq!(RiskClass::of(Category::Deploy, None), RiskClass::Change);
    assert_eq!(RiskClass::of(Category::Data, None), RiskClass::Change);
    assert_eq!(
        RiskClass::of(Category::InfraControl, Some(&restart)),
        RiskClass::ServiceRestart
    );
    assert_eq!(
        RiskClass::of(Category::InfraControl, Some(&cert)),
        RiskClass::InfraSecurity
    );
    assert_eq!(
        RiskClass::of(Category::InfraControl, None),
        RiskClass::InfraSecurity
    );
}

#[test]
fn each_risk_class_gets_the_chain_of_spec_section_3_and_sensitive_adds_the_security_officer() {
    use StepKind::*;
    let cases = [
        (RiskClass::Inspection, false, vec![TeamLead]),
        (RiskClass::Inspection, true, vec![TeamLead, SecurityOfficer]),
        (
            RiskClass::ServiceRestart,
            false,
            vec![TeamLead, SecurityCheck],
        ),
        (RiskClass::Change, false, vec![TeamLead, Pm]),
        (RiskClass::Change, true, vec![TeamLead, Pm, SecurityOfficer]),
        (
            RiskClass::InfraSecurity,
            false,
            vec![TeamLead, Pm, SecurityOfficer],
        ),
        (
            RiskClass::InfraSecurity,
            true,
            vec![TeamLead, Pm, SecurityOfficer],
        ),
    ];
    for (risk, sensitive, expected) in cases {
        let (chain, _) = started(risk, sensitive);
        assert_eq!(kinds(&chain), expected, "{risk:?} sensitive={sensitive}");
    }
}

#[test]
fn inspection_is_approved_by_the_owner_alone() {
    let (mut chain, effects) = started(RiskClass::Inspection, false);
    assert_eq!(
        effects,
        [Effect::Notify {
            step: 0,
            to: person("lee.owner", RouteLevel::Owner),
            urgent: false
        }]
    );
    assert_eq!(chain.steps[0].due, Some(at(10)));
    assert_eq!(approve(&mut chain, "lee.owner", 3), [Effect::ChainComplete]);
    assert!(chain.is_over());
    let decision = chain.steps[0].decision.as_ref().unwrap();
    assert_eq!(decision.by, p("lee.owner"));
    assert_eq!(decision.at, at(3));
}

#[test]
fn a_sensitive_inspection_waits_for_a_security_officer_after_the_owner() {
    let (mut chain, _) = started(RiskClass::Inspection, true);
    let effects = approve(&mut chain, "lee.owner", 1);
    assert_eq!(
        effects,
        [Effect::Notify {
            step: 1,
            to: Holder::Pool {
                role: Role::SecurityOfficer
            },
            urgent: false
        }]
    );
    assert_eq!(
        approve(&mut chain, "yoon.security", 2),
        [Effect::ChainComplete]
    );
}

#[test]
fn a_service_restart_runs_the_security_check_after_the_owner_and_a_pass_approves_it() {
    let (mut chain, _) = started(RiskClass::ServiceRestart, false);
    assert_eq!(
        approve(&mut chain, "lee.owner", 1),
        [Effect::RunSecurityCheck { step: 1 }]
    );
    // People cannot sign the automatic step.
    assert_eq!(
        chain.decide(
            &p("park.deputy"),
            any_role,
            Verdict::Approve,
            "ok",
            at(2),
            &routing()
        ),
        Err(DecisionRefused::AutomaticStep)
    );
    let result = CheckResult {
        failures: vec![],
        checked: vec!["playbook allowed".into()],
    };
    assert_eq!(
        chain.security_check(result, at(2), &routing()),
        Some(vec![Effect::ChainComplete])
    );
    assert_eq!(chain.steps[1].status, StepStatus::Passed);
}

#[test]
fn a_failed_security_check_ends_the_chain_with_its_reason() {
    let (mut chain, _) = started(RiskClass::ServiceRestart, false);
    approve(&mut chain, "lee.owner", 1);
    let result = CheckResult {
        failures: vec!["the deploy window is closed until 2026-12-03 09:00 +09:00".into()],
        checked: vec![],
    };
    assert_eq!(
        chain.security_check(result, at(2), &routing()),
        Some(vec![Effect::Rejected { step: 1 }])
    );
    assert_eq!(chain.steps[1].status, StepStatus::Failed);
    assert!(chain.is_over());
    assert_eq!(chain.waiting(), None);
}

#[test]
fn a_deploy_is_approved_for_work_after_the_owner_and_the_pm_step_opens_with_the_review() {
    let (mut chain, _) = started(RiskClass::Change, false);
    assert_eq!(
        approve(&mut chain, "lee.owner", 1),
        [Effect::RequestApproved]
    );
    assert_eq!(
        chain.waiting(),
        None,
        "the PM step waits for the result package"
    );
    assert!(!chain.is_over());
    let effects = chain.open_result_stage(at(60), &routing());
    assert_eq!(
        effects,
        [Effect::Notify {
            step: 1,
            to: Holder::Pool { role: Role::Pm },
            urgent: false
        }]
    );
    assert_eq!(approve(&mut chain, "jung.pm", 70), [Effect::ChainComplete]);
}

#[test]
fn a_pm_who_asked_for_rework_judges_the_next_version_from_a_fresh_result_stage() {
    let (mut chain, _) = started(RiskClass::InfraSecurity, false);
    approve(&mut chain, "lee.owner", 1);
    // Nothing to reopen before the result stage was reached.
    chain.open_result_stage(at(2), &routing());
    let rejected = chain
        .decide(
            &p("jung.pm"),
            any_role,
            Verdict::Reject,
            "escape the title too",
            at(3),
            &routing(),
        )
        .unwrap();
    assert_eq!(rejected, [Effect::Rejected { step: 1 }]);
    assert!(chain.is_over());
    let effects = chain.reopen_result_stage(at(30), &routing());
    assert_eq!(
        effects,
        [Effect::Notify {
            step: 1,
            to: Holder::Pool { role: Role::Pm },
            urgent: false
        }]
    );
    assert_eq!(
        chain.steps[0].status,
        StepStatus::Approved,
        "the request stays signed"
    );
    assert_eq!(chain.steps[1].decision, None);
    assert_eq!(chain.steps[2].status, StepStatus::Pending);
    // The same PM may judge v2; the owner still may not sign a second step.
    approve(&mut chain, "jung.pm", 31);
    assert!(matches!(
        chain.decide(
            &p("lee.owner"),
            any_role,
            Verdict::Approve,
            "ok",
            at(32),
            &routing()
        ),
        Err(DecisionRefused::SecondSignature { .. })
    ));
}

#[test]
fn a_request_still_in_approval_has_no_result_stage_to_reopen() {
    let (mut chain, _) = started(RiskClass::Change, false);
    assert_eq!(chain.reopen_result_stage(at(1), &routing()), []);
    assert!(!chain.result_stage_open);
    let (mut inspection, _) = started(RiskClass::Inspection, false);
    approve(&mut inspection, "lee.owner", 1);
    assert!(!inspection.has_result_stage());
    assert_eq!(inspection.reopen_result_stage(at(2), &routing()), []);
}

#[test]
fn an_infra_change_needs_three_different_people_in_order() {
    let (mut chain, _) = started(RiskClass::InfraSecurity, false);
    approve(&mut chain, "lee.owner", 1);
    chain.open_result_stage(at(2), &routing());
    // The owner already signed step 1: they cannot sign the PM step too.
    assert_eq!(
        chain.decide(
            &p("lee.owner"),
            any_role,
            Verdict::Approve,
            "ok",
            at(3),
            &routing()
        ),
        Err(DecisionRefused::SecondSignature {
            person: p("lee.owner"),
            step: 0
        })
    );
    assert_eq!(
        approve(&mut chain, "jung.pm", 4),
        [Effect::Notify {
            step: 2,
            to: Holder::Pool {
                role: Role::SecurityOfficer
            },
            urgent: false
        }]
    );
    assert_eq!(
        approve(&mut chain, "yoon.security", 5),
        [Effect::ChainComplete]
    );
}

#[test]
fn a_rejection_ends_the_chain_with_the_comment_kept() {
    let (mut chain, _) = started(RiskClass::Inspection, false);
    let effects = chain
        .decide(
            &p("lee.owner"),
            any_role,
            Verdict::Reject,
            "  대상 시스템이 틀렸습니다  ",
            at(4),
            &routing(),
        )
        .unwrap();
    assert_eq!(effects, [Effect::Rejected { step: 0 }]);
    assert_eq!(chain.steps[0].status, StepStatus::Rejected);
    assert_eq!(
        chain.steps[0].decision.as_ref().unwrap().comment,
        "대상 시스템이 틀렸습니다"
    );
    assert!(chain.is_over());
    assert_eq!(chain.tick(at(100), &routing()), []);
}

#[test]
fn a_return_for_information_ends_the_round_and_a_resubmission_starts_round_two_from_the_owner() {
    let (mut chain, _) = started(RiskClass::Change, false);
    let effects = chain
        .decide(
            &p("lee.owner"),
            any_role,
            Verdict::Return,
            "어느 서버인지 적어 주세요 / which servers?",
            at(2),
            &routing(),
        )
        .unwrap();
    assert_eq!(effects, [Effect::Returned { step: 0 }]);
    assert!(chain.is_over());

    let mut round_two = Chain::new(
        &ChainPolicy::default(),
        RiskClass::Change,
        false,
        p("kim.requester"),
        chain.round + 1,
    );
    let effects = round_two.start(at(30), &routing());
    assert_eq!(round_two.round, 2);
    assert_eq!(
        effects,
        [Effect::Notify {
            step: 0,
            to: person("lee.owner", RouteLevel::Owner),
            urgent: false
        }]
    );
    // A new round is a new chain: the owner who returned it may approve it now.
    assert_eq!(
        approve(&mut round_two, "lee.owner", 31),
        [Effect::RequestApproved]
    );
}

#[test]
fn every_decision_needs_a_comment() {
    let (mut chain, _) = started(RiskClass::Inspection, false);
    for verdict in [Verdict::Approve, Verdict::Reject, Verdict::Return] {
        assert_eq!(
            chain.decide(&p("lee.owner"), any_role, verdict, " \n", at(1), &routing()),
            Err(DecisionRefused::CommentRequired)
        );
    }
    assert_eq!(chain.steps[0].status, StepStatus::Waiting);
}

#[test]
fn four_eyes_the_requester_never_approves_their_own_request() {
    let (mut chain, _) = started(RiskClass::Change, false);
    let refused = chain
        .decide(
            &p("kim.requester"),
            any_role,
            Verdict::Approve,
            "ok",
            at(1),
            &routing(),
        )
        .unwrap_err();
    assert_eq!(refused, DecisionRefused::OwnRequest(p("kim.requester")));
    assert_eq!(
        refused.to_string(),
        "kim.requester cannot approve their own request (four-eyes)"
    );
    assert_eq!(chain.steps[0].status, StepStatus::Waiting);
}

#[test]
fn four_eyes_only_the_holder_decides_a_step() {
    let (mut chain, _) = started(RiskClass::Inspection, false);
    assert_eq!(
        chain.decide(
            &p("park.deputy"),
            any_role,
            Verdict::Approve,
            "ok",
            at(1),
            &routing()
        ),
        Err(DecisionRefused::NotYourStep {
            person: p("park.deputy"),
            holder: "lee.owner".into()
        })
    );
}

#[test]
fn a_pooled_step_needs_the_role_over_the_system() {
    let (mut chain, _) = started(RiskClass::Inspection, true);
    approve(&mut chain, "lee.owner", 1);
    let refused = chain.decide(
        &p("jung.pm"),
        |role| role == Role::Pm,
        Verdict::Approve,
        "ok",
        at(2),
        &routing(),
    );
    assert!(matches!(refused, Err(DecisionRefused::NotYourStep { .. })));
    assert!(chain.waits_for(&p("yoon.security"), |role| role == Role::SecurityOfficer));
    assert!(!chain.waits_for(&p("lee.owner"), |_| true), "signed step 1");
}

#[test]
fn an_owner_who_is_the_requester_is_skipped_for_the_deputy() {
    let mut chain = Chain::new(
        &ChainPolicy::default(),
        RiskClass::Inspection,
        false,
        p("lee.owner"),
        1,
    );
    chain.start(at(0), &routing());
    assert_eq!(
        holder(&chain),
        Some(person("park.deputy", RouteLevel::Deputy))
    );
}

#[test]
fn away_owner_steps_go_to_the_deputy_and_the_record_keeps_the_owner() {
    let away = Routing {
        owner_away: true,
        ..routing()
    };
    let mut chain = Chain::new(
        &ChainPolicy::default(),
        RiskClass::Inspection,
        false,
        p("kim.requester"),
        1,
    );
    let effects = chain.start(at(0), &away);
    let hop = Hop {
        at: at(0),
        from: person("lee.owner", RouteLevel::Owner),
        to: person("park.deputy", RouteLevel::Deputy),
        reason: HopReason::OwnerAway,
    };
    assert_eq!(
        effects,
        [
            Effect::Handed {
                step: 0,
                hop: hop.clone()
            },
            Effect::Notify {
                step: 0,
                to: person("park.deputy", RouteLevel::Deputy),
                urgent: false
            }
        ]
    );
    let step = &chain.steps[0];
    assert_eq!(step.original_owner, Some(p("lee.owner")));
    assert_eq!(step.hops, [hop]);
    assert!(!step.urgent, "delegation is not escalation");
}

#[test]
fn an_owner_going_away_hands_their_waiting_step_to_the_deputy() {
    let (mut chain, _) = started(RiskClass::Inspection, false);
    let away = Routing {
        owner_away: true,
        ..routing()
    };
    let effects = chain.reroute(at(4), &away);
    assert!(matches!(effects[0], Effect::Handed { .. }));
    assert_eq!(
        holder(&chain),
        Some(person("park.deputy", RouteLevel::Deputy))
    );
    assert_eq!(chain.steps[0].due, Some(at(14)), "fresh SLA for the deputy");
    // Nothing more happens on a second call.
    assert_eq!(chain.reroute(at(5), &away), []);
}

#[test]
fn sla_escalates_owner_to_deputy_to_supervisor_at_the_right_minute_with_a_fresh_sla() {
    let (mut chain, _) = started(RiskClass::Inspection, false);
    // One second before the 10-minute SLA: nothing.
    assert_eq!(chain.tick(at(10) - Duration::seconds(1), &routing()), []);
    let effects = chain.tick(at(10), &routing());
    assert_eq!(
        effects[1],
        Effect::Notify {
            step: 0,
            to: person("park.deputy", RouteLevel::Deputy),
            urgent: true
        }
    );
    let step = &chain.steps[0];
    assert!(step.urgent);
    assert_eq!(step.due, Some(at(20)));
    assert_eq!(step.hops[0].reason, HopReason::SlaExpired);
    assert_eq!(step.hops[0].at, at(10));

    assert_eq!(chain.tick(at(19), &routing()), []);
    chain.tick(at(20), &routing());
    assert_eq!(
        holder(&chain),
        Some(person("choi.supervisor", RouteLevel::Supervisor))
    );
    assert_eq!(chain.steps[0].due, Some(at(30)));

    // Nobody after the supervisor: the step stays, overdue, and stops counting.
    let effects = chain.tick(at(30), &routing());
    assert_eq!(effects[0], Effect::Overdue { step: 0 });
    assert_eq!(chain.steps[0].due, None);
    assert_eq!(chain.tick(at(60), &routing()), []);
    assert_eq!(chain.steps[0].hops.len(), 2);

    // The supervisor can still decide, and the record shows the whole path.
    approve(&mut chain, "choi.supervisor", 61);
    let step = &chain.steps[0];
    assert_eq!(step.original_owner, Some(p("lee.owner")));
    assert_eq!(step.decision.as_ref().unwrap().by, p("choi.supervisor"));
}

#[test]
fn escalation_never_hands_the_step_to_the_requester() {
    let mut chain = Chain::new(
        &ChainPolicy::default(),
        RiskClass::Inspection,
        false,
        p("park.deputy"),
        1,
    );
    chain.start(at(0), &routing());
    chain.tick(at(10), &routing());
    assert_eq!(
        holder(&chain),
        Some(person("choi.supervisor", RouteLevel::Supervisor))
    );
}

#[test]
fn a_pooled_step_escalates_to_the_supervisor() {
    let (mut chain, _) = started(RiskClass::Change, false);
    approve(&mut chain, "lee.owner", 1);
    chain.open_result_stage(at(5), &routing());
    chain.tick(at(15), &routing());
    assert_eq!(
        holder(&chain),
        Some(person("choi.supervisor", RouteLevel::Supervisor))
    );
    assert!(chain.steps[1].urgent);
}

#[test]
fn an_overdue_step_escalates_when_the_console_comes_back_after_a_restart() {
    let (chain, _) = started(RiskClass::Inspection, false);
    // What the database keeps, and what a restarted console reads back.
    let stored = serde_json::to_string(&chain).unwrap();
    let mut restored: Chain = serde_json::from_str(&stored).unwrap();
    assert_eq!(restored, chain);
    assert_eq!(restored.next_deadline(), Some(at(10)));
    // The console was off from minute 5 to minute 37: the step escalates once, at start,
    // and the deputy gets a fresh SLA from then.
    let effects = restored.tick(at(37), &routing());
    assert!(matches!(effects[0], Effect::Handed { .. }));
    assert_eq!(
        holder(&restored),
        Some(person("park.deputy", RouteLevel::Deputy))
    );
    assert_eq!(restored.next_deadline(), Some(at(47)));
}

#[test]
fn a_system_without_an_owner_routes_to_any_team_lead_of_it() {
    let mut chain = Chain::new(
        &ChainPolicy::default(),
        RiskClass::Inspection,
        false,
        p("kim.requester"),
        1,
    );
    chain.start(at(0), &Routing::default());
    assert_eq!(
        holder(&chain),
        Some(Holder::Pool {
            role: Role::TeamLead
        })
    );
}

#[test]
fn policies_without_a_signer_or_with_a_repeated_step_are_refused() {
    let mut policy = ChainPolicy::default();
    assert_eq!(policy.check(), Ok(()));
    policy.service_restart = vec![StepKind::SecurityCheck];
    assert_eq!(
        policy.check(),
        Err(PolicyProblem::NobodySigns(RiskClass::ServiceRestart))
    );
    policy.service_restart = vec![StepKind::TeamLead, StepKind::TeamLead];
    assert_eq!(
        policy.check(),
        Err(PolicyProblem::Repeated(
            RiskClass::ServiceRestart,
            StepKind::TeamLead
        ))
    );
}

#[test]
fn a_policy_that_approves_a_request_before_any_person_signs_is_refused() {
    for steps in [
        vec![StepKind::Pm],
        vec![StepKind::SecurityCheck, StepKind::Pm],
        vec![
            StepKind::SecurityCheck,
            StepKind::Pm,
            StepKind::SecurityOfficer,
        ],
    ] {
        let policy = ChainPolicy {
            change: steps.clone(),
            ..ChainPolicy::default()
        };
        assert_eq!(
            policy.check(),
            Err(PolicyProblem::NobodySignsTheRequest(RiskClass::Change)),
            "{steps:?}"
        );
    }
    let fine = ChainPolicy {
        change: vec![StepKind::SecurityOfficer, StepKind::Pm],
        ..ChainPolicy::default()
    };
    assert_eq!(fine.check(), Ok(()));
}
