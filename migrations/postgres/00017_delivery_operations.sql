-- +goose Up
-- Delivery operations (DESIGN.md §15).
--
-- Endpoint health: the streak of consecutive finally-failed deliveries and
-- when it began; disabled_at is set when the disable policy holds and
-- cleared by Re-enable. Limits: at most max_concurrent requests in flight
-- and, when max_per_minute > 0, at most that many attempts started in any
-- minute, across every worker process.
ALTER TABLE webhooks
    ADD COLUMN failure_streak  INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN failing_since   TIMESTAMPTZ,
    ADD COLUMN disabled_at     TIMESTAMPTZ,
    ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '',
    ADD COLUMN max_concurrent  INTEGER NOT NULL DEFAULT 10 CHECK (max_concurrent >= 1),
    ADD COLUMN max_per_minute  INTEGER NOT NULL DEFAULT 0 CHECK (max_per_minute >= 0);
ALTER TABLE slack_integrations
    ADD COLUMN failure_streak  INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN failing_since   TIMESTAMPTZ,
    ADD COLUMN disabled_at     TIMESTAMPTZ,
    ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';

-- Every delivery state of DESIGN.md §11, held (integration disabled) among them.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN
    ('queued', 'running', 'retrying', 'succeeded', 'failed', 'held', 'awaiting_approval', 'rejected', 'skipped'));

-- The claim counts each webhook's requests in flight (leased rows) and its
-- attempts of the last minute; Re-enable and the banners find held rows;
-- retention walks finished rows oldest first.
CREATE INDEX deliveries_leased_webhook ON deliveries (webhook_id) WHERE leased_by <> '';
CREATE INDEX deliveries_held ON deliveries (team_id) WHERE state = 'held';
CREATE INDEX deliveries_completed ON deliveries (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX delivery_attempts_started ON delivery_attempts (started_at);

-- +goose Down
DROP INDEX delivery_attempts_started;
DROP INDEX deliveries_completed;
DROP INDEX deliveries_held;
DROP INDEX deliveries_leased_webhook;
UPDATE deliveries SET state = 'queued' WHERE state = 'held';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN ('queued', 'running', 'succeeded', 'retrying', 'failed'));
ALTER TABLE slack_integrations DROP COLUMN failure_streak, DROP COLUMN failing_since, DROP COLUMN disabled_at, DROP COLUMN disabled_reason;
ALTER TABLE webhooks DROP COLUMN failure_streak, DROP COLUMN failing_since, DROP COLUMN disabled_at, DROP COLUMN disabled_reason,
    DROP COLUMN max_concurrent, DROP COLUMN max_per_minute;
