-- WellTrack Phase 1 — migration 000005: exercises, workouts and training plans.
-- Conventions: docs/schema.md (RLS per command, explicit grants, every FK indexed).
-- No transaction control here: supadeploy wraps each file in one transaction.

create table public.wt_exercises (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 100),
  category text not null check (category in ('strength', 'cardio', 'mobility', 'plyometric', 'sport', 'other')),
  primary_muscles text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_exercises_name_key unique (name)
);
comment on table public.wt_exercises is 'Catalog of exercises (access class: catalog)';
create trigger wt_exercises_set_updated_at
  before update on public.wt_exercises
  for each row execute function public.wt_set_updated_at();

alter table public.wt_exercises enable row level security;
revoke all on table public.wt_exercises from anon, authenticated;
grant select on table public.wt_exercises to authenticated;
grant all on table public.wt_exercises to service_role;
create policy wt_exercises_select_all on public.wt_exercises
  for select to authenticated using (true);

create table public.wt_workouts (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  started_at timestamptz not null,
  ended_at timestamptz,
  sport text not null check (char_length(sport) between 1 and 50),
  perceived_exertion smallint check (perceived_exertion between 1 and 10),
  data_source_id uuid references public.wt_data_sources (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_workouts_ends_after_start check (ended_at is null or ended_at >= started_at),
  constraint wt_workouts_id_profile_key unique (id, profile_id)
);
comment on table public.wt_workouts is 'A training session (access class: owner)';
create index wt_workouts_profile_started_idx on public.wt_workouts (profile_id, started_at desc);
create index wt_workouts_data_source_id_idx on public.wt_workouts (data_source_id);
create trigger wt_workouts_set_updated_at
  before update on public.wt_workouts
  for each row execute function public.wt_set_updated_at();

alter table public.wt_workouts enable row level security;
revoke all on table public.wt_workouts from anon, authenticated;
grant select, insert, update, delete on table public.wt_workouts to authenticated;
grant all on table public.wt_workouts to service_role;
create policy wt_workouts_select_own on public.wt_workouts
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_workouts_insert_own on public.wt_workouts
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_workouts_update_own on public.wt_workouts
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_workouts_delete_own on public.wt_workouts
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_workout_exercises (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  workout_id uuid not null,
  exercise_id uuid not null references public.wt_exercises (id) on delete restrict,
  position smallint not null check (position >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_workout_exercises_workout_fkey foreign key (workout_id, profile_id) references public.wt_workouts (id, profile_id) on delete cascade,
  constraint wt_workout_exercises_workout_position_key unique (workout_id, position),
  constraint wt_workout_exercises_id_profile_key unique (id, profile_id)
);
comment on table public.wt_workout_exercises is 'Exercises performed in a workout, in order (access class: owner)';
create index wt_workout_exercises_workout_profile_idx on public.wt_workout_exercises (workout_id, profile_id);
create index wt_workout_exercises_profile_id_idx on public.wt_workout_exercises (profile_id);
create index wt_workout_exercises_exercise_id_idx on public.wt_workout_exercises (exercise_id);
create trigger wt_workout_exercises_set_updated_at
  before update on public.wt_workout_exercises
  for each row execute function public.wt_set_updated_at();

alter table public.wt_workout_exercises enable row level security;
revoke all on table public.wt_workout_exercises from anon, authenticated;
grant select, insert, update, delete on table public.wt_workout_exercises to authenticated;
grant all on table public.wt_workout_exercises to service_role;
create policy wt_workout_exercises_select_own on public.wt_workout_exercises
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_workout_exercises_insert_own on public.wt_workout_exercises
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_workout_exercises_update_own on public.wt_workout_exercises
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_workout_exercises_delete_own on public.wt_workout_exercises
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_workout_sets (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  workout_exercise_id uuid not null,
  set_number smallint not null check (set_number >= 1),
  reps smallint check (reps between 0 and 1000),
  weight_kg numeric(6, 2) check (weight_kg between 0 and 1000),
  duration_s integer check (duration_s between 0 and 86400),
  rpe numeric(3, 1) check (rpe between 1 and 10),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_workout_sets_workout_exercise_fkey foreign key (workout_exercise_id, profile_id) references public.wt_workout_exercises (id, profile_id) on delete cascade,
  constraint wt_workout_sets_exercise_set_key unique (workout_exercise_id, set_number)
);
comment on table public.wt_workout_sets is 'Sets of one exercise in a workout (access class: owner)';
create index wt_workout_sets_workout_exercise_profile_idx on public.wt_workout_sets (workout_exercise_id, profile_id);
create index wt_workout_sets_profile_id_idx on public.wt_workout_sets (profile_id);
create trigger wt_workout_sets_set_updated_at
  before update on public.wt_workout_sets
  for each row execute function public.wt_set_updated_at();

alter table public.wt_workout_sets enable row level security;
revoke all on table public.wt_workout_sets from anon, authenticated;
grant select, insert, update, delete on table public.wt_workout_sets to authenticated;
grant all on table public.wt_workout_sets to service_role;
create policy wt_workout_sets_select_own on public.wt_workout_sets
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_workout_sets_insert_own on public.wt_workout_sets
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_workout_sets_update_own on public.wt_workout_sets
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_workout_sets_delete_own on public.wt_workout_sets
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_training_plans (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  goal text check (char_length(goal) <= 500),
  starts_on date not null,
  ends_on date,
  status text not null default 'draft' check (status in ('draft', 'active', 'completed', 'abandoned')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_training_plans_ends_after_start check (ends_on is null or ends_on >= starts_on)
);
comment on table public.wt_training_plans is 'A planned training block (access class: owner)';
create index wt_training_plans_profile_starts_idx on public.wt_training_plans (profile_id, starts_on desc);
create trigger wt_training_plans_set_updated_at
  before update on public.wt_training_plans
  for each row execute function public.wt_set_updated_at();

alter table public.wt_training_plans enable row level security;
revoke all on table public.wt_training_plans from anon, authenticated;
grant select, insert, update, delete on table public.wt_training_plans to authenticated;
grant all on table public.wt_training_plans to service_role;
create policy wt_training_plans_select_own on public.wt_training_plans
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_training_plans_insert_own on public.wt_training_plans
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_training_plans_update_own on public.wt_training_plans
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_training_plans_delete_own on public.wt_training_plans
  for delete to authenticated using (profile_id = (select auth.uid()));

insert into public.wt_exercises (name, category, primary_muscles) values
  ('Back squat', 'strength', '{quadriceps,glutes}'),
  ('Deadlift', 'strength', '{hamstrings,glutes,back}'),
  ('Bench press', 'strength', '{chest,triceps}'),
  ('Pull-up', 'strength', '{lats,biceps}'),
  ('Easy run', 'cardio', '{}'),
  ('Interval run', 'cardio', '{}'),
  ('Hip mobility flow', 'mobility', '{hips}');
