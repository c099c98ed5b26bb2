#!/usr/bin/env python3
"""Re-verify a GUARDiA audit log without GUARDiA.

Uses only SHA-256 (hashlib) and Ed25519 (the `cryptography` package, Debian:
python3-cryptography) and reads the SQLite file read-only. See docs/audit.md.

    verify-audit.py guardia.db --key 'NAME+KEYID+BASE64KEY' [--checkpoint FILE ...]

Exit 0 when the log matches every checkpoint; 1 with the first untrusted entry otherwise.
"""
import argparse, base64, hashlib, sqlite3, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PREFIX = b"guardia.audit.v1\n"

def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()

def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()

class Tree:
    """RFC 9162 tree kept as its right edge: (height, hash) of each perfect subtree."""
    def __init__(self):
        self.size, self.peaks = 0, []
    def append(self, leaf):
        height, h = 0, leaf
        while self.peaks and self.peaks[-1][0] == height:
            h = node_hash(self.peaks.pop()[1], h)
            height += 1
        self.peaks.append((height, h))
        self.size += 1
    def root(self):
        if not self.peaks:
            return hashlib.sha256(b"").digest()
        h = self.peaks[-1][1]
        for _, left in reversed(self.peaks[:-1]):
            h = node_hash(left, h)
        return h

def parse_key(text):
    name, key_id, key_b64 = text.strip().split("+", 2)  # base64 may contain "+"
    raw = base64.b64decode(key_b64)
    if raw[0] != 1 or len(raw) != 33:
        sys.exit("not an Ed25519 verifier key")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_id:
        sys.exit("the key id does not match the key")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])

def open_note(note, key):
    """Returns (size, root) if `note` is signed by `key` for log `key`'s name, else None."""
    name, key_id, public = key
    split = note.rfind("\n\n")
    if split < 0:
        return None
    body, signatures = note[: split + 1], note[split + 2 :]
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            return None
        signer, blob = line[2:].split(" ", 1)
        blob = base64.b64decode(blob)
        if signer == name and blob[:4] == key_id:
            try:
                public.verify(blob[4:], body.encode())
            except InvalidSignature:
                return None
            origin, size, root = body.split("\n")[:3]
            if origin != name:
                return None
            return int(size), base64.b64decode(root)
    return None

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("--key", required=True, help="verifier key name+keyid+key")
    parser.add_argument("--checkpoint", action="append", default=[], help="a kept checkpoint file")
    args = parser.parse_args()
    key = parse_key(args.key)
    db = sqlite3.connect(f"file:{args.database}?mode=ro", uri=True)

    def fail(first_bad, problem):
        print(f"TAMPERED: first untrusted entry {first_bad}: {problem}")
        sys.exit(1)

    checkpoints = [(note, "database") for (note,) in db.execute("SELECT note FROM audit_checkpoints")]
    checkpoints += [(open(f, encoding="utf-8").read(), f) for f in args.checkpoint]
    signed = []
    for note, source in checkpoints:
        opened = open_note(note, key)
        if opened is None:
            fail(0, f"a checkpoint from {source} is not signed by the trusted key")
        signed.append((opened[0], opened[1], source))
    signed.sort()

    tree, good = Tree(), 0
    rows = db.execute("SELECT idx, entry FROM audit_entries ORDER BY idx")
    for position, (index, entry) in enumerate(rows):
        if index != position:
            fail(position, f"entries {position}..{index} are missing")
        if not entry.startswith(PREFIX + b'{"index":' + str(position).encode() + b","):
            fail(position, "the entry is not entry %d (deleted, inserted, swapped or malformed)" % position)
        tree.append(leaf_hash(entry))
        while signed and signed[0][0] == tree.size:
            size, root, source = signed.pop(0)
            if root != tree.root():
                fail(good, f"entries {good}..{size} differ from the checkpoint from {source}")
            good = size
    if signed:
        size, _, source = signed[0]
        fail(tree.size, f"the checkpoint from {source} signs {size} entries, the log holds {tree.size}")
    print(f"intact: {tree.size} entries, signed through {good}, root {tree.root().hex()}")

main()
