-- +goose Up
-- An automation's payload template and action configuration, as they were
-- at one save. Deliveries point at the revision they were queued with
-- instead of carrying a copy, so a queue row stays small however large
-- the template (the row is rewritten at every claim and completion). No
-- foreign key: a deleted automation's queued deliveries still read it.
CREATE TABLE automation_revisions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    automation_id    BIGINT,
    payload_template TEXT NOT NULL DEFAULT '',
    action_config    TEXT NOT NULL DEFAULT '{}',
    created_at       DATETIME NOT NULL
);
ALTER TABLE automations ADD COLUMN revision_id BIGINT;
INSERT INTO automation_revisions (automation_id, payload_template, action_config, created_at)
    SELECT id, payload, action_config, updated_at FROM automations ORDER BY id;
UPDATE automations SET revision_id = (SELECT r.id FROM automation_revisions r WHERE r.automation_id = automations.id);

-- Deliveries queued before revisions: one revision per distinct copy they carry.
ALTER TABLE deliveries ADD COLUMN revision_id BIGINT NOT NULL DEFAULT 0;
INSERT INTO automation_revisions (automation_id, payload_template, action_config, created_at)
    SELECT automation_id, payload_template, action_config, MIN(created_at) FROM deliveries
    GROUP BY automation_id, payload_template, action_config;
UPDATE deliveries SET revision_id = (SELECT MAX(r.id) FROM automation_revisions r
    WHERE r.automation_id IS deliveries.automation_id
      AND r.payload_template = deliveries.payload_template AND r.action_config = deliveries.action_config);
ALTER TABLE deliveries DROP COLUMN payload_template;
ALTER TABLE deliveries DROP COLUMN action_config;

-- Nothing reads deliveries by event; the index only cost a write per delivery.
DROP INDEX deliveries_event;

-- +goose Down
CREATE INDEX deliveries_event ON deliveries (event_id);
ALTER TABLE deliveries ADD COLUMN payload_template TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN action_config TEXT NOT NULL DEFAULT '{}';
UPDATE deliveries SET
    payload_template = (SELECT r.payload_template FROM automation_revisions r WHERE r.id = deliveries.revision_id),
    action_config = (SELECT r.action_config FROM automation_revisions r WHERE r.id = deliveries.revision_id);
ALTER TABLE deliveries DROP COLUMN revision_id;
ALTER TABLE automations DROP COLUMN revision_id;
DROP TABLE automation_revisions;
