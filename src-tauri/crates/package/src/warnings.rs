//! Consistency warnings: where a package contradicts itself. None of them refuses the
//! package — the reviewer decides — but each is shown above the review and recorded with
//! the import, so an approval given despite one says so.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::manifest::{CheckStatus, LOG, Outcome, Package};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The diff changes a file `result.json` does not list.
    UndeclaredChange,
    /// `result.json` lists a file the diff does not change.
    DeclaredNotChanged,
    /// The summary says success while a health check failed.
    SuccessWithFailedCheck,
    /// The summary says success while naming error codes.
    SuccessWithErrorCodes,
    /// The execution log has lines that look like errors.
    LogErrors,
    /// An artifact whose path matches no changed file.
    ArtifactWithoutChange,
}

impl WarningKind {
    pub fn code(self) -> &'static str {
        match self {
            WarningKind::UndeclaredChange => "undeclared_change",
            WarningKind::DeclaredNotChanged => "declared_not_changed",
            WarningKind::SuccessWithFailedCheck => "success_with_failed_check",
            WarningKind::SuccessWithErrorCodes => "success_with_error_codes",
            WarningKind::LogErrors => "log_errors",
            WarningKind::ArtifactWithoutChange => "artifact_without_change",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    /// English, then Korean.
    pub message: String,
    /// The files (or log line numbers) it is about.
    pub subjects: Vec<String>,
}

/// Every contradiction in `package`, in a fixed order.
pub fn check(package: &Package) -> Vec<Warning> {
    let mut out = Vec::new();
    let changed: BTreeSet<&str> = package.diff.files.iter().map(|f| f.path()).collect();
    let renamed_from: BTreeSet<&str> = package
        .diff
        .files
        .iter()
        .filter_map(|f| f.old_path.as_deref())
        .collect();
    let declared: BTreeSet<&str> = package
        .result
        .changed_files
        .iter()
        .map(String::as_str)
        .collect();

    let undeclared: Vec<String> = changed
        .iter()
        .filter(|path| !declared.contains(*path))
        .map(|p| (*p).to_owned())
        .collect();
    if !undeclared.is_empty() {
        out.push(Warning {
            kind: WarningKind::UndeclaredChange,
            message: format!(
                "the diff changes {} file(s) result.json does not list / result.json에 없는 파일 {}개가 diff에서 변경됩니다",
                undeclared.len(),
                undeclared.len()
            ),
            subjects: undeclared,
        });
    }
    let not_changed: Vec<String> = declared
        .iter()
        .filter(|path| !changed.contains(*path) && !renamed_from.contains(*path))
        .map(|p| (*p).to_owned())
        .collect();
    if !not_changed.is_empty() {
        out.push(Warning {
            kind: WarningKind::DeclaredNotChanged,
            message: format!(
                "result.json lists {} file(s) the diff does not change / result.json의 파일 {}개가 diff에 없습니다",
                not_changed.len(),
                not_changed.len()
            ),
            subjects: not_changed,
        });
    }
    if package.result.status == Outcome::Success {
        let failed: Vec<String> = package
            .health
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .map(|c| c.name.clone())
            .collect();
        if !failed.is_empty() {
            out.push(Warning {
                kind: WarningKind::SuccessWithFailedCheck,
                message: format!(
                    "the summary claims success but {} health check(s) failed / 요약은 성공이지만 헬스 체크 {}개가 실패했습니다",
                    failed.len(),
                    failed.len()
                ),
                subjects: failed,
            });
        }
        if !package.result.error_codes.is_empty() {
            out.push(Warning {
                kind: WarningKind::SuccessWithErrorCodes,
                message: "the summary claims success but names error codes / 요약은 성공이지만 오류 코드가 있습니다".to_owned(),
                subjects: package.result.error_codes.clone(),
            });
        }
    }
    let errors = log_error_lines(package.text(LOG));
    if !errors.is_empty() {
        out.push(Warning {
            kind: WarningKind::LogErrors,
            message: format!(
                "the execution log has {} line(s) that look like errors / 실행 로그에 오류로 보이는 줄이 {}개 있습니다",
                errors.len(),
                errors.len()
            ),
            subjects: errors.iter().take(20).map(|n| format!("line {n}")).collect(),
        });
    }
    let orphans: Vec<String> = package
        .artifacts()
        .map(|(path, _)| path)
        .filter(|path| !artifact_matches(path, &changed))
        .map(str::to_owned)
        .collect();
    if !orphans.is_empty() {
        out.push(Warning {
            kind: WarningKind::ArtifactWithoutChange,
            message: format!(
                "{} artifact(s) match no changed file / 변경된 파일과 맞지 않는 배포 파일이 {}개 있습니다",
                orphans.len(),
                orphans.len()
            ),
            subjects: orphans,
        });
    }
    out
}

/// An artifact `artifacts/web/notice.html` matches the change of `web/notice.html`, or of
/// any changed file with the same name (a build may flatten folders: `app.war`).
fn artifact_matches(path: &str, changed: &BTreeSet<&str>) -> bool {
    if changed.contains(path) {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    changed
        .iter()
        .any(|c| c.rsplit('/').next().unwrap_or(c) == name)
}

/// The 1-based numbers of log lines that look like errors (what the log viewer marks).
pub fn log_error_lines(log: &str) -> Vec<u32> {
    log.lines()
        .enumerate()
        .filter(|(_, line)| looks_like_error(line))
        .map(|(n, _)| n as u32 + 1)
        .collect()
}

const ERROR_WORDS: [&str; 9] = [
    "error",
    "exception",
    "fatal",
    "severe",
    "traceback",
    "panicked",
    "failed",
    "failure",
    "ora-",
];
/// Summaries that mention errors without reporting one.
const ALL_CLEAR: [&str; 6] = [
    "0 error",
    "no error",
    "errors: 0",
    "0 failed",
    "failed: 0",
    "failures: 0",
];

pub fn looks_like_error(line: &str) -> bool {
    let lower = line.to_lowercase();
    ERROR_WORDS.iter().any(|w| lower.contains(w)) && !ALL_CLEAR.iter().any(|w| lower.contains(w))
}
