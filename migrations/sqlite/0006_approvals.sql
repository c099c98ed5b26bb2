-- Approval chains and who they route to (issue 10, SPEC §3).

-- Per system (by name, as tasks name it): who holds its steps, how long they have, when it
-- may be changed. No row: no owner (any team lead of the system), the default SLA, no
-- window limits, not sensitive.
CREATE TABLE system_rules (
    system       TEXT PRIMARY KEY NOT NULL,
    owner        TEXT,
    deputy       TEXT,
    supervisor   TEXT,
    owner_away   INTEGER NOT NULL DEFAULT 0 CHECK (owner_away IN (0, 1)),
    sla_seconds  INTEGER NOT NULL CHECK (sla_seconds >= 1),
    sensitive    INTEGER NOT NULL DEFAULT 0 CHECK (sensitive IN (0, 1)),
    -- DeployWindows as JSON (validated on the way in and out).
    windows      TEXT NOT NULL,
    -- When the owner last confirmed owner/deputy (the admin view lists those older than 30 days).
    confirmed_at TEXT,
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL
);

-- One row per task and round (a resubmission after a return starts the next round; earlier
-- rounds stay as history). `chain` is the domain's Chain as JSON; `next_due` copies its
-- waiting step's SLA deadline for the scheduler; `version` makes each decision a
-- compare-and-set, so two consoles cannot both sign the same step.
CREATE TABLE approval_chains (
    task_id    TEXT    NOT NULL REFERENCES tasks (id),
    round      INTEGER NOT NULL CHECK (round >= 1),
    chain      TEXT    NOT NULL,
    is_open    INTEGER NOT NULL CHECK (is_open IN (0, 1)),
    next_due   TEXT,
    version    INTEGER NOT NULL CHECK (version >= 1),
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (task_id, round)
);
CREATE INDEX approval_chains_open ON approval_chains (is_open) WHERE is_open = 1;

-- Console-wide governance settings an admin edits (the chain policy as JSON, …).
CREATE TABLE governance_settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
