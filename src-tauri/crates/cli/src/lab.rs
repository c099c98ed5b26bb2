//! `guardia lab …`: a fleet of fake sites behind real sshd on this machine (guardia-lab).

use std::path::PathBuf;

use clap::Subcommand;
use guardia_lab::{Fault, LabSpec, Manifest};

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Start N fake sites (real sshd on 127.20.x.y, app dirs, health endpoints)
    Up {
        /// How many sites
        #[arg(long, default_value_t = 10)]
        sites: usize,
        /// How many of them fail health after a new version
        #[arg(long, default_value_t = 0)]
        bad: usize,
        /// Where the lab lives [default: /var/tmp/guardia-lab-UID]
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// SSH port on every site address [default: a free one]
        #[arg(long)]
        ssh_port: Option<u16>,
        /// HTTP health port on every site address [default: a free one]
        #[arg(long)]
        http_port: Option<u16>,
        /// Which SSH server the sites run, repeatable and mixable: openssh, legacy-openssh
        /// (OpenSSH 5.3 algorithms, tcsh, login noise), dropbear (no SFTP), busybox (Dropbear
        /// with a BusyBox ash login shell); `PROFILE:N` gives N sites that profile, a profile
        /// without a count takes the rest [default: openssh]
        #[arg(long = "profile", value_name = "PROFILE[:N]")]
        profiles: Vec<guardia_lab::ProfileCount>,
        /// Do not add the lab to the console's inventory (by default its servers, host keys
        /// and login key are imported, so the console can be tried on it at once)
        #[arg(long)]
        no_import: bool,
    },
    /// Stop everything the lab started (by pid)
    Down {
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Inject a fault: sshd-down, slow, health-503, disk-full, host-key-changed,
    /// no-process-group (BusyBox sites), clear
    Fault {
        /// Site name, e.g. lab-0003
        site: String,
        /// The fault
        kind: Fault,
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Show the running lab
    Status {
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// (internal) serve the sites' HTTP health endpoints until stopped
    #[command(hide = true)]
    ServeHealth {
        #[arg(long, value_name = "DIR")]
        root: PathBuf,
    },
}

/// The lab's default home (guardia_lab::default_root): outside any home directory, because
/// as root the sites run as the `guardia-lab` user, which must be able to reach it.
fn default_root(_data_dir: Option<PathBuf>) -> Result<PathBuf, String> {
    Ok(guardia_lab::default_root())
}

pub async fn run(
    command: LabCommand,
    data_dir: Option<PathBuf>,
    user: Option<&str>,
    json: bool,
) -> Result<(), String> {
    let root_or_default = |root: Option<PathBuf>| match root {
        Some(r) => Ok(r),
        None => default_root(data_dir.clone()),
    };
    match command {
        LabCommand::Up {
            sites,
            bad,
            root,
            ssh_port,
            http_port,
            profiles,
            no_import,
        } => {
            let root = root_or_default(root)?;
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut spec = LabSpec::new(&root, sites);
            spec.bad = bad;
            spec.ssh_port = ssh_port;
            spec.http_port = http_port;
            spec.profiles = profiles;
            spec.health_server = Some(vec![
                exe.display().to_string(),
                "lab".into(),
                "serve-health".into(),
                "--root".into(),
                std::path::absolute(&root)
                    .map_err(|e| e.to_string())?
                    .display()
                    .to_string(),
            ]);
            let started = std::time::Instant::now();
            let manifest = tokio::task::spawn_blocking(move || guardia_lab::up(&spec))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            let adopted = if no_import {
                None
            } else {
                Some(adopt(&manifest, data_dir.clone(), user).await?)
            };
            if json {
                print_json(&manifest)?;
            } else {
                if let Some(note) = adopted {
                    println!("{note}");
                }
                println!(
                    "lab up: {} sites ({} bad) on {}.x.y port {} as `{}`, {} sshd, in {:.1} s",
                    manifest.sites.len(),
                    manifest.sites.iter().filter(|s| s.bad).count(),
                    first_octets(&manifest),
                    manifest.ssh_port,
                    manifest.user,
                    manifest.groups.len(),
                    started.elapsed().as_secs_f32()
                );
                println!("  inventory:   {}", manifest.inventory().display());
                println!("  known_hosts: {}", manifest.known_hosts().display());
                println!("  client key:  {}", manifest.client_key().display());
                let mut mix: Vec<String> = Vec::new();
                for profile in guardia_lab::Profile::ALL {
                    let n = manifest
                        .sites
                        .iter()
                        .filter(|s| s.profile == profile)
                        .count();
                    if n > 0 {
                        mix.push(format!("{n} {}", profile.as_str()));
                    }
                }
                println!("  profiles:    {}", mix.join(", "));
                let legacy = manifest
                    .sites
                    .iter()
                    .filter(|s| s.profile == guardia_lab::Profile::LegacyOpenssh)
                    .count();
                if legacy > 0 {
                    println!(
                        "  legacy:      {legacy} sites offer only SHA-1-era algorithms; an admin allows \
                         them per server: guardia inventory legacy-crypto SERVER on --reason …"
                    );
                }
                println!(
                    "  stop with:   guardia lab down --root {}",
                    manifest.root.display()
                );
            }
            Ok(())
        }
        LabCommand::Down { root } => {
            let root = root_or_default(root)?;
            let report = tokio::task::spawn_blocking(move || guardia_lab::down(&root))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            if !report.survivors.is_empty() {
                return Err(format!(
                    "stopped {} processes but {} would not die: {:?}",
                    report.stopped,
                    report.survivors.len(),
                    report.survivors
                ));
            }
            println!("lab down: stopped {} processes", report.stopped);
            Ok(())
        }
        LabCommand::Fault { site, kind, root } => {
            let root = root_or_default(root)?;
            let name = site.clone();
            tokio::task::spawn_blocking(move || guardia_lab::fault(&root, &name, kind))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            println!("{site}: {}", kind.as_str());
            Ok(())
        }
        LabCommand::Status { root } => {
            let root = root_or_default(root)?;
            let manifest = Manifest::load(&root).map_err(|e| e.to_string())?;
            let processes = guardia_lab::lab_processes(&manifest);
            if json {
                return print_json(&manifest);
            }
            println!(
                "{} sites, {} sshd, {} lab processes running, ssh port {}, http port {}",
                manifest.sites.len(),
                manifest.groups.len(),
                processes.len(),
                manifest.ssh_port,
                manifest.http_port
            );
            for site in &manifest.sites {
                let mut faults: Vec<&str> = Vec::new();
                if site.ssh_down {
                    faults.push(Fault::SshdDown.as_str());
                }
                for fault in Fault::ALL {
                    if fault
                        .flag()
                        .is_some_and(|flag| site.dir.join("fault").join(flag).exists())
                    {
                        faults.push(fault.as_str());
                    }
                }
                println!(
                    "{}  {}  {}  tier {}{}  {}",
                    site.name,
                    site.address,
                    site.profile.as_str(),
                    site.tier,
                    if site.bad { "  bad" } else { "" },
                    faults.join(",")
                );
            }
            Ok(())
        }
        LabCommand::ServeHealth { root } => guardia_lab::serve_health(&root)
            .await
            .map_err(|e| e.to_string()),
    }
}

/// Adds the lab to the console's inventory: servers, pinned host keys, and the lab's login
/// key as the credential `lab-key` in the OS keyring.
/// Signs in like every other command (`--user` once anybody has been added) and needs the
/// admin's inventory, credential and host-key permissions.
async fn adopt(
    manifest: &Manifest,
    data_dir: Option<PathBuf>,
    user: Option<&str>,
) -> Result<String, String> {
    let api =
        guardia_api::Api::open(guardia_api::DataDir::locate(data_dir).map_err(|e| e.to_string())?)
            .await
            .map_err(|e| e.to_string())?;
    let caller = &crate::people::caller_for(&api, user)
        .await
        .map_err(|e| e.to_string())?;
    for permission in [
        guardia_api::Permission::EditInventory,
        guardia_api::Permission::ManageCredentials,
        guardia_api::Permission::TrustHostKeys,
    ] {
        caller.require(permission).map_err(|e| e.to_string())?;
    }
    let read =
        |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()));
    let key = read(manifest.client_key())?;
    api.credential_set(
        caller,
        guardia_ipc::CredentialInput {
            name: "lab-key".into(),
            kind: guardia_ipc::CredentialKindView::Key,
            secret: key,
            passphrase: None,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut credentials = String::from("lab-key");
    if manifest.rsa_client_key().exists() {
        api.credential_set(
            caller,
            guardia_ipc::CredentialInput {
                name: guardia_lab::Profile::LegacyOpenssh.credential().into(),
                kind: guardia_ipc::CredentialKindView::Key,
                secret: read(manifest.rsa_client_key())?,
                passphrase: None,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        credentials.push_str(" and ");
        credentials.push_str(guardia_lab::Profile::LegacyOpenssh.credential());
    }
    let report = api
        .inventory_import(
            caller,
            guardia_ipc::InventoryFile {
                format: guardia_ipc::InventoryFormat::Csv,
                text: read(manifest.inventory())?,
                institution: String::new(),
                system: String::new(),
                default_user: String::new(),
                credential: String::new(),
                map: Vec::new(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let (pinned, _) = api
        .host_keys_import(caller, &read(manifest.known_hosts())?)
        .await
        .map_err(|e| e.to_string())?;
    if let Err(e) = api
        .checkpoint_if_unsigned(caller, guardia_api::CheckpointReason::Shutdown)
        .await
    {
        tracing::warn!("no checkpoint signed: {e}");
    }
    Ok(format!(
        "console inventory: {} servers added, {} updated, {pinned} host keys pinned, credential {credentials} set",
        report.created, report.updated
    ))
}

fn first_octets(manifest: &Manifest) -> String {
    manifest
        .sites
        .first()
        .map(|s| {
            let o = s.address.octets();
            format!("{}.{}", o[0], o[1])
        })
        .unwrap_or_default()
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}
