-- A table in a schema the Data API serves, readable by anon or authenticated, with row level security off:
-- anyone with the project's public key reads (and, with the default grants, writes) every row.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    null as discriminator,
    pg_catalog.format('table %I.%I is served by the Data API without row level security', nsp.nspname, rel.relname)
        as detail,
    pg_catalog.format('rls_disabled_in_public_%s_%s', nsp.nspname, rel.relname) as cache_key,
    null as subject
from pg_catalog.pg_class as rel
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where rel.relkind = 'r'
    and not rel.relrowsecurity
    and nsp.nspname in (select nspname from sd_exposed)
    and nsp.nspname not in (select nspname from sd_internal)
    and exists (select from sd_api_role as api where pg_catalog.has_table_privilege(api.oid, rel.oid, 'SELECT'))
