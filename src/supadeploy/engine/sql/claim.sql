-- A non-transactional file claims its progress row (under the deploy lock): refused when the file changed
-- since an earlier partial run (@CHANGED_SINCE@) or another live deploy holds the claim (@CLAIMED@).
DO $sd_claim$
DECLARE p record;
BEGIN
  SELECT * INTO p FROM supabase_migrations.supadeploy_progress WHERE version = @VERSION@;
  IF FOUND AND p.fingerprint <> @FINGERPRINT@ THEN
    RAISE EXCEPTION USING ERRCODE = '@CHANGED_SINCE@', MESSAGE = p.done::text;
  END IF;
  IF FOUND AND p.run_id NOT IN ('', @RUN_ID@) AND NOT (@STALE@) THEN
    RAISE EXCEPTION USING ERRCODE = '@CLAIMED@', MESSAGE = p.run_id;
  END IF;
END
$sd_claim$;
INSERT INTO supabase_migrations.supadeploy_progress (version, done, fingerprint, run_id, updated_at)
VALUES (@VERSION@, 0, @FINGERPRINT@, @RUN_ID@, pg_catalog.clock_timestamp())
ON CONFLICT (version) DO UPDATE SET run_id = excluded.run_id, updated_at = excluded.updated_at;
