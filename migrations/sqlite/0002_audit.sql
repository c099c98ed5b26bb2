-- The audit ledger (docs/audit.md). Append-only: triggers refuse UPDATE and DELETE so that no
-- code path can edit history by mistake. They are not the protection — whoever owns the file
-- can drop them — the signed checkpoints are: any edit shows up in `guardia audit verify`.

-- One row per entry: exactly the bytes that were hashed into the tree.
CREATE TABLE audit_entries (
    idx     INTEGER PRIMARY KEY NOT NULL CHECK (idx >= 0), -- position, from audit_tree.size (never a sequence)
    entry   BLOB    NOT NULL,                               -- canonical guardia.audit.v1 bytes
    leaf    BLOB    NOT NULL CHECK (length(leaf) = 32),     -- SHA-256(0x00 || entry), recorded at append
    -- Copies for searching only. What the console shows is decoded from `entry`.
    at      TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    result  TEXT    NOT NULL
);
CREATE INDEX audit_entries_kind ON audit_entries (kind, idx);
CREATE INDEX audit_entries_actor ON audit_entries (actor, idx);
CREATE INDEX audit_entries_subject ON audit_entries (subject, idx);

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;

-- Every perfect subtree above the leaves (level >= 1), for inclusion and consistency proofs.
CREATE TABLE audit_nodes (
    level INTEGER NOT NULL CHECK (level >= 1),
    idx   INTEGER NOT NULL CHECK (idx >= 0),
    hash  BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- The tree's right edge: its size and the root of each perfect subtree, largest first
-- (32 bytes each, concatenated). Appending reads and rewrites this one row: O(log n).
CREATE TABLE audit_tree (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    size  INTEGER NOT NULL CHECK (size >= 0),
    peaks BLOB    NOT NULL
);
INSERT INTO audit_tree (id, size, peaks) VALUES (1, 0, x'');

-- Signed checkpoints (C2SP signed notes) written by this console.
CREATE TABLE audit_checkpoints (
    size        INTEGER PRIMARY KEY NOT NULL,
    note        TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    exported_at TEXT                                        -- last time it was copied off the machine
);

-- Checkpoints kept elsewhere and brought back to check this database against.
CREATE TABLE audit_external_checkpoints (
    note        TEXT    PRIMARY KEY NOT NULL,
    size        INTEGER NOT NULL,
    label       TEXT    NOT NULL,
    imported_at TEXT    NOT NULL
);

-- The log's identity: its origin line and the verifier key its checkpoints are signed with.
CREATE TABLE audit_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Verification runs. A failed one blocks rollouts until an admin acknowledges it.
CREATE TABLE audit_verifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at      TEXT    NOT NULL,
    finished_at     TEXT    NOT NULL,
    trigger         TEXT    NOT NULL,                       -- manual | daily | cli
    actor           TEXT    NOT NULL,
    ok              INTEGER NOT NULL CHECK (ok IN (0, 1)),
    entries         INTEGER NOT NULL,
    checkpoints     INTEGER NOT NULL,
    first_bad       INTEGER,
    problem_code    TEXT,
    problem         TEXT,
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    acknowledgement TEXT
);
