-- Policies written for a table whose row level security is off: they are not applied.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    null as discriminator,
    pg_catalog.format('table %I.%I has policies (%s) but row level security is off, so none applies',
        nsp.nspname, rel.relname, pg_catalog.string_agg(pg_catalog.quote_ident(pol.polname), ', ' order by pol.polname))
        as detail,
    pg_catalog.format('policy_exists_rls_disabled_%s_%s', nsp.nspname, rel.relname) as cache_key,
    pg_catalog.jsonb_build_object('policies', pg_catalog.jsonb_agg(pol.polname order by pol.polname)) as subject
from sd_policy as pol
join pg_catalog.pg_class as rel on rel.oid = pol.polrelid
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where rel.relkind = 'r'
    and not rel.relrowsecurity
    and nsp.nspname not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = rel.oid)
group by nsp.nspname, rel.relname
