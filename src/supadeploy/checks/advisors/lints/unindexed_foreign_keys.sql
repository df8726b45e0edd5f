-- A foreign key whose columns, in order, are not the leading key columns of any valid index
-- on its table: every delete or key update on the referenced table scans this one.
select
    rel.relnamespace::pg_catalog.regnamespace::pg_catalog.text as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    con.conname as discriminator,
    pg_catalog.format('foreign key %I of %s.%I (%s) has no index that starts with its columns',
        con.conname, rel.relnamespace::pg_catalog.regnamespace, rel.relname, cols.names) as detail,
    pg_catalog.format('unindexed_foreign_keys_%s_%s_%s',
        rel.relnamespace::pg_catalog.regnamespace, rel.relname, con.conname) as cache_key,
    pg_catalog.jsonb_build_object('constraint', con.conname, 'columns', cols.list) as subject
from pg_catalog.pg_constraint as con
join pg_catalog.pg_class as rel on rel.oid = con.conrelid
cross join lateral (
    select pg_catalog.string_agg(pg_catalog.quote_ident(att.attname), ', ' order by key.position) as names,
        pg_catalog.jsonb_agg(att.attname order by key.position) as list
    from pg_catalog.unnest(con.conkey) with ordinality as key(attnum, position)
    join pg_catalog.pg_attribute as att on att.attrelid = con.conrelid and att.attnum = key.attnum
) as cols
where con.contype = 'f'
    and rel.relnamespace::pg_catalog.regnamespace::pg_catalog.text not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = rel.oid)
    and not exists (
        -- the index's key columns (INCLUDE columns too, as Supabase counts them) begin with the key's
        select
        from pg_catalog.pg_index as idx
        where idx.indrelid = con.conrelid
            and idx.indisvalid
            and pg_catalog.array_length(idx.indkey::pg_catalog.int2[], 1) >= pg_catalog.cardinality(con.conkey)
            and not exists (
                select
                from pg_catalog.generate_subscripts(con.conkey, 1) as i
                where con.conkey[i] is distinct from idx.indkey[i - 1]
            )
    )
