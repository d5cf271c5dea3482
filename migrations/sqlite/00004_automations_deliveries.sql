-- +goose Up
CREATE TABLE automations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    scope_type    TEXT NOT NULL CHECK (scope_type IN ('project', 'registry', 'registry_collection')),
    project_id    BIGINT,
    registry_id   BIGINT REFERENCES registries (id) ON DELETE CASCADE,
    collection_id BIGINT,
    event_type    TEXT NOT NULL CHECK (event_type IN ('CREATE_ARTIFACT', 'ADD_ARTIFACT_ALIAS', 'LINK_ARTIFACT')),
    alias_regex   TEXT NOT NULL DEFAULT '',
    action_type   TEXT NOT NULL CHECK (action_type IN ('webhook', 'slack', 'launch')),
    team_id       BIGINT NOT NULL REFERENCES teams (id),
    webhook_id    BIGINT,
    payload       TEXT NOT NULL DEFAULT '',
    action_config TEXT NOT NULL DEFAULT '{}',
    created_by    BIGINT NOT NULL REFERENCES users (id),
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
-- Matching reads only the candidates of the event's scope.
CREATE INDEX automations_project_match ON automations (project_id, event_type) WHERE enabled;
CREATE INDEX automations_registry_match ON automations (registry_id, event_type) WHERE enabled;
CREATE INDEX automations_webhook ON automations (webhook_id);

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    uid              TEXT NOT NULL UNIQUE,
    event_id         BIGINT NOT NULL,
    automation_id    BIGINT REFERENCES automations (id) ON DELETE SET NULL,
    automation_name  TEXT NOT NULL,
    action_type      TEXT NOT NULL,
    team_id          BIGINT NOT NULL,
    webhook_id       BIGINT,
    payload_template TEXT NOT NULL DEFAULT '',
    action_config    TEXT NOT NULL DEFAULT '{}',
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'retrying', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  DATETIME NOT NULL,
    lease_until      DATETIME,
    leased_by        TEXT NOT NULL DEFAULT '',
    last_status      INTEGER,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    completed_at     DATETIME
);
-- The queue: due work and expired leases, each found through a small partial index.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('queued', 'retrying');
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state = 'running';
CREATE INDEX deliveries_automation ON deliveries (automation_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id        BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number             INTEGER NOT NULL,
    started_at         DATETIME NOT NULL,
    duration_ms        BIGINT NOT NULL DEFAULT 0,
    request_url        TEXT NOT NULL DEFAULT '',
    request_headers    TEXT NOT NULL DEFAULT '',
    request_body       TEXT NOT NULL DEFAULT '',
    response_status    INTEGER,
    response_headers   TEXT NOT NULL DEFAULT '',
    response_body      TEXT NOT NULL DEFAULT '',
    response_truncated BOOLEAN NOT NULL DEFAULT FALSE,
    error              TEXT NOT NULL DEFAULT '',
    outcome            TEXT NOT NULL,
    next_attempt_at    DATETIME
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, number);

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE automations;
