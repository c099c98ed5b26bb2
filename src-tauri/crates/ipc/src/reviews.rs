//! Result packages and their review: what the review screen asks for and is shown.
//!
//! The diff never crosses whole: the screen gets the package's outline ([`PackageView`]:
//! file tree, marks, warnings, health, summary) and then asks for windows of display rows
//! ([`DiffWindowQuery`] → [`DiffWindow`]), with highlighting as a second, later answer
//! ([`HighlightQuery`] → [`Highlights`]) so first paint never waits for it.

use serde::{Deserialize, Serialize};

/// Import the package at `path` (a folder, `.zip` or `.tar.gz`) for `task`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageImport {
    pub task: String,
    pub path: String,
}

/// One package version of a task; `version` 0 is the latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub task: String,
    #[serde(default)]
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerView {
    pub name: String,
    pub version: String,
    pub run_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultView {
    /// `success`, `partial`, `failed`.
    pub status: String,
    pub summary: String,
    pub changed_files: Vec<String>,
    pub error_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRow {
    pub name: String,
    /// `pass`, `fail`, `skip`.
    pub status: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningView {
    pub kind: String,
    pub message: String,
    pub subjects: Vec<String>,
}

/// The caller's mark on a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkView {
    /// `viewed` or `waived`.
    pub state: String,
    pub reason: String,
    /// The version the mark was made on, when it carried over unchanged.
    pub carried_from: Option<u32>,
    pub shown_rows: u32,
}

/// How a file's change compares with the previous package version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionChange {
    /// There is no previous version.
    First,
    Same,
    Changed,
    /// Not in the previous version's diff.
    New,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewFile {
    pub index: u32,
    pub path: String,
    pub old_path: Option<String>,
    /// `added`, `deleted`, `modified`, `renamed`, `copied`.
    pub status: String,
    pub old_mode: Option<String>,
    pub new_mode: Option<String>,
    pub binary: bool,
    pub generated: bool,
    pub language: Option<String>,
    pub added: u32,
    pub removed: u32,
    pub diff_hash: String,
    pub mark: Option<MarkView>,
    pub since_previous: VersionChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactView {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionBrief {
    pub version: u32,
    /// `review`, `rework`, `approved`, `taken_over`.
    pub state: String,
    pub sha256: String,
    pub imported_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentView {
    pub id: i64,
    pub path: String,
    /// `old` or `new`.
    pub side: String,
    pub line: u32,
    pub line_text: String,
    pub body: String,
    pub author: String,
    pub at: String,
    /// Made on an earlier version, on a line that did not change.
    pub carried_from: Option<u32>,
    /// Made on an earlier version, on a line that changed or went.
    pub outdated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub version: u32,
    /// `approve`, `rework`, `take_over`.
    pub verdict: String,
    pub by: String,
    pub at: String,
    pub comment: String,
    pub viewed: u32,
    pub waived: u32,
    pub not_viewed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView {
    pub seq: u32,
    /// `work_order`, `rework_brief`, `withdrawal`.
    pub kind: String,
    pub file_name: String,
    /// Where it was written, or why it could not be.
    pub written_to: Option<String>,
    pub write_error: Option<String>,
    pub content: String,
    pub sha256: String,
    pub at: String,
    pub by: String,
}

/// A package as the review screen shows it (no diff rows: those come in windows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageView {
    pub task: String,
    pub version: u32,
    pub state: String,
    pub sha256: String,
    pub source_sha256: String,
    pub container: String,
    pub source_name: String,
    pub producer: ProducerView,
    pub created_at: String,
    pub imported_at: String,
    pub imported_by: String,
    pub result: ResultView,
    pub health: Vec<HealthRow>,
    pub warnings: Vec<WarningView>,
    pub files: Vec<ReviewFile>,
    pub artifacts: Vec<ArtifactView>,
    pub context: Option<String>,
    pub log_lines: u32,
    /// 1-based numbers of log lines that look like errors.
    pub log_errors: Vec<u32>,
    pub versions: Vec<VersionBrief>,
    pub comments: Vec<CommentView>,
    /// The caller's coverage of this version.
    pub viewed: u32,
    pub waived: u32,
    /// The system requires every file viewed or waived before an approval.
    pub require_full_coverage: bool,
    /// Whether the caller may decide now (PM of the system, the review's turn).
    pub can_decide: bool,
    /// Why not, when they may not.
    pub decide_blocked: Option<String>,
}

/// How the diff is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffLayout {
    #[default]
    Unified,
    Split,
}

/// What the display shows; each combination is its own list of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DiffView {
    #[serde(default)]
    pub layout: DiffLayout,
    /// Changes of whitespace only are shown as unchanged lines.
    #[serde(default)]
    pub hide_whitespace: bool,
    /// Show this version's diff against the diff of version `against` (0: no).
    #[serde(default)]
    pub against: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffWindowQuery {
    pub task: String,
    pub version: u32,
    #[serde(default)]
    pub view: DiffView,
    pub start: u32,
    pub count: u32,
}

/// One side of a display row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffCell {
    /// `context`, `added`, `removed`.
    pub kind: String,
    /// The line number on its side.
    pub line: u32,
    /// For an unchanged line: its number in the old file too (0 otherwise).
    #[serde(default)]
    pub old_line: u32,
    pub text: String,
}

/// One display row: a hunk header or note across the width, or one or two cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRow {
    /// `file`, `hunk`, `note`, `line`.
    pub kind: String,
    /// The file (index into `PackageView.files`, or into `DiffWindow.files` for a
    /// version diff).
    pub file: u32,
    /// For `file`, `hunk` and `note`: the text.
    pub text: String,
    /// Unified: the one cell. Split: the old side.
    pub left: Option<DiffCell>,
    /// Split: the new side.
    pub right: Option<DiffCell>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffWindow {
    pub start: u32,
    /// How many display rows the whole view has.
    pub total: u32,
    pub rows: Vec<DiffRow>,
    /// The first display row of each file (a file starts with its `file` row).
    pub file_starts: Vec<u32>,
    /// The display rows of hunk headers, for next/previous hunk.
    pub hunk_rows: Vec<u32>,
    /// For a version diff: the files it lists (paths), else empty.
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighlightQuery {
    pub task: String,
    pub version: u32,
    #[serde(default)]
    pub view: DiffView,
    pub start: u32,
    pub count: u32,
}

/// A highlighted run inside a cell: byte offsets into its text, and a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub len: u32,
    /// `kw`, `str`, `com`, `num`, `typ`, `fn`, `tag`, `attr`, `op`, `var`, `const`.
    pub class: u8,
}

/// Highlighting of a window: per display row, the spans of its left and right cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlights {
    pub start: u32,
    pub left: Vec<Vec<Span>>,
    pub right: Vec<Vec<Span>>,
}

/// Search inside the diff (the webview's own find cannot see rows not rendered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSearch {
    pub task: String,
    pub version: u32,
    #[serde(default)]
    pub view: DiffView,
    pub text: String,
    #[serde(default)]
    pub case_sensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHits {
    /// Display rows that contain the text, in order (at most `limit`).
    pub rows: Vec<u32>,
    /// All hits, even past the list's limit.
    pub total: u32,
}

/// A window of the execution log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogWindowQuery {
    pub task: String,
    pub version: u32,
    pub start: u32,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub number: u32,
    pub text: String,
    pub error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogWindow {
    pub start: u32,
    pub total: u32,
    pub lines: Vec<LogLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSearch {
    pub task: String,
    pub version: u32,
    pub text: String,
}

/// Mark a file viewed, waive it with a reason, or clear the mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    pub task: String,
    pub version: u32,
    pub path: String,
    /// `viewed`, `waived` or `none`.
    pub state: String,
    #[serde(default)]
    pub reason: String,
}

/// A file's mark after a change, and the caller's coverage of the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub path: String,
    pub mark: Option<MarkView>,
    pub viewed: u32,
    pub waived: u32,
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentInput {
    pub task: String,
    pub version: u32,
    pub path: String,
    /// `old` or `new`.
    pub side: String,
    pub line: u32,
    pub body: String,
}

/// The review's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecisionInput {
    pub task: String,
    /// The version the reviewer looked at; refused if another is now the latest.
    pub version: u32,
    /// The package hash the reviewer looked at; refused if it differs.
    pub sha256: String,
    /// `approve`, `rework` or `take_over`.
    pub verdict: String,
    pub comment: String,
    /// The view the reviewer used (recorded with the decision).
    #[serde(default)]
    pub view: DiffView,
}

/// The package inbox (a watched folder) as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxFolderView {
    pub folder: String,
    pub outbox: String,
    pub items: Vec<InboxPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPackage {
    pub path: String,
    pub task: Option<String>,
    pub version: Option<u32>,
    /// `imported`, `refused`, `waiting` (for a task not waiting for work).
    pub state: String,
    pub detail: String,
}
