-- +goose Up
CREATE TABLE projects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id    BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (team_id, name)
);

-- A collection lives in exactly one project or one registry (a registered model).
CREATE TABLE artifact_collections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  BIGINT REFERENCES projects (id) ON DELETE CASCADE,
    registry_id BIGINT REFERENCES registries (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    CHECK ((project_id IS NULL) != (registry_id IS NULL)),
    UNIQUE (project_id, name),
    UNIQUE (registry_id, name)
);

-- Project versions and registry versions alike; a registry version points at
-- its source. The unique index backs up the numbering done under a row lock.
CREATE TABLE artifact_versions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id     BIGINT NOT NULL REFERENCES artifact_collections (id) ON DELETE CASCADE,
    version_index     INTEGER NOT NULL,
    metadata          TEXT NOT NULL DEFAULT '{}',
    digest            TEXT NOT NULL DEFAULT '',
    author_id         BIGINT REFERENCES users (id) ON DELETE SET NULL,
    source_version_id BIGINT REFERENCES artifact_versions (id) ON DELETE SET NULL,
    created_at        DATETIME NOT NULL,
    UNIQUE (collection_id, version_index)
);
CREATE INDEX artifact_versions_source ON artifact_versions (source_version_id);

CREATE TABLE artifact_aliases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id BIGINT NOT NULL REFERENCES artifact_collections (id) ON DELETE CASCADE,
    version_id    BIGINT NOT NULL REFERENCES artifact_versions (id) ON DELETE CASCADE,
    alias         TEXT NOT NULL,
    created_at    DATETIME NOT NULL,
    UNIQUE (collection_id, alias)
);
CREATE INDEX artifact_aliases_version ON artifact_aliases (version_id);

-- One row per mutation that can trigger an automation, written in the
-- mutation's transaction; payload is the JSON snapshot of the variables.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    type          TEXT NOT NULL CHECK (type IN ('CREATE_ARTIFACT', 'ADD_ARTIFACT_ALIAS', 'LINK_ARTIFACT')),
    scope_kind    TEXT NOT NULL CHECK (scope_kind IN ('project', 'registry')),
    project_id    BIGINT REFERENCES projects (id) ON DELETE CASCADE,
    registry_id   BIGINT REFERENCES registries (id) ON DELETE CASCADE,
    collection_id BIGINT NOT NULL REFERENCES artifact_collections (id) ON DELETE CASCADE,
    version_id    BIGINT NOT NULL REFERENCES artifact_versions (id) ON DELETE CASCADE,
    author_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    payload       TEXT NOT NULL,
    created_at    DATETIME NOT NULL
);
CREATE INDEX events_project ON events (project_id, id);
CREATE INDEX events_registry ON events (registry_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE artifact_aliases;
DROP TABLE artifact_versions;
DROP TABLE artifact_collections;
DROP TABLE projects;
