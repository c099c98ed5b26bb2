-- Rollouts, their per-site journal, deployment history and the kill switch (issue 12).

-- One row per rollout. `plan` is the resolved plan (JSON: sites, phases, batches, budget),
-- so a console that restarts resumes exactly what was planned; `params` the playbook's
-- bound parameters; the package and playbook are named by hash.
CREATE TABLE rollouts (
    id               TEXT    NOT NULL PRIMARY KEY,
    task_id          TEXT    NOT NULL REFERENCES tasks (id),
    package_version  INTEGER NOT NULL,
    package_sha256   TEXT    NOT NULL,
    playbook         TEXT    NOT NULL,
    playbook_version INTEGER NOT NULL,
    playbook_sha256  TEXT    NOT NULL,
    version_label    TEXT    NOT NULL,
    params           TEXT    NOT NULL,
    plan             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    phase            INTEGER NOT NULL DEFAULT 0,
    gate_until       TEXT,
    -- A person's request to the process running it (pause, resume, approve_gate, abort),
    -- taken and cleared by that process: the CLI steers a rollout the console runs.
    request          TEXT    NOT NULL DEFAULT '',
    started_by       TEXT    NOT NULL,
    started_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX rollouts_task ON rollouts (task_id);
CREATE INDEX rollouts_state ON rollouts (state);

-- Where each site of a rollout stands (`site` indexes the plan's sites).
CREATE TABLE rollout_sites (
    rollout_id TEXT    NOT NULL REFERENCES rollouts (id),
    site       INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    phase      INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    log_tail   TEXT    NOT NULL DEFAULT '',
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (rollout_id, site)
);

-- The step journal: a `begin` row is committed before a step is sent to a server and an
-- `end` row after its outcome is known (ok, failed, unknown, cancelled). A begin without an
-- end after a crash is a step whose outcome is unknown.
CREATE TABLE rollout_steps (
    rollout_id TEXT    NOT NULL REFERENCES rollouts (id),
    seq        INTEGER NOT NULL,
    site       INTEGER NOT NULL,
    server     TEXT    NOT NULL,
    step       TEXT    NOT NULL,
    mark       TEXT    NOT NULL CHECK (mark IN ('begin', 'end')),
    outcome    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (rollout_id, seq)
);
CREATE INDEX rollout_steps_site ON rollout_steps (rollout_id, site, seq);

-- What each server runs: one row per deployment or rollback that reached it.
CREATE TABLE deployments (
    server     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    task_id    TEXT    NOT NULL,
    rollout_id TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    files      TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    result     TEXT    NOT NULL,
    audit_idx  INTEGER NOT NULL
);
CREATE INDEX deployments_server ON deployments (server, at);

-- The kill switch (one row). Engaged survives restarts; only a security officer re-arms.
CREATE TABLE kill_switch (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    engaged INTEGER NOT NULL,
    by      TEXT    NOT NULL,
    reason  TEXT    NOT NULL,
    at      TEXT    NOT NULL
);
