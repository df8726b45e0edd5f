-- Which of the objects a deploy created the Data API may serve to the anon role, by PostgREST's own rules
-- (its OpenAPI output in follow-privileges mode): a relation of kind r, v, m, f or p that is not a partition
-- and that anon owns through a role, or holds any table privilege or any column privilege on; its columns
-- with it; a plain function (not a procedure, not returning trigger) that anon may execute. Without an anon
-- role (a database that is not Supabase's), nothing. @ITEMS@: a VALUES list (n, schema, name, kind, column).
select coalesce(pg_catalog.jsonb_agg(i.n order by i.n), '[]'::pg_catalog.jsonb) as result
from (values @ITEMS@) as i(n, schema_name, object_name, kind, column_name)
where case
    when not exists (select from pg_catalog.pg_roles where rolname = 'anon') then false
    when i.kind = 'function' then exists (
        select from pg_catalog.pg_proc as p
        join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
        where n.nspname = i.schema_name and p.proname = i.object_name and p.prokind = 'f'
            and p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
            and pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE'))
    else exists (
        select from pg_catalog.pg_class as c
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = i.schema_name and c.relname = i.object_name
            and c.relkind in ('r', 'v', 'm', 'f', 'p') and not c.relispartition
            and (pg_catalog.pg_has_role('anon', c.relowner, 'USAGE')
                or pg_catalog.has_table_privilege('anon', c.oid,
                    'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                or pg_catalog.has_any_column_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))
            and (i.column_name is null or exists (
                select from pg_catalog.pg_attribute as a
                where a.attrelid = c.oid and a.attname = i.column_name and a.attnum > 0 and not a.attisdropped)))
end
