-- Ops tasks, their timeline, and per-operator preferences.
-- Times are UTC (RFC 3339 text in SQLite; timestamptz in the PostgreSQL twin of this file).

-- One counter per local calendar day hands out task sequence numbers atomically, even when
-- several processes (console and CLI) register tasks at the same moment.
CREATE TABLE task_day_counters (
    day      TEXT    PRIMARY KEY NOT NULL,          -- YYYY-MM-DD, the control room's local day
    last_seq INTEGER NOT NULL CHECK (last_seq >= 1)
);

CREATE TABLE tasks (
    id         TEXT    PRIMARY KEY NOT NULL,        -- OPS-YYYYMMDD-NNN
    day        TEXT    NOT NULL,
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    title      TEXT    NOT NULL,
    category   TEXT    NOT NULL CHECK (category IN ('DEPLOY', 'INFRA_CONTROL', 'DATA', 'INSPECTION')),
    sub_type   TEXT,                                -- NULL: not specified
    system     TEXT    NOT NULL,
    request    TEXT    NOT NULL,
    requester  TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (day, seq)
);

CREATE INDEX tasks_status ON tasks (status);
CREATE INDEX tasks_category ON tasks (category);

-- Append-only: rows are never updated or deleted by the application.
CREATE TABLE task_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     TEXT    NOT NULL REFERENCES tasks (id),
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('created', 'transition')),
    from_status TEXT,
    to_status   TEXT,
    event       TEXT,
    note        TEXT    NOT NULL DEFAULT '',
    CHECK ((kind = 'created') = (event IS NULL))
);

CREATE INDEX task_events_task ON task_events (task_id, id);

CREATE TABLE preferences (
    owner TEXT NOT NULL,                            -- the operator the preference belongs to
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
