//! Host keys as GUARDiA pins them: the OpenSSH public key line, and its SHA-256 fingerprint.
//!
//! A pin is the whole key, not just the fingerprint, so a match is an exact byte comparison.
//! The fingerprint (`SHA256:…`, as `ssh-keygen -lf` prints it) is what a person compares on
//! the approval dialog and what loud errors name.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// An SSH host public key: algorithm name and the key blob.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HostKey {
    algorithm: String,
    blob: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostKeyError {
    #[error("a host key is written `ALGORITHM BASE64`, e.g. `ssh-ed25519 AAAAC3…`")]
    Shape,
    #[error("the key's base64 does not decode")]
    Base64,
    #[error("the key blob names algorithm `{inner}` but the line says `{outer}`")]
    AlgorithmMismatch { outer: String, inner: String },
}

impl HostKey {
    /// Parses `ALGORITHM BASE64 [comment]`, as in `*.pub` files and `known_hosts` lines.
    pub fn parse_openssh(line: &str) -> Result<Self, HostKeyError> {
        let mut parts = line.split_whitespace();
        let (Some(algorithm), Some(b64)) = (parts.next(), parts.next()) else {
            return Err(HostKeyError::Shape);
        };
        let blob = STANDARD.decode(b64).map_err(|_| HostKeyError::Base64)?;
        // The blob starts with the algorithm name as an SSH string; a line whose two halves
        // disagree is corrupt or forged, and pinning it would pin nothing real.
        let inner = blob
            .get(..4)
            .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
            .and_then(|n| blob.get(4..4 + n))
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .ok_or(HostKeyError::Shape)?;
        if inner != algorithm {
            return Err(HostKeyError::AlgorithmMismatch {
                outer: algorithm.to_owned(),
                inner,
            });
        }
        Ok(Self {
            algorithm: algorithm.to_owned(),
            blob,
        })
    }

    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// `SHA256:…` — the same text `ssh-keygen -l` and OpenSSH's own warnings print.
    pub fn fingerprint(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(&self.blob))
        )
    }

    /// `ALGORITHM BASE64`, the form stored as a pin.
    pub fn to_openssh(&self) -> String {
        format!("{} {}", self.algorithm, STANDARD.encode(&self.blob))
    }

    pub(crate) fn from_russh(key: &russh::keys::PublicKey) -> Option<Self> {
        let line = key.to_openssh().ok()?;
        Self::parse_openssh(&line).ok()
    }
}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostKey({} {})", self.algorithm, self.fingerprint())
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.algorithm, self.fingerprint())
    }
}

/// One usable line of an OpenSSH `known_hosts` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHost {
    /// 1-based line number in the file, for messages.
    pub line: usize,
    patterns: HostPatterns,
    pub key: HostKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPatterns {
    /// `host1,[host2]:2222,…` as written.
    Plain(Vec<String>),
    /// `|1|salt|hash`: HMAC-SHA1 of the host name under the salt (`HashKnownHosts yes`).
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

/// A line of a `known_hosts` file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct KnownHostsError {
    pub line: usize,
    pub reason: String,
}

/// Reads a `known_hosts` file. Comments, blank lines, `@revoked` and `@cert-authority` lines
/// are skipped (GUARDiA pins keys, it does not trust CAs); any other line that does not parse
/// is an error, so an import never half-works silently.
pub fn parse_known_hosts(text: &str) -> Result<Vec<KnownHost>, Vec<KnownHostsError>> {
    let mut hosts = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('@') {
            continue;
        }
        let Some((hosts_field, key_part)) = trimmed.split_once(char::is_whitespace) else {
            errors.push(KnownHostsError {
                line,
                reason: "expected `HOSTS ALGORITHM KEY`".into(),
            });
            continue;
        };
        let patterns = match parse_patterns(hosts_field) {
            Ok(p) => p,
            Err(reason) => {
                errors.push(KnownHostsError { line, reason });
                continue;
            }
        };
        match HostKey::parse_openssh(key_part.trim()) {
            Ok(key) => hosts.push(KnownHost {
                line,
                patterns,
                key,
            }),
            Err(e) => errors.push(KnownHostsError {
                line,
                reason: e.to_string(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(hosts)
    } else {
        Err(errors)
    }
}

fn parse_patterns(field: &str) -> Result<HostPatterns, String> {
    if let Some(rest) = field.strip_prefix("|1|") {
        let (salt, hash) = rest
            .split_once('|')
            .ok_or_else(|| "a hashed host is written |1|SALT|HASH".to_owned())?;
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| "the hashed host's salt is not base64".to_owned())?;
        let hash = STANDARD
            .decode(hash)
            .map_err(|_| "the hashed host's hash is not base64".to_owned())?;
        return Ok(HostPatterns::Hashed { salt, hash });
    }
    Ok(HostPatterns::Plain(
        field.split(',').map(str::to_owned).collect(),
    ))
}

impl KnownHost {
    /// Whether this line names `host` on `port`, as OpenSSH would look it up
    /// (`host` for port 22, `[host]:port` otherwise). Wildcard patterns are not followed:
    /// a pin is for one server.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let name = if port == 22 {
            host.to_owned()
        } else {
            format!("[{host}]:{port}")
        };
        match &self.patterns {
            HostPatterns::Plain(patterns) => patterns.contains(&name),
            HostPatterns::Hashed { salt, hash } => {
                let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(name.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNt0jFkRSG0kDfR8h6IQYBp7Nb0s5OJzw1x8ZsuyKZQ";

    #[test]
    fn fingerprint_is_openssh_sha256_form() {
        let key =
            HostKey::parse_openssh(&format!("{ED} root@lab")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.algorithm(), "ssh-ed25519");
        let fp = key.fingerprint();
        assert!(fp.starts_with("SHA256:") && fp.len() == 50, "{fp}");
        assert_eq!(key.to_openssh(), ED);
    }

    #[test]
    fn a_line_whose_algorithm_disagrees_with_its_blob_is_refused() {
        let forged = ED.replace("ssh-ed25519", "ssh-rsa");
        assert!(matches!(
            HostKey::parse_openssh(&forged),
            Err(HostKeyError::AlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn known_hosts_plain_and_hashed_entries_match_host_and_port() {
        // `|1|…` computed for "[127.20.0.1]:2222" with the salt below.
        let salt = [7u8; 20];
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&salt).unwrap_or_else(|e| panic!("{e}"));
        mac.update(b"[127.20.0.1]:2222");
        let hash = mac.finalize().into_bytes();
        let text = format!(
            "# comment\n\nweb1,10.0.0.5 {ED}\n|1|{}|{} {ED}\n@cert-authority * {ED}\n",
            STANDARD.encode(salt),
            STANDARD.encode(hash)
        );
        let hosts = parse_known_hosts(&text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(hosts.len(), 2);
        assert!(hosts[0].matches("10.0.0.5", 22));
        assert!(!hosts[0].matches("10.0.0.5", 2222));
        assert!(hosts[1].matches("127.20.0.1", 2222));
        assert!(!hosts[1].matches("127.20.0.2", 2222));
    }

    #[test]
    fn a_bad_known_hosts_line_is_reported_with_its_number() {
        let errors = parse_known_hosts(&format!("ok {ED}\nbroken\nx ssh-ed25519 !!!\n"))
            .err()
            .unwrap_or_default();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3]);
    }
}
