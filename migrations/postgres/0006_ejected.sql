-- A source ejected from its replication set: the replica that took over. Such an instance is
-- never started again by Drover, so that it cannot take writes beside the new source.
ALTER TABLE instances ADD COLUMN ejected_by TEXT;
