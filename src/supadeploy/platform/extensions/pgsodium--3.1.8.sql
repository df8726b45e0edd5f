-- supadeploy stand-in for pgsodium: random bytes and nonces from pgcrypto; anything cryptographic says it
-- is not available locally (SQLSTATE SDL01). Security labels (transparent column encryption) are not.
create function pgsodium.randombytes_buf(size integer) returns bytea language sql volatile as $fn$
  select extensions.gen_random_bytes(size)
$fn$;
create function pgsodium.randombytes_random() returns integer language sql volatile as $fn$
  select ('x' || encode(extensions.gen_random_bytes(4), 'hex'))::bit(32)::integer
$fn$;
create function pgsodium.crypto_secretbox_noncegen() returns bytea language sql volatile as $fn$
  select extensions.gen_random_bytes(24)
$fn$;
create function pgsodium.crypto_aead_det_noncegen() returns bytea language sql volatile as $fn$
  select extensions.gen_random_bytes(16)
$fn$;
create function pgsodium.crypto_aead_det_keygen() returns bytea language sql volatile as $fn$
  select extensions.gen_random_bytes(32)
$fn$;
create function pgsodium._unavailable(what text) returns bytea language plpgsql as $fn$
begin
  raise exception using errcode = 'SDL01',
    message = format('pgsodium.%s needs libsodium, which supadeploy''s local replay does not have', what),
    hint = 'run the dry run against a staging project to check statements that encrypt';
end
$fn$;
create function pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_uuid uuid, nonce bytea default null)
returns bytea language sql as $fn$ select pgsodium._unavailable('crypto_aead_det_encrypt') $fn$;
create function pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_uuid uuid, nonce bytea default null)
returns bytea language sql as $fn$ select pgsodium._unavailable('crypto_aead_det_decrypt') $fn$;
grant usage on schema pgsodium to postgres, service_role;
grant execute on all functions in schema pgsodium to postgres, service_role;

-- What a hosted project's pgsodium has that dumps and migrations refer to: its roles, key types, the key
-- table (keys are ids here: the replay derives nothing from them), the valid_key view, create_key(), and
-- the schema transparent column encryption writes its views into.
do $roles$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'pgsodium_keyiduser') then
    create role pgsodium_keyiduser nologin;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'pgsodium_keyholder') then
    create role pgsodium_keyholder nologin;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'pgsodium_keymaker') then
    create role pgsodium_keymaker nologin;
  end if;
end
$roles$;
grant pgsodium_keyiduser to pgsodium_keyholder;
grant pgsodium_keyholder to pgsodium_keymaker;
grant pgsodium_keyiduser, pgsodium_keyholder, pgsodium_keymaker to postgres with admin option;

create schema if not exists pgsodium_masks;

create type pgsodium.key_status as enum ('default', 'valid', 'invalid', 'expired');
create type pgsodium.key_type as enum ('aead-ietf', 'aead-det', 'hmacsha512', 'hmacsha256', 'auth', 'shorthash',
                                       'generichash', 'kdf', 'secretbox', 'secretstream', 'stream_xchacha20');
create sequence pgsodium.key_key_id_seq;
create table pgsodium.key (
  id uuid primary key default gen_random_uuid(),
  status pgsodium.key_status default 'valid',
  created timestamptz not null default current_timestamp,
  expires timestamptz,
  key_type pgsodium.key_type,
  key_id bigint default nextval('pgsodium.key_key_id_seq'),
  key_context bytea default 'pgsodium',
  name text unique,
  associated_data text default 'associated',
  raw_key bytea,
  raw_key_nonce bytea,
  parent_key uuid references pgsodium.key (id),
  comment text,
  user_data text
);
create view pgsodium.valid_key as
  select id, name, status, key_type, key_id, key_context, created, expires, associated_data
  from pgsodium.key
  where status in ('valid', 'default') and case when expires is null then true else expires > now() end;

create function pgsodium.create_key(key_type pgsodium.key_type default 'aead-det', name text default null,
                                    raw_key bytea default null, raw_key_nonce bytea default null,
                                    parent_key uuid default null, key_context bytea default 'pgsodium',
                                    expires timestamptz default null, associated_data text default '')
returns pgsodium.valid_key language sql security definer set search_path = '' as $fn$
  with created as (
    insert into pgsodium.key (key_type, name, raw_key, raw_key_nonce, parent_key, key_context, expires,
                              associated_data)
    values (create_key.key_type, create_key.name, create_key.raw_key, create_key.raw_key_nonce,
            create_key.parent_key, create_key.key_context, create_key.expires, create_key.associated_data)
    returning id)
  select v from pgsodium.valid_key v join created using (id)
$fn$;

grant select on pgsodium.valid_key to pgsodium_keyiduser;
grant select, insert, update, delete on pgsodium.key to pgsodium_keymaker;
grant usage on schema pgsodium to pgsodium_keyiduser;
grant execute on function pgsodium.create_key(pgsodium.key_type, text, bytea, bytea, uuid, bytea, timestamptz, text)
  to pgsodium_keymaker, postgres;

-- As supabase/postgres' migration 20221207154255 sets pgsodium up on hosted projects.
grant execute on function pgsodium.crypto_aead_det_decrypt(bytea, bytea, uuid, bytea),
  pgsodium.crypto_aead_det_encrypt(bytea, bytea, uuid, bytea), pgsodium.crypto_aead_det_keygen() to service_role;
