-- WellTrack Phase 1b — migration 000009: performance engine.
-- Implements the Phase 1b PRP (docs/schema.md): 5 tables, 4 new wt_health_metrics columns,
-- 6 enums, RLS, indexes and grants. Additive only: the new columns carry
-- constant defaults, so ALTER TABLE does not rewrite wt_health_metrics.
-- No transaction control here: supadeploy wraps the file in one transaction.

create type public.wt_calibration_status as enum ('calibrating', 'provisional', 'calibrated', 'stale');
create type public.wt_load_type as enum ('session_rpe', 'trimp', 'tss', 'hr_zones', 'manual');
create type public.wt_validation_status as enum ('pending', 'valid', 'suspect', 'invalid');
create type public.wt_processing_status as enum ('pending', 'processing', 'processed', 'failed');
create type public.wt_webhook_status as enum ('received', 'processing', 'processed', 'failed', 'ignored');
create type public.wt_forecast_model as enum ('baseline', 'ewma', 'linear_trend', 'arima', 'ensemble');

-- Constant defaults: existing rows read them without a rewrite (PostgreSQL 11+).
alter table public.wt_health_metrics
  add column validation_status public.wt_validation_status not null default 'pending',
  add column ingestion_source_version smallint not null default 1,
  add column processing_status public.wt_processing_status not null default 'pending',
  add column is_primary boolean not null default true;

-- The CHECK is added NOT VALID: checked for every new or updated row at once, without
-- scanning the existing rows under this file's ACCESS EXCLUSIVE lock. 000010 validates
-- it under SHARE UPDATE EXCLUSIVE, which blocks no reads or writes.
alter table public.wt_health_metrics
  add constraint wt_health_metrics_ingestion_source_version_check
  check (ingestion_source_version >= 1) not valid;

create table public.wt_baselines (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  metric_type text not null references public.wt_metric_definitions (metric_type) on update cascade on delete restrict,
  baseline_value numeric not null,
  std_dev numeric check (std_dev >= 0),
  sample_count integer not null default 0 check (sample_count >= 0),
  window_days smallint not null default 28 check (window_days between 1 and 365),
  calibration_status public.wt_calibration_status not null default 'calibrating',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_baselines_profile_metric_key unique (profile_id, metric_type)
);
comment on table public.wt_baselines is 'Rolling personal baseline per metric, computed by the engine (access class: owner-read)';
create index wt_baselines_metric_type_idx on public.wt_baselines (metric_type);
create trigger wt_baselines_set_updated_at
  before update on public.wt_baselines
  for each row execute function public.wt_set_updated_at();

alter table public.wt_baselines enable row level security;
revoke all on table public.wt_baselines from anon, authenticated;
grant select on table public.wt_baselines to authenticated;
grant all on table public.wt_baselines to service_role;
create policy wt_baselines_select_own on public.wt_baselines
  for select to authenticated using (profile_id = (select auth.uid()));

create table public.wt_training_loads (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  workout_id uuid,
  load_date date not null,
  load_type public.wt_load_type not null default 'session_rpe',
  duration_minutes numeric(7, 2) not null check (duration_minutes >= 0 and duration_minutes <= 1440),
  intensity_factor numeric(5, 3) not null check (intensity_factor >= 0 and intensity_factor <= 10),
  training_load numeric generated always as (duration_minutes * intensity_factor) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_training_loads_workout_fkey foreign key (workout_id, profile_id) references public.wt_workouts (id, profile_id) on delete cascade
);
comment on table public.wt_training_loads is 'Daily training load; training_load is derived, never written (access class: owner-read)';
create index wt_training_loads_profile_date_idx on public.wt_training_loads (profile_id, load_date desc);
create index wt_training_loads_workout_profile_idx on public.wt_training_loads (workout_id, profile_id);
create trigger wt_training_loads_set_updated_at
  before update on public.wt_training_loads
  for each row execute function public.wt_set_updated_at();

alter table public.wt_training_loads enable row level security;
revoke all on table public.wt_training_loads from anon, authenticated;
grant select on table public.wt_training_loads to authenticated;
grant all on table public.wt_training_loads to service_role;
create policy wt_training_loads_select_own on public.wt_training_loads
  for select to authenticated using (profile_id = (select auth.uid()));

create table public.wt_recovery_scores (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  score_date date not null,
  recovery_score numeric(5, 2) not null constraint wt_recovery_scores_recovery_score_range check (recovery_score >= 0 and recovery_score <= 100),
  hrv_component numeric(5, 2) check (hrv_component between 0 and 100),
  resting_hr_component numeric(5, 2) check (resting_hr_component between 0 and 100),
  sleep_component numeric(5, 2) check (sleep_component between 0 and 100),
  load_component numeric(5, 2) check (load_component between 0 and 100),
  model_version text not null default 'v1' check (char_length(model_version) between 1 and 32),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_recovery_scores_profile_date_key unique (profile_id, score_date)
);
comment on table public.wt_recovery_scores is 'Daily recovery score (0–100) and its components (access class: owner-read)';
create trigger wt_recovery_scores_set_updated_at
  before update on public.wt_recovery_scores
  for each row execute function public.wt_set_updated_at();

alter table public.wt_recovery_scores enable row level security;
revoke all on table public.wt_recovery_scores from anon, authenticated;
grant select on table public.wt_recovery_scores to authenticated;
grant all on table public.wt_recovery_scores to service_role;
create policy wt_recovery_scores_select_own on public.wt_recovery_scores
  for select to authenticated using (profile_id = (select auth.uid()));

create table public.wt_forecasts (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  metric_type text not null references public.wt_metric_definitions (metric_type) on update cascade on delete restrict,
  forecast_date date not null,
  model public.wt_forecast_model not null,
  predicted_value numeric not null,
  lower_bound numeric,
  upper_bound numeric,
  generated_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_forecasts_bounds_ordered check (lower_bound is null or upper_bound is null or (lower_bound <= predicted_value and predicted_value <= upper_bound)),
  constraint wt_forecasts_profile_metric_date_model_key unique (profile_id, metric_type, forecast_date, model)
);
comment on table public.wt_forecasts is 'Forecast of a metric for a future date (access class: owner-read)';
create index wt_forecasts_metric_type_idx on public.wt_forecasts (metric_type);
create trigger wt_forecasts_set_updated_at
  before update on public.wt_forecasts
  for each row execute function public.wt_set_updated_at();

alter table public.wt_forecasts enable row level security;
revoke all on table public.wt_forecasts from anon, authenticated;
grant select on table public.wt_forecasts to authenticated;
grant all on table public.wt_forecasts to service_role;
create policy wt_forecasts_select_own on public.wt_forecasts
  for select to authenticated using (profile_id = (select auth.uid()));

create table public.wt_webhook_events (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid references public.wt_profiles (id) on delete cascade,
  source text not null constraint wt_webhook_events_source_check check (source in ('oura', 'whoop', 'garmin', 'strava', 'apple_health', 'fitbit', 'polar')),
  event_type text not null check (char_length(event_type) between 1 and 100),
  external_event_id text not null check (char_length(external_event_id) between 1 and 256),
  payload jsonb not null default '{}'::jsonb,
  status public.wt_webhook_status not null default 'received',
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_webhook_events_source_external_key unique (source, external_event_id)
);
comment on table public.wt_webhook_events is 'Inbound provider webhooks, queued for Edge Functions; written only by service_role (access class: owner-read)';
create index wt_webhook_events_profile_id_idx on public.wt_webhook_events (profile_id);
create index wt_webhook_events_pending_idx on public.wt_webhook_events (status, received_at) where status in ('received', 'failed');
create trigger wt_webhook_events_set_updated_at
  before update on public.wt_webhook_events
  for each row execute function public.wt_set_updated_at();

alter table public.wt_webhook_events enable row level security;
revoke all on table public.wt_webhook_events from anon, authenticated;
grant select on table public.wt_webhook_events to authenticated;
grant all on table public.wt_webhook_events to service_role;
create policy wt_webhook_events_select_own on public.wt_webhook_events
  for select to authenticated using (profile_id = (select auth.uid()));
