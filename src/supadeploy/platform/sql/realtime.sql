-- Realtime on a hosted project: the `supabase_realtime` publication (owned by
-- postgres, which `alter publication supabase_realtime add table ...` needs),
-- and the `realtime` schema that broadcast authorization and database
-- broadcasts use: `realtime.messages` (RLS on, policies written by postgres),
-- `realtime.topic()`, `realtime.send(...)`, `realtime.broadcast_changes(...)`.
-- Names and signatures follow the Realtime server's migrations; the functions
-- here only write rows (nothing is broadcast from a replay).
create publication supabase_realtime;
alter publication supabase_realtime owner to postgres;

create schema if not exists realtime authorization supabase_admin;
grant usage on schema realtime to postgres, anon, authenticated, service_role, supabase_realtime_admin;
grant all on schema realtime to supabase_realtime_admin, dashboard_user;

create type realtime.action as enum ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ERROR');
create type realtime.equality_op as enum ('eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in');
create type realtime.user_defined_filter as (column_name text, op realtime.equality_op, value text);
create type realtime.wal_column as (name text, type_name text, type_oid oid, value jsonb, is_pkey boolean,
                                    is_selectable boolean);
create type realtime.wal_rls as (wal jsonb, is_rls_enabled boolean, subscription_ids uuid[], errors text[]);

create table realtime.schema_migrations (
  version bigint primary key,
  inserted_at timestamp(0)
);

create function realtime.to_regrole(role_name text) returns regrole language sql immutable as $fn$
  select role_name::regrole
$fn$;

create table realtime.subscription (
  id bigint generated always as identity,
  subscription_id uuid not null,
  entity regclass not null,
  filters realtime.user_defined_filter[] not null default '{}',
  claims jsonb not null,
  claims_role regrole not null generated always as (realtime.to_regrole(claims ->> 'role')) stored,
  created_at timestamp not null default timezone('utc', now()),
  action_filter text default '*' check (action_filter in ('*', 'INSERT', 'UPDATE', 'DELETE')),
  constraint pk_subscription primary key (id)
);
create index ix_realtime_subscription_entity on realtime.subscription (entity);

create table realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp not null default now(),
  inserted_at timestamp not null default now(),
  id uuid not null default gen_random_uuid(),
  binary_payload bytea,
  constraint messages_pkey primary key (id, inserted_at)
) partition by range (inserted_at);
create index messages_inserted_at_topic_index on only realtime.messages (inserted_at desc, topic);
create table realtime.messages_default partition of realtime.messages default;
alter table realtime.messages enable row level security;

-- The topic of the channel a policy is evaluated for (set by Realtime per request).
create function realtime.topic() returns text language sql stable as $fn$
  select nullif(current_setting('realtime.topic', true), '')::text
$fn$;

create function realtime.send(payload jsonb, event text, topic text, private boolean default true) returns void
language plpgsql as $fn$
begin
  insert into realtime.messages (payload, event, topic, private, extension)
  values (payload, event, topic, private, 'broadcast');
exception when others then
  raise warning 'ErrorSendingBroadcastMessage: %', sqlerrm;
end
$fn$;

create function realtime.broadcast_changes(topic_name text, event_name text, operation text, table_name text,
                                           table_schema text, new record, old record, level text default 'ROW')
returns void language plpgsql as $fn$
begin
  perform realtime.send(
    jsonb_build_object('schema', table_schema, 'table', table_name, 'operation', operation,
                       'record', case when new is null then null else to_jsonb(new) end,
                       'old_record', case when old is null then null else to_jsonb(old) end),
    event_name, topic_name, true);
end
$fn$;

create function realtime.cast(val text, type_ regtype) returns jsonb language plpgsql immutable as $fn$
declare
  result jsonb;
begin
  execute format('select to_jsonb(%L::%s)', val, type_::text) into result;
  return result;
end
$fn$;

create function realtime.check_equality_op(op realtime.equality_op, type_ regtype, val_1 text, val_2 text)
returns boolean language plpgsql immutable as $fn$
declare
  result boolean;
  operator text := case op when 'eq' then '=' when 'neq' then '!=' when 'lt' then '<' when 'lte' then '<='
                           when 'gt' then '>' when 'gte' then '>=' else '=' end;
begin
  execute format('select %L::%s ' || operator || ' %L::%s', val_1, type_::text, val_2, type_::text) into result;
  return result;
end
$fn$;

create function realtime.subscription_check_filters() returns trigger language plpgsql as $fn$
begin
  return new;
end
$fn$;
create trigger tr_check_filters before insert or update on realtime.subscription
  for each row execute function realtime.subscription_check_filters();

grant select on realtime.schema_migrations to postgres, anon, authenticated, service_role;
grant all on realtime.messages, realtime.messages_default to postgres, service_role, supabase_realtime_admin,
  dashboard_user;
grant select, insert, update on realtime.messages to anon, authenticated;
grant all on realtime.subscription to postgres, dashboard_user, supabase_realtime_admin;
grant select on realtime.subscription to anon, authenticated, service_role;
grant execute on all functions in schema realtime to postgres, anon, authenticated, service_role,
  supabase_realtime_admin, dashboard_user;

-- Hosted projects let postgres write policies on realtime.messages.
alter table realtime.messages owner to supabase_realtime_admin;
alter table realtime.messages_default owner to supabase_realtime_admin;

alter default privileges for role supabase_admin in schema realtime grant all on tables to postgres, dashboard_user;
alter default privileges for role supabase_admin in schema realtime grant all on functions to postgres, dashboard_user;
alter default privileges for role supabase_admin in schema realtime grant all on sequences to postgres, dashboard_user;
