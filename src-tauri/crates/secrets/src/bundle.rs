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
/// Bytes before the sealed body: read these first, and nothing else, to refuse a file.
pub const HEADER: usize = 16 + 12 + 16 + 12;
/// The largest bundle a console opens (a 100,000-server inventory with its keys is far less).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// The most Argon2id memory a file may ask for (4× the default; under a second here).
pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
/// The most Argon2id passes a file may ask for.
pub const MAX_PASSES: u32 = 4;

/// Argon2id cost. The defaults take a few hundred milliseconds here: cheap for one import,
/// expensive for guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl KdfCost {
    fn refused(self) -> BundleError {
        BundleError::BadCost {
            memory_kib: self.memory_kib,
            passes: self.passes,
            lanes: self.lanes,
            max_kib: MAX_MEMORY_KIB,
            max_passes: MAX_PASSES,
        }
    }

    fn acceptable(self) -> bool {
        (8 * 1024..=MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (1..=MAX_PASSES).contains(&self.passes)
            && (1..=8).contains(&self.lanes)
    }
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
    #[error(
        "this file starts like a GUARDiA bundle but its header is damaged (byte {0}); nothing was imported"
    )]
    DamagedHeader(usize),
    #[error(
        "the bundle asks for key derivation costing {memory_kib} KiB × {passes} passes × {lanes} lanes; \
         at most {max_kib} KiB, {max_passes} passes and 8 lanes are accepted (a damaged or hostile file)"
    )]
    BadCost {
        memory_kib: u32,
        passes: u32,
        lanes: u32,
        max_kib: u32,
        max_passes: u32,
    },
    #[error("the bundle is {0} bytes; at most {MAX_FILE_BYTES} are accepted")]
    TooLarge(u64),
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
        .map_err(|_| cost.refused())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|_| cost.refused())?;
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
    if !cost.acceptable() {
        return Err(cost.refused());
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

/// Checks a file's size and its first [`HEADER`] bytes before anything else is read: a
/// huge file or a hostile key-derivation cost is refused without reading the body.
pub fn check(len: u64, header: &[u8]) -> Result<KdfCost, BundleError> {
    if len > MAX_FILE_BYTES {
        return Err(BundleError::TooLarge(len));
    }
    if header.len() < HEADER || len < (HEADER + 16) as u64 {
        return Err(BundleError::NotABundle);
    }
    // Most of the magic right: a bundle with a damaged first line, not some other file.
    let matching = header[..16]
        .iter()
        .zip(MAGIC.iter())
        .filter(|(a, b)| a == b)
        .count();
    if header[..14] != MAGIC[..14] {
        return Err(if matching >= 12 {
            BundleError::DamagedHeader(
                header[..14]
                    .iter()
                    .zip(MAGIC.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0),
            )
        } else {
            BundleError::NotABundle
        });
    }
    if header[14..16] != MAGIC[14..16] {
        // Versions are 0x00 N; anything else is damage, not a version.
        return Err(if header[14] == 0 && header[15] > 1 {
            BundleError::UnsupportedVersion(header[15])
        } else {
            BundleError::DamagedHeader(if header[14] != 0 { 14 } else { 15 })
        });
    }
    let word = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let cost = KdfCost {
        memory_kib: word(16),
        passes: word(20),
        lanes: word(24),
    };
    // A hostile header must not make us allocate gigabytes or spin for seconds.
    if !cost.acceptable() {
        return Err(cost.refused());
    }
    Ok(cost)
}

/// Decrypts a sealed file. The plaintext comes back as [`Sensitive`]: it holds secrets.
pub fn open(
    file: &[u8],
    passphrase: &Sensitive<String>,
) -> Result<Sensitive<Vec<u8>>, BundleError> {
    let cost = check(file.len() as u64, &file[..file.len().min(HEADER)])?;
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
    fn hardening_07_a_costly_or_huge_bundle_is_refused_from_its_header() {
        let sealed =
            seal(b"x", &pass("correct horse battery"), cheap()).unwrap_or_else(|e| panic!("{e}"));
        let mut costly = sealed.clone();
        costly[16..20].copy_from_slice(&(1024u32 * 1024).to_le_bytes());
        assert!(matches!(
            check(costly.len() as u64, &costly[..HEADER]),
            Err(BundleError::BadCost { .. })
        ));
        costly[16..20].copy_from_slice(&(64u32 * 1024).to_le_bytes());
        costly[20..24].copy_from_slice(&10u32.to_le_bytes());
        assert!(matches!(
            open(&costly, &pass("correct horse battery")),
            Err(BundleError::BadCost { .. })
        ));
        assert_eq!(
            check(MAX_FILE_BYTES + 1, &sealed[..HEADER]),
            Err(BundleError::TooLarge(MAX_FILE_BYTES + 1))
        );
    }

    #[test]
    fn hardening_17_a_flipped_header_byte_is_damage_not_a_version() {
        let sealed =
            seal(b"x", &pass("correct horse battery"), cheap()).unwrap_or_else(|e| panic!("{e}"));
        for i in [0, 5, 13, 14, 15] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let e = open(&bad, &pass("correct horse battery")).unwrap_err();
            assert_eq!(e, BundleError::DamagedHeader(i), "byte {i}: {e}");
            assert!(!e.to_string().contains("format version"), "{e}");
        }
        let mut newer = sealed.clone();
        newer[15] = 2;
        assert_eq!(
            open(&newer, &pass("correct horse battery")).err(),
            Some(BundleError::UnsupportedVersion(2))
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
