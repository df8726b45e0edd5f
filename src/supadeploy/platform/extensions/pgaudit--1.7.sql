-- supadeploy stand-in for pgaudit 1.7 (hosted on 15; 17 runs pgaudit 17.x with the same objects): the event
-- trigger functions and triggers its script creates (read from Debian's postgresql-15-pgaudit 1.7.0 and
-- postgresql-17-pgaudit 17.1), as PL/pgSQL that records nothing.
create function pgaudit_ddl_command_end() returns event_trigger
  security definer set search_path = 'pg_catalog, pg_temp'
  language plpgsql as $fn$ begin end $fn$;
create event trigger pgaudit_ddl_command_end on ddl_command_end execute procedure pgaudit_ddl_command_end();

create function pgaudit_sql_drop() returns event_trigger
  security definer set search_path = 'pg_catalog, pg_temp'
  language plpgsql as $fn$ begin end $fn$;
create event trigger pgaudit_sql_drop on sql_drop execute procedure pgaudit_sql_drop();
