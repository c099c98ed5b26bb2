//! Syntax highlighting for the review, done in the backend and lazily.
//!
//! syntect (Sublime Text grammars, pure-Rust regexes) parses each side of a hunk as one
//! fragment from a fresh state — a hunk is what the reviewer sees, and a grammar cannot
//! know what came before it anyway. Results are cached per diff row. A window the screen
//! asks for is highlighted first; what lies deep inside a long hunk and has no state yet
//! starts from a fresh state a little above the window (exact enough to read, refined when
//! the background pass reaches it). Output is a class per run, not colours: the screen's
//! theme decides how a keyword looks.

use std::sync::OnceLock;

use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};

use crate::diff::{DiffIndex, RowKind};

/// The classes the screen styles (`Span::class` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Class {
    Keyword = 1,
    Str = 2,
    Comment = 3,
    Number = 4,
    Type = 5,
    Function = 6,
    Tag = 7,
    Attribute = 8,
    Operator = 9,
    Variable = 10,
    Constant = 11,
}

/// A run of one class inside a row's text (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: u32,
    pub len: u32,
    pub class: Class,
}

/// The grammar set, loaded once (a few tens of ms) and shared.
pub fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Scope prefixes to classes, most specific first.
fn class_table() -> &'static [(Scope, Class)] {
    static TABLE: OnceLock<Vec<(Scope, Class)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        [
            ("comment", Class::Comment),
            ("string", Class::Str),
            ("constant.numeric", Class::Number),
            ("constant.character.escape", Class::Str),
            ("constant", Class::Constant),
            ("keyword.operator", Class::Operator),
            ("keyword", Class::Keyword),
            ("storage.type", Class::Type),
            ("storage", Class::Keyword),
            ("entity.name.tag", Class::Tag),
            ("entity.other.attribute-name", Class::Attribute),
            ("entity.name.function", Class::Function),
            ("support.function", Class::Function),
            ("variable.function", Class::Function),
            ("entity.name", Class::Type),
            ("support.type", Class::Type),
            ("support.class", Class::Type),
            ("variable", Class::Variable),
        ]
        .into_iter()
        .filter_map(|(name, class)| Scope::new(name).ok().map(|s| (s, class)))
        .collect()
    })
}

fn class_of(stack: &ScopeStack) -> Option<Class> {
    for scope in stack.as_slice().iter().rev() {
        for (prefix, class) in class_table() {
            if prefix.is_prefix_of(*scope) {
                return Some(*class);
            }
        }
    }
    None
}

/// The grammar for one of [`crate::diff::language_of`]'s names.
pub fn syntax_for(language: &str) -> Option<&'static SyntaxReference> {
    let set = syntaxes();
    let ext = match language {
        "python" => "py",
        "ini" => "ini",
        other => other,
    };
    set.find_syntax_by_extension(ext)
        .or_else(|| match language {
            "jsp" => set.find_syntax_by_name("Java Server Page (JSP)"),
            "sh" => set.find_syntax_by_extension("bash"),
            _ => None,
        })
}

/// Highlights consecutive lines from a fresh state. A line that fails to parse (a grammar
/// bug) ends the fragment's highlighting; the text shows plain.
pub fn fragment(syntax: &SyntaxReference, lines: &[&str]) -> Vec<Vec<Run>> {
    let set = syntaxes();
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut out = Vec::with_capacity(lines.len());
    let mut line_buf = String::new();
    for line in lines {
        line_buf.clear();
        line_buf.push_str(line);
        line_buf.push('\n');
        let Ok(ops) = state.parse_line(&line_buf, set) else {
            out.resize(lines.len(), Vec::new());
            return out;
        };
        let mut runs: Vec<Run> = Vec::new();
        let mut from = 0usize;
        let push = |from: usize, to: usize, stack: &ScopeStack, runs: &mut Vec<Run>| {
            let to = to.min(line.len());
            if to <= from {
                return;
            }
            if let Some(class) = class_of(stack) {
                match runs.last_mut() {
                    Some(last)
                        if last.class == class && (last.start + last.len) as usize == from =>
                    {
                        last.len += (to - from) as u32;
                    }
                    _ => runs.push(Run {
                        start: from as u32,
                        len: (to - from) as u32,
                        class,
                    }),
                }
            }
        };
        for (at, op) in ops {
            push(from, at, &stack, &mut runs);
            from = at;
            if stack.apply(&op).is_err() {
                break;
            }
        }
        push(from, line.len(), &stack, &mut runs);
        out.push(runs);
    }
    out
}

/// Per-row highlighting of one diff, filled on demand.
#[derive(Debug, Default)]
pub struct RowHighlights {
    /// `None`: not highlighted yet.
    rows: Vec<Option<Vec<Run>>>,
    done_hunks: Vec<bool>,
}

/// Rows whose hunk side is longer than this are highlighted from a nearby fresh state
/// when a window asks, rather than from the hunk's start.
pub const NEAR: usize = 400;

impl RowHighlights {
    pub fn new(index: &DiffIndex) -> Self {
        let hunks = index.files.iter().map(|f| f.hunks.len()).sum();
        RowHighlights {
            rows: vec![None; index.rows.len()],
            done_hunks: vec![false; hunks],
        }
    }

    pub fn get(&self, row: u32) -> Option<&[Run]> {
        self.rows.get(row as usize).and_then(|r| r.as_deref())
    }

    /// How many rows have highlighting.
    pub fn done(&self) -> usize {
        self.rows.iter().filter(|r| r.is_some()).count()
    }

    /// Makes sure rows `wanted` (diff row indexes) are highlighted.
    pub fn ensure(&mut self, index: &DiffIndex, wanted: &[u32]) {
        let mut hunk_base = 0usize;
        for file in &index.files {
            let Some(syntax) = file.language.and_then(syntax_for) else {
                hunk_base += file.hunks.len();
                continue;
            };
            for (h, hunk) in file.hunks.iter().enumerate() {
                let start = hunk.row + 1;
                let end = file.hunks.get(h + 1).map_or(file.rows.end, |next| next.row);
                let touched: Vec<u32> = wanted
                    .iter()
                    .copied()
                    .filter(|r| (start..end).contains(r) && self.rows[*r as usize].is_none())
                    .collect();
                if touched.is_empty() || self.done_hunks[hunk_base + h] {
                    continue;
                }
                let first = touched.iter().copied().min().unwrap_or(start);
                let last = touched.iter().copied().max().unwrap_or(start);
                let from = if (first - start) as usize > NEAR {
                    first.saturating_sub(NEAR as u32 / 4).max(start)
                } else {
                    start
                };
                self.side(index, syntax, from, last + 1, true);
                self.side(index, syntax, from, last + 1, false);
                if from == start && last + 1 >= end {
                    self.done_hunks[hunk_base + h] = true;
                }
            }
            hunk_base += file.hunks.len();
        }
    }

    /// Highlights everything not yet done, hunk by hunk (the background pass). Returns
    /// how many rows it highlighted.
    pub fn fill(&mut self, index: &DiffIndex) -> usize {
        let before = self.done();
        while self.fill_some(index, usize::MAX) {}
        self.done() - before
    }

    /// Highlights at most `hunks` hunks not yet done; whether any remain.
    pub fn fill_some(&mut self, index: &DiffIndex, hunks: usize) -> bool {
        let mut budget = hunks;
        let mut hunk_base = 0usize;
        for file in &index.files {
            let Some(syntax) = file.language.and_then(syntax_for) else {
                hunk_base += file.hunks.len();
                continue;
            };
            for (h, hunk) in file.hunks.iter().enumerate() {
                if !self.done_hunks[hunk_base + h] {
                    if budget == 0 {
                        return true;
                    }
                    budget -= 1;
                    let end = file.hunks.get(h + 1).map_or(file.rows.end, |next| next.row);
                    self.side(index, syntax, hunk.row + 1, end, true);
                    self.side(index, syntax, hunk.row + 1, end, false);
                    self.done_hunks[hunk_base + h] = true;
                }
            }
            hunk_base += file.hunks.len();
        }
        false
    }

    /// One side of rows `from..to`: the old side is context + removed, the new side
    /// context + added (context rows take the new side's result).
    fn side(&mut self, index: &DiffIndex, syntax: &SyntaxReference, from: u32, to: u32, old: bool) {
        let rows: Vec<u32> = (from..to)
            .filter(|r| match index.rows[*r as usize].kind {
                RowKind::Context => true,
                RowKind::Removed => old,
                RowKind::Added => !old,
                RowKind::Hunk | RowKind::Note => false,
            })
            .collect();
        let texts: Vec<&str> = rows
            .iter()
            .map(|r| index.row_text(&index.rows[*r as usize]))
            .collect();
        for (row, runs) in rows.iter().zip(fragment(syntax, &texts)) {
            let kind = index.rows[*row as usize].kind;
            if kind != RowKind::Context || !old {
                self.rows[*row as usize] = Some(runs);
            }
        }
    }
}
