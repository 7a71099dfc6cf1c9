-- Where a host is reached by the others (its link URL) and where its node directories are:
-- a task on one host acts on a node another host holds through that host.
ALTER TABLE hosts ADD COLUMN url TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN nodes_dir TEXT NOT NULL DEFAULT '';
