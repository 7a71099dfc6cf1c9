-- How each replica follows its source, as the health pass last saw it: `in_sync` or
-- `out_of_sync`, and its lag in milliseconds when the datastore reports one.
ALTER TABLE instances ADD COLUMN replication_state TEXT;
ALTER TABLE instances ADD COLUMN replication_lag_ms BIGINT;
