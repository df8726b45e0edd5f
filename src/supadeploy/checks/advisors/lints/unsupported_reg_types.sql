-- A column of a reg* type that stores OIDs pg_upgrade cannot carry over (regproc, regnamespace, ...):
-- the project can no longer be upgraded to a new PostgreSQL major in place.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    att.attname as discriminator,
    pg_catalog.format('column %I of %I.%I has type %s, which pg_upgrade cannot carry over', att.attname,
        nsp.nspname, rel.relname, typ.typname) as detail,
    pg_catalog.format('unsupported_reg_types_%s_%s_%s', nsp.nspname, rel.relname, att.attname) as cache_key,
    pg_catalog.jsonb_build_object('columns', pg_catalog.jsonb_build_array(att.attname)) as subject
from pg_catalog.pg_attribute as att
join pg_catalog.pg_class as rel on rel.oid = att.attrelid
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
join pg_catalog.pg_type as typ on typ.oid = att.atttypid
join pg_catalog.pg_namespace as typ_nsp on typ_nsp.oid = typ.typnamespace
where typ_nsp.nspname = 'pg_catalog'
    and typ.typname in ('regcollation', 'regconfig', 'regdictionary', 'regnamespace', 'regoper', 'regoperator',
                        'regproc', 'regprocedure')
    and nsp.nspname not in ('pg_catalog', 'information_schema', 'pgsodium')
