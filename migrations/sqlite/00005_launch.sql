-- +goose Up
CREATE TABLE queues (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id    BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (team_id, name)
);

-- One launch job to run. automation_id and event_id are plain references
-- (no foreign key): an item outlives the automation that queued it, and a
-- delivery may enqueue after its automation was deleted. delivery_uid makes
-- enqueueing idempotent: a retried delivery never adds a second item.
CREATE TABLE run_queue_items (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id            BIGINT NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    job                 TEXT NOT NULL,
    job_version         TEXT NOT NULL,
    job_version_id      BIGINT,
    config              TEXT NOT NULL DEFAULT '{}',
    destination_project TEXT NOT NULL DEFAULT '',
    automation_id       BIGINT,
    event_id            BIGINT,
    delivery_uid        TEXT UNIQUE,
    state               TEXT NOT NULL CHECK (state IN ('queued', 'claimed', 'running', 'finished', 'failed')),
    agent               TEXT NOT NULL DEFAULT '',
    lease_until         DATETIME,
    claims              INTEGER NOT NULL DEFAULT 0,
    exit_code           INTEGER,
    message             TEXT NOT NULL DEFAULT '',
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL,
    started_at          DATETIME,
    finished_at         DATETIME
);
-- Claiming reads the oldest queued item and the expired leases of one
-- queue, each through a small partial index; listing reads the rest.
CREATE INDEX run_queue_items_queued ON run_queue_items (queue_id, id) WHERE state = 'queued';
CREATE INDEX run_queue_items_leased ON run_queue_items (queue_id, lease_until) WHERE state IN ('claimed', 'running');
CREATE INDEX run_queue_items_queue ON run_queue_items (queue_id, id);
CREATE INDEX run_queue_items_automation ON run_queue_items (automation_id, id);

-- +goose Down
DROP TABLE run_queue_items;
DROP TABLE queues;
