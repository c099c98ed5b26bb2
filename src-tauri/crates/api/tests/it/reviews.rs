//! Result packages and their review through the API, on a real SQLite file: the work order
//! when a request is approved, import v1, marks and comments, rework (the brief in the
//! outbox), v2 with marks and comments carried over or unviewed/outdated, four-eyes, the
//! approval bound to hashes and coverage, the corpus of bad packages refused and audited
//! with nothing else changed, and a package edited in the database voiding its approval.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use guardia_api::{Api, Caller, ManualClock};
use guardia_domain::governance::{Role, RoleGrant, Verdict};
use guardia_domain::{Category, PersonName, TaskStatus};
use guardia_ipc::{
    AuditQuery, CommentInput, DiffView, DiffWindowQuery, ErrorCode, FileMark, PackageImport,
    PackageRef, PersonInput, ReviewDecisionInput, RulesChange, SystemRulesChange, TaskDecision,
    TaskDraft, TaskRef, VersionChange,
};
use guardia_package::corpus::{self, Files};
use guardia_secrets::OsKeyring;

use crate::support::{api_with, who};

const START: &str = "2026-12-06T09:00:00+09:00";

fn person(name: &str, role: Role) -> Caller {
    Caller::with_grants(
        PersonName::parse(name).unwrap(),
        vec![RoleGrant::everywhere(role)],
    )
}

async fn api(dir: &Path) -> Arc<Api> {
    let clock = ManualClock::new(DateTime::<FixedOffset>::parse_from_rfc3339(START).unwrap());
    api_with(dir, Arc::new(clock), Arc::new(OsKeyring)).await
}

async fn people(api: &Api) {
    crate::support::add_people(
        api,
        &[
            ("kim.minji", Role::Requester),
            ("lee.teamlead", Role::TeamLead),
            ("oh.pm", Role::Pm),
        ],
    )
    .await;
    api.approvals()
        .set_rules(
            &person("admin", Role::Admin),
            SystemRulesChange {
                system: "portal".into(),
                change: RulesChange::Owner {
                    person: Some("lee.teamlead".into()),
                },
            },
        )
        .await
        .unwrap();
}

/// A DEPLOY task on `portal`, approved for work by its owner.
async fn approved_task(api: &Api) -> String {
    let kim = person("kim.minji", Role::Requester);
    let id = api
        .tasks()
        .create(
            &kim,
            TaskDraft {
                title: "Escape notice titles".into(),
                category: Some(Category::Deploy),
                sub_type: "web-fix".into(),
                system: "portal".into(),
                request: "Notice titles are printed as HTML.".into(),
                requester: "kim.minji".into(),
                priority: None,
            },
        )
        .await
        .unwrap()
        .task
        .id
        .to_string();
    api.approvals()
        .submit(&kim, TaskRef { id: id.clone() })
        .await
        .unwrap();
    let detail = api
        .approvals()
        .decide(
            &person("lee.teamlead", Role::TeamLead),
            TaskDecision {
                id: id.clone(),
                verdict: Verdict::Approve,
                comment: "go".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::Approved);
    id
}

fn example(version: u32) -> Files {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures/packages/notice-fix")
        .join(format!("v{version}"));
    let mut files = corpus::read_folder(&dir).unwrap();
    files.remove("manifest.json");
    files
}

/// The example package `version`, sealed for `task`, written as a folder under `root`.
fn package_dir(root: &Path, task: &str, version: u32) -> String {
    let dir = root.join(format!("pkg-v{version}"));
    for (path, bytes) in corpus::sealed(example(version), task, version) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    dir.display().to_string()
}

async fn kinds_since(api: &Api, from: u64) -> Vec<String> {
    let page = api
        .audit_list(AuditQuery {
            limit: Some(200),
            ..Default::default()
        })
        .await
        .unwrap();
    page.entries
        .iter()
        .rev()
        .filter(|e| e.index >= from)
        .map(|e| e.kind.clone())
        .collect()
}

#[tokio::test]
async fn a_package_goes_through_review_rework_and_approval_bound_to_what_was_seen() {
    let dir = tempfile::tempdir().unwrap();
    let api = api(dir.path()).await;
    people(&api).await;
    let id = approved_task(&api).await;
    let oh = person("oh.pm", Role::Pm);
    let reviews = api.reviews();

    // The request's approval wrote the work order to the outbox.
    let docs = reviews.documents(&id).await.unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].kind, "work_order");
    let written = docs[0].written_to.clone().expect("written to the outbox");
    let order: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
    assert_eq!(order["task_id"], id.as_str());
    assert_eq!(order["playbook"], "deploy-artifact");
    assert_eq!(order["constraints"]["package_version"], 1);

    // v1 comes in: the task waits for the PM's review.
    let v1 = reviews
        .import(
            &oh,
            PackageImport {
                task: id.clone(),
                path: package_dir(dir.path(), &id, 1),
            },
        )
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.files.len(), 8);
    assert_eq!(v1.warnings.len(), 1, "{:?}", v1.warnings);
    assert_eq!(v1.log_errors, [7]);
    assert!(v1.can_decide, "{:?}", v1.decide_blocked);
    let task = api.tasks().get(TaskRef { id: id.clone() }).await.unwrap();
    assert_eq!(task.task.status, TaskStatus::PendingReview);

    // The PM reads the whole diff, marks every file but one, comments on two lines.
    let window = reviews
        .window(
            &oh,
            DiffWindowQuery {
                task: id.clone(),
                version: 1,
                view: DiffView::default(),
                start: 0,
                count: 500,
            },
        )
        .await
        .unwrap();
    assert_eq!(window.total as usize, window.rows.len());
    assert_eq!(window.file_starts.len(), 8);
    for file in v1
        .files
        .iter()
        .filter(|f| f.path != "conf/portal.properties")
    {
        let coverage = reviews
            .mark(
                &oh,
                FileMark {
                    task: id.clone(),
                    version: 1,
                    path: file.path.clone(),
                    state: "viewed".into(),
                    reason: String::new(),
                },
            )
            .await
            .unwrap();
        assert!(coverage.mark.unwrap().shown_rows > 0);
    }
    let comment = |path: &str, line: u32, body: &str| CommentInput {
        task: id.clone(),
        version: 1,
        path: path.into(),
        side: "new".into(),
        line,
        body: body.into(),
    };
    reviews
        .comment(
            &oh,
            comment(
                "web/notice.jsp",
                9,
                "c:out already escapes; keep fn: only if needed",
            ),
        )
        .await
        .unwrap();
    reviews
        .comment(
            &oh,
            comment(
                "web/css/site.css",
                2,
                "this colour is unreadable on the dark theme",
            ),
        )
        .await
        .unwrap();
    // A line the diff does not show cannot be commented on.
    let err = reviews
        .comment(&oh, comment("web/notice.jsp", 99, "?"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");

    // The requester and the owner who signed the request cannot decide the result.
    let before = api.audit_status().await.unwrap().entries;
    for (who, name) in [
        (person("kim.minji", Role::Pm), "the requester"),
        (person("lee.teamlead", Role::Pm), "the request's signer"),
    ] {
        let err = reviews
            .decide(
                &who,
                ReviewDecisionInput {
                    task: id.clone(),
                    version: 1,
                    sha256: v1.sha256.clone(),
                    verdict: "approve".into(),
                    comment: "fine".into(),
                    view: DiffView::default(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Forbidden, "{name}: {err}");
    }
    assert_eq!(api.audit_status().await.unwrap().entries, before);

    // Rework: the brief (request, comments by file and line) goes to the outbox.
    let detail = reviews
        .decide(
            &oh,
            ReviewDecisionInput {
                task: id.clone(),
                version: 1,
                sha256: v1.sha256.clone(),
                verdict: "rework".into(),
                comment: "fix the hover colour".into(),
                view: DiffView::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::InProgress);
    let docs = reviews.documents(&id).await.unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].kind, "rework_brief");
    let brief: serde_json::Value =
        serde_json::from_slice(&std::fs::read(docs[1].written_to.as_ref().unwrap()).unwrap())
            .unwrap();
    assert_eq!(brief["previous_version"], 1);
    assert_eq!(brief["notes"], "fix the hover colour");
    assert_eq!(brief["comments"].as_array().unwrap().len(), 2);
    assert_eq!(brief["comments"][0]["path"], "web/css/site.css");

    // The same v1 again is refused as a duplicate, naming the version it already is.
    let err = reviews
        .import(
            &oh,
            PackageImport {
                task: id.clone(),
                path: dir.path().join("pkg-v1").display().to_string(),
            },
        )
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("already imported as v1"), "{err}");

    // v2: the CSS changed (unviewed again, its comment outdated); the rest stays viewed and
    // the JSP comment carries over.
    let v2 = reviews
        .import(
            &oh,
            PackageImport {
                task: id.clone(),
                path: package_dir(dir.path(), &id, 2),
            },
        )
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let css = v2
        .files
        .iter()
        .find(|f| f.path == "web/css/site.css")
        .unwrap();
    assert_eq!(css.since_previous, VersionChange::Changed);
    assert!(css.mark.is_none(), "a changed file is unviewed again");
    let jsp = v2
        .files
        .iter()
        .find(|f| f.path == "web/notice.jsp")
        .unwrap();
    assert_eq!(jsp.since_previous, VersionChange::Same);
    assert_eq!(jsp.mark.as_ref().unwrap().carried_from, Some(1));
    assert_eq!(v2.viewed, 6, "7 viewed in v1, minus the CSS");
    let carried = v2
        .comments
        .iter()
        .find(|c| c.path == "web/notice.jsp")
        .unwrap();
    assert!(!carried.outdated);
    assert_eq!(carried.line, 9);
    let outdated = v2
        .comments
        .iter()
        .find(|c| c.path == "web/css/site.css")
        .unwrap();
    assert!(outdated.outdated);

    // The version diff shows exactly the CSS.
    let between = reviews
        .window(
            &oh,
            DiffWindowQuery {
                task: id.clone(),
                version: 2,
                view: DiffView {
                    against: 1,
                    ..DiffView::default()
                },
                start: 0,
                count: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(between.files, ["web/css/site.css"]);

    // Approval of v2, bound to its hash; the properties file was never viewed.
    let from = api.audit_status().await.unwrap().entries;
    let detail = reviews
        .decide(
            &oh,
            ReviewDecisionInput {
                task: id.clone(),
                version: 2,
                sha256: v2.sha256.clone(),
                verdict: "approve".into(),
                comment: "hover fixed".into(),
                view: DiffView::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::ReadyToRollOut);
    let kinds = kinds_since(&api, from).await;
    assert!(
        kinds.starts_with(&[
            "review.decided".to_owned(),
            "approval.granted".to_owned(),
            "task.transitioned".to_owned()
        ]),
        "{kinds:?}"
    );
    let page = api
        .audit_list(AuditQuery {
            kind: "review.decided".into(),
            limit: Some(5),
            ..Default::default()
        })
        .await
        .unwrap();
    let last = &page.entries[0];
    assert!(last.details.contains(&v2.sha256), "{}", last.details);
    assert!(last.details.contains("viewed=6"), "{}", last.details);
    assert!(last.details.contains("not_viewed=2"), "{}", last.details);
    let approved = reviews.approved(id.parse().unwrap()).await.unwrap();
    assert_eq!(approved.version(), 2);
    assert_eq!(
        approved.package().artifacts().next().map(|(p, _)| p),
        Some("web/notice.jsp")
    );

    // Editing the approved package in the database voids the approval.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite:{}",
        dir.path().join("guardia.db").display()
    ))
    .await
    .unwrap();
    sqlx::query(
        "UPDATE package_files SET content = CAST('<%-- evil --%>' AS BLOB) \
         WHERE version = 2 AND path = 'artifacts/web/notice.jsp'",
    )
    .execute(&db)
    .await
    .unwrap();
    let fresh = self::api(dir.path()).await;
    let err = fresh
        .reviews()
        .approved(id.parse().unwrap())
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IntegrityBlocked, "{err}");
}

#[tokio::test]
async fn every_bad_package_is_refused_audited_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let api = api(dir.path()).await;
    people(&api).await;
    let id = approved_task(&api).await;
    let oh = person("oh.pm", Role::Pm);
    let reviews = api.reviews();
    let corpus = corpus::bad_packages(&example(1), &id);
    let before = api.audit_status().await.unwrap().entries;
    for (n, bad) in corpus.iter().enumerate() {
        let path = dir.path().join(format!("bad-{n}-{}.pkg", bad.name));
        std::fs::write(&path, &bad.bytes).unwrap();
        let err = reviews
            .import(
                &oh,
                PackageImport {
                    task: id.clone(),
                    path: path.display().to_string(),
                },
            )
            .await
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::PackageRefused, "{}: {err}", bad.name);
        assert!(
            err.to_string().contains(&format!("({})", bad.code.code())),
            "{}: {err}",
            bad.name
        );
    }
    // Task-level refusals: no such task, a task not waiting for work, a wrong version.
    let good = package_dir(dir.path(), &id, 1);
    let refused = |task: &str, path: &str| {
        let reviews = api.reviews();
        let (task, path) = (task.to_owned(), path.to_owned());
        let oh = oh.clone();
        async move {
            reviews
                .import(&oh, PackageImport { task, path })
                .await
                .map(|_| ())
                .unwrap_err()
                .to_string()
        }
    };
    assert!(
        refused("OPS-20991231-001", &good)
            .await
            .contains("(task_not_found)")
    );
    let received = api
        .tasks()
        .create(
            &person("kim.minji", Role::Requester),
            TaskDraft {
                title: "Another".into(),
                category: Some(Category::Deploy),
                sub_type: "web-fix".into(),
                system: "portal".into(),
                request: String::new(),
                requester: "kim.minji".into(),
                priority: None,
            },
        )
        .await
        .unwrap()
        .task
        .id
        .to_string();
    let other = package_dir(&dir.path().join("other"), &received, 1);
    assert!(
        refused(&received, &other)
            .await
            .contains("(task_not_waiting)")
    );
    let v3 = dir.path().join("v3");
    for (path, bytes) in corpus::sealed(example(1), &id, 3) {
        let target = v3.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    assert!(
        refused(&id, &v3.display().to_string())
            .await
            .contains("(version_conflict)")
    );

    // Every refusal has its entry, and nothing else changed (the one other entry is the
    // second task's creation).
    let after = api.audit_status().await.unwrap().entries;
    assert_eq!(after - before, corpus.len() as u64 + 3 + 1);
    let kinds = kinds_since(&api, before).await;
    let refusals = kinds.iter().filter(|k| *k == "package.refused").count();
    assert_eq!(refusals, corpus.len() + 3, "{kinds:?}");
    assert!(
        kinds
            .iter()
            .all(|k| k == "package.refused" || k == "task.created"),
        "{kinds:?}"
    );
    let task = api.tasks().get(TaskRef { id: id.clone() }).await.unwrap();
    assert_eq!(task.task.status, TaskStatus::Approved);
    let err = reviews
        .get(
            &oh,
            PackageRef {
                task: id.clone(),
                version: 0,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);

    // And the good one still goes in afterwards, then not twice.
    reviews
        .import(
            &oh,
            PackageImport {
                task: id.clone(),
                path: good.clone(),
            },
        )
        .await
        .unwrap();
    // Now the task waits for the review, not for work.
    assert!(refused(&id, &good).await.contains("(task_not_waiting)"));
}

/// An infrastructure change: team lead, then the PM's review, then the security officer.
/// The PM's approval is not the end: the package stays under review and cannot be deployed
/// until the security officer signs the result stage too.
#[tokio::test]
async fn the_security_officer_signs_after_the_pm_before_the_result_counts_as_approved() {
    let dir = tempfile::tempdir().unwrap();
    let api = api(dir.path()).await;
    people(&api).await;
    let add = PersonInput {
        name: "bae.security".into(),
        display_name: String::new(),
        password: "long enough password 1".into(),
        roles: vec![RoleGrant::everywhere(Role::SecurityOfficer)],
    };
    api.people().add(&who(), add).await.unwrap();
    let kim = person("kim.minji", Role::Requester);
    let id = api
        .tasks()
        .create(
            &kim,
            TaskDraft {
                title: "Replace the portal certificate".into(),
                category: Some(Category::InfraControl),
                sub_type: "security-change".into(),
                system: "portal".into(),
                request: String::new(),
                requester: "kim.minji".into(),
                priority: None,
            },
        )
        .await
        .unwrap()
        .task
        .id
        .to_string();
    api.approvals()
        .submit(&kim, TaskRef { id: id.clone() })
        .await
        .unwrap();
    api.approvals()
        .decide(
            &person("lee.teamlead", Role::TeamLead),
            TaskDecision {
                id: id.clone(),
                verdict: Verdict::Approve,
                comment: "go".into(),
            },
        )
        .await
        .unwrap();
    let oh = person("oh.pm", Role::Pm);
    let v1 = api
        .reviews()
        .import(
            &oh,
            PackageImport {
                task: id.clone(),
                path: package_dir(dir.path(), &id, 1),
            },
        )
        .await
        .unwrap();
    // The PM step is decided on the review screen, not as a plain approval.
    let err = api
        .approvals()
        .decide(
            &oh,
            TaskDecision {
                id: id.clone(),
                verdict: Verdict::Approve,
                comment: "ok".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    let detail = api
        .reviews()
        .decide(
            &oh,
            ReviewDecisionInput {
                task: id.clone(),
                version: 1,
                sha256: v1.sha256.clone(),
                verdict: "approve".into(),
                comment: "diff checked".into(),
                view: DiffView::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::PendingReview);
    let view = api
        .reviews()
        .get(
            &oh,
            PackageRef {
                task: id.clone(),
                version: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(view.state, "review", "not approved before the last step");
    assert!(api.reviews().approved(id.parse().unwrap()).await.is_err());
    let detail = api
        .approvals()
        .decide(
            &person("bae.security", Role::SecurityOfficer),
            TaskDecision {
                id: id.clone(),
                verdict: Verdict::Approve,
                comment: "key length and issuer fine".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::ReadyToRollOut);
    let approved = api.reviews().approved(id.parse().unwrap()).await.unwrap();
    assert_eq!(approved.sha256(), v1.sha256);
}

/// Taking a task over: the agent gets a withdrawal, the inbox stops importing for the task,
/// and the PM who took it over cannot approve the package they then make.
#[tokio::test]
async fn whoever_takes_a_task_over_does_not_review_their_own_package() {
    let dir = tempfile::tempdir().unwrap();
    let api = api(dir.path()).await;
    people(&api).await;
    let id = approved_task(&api).await;
    let oh = person("oh.pm", Role::Pm);
    let v1 = api
        .reviews()
        .import(
            &oh,
            PackageImport {
                task: id.clone(),
                path: package_dir(dir.path(), &id, 1),
            },
        )
        .await
        .unwrap();
    let detail = api
        .reviews()
        .decide(
            &oh,
            ReviewDecisionInput {
                task: id.clone(),
                version: 1,
                sha256: v1.sha256.clone(),
                verdict: "take_over".into(),
                comment: "I fix this by hand".into(),
                view: DiffView::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::InProgress);
    let docs = api.reviews().documents(&id).await.unwrap();
    assert_eq!(docs.last().unwrap().kind, "withdrawal");
    // The agent's next package in the inbox waits; the person imports theirs by hand.
    let inbox = api.package_inbox();
    let agent_v2 = inbox.join("agent-v2");
    for (path, bytes) in corpus::sealed(example(2), &id, 2) {
        let target = agent_v2.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let listed = api.reviews().inbox(&oh).await.unwrap();
    assert_eq!(listed.items[0].state, "waiting", "{:?}", listed.items);
    let v2 = api
        .reviews()
        .import(
            &oh,
            PackageImport {
                task: id.clone(),
                path: agent_v2.display().to_string(),
            },
        )
        .await
        .unwrap();
    let err = api
        .reviews()
        .decide(
            &oh,
            ReviewDecisionInput {
                task: id.clone(),
                version: 2,
                sha256: v2.sha256.clone(),
                verdict: "approve".into(),
                comment: "my own fix".into(),
                view: DiffView::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    assert!(err.to_string().contains("took"), "{err}");
}

/// Sets every file under `dir` (and `dir`) to have last changed an hour ago: a copy to the
/// inbox that finished long since.
fn settle(dir: &Path) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let mut pending = vec![dir.to_path_buf()];
    let mut dirs = Vec::new();
    while let Some(p) = pending.pop() {
        if p.is_dir() {
            for child in std::fs::read_dir(&p).unwrap() {
                pending.push(child.unwrap().path());
            }
            dirs.push(p);
        } else {
            let file = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            file.set_modified(past).unwrap();
        }
    }
    // Folders last (setting a file's time does not touch its folder's).
    for d in dirs {
        std::fs::File::open(&d).unwrap().set_modified(past).unwrap();
    }
}

/// The watched inbox: a package its task waits for is imported by the console itself; a
/// bad one is refused and audited once, not at every sweep; a copy still being written waits.
#[tokio::test]
async fn the_inbox_imports_what_a_task_waits_for_and_audits_a_refusal_once() {
    let dir = tempfile::tempdir().unwrap();
    let api = api(dir.path()).await;
    people(&api).await;
    let id = approved_task(&api).await;
    let inbox = api.package_inbox();
    std::fs::create_dir_all(&inbox).unwrap();
    // A bad package (a zip-slip) and the good v1, both finished copying.
    let bad = corpus::bad_packages(&example(1), &id)
        .into_iter()
        .find(|b| b.name == "zip-slip")
        .unwrap();
    std::fs::write(inbox.join("a-bad.zip"), &bad.bytes).unwrap();
    settle(&inbox);
    let before = api.audit_status().await.unwrap().entries;
    assert_eq!(api.reviews().sweep_inbox().await.unwrap(), 0);
    assert_eq!(api.reviews().sweep_inbox().await.unwrap(), 0);
    assert_eq!(
        api.audit_status().await.unwrap().entries,
        before,
        "a package refused before import is listed as refused, not audited every sweep"
    );
    let listed = api.reviews().inbox(&who()).await.unwrap();
    assert_eq!(listed.items[0].state, "refused");
    assert!(
        listed.items[0].detail.contains(".."),
        "{:?}",
        listed.items[0]
    );

    let good = inbox.join("b-good");
    for (path, bytes) in corpus::sealed(example(1), &id, 1) {
        let target = good.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    // Just written: still being copied as far as the console can tell.
    assert_eq!(api.reviews().sweep_inbox().await.unwrap(), 0);
    settle(&good);
    assert_eq!(api.reviews().sweep_inbox().await.unwrap(), 1);
    let task = api.tasks().get(TaskRef { id: id.clone() }).await.unwrap();
    assert_eq!(task.task.status, TaskStatus::PendingReview);
    let view = api
        .reviews()
        .get(
            &who(),
            PackageRef {
                task: id.clone(),
                version: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(view.imported_by, "guardia");
    assert_eq!(
        api.reviews().sweep_inbox().await.unwrap(),
        0,
        "imported once"
    );
}
