-- A view the Data API serves to anon or authenticated that is not `security_invoker`: it reads its tables
-- with its owner's rights and row level security, not the caller's.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'view' as object_type,
    null as discriminator,
    pg_catalog.format('view %I.%I runs with its owner''s rights (no security_invoker) and the Data API serves it',
        nsp.nspname, rel.relname) as detail,
    pg_catalog.format('security_definer_view_%s_%s', nsp.nspname, rel.relname) as cache_key,
    null as subject
from pg_catalog.pg_class as rel
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where rel.relkind = 'v'
    -- security_invoker views exist from PostgreSQL 15
    and pg_catalog.current_setting('server_version_num')::pg_catalog.int4 >= 150000
    and nsp.nspname in (select nspname from sd_exposed)
    and nsp.nspname not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = rel.oid)
    and exists (select from sd_api_role as api where pg_catalog.has_table_privilege(api.oid, rel.oid, 'SELECT'))
    and not exists (
        select
        from pg_catalog.unnest(rel.reloptions) as opt
        where pg_catalog.lower(opt) in ('security_invoker=1', 'security_invoker=true', 'security_invoker=yes',
                                        'security_invoker=on')
    )
