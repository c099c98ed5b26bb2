//! Reads a command the way the site's shell will: parsed by `brush-parser` (a maintained
//! POSIX/bash parser), every simple command found — inside lists, pipelines, compound
//! commands, functions, command and process substitutions, and the strings handed to
//! `sh -c`, `su -c`, `env -S` and `eval` — and every wrapper (`sudo`, `env`, `nice`,
//! `timeout`, `xargs`, `busybox`, …) unwrapped down to the program that really runs.
//!
//! What cannot be known before the command runs is refused here rather than guessed at: a
//! program name computed at run time (`$(printf rm)`, `${X:-rm}`, `` `x` ``, a glob), and a
//! pipe into a shell or an interpreter (`… | base64 -d | sh`), whose program is data.

use brush_parser::ParserOptions;
use brush_parser::ast::{
    self, AndOr, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList,
    IoFileRedirectKind, IoFileRedirectTarget, IoRedirect, Pipeline,
};
use brush_parser::word::{self, TildeExpr, WordPiece, WordPieceWithSource};

use super::{DenyRule, Refusal, refuse};

/// How deep `sh -c '… sh -c …'`, substitutions and `eval` may nest before the checker gives
/// up (and refuses).
const MAX_DEPTH: usize = 8;
/// How deep `(`, `{` and `[` may nest in a command's text, quoted or not.
const MAX_BRACKET_DEPTH: usize = 12;
/// Brace expansions (`/{etc,usr}`) are expanded up to this many alternatives.
const MAX_ALTERNATIVES: usize = 256;

/// One word of a command as the shell would see it before running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Arg {
    /// The word with quotes removed; computed parts are kept as written (`$HOME`).
    pub text: String,
    /// Part of the word is only known at run time (variable, command output, arithmetic).
    pub computed: bool,
    /// The word holds an unquoted glob or brace pattern.
    pub pattern: bool,
}

impl Arg {
    fn literal(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            computed: false,
            pattern: false,
        }
    }

    /// Every spelling the word may take after brace expansion.
    pub fn alternatives(&self) -> Vec<String> {
        if self.pattern {
            expand_braces(&self.text)
        } else {
            vec![self.text.clone()]
        }
    }
}

/// A program as it will run: its name and arguments after every wrapper was unwrapped.
#[derive(Debug, Clone)]
pub(super) struct Invocation {
    /// `words[0]` is the program.
    pub words: Vec<Arg>,
    /// More arguments arrive at run time (`xargs`).
    pub computed_tail: bool,
    /// Files its output is redirected to (`>`, `>>`, `&>`, `<>`).
    pub writes: Vec<Arg>,
}

impl Invocation {
    pub fn program(&self) -> &str {
        program_name(&self.words[0].text)
    }

    pub fn args(&self) -> &[Arg] {
        &self.words[1..]
    }
}

/// The program name of a word, without a directory: `/bin/rm` → `rm`.
pub(super) fn program_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Every program `text` would run, as far as it can be known without running it.
pub(super) fn invocations(text: &str) -> Result<Vec<Invocation>, Refusal> {
    // The parser backtracks, and deeply nested brackets take it exponential time (48 `(`
    // ran for minutes: found by the `command` fuzz target). Nobody types that ad hoc.
    let depth = bracket_depth(text);
    if depth > MAX_BRACKET_DEPTH {
        return Err(refuse(
            DenyRule::Unreadable,
            format!("brackets nested {depth} deep (at most {MAX_BRACKET_DEPTH})"),
        ));
    }
    // brush-parser 0.4.0's tokenizer loops, allocating without end, on some here-documents
    // next to a command substitution (found twice by the `command` fuzz target, inside and
    // before one): refused unread.
    if heredoc_with_substitution(text) {
        return Err(refuse(
            DenyRule::Unreadable,
            "a here-document together with a command substitution or `$[`",
        ));
    }
    // …and on here-documents that never end (`c<< '')  | '')` exhausted 2 GiB: the fuzz
    // target a third time). One that never ends has no body to run anyway.
    if let Some(problem) = unended_heredoc(text) {
        return Err(refuse(DenyRule::Unreadable, problem));
    }
    let mut walker = Walker::default();
    walker.script(text)?;
    Ok(walker.found)
}

#[derive(Default)]
struct Walker {
    found: Vec<Invocation>,
    depth: usize,
}

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "ksh", "mksh", "pdksh", "zsh", "yash", "posh", "hush", "rbash",
];
const INTERPRETERS: &[&str] = &[
    "python",
    "python2",
    "python3",
    "perl",
    "ruby",
    "php",
    "node",
    "nodejs",
    "lua",
    "tclsh",
    "wish",
    "expect",
    "jshell",
    "pwsh",
    "osascript",
    "Rscript",
    "gawk",
    "awk",
    "mawk",
    "nawk",
];

impl Walker {
    fn script(&mut self, text: &str) -> Result<(), Refusal> {
        if self.depth >= MAX_DEPTH {
            return Err(refuse(DenyRule::Unreadable, "nesting deeper than 8 levels"));
        }
        self.depth += 1;
        let program = guarded(|| {
            let tokens = brush_parser::tokenize_str(text).map_err(|e| e.to_string())?;
            brush_parser::parse_tokens(&tokens, &ParserOptions::default())
                .map_err(|e| e.to_string())
        })?;
        for list in &program.complete_commands {
            self.list(list)?;
        }
        self.depth -= 1;
        Ok(())
    }

    fn list(&mut self, list: &CompoundList) -> Result<(), Refusal> {
        for item in &list.0 {
            let and_or = &item.0;
            self.pipeline(&and_or.first)?;
            for next in &and_or.additional {
                match next {
                    AndOr::And(p) | AndOr::Or(p) => self.pipeline(p)?,
                }
            }
        }
        Ok(())
    }

    fn pipeline(&mut self, pipeline: &Pipeline) -> Result<(), Refusal> {
        for (i, command) in pipeline.seq.iter().enumerate() {
            self.command(command, i > 0)?;
        }
        Ok(())
    }

    fn command(&mut self, command: &Command, piped: bool) -> Result<(), Refusal> {
        match command {
            Command::Simple(simple) => self.simple(simple, piped),
            Command::Compound(compound, redirects) => {
                let mut writes = Vec::new();
                for r in redirects.iter().flat_map(|r| r.0.iter()) {
                    self.redirect(r, &mut writes)?;
                }
                self.push_writes(writes);
                self.compound(compound, piped)
            }
            Command::Function(f) => {
                self.compound(&f.body.0, false)?;
                let mut writes = Vec::new();
                for r in f.body.1.iter().flat_map(|r| r.0.iter()) {
                    self.redirect(r, &mut writes)?;
                }
                self.push_writes(writes);
                Ok(())
            }
            Command::ExtendedTest(..) => Ok(()),
        }
    }

    /// Redirections of a compound command or function: checked as writes of no program.
    fn push_writes(&mut self, writes: Vec<Arg>) {
        if !writes.is_empty() {
            self.found.push(Invocation {
                words: vec![Arg::literal(":")],
                computed_tail: false,
                writes,
            });
        }
    }

    fn compound(&mut self, compound: &CompoundCommand, piped: bool) -> Result<(), Refusal> {
        match compound {
            CompoundCommand::BraceGroup(g) => self.list(&g.list),
            CompoundCommand::Subshell(s) => self.list(&s.list),
            CompoundCommand::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.word(&w.value)?;
                }
                self.list(&f.body.list)
            }
            CompoundCommand::CaseClause(c) => {
                self.word(&c.value.value)?;
                for item in &c.cases {
                    if let Some(list) = &item.cmd {
                        self.list(list)?;
                    }
                }
                Ok(())
            }
            CompoundCommand::IfClause(i) => {
                self.list(&i.condition)?;
                self.list(&i.then)?;
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c)?;
                    }
                    self.list(&e.body)?;
                }
                Ok(())
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                self.list(&w.0)?;
                self.list(&w.1.list)
            }
            CompoundCommand::Coprocess(c) => self.command(&c.body, piped),
            CompoundCommand::ArithmeticForClause(f) => self.list(&f.body.list),
            CompoundCommand::Arithmetic(_) => Ok(()),
        }
    }

    fn redirect(&mut self, r: &IoRedirect, writes: &mut Vec<Arg>) -> Result<(), Refusal> {
        match r {
            IoRedirect::File(_, kind, target) => {
                let writing = matches!(
                    kind,
                    IoFileRedirectKind::Write
                        | IoFileRedirectKind::Append
                        | IoFileRedirectKind::ReadAndWrite
                        | IoFileRedirectKind::Clobber
                );
                match target {
                    IoFileRedirectTarget::Filename(w) | IoFileRedirectTarget::Duplicate(w) => {
                        let arg = self.word(&w.value)?;
                        if writing {
                            writes.push(arg);
                        }
                    }
                    IoFileRedirectTarget::ProcessSubstitution(_, s) => self.list(&s.list)?,
                    IoFileRedirectTarget::Fd(_) => {}
                }
            }
            IoRedirect::OutputAndError(w, _) => writes.push(self.word(&w.value)?),
            IoRedirect::HereString(_, w) => {
                self.word(&w.value)?;
            }
            IoRedirect::HereDocument(_, doc) => {
                if doc.requires_expansion {
                    self.heredoc(&doc.doc.value)?;
                }
            }
        }
        Ok(())
    }

    /// A here-document's substitutions run when it is expanded.
    fn heredoc(&mut self, body: &str) -> Result<(), Refusal> {
        let pieces = guarded(|| {
            word::parse_heredoc(body, &ParserOptions::default()).map_err(|e| e.to_string())
        })?;
        let mut arg = Arg::literal("");
        self.pieces(body, &pieces, false, &mut arg)
    }

    fn simple(&mut self, simple: &ast::SimpleCommand, piped: bool) -> Result<(), Refusal> {
        let mut words = Vec::new();
        let mut writes = Vec::new();
        for item in simple.prefix.iter().flat_map(|p| p.0.iter()) {
            self.item(item, &mut words, &mut writes)?;
        }
        if let Some(name) = &simple.word_or_name {
            words.push(self.word(&name.value)?);
        }
        for item in simple.suffix.iter().flat_map(|s| s.0.iter()) {
            self.item(item, &mut words, &mut writes)?;
        }
        if words.is_empty() {
            self.push_writes(writes);
            return Ok(());
        }
        self.unwrap(words, piped, false, writes)
    }

    fn item(
        &mut self,
        item: &CommandPrefixOrSuffixItem,
        words: &mut Vec<Arg>,
        writes: &mut Vec<Arg>,
    ) -> Result<(), Refusal> {
        match item {
            CommandPrefixOrSuffixItem::Word(w) => words.push(self.word(&w.value)?),
            CommandPrefixOrSuffixItem::IoRedirect(r) => self.redirect(r, writes)?,
            // After the program name, `x=y` is an argument (`dd of=/dev/sda`, `env A=1 cmd`).
            CommandPrefixOrSuffixItem::AssignmentWord(_, w) if !words.is_empty() => {
                words.push(self.word(&w.value)?);
            }
            CommandPrefixOrSuffixItem::AssignmentWord(a, _) => match &a.value {
                ast::AssignmentValue::Scalar(w) => {
                    self.word(&w.value)?;
                }
                ast::AssignmentValue::Array(values) => {
                    for (k, v) in values {
                        if let Some(k) = k {
                            self.word(&k.value)?;
                        }
                        self.word(&v.value)?;
                    }
                }
            },
            CommandPrefixOrSuffixItem::ProcessSubstitution(_, s) => {
                self.list(&s.list)?;
                words.push(Arg {
                    text: "<(…)".into(),
                    computed: true,
                    pattern: false,
                });
            }
        }
        Ok(())
    }

    /// One word: its pieces, with every command substitution inside it checked as a command.
    fn word(&mut self, raw: &str) -> Result<Arg, Refusal> {
        let pieces =
            guarded(|| word::parse(raw, &ParserOptions::default()).map_err(|e| e.to_string()))?;
        let mut arg = Arg::literal("");
        self.pieces(raw, &pieces, false, &mut arg)?;
        Ok(arg)
    }

    fn pieces(
        &mut self,
        raw: &str,
        pieces: &[WordPieceWithSource],
        quoted: bool,
        arg: &mut Arg,
    ) -> Result<(), Refusal> {
        for p in pieces {
            let source = raw.get(p.start_index..p.end_index).unwrap_or("$…");
            match &p.piece {
                WordPiece::Text(t) => {
                    if !quoted && is_pattern(t) {
                        arg.pattern = true;
                    }
                    arg.text.push_str(t);
                }
                WordPiece::SingleQuotedText(t) | WordPiece::AnsiCQuotedText(t) => {
                    arg.text.push_str(t);
                }
                WordPiece::EscapeSequence(e) => {
                    arg.text.push_str(e.strip_prefix('\\').unwrap_or(e));
                }
                WordPiece::DoubleQuotedSequence(inner)
                | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    // Inner indices are relative to the same word.
                    self.pieces(raw, inner, true, arg)?;
                }
                WordPiece::TildeExpansion(t) => match t {
                    TildeExpr::Home => arg.text.push('~'),
                    TildeExpr::UserHome(u) => {
                        arg.text.push('~');
                        arg.text.push_str(u);
                    }
                    _ => {
                        arg.computed = true;
                        arg.text.push_str(source);
                    }
                },
                WordPiece::ParameterExpansion(_) => {
                    // `${X:-$(cmd)}` runs cmd: a substitution inside an expansion is checked too.
                    if source.contains("$(") || source.contains('`') {
                        let inner = source
                            .trim_start_matches('$')
                            .trim_start_matches('{')
                            .trim_end_matches('}');
                        let inner = inner
                            .split_once(['-', '=', '+', '?'])
                            .map_or(inner, |(_, v)| v);
                        let inner_arg = self.word(inner)?;
                        arg.computed |= inner_arg.computed;
                    }
                    arg.computed = true;
                    arg.text.push_str(source);
                }
                WordPiece::CommandSubstitution(cmd)
                | WordPiece::BackquotedCommandSubstitution(cmd) => {
                    self.script(cmd)?;
                    arg.computed = true;
                    arg.text.push_str(source);
                }
                WordPiece::ArithmeticExpression(_) => {
                    arg.computed = true;
                    arg.text.push_str(source);
                }
            }
        }
        Ok(())
    }

    /// Peels wrappers off `words` until the program that really runs, then records it.
    fn unwrap(
        &mut self,
        mut words: Vec<Arg>,
        piped: bool,
        mut computed_tail: bool,
        writes: Vec<Arg>,
    ) -> Result<(), Refusal> {
        loop {
            let Some(first) = words.first() else {
                return Ok(());
            };
            if first.computed || first.pattern {
                return Err(refuse(DenyRule::ComputedCommand, first.text.clone()));
            }
            let name = program_name(&first.text).to_owned();
            let skip = match name.as_str() {
                "sudo" => options(
                    &words,
                    &[
                        "-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "-U", "-R",
                    ],
                ),
                "doas" => options(&words, &["-u", "-C"]),
                "nice" => options(&words, &["-n", "--adjustment"]),
                "ionice" => options(
                    &words,
                    &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"],
                ),
                "nohup" | "builtin" | "unbuffer" | "busybox" => 1,
                "setsid" | "time" => options(&words, &["-f", "-o"]),
                "exec" => options(&words, &["-a"]),
                "stdbuf" => options(&words, &["-i", "-o", "-e"]),
                "chroot" => options(&words, &[]) + 1,
                "timeout" => options(&words, &["-k", "-s", "--kill-after", "--signal"]) + 1,
                "flock" => {
                    let at = options(&words, &["-w", "-E", "--timeout", "--conflict-exit-code"]);
                    if let Some(c) = words[1..at]
                        .iter()
                        .position(|a| a.text == "-c" || a.text == "--command")
                    {
                        return self.inline(&words[1 + c + 1..], &name);
                    }
                    at + 1
                }
                "command" => {
                    let at = options(&words, &[]);
                    if words[1..at]
                        .iter()
                        .any(|a| a.text.starts_with("-v") || a.text.starts_with("-V"))
                    {
                        return Ok(());
                    }
                    at
                }
                "env" => {
                    let mut at = 1;
                    while let Some(a) = words.get(at) {
                        if a.text == "-S" || a.text == "--split-string" {
                            return self.inline(&words[at + 1..], &name);
                        }
                        if let Some(s) = a.text.strip_prefix("--split-string=") {
                            return self.inline(
                                &[Arg {
                                    text: s.into(),
                                    ..a.clone()
                                }],
                                &name,
                            );
                        }
                        if a.text == "-u"
                            || a.text == "-C"
                            || a.text == "--unset"
                            || a.text == "--chdir"
                        {
                            at += 2;
                        } else if a.text.starts_with('-') || is_assignment(&a.text) {
                            at += 1;
                        } else {
                            break;
                        }
                    }
                    at
                }
                "xargs" => {
                    computed_tail = true;
                    options(
                        &words,
                        &[
                            "-I",
                            "-n",
                            "-L",
                            "-P",
                            "-d",
                            "-E",
                            "-s",
                            "-a",
                            "--max-args",
                            "--max-procs",
                            "--delimiter",
                            "--arg-file",
                            "--replace",
                            "--max-lines",
                            "--eof",
                            "--max-chars",
                        ],
                    )
                }
                "su" | "runuser" => {
                    if let Some(c) = words
                        .iter()
                        .position(|a| a.text == "-c" || a.text == "--command")
                    {
                        return self.inline(&words[c + 1..], &name);
                    }
                    if piped {
                        return Err(refuse(DenyRule::PipeIntoInterpreter, format!("| {name}")));
                    }
                    return Ok(());
                }
                "eval" => {
                    let rest = &words[1..];
                    if let Some(c) = rest.iter().find(|a| a.computed) {
                        return Err(refuse(
                            DenyRule::ComputedCommand,
                            format!("eval {}", c.text),
                        ));
                    }
                    let joined = rest
                        .iter()
                        .map(|a| a.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    return self.script(&joined);
                }
                shell if SHELLS.contains(&shell) => return self.shell(&words, piped),
                interpreter if INTERPRETERS.contains(&interpreter) => {
                    let reads_stdin = words[1..]
                        .iter()
                        .all(|a| a.text.starts_with('-') && a.text != "-c" && a.text != "-e")
                        || words[1..].iter().any(|a| a.text == "-");
                    if piped && reads_stdin {
                        return Err(refuse(DenyRule::PipeIntoInterpreter, format!("| {name}")));
                    }
                    0
                }
                "find" => {
                    self.find_exec(&words)?;
                    0
                }
                _ => 0,
            };
            if skip == 0 {
                break;
            }
            words.drain(..skip.min(words.len()));
        }
        self.found.push(Invocation {
            words,
            computed_tail,
            writes,
        });
        Ok(())
    }

    /// The command string given to `sh -c`, `su -c`, `env -S`, `flock -c`.
    fn inline(&mut self, rest: &[Arg], wrapper: &str) -> Result<(), Refusal> {
        match rest.first() {
            None => Ok(()),
            Some(a) if a.computed => Err(refuse(
                DenyRule::ComputedCommand,
                format!("{wrapper} … {}", a.text),
            )),
            Some(a) => self.script(&a.text),
        }
    }

    fn shell(&mut self, words: &[Arg], piped: bool) -> Result<(), Refusal> {
        let name = program_name(&words[0].text).to_owned();
        let mut i = 1;
        let mut inline = false;
        while let Some(a) = words.get(i) {
            if a.text == "--" {
                i += 1;
                break;
            }
            if !a.text.starts_with('-') && !a.text.starts_with('+') {
                break;
            }
            // `-c`, `-ec`, `-xc`: the first operand is the command string.
            if a.text.starts_with('-') && !a.text.starts_with("--") && a.text.contains('c') {
                inline = true;
            }
            if a.text == "-o" || a.text == "+o" {
                i += 1;
            }
            i += 1;
        }
        if inline {
            return self.inline(&words[i.min(words.len())..], &name);
        }
        match words.get(i) {
            // A script file: run as written; the file itself is not checked (see docs/ssh.md).
            Some(a) if a.computed => Err(refuse(
                DenyRule::ComputedCommand,
                format!("{name} {}", a.text),
            )),
            Some(a) if a.text != "-" => Ok(()),
            _ if piped => Err(refuse(DenyRule::PipeIntoInterpreter, format!("| {name}"))),
            _ => Ok(()),
        }
    }

    /// `find … -exec CMD … ;` runs CMD for each file: checked as its own invocation, `{}`
    /// standing for the file.
    fn find_exec(&mut self, words: &[Arg]) -> Result<(), Refusal> {
        let mut i = 0;
        while i < words.len() {
            if matches!(
                words[i].text.as_str(),
                "-exec" | "-execdir" | "-ok" | "-okdir"
            ) {
                let end = words[i + 1..]
                    .iter()
                    .position(|a| a.text == ";" || a.text == "+")
                    .map_or(words.len(), |p| i + 1 + p);
                let inner = words[i + 1..end].to_vec();
                self.unwrap(inner, false, false, Vec::new())?;
                i = end;
            }
            i += 1;
        }
        Ok(())
    }
}

/// How many words a wrapper and its options take: `words[0]`, then options (those in
/// `with_value` take the next word too) up to the first operand or `--`.
fn options(words: &[Arg], with_value: &[&str]) -> usize {
    let mut i = 1;
    while let Some(a) = words.get(i) {
        if a.computed || !a.text.starts_with('-') || a.text == "-" {
            break;
        }
        if a.text == "--" {
            return i + 1;
        }
        i += if with_value.contains(&a.text.as_str()) {
            2
        } else {
            1
        };
    }
    i
}

/// The deepest nesting of brackets in `text`, counted over the raw text (quotes included,
/// so the bound holds whatever the parser makes of it).
fn bracket_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' | '{' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Whether a here-document (`<<`, not the here-string `<<<`) and a command substitution
/// (`$(…)` or `` `…` ``) or the old arithmetic `$[…]` appear in the same text (raw text,
/// quotes included). `c<<a$[  ` alone exhausts memory (the `command` fuzz target, again).
fn heredoc_with_substitution(text: &str) -> bool {
    let bytes = text.as_bytes();
    let heredoc = text
        .match_indices("<<")
        .any(|(i, _)| bytes.get(i + 2) != Some(&b'<') && (i == 0 || bytes[i - 1] != b'<'));
    heredoc && (text.contains("$(") || text.contains("$[") || text.contains('`'))
}

/// A here-document (`<<WORD` or `<<-WORD`, not the here-string `<<<` nor a shift inside
/// `$((…))`) whose delimiter is empty or unclosed, or that no later line ends; `None` when
/// every one ends. Read from the raw text, quotes included: a `<<` inside quotes is
/// treated as a here-document too (refused as unreadable rather than guessed at).
fn unended_heredoc(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = text[from..].find("<<") {
        let at = from + offset;
        from = at + 2;
        if bytes.get(at + 2) == Some(&b'<') {
            from = at + 3;
            continue;
        }
        let before = &text[..at];
        let in_arithmetic = before.matches("((").count() > before.matches("))").count();
        if in_arithmetic || before.trim_end().ends_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let rest = &text[at + 2..];
        let strip_tabs = rest.starts_with('-');
        let rest = rest
            .strip_prefix('-')
            .unwrap_or(rest)
            .trim_start_matches([' ', '\t']);
        let mut word = String::new();
        let mut quote = None;
        for c in rest.chars() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => word.push(c),
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '\\' => {}
                    ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => break,
                    _ => word.push(c),
                },
            }
        }
        if quote.is_some() {
            return Some("a here-document whose delimiter is not closed".to_owned());
        }
        if word.is_empty() {
            return Some("a here-document without a delimiter".to_owned());
        }
        let body = match text[at..].find('\n') {
            Some(newline) => &text[at + newline + 1..],
            None => "",
        };
        let ends = body.lines().any(|line| {
            let line = if strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            line == word
        });
        if !ends {
            return Some(format!(
                "a here-document that never ends (no line `{}` after it)",
                crate::text::escape_invisible(&word, true)
            ));
        }
    }
    None
}

/// Whether unquoted text holds a glob (`*`, `?`, `[…]`) or a brace expansion (`{a,b}`).
fn is_pattern(t: &str) -> bool {
    let bracket = t.find('[').is_some_and(|i| t[i + 1..].contains(']'));
    let brace = t.find('{').is_some_and(|i| {
        t[i + 1..].contains('}') && (t[i..].contains(',') || t[i..].contains(".."))
    });
    t.contains(['*', '?']) || bracket || brace
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// Runs the parser: its errors, and its panics, are refusals. brush-parser 0.4.0 panics on
/// some inputs (a file-descriptor number beyond `i32`, `6666666666>x`: found by the
/// `command` fuzz target); a parser bug must refuse the command, not take the console down.
fn guarded<T>(parse: impl FnOnce() -> Result<T, String>) -> Result<T, Refusal> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(Ok(parsed)) => Ok(parsed),
        Ok(Err(e)) => Err(refuse(DenyRule::Unreadable, first_line(&e))),
        Err(_) => Err(refuse(
            DenyRule::Unreadable,
            "the shell parser failed on this text",
        )),
    }
}

fn first_line(s: &str) -> String {
    crate::text::excerpt(s.lines().next().unwrap_or(""), 120)
}

/// `a{b,c}d` → `abd`, `acd` (nested, up to [`MAX_ALTERNATIVES`]); anything else as it is.
pub(super) fn expand_braces(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_into(s, &mut out);
    if out.is_empty() {
        out.push(s.to_owned());
    }
    out
}

fn expand_into(s: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_ALTERNATIVES {
        return;
    }
    let Some(open) = s.find('{') else {
        out.push(s.to_owned());
        return;
    };
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let Some(close) = close.filter(|_| !commas.is_empty()) else {
        // Not a brace expansion (`{}` or `{x}`): the rest may still hold one.
        let (head, tail) = s.split_at(open + 1);
        let mut rest = Vec::new();
        expand_into(tail, &mut rest);
        out.extend(rest.into_iter().map(|r| format!("{head}{r}")));
        return;
    };
    let (prefix, suffix) = (&s[..open], &s[close + 1..]);
    let mut start = open + 1;
    for end in commas.into_iter().chain(std::iter::once(close)) {
        expand_into(&format!("{prefix}{}{suffix}", &s[start..end]), out);
        start = end + 1;
    }
}
