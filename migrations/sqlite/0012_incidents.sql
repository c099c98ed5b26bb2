-- Incidents (issue 14).

-- One row per incident. `doc` is the whole incident (JSON of guardia_domain's `Incident`,
-- re-validated when read); the other columns repeat what lists and statistics filter on.
-- `revision` makes every change compare-and-set: two consoles acting on the same incident
-- cannot both win. `cause_key` makes one automatic cause (a rollout, a kill-switch press,
-- a failed verification) open one incident, even when two processes notice it at once.
-- The timeline is not stored here: it is the audit log.
CREATE TABLE incidents (
    id         TEXT    NOT NULL PRIMARY KEY,
    day        TEXT    NOT NULL,
    number     INTEGER NOT NULL CHECK (number BETWEEN 1 AND 999),
    cause_key  TEXT    UNIQUE,
    opened_at  TEXT    NOT NULL,
    severity   TEXT    NOT NULL CHECK (severity IN ('P1', 'P2', 'P3', 'P4')),
    kind       TEXT    NOT NULL,
    stage      TEXT    NOT NULL,
    doc        TEXT    NOT NULL,
    revision   INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT    NOT NULL,
    UNIQUE (day, number)
);
CREATE INDEX incidents_opened ON incidents (opened_at);
CREATE INDEX incidents_stage ON incidents (stage);

-- Small named values of the incident desk: `settings` (targets, matrix, contacts, roster; JSON)
-- and `scan_cursor` (how far the audit log was read for causes that open incidents).
CREATE TABLE incident_values (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

-- The legal/DPO role (signs regulatory reports off): SQLite cannot widen a CHECK in place,
-- so role_grants is rebuilt with the same rows.
CREATE TABLE role_grants_new (
    person      TEXT NOT NULL REFERENCES people (name) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('requester', 'team_lead', 'pm', 'operator',
                                              'security_officer', 'auditor', 'admin',
                                              'legal_dpo')),
    institution TEXT NOT NULL DEFAULT '',
    system      TEXT NOT NULL DEFAULT '',
    CHECK (institution <> '' OR system = ''),
    PRIMARY KEY (person, role, institution, system)
);
INSERT INTO role_grants_new (person, role, institution, system)
    SELECT person, role, institution, system FROM role_grants;
DROP TABLE role_grants;
ALTER TABLE role_grants_new RENAME TO role_grants;
