-- WellTrack Phase 1 — migration 000003: health metrics, body measurements and daily summaries.
-- Conventions: docs/schema.md (RLS per command, explicit grants, every FK indexed).
-- No transaction control here: supadeploy wraps each file in one transaction.

create table public.wt_metric_definitions (
  id uuid primary key default gen_random_uuid(),
  metric_type text not null check (metric_type ~ '^[a-z][a-z0-9_]{1,62}$'),
  unit text not null check (char_length(unit) between 1 and 32),
  min_value numeric,
  max_value numeric,
  description text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_metric_definitions_metric_type_key unique (metric_type),
  constraint wt_metric_definitions_range check (min_value is null or max_value is null or min_value <= max_value)
);
comment on table public.wt_metric_definitions is 'Catalog of metric types with unit and valid range (access class: catalog)';
create trigger wt_metric_definitions_set_updated_at
  before update on public.wt_metric_definitions
  for each row execute function public.wt_set_updated_at();

alter table public.wt_metric_definitions enable row level security;
revoke all on table public.wt_metric_definitions from anon, authenticated;
grant select on table public.wt_metric_definitions to authenticated;
grant all on table public.wt_metric_definitions to service_role;
create policy wt_metric_definitions_select_all on public.wt_metric_definitions
  for select to authenticated using (true);

create table public.wt_health_metrics (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  metric_type text not null references public.wt_metric_definitions (metric_type) on update cascade on delete restrict,
  value numeric not null,
  unit text not null check (char_length(unit) between 1 and 32),
  recorded_at timestamptz not null,
  data_source_id uuid references public.wt_data_sources (id) on delete set null,
  device_id uuid,
  external_id text check (char_length(external_id) <= 256),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_health_metrics_device_fkey foreign key (device_id, profile_id) references public.wt_devices (id, profile_id) on delete cascade,
  constraint wt_health_metrics_source_external_key unique (profile_id, data_source_id, external_id)
);
comment on table public.wt_health_metrics is 'Time series of health metrics from wearables and manual logs (access class: owner)';
create index wt_health_metrics_profile_metric_recorded_idx on public.wt_health_metrics (profile_id, metric_type, recorded_at desc);
create index wt_health_metrics_metric_type_idx on public.wt_health_metrics (metric_type);
create index wt_health_metrics_data_source_id_idx on public.wt_health_metrics (data_source_id);
create index wt_health_metrics_device_profile_idx on public.wt_health_metrics (device_id, profile_id);
create trigger wt_health_metrics_set_updated_at
  before update on public.wt_health_metrics
  for each row execute function public.wt_set_updated_at();

alter table public.wt_health_metrics enable row level security;
revoke all on table public.wt_health_metrics from anon, authenticated;
grant select, insert, update, delete on table public.wt_health_metrics to authenticated;
grant all on table public.wt_health_metrics to service_role;
create policy wt_health_metrics_select_own on public.wt_health_metrics
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_health_metrics_insert_own on public.wt_health_metrics
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_health_metrics_update_own on public.wt_health_metrics
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_health_metrics_delete_own on public.wt_health_metrics
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_body_measurements (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  weight_kg numeric(5, 2) check (weight_kg between 20 and 400),
  body_fat_pct numeric(4, 1) check (body_fat_pct between 2 and 75),
  measured_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_body_measurements_something_measured check (weight_kg is not null or body_fat_pct is not null)
);
comment on table public.wt_body_measurements is 'Weight and body composition (access class: owner)';
create index wt_body_measurements_profile_measured_idx on public.wt_body_measurements (profile_id, measured_at desc);
create trigger wt_body_measurements_set_updated_at
  before update on public.wt_body_measurements
  for each row execute function public.wt_set_updated_at();

alter table public.wt_body_measurements enable row level security;
revoke all on table public.wt_body_measurements from anon, authenticated;
grant select, insert, update, delete on table public.wt_body_measurements to authenticated;
grant all on table public.wt_body_measurements to service_role;
create policy wt_body_measurements_select_own on public.wt_body_measurements
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_body_measurements_insert_own on public.wt_body_measurements
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_body_measurements_update_own on public.wt_body_measurements
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_body_measurements_delete_own on public.wt_body_measurements
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_daily_summaries (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  summary_date date not null,
  steps integer check (steps between 0 and 200000),
  active_kcal integer check (active_kcal between 0 and 20000),
  resting_hr smallint check (resting_hr between 20 and 250),
  hrv numeric(6, 2) check (hrv between 0 and 500),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_daily_summaries_profile_date_key unique (profile_id, summary_date)
);
comment on table public.wt_daily_summaries is 'One computed summary per profile and day (access class: owner-read)';
create trigger wt_daily_summaries_set_updated_at
  before update on public.wt_daily_summaries
  for each row execute function public.wt_set_updated_at();

alter table public.wt_daily_summaries enable row level security;
revoke all on table public.wt_daily_summaries from anon, authenticated;
grant select on table public.wt_daily_summaries to authenticated;
grant all on table public.wt_daily_summaries to service_role;
create policy wt_daily_summaries_select_own on public.wt_daily_summaries
  for select to authenticated using (profile_id = (select auth.uid()));

insert into public.wt_metric_definitions (metric_type, unit, min_value, max_value, description) values
  ('hrv_rmssd', 'ms', 0, 500, 'Heart rate variability, RMSSD'),
  ('resting_hr', 'bpm', 20, 250, 'Resting heart rate'),
  ('sleep_duration', 'min', 0, 1440, 'Total sleep time'),
  ('vo2max', 'ml/kg/min', 10, 100, 'Estimated VO2 max'),
  ('respiratory_rate', 'breaths/min', 4, 60, 'Respiratory rate during sleep'),
  ('skin_temperature_delta', 'degC', -5, 5, 'Deviation from baseline skin temperature'),
  ('steps', 'count', 0, 200000, 'Steps');
