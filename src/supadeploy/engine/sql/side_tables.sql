-- supadeploy's side tables beside the Supabase CLI's history table (the CLI never touches them).
CREATE TABLE IF NOT EXISTS supabase_migrations.supadeploy_log (
  version text NOT NULL PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  duration_ms integer,
  fingerprint text,
  tool text
);
CREATE TABLE IF NOT EXISTS supabase_migrations.supadeploy_progress (
  version text NOT NULL PRIMARY KEY,
  done integer NOT NULL DEFAULT 0,
  fingerprint text NOT NULL,
  run_id text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE SEQUENCE IF NOT EXISTS supabase_migrations.supadeploy_cursor;
-- Marks run as whatever role a migration switched to; they name the sequence by OID (no schema
-- lookup), and setting this counter is harmless, so any role may.
GRANT UPDATE ON SEQUENCE supabase_migrations.supadeploy_cursor TO PUBLIC;
