-- Inventory: institutions → systems → sites → servers; pinned host keys; credential
-- references. Secrets themselves live in the OS keyring; this file never holds one.

CREATE TABLE institutions (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE systems (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    name           TEXT NOT NULL,
    UNIQUE (institution_id, name)
);

CREATE TABLE sites (
    id        INTEGER PRIMARY KEY,
    system_id INTEGER NOT NULL REFERENCES systems (id),
    name      TEXT NOT NULL,
    tier      INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
    UNIQUE (system_id, name)
);

CREATE TABLE servers (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites (id),
    name         TEXT NOT NULL UNIQUE,
    address      TEXT NOT NULL,
    port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    login_user   TEXT NOT NULL,
    auth         TEXT NOT NULL CHECK (auth IN ('password', 'key')),
    credential   TEXT,
    os           TEXT NOT NULL,
    app_path     TEXT,
    deploy_path  TEXT,
    service_port INTEGER,
    -- HealthCriteria as JSON (validated on the way in and out).
    health       TEXT NOT NULL,
    -- Tags as a JSON array of strings.
    tags         TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX servers_site ON servers (site_id);

-- The one host key a server may present. Dropped when the server's address or port changes:
-- a new address is a new machine until someone approves its key.
CREATE TABLE host_keys (
    server_id   INTEGER PRIMARY KEY REFERENCES servers (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    trusted_by  TEXT NOT NULL,
    trusted_at  TEXT NOT NULL,
    -- 'approved' (a person compared the fingerprint), 'known_hosts' (imported), 'lab', 'bundle'
    source      TEXT NOT NULL
);

-- Which credentials exist in the keyring, and what they are. Never the secret.
CREATE TABLE credentials (
    name           TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('password', 'key')),
    has_passphrase INTEGER NOT NULL,
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL
);
