//! People and sign-in through the API on a real SQLite file and the real OS keyring, on a
//! manual clock: set-up, lockout after five failures and its expiry, an admin's lock, the
//! audit trail of every attempt — and the generated command × role walk that shows every
//! refusal comes from the backend.

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};
use guardia_api::{
    Api, Caller, Clock, ManualClock, PERMISSIONS, PeopleError, Session, SignInRefused,
};
use guardia_domain::PersonName;
use guardia_domain::governance::{Role, RoleGrant, Scope};
use guardia_ipc::{
    AccountLock, AuditQuery, EndSession, ErrorCode, PersonInput, RolesChange, SessionEnd,
    SessionState, SignInRequest,
};
use guardia_secrets::OsKeyring;

use crate::support::{api_with, who};

const START: &str = "2026-12-06T09:00:00+09:00";
const ADMIN_PW: &str = "admin password 1234";
const LEAD_PW: &str = "lead password 5678";

async fn api(dir: &std::path::Path, clock: &ManualClock) -> Arc<Api> {
    api_with(dir, Arc::new(clock.clone()), Arc::new(OsKeyring)).await
}

fn input(name: &str, password: &str, roles: Vec<RoleGrant>) -> PersonInput {
    PersonInput {
        name: name.into(),
        display_name: String::new(),
        password: password.into(),
        roles,
    }
}

fn lead_of_hr() -> RoleGrant {
    RoleGrant {
        role: Role::TeamLead,
        scope: Scope::parse("행정안전부/hr-portal").unwrap(),
    }
}

async fn sign_in(api: &Api, name: &str, password: &str) -> Result<Caller, SignInRefused> {
    match api
        .people()
        .sign_in(
            SignInRequest {
                name: name.into(),
                password: password.into(),
            },
            "ws-12",
        )
        .await
    {
        Ok((caller, _)) => Ok(caller),
        Err(PeopleError::SignIn(refused)) => Err(refused),
        Err(other) => panic!("not a sign-in refusal: {other}"),
    }
}

/// The entries appended since the log held `before` entries, oldest first.
async fn kinds_since(api: &Api, before: u64) -> Vec<(String, String, String)> {
    let now = api.audit_status().await.unwrap().entries;
    let page = api
        .audit_list(AuditQuery {
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut kinds: Vec<_> = page
        .entries
        .iter()
        .take(usize::try_from(now - before).unwrap())
        .map(|e| (e.kind.clone(), e.actor.clone(), e.result.clone()))
        .collect();
    kinds.reverse();
    kinds
}

#[tokio::test]
async fn sign_in_locks_out_after_five_failures_for_fifteen_minutes_and_every_attempt_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(DateTime::<FixedOffset>::parse_from_rfc3339(START).unwrap());
    let api = api(dir.path(), &clock).await;
    let people = api.people();
    assert!(people.in_set_up().await.unwrap());

    // Set-up: the first person must be an admin; then set-up is over for good.
    let not_admin = people
        .add_first_admin(&who(), input("lee", ADMIN_PW, vec![lead_of_hr()]))
        .await;
    assert!(matches!(not_admin, Err(PeopleError::Invalid(_))));
    people
        .add_first_admin(
            &who(),
            input("admin", ADMIN_PW, vec![RoleGrant::everywhere(Role::Admin)]),
        )
        .await
        .unwrap();
    assert!(!people.in_set_up().await.unwrap());
    let again = people
        .add_first_admin(
            &who(),
            input("admin2", ADMIN_PW, vec![RoleGrant::everywhere(Role::Admin)]),
        )
        .await;
    assert!(matches!(again, Err(PeopleError::NotInSetUp(_))));

    let admin = sign_in(&api, "admin", ADMIN_PW).await.unwrap();
    assert_eq!(admin.grants, vec![RoleGrant::everywhere(Role::Admin)]);
    assert_eq!(admin.workstation, "ws-12");
    let short = people
        .add(&admin, input("park.lead", "short", vec![lead_of_hr()]))
        .await;
    assert!(matches!(short, Err(PeopleError::Password(_))));
    people
        .add(&admin, input("park.lead", LEAD_PW, vec![lead_of_hr()]))
        .await
        .unwrap();

    let before = api.audit_status().await.unwrap().entries;
    for _ in 0..4 {
        assert_eq!(
            sign_in(&api, "park.lead", "wrong password!!")
                .await
                .unwrap_err(),
            SignInRefused::WrongNameOrPassword
        );
    }
    // An unknown name gets the very same answer.
    assert_eq!(
        sign_in(&api, "nobody.here", LEAD_PW).await.unwrap_err(),
        SignInRefused::WrongNameOrPassword
    );
    let until = clock.now().to_utc() + Duration::minutes(15);
    assert_eq!(
        sign_in(&api, "park.lead", "wrong password!!")
            .await
            .unwrap_err(),
        SignInRefused::LockedOut(until)
    );
    // Locked out: even the right password is refused until the time is up.
    clock.advance(Duration::minutes(14));
    assert_eq!(
        sign_in(&api, "park.lead", LEAD_PW).await.unwrap_err(),
        SignInRefused::LockedOut(until)
    );
    clock.advance(Duration::minutes(1));
    let lead = sign_in(&api, "park.lead", LEAD_PW).await.unwrap();
    assert_eq!(lead.grants, vec![lead_of_hr()]);
    assert!(lead.may_on(
        guardia_api::Permission::DecideApprovals,
        "행정안전부",
        "hr-portal"
    ));
    assert!(!lead.may_on(
        guardia_api::Permission::DecideApprovals,
        "행정안전부",
        "mail"
    ));

    let trail = kinds_since(&api, before).await;
    let expected: Vec<(&str, &str, &str)> = [
        vec![("signin.failed", "guardia", "refused"); 5],
        vec![
            ("signin.locked_out", "guardia", "refused"),
            ("signin.failed", "guardia", "refused"),
            ("signin.succeeded", "park.lead", "ok"),
        ],
    ]
    .concat();
    let trail: Vec<(&str, &str, &str)> = trail
        .iter()
        .map(|(k, a, r)| (k.as_str(), a.as_str(), r.as_str()))
        .collect();
    assert_eq!(trail, expected);

    // An admin's lock holds until an admin unlocks; the reason is shown at sign-in.
    let lock = |locked: bool, reason: &str| AccountLock {
        name: "park.lead".into(),
        locked,
        reason: reason.into(),
    };
    assert!(matches!(
        people.lock(&admin, lock(true, "  ")).await,
        Err(PeopleError::Invalid(_))
    ));
    people.lock(&admin, lock(true, "on leave")).await.unwrap();
    assert_eq!(
        sign_in(&api, "park.lead", LEAD_PW).await.unwrap_err(),
        SignInRefused::Disabled("on leave".into())
    );
    people.lock(&admin, lock(false, "")).await.unwrap();
    sign_in(&api, "park.lead", LEAD_PW).await.unwrap();

    // Roles change as a whole; an admin cannot drop their own admin role.
    let own = people
        .set_roles(
            &admin,
            RolesChange {
                name: "admin".into(),
                roles: vec![RoleGrant::everywhere(Role::Auditor)],
            },
        )
        .await;
    assert!(matches!(own, Err(PeopleError::Invalid(_))));

    // No password and no hash anywhere a person or an auditor could read.
    let listed = serde_json::to_string(&people.list().await.unwrap()).unwrap();
    let log = serde_json::to_string(
        &api.audit_list(AuditQuery {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap(),
    )
    .unwrap();
    for text in [&listed, &log] {
        for secret in [ADMIN_PW, LEAD_PW, "argon2", "nobody.here"] {
            assert!(!text.contains(secret), "{secret} leaked");
        }
    }
}

/// Generated from the operation table: every command × every role. A role without the
/// command's permission is refused by the backend with `FORBIDDEN` naming the permission,
/// before its arguments are even read; a role with it gets past the check (here to the
/// argument parser, which refuses the deliberately unparseable arguments).
#[tokio::test]
async fn every_command_refuses_every_role_without_its_permission_in_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(DateTime::<FixedOffset>::parse_from_rfc3339(START).unwrap());
    let api = api(dir.path(), &clock).await;
    let before = api.audit_status().await.unwrap().entries;
    let mut walked = 0;
    for (command, permission) in PERMISSIONS {
        for role in Role::ALL {
            let caller = Caller::with_grants(
                PersonName::parse("walker").unwrap(),
                vec![RoleGrant::everywhere(role)],
            );
            let answer = api
                .dispatch(command, &caller, serde_json::json!(17))
                .await
                .unwrap_err();
            if role.grants(*permission) {
                assert_eq!(
                    answer.code,
                    ErrorCode::Protocol,
                    "{command} as {role}: {answer:?}"
                );
            } else {
                assert_eq!(answer.code, ErrorCode::Forbidden, "{command} as {role}");
                assert!(
                    answer.message.contains(permission.code()),
                    "{command} as {role}: {}",
                    answer.message
                );
            }
            walked += 1;
        }
    }
    assert_eq!(walked, guardia_ipc::COMMANDS.len() * Role::ALL.len());
    // Nothing ran: not one entry was appended.
    assert_eq!(api.audit_status().await.unwrap().entries, before);
}

/// The window's session on the manual clock: the OS account during set-up, signed out as
/// soon as the first admin exists (even one added from the CLI), locked after fifteen idle
/// minutes — by the backend, whatever the window does — and signed out on request.
#[tokio::test]
async fn a_window_session_leaves_set_up_locks_after_idle_time_and_signs_out() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(DateTime::<FixedOffset>::parse_from_rfc3339(START).unwrap());
    let api = api(dir.path(), &clock).await;
    let os = who();
    let session = Session::open(&api, os.clone()).await.unwrap();
    assert_eq!(session.caller(&api).await.unwrap().person, os.person);
    assert!(matches!(
        session.state(&api).await.unwrap(),
        SessionState::SetUp { .. }
    ));

    api.people()
        .add_first_admin(
            &os,
            input("admin", ADMIN_PW, vec![RoleGrant::everywhere(Role::Admin)]),
        )
        .await
        .unwrap();
    assert!(matches!(
        session.caller(&api).await,
        Err(PeopleError::SignIn(SignInRefused::NotSignedIn))
    ));

    let request = || SignInRequest {
        name: "admin".into(),
        password: ADMIN_PW.into(),
    };
    let view = session.sign_in(&api, request()).await.unwrap();
    assert_eq!(view.idle_lock_minutes, 15);
    let caller = session.caller(&api).await.unwrap();
    assert_eq!(caller.person.as_str(), "admin");
    assert_eq!(caller.workstation, os.workstation);

    // Each request counts as activity; fifteen minutes without one lock the session.
    clock.advance(Duration::minutes(14));
    session.caller(&api).await.unwrap();
    let before = api.audit_status().await.unwrap().entries;
    clock.advance(Duration::minutes(15));
    assert!(matches!(
        session.caller(&api).await,
        Err(PeopleError::SignIn(SignInRefused::IdleLocked(15)))
    ));
    assert_eq!(
        session.state(&api).await.unwrap(),
        SessionState::SignedOut {
            ended: Some(SessionEnd::Idle { minutes: 15 })
        }
    );

    session.sign_in(&api, request()).await.unwrap();
    let state = session.end(&api, EndSession::SignOut).await.unwrap();
    assert_eq!(
        state,
        SessionState::SignedOut {
            ended: Some(SessionEnd::SignedOut)
        }
    );
    let trail: Vec<String> = kinds_since(&api, before)
        .await
        .into_iter()
        .map(|(kind, actor, _)| format!("{kind} {actor}"))
        .collect();
    assert_eq!(
        trail,
        [
            "session.locked admin",
            "signin.succeeded admin",
            "session.signed_out admin"
        ]
    );
}
