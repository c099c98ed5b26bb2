//! # guardia-audit — the tamper-evident record of everything GUARDiA does
//!
//! Auditors must be able to show that nobody edited, deleted, reordered or cut off the
//! record of who approved and ran what — offline, without trusting GUARDiA's own binary. A
//! hash chain does not do that: whoever can write the table can recompute the chain, and a
//! missing tail is invisible. So the log is a Merkle tree (RFC 9162 hashing, [`tree`]) whose
//! size and root are signed from time to time with an Ed25519 key kept in the OS keyring
//! ([`checkpoint`], the C2SP signed-note form). A checkpoint copied off the machine pins
//! everything before it: any later change to those entries, a restored older database, or a
//! cut tail no longer matches it, and [`Verifier`] names the first entry that cannot be trusted.
//!
//! This crate is pure: the canonical entry bytes ([`EntryDraft::encode`]), the tree and its
//! proofs, checkpoints, and the streaming verifier. Storage (in the same transaction as the
//! change an entry records) lives in `guardia-store`; the keyring in `guardia-secrets`.
//! `docs/audit.md` describes the formats for auditors who re-verify with their own script.

pub mod checkpoint;
pub mod entry;
pub mod tree;
pub mod verify;

pub use checkpoint::{
    AuditSigningKey, Checkpoint, MAX_NOTE_BYTES, NoteError, VerifierKey, normalize_note,
};
pub use entry::{
    ENTRY_PREFIX, Entry, EntryDraft, EntryError, EntryKind, Outcome, claimed_index, format_time,
    hex_lower, sha256_hex,
};
pub use tree::{
    Frontier, Hash, NodeId, ProofError, consistency_ranges, empty_root, fold_range,
    inclusion_ranges, leaf_hash, node_hash, perfect_nodes, verify_consistency, verify_inclusion,
};
pub use verify::{Failure, Problem, Report, Source, Verifier};

/// Entries between automatic checkpoints.
pub const CHECKPOINT_EVERY: u64 = 256;
