-- Task priority (issue 10): 긴급/높음/보통/낮음 — orders inboxes and queues. Tasks registered
-- before it existed are `normal`.
ALTER TABLE tasks ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal'
    CHECK (priority IN ('urgent', 'high', 'normal', 'low'));
