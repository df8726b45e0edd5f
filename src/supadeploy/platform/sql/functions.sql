-- Database webhooks (`supabase_functions`, as the dashboard creates it when
-- webhooks are enabled) and the GraphQL endpoint's schema (`graphql_public`).
-- `supabase_functions.http_request()` is the trigger function a webhook
-- calls; it queues the request with pg_net, which the replay never sends.
create schema if not exists supabase_functions authorization supabase_admin;
grant usage on schema supabase_functions to postgres, anon, authenticated, service_role;
grant all on schema supabase_functions to supabase_functions_admin;

set local role supabase_functions_admin;

create table supabase_functions.migrations (
  version text primary key,
  inserted_at timestamptz not null default now()
);

create table supabase_functions.hooks (
  id bigserial primary key,
  hook_table_id integer not null,
  hook_name text not null,
  created_at timestamptz not null default now(),
  request_id bigint
);
comment on table supabase_functions.hooks is 'Supabase Functions Hooks: Audit trail for triggered hooks.';
create index supabase_functions_hooks_request_id_idx on supabase_functions.hooks (request_id);
create index supabase_functions_hooks_h_table_id_h_name_idx on supabase_functions.hooks (hook_table_id, hook_name);

-- Arguments, as the dashboard writes them: url, method, headers (json), params (json), timeout in ms.
create function supabase_functions.http_request() returns trigger
language plpgsql security definer set search_path = supabase_functions as $fn$
declare
  request_id bigint;
  payload jsonb;
  url text := tg_argv[0];
  method text := tg_argv[1];
  headers jsonb := coalesce(nullif(tg_argv[2], 'null'), '{}')::jsonb;
  params jsonb := coalesce(nullif(tg_argv[3], 'null'), '{}')::jsonb;
  timeout_ms integer := coalesce(nullif(tg_argv[4], 'null'), '1000')::integer;
begin
  if url is null or url = 'null' then
    raise exception 'url argument is missing';
  end if;
  if method is null or upper(method) not in ('GET', 'POST') then
    raise exception 'method argument % is invalid', method;
  end if;
  payload := jsonb_build_object('old_record', case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) end,
                                'record', case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) end,
                                'type', tg_op, 'table', tg_table_name, 'schema', tg_table_schema);
  if upper(method) = 'GET' then
    execute 'select net.http_get($1, $2, $3, $4)' into request_id using url, params, headers, timeout_ms;
  else
    execute 'select net.http_post($1, $2, $3, $4, $5)' into request_id using url, payload, params, headers, timeout_ms;
  end if;
  insert into supabase_functions.hooks (hook_table_id, hook_name, request_id) values (tg_relid, tg_name, request_id);
  return new;
end
$fn$;

reset role;

grant all on all tables in schema supabase_functions to postgres, anon, authenticated, service_role;
grant all on all sequences in schema supabase_functions to postgres, anon, authenticated, service_role;
grant execute on function supabase_functions.http_request() to postgres, anon, authenticated, service_role;

create schema if not exists graphql_public authorization supabase_admin;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;
create function graphql_public.graphql("operationName" text default null, query text default null,
                                       variables jsonb default null, extensions jsonb default null)
returns jsonb language plpgsql as $fn$
begin
  return jsonb_build_object('errors', jsonb_build_array(jsonb_build_object(
    'message', 'pg_graphql is not enabled (supadeploy local replay)')));
end
$fn$;
grant execute on function graphql_public.graphql(text, text, jsonb, jsonb) to postgres, anon, authenticated, service_role;
