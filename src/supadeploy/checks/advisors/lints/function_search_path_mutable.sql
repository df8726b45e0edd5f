-- A function of the project's own that does not pin search_path: what its unqualified names resolve to
-- depends on the caller's search_path (for a security definer function, a privilege escalation).
select
    nsp.nspname as schema_name,
    fn.proname as object_name,
    'function' as object_type,
    pg_catalog.pg_get_function_identity_arguments(fn.oid) as discriminator,
    pg_catalog.format('function %I.%I(%s) does not set search_path', nsp.nspname, fn.proname,
        pg_catalog.pg_get_function_identity_arguments(fn.oid)) as detail,
    pg_catalog.format('function_search_path_mutable_%s_%s_%s', nsp.nspname, fn.proname, pg_catalog.md5(fn.prosrc))
        as cache_key,
    pg_catalog.jsonb_build_object('arg_types', (
        select coalesce(pg_catalog.jsonb_agg(pg_catalog.format_type(t, null) order by i), '[]'::pg_catalog.jsonb)
        from pg_catalog.unnest(fn.proargtypes::pg_catalog.oid[]) with ordinality as a(t, i))) as subject
from pg_catalog.pg_proc as fn
join pg_catalog.pg_namespace as nsp on nsp.oid = fn.pronamespace
where nsp.nspname not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = fn.oid)
    and not exists (
        select from pg_catalog.unnest(fn.proconfig) as setting where setting like 'search_path=%'
    )
