-- supadeploy stand-in for pg_graphql: the schema and functions migrations reference.
create function graphql.resolve(query text, variables jsonb default '{}', "operationName" text default null,
                                extensions jsonb default null) returns jsonb language plpgsql as $fn$
begin
  return jsonb_build_object('data', null, 'errors', jsonb_build_array(jsonb_build_object(
    'message', 'supadeploy''s local replay does not resolve GraphQL queries')));
end
$fn$;

create function graphql.comment_directive(comment_ text) returns jsonb language sql immutable as $fn$
  select case when comment_ ~ '^\s*@graphql\(' then substring(comment_ from '@graphql\((.*)\)\s*$')::jsonb end
$fn$;

create function graphql.exception(message text) returns text language plpgsql as $fn$
begin
  raise exception using errcode = '22000', message = message;
end
$fn$;

grant usage on schema graphql to postgres, anon, authenticated, service_role;
grant execute on all functions in schema graphql to postgres, anon, authenticated, service_role;
