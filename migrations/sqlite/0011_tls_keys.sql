-- A credential may also be a TLS private key (kind 'tls_key'): kept in the OS keyring like
-- the others, sent only to the servers a certificate rollout replaces it on, never used to
-- log in. SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing
-- references it by foreign key).
CREATE TABLE credentials_next (
    name            TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('password', 'key', 'tls_key')),
    has_passphrase  INTEGER NOT NULL,
    updated_at      TEXT NOT NULL,
    updated_by      TEXT NOT NULL,
    keyring_account TEXT
);
INSERT INTO credentials_next (name, kind, has_passphrase, updated_at, updated_by, keyring_account)
    SELECT name, kind, has_passphrase, updated_at, updated_by, keyring_account FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_next RENAME TO credentials;
