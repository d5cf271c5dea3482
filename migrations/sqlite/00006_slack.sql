-- +goose Up
-- Slack integrations: one channel of one workspace per row, from the Slack
-- OAuth v2 flow ("Connect Slack"). Only the sealed bot token is stored
-- (models/secretbox, like team secrets). Automations of action type slack
-- name a row by id in action_config; models refuse to delete a row while an
-- automation names it.
CREATE TABLE slack_integrations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id        BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    workspace_id   TEXT NOT NULL,
    workspace_name TEXT NOT NULL,
    channel_id     TEXT NOT NULL,
    channel_name   TEXT NOT NULL,
    bot_token      BLOB NOT NULL,
    created_by     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at     DATETIME NOT NULL,
    UNIQUE (team_id, channel_id)
);

-- +goose Down
DROP TABLE slack_integrations;
