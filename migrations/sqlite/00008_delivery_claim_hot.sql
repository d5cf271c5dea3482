-- +goose Up
-- One index finds every claimable delivery: those not finished, due, and
-- not leased or with an expired lease (a filter on the index's rows).
-- (On PostgreSQL this also lets a claim update the row in place.)
UPDATE deliveries SET completed_at = updated_at WHERE state IN ('succeeded', 'failed') AND completed_at IS NULL;
DROP INDEX deliveries_due;
DROP INDEX deliveries_leased;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE completed_at IS NULL;

-- +goose Down
DROP INDEX deliveries_pending;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('queued', 'retrying');
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state = 'running';
