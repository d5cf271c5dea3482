-- +goose Up
-- Delivery operations (DESIGN.md §15). See the PostgreSQL file for what
-- each column is for.
ALTER TABLE webhooks ADD COLUMN failure_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN failing_since DATETIME;
ALTER TABLE webhooks ADD COLUMN disabled_at DATETIME;
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN max_concurrent INTEGER NOT NULL DEFAULT 10 CHECK (max_concurrent >= 1);
ALTER TABLE webhooks ADD COLUMN max_per_minute INTEGER NOT NULL DEFAULT 0 CHECK (max_per_minute >= 0);
ALTER TABLE slack_integrations ADD COLUMN failure_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE slack_integrations ADD COLUMN failing_since DATETIME;
ALTER TABLE slack_integrations ADD COLUMN disabled_at DATETIME;
ALTER TABLE slack_integrations ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';

-- SQLite cannot change a CHECK constraint in place: both queue tables are
-- rebuilt. delivery_attempts first, without its foreign key (as on
-- PostgreSQL since 00007): with foreign keys on, dropping deliveries would
-- otherwise cascade into the attempts. Deliveries are pruned with their
-- attempts by models.PruneDeliveries.
CREATE TABLE delivery_attempts_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id        BIGINT NOT NULL,
    number             INTEGER NOT NULL,
    started_at         DATETIME NOT NULL,
    duration_ms        BIGINT NOT NULL DEFAULT 0,
    request_url        TEXT NOT NULL DEFAULT '',
    request_headers    TEXT NOT NULL DEFAULT '',
    request_body       TEXT NOT NULL DEFAULT '',
    response_status    INTEGER,
    response_headers   TEXT NOT NULL DEFAULT '',
    response_body      TEXT NOT NULL DEFAULT '',
    response_truncated BOOLEAN NOT NULL DEFAULT FALSE,
    error              TEXT NOT NULL DEFAULT '',
    outcome            TEXT NOT NULL,
    next_attempt_at    DATETIME
);
INSERT INTO delivery_attempts_new SELECT id, delivery_id, number, started_at, duration_ms, request_url, request_headers,
    request_body, response_status, response_headers, response_body, response_truncated, error, outcome, next_attempt_at
    FROM delivery_attempts;
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'delivery_attempts')
    WHERE name = 'delivery_attempts_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'delivery_attempts');
DROP TABLE delivery_attempts;
ALTER TABLE delivery_attempts_new RENAME TO delivery_attempts;
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, number);
CREATE INDEX delivery_attempts_started ON delivery_attempts (started_at);

CREATE TABLE deliveries_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    uid              TEXT NOT NULL UNIQUE,
    event_id         BIGINT NOT NULL,
    automation_id    BIGINT REFERENCES automations (id) ON DELETE SET NULL,
    automation_name  TEXT NOT NULL,
    action_type      TEXT NOT NULL,
    team_id          BIGINT NOT NULL,
    webhook_id       BIGINT,
    state            TEXT NOT NULL CHECK (state IN
        ('queued', 'running', 'retrying', 'succeeded', 'failed', 'held', 'awaiting_approval', 'rejected', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  DATETIME NOT NULL,
    lease_until      DATETIME,
    leased_by        TEXT NOT NULL DEFAULT '',
    last_status      INTEGER,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    completed_at     DATETIME,
    revision_id      BIGINT NOT NULL DEFAULT 0
);
INSERT INTO deliveries_new (id, uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id, state,
    attempts, next_attempt_at, lease_until, leased_by, last_status, last_error, created_at, updated_at, completed_at, revision_id)
    SELECT id, uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id, state,
    attempts, next_attempt_at, lease_until, leased_by, last_status, last_error, created_at, updated_at, completed_at, revision_id
    FROM deliveries;
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'deliveries')
    WHERE name = 'deliveries_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'deliveries');
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_automation ON deliveries (automation_id, id);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE completed_at IS NULL;
CREATE INDEX deliveries_leased_webhook ON deliveries (webhook_id) WHERE leased_by <> '';
CREATE INDEX deliveries_held ON deliveries (team_id) WHERE state = 'held';
CREATE INDEX deliveries_completed ON deliveries (completed_at) WHERE completed_at IS NOT NULL;

-- +goose Down
-- The rebuilt tables keep the wider state list and no attempts foreign key.
DROP INDEX deliveries_completed;
DROP INDEX deliveries_held;
DROP INDEX deliveries_leased_webhook;
DROP INDEX delivery_attempts_started;
UPDATE deliveries SET state = 'queued' WHERE state = 'held';
ALTER TABLE slack_integrations DROP COLUMN failure_streak;
ALTER TABLE slack_integrations DROP COLUMN failing_since;
ALTER TABLE slack_integrations DROP COLUMN disabled_at;
ALTER TABLE slack_integrations DROP COLUMN disabled_reason;
ALTER TABLE webhooks DROP COLUMN failure_streak;
ALTER TABLE webhooks DROP COLUMN failing_since;
ALTER TABLE webhooks DROP COLUMN disabled_at;
ALTER TABLE webhooks DROP COLUMN disabled_reason;
ALTER TABLE webhooks DROP COLUMN max_concurrent;
ALTER TABLE webhooks DROP COLUMN max_per_minute;
