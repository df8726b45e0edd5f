-- supadeploy stand-in for wrappers 0.4.3 (supabase/wrappers, tag v0.4.3: wrappers/sql/bootstrap.sql, and the
-- #[wrappers_fdw] macro of supabase-wrappers-macros, which gives each wrapper <snake_case name>_handler,
-- _validator and _meta), with every wrapper hosted projects build (supabase/postgres nix/ext/wrappers).
--
-- A handler is PostgreSQL's own pseudo-type input function under the wrapper's name: CREATE FOREIGN DATA
-- WRAPPER, CREATE SERVER and CREATE FOREIGN TABLE work; planning a query on a foreign table or IMPORT
-- FOREIGN SCHEMA calls it and gets "cannot accept a value of type fdw_handler", which the local target
-- reports as not available in the replay. Validators accept every option (the real ones check them).

create table @extschema@.wrappers_fdw_stats (
  fdw_name     text not null primary key,
  create_times bigint null,
  rows_in      bigint null,
  rows_out     bigint null,
  bytes_in     bigint null,
  bytes_out    bigint null,
  metadata     jsonb null,
  created_at   timestamptz not null default timezone('utc'::text, now()),
  updated_at   timestamptz not null default timezone('utc'::text, now())
);
comment on table @extschema@.wrappers_fdw_stats is 'Wrappers Foreign Data Wrapper statistics';
comment on column @extschema@.wrappers_fdw_stats.create_times is 'Total number of times the FDW instacne has been created';
comment on column @extschema@.wrappers_fdw_stats.rows_in is 'Total rows input from origin';
comment on column @extschema@.wrappers_fdw_stats.rows_out is 'Total rows output to Postgres';
comment on column @extschema@.wrappers_fdw_stats.bytes_in is 'Total bytes input from origin';
comment on column @extschema@.wrappers_fdw_stats.bytes_out is 'Total bytes output to Postgres';
comment on column @extschema@.wrappers_fdw_stats.metadata is 'Metadata specific for the FDW';

do $sd_wrappers$
declare
  fdw record;
begin
  for fdw in select * from (values
      ('AirtableFdw', 'airtable_fdw', 'airtable_fdw', '0.1.4', 'Ankur Goyal'),
      ('Auth0Fdw', 'auth0_fdw', 'auth0_fdw', '0.1.2', 'Joel'),
      ('BigQueryFdw', 'big_query_fdw', 'bigquery_fdw', '0.1.5', 'Supabase'),
      ('ClickHouseFdw', 'click_house_fdw', 'clickhouse_fdw', '0.1.5', 'Supabase'),
      ('CognitoFdw', 'cognito_fdw', 'cognito_fdw', '0.1.2', 'Joel'),
      ('FirebaseFdw', 'firebase_fdw', 'firebase_fdw', '0.1.3', 'Supabase'),
      ('HelloWorldFdw', 'hello_world_fdw', 'helloworld_fdw', '0.1.1', 'Supabase'),
      ('LogflareFdw', 'logflare_fdw', 'logflare_fdw', '0.1.1', 'Supabase'),
      ('MssqlFdw', 'mssql_fdw', 'mssql_fdw', '0.1.2', 'Supabase'),
      ('RedisFdw', 'redis_fdw', 'redis_fdw', '0.1.0', 'Supabase'),
      ('S3Fdw', 's3_fdw', 's3_fdw', '0.1.4', 'Supabase'),
      ('StripeFdw', 'stripe_fdw', 'stripe_fdw', '0.1.11', 'Supabase'),
      ('WasmFdw', 'wasm_fdw', 'wasm_fdw', '0.1.3', 'Supabase')
    ) as w(struct_name, snake, folder, version, author)
  loop
    execute format('create function @extschema@.%I() returns fdw_handler language internal strict '
                   'as %L', fdw.snake || '_handler', 'fdw_handler_in');
    execute format('create function @extschema@.%I(options text[], catalog oid) returns void '
                   'language plpgsql as $fn$ begin end $fn$', fdw.snake || '_validator');
    execute format('create function @extschema@.%I() returns table(name text, version text, author text, '
                   'website text) language sql as $fn$ select %L::text, %L::text, %L::text, %L::text $fn$',
                   fdw.snake || '_meta', fdw.struct_name, fdw.version, fdw.author,
                   'https://github.com/supabase/wrappers/tree/main/wrappers/src/fdw/' || fdw.folder);
  end loop;
end
$sd_wrappers$;
