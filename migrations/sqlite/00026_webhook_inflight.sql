-- +goose Up
-- PostgreSQL counts each webhook's requests in flight in webhook_inflight.
-- SQLite counts leased rows of deliveries under its single write lock:
-- this version changes nothing.
SELECT 1;

-- +goose Down
SELECT 1;
