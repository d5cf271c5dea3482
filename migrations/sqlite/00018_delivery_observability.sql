-- +goose Up
-- Signing secret rotation (DESIGN.md §15): the secret a webhook signed
-- with before its last rotation, kept until previous_signing_until so
-- receivers that have not switched keep verifying. The value is a copy of
-- that secret's ciphertext, so deleting or replacing the old team secret
-- during the overlap does not break it; the name is only shown.
ALTER TABLE webhooks ADD COLUMN previous_signing_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN previous_signing_ciphertext BLOB;
ALTER TABLE webhooks ADD COLUMN previous_signing_until DATETIME;

-- Charts and bulk recovery read attempts by automation or webhook and
-- time. Attempts are written once and never updated, so they carry the
-- ids themselves.
ALTER TABLE delivery_attempts ADD COLUMN automation_id BIGINT;
ALTER TABLE delivery_attempts ADD COLUMN webhook_id BIGINT;
UPDATE delivery_attempts SET
    automation_id = (SELECT d.automation_id FROM deliveries d WHERE d.id = delivery_attempts.delivery_id),
    webhook_id = (SELECT d.webhook_id FROM deliveries d WHERE d.id = delivery_attempts.delivery_id);
-- Covering (SQLite has no INCLUDE): a chart reads only the index.
CREATE INDEX delivery_attempts_automation_time ON delivery_attempts (automation_id, started_at, outcome, duration_ms, delivery_id)
    WHERE automation_id IS NOT NULL;
CREATE INDEX delivery_attempts_webhook_time ON delivery_attempts (webhook_id, started_at, outcome, duration_ms, delivery_id)
    WHERE webhook_id IS NOT NULL;

-- +goose Down
DROP INDEX delivery_attempts_webhook_time;
DROP INDEX delivery_attempts_automation_time;
ALTER TABLE delivery_attempts DROP COLUMN webhook_id;
ALTER TABLE delivery_attempts DROP COLUMN automation_id;
ALTER TABLE webhooks DROP COLUMN previous_signing_until;
ALTER TABLE webhooks DROP COLUMN previous_signing_ciphertext;
ALTER TABLE webhooks DROP COLUMN previous_signing_secret;
