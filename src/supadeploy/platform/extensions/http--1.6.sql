-- supadeploy stand-in for the http extension (pgsql-http): same types and function signatures.
create domain @extschema@.http_method as text;
create domain @extschema@.content_type as text check (value ~ '^\S+\/\S+');
create type @extschema@.http_header as (field varchar, value varchar);
create type @extschema@.http_request as (method @extschema@.http_method, uri varchar,
                                         headers @extschema@.http_header[], content_type varchar, content varchar);
create type @extschema@.http_response as (status integer, content_type varchar,
                                          headers @extschema@.http_header[], content varchar);

-- SQLSTATE SDL01: supadeploy reports it as "not available in the local replay", not as a broken migration.
create function @extschema@.http(request @extschema@.http_request) returns @extschema@.http_response
language plpgsql as $fn$
begin
  raise exception using errcode = 'SDL01',
    message = format('the http extension cannot send %s %s in supadeploy''s local replay', request.method, request.uri),
    hint = 'run the dry run against a staging project to check statements that make HTTP calls';
end
$fn$;

create function @extschema@.http_header(field varchar, value varchar) returns @extschema@.http_header
language sql immutable as $fn$ select row(field, value)::@extschema@.http_header $fn$;

create function @extschema@.http_get(uri varchar) returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('GET', uri, null, null, null)::@extschema@.http_request) $fn$;
create function @extschema@.http_get(uri varchar, data jsonb) returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('GET', uri, null, null, data::text)::@extschema@.http_request) $fn$;
create function @extschema@.http_post(uri varchar, content varchar, content_type varchar)
returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('POST', uri, null, content_type, content)::@extschema@.http_request) $fn$;
create function @extschema@.http_post(uri varchar, data jsonb) returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('POST', uri, null, 'application/json', data::text)::@extschema@.http_request) $fn$;
create function @extschema@.http_put(uri varchar, content varchar, content_type varchar)
returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('PUT', uri, null, content_type, content)::@extschema@.http_request) $fn$;
create function @extschema@.http_patch(uri varchar, content varchar, content_type varchar)
returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('PATCH', uri, null, content_type, content)::@extschema@.http_request) $fn$;
create function @extschema@.http_delete(uri varchar) returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('DELETE', uri, null, null, null)::@extschema@.http_request) $fn$;
create function @extschema@.http_delete(uri varchar, content varchar, content_type varchar)
returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('DELETE', uri, null, content_type, content)::@extschema@.http_request) $fn$;
create function @extschema@.http_head(uri varchar) returns @extschema@.http_response language sql as $fn$
  select @extschema@.http(row('HEAD', uri, null, null, null)::@extschema@.http_request) $fn$;

create function @extschema@.http_set_curlopt(curlopt varchar, value varchar) returns boolean
language sql as $fn$ select true $fn$;
create function @extschema@.http_reset_curlopt() returns boolean language sql as $fn$ select true $fn$;
create function @extschema@.http_list_curlopt() returns table (curlopt text, value text)
language sql as $fn$ select null::text, null::text where false $fn$;

create function @extschema@.urlencode(string varchar) returns text language sql immutable as $fn$
  select string_agg(case when ch ~ '[A-Za-z0-9_.~-]' then ch
                         else upper(regexp_replace(encode(convert_to(ch, 'utf8'), 'hex'), '(..)', '%\1', 'g')) end, '')
  from regexp_split_to_table(string, '') as ch
$fn$;
create function @extschema@.urlencode(string bytea) returns text language sql immutable as $fn$
  select @extschema@.urlencode(convert_from(string, 'utf8')::varchar) $fn$;
create function @extschema@.urlencode(data jsonb) returns text language sql immutable as $fn$
  select string_agg(@extschema@.urlencode(key::varchar) || '=' || @extschema@.urlencode(value::varchar), '&')
  from jsonb_each_text(data)
$fn$;
