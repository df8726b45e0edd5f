-- WellTrack Phase 1 — migration 000008: notifications and audit log.
-- Conventions: docs/schema.md (RLS per command, explicit grants, every FK indexed).
-- No transaction control here: supadeploy wraps each file in one transaction.

create table public.wt_notifications (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  kind text not null check (kind in ('recovery', 'training', 'sleep', 'nutrition', 'goals', 'system')),
  title text not null check (char_length(title) between 1 and 200),
  body text check (char_length(body) <= 4000),
  read_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.wt_notifications is 'Notifications shown to a profile (access class: owner)';
create index wt_notifications_profile_unread_idx on public.wt_notifications (profile_id, created_at desc) where read_at is null;
create index wt_notifications_profile_id_idx on public.wt_notifications (profile_id, created_at desc);
create trigger wt_notifications_set_updated_at
  before update on public.wt_notifications
  for each row execute function public.wt_set_updated_at();

alter table public.wt_notifications enable row level security;
revoke all on table public.wt_notifications from anon, authenticated;
grant select, insert, update, delete on table public.wt_notifications to authenticated;
grant all on table public.wt_notifications to service_role;
create policy wt_notifications_select_own on public.wt_notifications
  for select to authenticated using (profile_id = (select auth.uid()));
create policy wt_notifications_insert_own on public.wt_notifications
  for insert to authenticated with check (profile_id = (select auth.uid()));
create policy wt_notifications_update_own on public.wt_notifications
  for update to authenticated using (profile_id = (select auth.uid())) with check (profile_id = (select auth.uid()));
create policy wt_notifications_delete_own on public.wt_notifications
  for delete to authenticated using (profile_id = (select auth.uid()));

create table public.wt_audit_log (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.wt_profiles (id) on delete cascade,
  actor text not null check (actor in ('user', 'service', 'system')),
  action text not null check (char_length(action) between 1 and 100),
  entity text not null check (char_length(entity) between 1 and 100),
  entity_id uuid,
  occurred_at timestamptz not null default now(),
  detail jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.wt_audit_log is 'Append-only audit trail, written by the backend (access class: owner-read)';
create index wt_audit_log_profile_occurred_idx on public.wt_audit_log (profile_id, occurred_at desc);
create trigger wt_audit_log_set_updated_at
  before update on public.wt_audit_log
  for each row execute function public.wt_set_updated_at();

alter table public.wt_audit_log enable row level security;
revoke all on table public.wt_audit_log from anon, authenticated;
grant select on table public.wt_audit_log to authenticated;
grant all on table public.wt_audit_log to service_role;
create policy wt_audit_log_select_own on public.wt_audit_log
  for select to authenticated using (profile_id = (select auth.uid()));
