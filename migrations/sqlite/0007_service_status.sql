-- What the health pass last saw of each instance's datastore service (`HEALTHY`, `SHUTDOWN`,
-- `ERROR`, `STARTING`) and when: Trove's `operating_status` and `service_status_updated`.
ALTER TABLE instances ADD COLUMN service_status TEXT;
ALTER TABLE instances ADD COLUMN service_status_at BIGINT;
-- Who first enabled root, for the management API's root history.
ALTER TABLE instances ADD COLUMN root_enabled_by TEXT;
