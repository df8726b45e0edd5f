-- supadeploy stand-in for pg_net: what migrations and triggers call, without sending anything.
create schema if not exists net;

create domain net.http_method as text check (value ilike 'get' or value ilike 'post' or value ilike 'delete');
create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');
create type net.http_response as (status_code integer, headers jsonb, body text);
create type net.http_response_result as (status net.request_status, message text, response net.http_response);

create unlogged table net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb,
  body bytea,
  timeout_milliseconds integer not null
);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
create index on net._http_response (created);

create function net._supadeploy_enqueue(method text, url text, params jsonb, headers jsonb, body bytea, timeout integer)
returns bigint language plpgsql as $fn$
declare
  query text;
  request_id bigint;
begin
  select string_agg(key || '=' || value, '&') into query from jsonb_each_text(coalesce(params, '{}'));
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, url || coalesce('?' || query, ''), headers, body, timeout)
  returning id into request_id;
  return request_id;
end
$fn$;

create function net.http_get(url text, params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb,
                             timeout_milliseconds integer default 5000)
returns bigint language sql as $fn$
  select net._supadeploy_enqueue('GET', url, params, headers, null, timeout_milliseconds)
$fn$;

create function net.http_post(url text, body jsonb default '{}'::jsonb, params jsonb default '{}'::jsonb,
                              headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
                              timeout_milliseconds integer default 5000)
returns bigint language sql as $fn$
  select net._supadeploy_enqueue('POST', url, params, headers, convert_to(body::text, 'UTF8'), timeout_milliseconds)
$fn$;

create function net.http_delete(url text, params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb,
                                timeout_milliseconds integer default 5000, body jsonb default null)
returns bigint language sql as $fn$
  select net._supadeploy_enqueue('DELETE', url, params, headers, convert_to(body::text, 'UTF8'), timeout_milliseconds)
$fn$;

create function net._http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result language sql stable as $fn$
  select row('PENDING', 'request is queued: supadeploy''s local replay sends no HTTP request', null)::net.http_response_result
$fn$;

create function net.http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result language sql stable as $fn$
  select net._http_collect_response(request_id, async)
$fn$;

create function net._urlencode_string(string varchar) returns text language sql immutable strict as $fn$
  select string_agg(case when ch ~ '[A-Za-z0-9_.~-]' then ch
                         else upper(regexp_replace(encode(convert_to(ch, 'utf8'), 'hex'), '(..)', '%\1', 'g')) end, '')
  from regexp_split_to_table(string, '') as ch
$fn$;

create function net._encode_url_with_params_array(url text, params_array text[]) returns text
language sql immutable strict as $fn$
  select url || coalesce(case when url like '%?%' then '&' else '?' end || nullif(array_to_string(params_array, '&'), ''), '')
$fn$;

create function net._await_response(request_id bigint) returns boolean language plpgsql as $fn$
begin
  raise exception using errcode = 'SDL01',
    message = format('request %s is queued: supadeploy''s local replay sends no HTTP request to wait for', request_id),
    hint = 'run the dry run against a staging project to check statements that wait for HTTP responses';
end
$fn$;

create function net.check_worker_is_up() returns void language plpgsql as $fn$ begin end $fn$;
create function net.wake() returns void language plpgsql as $fn$ begin end $fn$;
create function net.wait_until_running() returns void language plpgsql as $fn$ begin end $fn$;
create function net.worker_restart() returns boolean language sql as $fn$ select true $fn$;

-- As hosted projects set pg_net up (their event trigger on CREATE EXTENSION).
alter function net.http_get(text, jsonb, jsonb, integer) security definer set search_path = net;
alter function net.http_post(text, jsonb, jsonb, jsonb, integer) security definer set search_path = net;
alter function net.http_delete(text, jsonb, jsonb, integer, jsonb) security definer set search_path = net;
revoke all on function net.http_get(text, jsonb, jsonb, integer), net.http_post(text, jsonb, jsonb, jsonb, integer),
  net.http_delete(text, jsonb, jsonb, integer, jsonb) from public;
grant usage on schema net to supabase_functions_admin, postgres, anon, authenticated, service_role;
grant execute on function net.http_get(text, jsonb, jsonb, integer), net.http_post(text, jsonb, jsonb, jsonb, integer),
  net.http_delete(text, jsonb, jsonb, integer, jsonb)
  to supabase_functions_admin, postgres, anon, authenticated, service_role;
grant select on net._http_response, net.http_request_queue to postgres, service_role;
