-- The control plane's catalogue: flavors, datastores and their versions, drivers, quotas.
-- Timestamps are milliseconds since the Unix epoch (UTC).

CREATE TABLE flavors (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    ram_mb      BIGINT NOT NULL,
    vcpus       BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE datastores (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    default_version_id  TEXT,
    created_at          BIGINT NOT NULL
);

CREATE TABLE datastore_versions (
    id                  TEXT PRIMARY KEY,
    datastore_id        TEXT NOT NULL REFERENCES datastores (id),
    name                TEXT NOT NULL,
    driver_name         TEXT NOT NULL,
    driver_requirement  TEXT NOT NULL,
    image               TEXT NOT NULL DEFAULT '',
    packages            TEXT NOT NULL DEFAULT '',
    active              BOOLEAN NOT NULL,
    visibility          TEXT NOT NULL DEFAULT 'public',
    created_at          BIGINT NOT NULL,
    UNIQUE (datastore_id, name)
);

-- Projects that may use a private datastore version.
CREATE TABLE datastore_version_members (
    version_id  TEXT NOT NULL REFERENCES datastore_versions (id),
    project_id  TEXT NOT NULL,
    PRIMARY KEY (version_id, project_id)
);

-- Flavors a datastore version may run on; none listed means every flavor.
CREATE TABLE datastore_version_flavors (
    version_id  TEXT NOT NULL REFERENCES datastore_versions (id),
    flavor_id   TEXT NOT NULL REFERENCES flavors (id),
    PRIMARY KEY (version_id, flavor_id)
);

-- Uploaded driver components. The bytes live here so that every host sharing the database
-- can load them.
CREATE TABLE drivers (
    digest          TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    contract        TEXT NOT NULL,
    manifest        TEXT NOT NULL,
    component       BYTEA NOT NULL,
    size            BIGINT NOT NULL,
    uploaded_at     BIGINT NOT NULL
);

-- Which version of each driver is active, and the one it replaced (for rollback).
CREATE TABLE driver_activations (
    name             TEXT PRIMARY KEY,
    active_digest    TEXT NOT NULL REFERENCES drivers (digest),
    previous_digest  TEXT REFERENCES drivers (digest),
    activated_at     BIGINT NOT NULL
);

-- Per-project limits that differ from the configured defaults.
CREATE TABLE quotas (
    project_id   TEXT NOT NULL,
    resource     TEXT NOT NULL,
    hard_limit   BIGINT NOT NULL,
    PRIMARY KEY (project_id, resource)
);

-- What each project uses (in_use) and has reserved for resources still being built.
CREATE TABLE quota_usages (
    project_id  TEXT NOT NULL,
    resource    TEXT NOT NULL,
    in_use      BIGINT NOT NULL DEFAULT 0,
    reserved    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, resource)
);
