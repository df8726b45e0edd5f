-- A policy that reads user_metadata from the JWT: every user can edit their own user_metadata, so it
-- must never decide access.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    pol.polname as discriminator,
    pg_catalog.format('policy %I on %I.%I trusts user_metadata from the JWT, which every user can edit',
        pol.polname, nsp.nspname, rel.relname) as detail,
    pg_catalog.format('rls_references_user_metadata_%s_%s_%s', nsp.nspname, rel.relname, pol.polname) as cache_key,
    pg_catalog.jsonb_build_object('policies', pg_catalog.jsonb_build_array(pol.polname)) as subject
from sd_policy as pol
join pg_catalog.pg_class as rel on rel.oid = pol.polrelid
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where nsp.nspname not in (select nspname from sd_internal)
    and exists (
        select
        from (values (pol.using_expr), (pol.check_expr)) as expr(text)
        where expr.text like '%auth.jwt()%user_metadata%'
            or expr.text like '%current_setting(%request.jwt.claims%)%user_metadata%'
    )
