-- supadeploy stand-in for Supabase Vault: the same table, view and functions. The local replay is a
-- throwaway database, so secrets are base64-encoded rather than encrypted with pgsodium.
create table vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
comment on table vault.secrets is 'Table with encrypted `secret` column for storing sensitive information on disk.';
create unique index secrets_name_idx on vault.secrets (name) where name is not null;

-- Vault's own encryption entry points (libsodium in the real extension): the replay keeps the bytes as
-- they are, since nothing it stores leaves the throwaway database.
create function vault._crypto_aead_det_noncegen() returns bytea language sql volatile as $fn$
  select extensions.gen_random_bytes(16)
$fn$;
create function vault._crypto_aead_det_encrypt(message bytea, additional bytea, key_id bigint,
                                               context bytea default 'pgsodium', nonce bytea default null)
returns bytea language sql immutable as $fn$ select message $fn$;
create function vault._crypto_aead_det_decrypt(message bytea, additional bytea, key_id bigint,
                                               context bytea default 'pgsodium', nonce bytea default null)
returns bytea language sql immutable as $fn$ select message $fn$;

create view vault.decrypted_secrets as
  select s.id, s.name, s.description, s.secret,
         convert_from(decode(s.secret, 'base64'), 'utf8') as decrypted_secret,
         s.key_id, s.nonce, s.created_at, s.updated_at
  from vault.secrets s;

create function vault.create_secret(new_secret text, new_name text default null, new_description text default '',
                                    new_key_id uuid default null) returns uuid
language plpgsql security definer set search_path = '' as $fn$
declare
  id uuid;
begin
  insert into vault.secrets (secret, name, description)
  values (encode(convert_to(new_secret, 'utf8'), 'base64'), new_name, new_description)
  returning secrets.id into id;
  return id;
end
$fn$;

create function vault.update_secret(secret_id uuid, new_secret text default null, new_name text default null,
                                    new_description text default null, new_key_id uuid default null) returns void
language plpgsql security definer set search_path = '' as $fn$
begin
  update vault.secrets s set
    secret = coalesce(encode(convert_to(new_secret, 'utf8'), 'base64'), s.secret),
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    updated_at = now()
  where s.id = secret_id;
end
$fn$;

revoke all on function vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid)
  from public;
grant usage on schema vault to postgres with grant option;
grant select, delete on vault.secrets to postgres with grant option;
grant select on vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid)
  to postgres with grant option;
