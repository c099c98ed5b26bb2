//! Finding and stopping the lab's processes by pid, from /proc.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::Manifest;

struct ProcInfo {
    ppid: u32,
    zombie: bool,
}

fn read_stat(pid: u32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …` — comm may hold spaces and parentheses; split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some(ProcInfo {
        ppid,
        zombie: state == "Z" || state == "X",
    })
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Every live process that belongs to the lab: whatever names the lab's root on its command
/// line (the sshd listeners), carries `GUARDIA_LAB_ROOT` set to this lab (the health
/// endpoint, the site applications the lab started), or has an `SSH_CONNECTION` to a lab
/// site (session commands, applications restarted over SSH, also those that detached with
/// `setsid`), and their descendants.
///
/// Recorded pids (the manifest's sshds, `app.pid`) are not trusted on their own: an app
/// killed by a fault leaves its app.pid behind, and with pid_max at 32768 a busy machine
/// soon hands that number to someone else's process, which `lab down` must not kill.
pub fn lab_processes(manifest: &Manifest) -> Vec<u32> {
    let own = std::process::id();
    let root_path = manifest.root.display().to_string();
    let root_marker = format!("GUARDIA_LAB_ROOT={root_path}");
    let endpoints: BTreeSet<String> = manifest
        .sites
        .iter()
        .map(|s| format!(" {} {}", s.address, manifest.ssh_port))
        .collect();

    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut found = BTreeSet::new();
    for pid in all_pids() {
        let Some(info) = read_stat(pid) else { continue };
        if info.zombie || pid == own {
            continue;
        }
        children.entry(info.ppid).or_default().push(pid);
        // sshd rewrites its environment area with its process title, so a listener is
        // known by its title, which names its config under the lab's root.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&format!("{root_path}/")) {
            found.insert(pid);
            continue;
        }
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        for var in environ.split(|b| *b == 0) {
            let var = String::from_utf8_lossy(var);
            if var == root_marker {
                found.insert(pid);
            } else if let Some(conn) = var.strip_prefix("SSH_CONNECTION=")
                && endpoints.iter().any(|e| conn.ends_with(e.as_str()))
            {
                found.insert(pid);
            }
        }
    }
    let mut stack: Vec<u32> = found.iter().copied().collect();
    let mut lab = BTreeSet::new();
    while let Some(pid) = stack.pop() {
        if lab.insert(pid) {
            stack.extend(children.remove(&pid).unwrap_or_default());
        }
    }
    lab.into_iter().filter(|p| *p != own).collect()
}

/// Whether `pid` runs (a zombie does not).
pub(crate) fn alive(pid: u32) -> bool {
    read_stat(pid).is_some_and(|i| !i.zombie)
}

pub(crate) fn signal(pid: u32, sig: Signal) {
    let Some(p) = Pid::from_raw(pid as i32) else {
        return;
    };
    if let Err(e) = rustix::process::kill_process(p, sig) {
        tracing::debug!("signal {sig:?} to {pid}: {e}");
    }
}

/// TERM, wait up to `grace`, then KILL whatever is left. Returns the pids still alive.
pub(crate) fn stop(pids: &[u32], grace: Duration) -> Vec<u32> {
    for pid in pids {
        signal(*pid, Signal::TERM);
    }
    let deadline = Instant::now() + grace;
    let mut left: Vec<u32> = pids.to_vec();
    while !left.is_empty() && Instant::now() < deadline {
        left.retain(|p| alive(*p));
        if !left.is_empty() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for pid in &left {
        signal(*pid, Signal::KILL);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !left.is_empty() && Instant::now() < deadline {
        left.retain(|p| alive(*p));
        if !left.is_empty() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    left
}
