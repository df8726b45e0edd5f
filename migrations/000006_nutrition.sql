-- WellTrack Phase 1 — migration 000006: nutrition, hydration and supplements.
-- Conventions: docs/schema.md (RLS per command, explicit grants, every FK indexed).
-- No transaction control here: supadeploy wraps each file in one transaction.

create table public.wt_nutrition_logs (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  consumed_at timestamptz not null,
  meal_type text not null check (meal_type in ('breakfast', 'lunch', 'dinner', 'snack', 'pre_workout', 'post_workout')),
  kcal integer check (kcal between 0 and 10000),
  protein_g numeric(6, 1) check (protein_g >= 0),
  carbs_g numeric(6, 1) check (carbs_g >= 0),
  fat_g numeric(6, 1) check (fat_g >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.wt_nutrition_logs is 'Meals and their macronutrients (access class: owner)';
create index wt_nutrition_logs_profile_consumed_idx on public.wt_nutrition_logs (profile_id, consumed_at desc);
create trigger wt_nutrition_logs_set_updated_at
  before update on public.wt_nutrition_logs
  for each row execute function public.wt_set_updated_at();

alter table public.wt_nutrition_logs enable row level security;
revoke all on table public.wt_nutrition_logs from anon, authenticated;
grant select, insert, update, delete on table public.wt_nutrition_logs to authenticated;
grant all on table public.wt_nutrition_logs to service_role;
create policy wt_nutrition_logs_select_own on public.wt_nutrition_logs
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_nutrition_logs_insert_own on public.wt_nutrition_logs
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_nutrition_logs_update_own on public.wt_nutrition_logs
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_nutrition_logs_delete_own on public.wt_nutrition_logs
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_hydration_logs (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  consumed_at timestamptz not null,
  volume_ml integer not null check (volume_ml between 1 and 5000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.wt_hydration_logs is 'Fluid intake (access class: owner)';
create index wt_hydration_logs_profile_consumed_idx on public.wt_hydration_logs (profile_id, consumed_at desc);
create trigger wt_hydration_logs_set_updated_at
  before update on public.wt_hydration_logs
  for each row execute function public.wt_set_updated_at();

alter table public.wt_hydration_logs enable row level security;
revoke all on table public.wt_hydration_logs from anon, authenticated;
grant select, insert, update, delete on table public.wt_hydration_logs to authenticated;
grant all on table public.wt_hydration_logs to service_role;
create policy wt_hydration_logs_select_own on public.wt_hydration_logs
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_hydration_logs_insert_own on public.wt_hydration_logs
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_hydration_logs_update_own on public.wt_hydration_logs
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_hydration_logs_delete_own on public.wt_hydration_logs
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_supplements (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 100),
  category text not null check (category in ('vitamin', 'mineral', 'protein', 'performance', 'herbal', 'other')),
  typical_dose numeric check (typical_dose > 0),
  unit text not null check (unit in ('mg', 'g', 'mcg', 'iu', 'ml', 'capsule')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wt_supplements_name_key unique (name)
);
comment on table public.wt_supplements is 'Catalog of supplements (access class: catalog)';
create trigger wt_supplements_set_updated_at
  before update on public.wt_supplements
  for each row execute function public.wt_set_updated_at();

alter table public.wt_supplements enable row level security;
revoke all on table public.wt_supplements from anon, authenticated;
grant select on table public.wt_supplements to authenticated;
grant all on table public.wt_supplements to service_role;
create policy wt_supplements_select_all on public.wt_supplements
  for select to authenticated using (true);

create table public.wt_supplement_logs (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  supplement_id uuid not null references public.wt_supplements (id) on delete restrict,
  taken_at timestamptz not null,
  dose numeric not null check (dose > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.wt_supplement_logs is 'Supplement doses taken (access class: owner)';
create index wt_supplement_logs_profile_taken_idx on public.wt_supplement_logs (profile_id, taken_at desc);
create index wt_supplement_logs_supplement_id_idx on public.wt_supplement_logs (supplement_id);
create trigger wt_supplement_logs_set_updated_at
  before update on public.wt_supplement_logs
  for each row execute function public.wt_set_updated_at();

alter table public.wt_supplement_logs enable row level security;
revoke all on table public.wt_supplement_logs from anon, authenticated;
grant select, insert, update, delete on table public.wt_supplement_logs to authenticated;
grant all on table public.wt_supplement_logs to service_role;
create policy wt_supplement_logs_select_own on public.wt_supplement_logs
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_supplement_logs_insert_own on public.wt_supplement_logs
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_supplement_logs_update_own on public.wt_supplement_logs
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_supplement_logs_delete_own on public.wt_supplement_logs
  for delete to authenticated using (profile_id = (select auth.uid()));

insert into public.wt_supplements (name, category, typical_dose, unit) values
  ('Creatine monohydrate', 'performance', 5, 'g'),
  ('Vitamin D3', 'vitamin', 2000, 'iu'),
  ('Magnesium glycinate', 'mineral', 300, 'mg'),
  ('Whey protein', 'protein', 30, 'g'),
  ('Caffeine', 'performance', 200, 'mg');
