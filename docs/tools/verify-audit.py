#!/usr/bin/env python3
"""Re-verify a GUARDiA audit log without GUARDiA.

Uses only SHA-256 (hashlib) and Ed25519 (the `cryptography` package, Debian:
python3-cryptography) and reads the SQLite file read-only. See docs/audit.md.

    verify-audit.py guardia.db --key 'NAME+KEYID+BASE64KEY' [--checkpoint FILE ...]
    verify-audit.py --evidence INC-…-evidence.json --key 'NAME+KEYID+BASE64KEY'

Exit 0 when the log matches every checkpoint (or the evidence pack is intact); 1 with the
first untrusted entry (or what is wrong with the pack) otherwise.
"""
import argparse, base64, hashlib, json, sqlite3, sys
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

def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2: is `leaf` at `index` of the tree of `size` with `root`?"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn, sn = fn >> 1, sn >> 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root

def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def verify_evidence(path, key):
    """An incident evidence pack (docs/incidents.md): canonical JSON, one signed checkpoint,
    an inclusion proof per entry, and the export entry binding the attachments."""
    def fail(problem):
        print(f"TAMPERED: {path}: {problem}")
        sys.exit(1)
    raw = open(path, "rb").read()
    try:
        pack = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        fail(f"not JSON ({e})")
    if canonical(pack) + b"\n" != raw:
        fail("the file is not in its canonical form (edited)")
    if pack.get("format") != "guardia-incident-evidence/1":
        fail("not a GUARDiA incident evidence pack")
    opened = open_note(pack["checkpoint"], key)
    if opened is None:
        fail("the checkpoint is not signed by the trusted key")
    size, root = opened
    if pack["tree_size"] != size:
        fail("the pack's tree size is not the signed one")
    entries = {}
    for item in pack["entries"]:
        entry = base64.b64decode(item["entry_base64"])
        index = item["index"]
        if not entry.startswith(PREFIX + b'{"index":' + str(index).encode() + b","):
            fail(f"entry {index} is not entry {index}")
        proof = [bytes.fromhex(h) for h in item["proof"]]
        if not verify_inclusion(index, size, leaf_hash(entry), proof, root):
            fail(f"entry {index} is not in the signed log")
        entries[index] = json.loads(entry[len(PREFIX):].decode("utf-8"))
    export = entries.get(pack["export_entry"])
    subject = "incident:" + pack["incident"]
    if export is None or export["kind"] != "incident.exported" or export["subject"] != subject:
        fail("the export entry is missing")
    digest = hashlib.sha256(canonical(pack["attachments"])).hexdigest()
    if export["payload"].get("attachments_sha256") != digest:
        fail("the attachments differ from what the export recorded")
    for log in pack["attachments"].get("rollout_logs", []):
        if hashlib.sha256(log["text"].encode()).hexdigest() != log["sha256"]:
            fail(f"the log of {log['site']} does not match its hash")
    own = sum(1 for e in entries.values() if e["subject"] == subject)
    print(f"intact: incident {pack['incident']}, {len(entries)} entries ({own} of the incident) "
          f"in the log of {size} signed by {key[0]}, attachments sha256 {digest}")

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?")
    parser.add_argument("--key", required=True, help="verifier key name+keyid+key")
    parser.add_argument("--checkpoint", action="append", default=[], help="a kept checkpoint file")
    parser.add_argument("--evidence", help="an incident evidence pack to check instead of a database")
    args = parser.parse_args()
    key = parse_key(args.key)
    if args.evidence:
        verify_evidence(args.evidence, key)
        return
    if not args.database:
        parser.error("give the database, or --evidence FILE")
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
