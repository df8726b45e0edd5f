-- A foreign key to a unique constraint (not the primary key) of a table in auth: Supabase Auth may
-- change or drop those constraints, and the key would then block its upgrades.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    con.conname as discriminator,
    pg_catalog.format('foreign key %I of %I.%I references a unique constraint of %s, not its primary key',
        con.conname, nsp.nspname, rel.relname, con.confrelid::pg_catalog.regclass) as detail,
    pg_catalog.format('fkey_to_auth_unique_%s_%s_%s', nsp.nspname, rel.relname, con.conname) as cache_key,
    pg_catalog.jsonb_build_object('constraint', con.conname, 'columns', (
        select pg_catalog.jsonb_agg(att.attname order by key.position)
        from pg_catalog.unnest(con.conkey) with ordinality as key(attnum, position)
        join pg_catalog.pg_attribute as att on att.attrelid = con.conrelid and att.attnum = key.attnum)) as subject
from pg_catalog.pg_constraint as con
join pg_catalog.pg_class as rel on rel.oid = con.conrelid
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
join pg_catalog.pg_class as ref on ref.oid = con.confrelid
join pg_catalog.pg_namespace as ref_nsp on ref_nsp.oid = ref.relnamespace
join pg_catalog.pg_index as idx on idx.indexrelid = con.conindid
where con.contype = 'f'
    and ref_nsp.nspname = 'auth'
    and idx.indisunique
    and not idx.indisprimary
