-- WellTrack Phase 1 — migration 000004: sleep sessions and stages.
-- Conventions: docs/schema.md (RLS per command, explicit grants, every FK indexed).
-- No transaction control here: supadeploy wraps each file in one transaction.

create table public.wt_sleep_sessions (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  started_at timestamptz not null,
  ended_at timestamptz not null,
  efficiency numeric(4, 1) check (efficiency between 0 and 100),
  score smallint check (score between 0 and 100),
  data_source_id uuid references public.wt_data_sources (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_sleep_sessions_ends_after_start check (ended_at > started_at),
  constraint wt_sleep_sessions_id_profile_key unique (id, profile_id)
);
comment on table public.wt_sleep_sessions is 'A night (or nap) of sleep (access class: owner)';
create index wt_sleep_sessions_profile_started_idx on public.wt_sleep_sessions (profile_id, started_at desc);
create index wt_sleep_sessions_data_source_id_idx on public.wt_sleep_sessions (data_source_id);
create trigger wt_sleep_sessions_set_updated_at
  before update on public.wt_sleep_sessions
  for each row execute function public.wt_set_updated_at();

alter table public.wt_sleep_sessions enable row level security;
revoke all on table public.wt_sleep_sessions from anon, authenticated;
grant select, insert, update, delete on table public.wt_sleep_sessions to authenticated;
grant all on table public.wt_sleep_sessions to service_role;
create policy wt_sleep_sessions_select_own on public.wt_sleep_sessions
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_sleep_sessions_insert_own on public.wt_sleep_sessions
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_sleep_sessions_update_own on public.wt_sleep_sessions
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_sleep_sessions_delete_own on public.wt_sleep_sessions
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_sleep_stages (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  sleep_session_id uuid not null,
  stage text not null check (stage in ('awake', 'light', 'deep', 'rem')),
  started_at timestamptz not null,
  ended_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_sleep_stages_sleep_session_fkey foreign key (sleep_session_id, profile_id) references public.wt_sleep_sessions (id, profile_id) on delete cascade,
  constraint wt_sleep_stages_ends_after_start check (ended_at > started_at)
);
comment on table public.wt_sleep_stages is 'Stages within a sleep session (access class: owner)';
create index wt_sleep_stages_sleep_session_profile_idx on public.wt_sleep_stages (sleep_session_id, profile_id);
create index wt_sleep_stages_profile_id_idx on public.wt_sleep_stages (profile_id);
create trigger wt_sleep_stages_set_updated_at
  before update on public.wt_sleep_stages
  for each row execute function public.wt_set_updated_at();

alter table public.wt_sleep_stages enable row level security;
revoke all on table public.wt_sleep_stages from anon, authenticated;
grant select, insert, update, delete on table public.wt_sleep_stages to authenticated;
grant all on table public.wt_sleep_stages to service_role;
create policy wt_sleep_stages_select_own on public.wt_sleep_stages
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_sleep_stages_insert_own on public.wt_sleep_stages
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_sleep_stages_update_own on public.wt_sleep_stages
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_sleep_stages_delete_own on public.wt_sleep_stages
  for delete to authenticated using (profile_id = (select auth.uid()));
