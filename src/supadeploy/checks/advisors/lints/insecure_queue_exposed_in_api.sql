-- A Supabase Queues (pgmq) queue table readable by anon or authenticated without row level security,
-- while pgmq_public (the queues' Data API schema) is exposed: anyone can read and take the messages.
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    null as discriminator,
    pg_catalog.format('queue table %I.%I has no row level security and pgmq_public is exposed', nsp.nspname,
        rel.relname) as detail,
    -- Supabase keys this lint like rls_disabled_in_public
    pg_catalog.format('rls_disabled_in_public_%s_%s', nsp.nspname, rel.relname) as cache_key,
    null as subject
from pg_catalog.pg_class as rel
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
where rel.relkind in ('r', 'I')
    and not rel.relrowsecurity
    and nsp.nspname = 'pgmq'
    and rel.relname like 'q_%'
    and 'pgmq_public' in (select nspname from sd_exposed)
    and exists (select from sd_api_role as api where pg_catalog.has_table_privilege(api.oid, rel.oid, 'SELECT'))
