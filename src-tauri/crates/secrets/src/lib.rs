//! # guardia-secrets — where secrets live, and how they move without leaking
//!
//! Secrets (the audit signing key now; SSH passwords, private keys and passphrases next)
//! live only in the OS keyring — the Secret Service on Linux — and the database holds just a
//! [`SecretName`] referring to them. In memory they travel as [`Sensitive`], which prints as
//! `<redacted>`, implements no `Serialize`, and wipes its bytes when dropped, so a secret
//! cannot reach a log line, an IPC reply or an audit entry by accident.
//!
//! Callers hold an `Arc<dyn SecretStore>`; [`OsKeyring`] is the real one. There is no
//! fallback to a file: without a keyring, operations that need a secret fail and say why.

pub mod bundle;
pub mod password;

use std::fmt;

use zeroize::Zeroizing;

/// A value that must not be shown, logged or serialised.
pub struct Sensitive<T: zeroize::Zeroize>(Zeroizing<T>);

impl<T: zeroize::Zeroize> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret itself, for the one place that has to use it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: zeroize::Zeroize> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where a secret is kept: a keyring service and an account within it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretName {
    pub service: String,
    pub account: String,
}

impl SecretName {
    pub fn new(service: impl Into<String>, account: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            account: account.into(),
        }
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.service, self.account)
    }
}

/// Why the keyring could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the OS keyring is not reachable ({0}); GUARDiA keeps its keys there and will not fall back to a file"
    )]
    Unavailable(String),
    #[error("the keyring refused access to {name}: {reason}")]
    Denied { name: SecretName, reason: String },
    #[error("the keyring entry {0} holds something that is not a GUARDiA secret")]
    Malformed(SecretName),
}

/// A place that keeps secrets. Blocking: call from a blocking context.
pub trait SecretStore: Send + Sync {
    /// The secret under `name`, or `None` if there is none.
    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<Vec<u8>>>, SecretError>;
    /// Stores (or replaces) the secret under `name`.
    fn set(&self, name: &SecretName, secret: &Sensitive<Vec<u8>>) -> Result<(), SecretError>;
    /// Removes the secret under `name`; removing nothing is not an error.
    fn delete(&self, name: &SecretName) -> Result<(), SecretError>;
    /// What this store is, for the settings screen (`Secret Service`, …).
    fn describe(&self) -> String;
}

/// A FAKE keyring in process memory, for tests that are not about the keyring (it keeps
/// nothing past the process and protects nothing). Tests about the keyring use
/// [`OsKeyring`] on a real Secret Service.
#[derive(Debug, Default)]
pub struct MemoryKeyring {
    secrets: std::sync::Mutex<Held>,
}

/// (service, account) → secret.
type Held = std::collections::BTreeMap<(String, String), Sensitive<Vec<u8>>>;

impl MemoryKeyring {
    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SecretStore for MemoryKeyring {
    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<Vec<u8>>>, SecretError> {
        Ok(self
            .held()
            .get(&(name.service.clone(), name.account.clone()))
            .map(|s| Sensitive::new(s.expose().clone())))
    }

    fn set(&self, name: &SecretName, secret: &Sensitive<Vec<u8>>) -> Result<(), SecretError> {
        self.held().insert(
            (name.service.clone(), name.account.clone()),
            Sensitive::new(secret.expose().clone()),
        );
        Ok(())
    }

    fn delete(&self, name: &SecretName) -> Result<(), SecretError> {
        self.held()
            .remove(&(name.service.clone(), name.account.clone()));
        Ok(())
    }

    fn describe(&self) -> String {
        "in-memory keyring (tests only)".to_owned()
    }
}

/// The OS keyring through the `keyring` crate: the Secret Service on Linux.
#[derive(Debug, Default)]
pub struct OsKeyring;

impl OsKeyring {
    fn entry(name: &SecretName) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&name.service, &name.account).map_err(|e| map_error(name, e))
    }
}

fn map_error(name: &SecretName, error: keyring::Error) -> SecretError {
    match error {
        keyring::Error::PlatformFailure(e) | keyring::Error::NoStorageAccess(e) => {
            SecretError::Unavailable(e.to_string())
        }
        keyring::Error::BadEncoding(_) => SecretError::Malformed(name.clone()),
        other => SecretError::Denied {
            name: name.clone(),
            reason: other.to_string(),
        },
    }
}

/// How often a call is tried when the keyring daemon vanished in the middle of it.
const ATTEMPTS: u32 = 3;

/// Whether `error` says the Secret Service went away while answering (the daemon crashed or
/// restarted), rather than that it refused. gnome-keyring 42 aborts now and then when another
/// client disconnects mid-call (upstream work items 190/196/199); a session restarts it, and
/// the same call then succeeds. The D-Bus error names reach us only as text.
fn service_vanished(error: &keyring::Error) -> bool {
    let keyring::Error::PlatformFailure(inner) = error else {
        return false;
    };
    let text = inner.to_string();
    [
        "disconnected from message bus without replying",
        "org.freedesktop.DBus.Error.NoReply",
        "Did not receive a reply",
        "The name is not activatable",
        "ServiceUnknown",
    ]
    .iter()
    .any(|sign| text.contains(sign))
}

/// Runs one keyring call, again (up to [`ATTEMPTS`] times, 100 ms then 300 ms apart) when the
/// daemon vanished mid-call. Every call is idempotent — a get, a set of the same value, a
/// delete where "nothing to delete" is success — so repeating one cannot do harm.
fn retrying<T>(mut call: impl FnMut() -> Result<T, keyring::Error>) -> Result<T, keyring::Error> {
    let mut attempt = 1;
    loop {
        match call() {
            Err(error) if attempt < ATTEMPTS && service_vanished(&error) => {
                tracing::warn!(
                    attempt,
                    "the keyring daemon went away mid-call; trying again: {error}"
                );
                std::thread::sleep(std::time::Duration::from_millis(
                    100 * 3u64.pow(attempt - 1),
                ));
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<Vec<u8>>>, SecretError> {
        let entry = Self::entry(name)?;
        match retrying(|| entry.get_secret()) {
            Ok(secret) => Ok(Some(Sensitive::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(name, e)),
        }
    }

    fn set(&self, name: &SecretName, secret: &Sensitive<Vec<u8>>) -> Result<(), SecretError> {
        let entry = Self::entry(name)?;
        retrying(|| entry.set_secret(secret.expose())).map_err(|e| map_error(name, e))?;
        tracing::info!(%name, "secret stored in the OS keyring");
        Ok(())
    }

    fn delete(&self, name: &SecretName) -> Result<(), SecretError> {
        let entry = Self::entry(name)?;
        match retrying(|| entry.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(name, e)),
        }
    }

    fn describe(&self) -> String {
        if cfg!(target_os = "linux") {
            "Secret Service (OS keyring)".to_owned()
        } else {
            "OS keyring".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_print_redacted() {
        let secret = Sensitive::new(b"hunter2".to_vec());
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(secret.expose(), b"hunter2");
    }
}
