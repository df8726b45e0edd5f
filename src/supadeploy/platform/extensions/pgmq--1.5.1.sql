-- supadeploy's pgmq 1.5.1: queues as tables pgmq.q_<name> (messages) and pgmq.a_<name> (archive), the
-- same types, functions and overloads as pgmq 1.5.1, written for the local replay. Partitioned queues
-- need pg_partman, which the replay does not have: those functions say so (SQLSTATE SDL01).
create table pgmq.meta (
  queue_name varchar unique not null,
  is_partitioned boolean not null,
  is_unlogged boolean not null,
  created_at timestamptz not null default now()
);

create type pgmq.message_record as (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz,
                                    message jsonb, headers jsonb);
create type pgmq.queue_record as (queue_name varchar, is_partitioned boolean, is_unlogged boolean,
                                  created_at timestamptz);
create type pgmq.metrics_result as (queue_name text, queue_length bigint, newest_msg_age_sec integer,
                                    oldest_msg_age_sec integer, total_messages bigint, scrape_time timestamptz,
                                    queue_visible_length bigint);

-- Names ------------------------------------------------------------------------------------------
create function pgmq.format_table_name(queue_name text, prefix text) returns text language plpgsql as $fn$
begin
  if queue_name ~ '\$|;|--|''' then
    raise exception 'queue name contains invalid characters: $, ;, --, or \''';
  end if;
  return lower(prefix || '_' || queue_name);
end
$fn$;

create function pgmq.validate_queue_name(queue_name text) returns void language plpgsql as $fn$
begin
  if length(queue_name) >= 48 then
    raise exception 'queue name is too long, maximum length is 48 characters';
  end if;
end
$fn$;

create function pgmq._extension_exists(extension_name text) returns boolean language sql as $fn$
  select exists (select from pg_catalog.pg_extension e where e.extname = extension_name)
$fn$;

create function pgmq._belongs_to_pgmq(table_name text) returns boolean language sql as $fn$
  select exists (
    select from pg_catalog.pg_depend d
    join pg_catalog.pg_class c on c.oid = d.objid and c.relnamespace = 'pgmq'::regnamespace
    where d.refobjid = (select oid from pg_catalog.pg_extension where extname = 'pgmq')
      and d.deptype = 'e' and c.relname = table_name)
$fn$;

-- pg_partman (partitioned queues) -----------------------------------------------------------------
create function pgmq._get_pg_partman_schema() returns text language sql as $fn$
  select extnamespace::regnamespace::text from pg_catalog.pg_extension where extname = 'pg_partman'
$fn$;

create function pgmq._get_pg_partman_major_version() returns integer language sql as $fn$
  select split_part(extversion, '.', 1)::integer from pg_catalog.pg_extension where extname = 'pg_partman'
$fn$;

create function pgmq._ensure_pg_partman_installed() returns void language plpgsql as $fn$
begin
  if not pgmq._extension_exists('pg_partman') then
    raise exception using errcode = 'SDL01',
      message = 'partitioned pgmq queues need pg_partman, which supadeploy''s local replay does not have',
      hint = 'run the dry run against a staging project to check partitioned queues';
  end if;
end
$fn$;

create function pgmq._get_partition_col(partition_interval text) returns text language plpgsql as $fn$
begin
  if partition_interval ~ '^\d+$' then
    return 'msg_id';
  end if;
  perform partition_interval::interval;
  return 'enqueued_at';
end
$fn$;

-- Queues -----------------------------------------------------------------------------------------
create function pgmq._supadeploy_create(queue_name text, unlogged boolean, partitioned boolean)
returns void language plpgsql as $fn$
declare
  q text := pgmq.format_table_name(queue_name, 'q');
  a text := pgmq.format_table_name(queue_name, 'a');
  kind text := case when unlogged then 'unlogged ' else '' end;
begin
  perform pgmq.validate_queue_name(queue_name);
  execute format('create %stable if not exists pgmq.%I (msg_id bigint primary key generated always as identity,
    read_ct integer not null default 0, enqueued_at timestamptz not null default now(), vt timestamptz not null,
    message jsonb, headers jsonb)', kind, q);
  execute format('create table if not exists pgmq.%I (msg_id bigint primary key, read_ct integer not null default 0,
    enqueued_at timestamptz not null default now(), archived_at timestamptz not null default now(),
    vt timestamptz not null, message jsonb, headers jsonb)', a);
  if pgmq._extension_exists('pgmq') and not pgmq._belongs_to_pgmq(q) then
    execute format('alter extension pgmq add table pgmq.%I', q);
    execute format('alter extension pgmq add sequence pgmq.%I', q || '_msg_id_seq');
  end if;
  if pgmq._extension_exists('pgmq') and not pgmq._belongs_to_pgmq(a) then
    execute format('alter extension pgmq add table pgmq.%I', a);
  end if;
  execute format('create index if not exists %I on pgmq.%I (vt)', q || '_vt_idx', q);
  execute format('create index if not exists %I on pgmq.%I (archived_at)', 'archived_at_idx_' || queue_name, a);
  insert into pgmq.meta (queue_name, is_partitioned, is_unlogged) values (queue_name, partitioned, unlogged)
  on conflict on constraint meta_queue_name_key do nothing;
end
$fn$;

create function pgmq.create_non_partitioned(queue_name text) returns void language sql as $fn$
  select pgmq._supadeploy_create(queue_name, false, false)
$fn$;

create function pgmq.create_unlogged(queue_name text) returns void language sql as $fn$
  select pgmq._supadeploy_create(queue_name, true, false)
$fn$;

create function pgmq."create"(queue_name text) returns void language sql as $fn$
  select pgmq.create_non_partitioned(queue_name)
$fn$;

create function pgmq.create_partitioned(queue_name text, partition_interval text default '10000',
                                        retention_interval text default '100000') returns void
language plpgsql as $fn$
begin
  perform pgmq.validate_queue_name(queue_name);
  perform pgmq._ensure_pg_partman_installed();
  perform pgmq._get_partition_col(partition_interval);
  perform pgmq._supadeploy_create(queue_name, false, true);
end
$fn$;

create function pgmq.convert_archive_partitioned(table_name text, partition_interval text default '10000',
                                                 retention_interval text default '100000',
                                                 leading_partition integer default 10) returns void
language plpgsql as $fn$
begin
  perform pgmq._ensure_pg_partman_installed();
end
$fn$;

create function pgmq.drop_queue(queue_name text, partitioned boolean) returns boolean language plpgsql as $fn$
declare
  q text := pgmq.format_table_name(queue_name, 'q');
  a text := pgmq.format_table_name(queue_name, 'a');
begin
  if pgmq._belongs_to_pgmq(q) then
    execute format('alter extension pgmq drop table pgmq.%I', q);
    execute format('alter extension pgmq drop sequence pgmq.%I', q || '_msg_id_seq');
  end if;
  if pgmq._belongs_to_pgmq(a) then
    execute format('alter extension pgmq drop table pgmq.%I', a);
  end if;
  execute format('drop table if exists pgmq.%I', q);
  execute format('drop table if exists pgmq.%I', a);
  delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;
  return true;
end
$fn$;

create function pgmq.drop_queue(queue_name text) returns boolean language plpgsql as $fn$
begin
  return pgmq.drop_queue(queue_name, coalesce((select is_partitioned from pgmq.meta m
                                                where m.queue_name = drop_queue.queue_name), false));
end
$fn$;

create function pgmq.detach_archive(queue_name text) returns void language plpgsql as $fn$
declare
  a text := pgmq.format_table_name(queue_name, 'a');
begin
  if pgmq._belongs_to_pgmq(a) then
    execute format('alter extension pgmq drop table pgmq.%I', a);
  end if;
end
$fn$;

create function pgmq.purge_queue(queue_name text) returns bigint language plpgsql as $fn$
declare
  removed bigint;
begin
  execute format('delete from pgmq.%I', pgmq.format_table_name(queue_name, 'q'));
  get diagnostics removed = row_count;
  return removed;
end
$fn$;

create function pgmq.list_queues() returns setof pgmq.queue_record language sql as $fn$
  select queue_name, is_partitioned, is_unlogged, created_at from pgmq.meta
$fn$;

-- Sending ----------------------------------------------------------------------------------------
create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay timestamptz)
returns setof bigint language plpgsql as $fn$
begin
  if headers is not null and cardinality(headers) <> cardinality(msgs) then
    raise exception 'headers array must have the same length as msgs array';
  end if;
  return query execute format('insert into pgmq.%I (vt, message, headers)
      select $2, m.msg, h.hdr from unnest($1) with ordinality m(msg, n)
      left join unnest($3) with ordinality h(hdr, n) using (n) order by n
    returning msg_id', pgmq.format_table_name(queue_name, 'q')) using msgs, delay, headers;
end
$fn$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer)
returns setof bigint language sql as $fn$
  select pgmq.send_batch(queue_name, msgs, headers, clock_timestamp() + make_interval(secs => delay))
$fn$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[]) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, msgs, headers, 0) $fn$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamptz) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, msgs, null::jsonb[], delay) $fn$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, msgs, null::jsonb[], delay) $fn$;

create function pgmq.send_batch(queue_name text, msgs jsonb[]) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, msgs, null::jsonb[], 0) $fn$;

create function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay timestamptz) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, array[msg], array[headers], delay) $fn$;

create function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, array[msg], array[headers], delay) $fn$;

create function pgmq.send(queue_name text, msg jsonb, headers jsonb) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, array[msg], array[headers], 0) $fn$;

create function pgmq.send(queue_name text, msg jsonb, delay timestamptz) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, array[msg], null::jsonb[], delay) $fn$;

create function pgmq.send(queue_name text, msg jsonb, delay integer) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, array[msg], null::jsonb[], delay) $fn$;

create function pgmq.send(queue_name text, msg jsonb) returns setof bigint
language sql as $fn$ select pgmq.send_batch(queue_name, array[msg], null::jsonb[], 0) $fn$;

-- Reading ----------------------------------------------------------------------------------------
create function pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb default '{}')
returns setof pgmq.message_record language plpgsql as $fn$
begin
  return query execute format('with next as (
      select msg_id from pgmq.%1$I where vt <= clock_timestamp() and message @> $3
      order by msg_id limit $1 for update skip locked)
    update pgmq.%1$I q set vt = clock_timestamp() + make_interval(secs => $2), read_ct = q.read_ct + 1
    from next where q.msg_id = next.msg_id
    returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers',
    pgmq.format_table_name(queue_name, 'q')) using qty, vt, coalesce(conditional, '{}');
end
$fn$;

create function pgmq.read_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer default 5,
                                    poll_interval_ms integer default 100, conditional jsonb default '{}')
returns setof pgmq.message_record language plpgsql as $fn$
declare
  deadline timestamptz := clock_timestamp() + make_interval(secs => max_poll_seconds);
  found_any boolean;
begin
  loop
    return query select * from pgmq.read(queue_name, vt, qty, conditional);
    get diagnostics found_any = row_count;
    exit when found_any or clock_timestamp() >= deadline;
    perform pg_sleep(poll_interval_ms / 1000.0);
  end loop;
end
$fn$;

create function pgmq.pop(queue_name text) returns setof pgmq.message_record language plpgsql as $fn$
begin
  return query execute format('with next as (
      select msg_id from pgmq.%1$I where vt <= clock_timestamp() order by msg_id limit 1 for update skip locked)
    delete from pgmq.%1$I q using next where q.msg_id = next.msg_id
    returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers',
    pgmq.format_table_name(queue_name, 'q'));
end
$fn$;

create function pgmq.set_vt(queue_name text, msg_id bigint, vt integer) returns setof pgmq.message_record
language plpgsql as $fn$
begin
  return query execute format('update pgmq.%I q set vt = clock_timestamp() + make_interval(secs => $2)
    where q.msg_id = $1 returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers',
    pgmq.format_table_name(queue_name, 'q')) using msg_id, vt;
end
$fn$;

-- Deleting and archiving -------------------------------------------------------------------------
create function pgmq.delete(queue_name text, msg_ids bigint[]) returns setof bigint language plpgsql as $fn$
begin
  return query execute format('delete from pgmq.%I where msg_id = any($1) returning msg_id',
                              pgmq.format_table_name(queue_name, 'q')) using msg_ids;
end
$fn$;

create function pgmq.delete(queue_name text, msg_id bigint) returns boolean language sql as $fn$
  select exists (select from pgmq.delete(queue_name, array[msg_id]))
$fn$;

create function pgmq.archive(queue_name text, msg_ids bigint[]) returns setof bigint language plpgsql as $fn$
begin
  return query execute format('with gone as (delete from pgmq.%I where msg_id = any($1) returning *)
    insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message, headers)
    select msg_id, read_ct, enqueued_at, vt, message, headers from gone returning msg_id',
    pgmq.format_table_name(queue_name, 'q'), pgmq.format_table_name(queue_name, 'a')) using msg_ids;
end
$fn$;

create function pgmq.archive(queue_name text, msg_id bigint) returns boolean language sql as $fn$
  select exists (select from pgmq.archive(queue_name, array[msg_id]))
$fn$;

-- Metrics ----------------------------------------------------------------------------------------
create function pgmq.metrics(queue_name text) returns pgmq.metrics_result language plpgsql as $fn$
declare
  q text := pgmq.format_table_name(queue_name, 'q');
  result pgmq.metrics_result;
begin
  execute format('select $1, count(*), extract(epoch from now() - max(enqueued_at))::integer,
      extract(epoch from now() - min(enqueued_at))::integer,
      (select case when is_called then last_value else 0 end from pgmq.%I), now(),
      count(*) filter (where vt <= now())
    from pgmq.%I', q || '_msg_id_seq', q) into result using queue_name;
  return result;
end
$fn$;

create function pgmq.metrics_all() returns setof pgmq.metrics_result language sql as $fn$
  select (pgmq.metrics(m.queue_name)).* from pgmq.meta m
$fn$;

-- As hosted projects grant pgmq to postgres and the API roles.
grant usage on schema pgmq to postgres, anon, authenticated, service_role;
grant all on all tables in schema pgmq to postgres, service_role;
grant all on all sequences in schema pgmq to postgres, service_role;
grant execute on all functions in schema pgmq to postgres, service_role;
alter default privileges in schema pgmq grant all on tables to postgres, service_role;
alter default privileges in schema pgmq grant all on sequences to postgres, service_role;
