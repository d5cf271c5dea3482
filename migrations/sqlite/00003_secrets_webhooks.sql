-- +goose Up
-- Team secrets: only the sealed value is stored (models/secretbox: a random
-- data key per value, wrapped by the configured keeper).
CREATE TABLE team_secrets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id    BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    UNIQUE (team_id, name)
);

-- Webhook integrations name their secrets ('' for none); models refuse to
-- delete a secret while a webhook of its team names it.
CREATE TABLE webhooks (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id             BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    url                 TEXT NOT NULL,
    access_token_secret TEXT NOT NULL DEFAULT '',
    signing_secret      TEXT NOT NULL DEFAULT '',
    created_by          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL,
    UNIQUE (team_id, name)
);

-- The other secrets a webhook is granted (usable in payloads as $NAME).
CREATE TABLE webhook_secrets (
    webhook_id  BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    secret_name TEXT NOT NULL,
    PRIMARY KEY (webhook_id, secret_name)
);

-- +goose Down
DROP TABLE webhook_secrets;
DROP TABLE webhooks;
DROP TABLE team_secrets;
