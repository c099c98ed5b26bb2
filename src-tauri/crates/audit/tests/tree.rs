//! The tree against the public RFC 6962 / RFC 9162 test vectors (as published by
//! transparency-dev/merkle and certificate-transparency) and, exhaustively, against a naive
//! recursive reference for every tree size up to 70.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the report

use guardia_audit::{
    Frontier, Hash, NodeId, ProofError, consistency_ranges, empty_root, fold_range,
    inclusion_ranges, leaf_hash, node_hash, perfect_nodes, verify_consistency, verify_inclusion,
};

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots of the trees of the first 1..=8 leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, proof)
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, proof)
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

fn h(hex_text: &str) -> Hash {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

fn vector_leaves() -> Vec<Hash> {
    LEAVES
        .iter()
        .map(|l| leaf_hash(&hex::decode(l).unwrap()))
        .collect()
}

/// RFC 9162 §2.1.1, written as literally as possible.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            // "k is the largest power of two smaller than n"
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// Builds a proof the way the store does: ranges → stored perfect nodes → fold.
fn assemble(ranges: &[std::ops::Range<u64>], nodes: &dyn Fn(NodeId) -> Hash) -> Vec<Hash> {
    ranges
        .iter()
        .map(|range| {
            let hashes: Vec<Hash> = perfect_nodes(range.clone())
                .into_iter()
                .map(nodes)
                .collect();
            fold_range(&hashes)
        })
        .collect()
}

/// Every perfect node of a tree, as the store keeps them, from appending `leaves`.
fn stored_nodes(leaves: &[Hash]) -> std::collections::HashMap<NodeId, Hash> {
    let mut frontier = Frontier::new();
    let mut nodes = std::collections::HashMap::new();
    for leaf in leaves {
        nodes.extend(frontier.append(*leaf));
    }
    nodes
}

#[test]
fn the_empty_tree_has_the_hash_of_nothing() {
    assert_eq!(
        empty_root(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(Frontier::new().root(), empty_root());
}

#[test]
fn roots_of_the_8_leaf_vector_tree_match() {
    let leaves = vector_leaves();
    let mut frontier = Frontier::new();
    for (n, leaf) in leaves.iter().enumerate() {
        frontier.push(*leaf);
        assert_eq!(frontier.root(), h(ROOTS[n]), "root of size {}", n + 1);
        assert_eq!(
            naive_root(&leaves[..=n]),
            h(ROOTS[n]),
            "naive size {}",
            n + 1
        );
    }
}

#[test]
fn inclusion_proofs_match_the_vectors_and_verify() {
    let leaves = vector_leaves();
    for &(index, size, expected) in INCLUSION {
        let nodes = stored_nodes(&leaves[..size as usize]);
        let proof = assemble(&inclusion_ranges(index, size), &|id| nodes[&id]);
        let expected: Vec<Hash> = expected.iter().map(|e| h(e)).collect();
        assert_eq!(proof, expected, "inclusion of {index} in {size}");
        let root = h(ROOTS[size as usize - 1]);
        verify_inclusion(index, size, &leaves[index as usize], &proof, &root).unwrap();
        // Negative cases from the same vectors.
        assert_eq!(
            verify_inclusion(index, size, &leaves[index as usize], &proof, &empty_root()),
            Err(ProofError::RootMismatch)
        );
        if size > 1 {
            let elsewhere = (index + 1) % size;
            assert!(
                verify_inclusion(elsewhere, size, &leaves[index as usize], &proof, &root).is_err()
            );
        }
        assert!(verify_inclusion(size, size, &leaves[0], &proof, &root).is_err());
        if !proof.is_empty() {
            assert!(
                verify_inclusion(index, size, &leaves[index as usize], &proof[1..], &root).is_err()
            );
            let mut longer = proof.clone();
            longer.push(proof[0]);
            assert!(
                verify_inclusion(index, size, &leaves[index as usize], &longer, &root).is_err()
            );
        }
    }
}

#[test]
fn consistency_proofs_match_the_vectors_and_verify() {
    let leaves = vector_leaves();
    for &(old, new, expected) in CONSISTENCY {
        let nodes = stored_nodes(&leaves[..new as usize]);
        let proof = assemble(&consistency_ranges(old, new), &|id| nodes[&id]);
        let expected: Vec<Hash> = expected.iter().map(|e| h(e)).collect();
        assert_eq!(proof, expected, "consistency {old} → {new}");
        let old_root = h(ROOTS[old as usize - 1]);
        let new_root = h(ROOTS[new as usize - 1]);
        verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
        if old != new {
            // Swapped roots, a wrong old root, a truncated proof: all refused.
            assert!(verify_consistency(old, new, &new_root, &old_root, &proof).is_err());
            assert!(verify_consistency(old, new, &empty_root(), &new_root, &proof).is_err());
            assert!(verify_consistency(old, new, &old_root, &new_root, &proof[1..]).is_err());
            assert!(verify_consistency(new, old, &new_root, &old_root, &proof).is_err());
        }
    }
}

#[test]
fn every_tree_up_to_70_leaves_agrees_with_the_naive_reference() {
    let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let nodes = stored_nodes(&leaves);
    let mut frontier = Frontier::new();
    let mut roots = vec![empty_root()];
    for leaf in &leaves {
        frontier.push(*leaf);
        let size = frontier.size() as usize;
        let root = naive_root(&leaves[..size]);
        assert_eq!(frontier.root(), root, "root of {size}");
        // The stored perfect nodes alone give the same root.
        let whole = std::iter::once(0..size as u64).collect::<Vec<_>>();
        let from_nodes = assemble(&whole, &|id| nodes[&id]);
        assert_eq!(from_nodes, vec![root], "root of {size} from stored nodes");
        roots.push(root);
    }
    for size in 1..=70u64 {
        let root = roots[size as usize];
        for index in 0..size {
            let proof = assemble(&inclusion_ranges(index, size), &|id| nodes[&id]);
            verify_inclusion(index, size, &leaves[index as usize], &proof, &root)
                .unwrap_or_else(|e| panic!("inclusion {index}/{size}: {e}"));
            let other = leaves[((index + 1) % 70) as usize];
            assert!(
                verify_inclusion(index, size, &other, &proof, &root).is_err(),
                "a different leaf must not verify at {index}/{size}"
            );
        }
        for old in 0..=size {
            let proof = assemble(&consistency_ranges(old, size), &|id| nodes[&id]);
            verify_consistency(old, size, &roots[old as usize], &root, &proof)
                .unwrap_or_else(|e| panic!("consistency {old}→{size}: {e}"));
            if 0 < old && old < size {
                let mut edited = roots[old as usize];
                edited[0] ^= 1;
                assert!(
                    verify_consistency(old, size, &edited, &root, &proof).is_err(),
                    "an edited old root must not verify {old}→{size}"
                );
            }
        }
    }
}

#[test]
fn a_frontier_rebuilt_from_its_parts_continues_the_same_tree() {
    let leaves: Vec<Hash> = (0u32..37).map(|i| leaf_hash(&i.to_le_bytes())).collect();
    let mut whole = Frontier::new();
    for leaf in &leaves[..20] {
        whole.push(*leaf);
    }
    let mut resumed = Frontier::from_parts(20, whole.peaks().to_vec()).unwrap();
    for leaf in &leaves[20..] {
        whole.push(*leaf);
        resumed.push(*leaf);
    }
    assert_eq!(resumed, whole);
    assert!(Frontier::from_parts(32, whole.peaks().to_vec()).is_err());
}
