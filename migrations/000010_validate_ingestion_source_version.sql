-- WellTrack Phase 1b — migration 000010: validate the CHECK 000009 added NOT VALID.
-- VALIDATE CONSTRAINT scans wt_health_metrics under SHARE UPDATE EXCLUSIVE only: the app
-- keeps reading and writing while it runs. It is a file of its own so that, deployed one
-- transaction per file, it never runs under 000009's ACCESS EXCLUSIVE lock.

alter table public.wt_health_metrics
  validate constraint wt_health_metrics_ingestion_source_version_check;
