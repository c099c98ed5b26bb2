-- Result packages and their review (issue 11, SPEC §4).

-- One row per imported package version of a task (v1, v2 … side by side). `sha256` is the
-- package's identity (the SHA-256 of its manifest.json, which names every file's hash);
-- `source_sha256` the archive file's own hash. `state`: review (waiting for the decision),
-- rework (rejected with notes), approved, taken_over (a person took the task over).
CREATE TABLE packages (
    task_id       TEXT    NOT NULL REFERENCES tasks (id),
    version       INTEGER NOT NULL CHECK (version >= 1),
    sha256        TEXT    NOT NULL,
    source_sha256 TEXT    NOT NULL,
    container     TEXT    NOT NULL,
    source_name   TEXT    NOT NULL,
    producer      TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    imported_at   TEXT    NOT NULL,
    imported_by   TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('review', 'rework', 'approved', 'taken_over')),
    manifest      BLOB    NOT NULL,
    warnings      TEXT    NOT NULL,
    PRIMARY KEY (task_id, version),
    UNIQUE (task_id, sha256)
);

-- Every file of a package, as it was verified (never extracted to disk).
CREATE TABLE package_files (
    task_id TEXT    NOT NULL,
    version INTEGER NOT NULL,
    path    TEXT    NOT NULL,
    role    TEXT    NOT NULL,
    size    INTEGER NOT NULL,
    sha256  TEXT    NOT NULL,
    content BLOB    NOT NULL,
    PRIMARY KEY (task_id, version, path),
    FOREIGN KEY (task_id, version) REFERENCES packages (task_id, version)
);

-- A reviewer's mark on one file of one package version, keyed by the file's diff hash: a
-- file whose change differs in the next version has no mark there. `shown_rows` counts the
-- rows of the file the console actually served to that reviewer. `carried_from` names the
-- version the mark was made on when it carried over unchanged.
CREATE TABLE review_marks (
    task_id      TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    path         TEXT    NOT NULL,
    person       TEXT    NOT NULL,
    diff_hash    TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('viewed', 'waived')),
    reason       TEXT    NOT NULL,
    shown_rows   INTEGER NOT NULL CHECK (shown_rows >= 0),
    at           TEXT    NOT NULL,
    carried_from INTEGER,
    PRIMARY KEY (task_id, version, path, person),
    FOREIGN KEY (task_id, version) REFERENCES packages (task_id, version)
);

-- Line comments. A comment belongs to one package version; on the next import it is copied
-- forward (`origin` keeps the first one's id) on the same line if that line is unchanged,
-- or marked outdated.
CREATE TABLE review_comments (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    origin    INTEGER,
    task_id   TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    path      TEXT    NOT NULL,
    side      TEXT    NOT NULL CHECK (side IN ('old', 'new')),
    line      INTEGER NOT NULL CHECK (line >= 1),
    line_text TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    author    TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    outdated  INTEGER NOT NULL DEFAULT 0 CHECK (outdated IN (0, 1)),
    FOREIGN KEY (task_id, version) REFERENCES packages (task_id, version)
);
CREATE INDEX review_comments_by_package ON review_comments (task_id, version);

-- The review's decisions, with the approval record (what was seen) as JSON.
CREATE TABLE review_decisions (
    task_id TEXT    NOT NULL,
    version INTEGER NOT NULL,
    verdict TEXT    NOT NULL CHECK (verdict IN ('approve', 'rework', 'take_over')),
    by      TEXT    NOT NULL,
    at      TEXT    NOT NULL,
    comment TEXT    NOT NULL,
    record  TEXT    NOT NULL,
    PRIMARY KEY (task_id, version, at, by),
    FOREIGN KEY (task_id, version) REFERENCES packages (task_id, version)
);

-- What the console wrote to the agent's outbox for a task: work orders, rework briefs and
-- withdrawals (a person took the task over), numbered per task.
CREATE TABLE task_documents (
    task_id   TEXT    NOT NULL REFERENCES tasks (id),
    seq       INTEGER NOT NULL CHECK (seq >= 1),
    kind      TEXT    NOT NULL CHECK (kind IN ('work_order', 'rework_brief', 'withdrawal')),
    file_name TEXT    NOT NULL,
    content   TEXT    NOT NULL,
    sha256    TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    by        TEXT    NOT NULL,
    PRIMARY KEY (task_id, seq)
);
