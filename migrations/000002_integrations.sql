-- WellTrack Phase 1 — migration 000002: wearable and app integrations.
-- Conventions: docs/schema.md (RLS per command, explicit grants, every FK indexed).
-- No transaction control here: supadeploy wraps each file in one transaction.

create table public.wt_data_sources (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (provider in ('oura', 'whoop', 'garmin', 'strava', 'apple_health', 'fitbit', 'polar', 'manual')),
  display_name text not null check (char_length(display_name) between 1 and 100),
  capabilities text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_data_sources_provider_key unique (provider)
);
comment on table public.wt_data_sources is 'Catalog of providers data can come from (access class: catalog)';
create trigger wt_data_sources_set_updated_at
  before update on public.wt_data_sources
  for each row execute function public.wt_set_updated_at();

alter table public.wt_data_sources enable row level security;
revoke all on table public.wt_data_sources from anon, authenticated;
grant select on table public.wt_data_sources to authenticated;
grant all on table public.wt_data_sources to service_role;
create policy wt_data_sources_select_all on public.wt_data_sources
  for select to authenticated using (true);

create table public.wt_devices (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  data_source_id uuid not null references public.wt_data_sources (id) on delete restrict,
  model text check (char_length(model) <= 100),
  serial_hash text check (char_length(serial_hash) <= 128),
  last_seen_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_devices_id_profile_key unique (id, profile_id)
);
comment on table public.wt_devices is 'A profile''s wearable devices (access class: owner)';
create index wt_devices_profile_id_idx on public.wt_devices (profile_id);
create index wt_devices_data_source_id_idx on public.wt_devices (data_source_id);
create trigger wt_devices_set_updated_at
  before update on public.wt_devices
  for each row execute function public.wt_set_updated_at();

alter table public.wt_devices enable row level security;
revoke all on table public.wt_devices from anon, authenticated;
grant select, insert, update, delete on table public.wt_devices to authenticated;
grant all on table public.wt_devices to service_role;
create policy wt_devices_select_own on public.wt_devices
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_devices_insert_own on public.wt_devices
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_devices_update_own on public.wt_devices
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_devices_delete_own on public.wt_devices
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_integrations (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  data_source_id uuid not null references public.wt_data_sources (id) on delete restrict,
  status text not null default 'pending' check (status in ('pending', 'active', 'error', 'revoked')),
  external_user_id text check (char_length(external_user_id) <= 256),
  scopes text[] not null default '{}',
  connected_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_integrations_profile_source_key unique (profile_id, data_source_id),
  constraint wt_integrations_id_profile_key unique (id, profile_id)
);
comment on table public.wt_integrations is 'A profile''s connection to a provider (access class: owner)';
create index wt_integrations_data_source_id_idx on public.wt_integrations (data_source_id);
create trigger wt_integrations_set_updated_at
  before update on public.wt_integrations
  for each row execute function public.wt_set_updated_at();

alter table public.wt_integrations enable row level security;
revoke all on table public.wt_integrations from anon, authenticated;
grant select, insert, update, delete on table public.wt_integrations to authenticated;
grant all on table public.wt_integrations to service_role;
create policy wt_integrations_select_own on public.wt_integrations
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_integrations_insert_own on public.wt_integrations
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_integrations_update_own on public.wt_integrations
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_integrations_delete_own on public.wt_integrations
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_integration_tokens (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  integration_id uuid not null,
  encrypted_access_token bytea not null,
  encrypted_refresh_token bytea,
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_integration_tokens_integration_fkey foreign key (integration_id, profile_id) references public.wt_integrations (id, profile_id) on delete cascade,
  constraint wt_integration_tokens_integration_key unique (integration_id)
);
comment on table public.wt_integration_tokens is 'Encrypted provider tokens; never exposed to clients (access class: service)';
create index wt_integration_tokens_integration_profile_idx on public.wt_integration_tokens (integration_id, profile_id);
create index wt_integration_tokens_profile_id_idx on public.wt_integration_tokens (profile_id);
create trigger wt_integration_tokens_set_updated_at
  before update on public.wt_integration_tokens
  for each row execute function public.wt_set_updated_at();

alter table public.wt_integration_tokens enable row level security;
revoke all on table public.wt_integration_tokens from anon, authenticated;
grant all on table public.wt_integration_tokens to service_role;

create table public.wt_sync_runs (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  integration_id uuid not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  records_ingested integer not null default 0 check (records_ingested >= 0),
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_sync_runs_integration_fkey foreign key (integration_id, profile_id) references public.wt_integrations (id, profile_id) on delete cascade,
  constraint wt_sync_runs_finished_after_started check (finished_at is null or finished_at >= started_at)
);
comment on table public.wt_sync_runs is 'One row per provider sync attempt (access class: owner-read)';
create index wt_sync_runs_integration_profile_idx on public.wt_sync_runs (integration_id, profile_id, started_at desc);
create index wt_sync_runs_profile_id_idx on public.wt_sync_runs (profile_id, started_at desc);
create trigger wt_sync_runs_set_updated_at
  before update on public.wt_sync_runs
  for each row execute function public.wt_set_updated_at();

alter table public.wt_sync_runs enable row level security;
revoke all on table public.wt_sync_runs from anon, authenticated;
grant select on table public.wt_sync_runs to authenticated;
grant all on table public.wt_sync_runs to service_role;
create policy wt_sync_runs_select_own on public.wt_sync_runs
  for select to authenticated using (profile_id = (select auth.uid()));

insert into public.wt_data_sources (provider, display_name, capabilities) values
  ('oura', 'Oura', '{sleep,hrv,resting_hr,temperature}'),
  ('whoop', 'WHOOP', '{sleep,hrv,resting_hr,strain}'),
  ('garmin', 'Garmin', '{workouts,hrv,resting_hr,sleep,vo2max}'),
  ('strava', 'Strava', '{workouts}'),
  ('apple_health', 'Apple Health', '{workouts,sleep,hrv,resting_hr,steps}'),
  ('fitbit', 'Fitbit', '{sleep,resting_hr,steps}'),
  ('polar', 'Polar', '{workouts,hrv,sleep}'),
  ('manual', 'Manual entry', '{workouts,sleep,nutrition,body}');
