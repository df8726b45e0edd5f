-- supadeploy's pgmq: the queue functions migrations call, on tables pgmq.q_<name> and pgmq.a_<name>.
create table pgmq.meta (
  queue_name varchar unique not null,
  is_partitioned boolean not null default false,
  is_unlogged boolean not null default false,
  created_at timestamptz not null default now()
);

create type pgmq.message_record as (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz,
                                    message jsonb);
create type pgmq.queue_record as (queue_name varchar, is_partitioned boolean, is_unlogged boolean,
                                  created_at timestamptz);

create function pgmq._check(queue_name text) returns text language plpgsql immutable as $fn$
begin
  if queue_name !~ '^[a-z0-9_]{1,47}$' then
    raise exception 'queue name "%" is invalid: lower-case letters, digits and _ only, at most 47', queue_name;
  end if;
  return queue_name;
end
$fn$;

create function pgmq.create(queue_name text) returns void language plpgsql as $fn$
begin
  perform pgmq._check(queue_name);
  execute format('create table if not exists pgmq.%I (msg_id bigint primary key generated always as identity,
    read_ct integer not null default 0, enqueued_at timestamptz not null default now(),
    vt timestamptz not null, message jsonb)', 'q_' || queue_name);
  execute format('create table if not exists pgmq.%I (msg_id bigint primary key, read_ct integer not null default 0,
    enqueued_at timestamptz not null default now(), archived_at timestamptz not null default now(),
    vt timestamptz not null, message jsonb)', 'a_' || queue_name);
  insert into pgmq.meta (queue_name) values (queue_name) on conflict do nothing;
end
$fn$;

create function pgmq.create_unlogged(queue_name text) returns void language sql as $fn$ select pgmq.create(queue_name) $fn$;

create function pgmq.drop_queue(queue_name text) returns boolean language plpgsql as $fn$
begin
  execute format('drop table if exists pgmq.%I, pgmq.%I', 'q_' || pgmq._check(queue_name), 'a_' || queue_name);
  delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;
  return found;
end
$fn$;

create function pgmq.send(queue_name text, msg jsonb, delay integer default 0) returns setof bigint
language plpgsql as $fn$
begin
  return query execute format('insert into pgmq.%I (vt, message) values (now() + make_interval(secs => $1), $2)
    returning msg_id', 'q_' || pgmq._check(queue_name)) using delay, msg;
end
$fn$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer default 0) returns setof bigint
language plpgsql as $fn$
begin
  return query execute format('insert into pgmq.%I (vt, message) select now() + make_interval(secs => $1), m
    from unnest($2) m returning msg_id', 'q_' || pgmq._check(queue_name)) using delay, msgs;
end
$fn$;

create function pgmq.read(queue_name text, vt integer, qty integer) returns setof pgmq.message_record
language plpgsql as $fn$
begin
  return query execute format('with next as (select msg_id from pgmq.%1$I where vt <= now() order by msg_id
    limit $1 for update skip locked)
    update pgmq.%1$I q set vt = now() + make_interval(secs => $2), read_ct = q.read_ct + 1 from next
    where q.msg_id = next.msg_id returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message',
    'q_' || pgmq._check(queue_name)) using qty, vt;
end
$fn$;

create function pgmq.pop(queue_name text) returns setof pgmq.message_record language plpgsql as $fn$
begin
  return query execute format('with next as (select msg_id from pgmq.%1$I where vt <= now() order by msg_id
    limit 1 for update skip locked)
    delete from pgmq.%1$I q using next where q.msg_id = next.msg_id
    returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message', 'q_' || pgmq._check(queue_name));
end
$fn$;

create function pgmq.delete(queue_name text, msg_id bigint) returns boolean language plpgsql as $fn$
declare
  n integer;
begin
  execute format('delete from pgmq.%I where msg_id = $1', 'q_' || pgmq._check(queue_name)) using msg_id;
  get diagnostics n = row_count;
  return n > 0;
end
$fn$;

create function pgmq.archive(queue_name text, msg_id bigint) returns boolean language plpgsql as $fn$
declare
  n integer;
begin
  execute format('with gone as (delete from pgmq.%I where msg_id = $1 returning *)
    insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message)
    select msg_id, read_ct, enqueued_at, vt, message from gone', 'q_' || pgmq._check(queue_name), 'a_' || queue_name)
    using msg_id;
  get diagnostics n = row_count;
  return n > 0;
end
$fn$;

create function pgmq.purge_queue(queue_name text) returns bigint language plpgsql as $fn$
declare
  n bigint;
begin
  execute format('delete from pgmq.%I', 'q_' || pgmq._check(queue_name));
  get diagnostics n = row_count;
  return n;
end
$fn$;

create function pgmq.list_queues() returns setof pgmq.queue_record language sql stable as $fn$
  select queue_name, is_partitioned, is_unlogged, created_at from pgmq.meta order by queue_name
$fn$;

grant usage on schema pgmq to postgres, service_role;
grant all on all tables in schema pgmq to postgres, service_role;
grant execute on all functions in schema pgmq to postgres, service_role;
alter default privileges in schema pgmq grant all on tables to postgres, service_role;
