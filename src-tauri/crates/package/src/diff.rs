//! The diff index: `changes.diff` parsed once (diffy's multi-file `PatchSet`, git's
//! extended headers: renames, copies, modes, binary markers) into a flat table of rows the
//! review screen asks for in windows. A row is 20 bytes and points into the diff text
//! rather than copying it, so a 100,000-line diff indexes in a few MB.
//!
//! Each file gets a *diff hash*: the SHA-256 of what the reviewer is shown for it (paths,
//! modes, hunks and their lines). Viewed marks are keyed by it, so a file whose change is
//! different in the next package version is unviewed again, and one that is the same stays
//! viewed however the rest of the package moved.

use std::ops::Range;

use diffy::patch_set::{FileMode, FileOperation, ParseOptions, PatchKind, PatchSet};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Added,
    Deleted,
    Modified,
    Renamed,
    Copied,
}

impl FileStatus {
    pub fn code(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Deleted => "deleted",
            FileStatus::Modified => "modified",
            FileStatus::Renamed => "renamed",
            FileStatus::Copied => "copied",
        }
    }
}

/// What a row of the review shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// `@@ -a,b +c,d @@ context` (text in the index's own buffer).
    Hunk,
    Context,
    Added,
    Removed,
    /// A line about the file rather than its content: binary, mode change, rename with no
    /// content change (text in the index's own buffer).
    Note,
}

/// One row; line numbers are 1-based, 0 where the side has no line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub kind: RowKind,
    pub old_line: u32,
    pub new_line: u32,
    /// Byte range of the text: in the diff for content rows, in the notes buffer for
    /// hunk headers and notes. Without the `+`/`-`/` ` marker and the line ending.
    pub start: u32,
    pub len: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunkIndex {
    pub old_start: u32,
    pub old_len: u32,
    pub new_start: u32,
    pub new_len: u32,
    /// The row of the `@@` header.
    pub row: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub status: FileStatus,
    pub old_mode: Option<&'static str>,
    pub new_mode: Option<&'static str>,
    pub binary: bool,
    /// Minified, lock or build output: shown collapsed, still counted for coverage.
    pub generated: bool,
    /// The highlighter's language, from the file name.
    pub language: Option<&'static str>,
    pub hunks: Vec<HunkIndex>,
    pub rows: Range<u32>,
    pub added: u32,
    pub removed: u32,
    pub diff_hash: [u8; 32],
}

impl FileDiff {
    /// The path the reviewer knows the file by: the new one, or the old one if deleted.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or_default()
    }

    pub fn diff_hash_hex(&self) -> String {
        hex::encode(self.diff_hash)
    }
}

/// The whole diff, indexed. Holds its text so rows can point into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffIndex {
    text: String,
    notes: String,
    pub files: Vec<FileDiff>,
    pub rows: Vec<Row>,
}

impl DiffIndex {
    /// Parses a unified diff as git writes it. An empty diff is an empty index (a package
    /// may change nothing: an inspection). Errors name the line.
    pub fn parse(text: &str) -> Result<DiffIndex, String> {
        let mut index = DiffIndex {
            text: text.to_owned(),
            ..DiffIndex::empty()
        };
        if text.trim().is_empty() {
            return Ok(index);
        }
        let base = text.as_ptr() as usize;
        let offset_of = |slice: &str| -> u32 {
            // diffy hands out slices of the input: their distance from its start is their
            // offset (plain integer arithmetic on addresses, no unsafe).
            (slice.as_ptr() as usize).saturating_sub(base) as u32
        };
        for patch in PatchSet::parse(text, ParseOptions::gitdiff()) {
            let patch = patch.map_err(|e| {
                // diffy names the byte; the reviewer wants the line.
                let message = e.to_string();
                let line = message
                    .split("at byte ")
                    .nth(1)
                    .and_then(|rest| rest.split(':').next())
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .map(|byte| line_of(text, byte));
                match line {
                    Some(line) => format!("line {line}: {message}"),
                    None => message,
                }
            })?;
            let mut hasher = Sha256::new();
            let (status, old_path, new_path) = match patch.operation() {
                FileOperation::Create(p) => (FileStatus::Added, None, Some(strip(p))),
                FileOperation::Delete(p) => (FileStatus::Deleted, Some(strip(p)), None),
                FileOperation::Modify { original, modified } => {
                    let (old, new) = (strip(original), strip(modified));
                    let status = if old == new {
                        FileStatus::Modified
                    } else {
                        FileStatus::Renamed
                    };
                    (status, Some(old), Some(new))
                }
                FileOperation::Rename { from, to } => {
                    (FileStatus::Renamed, Some(strip(from)), Some(strip(to)))
                }
                FileOperation::Copy { from, to } => {
                    (FileStatus::Copied, Some(strip(from)), Some(strip(to)))
                }
            };
            let old_mode = patch.old_mode().map(mode_code);
            let new_mode = patch.new_mode().map(mode_code);
            hasher.update(format!(
                "{}\0{}\0{}\0{}\0{}\0",
                status.code(),
                old_path.as_deref().unwrap_or_default(),
                new_path.as_deref().unwrap_or_default(),
                old_mode.unwrap_or_default(),
                new_mode.unwrap_or_default()
            ));
            let path = new_path
                .as_deref()
                .or(old_path.as_deref())
                .unwrap_or_default()
                .to_owned();
            let first_row = index.rows.len() as u32;
            let mut hunks = Vec::new();
            let (mut added, mut removed) = (0u32, 0u32);
            let mut binary = false;
            if let (Some(old), Some(new)) = (old_mode, new_mode)
                && old != new
            {
                index.note(format!("mode {old} → {new}"));
            }
            match patch.patch() {
                PatchKind::Binary(_) => {
                    binary = true;
                    hasher.update(b"binary\0");
                    // The marker says only that the bytes differ; the artifact's hash (if
                    // the package carries it) is what binds the content.
                    index.note("binary file: contents not shown".to_owned());
                }
                PatchKind::Text(text_patch) => {
                    for hunk in text_patch.hunks() {
                        let old = hunk.old_range();
                        let new = hunk.new_range();
                        let header = format!(
                            "@@ -{},{} +{},{} @@{}",
                            old.start(),
                            old.len(),
                            new.start(),
                            new.len(),
                            hunk.function_context()
                                .map(|c| format!(" {}", c.trim_end()))
                                .unwrap_or_default()
                        );
                        hasher.update(header.as_bytes());
                        hasher.update(b"\n");
                        let row = index.rows.len() as u32;
                        index.rows.push(Row {
                            kind: RowKind::Hunk,
                            old_line: 0,
                            new_line: 0,
                            start: index.notes.len() as u32,
                            len: header.len() as u32,
                        });
                        index.notes.push_str(&header);
                        // Line numbers are u32 everywhere (rows, comments, the wire): a
                        // hunk past that is refused, never wrapped.
                        let number = |n: usize| {
                            u32::try_from(n)
                                .ok()
                                .filter(|n| n.checked_add(1_000_000).is_some())
                                .ok_or_else(|| format!("{path}: line number {n} is out of range"))
                        };
                        hunks.push(HunkIndex {
                            old_start: number(old.start())?,
                            old_len: number(old.len())?,
                            new_start: number(new.start())?,
                            new_len: number(new.len())?,
                            row,
                        });
                        let (mut old_no, mut new_no) = (number(old.start())?, number(new.start())?);
                        for line in hunk.lines() {
                            let (kind, content, marker) = match line {
                                diffy::Line::Context(s) => (RowKind::Context, *s, b' '),
                                diffy::Line::Delete(s) => (RowKind::Removed, *s, b'-'),
                                diffy::Line::Insert(s) => (RowKind::Added, *s, b'+'),
                            };
                            hasher.update([marker]);
                            hasher.update(content.as_bytes());
                            let body = content.trim_end_matches(['\n', '\r']);
                            let (o, n) = match kind {
                                RowKind::Context => {
                                    old_no = old_no.saturating_add(1);
                                    new_no = new_no.saturating_add(1);
                                    (old_no.saturating_sub(1), new_no.saturating_sub(1))
                                }
                                RowKind::Removed => {
                                    removed += 1;
                                    old_no = old_no.saturating_add(1);
                                    (old_no.saturating_sub(1), 0)
                                }
                                RowKind::Added => {
                                    added += 1;
                                    new_no = new_no.saturating_add(1);
                                    (0, new_no.saturating_sub(1))
                                }
                                RowKind::Hunk | RowKind::Note => (0, 0),
                            };
                            index.rows.push(Row {
                                kind,
                                old_line: o,
                                new_line: n,
                                start: offset_of(content),
                                len: body.len() as u32,
                            });
                        }
                    }
                    if text_patch.hunks().is_empty() && index.rows.len() as u32 == first_row {
                        index.note(match status {
                            FileStatus::Renamed => "renamed without changes".to_owned(),
                            FileStatus::Copied => "copied without changes".to_owned(),
                            _ => "empty file".to_owned(),
                        });
                    }
                }
            }
            index.files.push(FileDiff {
                old_path,
                new_path,
                status,
                old_mode,
                new_mode,
                binary,
                generated: is_generated(&path),
                language: language_of(&path),
                hunks,
                rows: first_row..index.rows.len() as u32,
                added,
                removed,
                diff_hash: hasher.finalize().into(),
            });
        }
        // One section per file: marks, comments and coverage are per path.
        let mut seen = std::collections::HashSet::new();
        for file in &index.files {
            if !seen.insert(file.path()) {
                return Err(format!(
                    "{} appears twice in the diff; git writes one section per file",
                    file.path()
                ));
            }
        }
        if index.files.is_empty() && !text.trim().is_empty() {
            return Err("no file changes found: is this a unified diff?".to_owned());
        }
        Ok(index)
    }

    /// An index of no changes.
    pub fn empty() -> DiffIndex {
        DiffIndex {
            text: String::new(),
            notes: String::new(),
            files: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn note(&mut self, text: String) {
        self.rows.push(Row {
            kind: RowKind::Note,
            old_line: 0,
            new_line: 0,
            start: self.notes.len() as u32,
            len: text.len() as u32,
        });
        self.notes.push_str(&text);
    }

    /// The text of a row (without its `+`/`-` marker and line ending).
    pub fn row_text(&self, row: &Row) -> &str {
        let buffer = match row.kind {
            RowKind::Hunk | RowKind::Note => &self.notes,
            RowKind::Context | RowKind::Added | RowKind::Removed => &self.text,
        };
        let start = row.start as usize;
        // A content slice starts after its one-byte marker only when diffy hands out the
        // line without it; both buffers are indexed exactly as stored, so this is a plain
        // bounds-checked slice.
        buffer
            .get(start..start + row.len as usize)
            .unwrap_or_default()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn line_count(&self) -> usize {
        self.rows.len()
    }

    /// The file a row belongs to.
    pub fn file_of_row(&self, row: u32) -> Option<usize> {
        let index = self.files.partition_point(|f| f.rows.end <= row);
        (index < self.files.len() && self.files[index].rows.contains(&row)).then_some(index)
    }

    pub fn file(&self, path: &str) -> Option<&FileDiff> {
        self.files.iter().find(|f| f.path() == path)
    }
}

/// git names files `a/…` and `b/…`; the reviewer knows them without.
fn strip(path: &str) -> String {
    path.strip_prefix("a/")
        .or_else(|| path.strip_prefix("b/"))
        .unwrap_or(path)
        .to_owned()
}

fn mode_code(mode: &FileMode) -> &'static str {
    match mode {
        FileMode::Regular => "100644",
        FileMode::Executable => "100755",
        FileMode::Symlink => "120000",
        FileMode::Gitlink => "160000",
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset.min(text.len()))
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Build output and lock files: reviewed as "generated" (collapsed by default).
pub fn is_generated(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.ends_with(".min.js")
        || name.ends_with(".min.css")
        || name.ends_with(".map")
        || name.ends_with("-lock.json")
        || name.ends_with(".lock")
        || name == "yarn.lock"
        || path.split('/').any(|part| {
            matches!(
                part,
                "generated" | "dist" | "build" | "target" | "node_modules"
            )
        })
}

/// The language the highlighter uses for a path, by extension.
pub fn language_of(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "java" => "java",
        "jsp" | "jspf" | "tag" => "jsp",
        "html" | "htm" | "xhtml" => "html",
        "js" | "mjs" | "cjs" => "js",
        "css" => "css",
        "sql" => "sql",
        "xml" | "xsd" | "xsl" | "xslt" | "wsdl" | "pom" | "tld" => "xml",
        "properties" => "properties",
        "sh" | "bash" | "ksh" | "env" => "sh",
        "json" => "json",
        "yml" | "yaml" => "yaml",
        "py" => "python",
        "md" => "md",
        "conf" | "ini" | "cfg" => "ini",
        "c" | "h" => "c",
        "php" => "php",
        _ => return None,
    })
}
