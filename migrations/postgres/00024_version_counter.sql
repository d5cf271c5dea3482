-- +goose Up
-- Each collection counts its versions: logging a version takes the next
-- number with one UPDATE … RETURNING of this counter (which waits for, and
-- then reads, a concurrent writer's committed increment), instead of a
-- row lock taken first and MAX(version_index) + 1 read under it. A
-- rolled-back log rolls its increment back too, so numbers stay gapless.
ALTER TABLE artifact_collections ADD COLUMN next_version INTEGER NOT NULL DEFAULT 0;
UPDATE artifact_collections SET next_version = COALESCE(
    (SELECT MAX(v.version_index) + 1 FROM artifact_versions v WHERE v.collection_id = artifact_collections.id), 0);

-- +goose Down
ALTER TABLE artifact_collections DROP COLUMN next_version;
