-- WellTrack Phase 1 — migration 000001: profiles and per-profile settings.
-- Conventions: docs/schema.md (RLS per command, explicit grants, every FK indexed).
-- No transaction control here: supadeploy wraps each file in one transaction.

-- One trigger function keeps every table's updated_at honest.
create or replace function public.wt_set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
revoke all on function public.wt_set_updated_at() from public, anon, authenticated;

create table public.wt_profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text check (char_length(display_name) between 1 and 100),
  birth_date date check (birth_date >= date '1900-01-01'),
  sex text check (sex in ('female', 'male', 'intersex', 'undisclosed')),
  height_cm numeric(5, 1) check (height_cm between 50 and 280),
  timezone text not null default 'UTC' check (char_length(timezone) between 1 and 64),
  unit_system text not null default 'metric' check (unit_system in ('metric', 'imperial')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.wt_profiles is 'One profile per auth user; id = auth.users.id (access class: owner)';
create trigger wt_profiles_set_updated_at
  before update on public.wt_profiles
  for each row execute function public.wt_set_updated_at();

alter table public.wt_profiles enable row level security;
revoke all on table public.wt_profiles from anon, authenticated;
grant select, insert, update, delete on table public.wt_profiles to authenticated;
grant all on table public.wt_profiles to service_role;
create policy wt_profiles_select_own on public.wt_profiles
  for select to authenticated using (id = (select auth.uid()));
create policy wt_profiles_insert_own on public.wt_profiles
  for insert to authenticated with check (id = (select auth.uid()));
create policy wt_profiles_update_own on public.wt_profiles
  for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));
create policy wt_profiles_delete_own on public.wt_profiles
  for delete to authenticated using (id = (select auth.uid()));

create table public.wt_user_settings (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  notifications_enabled boolean not null default true,
  share_anonymised_data boolean not null default false,
  engine_preferences jsonb not null default '{}'::jsonb check (jsonb_typeof(engine_preferences) = 'object'),
  week_starts_on smallint not null default 1 check (week_starts_on between 0 and 6),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_user_settings_profile_id_key unique (profile_id)
);
comment on table public.wt_user_settings is 'Exactly one settings row per profile (access class: owner)';
create trigger wt_user_settings_set_updated_at
  before update on public.wt_user_settings
  for each row execute function public.wt_set_updated_at();

alter table public.wt_user_settings enable row level security;
revoke all on table public.wt_user_settings from anon, authenticated;
grant select, insert, update, delete on table public.wt_user_settings to authenticated;
grant all on table public.wt_user_settings to service_role;
create policy wt_user_settings_select_own on public.wt_user_settings
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_user_settings_insert_own on public.wt_user_settings
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_user_settings_update_own on public.wt_user_settings
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_user_settings_delete_own on public.wt_user_settings
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_consents (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  consent_type text not null check (consent_type in ('terms', 'privacy', 'health_data', 'marketing', 'research')),
  granted boolean not null,
  granted_at timestamptz,
  revoked_at timestamptz,
  policy_version text not null check (char_length(policy_version) between 1 and 32),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_consents_revoked_after_granted check (revoked_at is null or granted_at is null or revoked_at >= granted_at),
  constraint wt_consents_profile_type_version_key unique (profile_id, consent_type, policy_version)
);
comment on table public.wt_consents is 'Consent given or revoked, per type and policy version (access class: owner)';
create trigger wt_consents_set_updated_at
  before update on public.wt_consents
  for each row execute function public.wt_set_updated_at();

alter table public.wt_consents enable row level security;
revoke all on table public.wt_consents from anon, authenticated;
grant select, insert, update, delete on table public.wt_consents to authenticated;
grant all on table public.wt_consents to service_role;
create policy wt_consents_select_own on public.wt_consents
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_consents_insert_own on public.wt_consents
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_consents_update_own on public.wt_consents
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_consents_delete_own on public.wt_consents
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_notification_preferences (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  channel text not null check (channel in ('push', 'email', 'sms', 'in_app')),
  category text not null check (category in ('recovery', 'training', 'sleep', 'nutrition', 'goals', 'system')),
  enabled boolean not null default true,
  quiet_hours_start time,
  quiet_hours_end time,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_notification_preferences_quiet_hours_pair check ((quiet_hours_start is null) = (quiet_hours_end is null)),
  constraint wt_notification_preferences_profile_channel_category_key unique (profile_id, channel, category)
);
comment on table public.wt_notification_preferences is 'Per channel and category notification switches (access class: owner)';
create trigger wt_notification_preferences_set_updated_at
  before update on public.wt_notification_preferences
  for each row execute function public.wt_set_updated_at();

alter table public.wt_notification_preferences enable row level security;
revoke all on table public.wt_notification_preferences from anon, authenticated;
grant select, insert, update, delete on table public.wt_notification_preferences to authenticated;
grant all on table public.wt_notification_preferences to service_role;
create policy wt_notification_preferences_select_own on public.wt_notification_preferences
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_notification_preferences_insert_own on public.wt_notification_preferences
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_notification_preferences_update_own on public.wt_notification_preferences
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_notification_preferences_delete_own on public.wt_notification_preferences
  for delete to authenticated using (profile_id = (select auth.uid()));
