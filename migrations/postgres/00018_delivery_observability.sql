-- +goose Up
-- Signing secret rotation (DESIGN.md §15): the secret a webhook signed
-- with before its last rotation, kept until previous_signing_until so
-- receivers that have not switched keep verifying. The value is a copy of
-- that secret's ciphertext, so deleting or replacing the old team secret
-- during the overlap does not break it; the name is only shown.
ALTER TABLE webhooks
    ADD COLUMN previous_signing_secret TEXT NOT NULL DEFAULT '',
    ADD COLUMN previous_signing_ciphertext BYTEA,
    ADD COLUMN previous_signing_until TIMESTAMPTZ;

-- Charts and bulk recovery read attempts by automation or webhook and
-- time. Attempts are written once and never updated, so they carry the
-- ids themselves and the indexes cost nothing on the hot queue rows (the
-- deliveries table keeps its claim a HOT update: no new index there).
ALTER TABLE delivery_attempts ADD COLUMN automation_id BIGINT, ADD COLUMN webhook_id BIGINT;
UPDATE delivery_attempts a SET automation_id = d.automation_id, webhook_id = d.webhook_id
    FROM deliveries d WHERE d.id = a.delivery_id;
-- Covering: a chart is an index-only scan of its window.
CREATE INDEX delivery_attempts_automation_time ON delivery_attempts (automation_id, started_at)
    INCLUDE (outcome, duration_ms, delivery_id) WHERE automation_id IS NOT NULL;
CREATE INDEX delivery_attempts_webhook_time ON delivery_attempts (webhook_id, started_at)
    INCLUDE (outcome, duration_ms, delivery_id) WHERE webhook_id IS NOT NULL;

-- +goose Down
DROP INDEX delivery_attempts_webhook_time;
DROP INDEX delivery_attempts_automation_time;
ALTER TABLE delivery_attempts DROP COLUMN webhook_id, DROP COLUMN automation_id;
ALTER TABLE webhooks DROP COLUMN previous_signing_until, DROP COLUMN previous_signing_ciphertext,
    DROP COLUMN previous_signing_secret;
