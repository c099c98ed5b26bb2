//! Remote commands: what may be sent to a site, and how parameters are quoted.
//!
//! A [`RemoteCommand`] can only be made by [`RemoteCommand::check`], which runs the denylist,
//! so the SSH layer cannot be handed an unchecked string. The check is deliberately
//! conservative: quotes are ignored when looking for dangerous programs (so
//! `sh -c 'rm -rf /'` is caught), and a refusal names the rule and the words that matched, so
//! an operator can see *why* and rewrite the command or put it in a playbook.
//!
//! Parameters are never spliced into a command as they are: [`quote`] makes any string one
//! literal shell word, and [`RemoteCommand::program`] builds a command from a program name and
//! quoted arguments.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a command comes from. Playbooks may restart machines; ad-hoc commands may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandContext {
    /// Typed by a person or an agent for one server (checks, investigations).
    AdHoc,
    /// A step of a reviewed, versioned playbook.
    Playbook,
}

/// A command that passed the denylist. The text is exactly what the site's shell will run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteCommand {
    text: String,
    context: CommandContext,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("refused by the command denylist ({rule}): {explanation} — matched `{matched}`")]
pub struct Refusal {
    pub rule: DenyRule,
    /// The words of the command that matched the rule.
    pub matched: String,
    pub explanation: &'static str,
}

/// The denylist's rules. Stable names: they appear in audit entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyRule {
    Empty,
    ControlCharacter,
    InvisibleCharacter,
    RecursiveDeleteOfSystemPath,
    MakeFilesystem,
    RawDeviceWrite,
    ForkBomb,
    PowerOff,
    DestructiveSql,
}

impl DenyRule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::ControlCharacter => "control_character",
            Self::InvisibleCharacter => "invisible_character",
            Self::RecursiveDeleteOfSystemPath => "recursive_delete_of_system_path",
            Self::MakeFilesystem => "make_filesystem",
            Self::RawDeviceWrite => "raw_device_write",
            Self::ForkBomb => "fork_bomb",
            Self::PowerOff => "power_off",
            Self::DestructiveSql => "destructive_sql",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Self::Empty => "there is nothing to run",
            Self::ControlCharacter => {
                "the command holds a control character that a terminal would hide from a reviewer"
            }
            Self::InvisibleCharacter => {
                "the command holds an invisible or direction-changing character: what a reviewer sees is not what would run"
            }
            Self::RecursiveDeleteOfSystemPath => {
                "a recursive forced delete of the root, a home or a system directory wipes the server"
            }
            Self::MakeFilesystem => "making or wiping a filesystem destroys the data on it",
            Self::RawDeviceWrite => {
                "writing to a block device bypasses the filesystem and destroys data"
            }
            Self::ForkBomb => "a fork bomb exhausts the server's processes",
            Self::PowerOff => {
                "shutdown and reboot are allowed only as a step of a reviewed playbook"
            }
            Self::DestructiveSql => {
                "DROP and TRUNCATE destroy data; run them through a reviewed change with a backup"
            }
        }
    }
}

impl fmt::Display for DenyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RemoteCommand {
    /// Checks `text` against the denylist for the given context.
    pub fn check(text: &str, context: CommandContext) -> Result<Self, Refusal> {
        deny(text, context)?;
        Ok(Self {
            text: text.to_owned(),
            context,
        })
    }

    /// `program` followed by each argument quoted as one literal word, then checked.
    pub fn program(program: &str, args: &[&str], context: CommandContext) -> Result<Self, Refusal> {
        let mut text = quote(program);
        for arg in args {
            text.push(' ');
            text.push_str(&quote(arg));
        }
        Self::check(&text, context)
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn context(&self) -> CommandContext {
        self.context
    }
}

impl fmt::Display for RemoteCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `s` as one literal POSIX shell word. Safe words stay readable; anything else is put in
/// single quotes, with embedded single quotes written as `'\''`.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'/' | b'.' | b'_' | b'-' | b':' | b'=' | b'@' | b',' | b'+'
                )
        });
    if plain {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

fn refuse(rule: DenyRule, matched: impl Into<String>) -> Refusal {
    Refusal {
        rule,
        matched: matched.into(),
        explanation: rule.explanation(),
    }
}

fn deny(text: &str, context: CommandContext) -> Result<(), Refusal> {
    if text.trim().is_empty() {
        return Err(refuse(DenyRule::Empty, ""));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(refuse(
            DenyRule::ControlCharacter,
            format!("U+{:04X}", c as u32),
        ));
    }
    if let Some(c) = crate::text::find_invisible(text) {
        return Err(refuse(DenyRule::InvisibleCharacter, c));
    }
    fork_bomb(text)?;
    destructive_sql(text)?;
    for words in simple_commands(text) {
        rm_rf(&words)?;
        mkfs(&words)?;
        raw_device(&words)?;
        if context == CommandContext::AdHoc {
            power_off(&words)?;
        }
    }
    raw_device_redirect(text)
}

/// Splits `text` into simple commands (word lists). Quotes are dropped rather than honoured,
/// on purpose: a dangerous command inside `sh -c '…'` must still be seen.
fn simple_commands(text: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut words = Vec::new();
    let mut word = String::new();
    let flush_word = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    for c in text.chars() {
        match c {
            '\'' | '"' | '\\' | '{' | '}' => {}
            ';' | '&' | '|' | '\n' | '(' | ')' | '`' | '<' | '>' => {
                flush_word(&mut word, &mut words);
                if !words.is_empty() {
                    commands.push(std::mem::take(&mut words));
                }
            }
            c if c.is_whitespace() => flush_word(&mut word, &mut words),
            c => word.push(c),
        }
    }
    flush_word(&mut word, &mut words);
    if !words.is_empty() {
        commands.push(words);
    }
    commands
}

/// The program name of a word, without a directory: `/bin/rm` → `rm`.
fn program_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Words that run the rest of the line as a command.
const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "nohup", "exec", "command", "time", "nice", "ionice", "timeout",
    "setsid", "xargs", "sh", "bash", "dash", "ksh", "zsh", "su", "-c", "--",
];

/// Index of the first word that is the program actually run, skipping wrappers, their
/// options and `NAME=value` assignments.
fn command_positions(words: &[String]) -> Vec<usize> {
    let mut positions = Vec::new();
    let mut i = 0;
    // Every word after a wrapper could be the real program; collect them all up to the first
    // word that is neither a wrapper, an option, a number nor an assignment.
    while i < words.len() {
        let w = program_name(&words[i]);
        positions.push(i);
        let skippable = WRAPPERS.contains(&w)
            || words[i].starts_with('-')
            || words[i].contains('=')
            || words[i].chars().all(|c| c.is_ascii_digit());
        if !skippable {
            break;
        }
        i += 1;
    }
    positions
}

fn rm_rf(words: &[String]) -> Result<(), Refusal> {
    for (i, w) in words.iter().enumerate() {
        if program_name(w) != "rm" {
            continue;
        }
        let rest = &words[i + 1..];
        let mut recursive = false;
        let mut force = false;
        let mut no_preserve = false;
        for arg in rest {
            match arg.as_str() {
                "--recursive" => recursive = true,
                "--force" => force = true,
                "--no-preserve-root" => no_preserve = true,
                a if a.starts_with('-') && !a.starts_with("--") => {
                    recursive |= a.contains('r') || a.contains('R');
                    force |= a.contains('f');
                }
                _ => {}
            }
        }
        let target = rest
            .iter()
            .filter(|a| !a.starts_with('-'))
            .find(|a| is_system_path(a));
        if recursive && (force || no_preserve) {
            if let Some(target) = target {
                return Err(refuse(
                    DenyRule::RecursiveDeleteOfSystemPath,
                    format!("rm … {target}"),
                ));
            }
            if no_preserve {
                return Err(refuse(
                    DenyRule::RecursiveDeleteOfSystemPath,
                    "rm --no-preserve-root",
                ));
            }
        }
    }
    Ok(())
}

/// `/`, `/*`, `~`, `$HOME` (braces are dropped, so `${HOME}` too), `.`/`..` and the
/// top-level system directories, with or without trailing `/` or `/*`.
fn is_system_path(arg: &str) -> bool {
    const SYSTEM: &[&str] = &[
        "bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "opt", "proc", "root",
        "sbin", "srv", "sys", "usr", "var",
    ];
    let trimmed = arg.trim_end_matches('*').trim_end_matches('/');
    if trimmed.is_empty() || matches!(trimmed, "~" | "$HOME" | "." | ".." | "/.") {
        return true;
    }
    if let Some(rest) = trimmed.strip_prefix('/') {
        let rest = rest.trim_end_matches('.');
        return rest.is_empty() || SYSTEM.contains(&rest);
    }
    trimmed.starts_with("~/") && trimmed.len() <= 2
}

fn mkfs(words: &[String]) -> Result<(), Refusal> {
    for w in words {
        let name = program_name(w);
        if name == "mkfs"
            || name.starts_with("mkfs.")
            || matches!(name, "mke2fs" | "mkswap" | "wipefs")
        {
            return Err(refuse(DenyRule::MakeFilesystem, name));
        }
    }
    Ok(())
}

fn is_block_device(path: &str) -> bool {
    let Some(dev) = path.strip_prefix("/dev/") else {
        return false;
    };
    !matches!(
        dev,
        "null" | "zero" | "stdout" | "stderr" | "stdin" | "tty" | "random" | "urandom"
    ) && !dev.starts_with("fd/")
        && !dev.starts_with("shm/")
}

fn raw_device(words: &[String]) -> Result<(), Refusal> {
    for (i, w) in words.iter().enumerate() {
        if program_name(w) != "dd" {
            continue;
        }
        if let Some(of) = words[i + 1..]
            .iter()
            .filter_map(|a| a.strip_prefix("of="))
            .find(|p| is_block_device(p))
        {
            return Err(refuse(DenyRule::RawDeviceWrite, format!("dd of={of}")));
        }
    }
    Ok(())
}

/// `> /dev/sda`, `>>/dev/nvme0n1`, `| tee /dev/sdb`.
fn raw_device_redirect(text: &str) -> Result<(), Refusal> {
    for (i, _) in text.match_indices('>') {
        let after = text[i..]
            .trim_start_matches(|c: char| matches!(c, '>' | '|' | '&') || c.is_whitespace());
        let path: String = after
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '&' | '|' | ')' | '\'' | '"'))
            .collect();
        if is_block_device(&path) {
            return Err(refuse(DenyRule::RawDeviceWrite, format!("> {path}")));
        }
    }
    for words in simple_commands(text) {
        if words.first().map(|w| program_name(w)) == Some("tee")
            && let Some(path) = words.iter().skip(1).find(|w| is_block_device(w))
        {
            return Err(refuse(DenyRule::RawDeviceWrite, format!("tee {path}")));
        }
    }
    Ok(())
}

/// A function that pipes itself into itself in the background: `:(){ :|:& };:` and any
/// renaming of it (`bomb(){ bomb|bomb& };bomb`).
fn fork_bomb(text: &str) -> Result<(), Refusal> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for (i, _) in compact.match_indices("(){") {
        let name: String = compact[..i]
            .chars()
            .rev()
            .take_while(|c| !matches!(c, ';' | '&' | '|' | '\n' | '{' | '}' | '(' | ')'))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let name = name.trim_start_matches("function");
        if name.is_empty() {
            continue;
        }
        let body = &compact[i + 3..];
        if body.starts_with(&format!("{name}|{name}&")) || body.starts_with(&format!("{name}&")) {
            return Err(refuse(
                DenyRule::ForkBomb,
                format!("{name}(){{ {name}|{name}& }}"),
            ));
        }
    }
    Ok(())
}

fn power_off(words: &[String]) -> Result<(), Refusal> {
    for i in command_positions(words) {
        let name = program_name(&words[i]);
        let next = words.get(i + 1).map(String::as_str);
        let hit = match name {
            "shutdown" | "reboot" | "halt" | "poweroff" => true,
            "init" | "telinit" => matches!(next, Some("0" | "6")),
            "systemctl" => words[i + 1..].iter().any(|w| {
                matches!(
                    w.as_str(),
                    "reboot" | "poweroff" | "halt" | "kexec" | "emergency" | "rescue"
                )
            }),
            _ => false,
        };
        if hit {
            return Err(refuse(DenyRule::PowerOff, words[i..].join(" ")));
        }
    }
    Ok(())
}

/// `DROP TABLE|DATABASE|SCHEMA|USER|…` and `TRUNCATE`, anywhere — they usually travel inside
/// a quoted argument to `psql`, `mysql` or `sqlplus`.
fn destructive_sql(text: &str) -> Result<(), Refusal> {
    let upper = text.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        match *w {
            "TRUNCATE" => return Err(refuse(DenyRule::DestructiveSql, "TRUNCATE")),
            "DROP" => {
                if let Some(object) = words.get(i + 1).filter(|o| {
                    matches!(
                        **o,
                        "TABLE"
                            | "DATABASE"
                            | "SCHEMA"
                            | "USER"
                            | "TABLESPACE"
                            | "INDEX"
                            | "VIEW"
                            | "OWNED"
                    )
                }) {
                    return Err(refuse(DenyRule::DestructiveSql, format!("DROP {object}")));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardening_11_invisible_characters_are_refused_in_commands() {
        assert_eq!(refused("ls \u{202E}fdp.exe"), DenyRule::InvisibleCharacter);
        assert_eq!(
            refused("r\u{200B}m -rf /tmp/x"),
            DenyRule::InvisibleCharacter
        );
        assert!(RemoteCommand::check("echo 보고서", CommandContext::AdHoc).is_ok());
    }

    fn refused(cmd: &str) -> DenyRule {
        match RemoteCommand::check(cmd, CommandContext::AdHoc) {
            Err(r) => r.rule,
            Ok(_) => panic!("`{cmd}` should have been refused"),
        }
    }

    fn allowed(cmd: &str) {
        if let Err(r) = RemoteCommand::check(cmd, CommandContext::AdHoc) {
            panic!("`{cmd}` should be allowed, got {r}");
        }
    }

    #[test]
    fn rm_rf_of_root_and_system_dirs_is_refused_in_every_spelling() {
        for cmd in [
            "rm -rf /",
            "rm -fr /",
            "rm -Rf /*",
            "rm -r -f /",
            "rm --recursive --force /",
            "/bin/rm -rf /",
            "sudo rm -rf /etc",
            "rm -rf /usr/",
            "rm -rf ~",
            "rm -rf $HOME",
            "cd /tmp && rm -rf /",
            "sh -c 'rm -rf /'",
            "bash -c \"rm -rf /var\"",
            "rm -rf --no-preserve-root /",
            "rm   -rf    /",
            "echo ok; rm -rf .",
        ] {
            assert_eq!(refused(cmd), DenyRule::RecursiveDeleteOfSystemPath, "{cmd}");
        }
    }

    #[test]
    fn rm_of_an_application_directory_is_allowed() {
        allowed("rm -rf /opt/app/releases/old");
        allowed("rm -f /var/log/app/old.log");
        allowed("rm -r /srv/app/tmp/cache");
    }

    #[test]
    fn filesystem_and_raw_device_writes_are_refused() {
        assert_eq!(refused("mkfs.ext4 /dev/sdb1"), DenyRule::MakeFilesystem);
        assert_eq!(
            refused("sudo mkfs -t xfs /dev/sdc"),
            DenyRule::MakeFilesystem
        );
        assert_eq!(refused("wipefs -a /dev/sda"), DenyRule::MakeFilesystem);
        assert_eq!(
            refused("dd if=/dev/zero of=/dev/sda bs=1M"),
            DenyRule::RawDeviceWrite
        );
        assert_eq!(refused("echo x > /dev/sda"), DenyRule::RawDeviceWrite);
        assert_eq!(refused("cat img >>/dev/nvme0n1"), DenyRule::RawDeviceWrite);
        allowed("dd if=/dev/zero of=/tmp/blank bs=1M count=1");
        allowed("some-check > /dev/null 2>&1");
    }

    #[test]
    fn fork_bombs_are_refused_under_any_name() {
        assert_eq!(refused(":(){ :|:& };:"), DenyRule::ForkBomb);
        assert_eq!(refused(":(){ :|: & };:"), DenyRule::ForkBomb);
        assert_eq!(
            refused("bomb() { bomb | bomb & }; bomb"),
            DenyRule::ForkBomb
        );
        allowed("f() { echo hi; }; f");
    }

    #[test]
    fn power_off_is_refused_ad_hoc_but_allowed_in_a_playbook() {
        for cmd in [
            "shutdown -h now",
            "sudo reboot",
            "/sbin/poweroff",
            "init 0",
            "systemctl reboot",
            "echo bye; halt",
        ] {
            assert_eq!(refused(cmd), DenyRule::PowerOff, "{cmd}");
            assert!(
                RemoteCommand::check(cmd, CommandContext::Playbook).is_ok(),
                "{cmd}"
            );
        }
        allowed("echo 'remember to reboot'");
        allowed("systemctl restart app");
    }

    #[test]
    fn destructive_sql_is_refused_anywhere_in_the_command() {
        assert_eq!(
            refused("psql -c 'DROP TABLE users'"),
            DenyRule::DestructiveSql
        );
        assert_eq!(
            refused("mysql -e \"drop database app\""),
            DenyRule::DestructiveSql
        );
        assert_eq!(
            refused("echo 'truncate audit;' | sqlplus"),
            DenyRule::DestructiveSql
        );
        allowed("psql -c 'SELECT count(*) FROM users'");
    }

    #[test]
    fn empty_and_control_characters_are_refused() {
        assert_eq!(refused("   "), DenyRule::Empty);
        assert_eq!(refused("ls\u{1b}[2K"), DenyRule::ControlCharacter);
    }

    #[test]
    fn quote_makes_one_literal_word() {
        assert_eq!(quote("/opt/app"), "/opt/app");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(reboot)"), "'$(reboot)'");
        assert_eq!(quote("--level=3"), "--level=3");
        let cmd = RemoteCommand::program("ls", &["-l", "/opt/my app"], CommandContext::AdHoc)
            .unwrap_or_else(|r| panic!("{r}"));
        assert_eq!(cmd.text(), "ls -l '/opt/my app'");
    }

    #[test]
    fn a_quoted_parameter_cannot_smuggle_a_command_past_the_check() {
        // The parameter is quoted, so it is data — but the denylist still refuses, because it
        // reads through quotes. Better a refusal to explain than a wiped server.
        let r = RemoteCommand::program("echo", &["x; rm -rf /"], CommandContext::AdHoc);
        assert!(r.is_err());
    }
}
