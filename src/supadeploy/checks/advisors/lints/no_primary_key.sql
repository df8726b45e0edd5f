-- A table of the project's own with no primary key.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    null as discriminator,
    pg_catalog.format('table %I.%I has no primary key', nsp.nspname, rel.relname) as detail,
    pg_catalog.format('no_primary_key_%s_%s', nsp.nspname, rel.relname) as cache_key,
    null as subject
from pg_catalog.pg_class as rel
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where rel.relkind = 'r'
    and nsp.nspname not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = rel.oid)
    and not exists (select from pg_catalog.pg_index as idx where idx.indrelid = rel.oid and idx.indisprimary)
