-- +goose Up
-- Names of teams, projects, registries and collections are unique
-- regardless of case (DESIGN.md §13): "ML" and "ml" would otherwise be two
-- teams that people, URLs and payloads cannot tell apart.
--
-- Existing rows that already clash keep the oldest one's name; each later
-- one is renamed to "<name>-<id>" (ids are unique, so the new names are
-- too, unless someone already picked exactly that name: then this
-- migration fails and changes nothing, and the operator renames by hand).
--
-- lower() folds only ASCII letters in SQLite (PostgreSQL follows the
-- database's locale); the name rule accepts only ASCII letters, digits and
-- "_.-", so both databases agree on every name the application accepts.
UPDATE teams SET name = name || '-' || id
WHERE EXISTS (SELECT 1 FROM teams o WHERE lower(o.name) = lower(teams.name) AND o.id < teams.id);
UPDATE registries SET name = name || '-' || id
WHERE EXISTS (SELECT 1 FROM registries o WHERE lower(o.name) = lower(registries.name) AND o.id < registries.id);
UPDATE projects SET name = name || '-' || id
WHERE EXISTS (SELECT 1 FROM projects o WHERE o.team_id = projects.team_id
    AND lower(o.name) = lower(projects.name) AND o.id < projects.id);
UPDATE artifact_collections SET name = name || '-' || id
WHERE EXISTS (SELECT 1 FROM artifact_collections o
    WHERE (o.project_id = artifact_collections.project_id OR o.registry_id = artifact_collections.registry_id)
    AND lower(o.name) = lower(artifact_collections.name) AND o.id < artifact_collections.id);

CREATE UNIQUE INDEX teams_name_lower ON teams (lower(name));
CREATE UNIQUE INDEX registries_name_lower ON registries (lower(name));
CREATE UNIQUE INDEX projects_team_name_lower ON projects (team_id, lower(name));
-- NULL project_id or registry_id never clash, so each collection is
-- checked only against its own project's or registry's.
CREATE UNIQUE INDEX artifact_collections_project_name_lower ON artifact_collections (project_id, lower(name));
CREATE UNIQUE INDEX artifact_collections_registry_name_lower ON artifact_collections (registry_id, lower(name));

-- +goose Down
-- Renamed duplicates keep their new names.
DROP INDEX artifact_collections_registry_name_lower;
DROP INDEX artifact_collections_project_name_lower;
DROP INDEX projects_team_name_lower;
DROP INDEX registries_name_lower;
DROP INDEX teams_name_lower;
