//! Signed checkpoints in the C2SP `signed-note` / `tlog-checkpoint` form.
//!
//! ```text
//! guardia.local/ops-ws-01/3f9a1c0b7d2e4a61      ← origin: names this log
//! 4096                                          ← tree size
//! 2n8B2vJ3lqQm0kXz0b0N8eKp1q3xK9f8yT7oT0sQ3fE=  ← base64 root hash
//!
//! — guardia.local/ops-ws-01/3f9a1c0b7d2e4a61 AbCd…  ← em dash, key name, base64(key id ‖ signature)
//! ```
//! The signature is Ed25519 over the body (the three lines, each ending in `\n`); the key
//! id is the first four bytes of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`. A verifier key
//! is written `name+<key id hex>+<base64(0x01 ‖ public key)>`. Any C2SP note verifier
//! (e.g. Go's `golang.org/x/mod/sumdb/note`) accepts these notes.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::tree::Hash;

/// Ed25519's algorithm byte in C2SP signed notes.
const ALG_ED25519: u8 = 0x01;
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// What a checkpoint commits to: this log, this many entries, this root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The signed body: origin, size and base64 root, one per line.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    fn parse_body(body: &str) -> Result<Self, NoteError> {
        let mut lines = body.lines();
        let origin = lines.next().filter(|l| !l.is_empty());
        let origin = origin.ok_or(NoteError::Malformed("the origin line is empty"))?;
        let size = lines
            .next()
            .filter(|l| !l.is_empty() && (l == &"0" || !l.starts_with('0')))
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or(NoteError::Malformed(
                "the tree size is not a decimal number",
            ))?;
        let root = lines
            .next()
            .and_then(|l| BASE64.decode(l).ok())
            .and_then(|bytes| <Hash>::try_from(bytes.as_slice()).ok())
            .ok_or(NoteError::Malformed(
                "the root is not a base64 SHA-256 hash",
            ))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// Why a signed checkpoint was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("not a signed checkpoint: {0}")]
    Malformed(&'static str),
    #[error("not signed by the trusted key {expected} (signed by: {found})")]
    WrongKey { expected: String, found: String },
    #[error("the signature by {0} does not match the text: the checkpoint was forged or altered")]
    BadSignature(String),
    #[error("the checkpoint belongs to log `{found}`, not `{expected}`")]
    WrongOrigin { expected: String, found: String },
    #[error("not a verifier key: {0}")]
    BadKey(&'static str),
}

/// A key name must be a single token (C2SP: no `+`, no spaces).
fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c == '+' || c.is_whitespace()) {
        return Err(NoteError::BadKey(
            "the name is empty or holds `+` or whitespace",
        ));
    }
    Ok(())
}

fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ALG_ED25519]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The Ed25519 key that signs this log's checkpoints. Lives in the OS keyring; its `Debug`
/// shows only the public half.
pub struct AuditSigningKey {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditSigningKey")
            .field("verifier", &self.verifier().to_string())
            .finish_non_exhaustive()
    }
}

impl AuditSigningKey {
    /// A fresh key from the OS random source.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut_slice())
            .map_err(|_| NoteError::BadKey("the OS random source failed"))?;
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The key whose 32-byte secret seed is `seed` (as kept in the keyring).
    pub fn from_seed(name: &str, seed: &[u8]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let seed: &[u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::BadKey("an Ed25519 seed is 32 bytes"))?;
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// The secret seed, for storing in the keyring. Wiped from memory when dropped.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, as a verifier key anyone may hold.
    pub fn verifier(&self) -> VerifierKey {
        let public = self.key.verifying_key();
        VerifierKey {
            id: key_id(&self.name, &public),
            name: self.name.clone(),
            public,
        }
    }

    /// The signed note for `checkpoint`: body, blank line, signature line.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        let body = checkpoint.body();
        let signature = self.key.sign(body.as_bytes());
        let mut blob = Vec::with_capacity(4 + 64);
        blob.extend_from_slice(&self.verifier().id);
        blob.extend_from_slice(&signature.to_bytes());
        format!(
            "{body}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        )
    }
}

/// A public key that checks checkpoint signatures: `name+keyid+base64key`.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: [u8; 4],
    public: VerifyingKey,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut blob = vec![ALG_ED25519];
        blob.extend_from_slice(self.public.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            crate::hex_lower(&self.id),
            BASE64.encode(blob)
        )
    }
}

impl FromStr for VerifierKey {
    type Err = NoteError;

    fn from_str(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        // The key itself is standard base64, which may contain `+`: split twice only.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadKey("expected name+keyid+key"));
        };
        check_key_name(name)?;
        let blob = BASE64
            .decode(key_b64)
            .map_err(|_| NoteError::BadKey("the key is not base64"))?;
        // (An empty blob is no key either: found by the checkpoint_note fuzz target.)
        let Some((&ALG_ED25519, rest)) = blob.split_first() else {
            return Err(NoteError::BadKey("not an Ed25519 key"));
        };
        let Ok(bytes) = <[u8; 32]>::try_from(rest) else {
            return Err(NoteError::BadKey("not an Ed25519 key"));
        };
        let public = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| NoteError::BadKey("not a valid Ed25519 point"))?;
        let id = key_id(name, &public);
        if crate::hex_lower(&id) != id_hex {
            return Err(NoteError::BadKey("the key id does not match the key"));
        }
        Ok(Self {
            name: name.to_owned(),
            id,
            public,
        })
    }
}

impl VerifierKey {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks the note's signature with this key, then parses its body. Only the body the
    /// signature covers is ever read: text outside it cannot change what is accepted.
    pub fn open(&self, note: &str) -> Result<Checkpoint, NoteError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Malformed(
                "the text is far longer than a checkpoint (at most 16 KiB)",
            ));
        }
        let (body, signatures) = split_note(note)?;
        // Every line must be a well-formed signature — nothing may ride along after the one
        // that verifies (a file with trailing content is not the note that was signed).
        let mut lines = Vec::new();
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix(SIGNATURE_PREFIX) else {
                return Err(NoteError::Malformed("a signature line lacks the em dash"));
            };
            let Some((name, blob)) = rest.split_once(' ') else {
                return Err(NoteError::Malformed("a signature line lacks its signature"));
            };
            let blob = BASE64
                .decode(blob)
                .map_err(|_| NoteError::Malformed("a signature is not base64"))?;
            if blob.len() < 4 {
                return Err(NoteError::Malformed("a signature is too short"));
            }
            lines.push((name, blob));
        }
        let mut found = Vec::new();
        for (name, blob) in lines {
            let (id, signature) = blob.split_at(4);
            if name != self.name || id != self.id {
                found.push(format!("{name} ({})", crate::hex_lower(id)));
                continue;
            }
            let signature = Signature::from_slice(signature)
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            self.public
                .verify(body.as_bytes(), &signature)
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            return Checkpoint::parse_body(body);
        }
        Err(NoteError::WrongKey {
            expected: format!("{} ({})", self.name, crate::hex_lower(&self.id)),
            found: if found.is_empty() {
                "nobody".to_owned()
            } else {
                found.join(", ")
            },
        })
    }

    /// [`open`](Self::open), and the checkpoint must be of log `origin`.
    pub fn open_for(&self, origin: &str, note: &str) -> Result<Checkpoint, NoteError> {
        let checkpoint = self.open(note)?;
        if checkpoint.origin != origin {
            return Err(NoteError::WrongOrigin {
                expected: origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}

/// The longest note accepted: a checkpoint with a few cosignatures is well under 1 KiB.
pub const MAX_NOTE_BYTES: usize = 16 * 1024;

/// A note as kept in a file: CRLF line ends (a Windows copy) become LF and a missing final
/// newline is added, so `audit verify --checkpoint` and `audit import` read a file the same
/// way. Anything else about the text is checked by [`VerifierKey::open`].
pub fn normalize_note(text: &str) -> String {
    let mut note = text.replace("\r\n", "\n");
    if !note.ends_with('\n') {
        note.push('\n');
    }
    note
}

/// Splits a note into its body (ending in `\n`) and its signature lines.
fn split_note(note: &str) -> Result<(&str, &str), NoteError> {
    // Files copied between machines may have gained CRLF line ends; the signature is over
    // LF text, so CR is not tolerated silently — it is reported.
    if note.contains('\r') {
        return Err(NoteError::Malformed(
            "the text has CR line ends (convert to LF)",
        ));
    }
    if !note.ends_with('\n') {
        return Err(NoteError::Malformed("the text does not end with a newline"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("there is no signature block"))?;
    Ok((&note[..=split], &note[split + 2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditSigningKey {
        AuditSigningKey::from_seed("guardia.local/test/0001", &[7u8; 32]).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "guardia.local/test/0001".into(),
            size: 4096,
            root: [0xab; 32],
        }
    }

    #[test]
    fn a_signed_checkpoint_opens_with_its_verifier_key() {
        let note = key().sign(&checkpoint());
        assert!(note.starts_with("guardia.local/test/0001\n4096\n"));
        assert!(note.contains("\n\n\u{2014} guardia.local/test/0001 "));
        let vkey: VerifierKey = key().verifier().to_string().parse().unwrap();
        assert_eq!(
            vkey.open_for("guardia.local/test/0001", &note).unwrap(),
            checkpoint()
        );
    }

    #[test]
    fn an_edited_body_is_a_bad_signature() {
        let note = key().sign(&checkpoint()).replace("4096", "4095");
        assert!(matches!(
            key().verifier().open(&note),
            Err(NoteError::BadSignature(_))
        ));
    }

    #[test]
    fn another_key_with_the_same_name_is_the_wrong_key() {
        let other = AuditSigningKey::from_seed("guardia.local/test/0001", &[8u8; 32]).unwrap();
        let note = other.sign(&checkpoint());
        assert!(matches!(
            key().verifier().open(&note),
            Err(NoteError::WrongKey { .. })
        ));
    }

    #[test]
    fn a_forged_signature_under_the_right_key_id_is_refused() {
        let note = key().sign(&checkpoint());
        let (body, sig_line) = note.split_at(note.rfind("\n\n").unwrap() + 2);
        let blob_b64 = sig_line.trim_end().rsplit(' ').next().unwrap();
        let mut blob = BASE64.decode(blob_b64).unwrap();
        blob[10] ^= 1;
        let forged = format!(
            "{body}\u{2014} guardia.local/test/0001 {}\n",
            BASE64.encode(blob)
        );
        assert!(matches!(
            key().verifier().open(&forged),
            Err(NoteError::BadSignature(_))
        ));
    }

    #[test]
    fn another_origin_is_refused() {
        let note = key().sign(&checkpoint());
        assert!(matches!(
            key().verifier().open_for("guardia.local/other", &note),
            Err(NoteError::WrongOrigin { .. })
        ));
    }

    /// Found by the `checkpoint_note` fuzz target: an empty key blob panicked.
    #[test]
    fn hardening_06_a_verifier_key_with_an_empty_or_short_blob_is_refused() {
        for text in ["g+AAA+", "guardia.local/x+00000000+", "a+b+AQ=="] {
            assert!(matches!(
                text.parse::<VerifierKey>(),
                Err(NoteError::BadKey(_))
            ));
        }
    }

    #[test]
    fn verifier_keys_with_a_wrong_id_do_not_parse() {
        let text = key().verifier().to_string();
        let broken = text.replacen('+', "+0", 1).replacen("+0", "+", 1);
        assert_eq!(broken, text);
        let (name, rest) = text.split_once('+').unwrap();
        let (_, key_b64) = rest.split_once('+').unwrap();
        assert!(
            format!("{name}+00000000+{key_b64}")
                .parse::<VerifierKey>()
                .is_err()
        );
    }

    /// Regression: a key whose base64 holds `+` was split into four parts and refused.
    #[test]
    fn verifier_keys_whose_base64_contains_a_plus_parse() {
        let with_plus = (0u8..=255)
            .map(|i| AuditSigningKey::from_seed("guardia.local/test/0001", &[i; 32]).unwrap())
            .find(|k| k.verifier().to_string().matches('+').count() > 2)
            .expect("some seed gives a key with + in its base64");
        let text = with_plus.verifier().to_string();
        assert_eq!(text.parse::<VerifierKey>().unwrap(), with_plus.verifier());
    }

    #[test]
    fn crlf_notes_are_reported_not_guessed_at() {
        let note = key().sign(&checkpoint()).replace('\n', "\r\n");
        assert!(matches!(
            key().verifier().open(&note),
            Err(NoteError::Malformed(_))
        ));
    }

    #[test]
    fn the_debug_form_shows_no_secret() {
        let shown = format!("{:?}", key());
        assert!(shown.contains("verifier"));
        assert!(!shown.contains(&crate::hex_lower(key().seed().as_slice())));
    }
}
