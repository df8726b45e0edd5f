-- A security definer function in a schema the Data API serves that an API role (anon or authenticated)
-- may execute: callable as /rest/v1/rpc/<name>, it runs with its owner's rights and bypasses row level security.
-- Shared by anon_ and authenticated_security_definer_function_executable (lints/_sql.for_role).
select
    nsp.nspname as schema_name,
    fn.proname as object_name,
    'function' as object_type,
    pg_catalog.pg_get_function_identity_arguments(fn.oid) as discriminator,
    pg_catalog.format('security definer function %I.%I(%s) is executable by %s as /rest/v1/rpc/%s',
        nsp.nspname, fn.proname, pg_catalog.pg_get_function_identity_arguments(fn.oid), api.rolname,
        fn.proname) as detail,
    pg_catalog.format('%s_%s_%s_%s', @LINT@, nsp.nspname, fn.proname,
        pg_catalog.pg_get_function_identity_arguments(fn.oid)) as cache_key,
    pg_catalog.jsonb_build_object('arg_types', (
        select coalesce(pg_catalog.jsonb_agg(pg_catalog.format_type(t, null) order by i), '[]'::pg_catalog.jsonb)
        from pg_catalog.unnest(fn.proargtypes::pg_catalog.oid[]) with ordinality as a(t, i))) as subject
from pg_catalog.pg_proc as fn
join pg_catalog.pg_namespace as nsp on nsp.oid = fn.pronamespace
join sd_api_role as api on api.rolname = @ROLE@
where fn.prosecdef
    and pg_catalog.has_function_privilege(api.oid, fn.oid, 'EXECUTE')
    and nsp.nspname in (select nspname from sd_exposed)
    and nsp.nspname not in (select nspname from sd_internal)
