-- +goose Up
-- PostgreSQL moves the count of requests in flight per webhook to a
-- delivery_leases table so that a claim stays a HOT update there. SQLite
-- has no such in-place update to keep: it goes on counting from the
-- deliveries_leased_webhook index, and this version changes nothing.
SELECT 1;

-- +goose Down
SELECT 1;
