//! # guardia-lab — a fleet of fake sites on this machine, behind real OpenSSH
//!
//! Rollouts, health checks, cancellation and host-key pinning are only worth testing against
//! the real thing, so the lab runs Debian's own `sshd`, not an in-process fake. One sshd
//! listens on up to [`SITES_PER_SSHD`] loopback addresses (`127.20.x.y`, each site its own
//! address — Linux routes all of `127/8` to `lo`), and each site has an application
//! directory with `startup.sh`/`shutdown.sh`, a pid file, a service log, a `VERSION` file,
//! and an HTTP health endpoint that answers 200 or 503 from the site's state.
//!
//! Everything the lab starts is recorded in `lab.json` under its root and stopped by pid
//! ([`down`]), together with anything that sessions on lab sites left running. Faults
//! ([`fault`]) are injected by reconfiguring sshd or dropping flag files that the site's
//! scripts and the health endpoint read.
//!
//! As root, sites log in as a dedicated system user `guardia-lab` with a fresh random
//! password per lab (so password authentication is testable); as a normal user, sites log in
//! as that user with keys only (a non-root sshd cannot check passwords).

mod health;
pub mod keyring;
mod procs;

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use health::serve_health;
pub use procs::lab_processes;

/// How many site addresses one sshd serves.
pub const SITES_PER_SSHD: usize = 16;
/// The system user lab sites log in as when the lab runs as root.
pub const LAB_USER: &str = "guardia-lab";
const SSHD: &str = "/usr/sbin/sshd";
const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";
const DROPBEAR: &str = "/usr/sbin/dropbear";
const DROPBEARKEY: &str = "/usr/bin/dropbearkey";
const BUSYBOX: &str = "/bin/busybox";
const MANIFEST: &str = "lab.json";

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0} is not installed; install Debian's openssh-server (scripts/setup.sh does)")]
    Missing(&'static str),
    #[error("a lab is already running under {0}; run `guardia lab down` first")]
    AlreadyUp(PathBuf),
    #[error("no lab under {0} (no {MANIFEST}); start one with `guardia lab up`")]
    NotUp(PathBuf),
    #[error("no lab site named `{0}`")]
    NoSuchSite(String),
    #[error("--bad {bad} is more than --sites {sites}")]
    TooManyBad { bad: usize, sites: usize },
    #[error("a lab needs between 1 and 50,000 sites, not {0}")]
    SiteCount(usize),
    #[error("{what} failed: {detail}")]
    Step { what: String, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{MANIFEST} is unreadable: {0}")]
    Manifest(String),
    #[error("--profile: {0}")]
    Profiles(String),
    #[error("the {0} profile needs Debian's {1}; install it (scripts/setup.sh does)")]
    ProfileMissing(&'static str, &'static str),
    #[error(
        "the {0} profile runs only as root: Dropbear reads login keys from the user's home \
         only, and the lab will not write to yours"
    )]
    ProfileNeedsRoot(&'static str),
    #[error("fault {fault} is not supported on {profile} sites")]
    FaultUnsupported {
        fault: &'static str,
        profile: &'static str,
    },
}

fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> LabError {
    let path = path.into();
    move |source| LabError::Io { path, source }
}

fn step(what: impl Into<String>, detail: impl fmt::Display) -> LabError {
    LabError::Step {
        what: what.into(),
        detail: detail.to_string(),
    }
}

/// What to start.
#[derive(Debug, Clone)]
pub struct LabSpec {
    pub root: PathBuf,
    pub sites: usize,
    /// How many sites fail health once their version changes.
    pub bad: usize,
    /// SSH port on every site address; a free one is picked when `None`.
    pub ssh_port: Option<u16>,
    /// HTTP health port on every site address; a free one is picked when `None`.
    pub http_port: Option<u16>,
    /// The command that runs [`serve_health`] for this lab (`guardia lab serve-health --root
    /// DIR`); `None` starts no health endpoint (transport tests need none).
    pub health_server: Option<Vec<String>>,
    /// Second octet of the site addresses (`127.<octet>.x.y`), so several labs can coexist.
    pub octet: u8,
    /// Which SSH server each site runs (`openssh` for all when empty).
    pub profiles: Vec<ProfileCount>,
}

impl LabSpec {
    pub fn new(root: impl Into<PathBuf>, sites: usize) -> Self {
        Self {
            root: root.into(),
            sites,
            bad: 0,
            ssh_port: None,
            http_port: None,
            health_server: None,
            octet: 20,
            profiles: Vec::new(),
        }
    }
}

/// Faults `guardia lab fault SITE KIND` can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The site's address stops accepting SSH connections.
    SshdDown,
    /// Health answers and commands on the site take seconds.
    Slow,
    /// The health endpoint answers 503.
    Health503,
    /// The site's disk pre-check (`bin/disk-free`) reports no space.
    DiskFull,
    /// The site is served with a new host key (as after a reinstall, or an attacker).
    HostKeyChanged,
    /// (BusyBox sites) Nothing on the PATH can put a command in a process group of its own
    /// (no `setsid`, no `busybox`, no `perl`): remote stop cannot be guaranteed there.
    NoProcessGroup,
    /// Removes every fault but a changed host key.
    Clear,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::SshdDown,
        Fault::Slow,
        Fault::Health503,
        Fault::DiskFull,
        Fault::HostKeyChanged,
        Fault::NoProcessGroup,
        Fault::Clear,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SshdDown => "sshd-down",
            Self::Slow => "slow",
            Self::Health503 => "health-503",
            Self::DiskFull => "disk-full",
            Self::HostKeyChanged => "host-key-changed",
            Self::NoProcessGroup => "no-process-group",
            Self::Clear => "clear",
        }
    }

    /// The flag file (in the site's `fault/` directory) a fault is kept as, if it is one.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            Self::Slow => Some("slow"),
            Self::Health503 => Some("health_503"),
            Self::DiskFull => Some("disk_full"),
            Self::NoProcessGroup => Some("no_process_group"),
            Self::SshdDown | Self::HostKeyChanged | Self::Clear => None,
        }
    }
}

impl std::str::FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let kinds: Vec<&str> = Self::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown fault `{s}`; one of: {}", kinds.join(", "))
            })
    }
}

/// What kind of SSH server a lab site runs — the servers GUARDiA must manage for real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Debian's OpenSSH as configured by default.
    #[default]
    Openssh,
    /// Debian's sshd restricted to what OpenSSH 5.3 (CentOS 6) offers: SHA-1 key exchange,
    /// an `ssh-rsa` host key, RSA user keys with SHA-1 signatures, `hmac-sha1`, AES-CTR/CBC;
    /// with a pre-login banner, login noise on both streams and tcsh as the login shell.
    LegacyOpenssh,
    /// Debian's Dropbear (`dropbear-bin`), no SFTP subsystem.
    Dropbear,
    /// Dropbear whose login shell is BusyBox `ash` with only BusyBox applets on the PATH
    /// (and no `setsid` applet link): an embedded appliance.
    Busybox,
}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Openssh,
        Profile::LegacyOpenssh,
        Profile::Dropbear,
        Profile::Busybox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openssh => "openssh",
            Self::LegacyOpenssh => "legacy-openssh",
            Self::Dropbear => "dropbear",
            Self::Busybox => "busybox",
        }
    }

    fn is_dropbear(self) -> bool {
        matches!(self, Self::Dropbear | Self::Busybox)
    }

    /// How many site addresses one server process listens on (Dropbear takes ten).
    fn per_server(self) -> usize {
        if self.is_dropbear() {
            10
        } else {
            SITES_PER_SSHD
        }
    }

    /// The credential name the lab's inventory gives these sites.
    pub fn credential(self) -> &'static str {
        match self {
            Self::LegacyOpenssh => "lab-rsa-key",
            _ => "lab-key",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown profile `{s}`; one of: {}", names.join(", "))
            })
    }
}

/// `PROFILE` or `PROFILE:COUNT`, as `guardia lab up --profile` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileCount {
    pub profile: Profile,
    /// `None`: every site no other `--profile` claims.
    pub count: Option<usize>,
}

impl std::str::FromStr for ProfileCount {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, count) = match s.split_once(':') {
            Some((n, c)) => (
                n,
                Some(
                    c.parse::<usize>()
                        .map_err(|_| format!("`{c}` is not a number of sites (in `{s}`)"))?,
                ),
            ),
            None => (s, None),
        };
        Ok(Self {
            profile: name.parse()?,
            count,
        })
    }
}

/// The profile of each of `sites` sites: counted profiles first, in the order given, then the
/// uncounted one (OpenSSH if none) for the rest.
fn assign_profiles(mix: &[ProfileCount], sites: usize) -> Result<Vec<Profile>, LabError> {
    let rest: Vec<&ProfileCount> = mix.iter().filter(|p| p.count.is_none()).collect();
    if rest.len() > 1 {
        return Err(LabError::Profiles(
            "only one --profile may go without a count (it takes the remaining sites)".into(),
        ));
    }
    let counted: usize = mix.iter().filter_map(|p| p.count).sum();
    if counted > sites {
        return Err(LabError::Profiles(format!(
            "the profiles ask for {counted} sites but the lab has {sites}"
        )));
    }
    let mut out = Vec::with_capacity(sites);
    for p in mix {
        if let Some(n) = p.count {
            out.extend(std::iter::repeat_n(p.profile, n));
        }
    }
    let fill = rest.first().map_or(Profile::Openssh, |p| p.profile);
    out.resize(sites, fill);
    Ok(out)
}

/// One fake site.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabSite {
    pub name: String,
    pub address: Ipv4Addr,
    pub tier: u8,
    /// Index into [`Manifest::groups`].
    pub group: usize,
    /// The site's own directory (app, deploy, fault flags).
    pub dir: PathBuf,
    pub bad: bool,
    pub ssh_down: bool,
    #[serde(default)]
    pub profile: Profile,
}

impl LabSite {
    pub fn app_dir(&self) -> PathBuf {
        self.dir.join("app")
    }
    pub fn deploy_dir(&self) -> PathBuf {
        self.dir.join("deploy")
    }
    pub fn log_file(&self) -> PathBuf {
        self.app_dir().join("logs/service.log")
    }
}

/// One sshd and the sites it serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SshdGroup {
    pub dir: PathBuf,
    pub pid: Option<u32>,
    /// `ssh-ed25519 AAAA…` of this sshd's host key.
    pub host_key: String,
    #[serde(default)]
    pub profile: Profile,
}

/// Everything a running lab is made of, kept in `ROOT/lab.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub root: PathBuf,
    pub user: String,
    pub ssh_port: u16,
    pub http_port: u16,
    pub password_auth: bool,
    pub sites: Vec<LabSite>,
    pub groups: Vec<SshdGroup>,
    pub health_pid: Option<u32>,
}

impl Manifest {
    pub fn load(root: &Path) -> Result<Self, LabError> {
        let path = root.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LabError::NotUp(root.to_owned()));
            }
            Err(e) => return Err(io_err(path)(e)),
        };
        serde_json::from_str(&text).map_err(|e| LabError::Manifest(e.to_string()))
    }

    fn save(&self) -> Result<(), LabError> {
        let path = self.root.join(MANIFEST);
        let tmp = self.root.join(format!("{MANIFEST}.tmp"));
        let text =
            serde_json::to_string_pretty(self).map_err(|e| LabError::Manifest(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_err(path))
    }

    pub fn site(&self, name: &str) -> Result<&LabSite, LabError> {
        self.sites
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| LabError::NoSuchSite(name.to_owned()))
    }

    /// The unencrypted ed25519 key every site accepts (`ROOT/secrets/id_ed25519`).
    pub fn client_key(&self) -> PathBuf {
        self.root.join("secrets/id_ed25519")
    }

    /// The RSA key legacy sites accept (`ROOT/secrets/id_rsa`); only made when the lab has
    /// legacy sites (OpenSSH 5.3 knows no ed25519).
    pub fn rsa_client_key(&self) -> PathBuf {
        self.root.join("secrets/id_rsa")
    }

    /// The lab user's password, when password authentication is on (root labs only).
    pub fn password_file(&self) -> PathBuf {
        self.root.join("secrets/password")
    }

    /// `ROOT/known_hosts`: the host key of every site as first started.
    pub fn known_hosts(&self) -> PathBuf {
        self.root.join("known_hosts")
    }

    /// `ROOT/inventory.csv`: the lab as a GUARDiA inventory, ready to import.
    pub fn inventory(&self) -> PathBuf {
        self.root.join("inventory.csv")
    }

    pub fn host_key_of(&self, site: &LabSite) -> &str {
        &self.groups[site.group].host_key
    }

    /// Adds a public key (`ssh-… AAAA…`) to the keys every site accepts.
    pub fn authorize_key(&self, public_key: &str) -> Result<(), LabError> {
        use std::io::Write as _;
        let path = self.root.join("authorized_keys");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        writeln!(file, "{}", public_key.trim()).map_err(io_err(path))?;
        if self.sites.iter().any(|s| s.profile.is_dropbear()) {
            dropbear_keys::authorize(&self.user, &[public_key.trim().to_owned()])?;
        }
        Ok(())
    }
}

/// `/var/tmp/guardia-lab-UID`: one default lab per user, somewhere the lab user can reach.
pub fn default_root() -> PathBuf {
    PathBuf::from(format!(
        "/var/tmp/guardia-lab-{}",
        rustix::process::geteuid().as_raw()
    ))
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn run(what: &str, cmd: &mut Command) -> Result<String, LabError> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| step(what, e))?;
    if !out.status.success() {
        return Err(step(
            what,
            format!(
                "{} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn free_port() -> Result<u16, LabError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| step("picking a port", e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| step("picking a port", e))
}

/// The lab user's password: made once per machine and kept root-only in
/// `/etc/guardia-lab/password`, so labs running side by side (parallel tests) agree on it.
/// Returns the password and whether this call made it.
fn lab_password() -> Result<(String, bool), LabError> {
    use std::io::Write as _;
    let dir = Path::new("/etc/guardia-lab");
    let path = dir.join("password");
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    set_mode(dir, 0o700)?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut file) => {
            let password = random_password()?;
            file.write_all(password.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io_err(&path))?;
            set_mode(&path, 0o600)?;
            Ok((password, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another lab may be writing it this very moment.
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
                if text.trim().len() >= 16 {
                    return Ok((text.trim().to_owned(), false));
                }
                if Instant::now() > deadline {
                    return Err(step(
                        "reading the lab password",
                        format!("{} is empty", path.display()),
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err(e) => Err(io_err(path)(e)),
    }
}

fn random_password() -> Result<String, LabError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(io_err("/dev/urandom"))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

fn site_address(octet: u8, index: usize) -> Ipv4Addr {
    // 200 sites per third octet keeps every address's last octet in 1..=200.
    Ipv4Addr::new(127, octet, (index / 200) as u8, (index % 200 + 1) as u8)
}

/// Tier of the i-th lab site: the first 2 % are test sites (3), the next 10 % mission
/// critical (1), the rest standard (2) — the shape a default canary plan expects.
fn tier_of(index: usize, sites: usize) -> u8 {
    let test = (sites / 50).max(1);
    let critical = (sites / 10).max(1);
    if index < test {
        3
    } else if index < test + critical {
        1
    } else {
        2
    }
}

/// Starts a lab. The root directory is created (or must be empty of a running lab). If any
/// step fails, whatever was already started is stopped again.
pub fn up(spec: &LabSpec) -> Result<Manifest, LabError> {
    let result = start(spec);
    if result.is_err() && spec.root.join(MANIFEST).exists() {
        match down(&spec.root) {
            Ok(report) if report.survivors.is_empty() => {}
            Ok(report) => tracing::error!("a failed lab start left {:?} running", report.survivors),
            Err(e) => tracing::error!("could not stop a failed lab start: {e}"),
        }
    }
    result
}

/// As root, sites run as the lab user, which must be able to reach the lab's directory.
fn check_reachable(root: &Path) -> Result<(), LabError> {
    use std::os::unix::fs::PermissionsExt as _;
    for dir in root.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(dir) else {
            continue;
        };
        if meta.permissions().mode() & 0o001 == 0 {
            return Err(step(
                "checking the lab directory",
                format!(
                    "{} (mode {:o}) is closed to others, so the lab user {LAB_USER} cannot reach {}; \
                     choose --root under a directory such as /var/tmp",
                    dir.display(),
                    meta.permissions().mode() & 0o777,
                    root.display()
                ),
            ));
        }
    }
    Ok(())
}

fn start(spec: &LabSpec) -> Result<Manifest, LabError> {
    if !(1..=50_000).contains(&spec.sites) {
        return Err(LabError::SiteCount(spec.sites));
    }
    if spec.bad > spec.sites {
        return Err(LabError::TooManyBad {
            bad: spec.bad,
            sites: spec.sites,
        });
    }
    for (path, name) in [(SSHD, "sshd"), (SFTP_SERVER, "sftp-server")] {
        if !Path::new(path).exists() {
            return Err(LabError::Missing(name));
        }
    }
    let profiles = assign_profiles(&spec.profiles, spec.sites)?;
    let has = |p: Profile| profiles.contains(&p);
    if has(Profile::Dropbear) || has(Profile::Busybox) {
        for (path, package) in [(DROPBEAR, "dropbear-bin"), (DROPBEARKEY, "dropbear-bin")] {
            if !Path::new(path).exists() {
                return Err(LabError::ProfileMissing("dropbear", package));
            }
        }
        if !is_root() {
            let which = if has(Profile::Dropbear) {
                "dropbear"
            } else {
                "busybox"
            };
            return Err(LabError::ProfileNeedsRoot(which));
        }
    }
    if has(Profile::Busybox) && !Path::new(BUSYBOX).exists() {
        return Err(LabError::ProfileMissing("busybox", "busybox"));
    }
    if spec.root.join(MANIFEST).exists() {
        return Err(LabError::AlreadyUp(spec.root.clone()));
    }
    let root = std::path::absolute(&spec.root).map_err(io_err(&spec.root))?;
    for dir in ["sites", "sshd", "secrets", "bin"] {
        std::fs::create_dir_all(root.join(dir)).map_err(io_err(root.join(dir)))?;
    }
    set_mode(&root, 0o755)?;
    set_mode(&root.join("secrets"), 0o700)?;

    let root_user = is_root();
    if root_user {
        check_reachable(&root)?;
    }
    let mut lab_password_text = None;
    let (user, password_auth) = if root_user {
        let created = ensure_lab_user()?;
        let (password, made) = lab_password()?;
        if created || made {
            set_password(LAB_USER, &password)?;
        }
        lab_password_text = Some(password);
        (LAB_USER.to_owned(), true)
    } else {
        (
            run("id -un", Command::new("id").arg("-un"))?
                .trim()
                .to_owned(),
            false,
        )
    };
    if root_user {
        // sshd's privilege-separation directory; Debian's service unit makes it at boot.
        std::fs::create_dir_all("/run/sshd").map_err(io_err("/run/sshd"))?;
    }

    let mut manifest = Manifest {
        root: root.clone(),
        user: user.clone(),
        ssh_port: match spec.ssh_port {
            Some(p) => p,
            None => free_port()?,
        },
        http_port: match spec.http_port {
            Some(p) => p,
            None => free_port()?,
        },
        password_auth,
        sites: Vec::with_capacity(spec.sites),
        groups: Vec::new(),
        health_pid: None,
    };

    // Client key and password.
    let key = manifest.client_key();
    run(
        "ssh-keygen (client key)",
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "guardia-lab", "-f"])
            .arg(&key),
    )?;
    let public = std::fs::read_to_string(key.with_extension("pub")).map_err(io_err(&key))?;
    let authorized = root.join("authorized_keys");
    std::fs::write(&authorized, &public).map_err(io_err(&authorized))?;
    set_mode(&authorized, 0o644)?;
    let mut public_keys = vec![public.trim().to_owned()];
    if has(Profile::LegacyOpenssh) {
        let rsa = manifest.rsa_client_key();
        run(
            "ssh-keygen (RSA client key)",
            Command::new("ssh-keygen")
                .args([
                    "-q",
                    "-t",
                    "rsa",
                    "-b",
                    "2048",
                    "-N",
                    "",
                    "-C",
                    "guardia-lab-rsa",
                    "-f",
                ])
                .arg(&rsa),
        )?;
        let rsa_public =
            std::fs::read_to_string(rsa.with_extension("pub")).map_err(io_err(&rsa))?;
        public_keys.push(rsa_public.trim().to_owned());
        std::fs::write(&authorized, public_keys.join("\n") + "\n").map_err(io_err(&authorized))?;
    }
    if let Some(password) = lab_password_text {
        let file = manifest.password_file();
        std::fs::write(&file, &password).map_err(io_err(&file))?;
        set_mode(&file, 0o600)?;
    }
    write_scripts(&root, has(Profile::Busybox))?;

    // Sites, and one server per group of sites of a profile.
    let bad: BTreeSet<usize> = (0..spec.bad).map(|k| spec.sites - 1 - k).collect();
    let mut filling: std::collections::HashMap<Profile, (usize, usize)> = Default::default();
    for (i, profile) in profiles.iter().copied().enumerate() {
        let name = format!("lab-{:04}", i + 1);
        let group = match filling.get_mut(&profile) {
            Some((g, members)) if *members < profile.per_server() => {
                *members += 1;
                *g
            }
            _ => {
                let g = manifest.groups.len();
                manifest.groups.push(new_group(&root, g, profile)?);
                filling.insert(profile, (g, 1));
                g
            }
        };
        let site = LabSite {
            dir: root.join("sites").join(&name),
            name,
            address: site_address(spec.octet, i),
            tier: tier_of(i, spec.sites),
            group,
            bad: bad.contains(&i),
            ssh_down: false,
            profile,
        };
        make_site(&site)?;
        if profile == Profile::Busybox {
            let by_address = root.join("sites/by-address");
            std::fs::create_dir_all(&by_address).map_err(io_err(&by_address))?;
            let link = by_address.join(site.address.to_string());
            std::os::unix::fs::symlink(&site.dir, &link).map_err(io_err(&link))?;
        }
        manifest.sites.push(site);
    }
    if root_user {
        run(
            "chown sites",
            Command::new("chown")
                .arg("-R")
                .arg(format!("{user}:"))
                .arg(root.join("sites")),
        )?;
    }

    manifest.save()?;
    // After the manifest exists: a start failing from here on is taken down again, which
    // takes these keys out of the lab user's home too.
    if has(Profile::Dropbear) || has(Profile::Busybox) {
        dropbear_keys::authorize(&user, &public_keys)?;
    }
    for g in 0..manifest.groups.len() {
        start_group(&mut manifest, g)?;
    }
    manifest.save()?;

    // Applications, then the health endpoint.
    for site in &manifest.sites {
        start_app(&manifest, site)?;
    }
    if let Some(command) = &spec.health_server {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| step("starting the health endpoint", "empty command"))?;
        let log = root.join("health.log");
        let log_file = std::fs::File::create(&log).map_err(io_err(&log))?;
        let child = Command::new(program)
            .args(args)
            .env("GUARDIA_LAB_ROOT", &root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| step("starting the health endpoint", e))?;
        manifest.health_pid = Some(child.id());
        manifest.save()?;
        for site in [manifest.sites.first(), manifest.sites.last()]
            .into_iter()
            .flatten()
        {
            wait_listening(
                SocketAddr::from((site.address, manifest.http_port)),
                Duration::from_secs(20),
                "the health endpoint",
            )?;
        }
    }
    write_known_hosts(&manifest)?;
    write_inventory(&manifest)?;
    Ok(manifest)
}

fn remove_if_exists(path: &Path) -> Result<(), LabError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(path)(e)),
        _ => Ok(()),
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), LabError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io_err(path))
}

/// Creates the lab user unless it exists; true when this call created it.
fn ensure_lab_user() -> Result<bool, LabError> {
    if Command::new("id")
        .arg(LAB_USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
    {
        return Ok(false);
    }
    let status = Command::new("useradd")
        .args([
            "--system",
            "--create-home",
            "--home-dir",
            "/var/lib/guardia-lab",
            "--shell",
            "/bin/sh",
            LAB_USER,
        ])
        .status()
        .map_err(|e| step("useradd guardia-lab", e))?;
    // 9: the user exists — a lab started in parallel created it first.
    match status.code() {
        Some(0) => Ok(true),
        Some(9) => Ok(false),
        _ => Err(step("useradd guardia-lab", status)),
    }
}

fn set_password(user: &str, password: &str) -> Result<(), LabError> {
    use std::io::Write as _;
    let mut child = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| step("chpasswd", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{user}:{password}").map_err(|e| step("chpasswd", e))?;
    }
    let out = child.wait_with_output().map_err(|e| step("chpasswd", e))?;
    if !out.status.success() {
        return Err(step(
            "chpasswd",
            String::from_utf8_lossy(&out.stderr).trim(),
        ));
    }
    Ok(())
}

/// Scripts shared by every site, in `ROOT/bin`.
fn write_scripts(root: &Path, busybox: bool) -> Result<(), LabError> {
    let bin = root.join("bin");
    let no_sftp = "case \"$SSH_ORIGINAL_COMMAND\" in\n\
        \t*sftp-server|sftp) echo 'this appliance has no SFTP subsystem' >&2; exit 1;;\n\
        esac\n";
    let scripts = [
        // Runs a session's command after a delay when the site has the `slow` fault. sshd
        // runs it as ForceCommand for slow sites only.
        (
            "slow-shell",
            "#!/bin/sh\nsleep 3\nexec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n".to_owned(),
        ),
        // Legacy sites: what an old server's login prints (a last-login line on stdout, an
        // stty complaint on stderr), then the command under tcsh, the login shell of many
        // old Unix accounts. SFTP goes straight through.
        (
            "legacy-shell",
            "#!/bin/sh\n\
             case \"$SSH_ORIGINAL_COMMAND\" in */sftp-server) exec \"$SSH_ORIGINAL_COMMAND\";; esac\n\
             echo 'Last login: Tue Mar  4 09:12:44 2014 from 10.1.2.3'\n\
             printf 'Welcome to a CentOS 6 era server'\n\
             echo 'stty: standard input: Inappropriate ioctl for device' >&2\n\
             if [ -x /usr/bin/tcsh ]; then exec /usr/bin/tcsh -c \"$SSH_ORIGINAL_COMMAND\"; fi\n\
             exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n"
                .to_owned(),
        ),
        // Dropbear sites: no SFTP (an appliance without sftp-server).
        (
            "dropbear-shell",
            format!("#!/bin/sh\n{no_sftp}exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n"),
        ),
        // BusyBox sites: ash as the shell, BusyBox applets only on the PATH, no `setsid`
        // link; with the no-process-group fault not even `busybox` itself.
        (
            "busybox-shell",
            format!(
                "#!/bin/sh\n{no_sftp}\
                 set -- $SSH_CONNECTION\n\
                 PATH={root}/busybox/bin\n\
                 if [ -f \"{root}/sites/by-address/$3/fault/no_process_group\" ]; then PATH={root}/busybox/bare; fi\n\
                 export PATH\n\
                 exec {root}/busybox/bin/ash -c \"$SSH_ORIGINAL_COMMAND\"\n",
                root = root.display()
            ),
        ),
    ];
    let banner = bin.join("banner.txt");
    std::fs::write(
        &banner,
        "*** Authorized use only. This server is monitored (lab legacy site). ***\n",
    )
    .map_err(io_err(&banner))?;
    for (name, body) in scripts {
        let path = bin.join(name);
        std::fs::write(&path, body).map_err(io_err(&path))?;
        set_mode(&path, 0o755)?;
    }
    if busybox {
        let applets = run("busybox --list", Command::new(BUSYBOX).arg("--list"))?;
        for dir in ["bin", "bare"] {
            let dir = root.join("busybox").join(dir);
            std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            for applet in applets.lines().map(str::trim) {
                if applet.is_empty() || applet == "setsid" {
                    continue;
                }
                let link = dir.join(applet);
                std::os::unix::fs::symlink(BUSYBOX, &link).map_err(io_err(&link))?;
            }
            if dir.ends_with("bin") {
                let link = dir.join("busybox");
                std::os::unix::fs::symlink(BUSYBOX, &link).map_err(io_err(&link))?;
            }
        }
    }
    Ok(())
}

/// Dropbear reads login keys only from `~USER/.ssh/authorized_keys`: the lab's keys are
/// added there (under a lock, labs run side by side) and taken out again by `lab down`.
mod dropbear_keys {
    use super::{LabError, io_err};
    use std::io::Write as _;
    use std::path::PathBuf;

    fn home_of(user: &str) -> Result<PathBuf, LabError> {
        let passwd = std::fs::read_to_string("/etc/passwd").map_err(io_err("/etc/passwd"))?;
        passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&user) && f.len() > 5)
            .map(|f| PathBuf::from(f[5]))
            .ok_or_else(|| super::step("finding the lab user's home", user))
    }

    fn with_locked<T>(
        user: &str,
        edit: impl FnOnce(&mut std::fs::File, &str) -> Result<T, LabError>,
    ) -> Result<T, LabError> {
        let dir = home_of(user)?.join(".ssh");
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        super::set_mode(&dir, 0o755)?;
        let path = dir.join("authorized_keys");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err(&path))?;
        super::set_mode(&path, 0o644)?;
        file.lock()
            .map_err(|e| super::step("locking authorized_keys", e))?;
        let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        edit(&mut file, &text)
    }

    pub(super) fn authorize(user: &str, keys: &[String]) -> Result<(), LabError> {
        with_locked(user, |file, _| {
            let mut text = keys.join("\n");
            text.push('\n');
            file.write_all(text.as_bytes())
                .map_err(|e| super::step("adding the lab's keys for Dropbear", e))
        })
    }

    pub(super) fn remove(user: &str, keys: &[String]) -> Result<(), LabError> {
        with_locked(user, |file, text| {
            // One line per key this lab added: another lab may have added the same key.
            let mut left: Vec<&str> = keys.iter().map(|k| k.trim()).collect();
            let kept: String = text
                .lines()
                .filter(|l| match left.iter().position(|k| *k == l.trim()) {
                    Some(at) => {
                        left.remove(at);
                        false
                    }
                    None => true,
                })
                .map(|l| format!("{l}\n"))
                .collect();
            file.set_len(0)
                .and_then(|()| file.write_all(kept.as_bytes()))
                .map_err(|e| super::step("removing the lab's keys for Dropbear", e))
        })
    }
}

fn make_site(site: &LabSite) -> Result<(), LabError> {
    let app = site.app_dir();
    for dir in [
        app.join("logs"),
        app.join("bin"),
        site.deploy_dir(),
        site.dir.join("fault"),
        site.dir.join("backup"),
    ] {
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    }
    let files: [(&str, String, u32); 6] = [
        ("VERSION", "1.0.0\n".into(), 0o644),
        ("INITIAL_VERSION", "1.0.0\n".into(), 0o644),
        (
            "startup.sh",
            // The "service" is a long sleep in its own session, so stopping it is a kill of
            // one pid and it survives the SSH session that started it.
            "#!/bin/sh\n\
             cd \"$(dirname \"$0\")\" || exit 1\n\
             if [ -f app.pid ] && kill -0 \"$(cat app.pid)\" 2>/dev/null; then\n\
             \techo \"already running as $(cat app.pid)\"; exit 0\n\
             fi\n\
             setsid sleep 100000000 </dev/null >/dev/null 2>&1 &\n\
             echo $! > app.pid\n\
             echo \"$(date -u +%Y-%m-%dT%H:%M:%SZ) INFO started pid $! version $(cat VERSION)\" >> logs/service.log\n\
             echo \"started $!\"\n"
                .into(),
            0o755,
        ),
        (
            "shutdown.sh",
            "#!/bin/sh\n\
             cd \"$(dirname \"$0\")\" || exit 1\n\
             if [ -f app.pid ]; then\n\
             \tpid=$(cat app.pid)\n\
             \tkill \"$pid\" 2>/dev/null\n\
             \ti=0; while kill -0 \"$pid\" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done\n\
             \trm -f app.pid\n\
             \techo \"$(date -u +%Y-%m-%dT%H:%M:%SZ) INFO stopped pid $pid\" >> logs/service.log\n\
             fi\n\
             echo stopped\n"
                .into(),
            0o755,
        ),
        (
            "bin/disk-free",
            // Free megabytes where the app lives; the disk-full fault makes it report none.
            format!(
                "#!/bin/sh\n\
                 if [ -f '{fault}/disk_full' ]; then echo 0; exit 0; fi\n\
                 df -Pm \"$(dirname \"$0\")\" | awk 'NR==2 {{print $4}}'\n",
                fault = site.dir.join("fault").display()
            ),
            0o755,
        ),
        ("logs/service.log", String::new(), 0o644),
    ];
    for (name, body, mode) in files {
        let path = app.join(name);
        std::fs::write(&path, body).map_err(io_err(&path))?;
        set_mode(&path, mode)?;
    }
    if site.bad {
        let path = site.dir.join("bad");
        std::fs::write(&path, "fails health after a version change\n").map_err(io_err(&path))?;
    }
    Ok(())
}

fn host_key_file(group: &SshdGroup) -> PathBuf {
    group.dir.join(match group.profile {
        Profile::Openssh => "ssh_host_ed25519_key",
        Profile::LegacyOpenssh => "ssh_host_rsa_key",
        Profile::Dropbear | Profile::Busybox => "dropbear_ed25519_host_key",
    })
}

fn new_group(root: &Path, index: usize, profile: Profile) -> Result<SshdGroup, LabError> {
    let dir = root.join("sshd").join(format!("g{index:04}"));
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let mut group = SshdGroup {
        dir,
        pid: None,
        host_key: String::new(),
        profile,
    };
    let key = host_key_file(&group);
    remove_if_exists(&key)?;
    remove_if_exists(&key.with_extension("pub"))?;
    let public = if profile.is_dropbear() {
        run(
            "dropbearkey (host key)",
            Command::new(DROPBEARKEY)
                .args(["-t", "ed25519", "-f"])
                .arg(&key),
        )?;
        run(
            "dropbearkey -y",
            Command::new(DROPBEARKEY).arg("-y").arg("-f").arg(&key),
        )?
        .lines()
        .find(|l| l.starts_with("ssh-"))
        .map(str::to_owned)
        .ok_or_else(|| step("dropbearkey -y", "no public key line"))?
    } else {
        let (kind, bits) = match profile {
            Profile::LegacyOpenssh => ("rsa", "2048"),
            _ => ("ed25519", "256"),
        };
        run(
            "ssh-keygen (host key)",
            Command::new("ssh-keygen")
                .args(["-q", "-t", kind, "-b", bits, "-N", "", "-C", "", "-f"])
                .arg(&key),
        )?;
        std::fs::read_to_string(key.with_extension("pub")).map_err(io_err(&key))?
    };
    group.host_key = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(group)
}

fn write_group_config(manifest: &Manifest, g: usize) -> Result<Vec<Ipv4Addr>, LabError> {
    let group = &manifest.groups[g];
    let members: Vec<&LabSite> = manifest
        .sites
        .iter()
        .filter(|s| s.group == g && !s.ssh_down)
        .collect();
    let mut cfg = String::new();
    cfg.push_str(&format!("Port {}\n", manifest.ssh_port));
    for site in &members {
        cfg.push_str(&format!("ListenAddress {}\n", site.address));
    }
    let root = &manifest.root;
    if group.profile == Profile::LegacyOpenssh {
        // What OpenSSH 5.3 (CentOS 6) offers, and nothing newer.
        cfg.push_str(&format!(
            "KexAlgorithms diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1\n\
             HostKeyAlgorithms ssh-rsa\n\
             PubkeyAcceptedAlgorithms ssh-rsa\n\
             Ciphers aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,aes256-cbc\n\
             MACs hmac-sha1\n\
             Banner {banner}\n\
             ForceCommand {root}/bin/legacy-shell\n",
            banner = root.join("bin/banner.txt").display(),
            root = root.display()
        ));
    }
    cfg.push_str(&format!(
        "HostKey {key}\n\
         PidFile {pid}\n\
         AuthorizedKeysFile {root}/authorized_keys\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication {pw}\n\
         KbdInteractiveAuthentication no\n\
         UsePAM no\n\
         PermitRootLogin prohibit-password\n\
         AllowUsers {user}\n\
         StrictModes no\n\
         MaxStartups 200:30:400\n\
         MaxSessions 32\n\
         LoginGraceTime 30\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         UseDNS no\n\
         LogLevel ERROR\n\
         Subsystem sftp {sftp}\n",
        key = host_key_file(group).display(),
        pid = group.dir.join("sshd.pid").display(),
        root = root.display(),
        pw = if manifest.password_auth { "yes" } else { "no" },
        user = manifest.user,
        sftp = SFTP_SERVER,
    ));
    for site in &members {
        if site.dir.join("fault/slow").exists() {
            cfg.push_str(&format!(
                "Match LocalAddress {}\n\tForceCommand {}/bin/slow-shell\n",
                site.address,
                root.display()
            ));
        }
    }
    let path = group.dir.join("sshd_config");
    std::fs::write(&path, cfg).map_err(io_err(&path))?;
    Ok(members.iter().map(|s| s.address).collect())
}

fn start_group(manifest: &mut Manifest, g: usize) -> Result<(), LabError> {
    if manifest.groups[g].profile.is_dropbear() {
        return start_dropbear(manifest, g);
    }
    let addresses = write_group_config(manifest, g)?;
    let group = &manifest.groups[g];
    if addresses.is_empty() {
        return Ok(());
    }
    let pid_file = group.dir.join("sshd.pid");
    let log = group.dir.join("sshd.log");
    // Daemon mode: sshd forks, listens, then writes its pid file — the pid file is the
    // readiness signal. Under a loaded test run a daemon has (rarely) vanished before
    // writing it; a second start is cheap, and a second failure says what sshd logged.
    let mut attempt = 1;
    let pid = loop {
        remove_if_exists(&pid_file)?;
        run(
            "starting sshd",
            Command::new(SSHD)
                .arg("-f")
                .arg(group.dir.join("sshd_config"))
                .arg("-E")
                .arg(&log)
                .env("GUARDIA_LAB_ROOT", &manifest.root),
        )?;
        match wait_pid_file(&pid_file, Duration::from_secs(20)) {
            Ok(pid) => break pid,
            Err(e) if attempt < 2 => {
                tracing::warn!("sshd of group {g} did not come up ({e}); starting it again");
                attempt += 1;
            }
            Err(e) => {
                let logged = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = logged.lines().rev().take(5).collect();
                return Err(step(
                    "starting sshd",
                    format!("{e:?}; sshd.log ends: {}", tail.join(" | ")),
                ));
            }
        }
    };
    manifest.groups[g].pid = Some(pid);
    Ok(())
}

/// Starts the Dropbear of a Dropbear or BusyBox group (it forks, then writes its pid file).
fn start_dropbear(manifest: &mut Manifest, g: usize) -> Result<(), LabError> {
    let group = &manifest.groups[g];
    let root = &manifest.root;
    let mut cmd = Command::new(DROPBEAR);
    cmd.arg("-r").arg(host_key_file(group));
    let mut listening = 0;
    for site in manifest
        .sites
        .iter()
        .filter(|s| s.group == g && !s.ssh_down)
    {
        cmd.arg("-p")
            .arg(format!("{}:{}", site.address, manifest.ssh_port));
        listening += 1;
    }
    if listening == 0 {
        return Ok(());
    }
    let shell = if group.profile == Profile::Busybox {
        "busybox-shell"
    } else {
        "dropbear-shell"
    };
    let pid_file = group.dir.join("dropbear.pid");
    remove_if_exists(&pid_file)?;
    cmd.arg("-P")
        .arg(&pid_file)
        .arg("-c")
        .arg(root.join("bin").join(shell))
        .args(["-w", "-m", "-E", "-K", "15"]);
    if !manifest.password_auth {
        cmd.arg("-s");
    }
    let log = group.dir.join("dropbear.log");
    let log_file = std::fs::File::create(&log).map_err(io_err(&log))?;
    let status = cmd
        .env("GUARDIA_LAB_ROOT", root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .status()
        .map_err(|e| step("starting dropbear", e))?;
    if !status.success() {
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(step(
            "starting dropbear",
            format!("{status}: {}", logged.trim()),
        ));
    }
    let pid = wait_pid_file(&pid_file, Duration::from_secs(20))?;
    manifest.groups[g].pid = Some(pid);
    Ok(())
}

/// Re-reads a group's config (sshd re-executes itself on SIGHUP, keeping its pid) and waits
/// until the change is visible from outside.
fn reload_group(manifest: &mut Manifest, g: usize) -> Result<(), LabError> {
    let addresses = write_group_config(manifest, g)?;
    let Some(pid) = manifest.groups[g].pid else {
        return start_group(manifest, g);
    };
    if addresses.is_empty() {
        procs::stop(&[pid], Duration::from_secs(5));
        manifest.groups[g].pid = None;
        return Ok(());
    }
    let pid_file = manifest.groups[g].dir.join("sshd.pid");
    remove_if_exists(&pid_file)?;
    procs::signal(pid, rustix::process::Signal::HUP);
    wait_pid_file(&pid_file, Duration::from_secs(20))?;
    Ok(())
}

fn wait_pid_file(path: &Path, limit: Duration) -> Result<u32, LabError> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return Ok(pid);
        }
        if Instant::now() > deadline {
            return Err(step(
                "starting sshd",
                format!("no pid file {} after {:?}", path.display(), limit),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_listening(addr: SocketAddr, limit: Duration, what: &str) -> Result<(), LabError> {
    let deadline = Instant::now() + limit;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(step(
                format!("waiting for {what}"),
                format!("{addr} not listening"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_refused(addr: SocketAddr, limit: Duration) -> Result<(), LabError> {
    let deadline = Instant::now() + limit;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(step(
                "stopping sshd for a site",
                format!("{addr} still accepts"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start_app(manifest: &Manifest, site: &LabSite) -> Result<(), LabError> {
    let script = site.app_dir().join("startup.sh");
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", &manifest.user, "--"]).arg(&script);
        c
    } else {
        Command::new(&script)
    };
    run(
        &format!("starting the app of {}", site.name),
        cmd.env("GUARDIA_LAB_ROOT", &manifest.root),
    )
    .map(drop)
}

fn write_known_hosts(manifest: &Manifest) -> Result<(), LabError> {
    let mut text = String::new();
    for site in &manifest.sites {
        text.push_str(&format!(
            "[{}]:{} {}\n",
            site.address,
            manifest.ssh_port,
            manifest.host_key_of(site)
        ));
    }
    let path = manifest.known_hosts();
    std::fs::write(&path, text).map_err(io_err(path))
}

/// Writes the lab as an inventory CSV (format: docs/inventory.md).
fn write_inventory(manifest: &Manifest) -> Result<(), LabError> {
    let mut text = String::from(INVENTORY_HEADER);
    text.push('\n');
    for site in &manifest.sites {
        let app = site.app_dir();
        text.push_str(&format!(
            "GUARDiA Lab,lab-app,{name},{tier},{name},{addr},{port},{user},key,{credential},{os},\
             {app},{deploy},{http},{http},http://{addr}:{http}/health,200,2000,sleep,{log},ERROR|FATAL,lab{bad}{ptag}\n",
            name = site.name,
            tier = site.tier,
            addr = site.address,
            port = manifest.ssh_port,
            user = manifest.user,
            app = app.display(),
            deploy = site.deploy_dir().display(),
            http = manifest.http_port,
            log = site.log_file().display(),
            bad = if site.bad { ";bad" } else { "" },
            credential = site.profile.credential(),
            ptag = match site.profile {
                Profile::Openssh => String::new(),
                p => format!(";{}", p.as_str()),
            },
            os = match site.profile {
                Profile::Openssh => "Debian 12",
                Profile::LegacyOpenssh => "CentOS 6 (lab)",
                Profile::Dropbear => "Dropbear appliance (lab)",
                Profile::Busybox => "BusyBox appliance (lab)",
            },
        ));
    }
    let path = manifest.inventory();
    std::fs::write(&path, text).map_err(io_err(path))
}

/// The inventory CSV header, in column order (docs/inventory.md).
pub const INVENTORY_HEADER: &str = "institution,system,site,tier,server,address,port,user,auth,credential,os,app_path,deploy_path,service_port,health_tcp_port,health_http_url,health_http_status,health_http_max_ms,health_process,health_log_file,health_log_error_pattern,tags";

/// Injects (or clears) a fault on one site.
pub fn fault(root: &Path, site_name: &str, fault: Fault) -> Result<(), LabError> {
    let mut manifest = Manifest::load(root)?;
    let index = manifest
        .sites
        .iter()
        .position(|s| s.name == site_name)
        .ok_or_else(|| LabError::NoSuchSite(site_name.to_owned()))?;
    let site = manifest.sites[index].clone();
    let addr = SocketAddr::from((site.address, manifest.ssh_port));
    let unsupported = match fault {
        // Dropbear cannot re-read its listeners or keys: these faults need an sshd.
        Fault::SshdDown | Fault::Slow | Fault::HostKeyChanged => site.profile.is_dropbear(),
        Fault::NoProcessGroup => site.profile != Profile::Busybox,
        _ => false,
    };
    if unsupported {
        return Err(LabError::FaultUnsupported {
            fault: fault.as_str(),
            profile: site.profile.as_str(),
        });
    }
    match fault {
        Fault::SshdDown => {
            manifest.sites[index].ssh_down = true;
            reload_group(&mut manifest, site.group)?;
            manifest.save()?;
            wait_refused(addr, Duration::from_secs(20))?;
        }
        Fault::HostKeyChanged => {
            // The site moves to an sshd of its own with a fresh key.
            let g = manifest.groups.len();
            let group = new_group(&manifest.root, g, site.profile)?;
            manifest.groups.push(group);
            manifest.sites[index].group = g;
            reload_group(&mut manifest, site.group)?;
            start_group(&mut manifest, g)?;
            manifest.save()?;
            wait_listening(addr, Duration::from_secs(20), "sshd with the new key")?;
        }
        Fault::Slow | Fault::Health503 | Fault::DiskFull | Fault::NoProcessGroup => {
            let Some(flag) = fault.flag() else {
                return Ok(());
            };
            let path = site.dir.join("fault").join(flag);
            std::fs::write(&path, "").map_err(io_err(&path))?;
            if fault == Fault::Slow {
                reload_group(&mut manifest, site.group)?;
            }
        }
        Fault::Clear => {
            let was_slow = site.dir.join("fault/slow").exists();
            for f in Fault::ALL {
                if let Some(flag) = f.flag() {
                    remove_if_exists(&site.dir.join("fault").join(flag))?;
                }
            }
            if site.ssh_down || was_slow {
                manifest.sites[index].ssh_down = false;
                reload_group(&mut manifest, site.group)?;
                manifest.save()?;
                wait_listening(addr, Duration::from_secs(20), "sshd")?;
            }
        }
    }
    Ok(())
}

/// What [`down`] stopped.
#[derive(Debug, Clone, Default)]
pub struct DownReport {
    pub stopped: usize,
    /// Processes that would not die even after SIGKILL (should be none).
    pub survivors: Vec<u32>,
}

/// Stops everything the lab started, and whatever sessions on lab sites left running, by pid.
/// The lab directory stays (logs, inventory) but no longer counts as a running lab.
pub fn down(root: &Path) -> Result<DownReport, LabError> {
    let manifest = Manifest::load(root)?;
    let pids = procs::lab_processes(&manifest);
    let survivors = procs::stop(&pids, Duration::from_secs(5));
    if manifest.sites.iter().any(|s| s.profile.is_dropbear()) {
        match std::fs::read_to_string(manifest.root.join("authorized_keys")) {
            Ok(keys) => {
                let keys: Vec<String> = keys.lines().map(str::to_owned).collect();
                if let Err(e) = dropbear_keys::remove(&manifest.user, &keys) {
                    tracing::warn!("{e}");
                }
            }
            Err(e) => tracing::warn!("the lab's keys stay in the lab user's home: {e}"),
        }
    }
    let path = manifest.root.join(MANIFEST);
    let stopped_path = manifest.root.join("lab.stopped.json");
    std::fs::rename(&path, &stopped_path).map_err(io_err(path))?;
    Ok(DownReport {
        stopped: pids.len() - survivors.len(),
        survivors,
    })
}
