-- +goose Up
-- The same index as PostgreSQL's 00023 (which keeps the claim a HOT update
-- there), so the approval queries read the same way on both databases.
DROP INDEX deliveries_awaiting;
CREATE INDEX deliveries_awaiting ON deliveries (expires_at) WHERE expires_at IS NOT NULL AND completed_at IS NULL;

-- +goose Down
DROP INDEX deliveries_awaiting;
CREATE INDEX deliveries_awaiting ON deliveries (expires_at) WHERE state = 'awaiting_approval';
