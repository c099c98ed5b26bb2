//! The Merkle tree of RFC 6962 / RFC 9162 §2.1, over SHA-256.
//!
//! Leaves are hashed as `SHA-256(0x00 ‖ entry)` and interior nodes as
//! `SHA-256(0x01 ‖ left ‖ right)`, so a leaf can never be passed off as a node. A tree of `n`
//! leaves splits at the largest power of two below `n`, which makes every tree a sequence of
//! *perfect* subtrees (one per set bit of `n`); that is what lets the log append in O(log n)
//! ([`Frontier`]) and keep every perfect subtree it ever completed as a stored node
//! ([`NodeId`]) from which any inclusion or consistency proof is assembled.
//!
//! Proofs are described as the leaf ranges whose subtree hashes they carry
//! ([`inclusion_ranges`], [`consistency_ranges`]); the store turns each range into the few
//! stored perfect nodes it is made of ([`perfect_nodes`]) and folds them ([`fold_range`]).

use std::ops::Range;

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// A perfect subtree: the `2^level` leaves starting at `index << level`. Level 0 is a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    /// The leaves this node covers.
    pub fn leaves(self) -> Range<u64> {
        let start = self.index << self.level;
        start..start + (1u64 << self.level)
    }
}

/// The largest power of two strictly below `n` (`n >= 2`): where RFC 9162 splits a tree.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2, "a tree of fewer than two leaves does not split");
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The right edge of a tree: the root of each perfect subtree it is made of, largest
/// (leftmost) first. Enough to append a leaf and to compute the root, in O(log n).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

/// A frontier whose parts do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a tree of {size} leaves has {expected} perfect subtrees, not {found}")]
pub struct FrontierMismatch {
    pub size: u64,
    pub expected: u32,
    pub found: usize,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from its stored parts, checking they are consistent.
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Result<Self, FrontierMismatch> {
        if peaks.len() != size.count_ones() as usize {
            return Err(FrontierMismatch {
                size,
                expected: size.count_ones(),
                found: peaks.len(),
            });
        }
        Ok(Self { size, peaks })
    }

    /// How many leaves the tree has.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the perfect subtrees, largest first.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Adds a leaf. Returns every perfect subtree this completed, the leaf itself first and
    /// then upwards, so the caller can store them for proofs.
    pub fn append(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let mut completed = Vec::with_capacity(2);
        self.append_with(leaf, |id, hash| completed.push((id, *hash)));
        completed
    }

    /// Adds a leaf without collecting the completed subtrees (the verifier's hot path).
    pub fn push(&mut self, leaf: Hash) {
        self.append_with(leaf, |_, _| {});
    }

    fn append_with(&mut self, leaf: Hash, mut completed: impl FnMut(NodeId, &Hash)) {
        let index = self.size;
        completed(NodeId { level: 0, index }, &leaf);
        let mut hash = leaf;
        let mut level: u8 = 0;
        // Each trailing 1-bit of the old size is a perfect subtree of the same height as the
        // one just completed, waiting on its left: merge them, carry upwards.
        while (index >> level) & 1 == 1 {
            let Some(left) = self.peaks.pop() else {
                // from_parts guarantees one peak per set bit, so this cannot happen.
                break;
            };
            hash = node_hash(&left, &hash);
            level += 1;
            completed(
                NodeId {
                    level,
                    index: index >> level,
                },
                &hash,
            );
        }
        self.peaks.push(hash);
        self.size += 1;
    }

    /// The Merkle tree hash of all leaves appended so far.
    pub fn root(&self) -> Hash {
        fold_range(&self.peaks)
    }
}

/// Splits the leaves `range` of a tree into the perfect subtrees the RFC 9162 recursion
/// would hash, left to right. `range` must be one that appears in that recursion (as every
/// range of [`inclusion_ranges`] and [`consistency_ranges`] does): its start is aligned.
pub fn perfect_nodes(range: Range<u64>) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let remaining = range.end - start;
        let level = 63 - remaining.leading_zeros();
        // The largest power of two that fits and that `start` is aligned to.
        let level = level.min(start.trailing_zeros());
        let size = 1u64 << level;
        nodes.push(NodeId {
            level: level as u8,
            index: start >> level,
        });
        start += size;
    }
    nodes
}

/// The hash of a range from the hashes of its [`perfect_nodes`], left to right:
/// the right-leaning fold of RFC 9162. The empty list gives the empty root.
pub fn fold_range(nodes: &[Hash]) -> Hash {
    let Some((last, rest)) = nodes.split_last() else {
        return empty_root();
    };
    rest.iter()
        .rev()
        .fold(*last, |right, left| node_hash(left, &right))
}

/// The leaf ranges whose hashes make up the inclusion proof of leaf `index` in a tree of
/// `size` leaves, in proof order (the sibling nearest the leaf first). Empty when
/// `index >= size` or the tree has one leaf.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<Range<u64>> {
    fn path(index: u64, range: Range<u64>, out: &mut Vec<Range<u64>>) {
        let n = range.end - range.start;
        if n <= 1 {
            return;
        }
        let mid = range.start + split_point(n);
        if index < mid {
            path(index, range.start..mid, out);
            out.push(mid..range.end);
        } else {
            path(index, mid..range.end, out);
            out.push(range.start..mid);
        }
    }
    let mut out = Vec::new();
    if index < size {
        path(index, 0..size, &mut out);
    }
    out
}

/// The leaf ranges whose hashes make up the consistency proof from a tree of `old` leaves
/// to one of `new` leaves (RFC 9162 §2.1.4.1), in proof order. Empty when `old` is 0 or
/// equals `new`, or when `old > new` (there is no such proof).
pub fn consistency_ranges(old: u64, new: u64) -> Vec<Range<u64>> {
    fn subproof(m: u64, range: Range<u64>, whole: bool, out: &mut Vec<Range<u64>>) {
        let n = range.end - range.start;
        if m == n {
            if !whole {
                out.push(range);
            }
            return;
        }
        let k = split_point(n);
        let mid = range.start + k;
        if m <= k {
            subproof(m, range.start..mid, whole, out);
            out.push(mid..range.end);
        } else {
            subproof(m - k, mid..range.end, false, out);
            out.push(range.start..mid);
        }
    }
    let mut out = Vec::new();
    if 0 < old && old < new {
        subproof(old, 0..new, true, &mut out);
    }
    out
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a tree of {new} leaves cannot extend one of {old}")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error("the proof has the wrong number of hashes for these sizes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `new` leaves with root `new_root` extends the tree of `old`
/// leaves with root `old_root` — the same first `old` entries, nothing changed or removed —
/// (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::SizesOutOfOrder { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old == 0 {
        // Every tree extends the empty one.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);

    let mut f = old - 1;
    let mut s = new - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
    }

    #[test]
    fn perfect_nodes_follow_the_set_bits_of_the_size() {
        assert_eq!(
            perfect_nodes(0..13),
            vec![
                NodeId { level: 3, index: 0 },
                NodeId { level: 2, index: 2 },
                NodeId {
                    level: 0,
                    index: 12
                },
            ]
        );
        assert_eq!(perfect_nodes(6..8), vec![NodeId { level: 1, index: 3 }]);
        assert_eq!(perfect_nodes(0..0), vec![]);
    }
}
