-- +goose Up
-- People (DESIGN.md §13): account states, service accounts, server-side
-- sessions, invitations and the audit log.
ALTER TABLE users ADD COLUMN state TEXT NOT NULL DEFAULT 'active'
    CHECK (state IN ('active', 'invited', 'deactivated'));
-- A service account is a user row owned by one team (NULL for people), so
-- API keys, roles and event authors work for it unchanged.
ALTER TABLE users ADD COLUMN service_team_id BIGINT REFERENCES teams (id) ON DELETE CASCADE;
CREATE INDEX users_service_team ON users (service_team_id) WHERE service_team_id IS NOT NULL;

-- The cookie holds a random session token; only its SHA-256 is stored here.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Single-use links to set a password; only the token's SHA-256 is stored.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME
);
CREATE INDEX invitations_user ON invitations (user_id);

-- Who changed what (§13). team_id/registry_id say whose log shows the
-- entry (both NULL: site-wide, e.g. users); actor_name keeps the name
-- after the actor is gone. before/after are JSON without secret values.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  DATETIME NOT NULL,
    team_id     BIGINT REFERENCES teams (id) ON DELETE CASCADE,
    registry_id BIGINT REFERENCES registries (id) ON DELETE CASCADE,
    actor_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    actor_name  TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    before      TEXT NOT NULL DEFAULT '',
    after       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_team ON audit_log (team_id, id);
CREATE INDEX audit_log_registry ON audit_log (registry_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE invitations;
DROP TABLE sessions;
DROP INDEX users_service_team;
ALTER TABLE users DROP COLUMN service_team_id;
ALTER TABLE users DROP COLUMN state;
