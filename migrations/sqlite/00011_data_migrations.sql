-- +goose Up
-- One-time steps in Go that SQL cannot do (they need the secrets key),
-- run by serve, worker and migrate after the SQL migrations. A row is
-- pending while done_at is NULL; the step that finishes sets it.
CREATE TABLE data_migrations (
    name    TEXT PRIMARY KEY,
    done_at DATETIME
);
-- Stored delivery attempts may hold secret values an endpoint echoed:
-- rewrite them redacted (models.RedactStoredAttempts).
INSERT INTO data_migrations (name) VALUES ('redact_delivery_attempts');

-- +goose Down
DROP TABLE data_migrations;
