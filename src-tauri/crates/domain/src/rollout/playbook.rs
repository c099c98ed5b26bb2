//! Playbooks: versioned, line-based files that say what a rollout does on one server.
//!
//! ```text
//! playbook deploy-artifact
//! version 1
//! title Deploy the approved artifact / 승인된 산출물 배포
//! param min_free_mb int 64
//! pre-check free-disk {deploy_path} {min_free_mb}
//! stage artifacts
//! backup artifacts
//! apply install-artifacts
//! restart shutdown {app_path}/shutdown.sh
//! restart startup {app_path}/startup.sh
//! post-check http
//! rollback restore
//! ```
//!
//! Every line is `STEP DIRECTIVE ARGS…`; steps come in the order of [`StepKind::ALL`]. A
//! `{name}` in a command is a parameter, an inventory value or a rollout value, and is
//! replaced by one shell-quoted word — a value can never become shell syntax. A playbook that
//! does not validate is refused with its file, line and reason ([`PlaybookError`]).
//! The format is documented in `docs/playbooks.md`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The steps of a playbook, in the order they run on a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    PreCheck,
    Stage,
    Backup,
    Drain,
    Apply,
    Restart,
    PostCheck,
    Undrain,
    Rollback,
}

impl StepKind {
    pub const ALL: [StepKind; 9] = [
        StepKind::PreCheck,
        StepKind::Stage,
        StepKind::Backup,
        StepKind::Drain,
        StepKind::Apply,
        StepKind::Restart,
        StepKind::PostCheck,
        StepKind::Undrain,
        StepKind::Rollback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreCheck => "pre-check",
            Self::Stage => "stage",
            Self::Backup => "backup",
            Self::Drain => "drain",
            Self::Apply => "apply",
            Self::Restart => "restart",
            Self::PostCheck => "post-check",
            Self::Undrain => "undrain",
            Self::Rollback => "rollback",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the step changes the server (refused while the kill switch is engaged).
    pub fn changes_server(self) -> bool {
        !matches!(self, Self::PreCheck | Self::PostCheck)
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a playbook parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    Int,
    Port,
    Text,
    Path,
}

impl ParamType {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "int" => Some(Self::Int),
            "port" => Some(Self::Port),
            "text" => Some(Self::Text),
            "path" => Some(Self::Path),
            _ => None,
        }
    }

    /// Checks a value against the type.
    pub fn check(self, value: &str) -> Result<(), String> {
        match self {
            Self::Int => value
                .parse::<u64>()
                .map(|_| ())
                .map_err(|_| format!("`{value}` is not a whole number")),
            Self::Port => match value.parse::<u16>() {
                Ok(p) if p > 0 => Ok(()),
                _ => Err(format!("`{value}` is not a port (1–65535)")),
            },
            Self::Text => Ok(()),
            Self::Path => {
                if value.starts_with('/') && !value.split('/').any(|p| p == "..") {
                    Ok(())
                } else {
                    Err(format!("`{value}` is not an absolute path without `..`"))
                }
            }
        }
    }
}

/// One typed parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub kind: ParamType,
    pub default: Option<String>,
    pub line: usize,
}

/// What one playbook line does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "directive", rename_all = "kebab-case")]
pub enum Directive {
    /// A command template (`{name}` placeholders); must exit 0.
    Run {
        template: String,
    },
    /// pre-check: at least this many MiB free on the filesystem of `path`.
    FreeDisk {
        path: String,
        min_mb: String,
    },
    /// pre-check: at least this many MiB of available memory.
    FreeMemory {
        min_mb: String,
    },
    /// pre/post-check: a TCP port accepts connections (checked from the console).
    PortListening {
        port: String,
    },
    /// pre-check: a TCP port is free on the server.
    PortFree {
        port: String,
    },
    /// pre-check: the server answers on SSH (always true once connected; kept explicit).
    Reachable,
    /// stage: upload every artifact of the approved package, SHA-256 verified on the server.
    Artifacts,
    /// backup: one file (its hash is recorded; "absent" when there was none).
    File {
        path: String,
    },
    /// stage: upload the secret held by the console's keyring as credential `credential` (a
    /// TLS private key) into the staging folder, SHA-256 verified; never from a package or the
    /// database. `path` is where `install-secret-files` puts it (mode 0600); it must be
    /// backed up with `backup file` (the same template) so a rollback restores the old one.
    SecretFile {
        credential: String,
        path: String,
    },
    /// apply: put every staged artifact in place under the deploy path.
    InstallArtifacts,
    /// apply: put every staged secret file in place, owner-only.
    InstallSecretFiles,
    /// restart: the shutdown and startup scripts (exit codes checked).
    Shutdown {
        script: String,
    },
    Startup {
        script: String,
    },
    /// post-check: the pid in this file changed across the restart and is alive.
    NewPid {
        pid_file: String,
    },
    /// post-check: the server's health URL (inventory) answers its status within its time.
    Http,
    /// post-check: no line of the service log written since the restart matches its pattern.
    LogClean,
    /// rollback: restore every backed-up file, restart, and check again.
    Restore,
}

impl Directive {
    /// The templates this directive renders (for placeholder checks).
    fn templates(&self) -> Vec<&str> {
        match self {
            Self::Run { template } => vec![template],
            Self::FreeDisk { path, min_mb } => vec![path, min_mb],
            Self::FreeMemory { min_mb } => vec![min_mb],
            Self::PortListening { port } | Self::PortFree { port } => vec![port],
            Self::File { path } => vec![path],
            Self::SecretFile { credential, path } => vec![credential, path],
            Self::Shutdown { script } | Self::Startup { script } => vec![script],
            Self::NewPid { pid_file } => vec![pid_file],
            Self::Reachable
            | Self::Artifacts
            | Self::InstallArtifacts
            | Self::InstallSecretFiles
            | Self::Http
            | Self::LogClean
            | Self::Restore => Vec::new(),
        }
    }
}

/// One line of a playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub step: StepKind,
    pub directive: Directive,
    pub line: usize,
}

/// A validated playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playbook {
    pub name: String,
    pub version: u32,
    pub title: String,
    pub file: String,
    pub params: Vec<Param>,
    pub lines: Vec<Line>,
}

/// Why a playbook was refused: file, line (1-based; 0 for the whole file) and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{file}:{line}: {reason}")]
pub struct PlaybookError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// Values every playbook may use without declaring them: the server's inventory record and
/// the rollout's own values.
pub const BUILT_IN_VALUES: [&str; 15] = [
    "server",
    "site",
    "system",
    "address",
    "user",
    "app_path",
    "deploy_path",
    "service_port",
    "health_log_file",
    "health_log_error_pattern",
    "health_http_url",
    "version",
    "task",
    "rollout",
    "stage_dir",
];

impl Playbook {
    /// Reads and validates a playbook file's text.
    pub fn parse(file: &str, text: &str) -> Result<Self, PlaybookError> {
        let fail = |line: usize, reason: String| PlaybookError {
            file: file.to_owned(),
            line,
            reason,
        };
        let mut name = None;
        let mut version = None;
        let mut title = String::new();
        let mut params: Vec<Param> = Vec::new();
        let mut lines: Vec<Line> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let n = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (head, rest) = split_word(trimmed);
            match head {
                "playbook" => {
                    if !is_name(rest) {
                        return Err(fail(
                            n,
                            format!("`{rest}` is not a playbook name (a-z, 0-9, -)"),
                        ));
                    }
                    name = Some(rest.to_owned());
                }
                "version" => {
                    version =
                        Some(rest.parse::<u32>().ok().filter(|v| *v > 0).ok_or_else(|| {
                            fail(n, format!("`{rest}` is not a version number (1, 2, …)"))
                        })?);
                }
                "title" => title = rest.to_owned(),
                "param" => {
                    let words: Vec<&str> = rest.split_whitespace().collect();
                    let (pname, ptype, default) = match words.as_slice() {
                        [a, b] => (*a, *b, None),
                        [a, b, c @ ..] => (*a, *b, Some(c.join(" "))),
                        _ => {
                            return Err(fail(
                                n,
                                "write a parameter as `param NAME TYPE [DEFAULT]`".into(),
                            ));
                        }
                    };
                    if !is_ident(pname) {
                        return Err(fail(n, format!("`{pname}` is not a parameter name")));
                    }
                    if BUILT_IN_VALUES.contains(&pname) || params.iter().any(|p| p.name == pname) {
                        return Err(fail(n, format!("parameter `{pname}` is defined twice")));
                    }
                    let kind = ParamType::parse(ptype).ok_or_else(|| {
                        fail(
                            n,
                            format!("unknown parameter type `{ptype}` (int, port, text, path)"),
                        )
                    })?;
                    if let Some(d) = &default
                        && !d.contains('{')
                    {
                        kind.check(d)
                            .map_err(|e| fail(n, format!("default of `{pname}`: {e}")))?;
                    }
                    params.push(Param {
                        name: pname.to_owned(),
                        kind,
                        default,
                        line: n,
                    });
                }
                step => {
                    let kind = StepKind::parse(step).ok_or_else(|| {
                        fail(
                            n,
                            format!(
                                "unknown step `{step}`; steps are: {}",
                                StepKind::ALL.map(StepKind::as_str).join(", ")
                            ),
                        )
                    })?;
                    if let Some(last) = lines.last()
                        && last.step > kind
                    {
                        return Err(fail(
                            n,
                            format!(
                                "`{kind}` comes after `{}`: steps run in the order {}",
                                last.step,
                                StepKind::ALL.map(StepKind::as_str).join(" → ")
                            ),
                        ));
                    }
                    let directive = directive(kind, rest).map_err(|r| fail(n, r))?;
                    lines.push(Line {
                        step: kind,
                        directive,
                        line: n,
                    });
                }
            }
        }
        let name = name.ok_or_else(|| fail(0, "the file names no `playbook`".into()))?;
        let version = version.ok_or_else(|| fail(0, "the file has no `version`".into()))?;
        let playbook = Self {
            name,
            version,
            title,
            file: file.to_owned(),
            params,
            lines,
        };
        playbook.check_placeholders()?;
        playbook.check_shape()?;
        Ok(playbook)
    }

    fn check_placeholders(&self) -> Result<(), PlaybookError> {
        for line in &self.lines {
            for template in line.directive.templates() {
                for name in placeholders(template).map_err(|r| PlaybookError {
                    file: self.file.clone(),
                    line: line.line,
                    reason: r,
                })? {
                    if !BUILT_IN_VALUES.contains(&name.as_str())
                        && !self.params.iter().any(|p| p.name == name)
                    {
                        return Err(PlaybookError {
                            file: self.file.clone(),
                            line: line.line,
                            reason: format!(
                                "`{{{name}}}` is neither a parameter of this playbook nor an inventory or rollout value"
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn check_shape(&self) -> Result<(), PlaybookError> {
        let fail = |line: usize, reason: &str| PlaybookError {
            file: self.file.clone(),
            line,
            reason: reason.to_owned(),
        };
        let has = |k: StepKind| self.lines.iter().any(|l| l.step == k);
        let changes = self.lines.iter().find(|l| {
            matches!(
                l.step,
                StepKind::Apply | StepKind::Restart | StepKind::Stage
            )
        });
        if let Some(change) = changes {
            if !has(StepKind::Rollback) {
                return Err(fail(
                    change.line,
                    "a playbook that changes a server needs a `rollback` step",
                ));
            }
            if !has(StepKind::PostCheck) {
                return Err(fail(
                    change.line,
                    "a playbook that changes a server needs a `post-check` step",
                ));
            }
        }
        if has(StepKind::Drain) != has(StepKind::Undrain) {
            return Err(fail(0, "`drain` and `undrain` go together"));
        }
        let secrets: Vec<&Line> = self
            .lines
            .iter()
            .filter(|l| matches!(l.directive, Directive::SecretFile { .. }))
            .collect();
        let installs_secrets = self
            .lines
            .iter()
            .find(|l| l.directive == Directive::InstallSecretFiles);
        match (secrets.first(), installs_secrets) {
            (Some(s), None) => {
                return Err(fail(
                    s.line,
                    "`stage secret-file` needs `apply install-secret-files`",
                ));
            }
            (None, Some(i)) => {
                return Err(fail(
                    i.line,
                    "`install-secret-files` needs `stage secret-file`",
                ));
            }
            _ => {}
        }
        for s in &secrets {
            let Directive::SecretFile { path, .. } = &s.directive else {
                continue;
            };
            let backed_up = self.lines.iter().any(|l| {
                matches!(&l.directive, Directive::File { path: p } if p == path)
                    && l.step == StepKind::Backup
            });
            if !backed_up {
                return Err(fail(
                    s.line,
                    &format!(
                        "`stage secret-file` to {path} needs `backup file {path}` (rollback restores it)"
                    ),
                ));
            }
        }
        let installs = self
            .lines
            .iter()
            .find(|l| l.directive == Directive::InstallArtifacts);
        if let Some(install) = installs {
            if !self
                .lines
                .iter()
                .any(|l| l.directive == Directive::Artifacts && l.step == StepKind::Stage)
            {
                return Err(fail(
                    install.line,
                    "`install-artifacts` needs `stage artifacts`",
                ));
            }
            if !self
                .lines
                .iter()
                .any(|l| l.directive == Directive::Artifacts && l.step == StepKind::Backup)
            {
                return Err(fail(
                    install.line,
                    "`install-artifacts` needs `backup artifacts` (rollback restores them)",
                ));
            }
        }
        if self.lines.is_empty() {
            return Err(fail(0, "the playbook has no steps"));
        }
        Ok(())
    }

    /// The lines of one step, in order.
    pub fn step(&self, kind: StepKind) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(move |l| l.step == kind)
    }

    pub fn has(&self, kind: StepKind) -> bool {
        self.step(kind).next().is_some()
    }

    /// Whether the playbook ships the package's artifacts.
    pub fn ships_artifacts(&self) -> bool {
        self.lines
            .iter()
            .any(|l| l.directive == Directive::InstallArtifacts)
    }

    /// The parameter values for one run: defaults, overridden by `given`; every value
    /// type-checked; unknown names refused.
    pub fn bind(
        &self,
        given: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, String> {
        for name in given.keys() {
            if !self.params.iter().any(|p| &p.name == name) {
                return Err(format!("`{}` has no parameter `{name}`", self.name));
            }
        }
        let mut out = BTreeMap::new();
        for p in &self.params {
            match given.get(&p.name).or(p.default.as_ref()) {
                Some(v) => {
                    if !v.contains('{') {
                        p.kind
                            .check(v)
                            .map_err(|e| format!("parameter `{}`: {e}", p.name))?;
                    }
                    out.insert(p.name.clone(), v.clone());
                }
                None => return Err(format!("parameter `{}` needs a value", p.name)),
            }
        }
        Ok(out)
    }
}

/// Replaces each `{name}` with `values[name]`, shell-quoted when `quoted`. A missing value is
/// an error (a rollout never sends half a command).
pub fn render(
    template: &str,
    values: &BTreeMap<String, String>,
    quoted: bool,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("`{{` without `}}` in `{template}`"))?;
        let name = &after[..close];
        let value = values
            .get(name)
            .ok_or_else(|| format!("no value for `{{{name}}}`"))?;
        // A parameter's default may itself name an inventory value (`{deploy_path}/x`).
        let value = if value.contains('{') && value != template {
            render(value, values, false)?
        } else {
            value.clone()
        };
        if quoted {
            out.push_str(&crate::command::quote(&value));
        } else {
            out.push_str(&value);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "`{` without a closing `}`".to_owned())?;
        let name = &after[..close];
        if !is_ident(name) {
            return Err(format!("`{{{name}}}` is not a placeholder name"));
        }
        out.push(name.to_owned());
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("`}` without an opening `{`".into());
    }
    Ok(out)
}

fn directive(step: StepKind, rest: &str) -> Result<Directive, String> {
    let (word, args) = split_word(rest);
    let words: Vec<&str> = args.split_whitespace().collect();
    let one = |what: &str| -> Result<String, String> {
        match words.as_slice() {
            [a] => Ok((*a).to_owned()),
            _ => Err(format!("`{step} {word}` takes one argument: {what}")),
        }
    };
    let none = |d: Directive| -> Result<Directive, String> {
        if words.is_empty() {
            Ok(d)
        } else {
            Err(format!("`{step} {word}` takes no arguments"))
        }
    };
    use StepKind as S;
    let d = match (step, word) {
        (_, "run") if step != S::Rollback => {
            if args.trim().is_empty() {
                return Err(format!("`{step} run` needs a command"));
            }
            Directive::Run {
                template: args.trim().to_owned(),
            }
        }
        (S::PreCheck, "free-disk") => match words.as_slice() {
            [path, mb] => Directive::FreeDisk {
                path: (*path).to_owned(),
                min_mb: (*mb).to_owned(),
            },
            _ => return Err("`pre-check free-disk` takes a path and a number of MiB".into()),
        },
        (S::PreCheck, "free-memory") => Directive::FreeMemory {
            min_mb: one("a number of MiB")?,
        },
        (S::PreCheck | S::PostCheck, "port-listening") => Directive::PortListening {
            port: one("a port")?,
        },
        (S::PreCheck, "port-free") => Directive::PortFree {
            port: one("a port")?,
        },
        (S::PreCheck, "reachable") => none(Directive::Reachable)?,
        (S::Stage | S::Backup, "artifacts") => none(Directive::Artifacts)?,
        (S::Backup, "file") => Directive::File {
            path: one("a path")?,
        },
        (S::Stage, "secret-file") => match words.as_slice() {
            [credential, path] => Directive::SecretFile {
                credential: (*credential).to_owned(),
                path: (*path).to_owned(),
            },
            _ => {
                return Err(
                    "`stage secret-file` takes a credential name and the path it goes to".into(),
                );
            }
        },
        (S::Apply, "install-artifacts") => none(Directive::InstallArtifacts)?,
        (S::Apply, "install-secret-files") => none(Directive::InstallSecretFiles)?,
        (S::Restart, "shutdown") => Directive::Shutdown {
            script: one("a script")?,
        },
        (S::Restart, "startup") => Directive::Startup {
            script: one("a script")?,
        },
        (S::PostCheck, "new-pid") => Directive::NewPid {
            pid_file: one("a pid file")?,
        },
        (S::PostCheck, "http") => none(Directive::Http)?,
        (S::PostCheck, "log-clean") => none(Directive::LogClean)?,
        (S::Rollback, "restore") => none(Directive::Restore)?,
        _ => {
            return Err(format!(
                "`{word}` is not something the `{step}` step can do (see docs/playbooks.md)"
            ));
        }
    };
    Ok(d)
}

fn split_word(s: &str) -> (&str, &str) {
    match s.split_once(char::is_whitespace) {
        Some((a, b)) => (a, b.trim()),
        None => (s, ""),
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The built-in playbooks (the files under `playbooks/`), compiled in.
pub const BUILT_INS: [(&str, &str); 4] = [
    (
        "deploy-artifact.playbook",
        include_str!("../../../../../playbooks/deploy-artifact.playbook"),
    ),
    (
        "service-restart.playbook",
        include_str!("../../../../../playbooks/service-restart.playbook"),
    ),
    (
        "ssl-certificate-replace.playbook",
        include_str!("../../../../../playbooks/ssl-certificate-replace.playbook"),
    ),
    (
        "log-cleanup.playbook",
        include_str!("../../../../../playbooks/log-cleanup.playbook"),
    ),
];

/// A built-in playbook by name.
pub fn built_in(name: &str) -> Option<Playbook> {
    BUILT_INS
        .iter()
        .filter_map(|(file, text)| Playbook::parse(file, text).ok())
        .find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_validates() {
        for (file, text) in BUILT_INS {
            let p = Playbook::parse(file, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(format!("{}.playbook", p.name), file);
        }
        assert!(built_in("deploy-artifact").unwrap().ships_artifacts());
        assert!(!built_in("service-restart").unwrap().ships_artifacts());
    }

    fn refused(text: &str) -> PlaybookError {
        Playbook::parse("x.playbook", text).unwrap_err()
    }

    #[test]
    fn a_playbook_saved_with_windows_line_endings_reads_the_same() {
        for (file, text) in BUILT_INS {
            let lf = Playbook::parse(file, text).unwrap();
            let crlf = Playbook::parse(file, &text.replace('\n', "\r\n")).unwrap();
            assert_eq!(format!("{crlf:?}"), format!("{lf:?}"), "{file}");
        }
    }

    #[test]
    fn a_bad_playbook_is_refused_with_file_line_and_reason() {
        let e = refused("playbook x\nversion 1\n\nrestart shutdown /a\npre-check reachable\n");
        assert_eq!((e.file.as_str(), e.line), ("x.playbook", 5));
        assert!(e.reason.contains("comes after `restart`"), "{e}");
        let e = refused("playbook x\nversion 1\napply run echo {nope}\n");
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("{nope}"), "{e}");
        let e = refused("playbook x\nversion 1\napply run echo hi\npost-check http\n");
        assert!(e.reason.contains("needs a `rollback` step"), "{e}");
        let e = refused("playbook x\nversion one\n");
        assert_eq!(e.line, 2);
        let e = refused("playbook x\nversion 1\nparam n int many\n");
        assert!(e.reason.contains("not a whole number"), "{e}");
        let e = refused("playbook x\nversion 1\nstage explode\n");
        assert!(
            e.reason.contains("not something the `stage` step can do"),
            "{e}"
        );
        let e = refused("version 1\npre-check reachable\n");
        assert_eq!(e.line, 0);
        assert_eq!(e.to_string(), "x.playbook:0: the file names no `playbook`");
    }

    #[test]
    fn a_secret_file_needs_its_install_and_its_backup() {
        let with = |body: &str| {
            refused(&format!(
                "playbook x\nversion 1\nparam k text\n{body}post-check http\nrollback restore\n"
            ))
        };
        let e = with("stage secret-file {k} /etc/k.pem\n");
        assert!(
            e.reason.contains("needs `apply install-secret-files`"),
            "{e}"
        );
        let e = with("stage secret-file {k} /etc/k.pem\napply install-secret-files\n");
        assert!(e.reason.contains("needs `backup file /etc/k.pem`"), "{e}");
        let e = with("apply install-secret-files\n");
        assert!(e.reason.contains("needs `stage secret-file`"), "{e}");
        let e = with("stage secret-file /etc/k.pem\n");
        assert!(e.reason.contains("a credential name and the path"), "{e}");
        let ok = Playbook::parse(
            "x.playbook",
            "playbook x\nversion 1\nparam k text\nstage secret-file {k} /etc/k.pem\n\
             backup file /etc/k.pem\napply install-secret-files\npost-check http\n\
             rollback restore\n",
        );
        assert!(ok.is_ok(), "{ok:?}");
        // The certificate built-in takes its key from the keyring, by credential name.
        let ssl = built_in("ssl-certificate-replace").unwrap();
        assert!(ssl.lines.iter().any(|l| matches!(
            &l.directive,
            Directive::SecretFile { credential, .. } if credential == "{key_credential}"
        )));
    }

    #[test]
    fn values_are_quoted_into_one_word() {
        let mut values = BTreeMap::new();
        values.insert("deploy_path".to_owned(), "/srv/app; rm -rf /".to_owned());
        values.insert("dir".to_owned(), "{deploy_path}/x".to_owned());
        assert_eq!(
            render("ls {dir}", &values, true).unwrap(),
            "ls '/srv/app; rm -rf //x'"
        );
        assert!(render("ls {missing}", &values, true).is_err());
    }

    #[test]
    fn parameters_are_typed_and_bound() {
        let p = Playbook::parse(
            "p.playbook",
            "playbook p\nversion 2\nparam port port 8080\nparam note text\npre-check port-free {port}\n",
        )
        .unwrap();
        let mut given = BTreeMap::new();
        assert!(p.bind(&given).unwrap_err().contains("`note` needs a value"));
        given.insert("note".into(), "hi".into());
        given.insert("port".into(), "0".into());
        assert!(p.bind(&given).unwrap_err().contains("not a port"));
        given.insert("port".into(), "9090".into());
        assert_eq!(p.bind(&given).unwrap()["port"], "9090");
        given.insert("other".into(), "1".into());
        assert!(p.bind(&given).unwrap_err().contains("no parameter `other`"));
    }
}
