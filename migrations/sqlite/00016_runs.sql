-- +goose Up
-- Runs and their metric history (DESIGN.md §14), and run events: the four
-- run event types on automations and events, the run event parameters in
-- automations.event_config, and the per-run cooldown of each automation.
-- SQLite cannot alter a CHECK or NOT NULL constraint, and rebuilding
-- automations or events would fire their foreign keys' ON DELETE actions
-- (deliveries.automation_id would be set to NULL). Widening a CHECK and
-- dropping NOT NULL change no stored data, so the table definitions are
-- edited in place, the documented way (sqlite.org/lang_altertable.html,
-- "making other kinds of table schema changes"). RESET re-reads the schema
-- on this connection; the statements below bump the schema version, so
-- every other connection re-reads it too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (event_type IN (''CREATE_ARTIFACT'', ''ADD_ARTIFACT_ALIAS'', ''LINK_ARTIFACT''))',
    'CHECK (event_type IN (''CREATE_ARTIFACT'', ''ADD_ARTIFACT_ALIAS'', ''LINK_ARTIFACT'', ''RUN_STATE'', ''RUN_METRIC'', ''RUN_METRIC_CHANGE'', ''RUN_METRIC_ZSCORE''))')
WHERE type = 'table' AND name = 'automations';
UPDATE sqlite_schema SET sql = replace(replace(replace(sql,
    'CHECK (type IN (''CREATE_ARTIFACT'', ''ADD_ARTIFACT_ALIAS'', ''LINK_ARTIFACT''))',
    'CHECK (type IN (''CREATE_ARTIFACT'', ''ADD_ARTIFACT_ALIAS'', ''LINK_ARTIFACT'', ''RUN_STATE'', ''RUN_METRIC'', ''RUN_METRIC_CHANGE'', ''RUN_METRIC_ZSCORE''))'),
    'collection_id BIGINT NOT NULL REFERENCES', 'collection_id BIGINT REFERENCES'),
    'version_id    BIGINT NOT NULL REFERENCES', 'version_id    BIGINT REFERENCES')
WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = RESET;

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL,
    user_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'finished', 'failed', 'crashed', 'killed')),
    config       TEXT NOT NULL DEFAULT '{}',
    tags         TEXT NOT NULL DEFAULT '[]',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    heartbeat_at DATETIME NOT NULL,
    -- SHA-256 of the run's token: a launch job logs its run's history
    -- with it instead of the agent's API key.
    token_hash   TEXT NOT NULL DEFAULT '',
    UNIQUE (project_id, name)
);
CREATE INDEX runs_project ON runs (project_id, id);
-- The crash sweep reads only running runs, oldest heartbeat first.
CREATE INDEX runs_running_heartbeat ON runs (heartbeat_at) WHERE state = 'running';

-- One value per run, metric and step: logging a step again replaces it.
-- The key is also the index evaluation reads the newest values through.
CREATE TABLE run_history (
    run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    step   BIGINT NOT NULL,
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, metric, step)
) WITHOUT ROWID;

-- When each automation last fired for each run: the cooldown.
CREATE TABLE run_automation_fires (
    automation_id BIGINT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    run_id        BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    event_id      BIGINT NOT NULL,
    fired_at      DATETIME NOT NULL,
    PRIMARY KEY (automation_id, run_id)
);
CREATE INDEX run_automation_fires_run ON run_automation_fires (run_id);


ALTER TABLE automations ADD COLUMN event_config TEXT NOT NULL DEFAULT '{}';
ALTER TABLE events ADD COLUMN run_id BIGINT REFERENCES runs (id) ON DELETE CASCADE;
CREATE INDEX events_run ON events (run_id) WHERE run_id IS NOT NULL;

-- The run a launch agent started for an item.
ALTER TABLE run_queue_items ADD COLUMN run_id BIGINT REFERENCES runs (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE run_queue_items DROP COLUMN run_id;
DELETE FROM events WHERE run_id IS NOT NULL;
DELETE FROM automations WHERE event_type LIKE 'RUN_%';
DROP INDEX events_run;
ALTER TABLE events DROP COLUMN run_id;
ALTER TABLE automations DROP COLUMN event_config;
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (event_type IN (''CREATE_ARTIFACT'', ''ADD_ARTIFACT_ALIAS'', ''LINK_ARTIFACT'', ''RUN_STATE'', ''RUN_METRIC'', ''RUN_METRIC_CHANGE'', ''RUN_METRIC_ZSCORE''))',
    'CHECK (event_type IN (''CREATE_ARTIFACT'', ''ADD_ARTIFACT_ALIAS'', ''LINK_ARTIFACT''))')
WHERE type = 'table' AND name = 'automations';
UPDATE sqlite_schema SET sql = replace(replace(replace(sql,
    'CHECK (type IN (''CREATE_ARTIFACT'', ''ADD_ARTIFACT_ALIAS'', ''LINK_ARTIFACT'', ''RUN_STATE'', ''RUN_METRIC'', ''RUN_METRIC_CHANGE'', ''RUN_METRIC_ZSCORE''))',
    'CHECK (type IN (''CREATE_ARTIFACT'', ''ADD_ARTIFACT_ALIAS'', ''LINK_ARTIFACT''))'),
    'collection_id BIGINT REFERENCES', 'collection_id BIGINT NOT NULL REFERENCES'),
    'version_id    BIGINT REFERENCES', 'version_id    BIGINT NOT NULL REFERENCES')
WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = RESET;
DROP TABLE run_automation_fires;
DROP TABLE run_history;
DROP TABLE runs;
