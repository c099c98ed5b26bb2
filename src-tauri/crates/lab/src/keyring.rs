//! What the Secret Service really holds, read with Debian's `secret-tool` (libsecret's own
//! client, not our code), so tests can check the OS keyring independently of GUARDiA.

use std::collections::BTreeMap;
use std::process::Command;

/// Every entry of `service` whose account (`username` attribute) starts with `prefix`,
/// with its secret.
///
/// `secret-tool search` writes an item's secret and its attributes to different streams,
/// so the two cannot be paired by position: the accounts are listed first, then each
/// secret is looked up by its account.
///
/// Fails only when `secret-tool` cannot be run (Debian's libsecret-tools; scripts/setup.sh
/// installs it).
pub fn entries(service: &str, prefix: &str) -> std::io::Result<BTreeMap<String, String>> {
    let listed = secret_tool(&["search", "--all", "service", service])?;
    let accounts: Vec<String> = listed
        .lines()
        .filter_map(|line| line.strip_prefix("attribute.username = "))
        .filter(|account| account.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    accounts
        .into_iter()
        .map(|account| {
            let secret = lookup(service, &account)?.unwrap_or_default();
            Ok((account, secret))
        })
        .collect()
}

/// The secret stored for `account` of `service`, if there is one.
pub fn lookup(service: &str, account: &str) -> std::io::Result<Option<String>> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", account])
        .output()?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

fn secret_tool(args: &[&str]) -> std::io::Result<String> {
    let out = Command::new("secret-tool").args(args).output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}
