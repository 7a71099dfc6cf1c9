-- Instances, the durable tasks that change them, and counters.

-- Monotonic counters (node serials); UPDATE … RETURNING works on both databases.
CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('node_serial', 0);

CREATE TABLE instances (
    id                     TEXT PRIMARY KEY,
    project_id             TEXT NOT NULL,
    name                   TEXT NOT NULL,
    -- The status the API shows: BUILD, ACTIVE, REBOOT, RESIZE, SHUTDOWN, ERROR, …
    status                 TEXT NOT NULL,
    flavor_id              TEXT NOT NULL REFERENCES flavors (id),
    volume_size            INTEGER NOT NULL,
    datastore_version_id   TEXT NOT NULL REFERENCES datastore_versions (id),
    -- The driver version the instance was built with (tasks pin their own).
    driver_digest          TEXT NOT NULL,
    configuration_id       TEXT,
    replica_of_id          TEXT,
    cluster_id             TEXT,
    -- The node: a small serial, its directory name and port.
    serial                 INTEGER NOT NULL UNIQUE,
    node_dir               TEXT NOT NULL,
    port                   INTEGER NOT NULL,
    -- Quota held: 'reserved' while building, 'committed' once built, 'released' after.
    quota_state            TEXT NOT NULL,
    fault_message          TEXT,
    fault_details          TEXT,
    fault_at               INTEGER,
    -- Whether root was ever enabled (Trove's root history).
    root_enabled_at        INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    deleted_at             INTEGER
);
CREATE INDEX instances_project ON instances (project_id, deleted_at, created_at);
-- Two live nodes never share a port.
CREATE UNIQUE INDEX instances_live_port ON instances (port) WHERE deleted_at IS NULL;

CREATE TABLE tasks (
    id             TEXT PRIMARY KEY,
    resource_id    TEXT NOT NULL,
    kind           TEXT NOT NULL,
    -- pending, running, done, failed
    state          TEXT NOT NULL,
    -- The index of the first step not yet done.
    step           INTEGER NOT NULL,
    -- The task's inputs and what its steps learnt, as JSON.
    payload        TEXT NOT NULL,
    lease_owner    TEXT,
    lease_until    INTEGER,
    attempts       INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
-- One active task per resource: a second one is refused by the database itself.
CREATE UNIQUE INDEX tasks_one_active ON tasks (resource_id) WHERE state IN ('pending', 'running');
CREATE INDEX tasks_claimable ON tasks (state, lease_until);
