-- Configuration groups: named, validated values for one datastore version.

CREATE TABLE configurations (
    id                     TEXT PRIMARY KEY,
    project_id             TEXT NOT NULL,
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL,
    datastore_version_id   TEXT NOT NULL REFERENCES datastore_versions (id),
    -- The values as the driver normalised them: a JSON list of [name, value] pairs.
    settings               TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX configurations_project ON configurations (project_id, created_at);

-- The values a node runs with now (JSON [name, value] pairs). It follows the attached group
-- only once an apply succeeds, so a node a server refused stays on what it had.
ALTER TABLE instances ADD COLUMN applied_settings TEXT NOT NULL DEFAULT '[]';
