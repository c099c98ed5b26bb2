//! What the Secret Service really holds, read with Debian's `secret-tool` (libsecret's own
//! client, not our code), so tests can check the OS keyring independently of GUARDiA.

use std::collections::BTreeMap;
use std::process::Command;

/// Every entry of `service` whose account (`username` attribute) starts with `prefix`,
/// with its secret.
///
/// The items are found with the Secret Service's own `SearchItems` and read one by one
/// (GLib's `gdbus`), then each secret is looked up by its account with `secret-tool`.
/// `secret-tool search --all` is not used: it gives up on the whole search when one item
/// goes away while it loads them (another test deleting its credentials at the same
/// moment), and with a few hundred items it fails even when nothing moves ("No such secret
/// item at path", with a GLib-GIO critical in libsecret).
///
/// Fails only when `gdbus` or `secret-tool` cannot be run (Debian's libglib2.0-bin and
/// libsecret-tools; scripts/setup.sh installs them) or the search itself is refused.
pub fn entries(service: &str, prefix: &str) -> std::io::Result<BTreeMap<String, String>> {
    let found = gdbus(
        "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service.SearchItems",
        &[&format!("{{'service': '{service}'}}")],
    )?;
    let mut entries = BTreeMap::new();
    for path in object_paths(&found) {
        // An item deleted since the search answers with an error: it is not an entry.
        let Ok(attributes) = gdbus(
            &path,
            "org.freedesktop.DBus.Properties.Get",
            &["org.freedesktop.Secret.Item", "Attributes"],
        ) else {
            continue;
        };
        let Some(account) = quoted_after(&attributes, "'username': ") else {
            continue;
        };
        if account.starts_with(prefix)
            && let Some(secret) = lookup(service, &account)?
        {
            entries.insert(account, secret);
        }
    }
    Ok(entries)
}

/// `gdbus call` on the session bus's Secret Service; its printed answer, or an error with
/// what it said.
fn gdbus(object: &str, method: &str, args: &[&str]) -> std::io::Result<String> {
    let out = Command::new("gdbus")
        .args(["call", "--session", "--dest", "org.freedesktop.secrets"])
        .args(["--object-path", object, "--method", method])
        .args(args)
        .output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(std::io::Error::other(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// The object paths in a printed GVariant answer (`objectpath '/org/…/login/12'`, `'/org/…'`).
fn object_paths(printed: &str) -> Vec<String> {
    printed
        .split('\'')
        .filter(|piece| piece.starts_with("/org/freedesktop/secrets/collection/"))
        .map(str::to_owned)
        .collect()
}

/// The single-quoted string right after `key` in a printed GVariant dictionary.
fn quoted_after(printed: &str, key: &str) -> Option<String> {
    let rest = &printed[printed.find(key)? + key.len()..];
    let rest = rest.strip_prefix('\'')?;
    Some(rest[..rest.find('\'')?].to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_answers_give_their_paths_and_attributes() {
        let found = "([objectpath '/org/freedesktop/secrets/collection/login/12', \
                     '/org/freedesktop/secrets/collection/login/7'], @ao [])";
        assert_eq!(
            object_paths(found),
            [
                "/org/freedesktop/secrets/collection/login/12",
                "/org/freedesktop/secrets/collection/login/7"
            ]
        );
        let attributes = "(<{'application': 'rust-keyring', 'service': 'guardia-credential', \
                          'username': 'origin/pw-1/ab12'}>,)";
        assert_eq!(
            quoted_after(attributes, "'username': ").as_deref(),
            Some("origin/pw-1/ab12")
        );
        assert_eq!(quoted_after(attributes, "'target': "), None);
    }
}
