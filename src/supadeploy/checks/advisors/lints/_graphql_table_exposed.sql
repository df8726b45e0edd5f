-- With pg_graphql installed, a relation any of whose columns an API role (anon or authenticated) may
-- select appears in the GraphQL schema's introspection: its name, columns and relationships are visible
-- to that role (even with row level security on). Shared by pg_graphql_anon_table_exposed and
-- pg_graphql_authenticated_table_exposed (lints/_sql.for_role fills the role and the lint id).
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    case rel.relkind when 'r' then 'table' when 'v' then 'view' when 'm' then 'materialized view'
                     else 'foreign table' end as object_type,
    null as discriminator,
    pg_catalog.format('%s %I.%I is visible to %s in the GraphQL schema (%s may select it)',
        case rel.relkind when 'r' then 'table' when 'v' then 'view' when 'm' then 'materialized view'
                         else 'foreign table' end, nsp.nspname, rel.relname, api.rolname, api.rolname) as detail,
    pg_catalog.format('%s_%s_%s', @LINT@, nsp.nspname, rel.relname) as cache_key,
    null as subject
from pg_catalog.pg_class as rel
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
join sd_api_role as api on api.rolname = @ROLE@
where rel.relkind in ('r', 'v', 'm', 'f')
    and exists (select from pg_catalog.pg_extension where extname = 'pg_graphql')
    and nsp.nspname not in (select nspname from sd_internal)
    and exists (
        select
        from pg_catalog.pg_attribute as att
        where att.attrelid = rel.oid
            and att.attnum > 0
            and not att.attisdropped
            and pg_catalog.has_column_privilege(api.oid, rel.oid, att.attnum, 'SELECT')
    )
