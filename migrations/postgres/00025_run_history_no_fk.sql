-- +goose Up
-- Logging history checked run_history's foreign key once per stored value:
-- a trigger reading runs for each of 10,000 rows, more than half the cost
-- of a COPY of the batch. The key guarded nothing the writer does not:
-- LogHistory holds the run's row lock (SELECT … FOR UPDATE) while it
-- writes, so the run exists and cannot be deleted under it. Deleting a run
-- (with its project) still deletes its history, now by one trigger a
-- deleted run rather than a check a stored value.
ALTER TABLE run_history DROP CONSTRAINT run_history_run_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION run_history_delete_with_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM run_history WHERE run_id = OLD.id;
    RETURN OLD;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER runs_delete_history AFTER DELETE ON runs
    FOR EACH ROW EXECUTE FUNCTION run_history_delete_with_run();

-- +goose Down
DROP TRIGGER runs_delete_history ON runs;
DROP FUNCTION run_history_delete_with_run();
DELETE FROM run_history h WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = h.run_id);
ALTER TABLE run_history ADD CONSTRAINT run_history_run_id_fkey
    FOREIGN KEY (run_id) REFERENCES runs (id) ON DELETE CASCADE;
