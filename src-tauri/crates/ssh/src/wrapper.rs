//! What is really sent to the server around a command: a wrapper that survives whatever login
//! shell the account has (sh, bash, dash, BusyBox ash, csh/tcsh), puts the command in a
//! process group of its own where the server allows it, and says which it managed — and the
//! scripts that stop such a group and verify an upload's hash with what the server has.
//!
//! The login shell only ever sees `exec sh -c '…'` whose quoted part holds printable ASCII
//! without `'`, `!` or a newline: the command itself travels as `printf` octal escapes and is
//! rebuilt by `sh`. So csh's quoting (no newline inside quotes, `!` history) cannot break it.

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// How a wrapped command was put in a process group the stop can kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// The server started the command as a process-group leader (OpenSSH does).
    Group,
    /// It was not; `setsid` (util-linux), `busybox setsid` or `perl` made it one.
    Made(&'static str),
    /// It was not, and nothing on the server could make it one: a stop signals the command's
    /// own process only, and its children may survive.
    None,
}

impl StopMode {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "group" => Self::Group,
            "setsid" => Self::Made("setsid"),
            "busybox" => Self::Made("busybox setsid"),
            "perl" => Self::Made("perl setpgrp"),
            "none" => Self::None,
            _ => return None,
        })
    }

    /// Whether a stop can reach every process the command started (short of ones that
    /// deliberately leave its process group).
    pub fn guaranteed(self) -> bool {
        !matches!(self, Self::None)
    }

    /// Why a stop is not guaranteed on this server, for reports and the server page.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Self::None => Some(
                "the server does not start commands in a process group of their own and has \
                 neither setsid, busybox setsid nor perl to make one: only the command's own \
                 process could be signalled, its children may still run",
            ),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Group => "process group",
            Self::Made(how) => how,
            Self::None => "none",
        }
    }
}

/// A fresh marker for one command, so no line the login shell or a profile script prints can
/// be mistaken for the wrapper's.
pub(crate) fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{}:{n}:{now}", std::process::id()));
    hex::encode(&digest[..8])
}

/// `command` as the body of a `printf "…"` format inside double quotes: every byte that is
/// special to `sh` in double quotes, to `printf`, or to csh in single quotes — and every byte
/// that is not printable ASCII — becomes a three-digit octal escape.
fn printf_escaped(command: &str) -> String {
    let mut out = String::with_capacity(command.len() + command.len() / 8);
    for b in command.bytes() {
        let plain = (0x20..0x7f).contains(&b) && !b"$`\"\\!'%".contains(&b);
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out
}

/// The text sent as the SSH `exec` request for `command`.
///
/// The wrapper reads its own process group from `/proc` (or `ps`); if it leads one, the
/// command runs there; otherwise it tries `setsid` and `busybox setsid` — only when it knows it
/// is not a group leader, since `setsid` forks (and its parent exits at once) for a leader —
/// then `perl` (which never forks), and failing all of them
/// runs the command anyway and says so (`none`). It then prints `guardia-NONCE PID MODE` on
/// stdout and `guardia-NONCE` on stderr — everything before those is login noise — and
/// `exec`s the command, so PID is the command's process (and its group's id).
pub(crate) fn wrap(command: &str, nonce: &str) -> String {
    let body = format!(
        "n={nonce};c=$(printf \"x{cmd}x\");c=${{c#x}};c=${{c%x}};p=$$;g=;\
         if read -r s 2>/dev/null </proc/$p/stat;then s=${{s##*)}};set -- $s;g=$3;\
         else set -- $(ps -o pgid= -p $p 2>/dev/null);g=$1;fi;\
         if [ \"$g\" = \"$p\" ];then m=group;set -- sh -c \"$c\";\
         elif [ -n \"$g\" ] && command -v setsid >/dev/null 2>&1;then m=setsid;set -- setsid sh -c \"$c\";\
         elif [ -n \"$g\" ] && busybox setsid true >/dev/null 2>&1;then m=busybox;set -- busybox setsid sh -c \"$c\";\
         elif command -v perl >/dev/null 2>&1;then m=perl;set -- perl -e \"setpgrp(0,0);exec @ARGV\" sh -c \"$c\";\
         else m=none;set -- sh -c \"$c\";fi;\
         printf \"guardia-%s %s %s\\n\" $n $p $m;printf \"guardia-%s\\n\" $n >&2;exec \"$@\"",
        // A leading blank keeps `sh -c` from taking a command that starts with `-` for an
        // option; it means nothing to the shell otherwise.
        cmd = printf_escaped(&format!(" {command}")),
    );
    debug_assert!(!body.contains(['\'', '!', '\n']));
    format!("exec sh -c '{body}'")
}

/// The script that stops the command whose process is `pid` (and, in a group, its group):
/// TERM, up to 2 s to go, KILL if anything is left, then says `gone` or `alive`. Runs in `sh`,
/// dash, ash alike (and where `sleep` takes whole seconds only).
pub(crate) fn kill_script(pid: u32) -> String {
    format!(
        "P={pid}; kill -TERM -$P 2>/dev/null; kill -TERM $P 2>/dev/null; i=0; \
         while {{ kill -0 -$P || kill -0 $P; }} 2>/dev/null && [ $i -lt 20 ]; do \
         sleep 0.1 2>/dev/null || {{ sleep 1; i=$((i+9)); }}; i=$((i+1)); done; \
         if {{ kill -0 -$P || kill -0 $P; }} 2>/dev/null; then \
         kill -KILL -$P 2>/dev/null; kill -KILL $P 2>/dev/null; sleep 0.1 2>/dev/null || sleep 1; fi; \
         if {{ kill -0 -$P || kill -0 $P; }} 2>/dev/null; then echo alive; else echo gone; fi"
    )
}

/// Prints the SHA-256 of the file `quoted_path` (already shell-quoted) with whatever the
/// server has: `sha256sum` (coreutils, BusyBox), `openssl`, or Perl's `shasum`. The file is
/// read on stdin so no path can be taken for an option.
pub(crate) fn hash_script(quoted_path: &str) -> String {
    format!(
        "if command -v sha256sum >/dev/null 2>&1; then sha256sum < {quoted_path}; \
         elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 < {quoted_path}; \
         else shasum -a 256 < {quoted_path}; fi"
    )
}

/// The first 64-hex-digit word of a hash tool's output, lower-cased.
pub(crate) fn hash_in(output: &str) -> Option<String> {
    output
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .map(str::to_ascii_lowercase)
}

/// One stream's login noise, held back until the wrapper's marker shows where the command's
/// own output begins.
pub(crate) struct Preamble {
    marker: Vec<u8>,
    held: Vec<u8>,
    found: bool,
}

/// Noise beyond this, with no marker, means the wrapper never ran: what was held is the
/// server's answer (e.g. "sh: not found") and is passed on as output.
const MAX_PREAMBLE: usize = 256 * 1024;

impl Preamble {
    /// `marker` is what starts the wrapper's line on this stream (`guardia-NONCE`).
    pub(crate) fn new(marker: String) -> Self {
        Self {
            marker: marker.into_bytes(),
            held: Vec::new(),
            found: false,
        }
    }

    /// Feeds bytes; returns the wrapper's line (without the marker), once, and the bytes that
    /// are the command's output. Before the marker nothing is output.
    pub(crate) fn push<'a>(&mut self, bytes: &'a [u8]) -> (Option<String>, Output<'a>) {
        if self.found {
            return (None, Output::Borrowed(bytes));
        }
        self.held.extend_from_slice(bytes);
        let Some(at) = find(&self.held, &self.marker) else {
            if self.held.len() > MAX_PREAMBLE {
                self.found = true;
                return (None, Output::Owned(std::mem::take(&mut self.held)));
            }
            return (None, Output::Owned(Vec::new()));
        };
        let after = &self.held[at + self.marker.len()..];
        let Some(nl) = after.iter().position(|b| *b == b'\n') else {
            return (None, Output::Owned(Vec::new()));
        };
        let line = String::from_utf8_lossy(&after[..nl]).trim().to_owned();
        let rest = after[nl + 1..].to_vec();
        self.found = true;
        self.held = Vec::new();
        (Some(line), Output::Owned(rest))
    }

    /// At the end of the command: what was held back if the marker never came (the wrapper
    /// did not run, and this is all the server said).
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        if self.found {
            Vec::new()
        } else {
            self.found = true;
            std::mem::take(&mut self.held)
        }
    }
}

pub(crate) enum Output<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Output<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Borrowed(b) => b,
            Self::Owned(v) => v,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The wrapper's stdout line: `PID MODE`.
pub(crate) fn parse_line(line: &str) -> (Option<u32>, Option<StopMode>) {
    let mut words = line.split_whitespace();
    let pid = words.next().and_then(|w| w.parse().ok());
    let mode = words.next().and_then(StopMode::parse);
    (pid, mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn run_in(shell: &str, text: &str) -> Option<(String, String)> {
        if !std::path::Path::new(shell).exists() {
            return None;
        }
        let out = Command::new(shell).arg("-c").arg(text).output().ok()?;
        Some((
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    const TRICKY: &str = "printf '%s|' \"a b\" 'c$d' \"e\\\\f\"; echo '!x' `echo bq` \"$((1+2))\"\necho 한글 100%; echo 'it'\\''s'";

    #[test]
    fn every_login_shell_runs_the_command_unchanged() {
        let nonce = "0123abcd";
        let wrapped = wrap(TRICKY, nonce);
        assert!(!wrapped[..wrapped.len() - 1].contains(['\n', '!']));
        let (expected, _) = run_in("/bin/sh", TRICKY).unwrap_or_default();
        assert_eq!(expected, "a b|c$d|e\\f|!x bq 3\n한글 100%\nit's\n");
        for shell in [
            "/bin/sh",
            "/bin/bash",
            "/bin/dash",
            "/usr/bin/tcsh",
            "/bin/busybox",
        ] {
            let got = if shell.ends_with("busybox") {
                // BusyBox as the login shell: `busybox ash -c …`.
                Command::new(shell)
                    .args(["ash", "-c", &wrapped])
                    .output()
                    .ok()
                    .map(|o| {
                        (
                            String::from_utf8_lossy(&o.stdout).into_owned(),
                            String::from_utf8_lossy(&o.stderr).into_owned(),
                        )
                    })
            } else {
                run_in(shell, &wrapped)
            };
            let Some((stdout, stderr)) = got else {
                eprintln!("{shell} is not installed here; skipped");
                continue;
            };
            let mut p = Preamble::new(format!("guardia-{nonce} "));
            let (line, rest) = p.push(stdout.as_bytes());
            let (pid, mode) = parse_line(&line.unwrap_or_else(|| panic!("{shell}: {stdout}")));
            assert!(pid.is_some_and(|p| p > 1), "{shell}");
            assert!(mode.is_some(), "{shell}");
            assert_eq!(String::from_utf8_lossy(&rest), expected, "{shell}");
            let mut e = Preamble::new(format!("guardia-{nonce}"));
            let _ = e.push(stderr.as_bytes());
            assert!(e.found, "{shell}: stderr marker missing in {stderr:?}");
        }
    }

    #[test]
    fn a_command_starting_with_a_dash_is_not_taken_for_an_option() {
        let (stdout, _) = run_in("/bin/sh", &wrap("-x=1 2>/dev/null; echo ok", "ab")).unwrap();
        let mut p = Preamble::new("guardia-ab ".into());
        let (line, rest) = p.push(stdout.as_bytes());
        assert!(line.is_some(), "{stdout}");
        assert_eq!(&*rest, b"ok\n");
    }

    #[test]
    fn noise_before_the_marker_is_dropped_and_without_a_marker_kept() {
        let mut p = Preamble::new("guardia-ff ".into());
        let (line, out) = p.push(b"Welcome to CentOS\nstty: not a tty");
        assert!(line.is_none() && out.is_empty());
        let (line, out) = p.push(b"guardia-ff 42 group\nhello\n");
        assert_eq!(line.as_deref(), Some("42 group"));
        assert_eq!(&*out, b"hello\n");
        let (line, out) = p.push(b"more");
        assert!(line.is_none());
        assert_eq!(&*out, b"more");

        let mut q = Preamble::new("guardia-ff ".into());
        let _ = q.push(b"sh: 1: exec: sh: not found\n");
        assert_eq!(q.finish(), b"sh: 1: exec: sh: not found\n");
    }

    #[test]
    fn hashes_are_read_from_any_tool() {
        let h = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(hash_in(&format!("{h}  -\n")).as_deref(), Some(h));
        assert_eq!(
            hash_in(&format!("SHA2-256(stdin)= {h}\n")).as_deref(),
            Some(h)
        );
        assert_eq!(
            hash_in(&format!("(stdin)= {}\n", h.to_uppercase())).as_deref(),
            Some(h)
        );
        assert_eq!(hash_in("sha256sum: can't open\n"), None);
    }

    #[test]
    fn the_scripts_pass_the_denylist() {
        use guardia_domain::command::{CommandContext, RemoteCommand, quote};
        RemoteCommand::check(&kill_script(4242), CommandContext::Playbook)
            .unwrap_or_else(|r| panic!("{r}"));
        RemoteCommand::check(
            &hash_script(&quote("/opt/app/x.war")),
            CommandContext::Playbook,
        )
        .unwrap_or_else(|r| panic!("{r}"));
    }
}
