//! Sealed hand-over files: bytes encrypted with AES-256-GCM under a key derived from a
//! passphrase with Argon2id, for moving an inventory and its credentials between
//! workstations on a closed network (USB stick, shared drive).
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! magic     16  "GUARDIA-BUNDLE" 0x00 0x01 (format version 1)
//! m_cost     4  Argon2id memory in KiB
//! t_cost     4  Argon2id passes
//! p_cost     4  Argon2id lanes
//! salt      16  random
//! nonce     12  random
//! sealed     …  AES-256-GCM(plaintext), 16-byte tag at the end
//! ```
//!
//! Everything before `sealed` is the AEAD's associated data, so changing any byte of the
//! file — header or body — makes opening fail. A wrong passphrase and a modified file are
//! indistinguishable by design, and both import nothing.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use crate::Sensitive;

const MAGIC: &[u8; 16] = b"GUARDIA-BUNDLE\x00\x01";
const HEADER: usize = 16 + 12 + 16 + 12;

/// Argon2id cost. The defaults take a few hundred milliseconds here: cheap for one import,
/// expensive for guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl Default for KdfCost {
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            passes: 3,
            lanes: 1,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("this is not a GUARDiA bundle")]
    NotABundle,
    #[error("this bundle uses format version {0}, which this console does not read")]
    UnsupportedVersion(u8),
    #[error("the bundle's key-derivation settings are out of range (a damaged or hostile file)")]
    BadCost,
    #[error(
        "the passphrase is wrong, or the file was modified after it was sealed; nothing was imported"
    )]
    WrongPassphraseOrModified,
    #[error("the passphrase must be at least 12 characters")]
    WeakPassphrase,
    #[error("could not get random bytes from the OS: {0}")]
    Random(String),
    #[error("encryption failed")]
    Encrypt,
}

fn key(passphrase: &str, salt: &[u8], cost: KdfCost) -> Result<Zeroizing<[u8; 32]>, BundleError> {
    let params = argon2::Params::new(cost.memory_kib, cost.passes, cost.lanes, Some(32))
        .map_err(|_| BundleError::BadCost)?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|_| BundleError::BadCost)?;
    Ok(out)
}

/// Encrypts `plaintext` under `passphrase`.
pub fn seal(
    plaintext: &[u8],
    passphrase: &Sensitive<String>,
    cost: KdfCost,
) -> Result<Vec<u8>, BundleError> {
    if passphrase.expose().chars().count() < 12 {
        return Err(BundleError::WeakPassphrase);
    }
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut salt).map_err(|e| BundleError::Random(e.to_string()))?;
    getrandom::fill(&mut nonce).map_err(|e| BundleError::Random(e.to_string()))?;
    let mut out = Vec::with_capacity(HEADER + plaintext.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&cost.memory_kib.to_le_bytes());
    out.extend_from_slice(&cost.passes.to_le_bytes());
    out.extend_from_slice(&cost.lanes.to_le_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let key = key(passphrase.expose(), &salt, cost)?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref()).map_err(|_| BundleError::Encrypt)?;
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &out,
            },
        )
        .map_err(|_| BundleError::Encrypt)?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts a sealed file. The plaintext comes back as [`Sensitive`]: it holds secrets.
pub fn open(
    file: &[u8],
    passphrase: &Sensitive<String>,
) -> Result<Sensitive<Vec<u8>>, BundleError> {
    if file.len() < HEADER + 16 || file[..14] != MAGIC[..14] {
        return Err(BundleError::NotABundle);
    }
    if file[14..16] != MAGIC[14..16] {
        return Err(BundleError::UnsupportedVersion(file[15]));
    }
    let word = |at: usize| u32::from_le_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]);
    let cost = KdfCost {
        memory_kib: word(16),
        passes: word(20),
        lanes: word(24),
    };
    // A hostile header must not make us allocate gigabytes or spin for minutes.
    if !(8 * 1024..=1024 * 1024).contains(&cost.memory_kib)
        || !(1..=10).contains(&cost.passes)
        || !(1..=8).contains(&cost.lanes)
    {
        return Err(BundleError::BadCost);
    }
    let (header, sealed) = file.split_at(HEADER);
    let salt = &header[28..44];
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&header[44..56]);
    let key = key(passphrase.expose(), salt, cost)?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref())
        .map_err(|_| BundleError::WrongPassphraseOrModified)?;
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: sealed,
                aad: header,
            },
        )
        .map(Sensitive::new)
        .map_err(|_| BundleError::WrongPassphraseOrModified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> KdfCost {
        KdfCost {
            memory_kib: 8 * 1024,
            passes: 1,
            lanes: 1,
        }
    }

    fn pass(p: &str) -> Sensitive<String> {
        Sensitive::new(p.to_owned())
    }

    #[test]
    fn a_sealed_file_opens_with_its_passphrase_only() {
        let sealed = seal(
            b"inventory and keys",
            &pass("correct horse battery"),
            cheap(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !sealed.windows(9).any(|w| w == b"inventory"),
            "the plaintext is not visible"
        );
        let opened =
            open(&sealed, &pass("correct horse battery")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(opened.expose(), b"inventory and keys");
        assert_eq!(
            open(&sealed, &pass("correct horse battery!")).err(),
            Some(BundleError::WrongPassphraseOrModified)
        );
    }

    #[test]
    fn flipping_any_single_byte_is_refused() {
        let sealed = seal(
            b"x".repeat(100).as_slice(),
            &pass("correct horse battery"),
            cheap(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                open(&bad, &pass("correct horse battery")).is_err(),
                "byte {i} flipped was accepted"
            );
        }
        assert_eq!(
            open(b"PK\x03\x04 a zip file", &pass("x")).err(),
            Some(BundleError::NotABundle)
        );
        assert_eq!(
            open(&sealed[..sealed.len() - 1], &pass("correct horse battery")).err(),
            Some(BundleError::WrongPassphraseOrModified)
        );
    }

    #[test]
    fn short_passphrases_are_refused_when_sealing() {
        assert_eq!(
            seal(b"x", &pass("short"), cheap()).err(),
            Some(BundleError::WeakPassphrase)
        );
    }
}
