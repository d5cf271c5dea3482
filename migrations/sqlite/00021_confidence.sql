-- +goose Up
-- Confidence before and after an automation fires (DESIGN.md §16).

-- Options of an automation: at most one delivery per artifact version (or
-- run) within dedupe_window seconds (0: off); deliveries that wait for a
-- scope admin's approval, rejected after approval_timeout seconds.
ALTER TABLE automations ADD COLUMN dedupe_window BIGINT NOT NULL DEFAULT 0;
ALTER TABLE automations ADD COLUMN require_approval BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE automations ADD COLUMN approval_timeout BIGINT NOT NULL DEFAULT 259200;

-- The full list of delivery states (§11) is allowed since 00017.

-- Why a delivery was skipped, rejected or expired, and who decided an
-- approval (the delivery's own history of the decision).
ALTER TABLE deliveries ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN expires_at DATETIME;
ALTER TABLE deliveries ADD COLUMN decided_by BIGINT;
ALTER TABLE deliveries ADD COLUMN decided_by_name TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN decided_at DATETIME;
ALTER TABLE deliveries ADD COLUMN decision_comment TEXT NOT NULL DEFAULT '';
-- Waiting deliveries: the home page's list, the automation page and the
-- expiry sweep read them through this small index.
CREATE INDEX deliveries_awaiting ON deliveries (expires_at) WHERE state = 'awaiting_approval';
-- The lineage page reads an event's deliveries.
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX run_queue_items_event ON run_queue_items (event_id);
-- The version page links to the events about a version.
CREATE INDEX events_version ON events (version_id);

-- Dedupe: one row per (automation, subject) while a delivery for it is
-- recent. The primary key is what makes two concurrent matches for the
-- same version produce one delivery: the second upsert finds the row.
CREATE TABLE delivery_dedupe (
    automation_id BIGINT NOT NULL,
    subject       TEXT NOT NULL,
    expires_at    DATETIME NOT NULL,
    delivery_id   BIGINT,
    PRIMARY KEY (automation_id, subject)
);

-- The alias an ADD_ARTIFACT_ALIAS event added, beside its snapshot, so a
-- dry run over many events matches without parsing JSON.
ALTER TABLE events ADD COLUMN alias TEXT NOT NULL DEFAULT '';
UPDATE events SET alias = COALESCE(json_extract(payload, '$.alias'), '') WHERE type = 'ADD_ARTIFACT_ALIAS';

-- Dry run and preview read a scope's events of one type, newest first.
CREATE INDEX events_project_type_time ON events (project_id, type, created_at);
CREATE INDEX events_registry_type_time ON events (registry_id, type, created_at);

-- +goose Down
DROP INDEX events_registry_type_time;
DROP INDEX events_project_type_time;
ALTER TABLE events DROP COLUMN alias;
DROP TABLE delivery_dedupe;
DROP INDEX events_version;
DROP INDEX run_queue_items_event;
DROP INDEX deliveries_event;
DROP INDEX deliveries_awaiting;
-- Deliveries in states older code does not know go back to ones it does.
UPDATE deliveries SET state = 'failed', completed_at = COALESCE(completed_at, CURRENT_TIMESTAMP) WHERE state IN ('awaiting_approval', 'rejected', 'skipped');
ALTER TABLE deliveries DROP COLUMN decision_comment;
ALTER TABLE deliveries DROP COLUMN decided_at;
ALTER TABLE deliveries DROP COLUMN decided_by_name;
ALTER TABLE deliveries DROP COLUMN decided_by;
ALTER TABLE deliveries DROP COLUMN expires_at;
ALTER TABLE deliveries DROP COLUMN reason;
ALTER TABLE automations DROP COLUMN approval_timeout;
ALTER TABLE automations DROP COLUMN require_approval;
ALTER TABLE automations DROP COLUMN dedupe_window;
