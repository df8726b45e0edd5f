-- A policy that calls auth.uid(), auth.jwt(), auth.role(), auth.email() or current_setting() bare, so
-- PostgreSQL calls it once per row; wrapped as `(select auth.uid())` it becomes an init plan, run once.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    pol.polname as discriminator,
    pg_catalog.format('policy %I on %I.%I calls an auth function or current_setting() once per row; '
        'write (select auth.uid()) instead of auth.uid()', pol.polname, nsp.nspname, rel.relname) as detail,
    pg_catalog.format('auth_rls_init_plan_%s_%s_%s', nsp.nspname, rel.relname, pol.polname) as cache_key,
    pg_catalog.jsonb_build_object('policies', pg_catalog.jsonb_build_array(pol.polname)) as subject
from sd_policy as pol
join pg_catalog.pg_class as rel on rel.oid = pol.polrelid
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
cross join lateral (values (pol.using_expr), (pol.check_expr)) as expr(text)
where rel.relrowsecurity
    -- realtime stays in: policies on realtime.messages are the project's own
    and nsp.nspname not in (select nspname from sd_internal where nspname <> 'realtime')
    and (
        exists (
            select
            from pg_catalog.unnest(array['auth.uid()', 'auth.jwt()', 'auth.role()', 'auth.email()']) as call(text)
            where pg_catalog.strpos(expr.text, call.text) > 0
                and pg_catalog.strpos(pg_catalog.lower(expr.text), 'select ' || call.text) = 0
        )
        or (
            expr.text like '%current\_setting(%)%'
            and pg_catalog.lower(expr.text) not like '%select current\_setting(%)%'
        )
    )
group by nsp.nspname, rel.relname, pol.polname
