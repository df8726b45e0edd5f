-- A materialized view the Data API serves to anon or authenticated: it has no row level security.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'materialized view' as object_type,
    null as discriminator,
    pg_catalog.format('materialized view %I.%I is readable by anon or authenticated through the Data API',
        nsp.nspname, rel.relname) as detail,
    pg_catalog.format('materialized_view_in_api_%s_%s', nsp.nspname, rel.relname) as cache_key,
    null as subject
from pg_catalog.pg_class as rel
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where rel.relkind = 'm'
    and nsp.nspname in (select nspname from sd_exposed)
    and nsp.nspname not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = rel.oid)
    and exists (select from sd_api_role as api where pg_catalog.has_table_privilege(api.oid, rel.oid, 'SELECT'))
