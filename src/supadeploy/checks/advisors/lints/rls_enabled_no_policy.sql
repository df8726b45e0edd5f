-- Row level security on and not one policy: nobody but the owner and roles that bypass it sees a row.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    null as discriminator,
    pg_catalog.format('table %I.%I has row level security on and no policy', nsp.nspname, rel.relname) as detail,
    pg_catalog.format('rls_enabled_no_policy_%s_%s', nsp.nspname, rel.relname) as cache_key,
    null as subject
from pg_catalog.pg_class as rel
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where rel.relkind = 'r'
    and rel.relrowsecurity
    and nsp.nspname not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = rel.oid)
    and not exists (select from sd_policy as pol where pol.polrelid = rel.oid)
