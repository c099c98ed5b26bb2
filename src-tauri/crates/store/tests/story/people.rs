//! People: accounts with roles, the lockout counter and admin locks, each change with its
//! audit entry in the same transaction.

use guardia_audit::{EntryDraft, EntryKind};
use guardia_domain::governance::{Attempts, Role, RoleGrant, Scope};
use guardia_store::{NewPerson, PersonChange, Store, StoreError};

use super::{at, person};

fn entry(kind: EntryKind, name: &str) -> EntryDraft {
    EntryDraft::new(at(21, 9), kind, "admin", format!("person:{name}"))
}

fn lead_of(system: &str) -> RoleGrant {
    RoleGrant {
        role: Role::TeamLead,
        scope: Scope::parse(&format!("행정안전부/{system}")).unwrap(),
    }
}

pub async fn people_keep_their_roles_lockouts_and_locks(store: &dyn Store) {
    assert_eq!(store.count_people().await.unwrap(), 0);
    let admin = NewPerson {
        name: person("admin"),
        display_name: "관리자".into(),
        password_hash: "$argon2id$hash-a".into(),
        grants: vec![RoleGrant::everywhere(Role::Admin)],
    };
    let size = store.audit_head().await.unwrap().size;
    let stored = store
        .insert_first_person(&admin, at(21, 9), &|p| {
            entry(EntryKind::PersonAdded, p.name.as_str())
        })
        .await
        .unwrap();
    assert_eq!(stored.grants, admin.grants);
    assert_eq!(store.audit_head().await.unwrap().size, size + 1);

    // Set-up happens once: a second "first admin" (another console racing) is refused.
    let second = NewPerson {
        name: person("intruder"),
        ..admin.clone()
    };
    let refused = store
        .insert_first_person(&second, at(21, 9), &|p| {
            entry(EntryKind::PersonAdded, p.name.as_str())
        })
        .await;
    assert!(matches!(refused, Err(StoreError::PersonExists(who)) if who == "admin"));
    assert_eq!(store.count_people().await.unwrap(), 1);

    let lead = NewPerson {
        name: person("park.lead"),
        display_name: "박팀장".into(),
        password_hash: "$argon2id$hash-b".into(),
        grants: vec![lead_of("hr-portal"), RoleGrant::everywhere(Role::Auditor)],
    };
    store
        .insert_person(&lead, at(21, 9), &|p| {
            entry(EntryKind::PersonAdded, p.name.as_str())
        })
        .await
        .unwrap();
    let again = store
        .insert_person(&lead, at(21, 9), &|p| {
            entry(EntryKind::PersonAdded, p.name.as_str())
        })
        .await;
    assert!(matches!(again, Err(StoreError::PersonExists(_))));

    // Roles are replaced as a whole; the entry sees before and after.
    let changed = store
        .change_person(
            "park.lead",
            PersonChange::Grants(vec![lead_of("mail")]),
            at(21, 10),
            &|(before, after)| {
                assert_eq!(before.grants.len(), 2);
                assert_eq!(after.grants, vec![lead_of("mail")]);
                entry(EntryKind::PersonRolesChanged, "park.lead")
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.grants, vec![lead_of("mail")]);

    // The lockout counter and an admin's lock; unlocking clears both.
    let until = at(21, 11);
    store
        .change_person(
            "park.lead",
            PersonChange::Attempts(Attempts {
                failures: 0,
                locked_until: Some(until),
            }),
            at(21, 10),
            &|_| entry(EntryKind::SignInLockedOut, "park.lead"),
        )
        .await
        .unwrap();
    let locked = store
        .change_person(
            "park.lead",
            PersonChange::Disabled(Some("left the team".into())),
            at(21, 10),
            &|_| entry(EntryKind::PersonLocked, "park.lead"),
        )
        .await
        .unwrap();
    assert_eq!(locked.disabled_reason.as_deref(), Some("left the team"));
    assert_eq!(locked.attempts.locked_until, Some(until));
    let unlocked = store
        .change_person(
            "park.lead",
            PersonChange::Disabled(None),
            at(21, 10),
            &|_| entry(EntryKind::PersonUnlocked, "park.lead"),
        )
        .await
        .unwrap();
    assert_eq!(unlocked.disabled_reason, None);
    assert_eq!(unlocked.attempts, Attempts::default());

    let missing = store
        .change_person("nobody", PersonChange::Disabled(None), at(21, 10), &|_| {
            entry(EntryKind::PersonUnlocked, "nobody")
        })
        .await;
    assert!(matches!(missing, Err(StoreError::PersonNotFound(_))));

    let names: Vec<String> = store
        .people()
        .await
        .unwrap()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    assert_eq!(names, ["admin", "park.lead"]);
    assert_eq!(
        store
            .person("park.lead")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$hash-b"
    );
    // Five changes after the first admin, each with its entry.
    assert_eq!(store.audit_head().await.unwrap().size, size + 6);
}
