-- What a replica's driver needs to follow its source: the source driver's enable-source answer
-- (typically replication credentials), kept for rendering the replica again after restarts.
ALTER TABLE instances ADD COLUMN replica_info TEXT;
