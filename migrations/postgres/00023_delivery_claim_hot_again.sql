-- +goose Up
-- Keep the claim a HOT update (see 00008, 00022): 00021's
-- deliveries_awaiting had state in its WHERE, and PostgreSQL counts a
-- partial index's predicate columns as indexed, so every claim (which sets
-- state) and every release became a non-HOT update writing every index of
-- deliveries (BenchmarkDeliveryBacklog printed 0% HOT). Awaiting rows are
-- the pending ones with an expiry: the same small index without naming state.
-- Approved rows keep their expires_at until they finish, and the queries
-- still say state = 'awaiting_approval'.
DROP INDEX deliveries_awaiting;
CREATE INDEX deliveries_awaiting ON deliveries (expires_at) WHERE expires_at IS NOT NULL AND completed_at IS NULL;

-- +goose Down
DROP INDEX deliveries_awaiting;
CREATE INDEX deliveries_awaiting ON deliveries (expires_at) WHERE state = 'awaiting_approval';
