-- Two or more indexes on a table that are the same index under different names: each one costs
-- every write and its space, the copies buy nothing.
with shaped as (
    select
        idx.indrelid,
        irel.relname as index_name,
        -- the definition with the index's own name taken out: equal text, equal index
        pg_catalog.replace(pg_catalog.pg_get_indexdef(idx.indexrelid), irel.relname, '') as shape
    from pg_catalog.pg_index as idx
    join pg_catalog.pg_class as irel on irel.oid = idx.indexrelid
),
twins as (
    select indrelid, pg_catalog.array_agg(index_name order by index_name) as names
    from shaped
    group by indrelid, shape
    having pg_catalog.count(*) > 1
)
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    case rel.relkind when 'm' then 'materialized view' else 'table' end as object_type,
    pg_catalog.array_to_string(twins.names, ',') as discriminator,
    pg_catalog.format('%I.%I has identical indexes %s: keep one', nsp.nspname, rel.relname,
        pg_catalog.array_to_string(twins.names, ', ')) as detail,
    pg_catalog.format('duplicate_index_%s_%s_%s', nsp.nspname, rel.relname, twins.names) as cache_key,
    pg_catalog.jsonb_build_object('indexes', pg_catalog.to_jsonb(twins.names)) as subject
from twins
join pg_catalog.pg_class as rel on rel.oid = twins.indrelid
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where rel.relkind in ('r', 'm')
    and nsp.nspname not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = rel.oid)
