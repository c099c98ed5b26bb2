-- People who sign in to the console (issue 10). The password is an Argon2id PHC string
-- (salt and parameters inside it); the clear password is never stored or logged.
-- `failures`/`locked_until` are the lockout counter (5 failures → 15 minutes by default);
-- `disabled_reason` is an admin's lock, which stays until an admin unlocks.
CREATE TABLE people (
    name            TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until    TEXT,
    disabled_reason TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- The roles a person holds, and where: institution '' = every institution; system '' =
-- every system of the institution. Unscoped roles (auditor, admin) are always ('', '').
CREATE TABLE role_grants (
    person      TEXT NOT NULL REFERENCES people (name) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('requester', 'team_lead', 'pm', 'operator',
                                              'security_officer', 'auditor', 'admin')),
    institution TEXT NOT NULL DEFAULT '',
    system      TEXT NOT NULL DEFAULT '',
    CHECK (institution <> '' OR system = ''),
    PRIMARY KEY (person, role, institution, system)
);
