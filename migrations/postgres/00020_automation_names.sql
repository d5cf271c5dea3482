-- +goose Up
-- An automation's name is unique within its scope regardless of case: one
-- project's automations, or one registry's (registry-wide and single
-- collection automations share the registry's Automations list, so two
-- with the same name there could not be told apart).
--
-- Existing clashes keep the oldest automation's name; each later one is
-- renamed to "<name>-<id>" (ids are unique, so the new names are too).
UPDATE automations SET name = name || '-' || id
WHERE project_id IS NOT NULL AND EXISTS (SELECT 1 FROM automations o
    WHERE o.project_id = automations.project_id AND lower(o.name) = lower(automations.name) AND o.id < automations.id);
UPDATE automations SET name = name || '-' || id
WHERE registry_id IS NOT NULL AND EXISTS (SELECT 1 FROM automations o
    WHERE o.registry_id = automations.registry_id AND lower(o.name) = lower(automations.name) AND o.id < automations.id);

-- NULL project_id or registry_id never clash, so each automation is
-- checked only against its own project's or registry's.
CREATE UNIQUE INDEX automations_project_name_lower ON automations (project_id, lower(name));
CREATE UNIQUE INDEX automations_registry_name_lower ON automations (registry_id, lower(name));

-- +goose Down
DROP INDEX automations_registry_name_lower;
DROP INDEX automations_project_name_lower;
