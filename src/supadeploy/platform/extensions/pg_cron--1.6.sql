-- supadeploy stand-in for pg_cron: cron.schedule() and friends record jobs as pg_cron does; nothing runs.
create schema if not exists cron;

create table cron.job (
  jobid bigserial primary key,
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport integer not null default coalesce(inet_server_port(), 5432),
  database text not null default current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname text,
  constraint jobname_username_uniq unique (jobname, username)
);

create table cron.job_run_details (
  jobid bigint,
  runid bigserial primary key,
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamptz,
  end_time timestamptz
);

-- pg_cron refuses schedules it cannot read; so does the stand-in.
create function cron._supadeploy_check_schedule(schedule text) returns text language plpgsql immutable as $fn$
begin
  if schedule ~* '^\s*(@(yearly|annually|monthly|weekly|daily|hourly|reboot)|[0-9]+ seconds?)\s*$'
     or array_length(regexp_split_to_array(trim(schedule), '\s+'), 1) = 5 then
    return trim(schedule);
  end if;
  raise exception 'invalid schedule: %', schedule;
end
$fn$;

create function cron.schedule(job_name text, schedule text, command text) returns bigint
language plpgsql security definer set search_path = cron as $fn$
declare
  id bigint;
begin
  insert into cron.job (schedule, command, jobname, username)
  values (cron._supadeploy_check_schedule(schedule), command, job_name, session_user)
  on conflict (jobname, username) do update set schedule = excluded.schedule, command = excluded.command
  returning jobid into id;
  return id;
end
$fn$;

create function cron.schedule(schedule text, command text) returns bigint
language plpgsql security definer set search_path = cron as $fn$
declare
  id bigint;
begin
  insert into cron.job (schedule, command, username) values (cron._supadeploy_check_schedule(schedule), command, session_user)
  returning jobid into id;
  return id;
end
$fn$;

create function cron.schedule_in_database(job_name text, schedule text, command text, database text,
                                          username text default null, active boolean default true) returns bigint
language plpgsql security definer set search_path = cron as $fn$
declare
  id bigint;
begin
  insert into cron.job (schedule, command, jobname, database, username, active)
  values (cron._supadeploy_check_schedule(schedule), command, job_name, database, coalesce(username, session_user), active)
  on conflict (jobname, username) do update set schedule = excluded.schedule, command = excluded.command,
    database = excluded.database, active = excluded.active
  returning jobid into id;
  return id;
end
$fn$;

create function cron.unschedule(job_id bigint) returns boolean
language plpgsql security definer set search_path = cron as $fn$
begin
  delete from cron.job where jobid = job_id;
  if not found then
    raise exception 'could not find valid entry for job %', job_id;
  end if;
  return true;
end
$fn$;

create function cron.unschedule(job_name text) returns boolean
language plpgsql security definer set search_path = cron as $fn$
begin
  delete from cron.job where jobname = job_name and username = session_user;
  if not found then
    raise exception 'could not find valid entry for job ''%''', job_name;
  end if;
  return true;
end
$fn$;

create function cron.alter_job(job_id bigint, schedule text default null, command text default null,
                               database text default null, username text default null, active boolean default null)
returns void language plpgsql security definer set search_path = cron as $fn$
begin
  update cron.job set schedule = coalesce(cron._supadeploy_check_schedule(alter_job.schedule), job.schedule),
    command = coalesce(alter_job.command, job.command), database = coalesce(alter_job.database, job.database),
    username = coalesce(alter_job.username, job.username), active = coalesce(alter_job.active, job.active)
  where jobid = job_id;
  if not found then
    raise exception 'could not find valid entry for job %', job_id;
  end if;
end
$fn$;

-- pg_cron's trigger function that tells its scheduler a job changed; the stand-in has no scheduler.
create function cron.job_cache_invalidate() returns trigger language plpgsql as $fn$
begin
  return null;
end
$fn$;
create trigger cron_job_cache_invalidate after insert or update or delete or truncate on cron.job
  for each statement execute function cron.job_cache_invalidate();

alter table cron.job enable row level security;
alter table cron.job_run_details enable row level security;
create policy cron_job_policy on cron.job using (username = current_user);
create policy cron_job_run_details_policy on cron.job_run_details using (username = current_user);

-- As hosted projects set pg_cron up: postgres reads jobs and their runs, and schedules through the functions.
grant usage on schema cron to postgres with grant option;
grant select on cron.job to postgres with grant option;
grant select, delete on cron.job_run_details to postgres with grant option;
grant execute on all functions in schema cron to postgres with grant option;

-- supautils on hosted projects (`extensions_parameter_overrides = '{"pg_cron":{"schema":"pg_catalog"}}'`,
-- supabase/postgres supautils.conf.j2) puts pg_cron in pg_catalog whatever schema CREATE EXTENSION names.
-- The script runs as the bootstrap superuser (a trusted extension), so it moves its own catalog row there
-- and drops the dependency on the schema it was created in (pg_catalog is never recorded as one).
update pg_catalog.pg_extension set extnamespace = 'pg_catalog'::regnamespace where extname = 'pg_cron';
delete from pg_catalog.pg_depend
where classid = 'pg_catalog.pg_extension'::regclass
  and objid = (select oid from pg_catalog.pg_extension where extname = 'pg_cron')
  and refclassid = 'pg_catalog.pg_namespace'::regclass;
