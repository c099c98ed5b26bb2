//! The audit entries of result packages and their review: a package imported or refused,
//! a line comment, a decision with the record of what was seen, a document written for the
//! agent. Comments and decision notes are inputs and go in as written; package contents go
//! in by hash only.

use chrono::{DateTime, Utc};
use guardia_audit::{EntryDraft, EntryKind, Outcome};
use guardia_domain::Task;
use serde::Serialize;
use serde_json::Value;

use crate::Caller;
use crate::audit_entries::task_subject;

/// What an import carried over from the previous version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Carried {
    pub marks: u64,
    pub comments: u64,
    pub outdated: u64,
}

/// A package was verified and stored as version `version` of `task`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn package_imported(
    task: &Task,
    package: &guardia_package::Package,
    source: &str,
    warnings: &[guardia_package::Warning],
    carried: Carried,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    let codes: Vec<&str> = warnings.iter().map(|w| w.kind.code()).collect();
    let artifacts: Vec<Value> = package
        .artifacts()
        .map(|(path, entry)| serde_json::json!({ "path": path, "sha256": entry.sha256_hex() }))
        .collect();
    EntryDraft::new(
        at,
        EntryKind::PackageImported,
        caller.name(),
        task_subject(task),
    )
    .with("version", package.manifest.package_version)
    .with("package_sha256", package.sha256_hex())
    .with("source_sha256", hex::encode(package.source_sha256))
    .with("container", package.container.code())
    .with("source", source)
    .with("producer", package.manifest.producer.name.as_str())
    .with(
        "producer_version",
        package.manifest.producer.version.as_str(),
    )
    .with("run_id", package.manifest.producer.run_id.as_str())
    .with("files", package.files.len() as u64)
    .with("diff_files", package.diff.files.len() as u64)
    .with("diff_rows", package.diff.rows.len() as u64)
    .with("artifacts", artifacts)
    .with("result_status", package.result.status.code())
    .with("warnings", codes)
    .with("carried_marks", carried.marks)
    .with("carried_comments", carried.comments)
    .with("outdated_comments", carried.outdated)
    .with("workstation", caller.workstation.as_str())
}

/// A package was refused: nothing was stored.
pub(crate) fn package_refused(
    task: &str,
    source: &str,
    refusal: &guardia_package::Refusal,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::PackageRefused,
        caller.name(),
        format!("task:{task}"),
    )
    .outcome(Outcome::Failed)
    .with("source", source)
    .with("reason", refusal.code.code())
    .with("file", refusal.file.clone().unwrap_or_default())
    .with("detail", refusal.detail.as_str())
    .with("workstation", caller.workstation.as_str())
}

/// Where a comment sits.
pub(crate) struct CommentPlace<'a> {
    pub version: u32,
    pub path: &'a str,
    pub side: &'a str,
    pub line: u32,
}

pub(crate) fn review_commented(
    task: &Task,
    place: &CommentPlace<'_>,
    body: &str,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(
        at,
        EntryKind::ReviewCommented,
        caller.name(),
        task_subject(task),
    )
    .with("version", place.version)
    .with("path", place.path)
    .with("side", place.side)
    .with("line", place.line)
    .with("comment", body)
}

/// One file's coverage in an approval record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FileCoverage {
    pub path: String,
    pub diff_hash: String,
    /// `viewed`, `waived`, `not_viewed`.
    pub coverage: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Rows of the file the console served to the reviewer, of `rows`.
    pub shown_rows: u32,
    pub rows: u32,
}

/// What a decision was bound to: the exact package, each file and how it was covered, the
/// view the reviewer used, the console that showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ReviewRecord {
    pub package_sha256: String,
    pub files: Vec<FileCoverage>,
    pub artifacts: Vec<ArtifactHash>,
    pub layout: &'static str,
    pub hide_whitespace: bool,
    /// The version the reviewer compared against (0: none).
    pub against: u32,
    pub warnings: Vec<&'static str>,
    pub console_version: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ArtifactHash {
    pub path: String,
    pub sha256: String,
}

impl ReviewRecord {
    pub fn count(&self, coverage: &str) -> u64 {
        self.files.iter().filter(|f| f.coverage == coverage).count() as u64
    }
}

pub(crate) fn review_decided(
    task: &Task,
    version: u32,
    verdict: &str,
    comment: &str,
    record: &ReviewRecord,
    caller: &Caller,
    at: DateTime<Utc>,
) -> EntryDraft {
    let record_value = serde_json::to_value(record).unwrap_or(Value::Null);
    EntryDraft::new(
        at,
        EntryKind::ReviewDecided,
        caller.name(),
        task_subject(task),
    )
    .with("version", version)
    .with("verdict", verdict)
    .with("comment", comment)
    .with("viewed", record.count("viewed"))
    .with("waived", record.count("waived"))
    .with("not_viewed", record.count("not_viewed"))
    .with("record", record_value)
    .with("workstation", caller.workstation.as_str())
}

/// A document for the agent was recorded (and is written to the outbox after commit).
pub(crate) fn outbox_written(
    task: &Task,
    kind: &str,
    file_name: &str,
    content: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> EntryDraft {
    EntryDraft::new(at, EntryKind::OutboxWritten, actor, task_subject(task))
        .with("document", kind)
        .with("file", file_name)
        .with_digest("content", content.as_bytes())
}

#[cfg(test)]
mod golden {
    use chrono::TimeZone;
    use guardia_domain::{Category, PersonName, RequestText, SystemName, TaskStatus, Title};

    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap() + chrono::Duration::minutes(minute)
    }

    fn caller(name: &str) -> Caller {
        Caller {
            person: PersonName::parse(name).unwrap(),
            workstation: "ws-3".into(),
            grants: vec![],
        }
    }

    #[test]
    fn review_entries_bind_decisions_to_hashes_and_coverage() {
        let task = Task {
            id: "OPS-20261206-001".parse().unwrap(),
            title: Title::parse("Escape notice titles").unwrap(),
            category: Category::Deploy,
            sub_type: None,
            system: SystemName::parse("portal").unwrap(),
            request: RequestText::parse("XSS in notice titles").unwrap(),
            requester: PersonName::parse("kim.minji").unwrap(),
            priority: guardia_domain::Priority::High,
            status: TaskStatus::PendingReview,
            created_at: at(0),
            updated_at: at(0),
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures/packages/notice-fix/v1");
        let package = guardia_package::import(
            &dir,
            Some("OPS-20261206-001"),
            &guardia_package::Limits::default(),
        )
        .unwrap();
        let warnings = guardia_package::warnings::check(&package);
        let refusal = guardia_package::Refusal::of(
            guardia_package::RefusalCode::HashMismatch,
            "execution.log",
            "has SHA-256 00…; the manifest says 11…",
        );
        let record = ReviewRecord {
            package_sha256: package.sha256_hex(),
            files: vec![
                FileCoverage {
                    path: "web/notice.jsp".into(),
                    diff_hash: "ab".repeat(32),
                    coverage: "viewed",
                    reason: String::new(),
                    shown_rows: 14,
                    rows: 14,
                },
                FileCoverage {
                    path: "web/logo.png".into(),
                    diff_hash: "cd".repeat(32),
                    coverage: "waived",
                    reason: "binary, checked by hash".into(),
                    shown_rows: 1,
                    rows: 1,
                },
                FileCoverage {
                    path: "conf/portal.properties".into(),
                    diff_hash: "ef".repeat(32),
                    coverage: "not_viewed",
                    reason: String::new(),
                    shown_rows: 0,
                    rows: 4,
                },
            ],
            artifacts: vec![ArtifactHash {
                path: "web/notice.jsp".into(),
                sha256: "12".repeat(32),
            }],
            layout: "split",
            hide_whitespace: true,
            against: 1,
            warnings: vec!["log_errors"],
            console_version: "0.1.0",
        };
        let lines = [
            package_refused(
                "OPS-20261206-001",
                "/media/usb/notice-fix.zip",
                &refusal,
                &caller("oh.pm"),
                at(1),
            ),
            package_imported(
                &task,
                &package,
                "/media/usb/notice-fix",
                &warnings,
                Carried {
                    marks: 7,
                    comments: 1,
                    outdated: 1,
                },
                &caller("oh.pm"),
                at(2),
            ),
            review_commented(
                &task,
                &CommentPlace {
                    version: 1,
                    path: "web/notice.jsp",
                    side: "new",
                    line: 9,
                },
                "fn:escapeXml 대신 c:out escapeXml 기본값을 쓰세요",
                &caller("oh.pm"),
                at(3),
            ),
            review_decided(
                &task,
                2,
                "approve",
                "v2 확인",
                &record,
                &caller("oh.pm"),
                at(4),
            ),
            outbox_written(
                &task,
                "rework_brief",
                "OPS-20261206-001.rework-1.json",
                "{}",
                "oh.pm",
                at(5),
            ),
        ];
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(i, e)| String::from_utf8(e.encode(40 + i as u64).unwrap()).unwrap() + "\n")
            .collect();
        assert_eq!(
            text.trim_end(),
            include_str!("../tests/golden/review.txt").trim_end(),
            "the canonical entries changed; if deliberate, the new golden text is:\n{text}"
        );
    }
}
