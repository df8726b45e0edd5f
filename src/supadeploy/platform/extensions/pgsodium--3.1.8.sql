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
