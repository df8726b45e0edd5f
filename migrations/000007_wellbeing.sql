-- WellTrack Phase 1 — migration 000007: check-ins and goals.
-- Conventions: docs/schema.md (RLS per command, explicit grants, every FK indexed).
-- No transaction control here: supadeploy wraps each file in one transaction.

create table public.wt_daily_checkins (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  checkin_date date not null,
  mood smallint check (mood between 1 and 5),
  energy smallint check (energy between 1 and 5),
  stress smallint check (stress between 1 and 5),
  soreness smallint check (soreness between 1 and 5),
  note text check (char_length(note) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_daily_checkins_profile_date_key unique (profile_id, checkin_date)
);
comment on table public.wt_daily_checkins is 'Subjective daily check-in (1–5 scales) (access class: owner)';
create trigger wt_daily_checkins_set_updated_at
  before update on public.wt_daily_checkins
  for each row execute function public.wt_set_updated_at();

alter table public.wt_daily_checkins enable row level security;
revoke all on table public.wt_daily_checkins from anon, authenticated;
grant select, insert, update, delete on table public.wt_daily_checkins to authenticated;
grant all on table public.wt_daily_checkins to service_role;
create policy wt_daily_checkins_select_own on public.wt_daily_checkins
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_daily_checkins_insert_own on public.wt_daily_checkins
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_daily_checkins_update_own on public.wt_daily_checkins
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_daily_checkins_delete_own on public.wt_daily_checkins
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_goals (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  goal_type text not null check (goal_type in ('weight', 'body_fat', 'vo2max', 'hrv', 'sleep', 'training_volume', 'custom')),
  target_value numeric not null,
  target_date date,
  status text not null default 'active' check (status in ('active', 'achieved', 'abandoned')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_goals_id_profile_key unique (id, profile_id)
);
comment on table public.wt_goals is 'A measurable goal (access class: owner)';
create index wt_goals_profile_id_idx on public.wt_goals (profile_id, status);
create trigger wt_goals_set_updated_at
  before update on public.wt_goals
  for each row execute function public.wt_set_updated_at();

alter table public.wt_goals enable row level security;
revoke all on table public.wt_goals from anon, authenticated;
grant select, insert, update, delete on table public.wt_goals to authenticated;
grant all on table public.wt_goals to service_role;
create policy wt_goals_select_own on public.wt_goals
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_goals_insert_own on public.wt_goals
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_goals_update_own on public.wt_goals
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_goals_delete_own on public.wt_goals
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_goal_progress (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  goal_id uuid not null,
  recorded_at timestamptz not null default now(),
  value numeric not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_goal_progress_goal_fkey foreign key (goal_id, profile_id) references public.wt_goals (id, profile_id) on delete cascade
);
comment on table public.wt_goal_progress is 'Progress measurements towards a goal (access class: owner)';
create index wt_goal_progress_goal_profile_idx on public.wt_goal_progress (goal_id, profile_id);
create index wt_goal_progress_profile_id_idx on public.wt_goal_progress (profile_id);
create trigger wt_goal_progress_set_updated_at
  before update on public.wt_goal_progress
  for each row execute function public.wt_set_updated_at();

alter table public.wt_goal_progress enable row level security;
revoke all on table public.wt_goal_progress from anon, authenticated;
grant select, insert, update, delete on table public.wt_goal_progress to authenticated;
grant all on table public.wt_goal_progress to service_role;
create policy wt_goal_progress_select_own on public.wt_goal_progress
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_goal_progress_insert_own on public.wt_goal_progress
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_goal_progress_update_own on public.wt_goal_progress
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_goal_progress_delete_own on public.wt_goal_progress
  for delete to authenticated using (profile_id = (select auth.uid()));
