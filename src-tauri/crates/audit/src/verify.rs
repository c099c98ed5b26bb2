//! The verifier: streams every entry once and finds the first one that cannot be trusted.
//!
//! It trusts exactly one thing, the verifier key it is given. The tree size and root it
//! checks against come only from checkpoints whose signature that key accepts — never from
//! the database's own bookkeeping, which an attacker with write access can rewrite. What
//! the database records (each entry's leaf hash at append time, the tree's right edge) is
//! used only to *localise* damage to one entry when the edit was naive.
//!
//! What is caught, and where it is reported (`first_bad`):
//! * an entry whose bytes changed — at that entry (its recorded leaf hash differs), or, if
//!   the attacker also rewrote the hashes, at the start of the stretch after the last
//!   checkpoint that still matches;
//! * entries deleted, inserted or swapped — at the first position whose entry carries
//!   another index (every entry names its own index inside the hashed bytes);
//! * a truncated tail or an older copy of the database — at the first missing entry, given a
//!   checkpoint (stored or kept outside) that signs more entries than the log has;
//! * a forged or wrongly-keyed checkpoint — at the end of the last stretch still vouched
//!   for by a good checkpoint.

use std::fmt;

use crate::checkpoint::{Checkpoint, NoteError, VerifierKey};
use crate::entry::claimed_index;
use crate::tree::{Frontier, Hash, leaf_hash};

/// Where a checkpoint came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Written by this console into its own database.
    Stored,
    /// Kept outside the machine and handed to the verifier (a file name or a label).
    External(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stored => f.write_str("the database"),
            Self::External(label) => write!(f, "{label}"),
        }
    }
}

/// What is wrong, in terms an auditor can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The bytes at this position are not an audit entry of a known format.
    NotAnEntry { index: u64 },
    /// The entry at `position` says it is entry `claimed`.
    OutOfPlace { position: u64, claimed: u64 },
    /// The stored rows jump from `position` to `next_row`.
    MissingRows { position: u64, next_row: u64 },
    /// The entry's bytes no longer hash to the leaf hash recorded when it was appended.
    LeafMismatch { index: u64 },
    /// Entries `since..size` do not hash to the root a valid checkpoint signed.
    RootMismatch {
        since: u64,
        size: u64,
        source: Source,
    },
    /// A checkpoint's signature, key or origin is wrong.
    BadCheckpoint {
        size: Option<u64>,
        source: Source,
        reason: NoteError,
    },
    /// A valid checkpoint signs more entries than the log holds.
    Truncated {
        entries: u64,
        size: u64,
        source: Source,
    },
    /// The log's own record of its size disagrees with the entries found.
    SizeMismatch { entries: u64, recorded: u64 },
    /// The log's own record of its right edge disagrees with the entries since `since`.
    TailMismatch { since: u64 },
    /// Entries stored at or after `from`, where the log records its end: added outside it.
    Unrecorded { from: u64, count: u64 },
    /// The log names a verifier key other than the one this console signs with: its
    /// identity was rewritten (e.g. the log re-signed under someone else's key).
    KeyReplaced { recorded: String, trusted: String },
}

impl Problem {
    /// A stable code for JSON and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnEntry { .. } => "not_an_entry",
            Self::OutOfPlace { .. } => "out_of_place",
            Self::MissingRows { .. } => "missing_rows",
            Self::LeafMismatch { .. } => "entry_edited",
            Self::RootMismatch { .. } => "root_mismatch",
            Self::BadCheckpoint { .. } => "bad_checkpoint",
            Self::Truncated { .. } => "truncated",
            Self::SizeMismatch { .. } => "size_mismatch",
            Self::TailMismatch { .. } => "tail_mismatch",
            Self::Unrecorded { .. } => "unrecorded_entries",
            Self::KeyReplaced { .. } => "key_replaced",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAnEntry { index } => {
                write!(f, "entry {index} is not a guardia.audit.v1 entry")
            }
            Self::OutOfPlace { position, claimed } => write!(
                f,
                "the entry stored at position {position} is entry {claimed}: \
                 entries were deleted, inserted or reordered"
            ),
            Self::MissingRows { position, next_row } => write!(
                f,
                "entries {position}..{next_row} are missing: the log jumps from {position} to {next_row}"
            ),
            Self::LeafMismatch { index } => write!(
                f,
                "entry {index} was edited: its bytes no longer match the hash recorded when it was appended"
            ),
            Self::RootMismatch {
                since,
                size,
                source,
            } => write!(
                f,
                "entries {since}..{size} do not match the checkpoint of size {size} from {source}: \
                 one of them was edited, removed or added"
            ),
            Self::BadCheckpoint {
                size,
                source,
                reason,
            } => match size {
                Some(size) => write!(
                    f,
                    "the checkpoint of size {size} from {source} is not valid: {reason}"
                ),
                None => write!(f, "a checkpoint from {source} is not valid: {reason}"),
            },
            Self::Truncated {
                entries,
                size,
                source,
            } => write!(
                f,
                "the log holds {entries} entries but the checkpoint from {source} signs {size}: \
                 the tail was removed or an older copy of the database was restored"
            ),
            Self::SizeMismatch { entries, recorded } => write!(
                f,
                "the log records {recorded} entries but holds {entries}: entries were removed or added"
            ),
            Self::TailMismatch { since } => write!(
                f,
                "the entries after {since} do not match the tree the log recorded for them"
            ),
            Self::Unrecorded { from, count } => write!(
                f,
                "{count} entries are stored from index {from} on, past the end the log records: \
                 they were added outside GUARDiA"
            ),
            Self::KeyReplaced { recorded, trusted } => write!(
                f,
                "the log says its checkpoints are signed by {recorded}, but this console's key \
                 is {trusted}: the log's identity was rewritten, and nothing it signed can be trusted"
            ),
        }
    }
}

/// The first entry that cannot be trusted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub first_bad: u64,
    pub problem: Problem,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Entries read.
    pub entries: u64,
    /// The root of all entries read.
    pub root: Hash,
    /// How many checkpoints were found valid and matching.
    pub checkpoints_verified: usize,
    /// The largest size a valid checkpoint vouched for (0 if none).
    pub verified_through: u64,
    pub failure: Option<Failure>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

struct Pending {
    /// The size the checkpoint claims; for an invalid one, what its unsigned body says.
    size: Option<u64>,
    source: Source,
    opened: Result<Checkpoint, NoteError>,
}

/// Streams a log's entries, in index order, through every check.
pub struct Verifier {
    frontier: Frontier,
    /// Checkpoints not yet reached, largest size first (so the next one is at the end).
    pending: Vec<Pending>,
    verified_through: u64,
    checkpoints_verified: usize,
    failure: Option<Failure>,
}

impl Verifier {
    /// A verifier for the log named `origin`, trusting only `key`, with the checkpoints
    /// (stored and external) to check on the way.
    pub fn new(
        origin: &str,
        key: &VerifierKey,
        checkpoints: impl IntoIterator<Item = (String, Source)>,
    ) -> Self {
        let mut pending: Vec<Pending> = checkpoints
            .into_iter()
            .map(|(note, source)| {
                let opened = key.open_for(origin, &note);
                let size = match &opened {
                    Ok(checkpoint) => Some(checkpoint.size),
                    Err(_) => unsigned_size(&note),
                };
                Pending {
                    size,
                    source,
                    opened,
                }
            })
            .collect();
        // Invalid ones without a readable size are checked first (as if at size 0).
        pending.sort_by_key(|p| std::cmp::Reverse(p.size.unwrap_or(0)));
        let mut verifier = Self {
            frontier: Frontier::new(),
            pending,
            verified_through: 0,
            checkpoints_verified: 0,
            failure: None,
        };
        verifier.reach_checkpoints();
        verifier
    }

    /// How many entries have been read.
    pub fn position(&self) -> u64 {
        self.frontier.size()
    }

    /// Whether a problem has been found (further entries are ignored).
    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }

    /// Reads the next stored row: its stored index, its bytes, and the leaf hash recorded
    /// when it was appended. Returns `false` once a problem is found.
    pub fn push(&mut self, row_index: u64, bytes: &[u8], recorded_leaf: &[u8]) -> bool {
        if self.failure.is_some() {
            return false;
        }
        let position = self.frontier.size();
        if row_index != position {
            return self.fail(
                position,
                Problem::MissingRows {
                    position,
                    next_row: row_index,
                },
            );
        }
        match claimed_index(bytes) {
            None => return self.fail(position, Problem::NotAnEntry { index: position }),
            Some(claimed) if claimed != position => {
                return self.fail(
                    position.min(claimed),
                    Problem::OutOfPlace { position, claimed },
                );
            }
            Some(_) => {}
        }
        let leaf = leaf_hash(bytes);
        if leaf.as_slice() != recorded_leaf {
            return self.fail(position, Problem::LeafMismatch { index: position });
        }
        self.frontier.push(leaf);
        self.reach_checkpoints();
        self.failure.is_none()
    }

    /// Reports entries found stored beyond the end the log records (checked by the caller,
    /// atomically, after the stream).
    pub fn unrecorded(&mut self, from: u64, count: u64) {
        if count > 0 {
            self.fail(from, Problem::Unrecorded { from, count });
        }
    }

    /// Reports that the log records a verifier key other than the trusted one. Checked by
    /// the caller, who knows both; the whole log is then suspect (first bad: 0), unless a
    /// more precise problem was already found.
    pub fn key_replaced(&mut self, recorded: String, trusted: String) {
        if self.failure.is_none() {
            self.fail(0, Problem::KeyReplaced { recorded, trusted });
        }
    }

    /// Ends the stream. `recorded` is what the log's own bookkeeping says: its size and the
    /// right edge of its tree (as a root), if it keeps one.
    pub fn finish(mut self, recorded: Option<(u64, Hash)>) -> Report {
        let entries = self.frontier.size();
        if self.failure.is_none() {
            // Whatever is left claims more entries than there are.
            let mut left = std::mem::take(&mut self.pending);
            left.sort_by_key(|p| p.opened.is_ok());
            if let Some(first) = left.into_iter().next() {
                match first.opened {
                    Err(reason) => {
                        self.fail(
                            self.verified_through,
                            Problem::BadCheckpoint {
                                size: first.size,
                                source: first.source,
                                reason,
                            },
                        );
                    }
                    Ok(checkpoint) => {
                        self.fail(
                            entries,
                            Problem::Truncated {
                                entries,
                                size: checkpoint.size,
                                source: first.source,
                            },
                        );
                    }
                }
            }
        }
        if self.failure.is_none()
            && let Some((size, root)) = recorded
        {
            if size != entries {
                self.fail(
                    size.min(entries),
                    Problem::SizeMismatch {
                        entries,
                        recorded: size,
                    },
                );
            } else if root != self.frontier.root() {
                self.fail(
                    self.verified_through,
                    Problem::TailMismatch {
                        since: self.verified_through,
                    },
                );
            }
        }
        Report {
            entries,
            root: self.frontier.root(),
            checkpoints_verified: self.checkpoints_verified,
            verified_through: self.verified_through,
            failure: self.failure,
        }
    }

    fn fail(&mut self, first_bad: u64, problem: Problem) -> bool {
        if self.failure.is_none() {
            self.failure = Some(Failure { first_bad, problem });
        }
        false
    }

    /// Checks every checkpoint whose size the stream has now reached.
    fn reach_checkpoints(&mut self) {
        let size = self.frontier.size();
        while self.failure.is_none()
            && self
                .pending
                .last()
                .is_some_and(|p| p.size.unwrap_or(0) <= size)
        {
            let Some(pending) = self.pending.pop() else {
                break;
            };
            match pending.opened {
                Err(reason) => {
                    self.fail(
                        self.verified_through,
                        Problem::BadCheckpoint {
                            size: pending.size,
                            source: pending.source,
                            reason,
                        },
                    );
                }
                Ok(checkpoint) if checkpoint.root != self.frontier.root() => {
                    self.fail(
                        self.verified_through,
                        Problem::RootMismatch {
                            since: self.verified_through,
                            size,
                            source: pending.source,
                        },
                    );
                }
                Ok(_) => {
                    self.verified_through = size;
                    self.checkpoints_verified += 1;
                }
            }
        }
    }
}

/// The size line of a note whose signature did not verify, to say where it claims to be.
fn unsigned_size(note: &str) -> Option<u64> {
    note.lines().nth(1).and_then(|line| line.parse().ok())
}
