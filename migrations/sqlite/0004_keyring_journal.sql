-- Credentials point at their own keyring entries, scoped to this console's audit log and to
-- one version of the secret: `<origin>/<credential>/<version>`. NULL = an entry written before
-- scoping (account = the credential name), migrated on the next start.
ALTER TABLE credentials ADD COLUMN keyring_account TEXT;

-- Keyring entries that may be garbage: written ahead of a database commit ('staged', by the
-- process `owner_pid`) or replaced by one ('retired'). An entry the credentials table does
-- not reference is deleted from the keyring at start and after each change; one it does
-- reference is simply forgotten here. So a keyring change never outlives a database change
-- that did not commit.
CREATE TABLE keyring_journal (
    account   TEXT PRIMARY KEY,
    state     TEXT NOT NULL CHECK (state IN ('staged', 'retired')),
    owner_pid INTEGER NOT NULL,
    noted_at  TEXT NOT NULL
);

-- Server names are unique regardless of case (`HR-01` and `hr-01` are one server to a
-- person); the check on every import row must not scan the table.
CREATE INDEX servers_name_folded ON servers (lower(name));

-- Allowlist mode per system: 'playbook_only' refuses every ad-hoc command on its servers
-- (only reviewed playbook steps run); 'denylist' lets through what the denylist allows.
ALTER TABLE systems ADD COLUMN command_mode TEXT NOT NULL DEFAULT 'denylist'
    CHECK (command_mode IN ('denylist', 'playbook_only'));
