-- Workflows and placement (issue 13).
--
-- A task's progress is the typed stage its workflow reached (`stage`, JSON whose `step` names
-- the next step), the name of the last finished step and the workflow's version, not an
-- index: a release that inserts a step still resumes in-flight tasks at the right one. The old
-- integer `step` column is left unused.
ALTER TABLE tasks ADD COLUMN workflow_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN stage TEXT;
ALTER TABLE tasks ADD COLUMN last_step TEXT;
ALTER TABLE tasks ADD COLUMN step_number BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN step_count BIGINT NOT NULL DEFAULT 0;
-- Parent and children: a parent waits (state `waiting`, `join_policy` all or first_failure)
-- until its children end; children created with their parent wait `held` until it lets
-- them go.
ALTER TABLE tasks ADD COLUMN parent_id TEXT;
ALTER TABLE tasks ADD COLUMN join_policy TEXT;
-- A durable wait: a `waiting` task with no children to wait for is claimable again from then.
ALTER TABLE tasks ADD COLUMN wake_at BIGINT;
-- Only this host may run the task (it acts on a node placed there); NULL: any host.
ALTER TABLE tasks ADD COLUMN host_id TEXT;
-- Someone asked the task to stop: it ends, failed, at its next step boundary.
ALTER TABLE tasks ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
-- What a long step has done so far: JSON {"done", "total", "unit"}.
ALTER TABLE tasks ADD COLUMN progress TEXT;
-- When the current step started, for the transient-failure patience across waits.
ALTER TABLE tasks ADD COLUMN step_started_at BIGINT;
CREATE INDEX tasks_parent ON tasks (parent_id);
CREATE INDEX tasks_resource ON tasks (resource_id, created_at);
-- One active task per resource; `queued` tasks wait behind it, oldest first.
DROP INDEX tasks_one_active;
CREATE UNIQUE INDEX tasks_one_active ON tasks (resource_id) WHERE state IN ('pending', 'running', 'waiting', 'held');

-- The hosts sharing this store, each heartbeating while it runs.
CREATE TABLE hosts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    backend       TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL
);

-- Where each node runs: the host and backend it was placed on, and its address as that
-- backend gives it.
ALTER TABLE instances ADD COLUMN host_id TEXT;
ALTER TABLE instances ADD COLUMN backend TEXT;
ALTER TABLE instances ADD COLUMN address TEXT;
CREATE INDEX instances_host ON instances (host_id);

-- The driver digest a task is pinned to (a pinned driver version cannot be removed).
ALTER TABLE tasks ADD COLUMN driver TEXT;
