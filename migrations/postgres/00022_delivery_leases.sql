-- +goose Up
-- Keep the claim a HOT update (see 00008): no index on deliveries may
-- cover a column the claim changes (state, attempts, lease_until,
-- leased_by, updated_at), in its key or its WHERE. Two of 00017's did:
--
-- deliveries_leased_webhook (WHERE leased_by <> '') counted each webhook's
-- requests in flight. The claim notes each leased delivery of a webhook in
-- delivery_leases instead, and recording the outcome (or releasing or
-- holding the claim) deletes the note. The claim counts the notes whose
-- delivery is still leased (lease_until, read from deliveries by primary
-- key, is not indexed): a note left by a dead worker stops counting when
-- its lease runs out, and stays until the delivery's next claim finishes.
-- The table holds about the deliveries in flight, so it stays small.
--
-- deliveries_held (WHERE state = 'held') found held rows by team. Held
-- rows are pending (completed_at IS NULL), so an index over each team's
-- pending rows finds them without naming state.
--
-- A claim leases a run of deliveries queued together, so most rows of a
-- page at once, and a row's new version goes on its page only if there is
-- room: with 30% free (fillfactor 70) about half of a batch fitted and the
-- rest were non-HOT updates; with half the page free every one fits
-- (measured with BenchmarkDeliveryBacklog, which prints the HOT share). It
-- costs room on new pages of deliveries, which retention keeps bounded.
DROP INDEX deliveries_leased_webhook;
DROP INDEX deliveries_held;
CREATE INDEX deliveries_pending_team ON deliveries (team_id) WHERE completed_at IS NULL;
ALTER TABLE deliveries SET (fillfactor = 50);
CREATE TABLE delivery_leases (
    delivery_id BIGINT PRIMARY KEY,
    webhook_id  BIGINT NOT NULL
);
INSERT INTO delivery_leases (delivery_id, webhook_id)
    SELECT id, webhook_id FROM deliveries
    WHERE completed_at IS NULL AND leased_by <> '' AND webhook_id IS NOT NULL;

-- +goose Down
ALTER TABLE deliveries SET (fillfactor = 70);
DROP TABLE delivery_leases;
DROP INDEX deliveries_pending_team;
CREATE INDEX deliveries_held ON deliveries (team_id) WHERE state = 'held';
CREATE INDEX deliveries_leased_webhook ON deliveries (webhook_id) WHERE leased_by <> '';
