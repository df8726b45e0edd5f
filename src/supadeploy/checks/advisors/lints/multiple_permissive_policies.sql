-- Several permissive policies for one role and one action on a table: every one of them runs for every
-- row of every such query.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    rol.rolname || '/' || act.command as discriminator,
    pg_catalog.format('table %I.%I has %s permissive policies for role %I and %s: %s',
        nsp.nspname, rel.relname, pg_catalog.count(*), rol.rolname, act.command,
        pg_catalog.string_agg(pg_catalog.quote_ident(pol.polname), ', ' order by pol.polname)) as detail,
    pg_catalog.format('multiple_permissive_policies_%s_%s_%s_%s', nsp.nspname, rel.relname, rol.rolname, act.command)
        as cache_key,
    pg_catalog.jsonb_build_object('policies', pg_catalog.jsonb_agg(pol.polname order by pol.polname),
        'role', rol.rolname, 'command', act.command) as subject
from sd_policy as pol
join pg_catalog.pg_class as rel on rel.oid = pol.polrelid
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
-- a policy for PUBLIC (role 0) applies to every role
join pg_catalog.pg_roles as rol on rol.oid = any (pol.polroles) or pol.polroles = array[0]::pg_catalog.oid[]
cross join lateral pg_catalog.unnest(case pol.polcmd
    when 'r' then array['SELECT']
    when 'a' then array['INSERT']
    when 'w' then array['UPDATE']
    when 'd' then array['DELETE']
    else array['SELECT', 'INSERT', 'UPDATE', 'DELETE']
end) as act(command)
where rel.relkind = 'r'
    and pol.polpermissive
    and nsp.nspname not in (select nspname from sd_internal)
    and not exists (select from sd_extension_object as ext where ext.objid = rel.oid)
    -- roles policies never reach: built-in, the platform's admins, and those that bypass row level security
    and rol.rolname not like 'pg_%'
    and rol.rolname not like 'supabase%admin'
    and not rol.rolbypassrls
group by nsp.nspname, rel.relname, rol.rolname, act.command
having pg_catalog.count(*) > 1
