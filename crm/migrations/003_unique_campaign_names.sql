-- Campaign names are unique per channel, case-insensitively, enforced by the
-- database (migration 002 renamed duplicates already on file). DuckDB keeps a
-- UNIQUE index on an expression, also across a restart and WAL replay.
CREATE UNIQUE INDEX campaigns_channel_name_key ON campaigns (channel, lower(name));
