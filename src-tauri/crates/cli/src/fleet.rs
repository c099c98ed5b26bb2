//! `guardia inventory|credential|hosts|ssh|bundle …`: the fleet, from the command line.
//!
//! Secrets never come from the command line itself (it shows in `ps` and shell history):
//! they are read from a file or from standard input, and passphrases from a file or an
//! environment variable.

use guardia_domain::text::escape_invisible;
use std::io::Read as _;
use std::path::PathBuf;

use clap::Subcommand;
use guardia_api::{Api, ApiError, Caller};
use guardia_ipc::{
    CheckState, CommandOutcome, CredentialInput, CredentialKindView, InventoryFile,
    InventoryFormat, RunCommand, ServerQuery, TrustHostKey,
};
use guardia_secrets::Sensitive;
use tokio_util::sync::CancellationToken;

use crate::{Done, Output};

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Import servers from a CSV (docs/inventory.md) or an Ansible INI inventory; all or nothing
    Import {
        file: PathBuf,
        /// csv or ansible [default: from the file name]
        #[arg(long)]
        format: Option<String>,
        /// Ansible: the institution the hosts belong to
        #[arg(long, default_value = "")]
        institution: String,
        /// Ansible: the system, unless `guardia_system` says otherwise
        #[arg(long, default_value = "")]
        system: String,
        /// Ansible: the login user, unless `ansible_user` says otherwise
        #[arg(long, default_value = "")]
        default_user: String,
        /// Ansible: the credential (from `guardia credential set`) of every host the file
        /// gives none (`guardia_credential`); its kind becomes the login method
        #[arg(long, default_value = "")]
        credential: String,
        /// Ansible: read a host variable as an inventory column, repeatable:
        /// --map app_dir=app_path --map svc_port=service_port
        #[arg(long = "map", value_name = "VARIABLE=COLUMN")]
        map: Vec<String>,
    },
    /// Change many servers at once — those matching --search/--tier and/or named with
    /// --server — as one audited change: credential, tier, tags
    Bulk {
        /// Servers whose name, address, site, system or tags contain this text
        #[arg(long, default_value = "")]
        search: String,
        /// Only servers of this tier
        #[arg(long)]
        filter_tier: Option<u8>,
        /// These servers (repeatable); with --search too, a server must match both
        #[arg(long = "server")]
        servers: Vec<String>,
        /// Set this credential (and its kind as the login method)
        #[arg(long)]
        credential: Option<String>,
        /// Set this tier (1, 2 or 3)
        #[arg(long)]
        tier: Option<u8>,
        /// Add a tag (repeatable)
        #[arg(long = "add-tag")]
        add_tags: Vec<String>,
        /// Remove a tag (repeatable)
        #[arg(long = "remove-tag")]
        remove_tags: Vec<String>,
        /// Only say what would change
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the whole inventory as CSV
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List servers
    List {
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long)]
        tier: Option<u8>,
    },
    /// Set which commands a system's servers accept: `playbook-only` (allowlist mode) refuses
    /// every ad-hoc command; `denylist` lets through what the denylist allows
    CommandMode {
        institution: String,
        system: String,
        /// denylist or playbook-only
        mode: String,
        /// Why (recorded in the audit log)
        #[arg(long)]
        reason: String,
    },
    /// Offer one old server (OpenSSH 5.x, old Dropbear) the SHA-1-era algorithms it needs —
    /// SHA-1 key exchange, ssh-rsa host and user keys, hmac-sha1, CBC — after the modern ones
    /// (`on`), or stop offering them (`off`). Admins only; audited with the reason
    LegacyCrypto {
        server: String,
        /// on or off
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// Why (recorded in the audit log)
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Store a password or private key in the OS keyring (secret from --secret-file or stdin)
    Set {
        name: String,
        /// password, key (SSH login), or tls-key (a TLS private key for certificate rollouts)
        #[arg(long)]
        kind: String,
        /// File holding the password, the OpenSSH private key or the TLS key (PEM) [default:
        /// standard input]
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
        /// File holding the private key's passphrase (or set GUARDIA_KEY_PASSPHRASE)
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// List credentials (never their secrets)
    List,
    /// Remove a credential from the keyring and the database
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// Show the host key a server presents now
    Fetch { server: String },
    /// Pin a server's host key after comparing its fingerprint with the site
    Trust {
        server: String,
        /// The fingerprint you compared (SHA256:…); without it, the presented one is shown
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// Pin keys from an OpenSSH known_hosts file for the servers it names
    Import { file: PathBuf },
    /// Remove a server's pin (its next connection is refused until a key is trusted)
    Forget { server: String },
}

#[derive(Debug, Subcommand)]
pub enum SshCommand {
    /// Test reachability, host key, login and the health criteria of a server
    Check { server: String },
    /// Run a command on a server (checked against the denylist, audited)
    Run {
        server: String,
        /// Seconds before the command is stopped and reported as unknown
        #[arg(long)]
        timeout: Option<u32>,
        /// The command, as one argument or several
        #[arg(trailing_var_arg = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Seal inventory, pins and credentials into one encrypted file
    Export {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// File holding the passphrase (or set GUARDIA_BUNDLE_PASSPHRASE)
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Open a sealed file and import all of it, or nothing
    Import {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Replace servers and credentials this console already has (they are listed first)
        #[arg(long)]
        replace: bool,
    },
}

/// Reads a text file, refusing one larger than an inventory file may be before reading it.
fn read(path: &PathBuf) -> Result<String, ApiError> {
    let named = |e: std::io::Error| ApiError::InvalidRequest(format!("{}: {e}", path.display()));
    let len = std::fs::metadata(path).map_err(named)?.len();
    let max = guardia_domain::inventory::MAX_FILE_BYTES;
    if len > max as u64 {
        return Err(ApiError::InvalidRequest(format!(
            "{}: the file is {len} bytes; at most {max} are read",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(named)
}

fn secret_from(file: Option<&PathBuf>, env: &str) -> Result<Option<Sensitive<String>>, ApiError> {
    if let Some(f) = file {
        return Ok(Some(Sensitive::new(
            read(f)?.trim_end_matches(['\n', '\r']).to_owned(),
        )));
    }
    Ok(std::env::var(env)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Sensitive::new))
}

pub async fn inventory(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: InventoryCommand,
) -> Result<Done, ApiError> {
    match command {
        InventoryCommand::Bulk {
            search,
            filter_tier,
            servers,
            credential,
            tier,
            add_tags,
            remove_tags,
            dry_run,
        } => {
            let report = api
                .server_bulk_edit(
                    caller,
                    guardia_ipc::BulkEdit {
                        filter: guardia_ipc::ServerQuery {
                            text: search,
                            tier: filter_tier,
                            limit: None,
                        },
                        servers,
                        credential,
                        tier,
                        add_tags,
                        remove_tags,
                        dry_run,
                    },
                )
                .await?;
            out.print(&report, |r| {
                let mut s = format!(
                    "{}{} servers changed, {} already so",
                    if dry_run { "dry run: " } else { "" },
                    r.updated,
                    r.unchanged
                );
                for change in &r.changes {
                    s.push_str(&format!(
                        "\n  {}: {}",
                        change.server,
                        change.fields.join(", ")
                    ));
                }
                s
            })?;
        }
        InventoryCommand::Import {
            file,
            format,
            institution,
            system,
            default_user,
            credential,
            map,
        } => {
            let text = read(&file)?;
            let name = file.display().to_string().to_ascii_lowercase();
            let format = match format.as_deref() {
                Some("csv") => InventoryFormat::Csv,
                Some("ansible" | "ini") => InventoryFormat::AnsibleIni,
                Some(other) => {
                    return Err(ApiError::InvalidRequest(format!(
                        "unknown format `{other}`; csv or ansible"
                    )));
                }
                None if name.ends_with(".csv") => InventoryFormat::Csv,
                None => InventoryFormat::AnsibleIni,
            };
            let report = api
                .inventory_import(
                    caller,
                    InventoryFile {
                        format,
                        text,
                        institution,
                        system,
                        default_user,
                        credential,
                        map,
                    },
                )
                .await?;
            out.print(&report, |r| {
                let mut s = format!(
                    "imported: {} new, {} updated, {} unchanged{}",
                    r.created,
                    r.updated,
                    r.unchanged,
                    if r.pins_dropped > 0 {
                        format!(
                            ", {} host-key pins dropped (address changed)",
                            r.pins_dropped
                        )
                    } else {
                        String::new()
                    }
                );
                for c in &r.changes {
                    s.push_str(&format!("\nchanged {}: {}", c.server, c.fields.join(", ")));
                }
                for w in &r.warnings {
                    s.push_str(&format!("\nwarning: {w}"));
                }
                s
            })?;
        }
        InventoryCommand::Export { out: file } => {
            let count = match file {
                Some(f) => {
                    let mut file = guardia_api::create_private(&f)?;
                    let count = api.inventory_export_to(&mut file).await?;
                    file.sync_all().map_err(ApiError::Io)?;
                    count
                }
                None => {
                    let mut stdout = std::io::BufWriter::new(std::io::stdout());
                    let count = api.inventory_export_to(&mut stdout).await?;
                    std::io::Write::flush(&mut stdout).map_err(ApiError::Io)?;
                    count
                }
            };
            eprintln!("exported {count} servers");
        }
        InventoryCommand::List { search, tier } => {
            let servers = api
                .server_list(ServerQuery {
                    text: search,
                    tier,
                    limit: None,
                })
                .await?;
            if servers.len() >= guardia_ipc::ServerQuery::MAX_LIMIT as usize {
                eprintln!(
                    "showing the first {} servers only; narrow the list with --search or --tier, \
                     or use `guardia inventory export` for all of them",
                    servers.len()
                );
            }
            out.print(&servers, |list| {
                list.iter()
                    .map(|s| {
                        format!(
                            "{:<16} {:<22} tier {}  {}@{}:{}  {}  {}{}",
                            s.record.server,
                            format!("{}/{}", s.record.system, s.record.site),
                            s.record.tier.number(),
                            s.record.user,
                            s.record.address,
                            s.record.port,
                            s.host_key
                                .as_ref()
                                .map(|k| k.fingerprint.as_str())
                                .unwrap_or("NOT PINNED"),
                            if s.credential_present {
                                "credential ok"
                            } else {
                                "NO CREDENTIAL"
                            },
                            match s.command_mode {
                                guardia_ipc::CommandMode::Denylist => "",
                                guardia_ipc::CommandMode::PlaybookOnly => "  playbook steps only",
                            },
                        ) + &server_warnings(s)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        }
        InventoryCommand::LegacyCrypto {
            server,
            state,
            reason,
        } => {
            let view = api
                .server_legacy_crypto_set(
                    caller,
                    guardia_ipc::LegacyCryptoChange {
                        server: server.clone(),
                        on: state == "on",
                        reason,
                    },
                )
                .await?;
            out.print(&view, |v| match &v.legacy_crypto {
                Some(reason) => format!(
                    "{server}: LEGACY ALGORITHMS ALLOWED (SHA-1 key exchange, ssh-rsa, hmac-sha1, CBC \
                     — after the modern ones, for this server only): {reason}"
                ),
                None => format!("{server}: modern algorithms only"),
            })?;
        }
        InventoryCommand::CommandMode {
            institution,
            system,
            mode,
            reason,
        } => {
            let parsed = guardia_ipc::CommandMode::parse(&mode).ok_or_else(|| {
                ApiError::InvalidRequest(format!(
                    "`{mode}` is not a command mode: use denylist or playbook-only"
                ))
            })?;
            api.system_command_mode_set(
                caller,
                guardia_ipc::CommandModeChange {
                    institution: institution.clone(),
                    system: system.clone(),
                    mode: parsed,
                    reason,
                },
            )
            .await?;
            let changed = serde_json::json!({
                "institution": institution,
                "system": system,
                "mode": parsed,
            });
            out.print(&changed, |_| {
                format!(
                    "{institution}/{system}: {}",
                    match parsed {
                        guardia_ipc::CommandMode::Denylist =>
                            "ad-hoc commands run when the denylist allows them",
                        guardia_ipc::CommandMode::PlaybookOnly =>
                            "only playbook steps run; ad-hoc commands are refused",
                    }
                )
            })?;
        }
    }
    Ok(Done::Success)
}

pub async fn credential(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: CredentialCommand,
) -> Result<Done, ApiError> {
    match command {
        CredentialCommand::Set {
            name,
            kind,
            secret_file,
            passphrase_file,
        } => {
            let kind = match kind.as_str() {
                "password" => CredentialKindView::Password,
                "key" => CredentialKindView::Key,
                "tls-key" | "tls_key" => CredentialKindView::TlsKey,
                other => {
                    return Err(ApiError::InvalidRequest(format!(
                        "unknown kind `{other}`; password, key or tls-key"
                    )));
                }
            };
            let secret = match &secret_file {
                Some(f) => read(f)?,
                None => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .map_err(ApiError::Io)?;
                    s
                }
            };
            let secret = match kind {
                CredentialKindView::Password => secret.trim_end_matches(['\n', '\r']).to_owned(),
                CredentialKindView::Key | CredentialKindView::TlsKey => secret,
            };
            let passphrase = secret_from(passphrase_file.as_ref(), "GUARDIA_KEY_PASSPHRASE")?;
            let view = api
                .credential_set(
                    caller,
                    CredentialInput {
                        name,
                        kind,
                        secret,
                        passphrase: passphrase.map(|p| p.expose().clone()),
                    },
                )
                .await?;
            out.print(&view, |v| {
                format!("credential {} stored in the OS keyring", v.name)
            })?;
        }
        CredentialCommand::List => {
            let list = api.credential_list().await?;
            out.print(&list, |l| {
                l.iter()
                    .map(|c| {
                        format!(
                            "{:<16} {:<8} {}{} used by {} server(s)",
                            c.name,
                            match c.kind {
                                CredentialKindView::Password => "password",
                                CredentialKindView::Key => "key",
                                CredentialKindView::TlsKey => "tls-key",
                            },
                            if c.in_keyring {
                                "in keyring"
                            } else {
                                "MISSING FROM KEYRING"
                            },
                            if c.has_passphrase { ", passphrase" } else { "" },
                            c.servers
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        }
        CredentialCommand::Delete { name } => {
            api.credential_delete(caller, &name).await?;
            println!("credential {name} deleted");
        }
    }
    Ok(Done::Success)
}

pub async fn hosts(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: HostsCommand,
) -> Result<Done, ApiError> {
    match command {
        HostsCommand::Fetch { server } => {
            let key = api.host_key_fetch(&server).await?;
            out.print(&key, |k| match &k.pinned_fingerprint {
                None => format!("{} presents {} {}", k.server, k.algorithm, k.fingerprint),
                Some(p) => format!(
                    "{} presents {} {} — DIFFERENT from the pinned {p}",
                    k.server, k.algorithm, k.fingerprint
                ),
            })?;
        }
        HostsCommand::Trust {
            server,
            fingerprint,
        } => {
            let Some(fingerprint) = fingerprint else {
                let key = api.host_key_fetch(&server).await?;
                eprintln!(
                    "{server} presents {} {}.\nCompare it with the site (ssh-keygen -lf on the server), then run:\n  guardia hosts trust {server} --fingerprint {}",
                    key.algorithm, key.fingerprint, key.fingerprint
                );
                return Ok(Done::Failed);
            };
            let view = api
                .host_key_trust(
                    caller,
                    TrustHostKey {
                        server,
                        fingerprint,
                    },
                )
                .await?;
            out.print(&view, |v| {
                format!(
                    "{}: pinned {}",
                    v.record.server,
                    v.host_key
                        .as_ref()
                        .map(|k| k.fingerprint.as_str())
                        .unwrap_or("")
                )
            })?;
        }
        HostsCommand::Import { file } => {
            let (pinned, conflicts) = api.host_keys_import(caller, &read(&file)?).await?;
            println!("pinned {pinned} server(s)");
            for c in &conflicts {
                println!("warning: {c}");
            }
        }
        HostsCommand::Forget { server } => {
            api.host_key_forget(caller, &server).await?;
            println!("{server}: pin removed; trust a key before connecting again");
        }
    }
    Ok(Done::Success)
}

pub async fn ssh(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: SshCommand,
) -> Result<Done, ApiError> {
    let cancel = CancellationToken::new();
    let interrupt = cancel.clone();
    // Ctrl-C cancels: the remote process group is killed and the outcome recorded as unknown.
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupt.cancel();
        }
    });
    match command {
        SshCommand::Check { server } => {
            let report = api.ssh_check(caller, &server, &cancel, &|_, _| {}).await?;
            let passed = report.passed();
            out.print(&report, |r| {
                r.steps
                    .iter()
                    .map(|s| {
                        let state = match s.state {
                            CheckState::Pass => "PASS",
                            CheckState::Fail => "FAIL",
                            CheckState::Unknown => "UNKNOWN",
                            CheckState::Skipped => "skip",
                            CheckState::Cancelled => "CANCEL",
                        };
                        format!(
                            "{state:<7} {:<15} {:>5} ms  {}",
                            s.name,
                            s.millis,
                            escape_invisible(&s.detail, false)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            Ok(if passed { Done::Success } else { Done::Failed })
        }
        SshCommand::Run {
            server,
            timeout,
            command,
        } => {
            let report = api
                .ssh_run(
                    caller,
                    RunCommand {
                        server,
                        command: command.join(" "),
                        timeout_secs: timeout,
                    },
                    &cancel,
                )
                .await?;
            let ok = report.outcome == CommandOutcome::Ok;
            if out.json {
                out.print(&report, |_| String::new())?;
            } else {
                // Remote bytes never reach the terminal raw: escape sequences could set its
                // title, clear the screen or hide lines.
                print!("{}", escape_invisible(&report.stdout, true));
                eprint!("{}", escape_invisible(&report.stderr, true));
                match (report.outcome, &report.error) {
                    (CommandOutcome::Ok, _) => {}
                    (CommandOutcome::Failed, None) => match (&report.exit_signal, report.exit_code)
                    {
                        (Some(signal), _) => {
                            eprintln!("the remote process was killed by signal {signal}");
                        }
                        (None, Some(code)) => eprintln!("exit code {code}"),
                        (None, None) => eprintln!("the remote process ended without an exit code"),
                    },
                    (CommandOutcome::Failed, Some(e)) => eprintln!("error: {e}"),
                    (CommandOutcome::Unknown, e) => eprintln!(
                        "OUTCOME UNKNOWN: {} — check the server before retrying",
                        e.as_deref().unwrap_or("")
                    ),
                }
                match report.remote_stopped {
                    Some(true) => eprintln!("the remote process group was stopped"),
                    Some(false) => eprintln!(
                        "THE REMOTE PROCESS GROUP WAS NOT CONFIRMED STOPPED: it may still be running{}",
                        report
                            .stop_note
                            .as_deref()
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default()
                    ),
                    None => {}
                }
                if report.truncated {
                    eprintln!(
                        "(output cut: the audit log holds the size and SHA-256 of all of it)"
                    );
                }
            }
            Ok(if ok { Done::Success } else { Done::Failed })
        }
    }
}

/// What a server line warns about: legacy algorithms allowed, a stop not guaranteed.
fn server_warnings(s: &guardia_ipc::ServerView) -> String {
    let mut out = String::new();
    if s.legacy_crypto.is_some() {
        out.push_str("  ⚠ LEGACY CRYPTO");
    }
    if s.ssh_seen
        .as_ref()
        .is_some_and(|seen| !seen.stop_guaranteed)
    {
        out.push_str("  ⚠ REMOTE STOP NOT GUARANTEED");
    }
    out
}

pub async fn bundle(
    api: &Api,
    caller: &Caller,
    out: &Output,
    command: BundleCommand,
) -> Result<Done, ApiError> {
    let passphrase = |file: Option<&PathBuf>| {
        secret_from(file, "GUARDIA_BUNDLE_PASSPHRASE")?.ok_or_else(|| {
            ApiError::InvalidRequest(
                "give the passphrase with --passphrase-file or GUARDIA_BUNDLE_PASSPHRASE".into(),
            )
        })
    };
    match command {
        BundleCommand::Export {
            out: file,
            passphrase_file,
        } => {
            let (sealed, report) = api
                .bundle_export(caller, passphrase(passphrase_file.as_ref())?)
                .await?;
            guardia_api::write_private(&file, &sealed)?;
            out.print(&report, |r| {
                format!(
                    "sealed {} servers, {} host keys, {} credentials into {}",
                    r.servers,
                    r.host_keys,
                    r.credentials,
                    file.display()
                )
            })?;
        }
        BundleCommand::Import {
            file,
            passphrase_file,
            replace,
        } => {
            let bytes = read_bundle(&file)?;
            let report = api
                .bundle_import(
                    caller,
                    std::sync::Arc::new(bytes),
                    passphrase(passphrase_file.as_ref())?,
                    replace,
                )
                .await?;
            out.print(&report, |r| {
                format!(
                    "imported {} servers, {} host keys, {} credentials",
                    r.servers, r.host_keys, r.credentials
                )
            })?;
        }
    }
    Ok(Done::Success)
}

/// Reads a bundle file, refusing a huge or foreign one from its size and header before the
/// rest is read.
fn read_bundle(file: &std::path::Path) -> Result<Vec<u8>, ApiError> {
    use std::io::Read;
    let named = |e: std::io::Error| ApiError::InvalidRequest(format!("{}: {e}", file.display()));
    let mut f = std::fs::File::open(file).map_err(named)?;
    let len = f.metadata().map_err(named)?.len();
    let mut header = vec![0u8; guardia_secrets::bundle::HEADER];
    let got = f.read(&mut header).map_err(named)?;
    header.truncate(got);
    guardia_secrets::bundle::check(len, &header)
        .map_err(|e| ApiError::InvalidRequest(format!("{}: {e}", file.display())))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    bytes.extend_from_slice(&header);
    f.take(guardia_secrets::bundle::MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(named)?;
    Ok(bytes)
}
