-- +goose Up
-- PostgreSQL drops run_history's per-row foreign key check (it cost more
-- than half of a bulk insert there) for a trigger on deleting a run.
-- SQLite's check is an index probe in the same process, and dropping a
-- constraint would rebuild the table: this version changes nothing.
SELECT 1;

-- +goose Down
SELECT 1;
