-- A view or materialized view over auth.users that anon or authenticated can read through the Data API:
-- a materialized view has no row level security, a definer's view reads as its owner, and an invoker's
-- view is only as safe as auth.users' own row level security.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'view' as object_type,
    null as discriminator,
    pg_catalog.format('%s %I.%I reads auth.users and the Data API serves it to %s',
        case rel.relkind when 'm' then 'materialized view' else 'view' end, nsp.nspname, rel.relname,
        (select pg_catalog.string_agg(api.rolname, ' and ' order by api.rolname) from sd_api_role as api
         where pg_catalog.has_table_privilege(api.oid, rel.oid, 'SELECT'))) as detail,
    pg_catalog.format('auth_users_exposed_%s_%s', nsp.nspname, rel.relname) as cache_key,
    null as subject
from pg_catalog.pg_class as users
join pg_catalog.pg_namespace as users_nsp on users_nsp.oid = users.relnamespace
join pg_catalog.pg_depend as dep on dep.refobjid = users.oid and dep.deptype = 'n'
join pg_catalog.pg_rewrite as rule on rule.oid = dep.objid
join pg_catalog.pg_class as rel on rel.oid = rule.ev_class
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
cross join lateral (
    select exists (
        select
        from pg_catalog.unnest(rel.reloptions) as opt
        where pg_catalog.lower(opt) in ('security_invoker=1', 'security_invoker=true', 'security_invoker=yes',
                                        'security_invoker=on')
    ) as yes
) as invoker
where users_nsp.nspname = 'auth'
    and users.relname = 'users'
    and nsp.nspname in (select nspname from sd_exposed)
    and rel.relname <> '0002_auth_users_exposed'
    and exists (select from sd_api_role as api where pg_catalog.has_table_privilege(api.oid, rel.oid, 'SELECT'))
    and (
        rel.relkind = 'm'
        or (rel.relkind = 'v' and (not invoker.yes or not users.relrowsecurity))
    )
group by nsp.nspname, rel.relname, rel.relkind, rel.oid
