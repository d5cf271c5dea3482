-- +goose Up
-- Nothing reads deliveries by event; the index only cost a write per delivery.
DROP INDEX deliveries_event;

-- +goose Down
CREATE INDEX deliveries_event ON deliveries (event_id);
