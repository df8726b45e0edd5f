-- The `storage` schema as the Storage API leaves it on a hosted project:
-- buckets, objects (row level security on, policies written by `postgres`),
-- multipart uploads, and the helper functions policies use
-- (`storage.foldername(name)`, `filename`, `extension`). Names, columns and
-- grants follow the Storage API's migrations; written here as one final state.
create schema if not exists storage authorization supabase_admin;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin, dashboard_user;
grant usage, create on schema storage to postgres;

set local role supabase_storage_admin;

create type storage.buckettype as enum ('STANDARD', 'ANALYTICS', 'VECTOR');

create table storage.buckets (
  id text primary key,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text,
  type storage.buckettype not null default 'STANDARD'
);
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';
create unique index bname on storage.buckets (name);

create table storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text constraint "objects_bucketId_fkey" references storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  owner_id text,
  user_metadata jsonb
);
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';
create unique index bucketid_objname on storage.objects (bucket_id, name);
create index name_prefix_search on storage.objects (name text_pattern_ops);
create index idx_objects_bucket_id_name on storage.objects (bucket_id, name collate "C");

create table storage.migrations (
  id integer primary key,
  name varchar(100) not null unique,
  hash varchar(40) not null,
  executed_at timestamp default current_timestamp
);

create table storage.s3_multipart_uploads (
  id text primary key,
  in_progress_size bigint not null default 0,
  upload_signature text not null,
  bucket_id text not null references storage.buckets (id),
  key text collate "C" not null,
  version text not null,
  owner_id text,
  created_at timestamptz not null default now(),
  user_metadata jsonb,
  metadata jsonb
);
create index idx_multipart_uploads_list on storage.s3_multipart_uploads (bucket_id, key, created_at);

create table storage.s3_multipart_uploads_parts (
  id uuid primary key default gen_random_uuid(),
  upload_id text not null references storage.s3_multipart_uploads (id) on delete cascade,
  size bigint not null default 0,
  part_number integer not null,
  bucket_id text not null references storage.buckets (id),
  key text collate "C" not null,
  etag text not null,
  owner_id text,
  version text not null,
  created_at timestamptz not null default now()
);

create table storage.buckets_analytics (
  id text primary key,
  type storage.buckettype not null default 'ANALYTICS',
  format text not null default 'ICEBERG',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Path helpers, used in storage policies: 'avatars/<uid>/me.png' → {avatars,<uid>}, 'me.png', 'png'.
create function storage.foldername(name text) returns text[] language plpgsql immutable as $fn$
declare
  parts text[];
begin
  parts := string_to_array(name, '/');
  return parts[1:array_length(parts, 1) - 1];
end
$fn$;

create function storage.filename(name text) returns text language plpgsql immutable as $fn$
declare
  parts text[];
begin
  parts := string_to_array(name, '/');
  return parts[array_length(parts, 1)];
end
$fn$;

create function storage.extension(name text) returns text language plpgsql immutable as $fn$
declare
  file text;
begin
  file := storage.filename(name);
  if position('.' in coalesce(file, '')) = 0 then
    return '';
  end if;
  return reverse(split_part(reverse(file), '.', 1));
end
$fn$;

create function storage.get_size_by_bucket() returns table (size bigint, bucket_id text)
language plpgsql stable as $fn$
begin
  return query
    select sum((o.metadata ->> 'size')::bigint)::bigint, o.bucket_id
    from storage.objects o group by o.bucket_id;
end
$fn$;

-- The operation the Storage API is performing, as policies may ask for it.
create function storage.operation() returns text language plpgsql stable as $fn$
begin
  return current_setting('storage.operation', true);
end
$fn$;

create function storage.allow_only_operation(expected_operation text) returns boolean language sql stable as $fn$
  select storage.operation() is not distinct from expected_operation
$fn$;

create function storage.allow_any_operation(expected_operations text[]) returns boolean language sql stable as $fn$
  select storage.operation() = any (expected_operations)
$fn$;

create function storage.can_insert_object(bucketid text, name text, owner uuid, metadata jsonb) returns void
language plpgsql as $fn$
begin
  insert into storage.objects (bucket_id, name, owner, metadata) values (bucketid, name, owner, metadata);
  raise sqlstate 'PT200' using message = 'ROLLBACK', detail = 'rollback successful insert';
end
$fn$;

create function storage.search(prefix text, bucketname text, limits integer default 100, levels integer default 1,
                               offsets integer default 0, search text default '', sortcolumn text default 'name',
                               sortorder text default 'asc')
returns table (name text, id uuid, updated_at timestamptz, created_at timestamptz, last_accessed_at timestamptz,
               metadata jsonb)
language plpgsql stable as $fn$
begin
  return query
    select o.name, o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata
    from storage.objects o
    where o.bucket_id = bucketname and o.name like prefix || '%' and o.name ilike '%' || search || '%'
    order by o.name limit limits offset offsets;
end
$fn$;

create function storage.list_objects_with_delimiter(_bucket_id text, prefix_param text, delimiter_param text,
                                                    max_keys integer default 100, start_after text default '',
                                                    next_token text default '', sort_order text default 'asc')
returns table (name text, id uuid, metadata jsonb, updated_at timestamptz, created_at timestamptz,
               last_accessed_at timestamptz)
language plpgsql stable as $fn$
begin
  return query
    select o.name, o.id, o.metadata, o.updated_at, o.created_at, o.last_accessed_at
    from storage.objects o
    where o.bucket_id = _bucket_id and o.name like prefix_param || '%' and o.name > start_after
    order by o.name limit max_keys;
end
$fn$;

create function storage.list_multipart_uploads_with_delimiter(bucket_id text, prefix_param text, delimiter_param text,
                                                              max_keys integer default 100,
                                                              next_key_token text default '',
                                                              next_upload_token text default '')
returns table (key text, id text, created_at timestamptz)
language plpgsql as $fn$
begin
  return query
    select u.key, u.id, u.created_at from storage.s3_multipart_uploads u
    where u.bucket_id = list_multipart_uploads_with_delimiter.bucket_id and u.key like prefix_param || '%'
    order by u.key, u.created_at limit max_keys;
end
$fn$;

create function storage.update_updated_at_column() returns trigger language plpgsql as $fn$
begin
  new.updated_at := now();
  return new;
end
$fn$;

create function storage.enforce_bucket_name_length() returns trigger language plpgsql as $fn$
begin
  if length(new.name) > 100 then
    raise exception 'bucket name "%" is too long (% characters). Max is 100.', new.name, length(new.name);
  end if;
  return new;
end
$fn$;

-- Deleting rows directly would orphan files in object storage: refused unless the Storage API asks.
create function storage.protect_delete() returns trigger language plpgsql as $fn$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using hint = 'This prevents accidental data loss from orphaned objects.', errcode = '42501';
  end if;
  return null;
end
$fn$;

create trigger update_objects_updated_at before update on storage.objects
  for each row execute function storage.update_updated_at_column();
create trigger enforce_bucket_name_length_trigger before insert or update of name on storage.buckets
  for each row execute function storage.enforce_bucket_name_length();
create trigger protect_buckets_delete before delete on storage.buckets
  for each statement execute function storage.protect_delete();
create trigger protect_objects_delete before delete on storage.objects
  for each statement execute function storage.protect_delete();

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;
alter table storage.migrations enable row level security;
alter table storage.s3_multipart_uploads enable row level security;
alter table storage.s3_multipart_uploads_parts enable row level security;
alter table storage.buckets_analytics enable row level security;

grant all on storage.buckets, storage.objects, storage.migrations to postgres, anon, authenticated, service_role;
grant all on storage.buckets_analytics to postgres, service_role;
grant select on storage.buckets_analytics, storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts
  to anon, authenticated;
grant all on storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts to service_role;
revoke all on function storage.can_insert_object(text, text, uuid, jsonb), storage.search(text, text, integer, integer,
  integer, text, text, text), storage.get_size_by_bucket(), storage.operation() from public;
grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
  to postgres, anon, authenticated, service_role, dashboard_user;

reset role;

alter default privileges for role supabase_admin in schema storage grant all on tables to postgres, anon, authenticated,
  service_role;
alter default privileges for role supabase_admin in schema storage grant all on functions to postgres, anon,
  authenticated, service_role;
alter default privileges for role supabase_admin in schema storage grant all on sequences to postgres, anon,
  authenticated, service_role;
