//! Sign-in passwords as Argon2id hashes (PHC strings: algorithm, parameters, salt, hash).
//!
//! The parameters are Argon2's recommended defaults (19 MiB, 2 passes, 1 lane): about 30 ms
//! here, slow enough to make guessing from a stolen database expensive, fast enough for a
//! sign-in. A stored hash carries its own parameters, so raising them later keeps old
//! hashes checkable.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::Sensitive;

/// Why a password could not be hashed or a stored hash could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("no randomness for a password salt: {0}")]
    Random(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// The stored string is not an Argon2id PHC hash (edited outside GUARDiA).
    #[error("the stored password hash is not a valid Argon2id hash")]
    Malformed,
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// A fresh salted Argon2id hash of `password`.
pub fn hash_password(password: &Sensitive<String>) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches `stored`. Only Argon2id hashes are accepted: a downgraded
/// algorithm in a tampered row is refused, not checked.
pub fn verify_password(stored: &str, password: &Sensitive<String>) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::Malformed)?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(PasswordError::Malformed);
    }
    match hasher().verify_password(password.expose().as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(_) => Err(PasswordError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(text: &str) -> Sensitive<String> {
        Sensitive::new(text.to_owned())
    }

    #[test]
    fn a_hash_accepts_its_password_only_and_is_salted() {
        let first = hash_password(&pw("correct horse battery")).unwrap();
        let second = hash_password(&pw("correct horse battery")).unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "each hash has its own salt");
        assert!(!first.contains("correct horse"));
        assert!(verify_password(&first, &pw("correct horse battery")).unwrap());
        assert!(!verify_password(&first, &pw("correct horse batterY")).unwrap());
    }

    #[test]
    fn a_tampered_or_downgraded_hash_is_refused_not_checked() {
        assert!(matches!(
            verify_password("plain text", &pw("x")),
            Err(PasswordError::Malformed)
        ));
        let hash = hash_password(&pw("correct horse battery")).unwrap();
        let downgraded = hash.replacen("argon2id", "argon2i", 1);
        assert!(matches!(
            verify_password(&downgraded, &pw("correct horse battery")),
            Err(PasswordError::Malformed)
        ));
    }
}
