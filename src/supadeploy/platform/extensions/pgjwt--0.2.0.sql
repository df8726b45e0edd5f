-- supadeploy's pgjwt: HS256/384/512 signing and verification with pgcrypto's hmac().
create function @extschema@.url_encode(data bytea) returns text language sql immutable as $fn$
  select translate(encode(data, 'base64'), E'+/=\n', '-_')
$fn$;

create function @extschema@.url_decode(data text) returns bytea language sql immutable as $fn$
  with t as (select translate(data, '-_', '+/') as s)
  select decode(s || repeat('=', (4 - length(s) % 4) % 4), 'base64') from t
$fn$;

create function @extschema@.algorithm_sign(signables text, secret text, algorithm text) returns text
language sql immutable as $fn$
  with alg as (
    select case algorithm when 'HS256' then 'sha256' when 'HS384' then 'sha384' when 'HS512' then 'sha512' end as id)
  select @extschema@.url_encode(extensions.hmac(signables, secret, alg.id)) from alg
$fn$;

create function @extschema@.sign(payload json, secret text, algorithm text default 'HS256') returns text
language sql immutable as $fn$
  with header as (
    select @extschema@.url_encode(convert_to(json_build_object('alg', algorithm, 'typ', 'JWT')::text, 'utf8')) as data),
  body as (select @extschema@.url_encode(convert_to(payload::text, 'utf8')) as data),
  signables as (select header.data || '.' || body.data as data from header, body)
  select signables.data || '.' || @extschema@.algorithm_sign(signables.data, secret, algorithm) from signables
$fn$;

create function @extschema@.try_cast_double(inp text) returns double precision language plpgsql immutable as $fn$
begin
  return inp::double precision;
exception when others then
  return null;
end
$fn$;

create function @extschema@.verify(token text, secret text, algorithm text default 'HS256')
returns table (header json, payload json, valid boolean) language sql immutable as $fn$
  select convert_from(@extschema@.url_decode(r[1]), 'utf8')::json,
         convert_from(@extschema@.url_decode(r[2]), 'utf8')::json,
         r[3] = @extschema@.algorithm_sign(r[1] || '.' || r[2], secret, algorithm)
  from regexp_split_to_array(token, '\.') r
$fn$;
