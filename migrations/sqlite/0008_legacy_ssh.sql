-- Legacy SSH servers (issue 15).
-- An admin's opt-in to SHA-1-era algorithms for one server, with the reason: NULL means the
-- server is offered modern algorithms only. Dropped when the server's address or port changes.
ALTER TABLE servers ADD COLUMN legacy_reason TEXT;
-- What the last successful login found (the check records it): the algorithms negotiated, and
-- whether a stop can reach every process a command starts there (1) or not (0, with the
-- reason) — NULL until a check logged in.
ALTER TABLE servers ADD COLUMN ssh_algorithms TEXT;
ALTER TABLE servers ADD COLUMN ssh_stop_guaranteed INTEGER CHECK (ssh_stop_guaranteed IN (0, 1));
ALTER TABLE servers ADD COLUMN ssh_stop_detail TEXT;
ALTER TABLE servers ADD COLUMN ssh_seen_at TEXT;
