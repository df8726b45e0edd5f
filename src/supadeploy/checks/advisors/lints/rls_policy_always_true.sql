-- A permissive policy for anon, authenticated or everyone whose USING (on UPDATE, DELETE, ALL) or WITH
-- CHECK is always true, or missing where that means the same: row level security in name only.
-- SELECT with USING (true) is left alone: public read access is usually meant.
with candidate as (
    select
        nsp.nspname,
        rel.relname,
        pol.polname,
        pol.polcmd,
        pol.using_expr,
        pol.check_expr,
        pg_catalog.translate(pg_catalog.lower(coalesce(pol.using_expr, '')), E' \n\t', '')
            in ('true', '(true)', '1=1', '(1=1)') as using_true,
        pg_catalog.translate(pg_catalog.lower(coalesce(pol.check_expr, '')), E' \n\t', '')
            in ('true', '(true)', '1=1', '(1=1)') as check_true,
        (select pg_catalog.string_agg(case when r = 0 then 'public' else r::pg_catalog.regrole::pg_catalog.text end, ', ')
         from pg_catalog.unnest(pol.polroles) as r) as roles
    from sd_policy as pol
    join pg_catalog.pg_class as rel on rel.oid = pol.polrelid
    join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
    where rel.relkind = 'r'
        and rel.relrowsecurity
        and pol.polpermissive
        and nsp.nspname not in (select nspname from sd_internal)
        and (
            pol.polroles = array[0]::pg_catalog.oid[]
            or exists (
                select
                from pg_catalog.unnest(pol.polroles) as r
                join pg_catalog.pg_roles as rol on rol.oid = r
                where rol.rolname in ('anon', 'authenticated')
            )
        )
),
judged as (
    select
        c.*,
        c.polcmd in ('w', 'd', '*') and (c.using_true or c.using_expr is null) as open_using,
        c.check_true
            or (c.check_expr is null and c.polcmd = 'a')
            or (c.check_expr is null and c.polcmd in ('w', '*') and c.using_true) as open_check
    from candidate as c
)
select
    j.nspname as schema_name,
    j.relname as object_name,
    'table' as object_type,
    j.polname as discriminator,
    pg_catalog.format('policy %I on %I.%I lets %s %s any row (%s)', j.polname, j.nspname, j.relname, j.roles,
        case j.polcmd when 'a' then 'insert' when 'w' then 'update' when 'd' then 'delete' else 'change' end,
        case
            when j.open_using and j.open_check then 'USING and WITH CHECK are always true'
            when j.open_using then 'USING is always true'
            else 'WITH CHECK is always true'
        end) as detail,
    pg_catalog.format('rls_policy_always_true_%s_%s_%s', j.nspname, j.relname, j.polname) as cache_key,
    pg_catalog.jsonb_build_object('policies', pg_catalog.jsonb_build_array(j.polname),
        'command', case j.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE'
                                 when 'd' then 'DELETE' else 'ALL' end) as subject
from judged as j
where j.open_using or j.open_check
