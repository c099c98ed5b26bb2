//! Display rows: the diff index laid out for the screen — unified or side by side, with or
//! without whitespace-only changes — as a flat list the review screen asks for in windows.
//! Each file starts with a header row, so the list is the whole review top to bottom and a
//! fixed-height virtual list can map a scroll offset straight to a row.
//!
//! Also here: the diff between two package versions (the "interdiff", as `git range-diff`
//! shows it: a diff of each file's diff), built as a [`DiffIndex`] of its own so every
//! view, search and window works on it unchanged.

use std::collections::BTreeMap;

use crate::diff::{DiffIndex, Row, RowKind};

/// No row on this side.
pub const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    Unified,
    Split,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisplayKind {
    /// The file's header (its path; the screen draws status and marks).
    File,
    Hunk,
    Note,
    Line,
}

/// One display row: indexes into the diff's rows (or [`NONE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisplayRow {
    pub kind: DisplayKind,
    pub file: u32,
    /// Unified: the row. Split: the old side's row (a context row is on both sides).
    pub left: u32,
    /// Split: the new side's row.
    pub right: u32,
    /// Unified with whitespace hidden: a removed/added pair that differs only in
    /// whitespace is shown once, as context (`left` is the added row).
    pub as_context: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Display {
    pub rows: Vec<DisplayRow>,
    /// The display row of each file's header.
    pub file_starts: Vec<u32>,
    /// The display rows of hunk headers.
    pub hunk_rows: Vec<u32>,
}

fn same_but_whitespace(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

/// Lays `index` out.
pub fn lay_out(index: &DiffIndex, layout: Layout, hide_whitespace: bool) -> Display {
    let mut rows = Vec::with_capacity(index.rows.len() + index.files.len());
    let mut file_starts = Vec::with_capacity(index.files.len());
    let mut hunk_rows = Vec::new();
    for (f, file) in index.files.iter().enumerate() {
        let f = f as u32;
        file_starts.push(rows.len() as u32);
        rows.push(DisplayRow {
            kind: DisplayKind::File,
            file: f,
            left: NONE,
            right: NONE,
            as_context: false,
        });
        let body = &index.rows[file.rows.start as usize..file.rows.end as usize];
        let mut i = 0;
        while i < body.len() {
            let at = file.rows.start + i as u32;
            let row = &body[i];
            match row.kind {
                RowKind::Hunk | RowKind::Note => {
                    if row.kind == RowKind::Hunk {
                        hunk_rows.push(rows.len() as u32);
                    }
                    rows.push(DisplayRow {
                        kind: if row.kind == RowKind::Hunk {
                            DisplayKind::Hunk
                        } else {
                            DisplayKind::Note
                        },
                        file: f,
                        left: at,
                        right: NONE,
                        as_context: false,
                    });
                    i += 1;
                }
                RowKind::Context => {
                    rows.push(line(f, at, if layout == Layout::Split { at } else { NONE }));
                    i += 1;
                }
                RowKind::Removed | RowKind::Added => {
                    // A change block: removed lines, then added lines.
                    let removed_end = run_end(body, i, RowKind::Removed);
                    let added_end = run_end(body, removed_end, RowKind::Added);
                    let removed: Vec<u32> = (i..removed_end)
                        .map(|k| file.rows.start + k as u32)
                        .collect();
                    let added: Vec<u32> = (removed_end..added_end)
                        .map(|k| file.rows.start + k as u32)
                        .collect();
                    let whitespace_only = hide_whitespace
                        && removed.len() == added.len()
                        && removed.iter().zip(&added).all(|(r, a)| {
                            same_but_whitespace(
                                index.row_text(&index.rows[*r as usize]),
                                index.row_text(&index.rows[*a as usize]),
                            )
                        });
                    if whitespace_only {
                        for (r, a) in removed.iter().zip(&added) {
                            // Unified shows the new text once; the folded old row rides
                            // along on the right so the reviewer is known to have had both.
                            let mut shown = if layout == Layout::Split {
                                line(f, *r, *a)
                            } else {
                                line(f, *a, *r)
                            };
                            shown.as_context = true;
                            rows.push(shown);
                        }
                    } else if layout == Layout::Split {
                        for k in 0..removed.len().max(added.len()) {
                            rows.push(line(
                                f,
                                removed.get(k).copied().unwrap_or(NONE),
                                added.get(k).copied().unwrap_or(NONE),
                            ));
                        }
                    } else {
                        for r in removed.iter().chain(&added) {
                            rows.push(line(f, *r, NONE));
                        }
                    }
                    i = added_end.max(i + 1);
                }
            }
        }
    }
    Display {
        rows,
        file_starts,
        hunk_rows,
    }
}

fn line(file: u32, left: u32, right: u32) -> DisplayRow {
    DisplayRow {
        kind: DisplayKind::Line,
        file,
        left,
        right,
        as_context: false,
    }
}

fn run_end(body: &[Row], from: usize, kind: RowKind) -> usize {
    let mut end = from;
    while end < body.len() && body[end].kind == kind {
        end += 1;
    }
    end
}

impl Display {
    /// The display rows whose text contains `needle` (both sides; file headers by path).
    pub fn search(&self, index: &DiffIndex, needle: &str, case_sensitive: bool) -> Vec<u32> {
        if needle.is_empty() {
            return Vec::new();
        }
        let lowered = needle.to_lowercase();
        let matches = |text: &str| {
            if case_sensitive {
                text.contains(needle)
            } else {
                text.to_lowercase().contains(&lowered)
            }
        };
        let cell = |row: u32| row != NONE && matches(index.row_text(&index.rows[row as usize]));
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| match r.kind {
                DisplayKind::File => matches(index.files[r.file as usize].path()),
                _ => cell(r.left) || cell(r.right),
            })
            .map(|(n, _)| n as u32)
            .collect()
    }

    /// The file shown at display row `row`.
    pub fn file_at(&self, row: u32) -> Option<u32> {
        self.rows.get(row as usize).map(|r| r.file)
    }
}

/// A file's diff as text, one line per row with its marker: what the interdiff compares.
fn rendered(index: &DiffIndex, file: usize) -> String {
    let f = &index.files[file];
    let mut out = String::new();
    for row in &index.rows[f.rows.start as usize..f.rows.end as usize] {
        let marker = match row.kind {
            RowKind::Hunk | RowKind::Note => "",
            RowKind::Context => " ",
            RowKind::Added => "+",
            RowKind::Removed => "-",
        };
        out.push_str(marker);
        out.push_str(index.row_text(row));
        out.push('\n');
    }
    out
}

/// The diff of `new`'s file diffs against `old`'s: for every file whose diff differs (or
/// that only one version has), a unified diff of the two renderings. Files whose change is
/// the same in both are left out. Paths in order of `new`, then files only `old` had.
pub fn interdiff(old: &DiffIndex, new: &DiffIndex) -> Result<DiffIndex, String> {
    let olds: BTreeMap<&str, usize> = old
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path(), i))
        .collect();
    let mut text = String::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut emit = |path: &str, before: String, after: String| {
        let patch = diffy::create_patch(&before, &after).to_string();
        // Drop diffy's own `---`/`+++` header; ours names the path.
        let hunks: String = patch
            .split_inclusive('\n')
            .skip_while(|l| !l.starts_with("@@"))
            .collect();
        if hunks.is_empty() {
            return;
        }
        text.push_str(&format!(
            "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        ));
        text.push_str(&hunks);
        if !hunks.ends_with('\n') {
            text.push('\n');
        }
    };
    for (i, file) in new.files.iter().enumerate() {
        let path = file.path();
        seen.insert(path);
        match olds.get(path) {
            Some(&o) if old.files[o].diff_hash == file.diff_hash => {}
            Some(&o) => emit(path, rendered(old, o), rendered(new, i)),
            None => emit(path, String::new(), rendered(new, i)),
        }
    }
    for (path, &o) in &olds {
        if !seen.contains(path) {
            emit(path, rendered(old, o), String::new());
        }
    }
    // A diff made here should always parse; if it does not (a path git would have quoted),
    // say so: an empty index would read as "no differences", which is not the truth.
    DiffIndex::parse(&text)
}
