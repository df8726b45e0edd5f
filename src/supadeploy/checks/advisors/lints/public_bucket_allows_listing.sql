-- A public Storage bucket with a broad SELECT policy on storage.objects: public object URLs work without
-- one, and with it any client can list every file in the bucket. storage.buckets is read through
-- table_to_xml so that the query still runs where Storage is not installed, or not readable.
with buckets_table as (
    select rel.oid
    from pg_catalog.pg_class as rel
    join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
    where nsp.nspname = 'storage'
        and rel.relname = 'buckets'
        and pg_catalog.has_schema_privilege(nsp.oid, 'USAGE')
        and pg_catalog.has_table_privilege(rel.oid, 'SELECT')
),
bucket as (
    select b.id, b.name
    from buckets_table
    cross join lateral xmltable('/*/row'
        passing pg_catalog.table_to_xml(buckets_table.oid::pg_catalog.regclass, true, false, '')
        columns id pg_catalog.text path 'id', name pg_catalog.text path 'name', public pg_catalog.bool path 'public'
    ) as b
    where b.public
),
listing as (
    select pol.polname, pol.using_expr
    from sd_policy as pol
    join pg_catalog.pg_class as rel on rel.oid = pol.polrelid
    join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
    where nsp.nspname = 'storage'
        and rel.relname = 'objects'
        and pol.polcmd in ('r', '*')
        and pol.polpermissive
        and (
            0 = any (pol.polroles)
            or exists (
                select
                from pg_catalog.unnest(pol.polroles) as r
                join pg_catalog.pg_roles as rol on rol.oid = r
                where rol.rolname in ('anon', 'authenticated')
            )
        )
)
select
    'storage' as schema_name,
    bucket.name as object_name,
    'bucket' as object_type,
    bucket.id as discriminator,
    pg_catalog.format('public bucket %s has %s broad SELECT %s on storage.objects (%s): any client can list its files',
        pg_catalog.quote_literal(bucket.name), pg_catalog.count(*),
        case when pg_catalog.count(*) = 1 then 'policy' else 'policies' end,
        pg_catalog.string_agg(pg_catalog.quote_ident(listing.polname), ', ' order by listing.polname)) as detail,
    pg_catalog.format('public_bucket_allows_listing_%s', bucket.id) as cache_key,
    pg_catalog.jsonb_build_object('policies', pg_catalog.jsonb_agg(listing.polname order by listing.polname),
        'bucket', bucket.id, 'relation', pg_catalog.jsonb_build_array('storage', 'objects')) as subject
from bucket
join listing on
    listing.using_expr is null
    or pg_catalog.translate(pg_catalog.lower(listing.using_expr), E' \n\t', '') in ('true', '(true)', '1=1', '(1=1)')
    -- only this bucket, as PostgreSQL deparses it: (bucket_id = 'avatars'::text)
    or pg_catalog.replace((pg_catalog.regexp_match(listing.using_expr,
        '^\s*\(*\s*bucket_id\s*=\s*''((?:[^'']|'''')*)''(?:\s*::\s*[[:alnum:]_.]+)?\s*\)*\s*$', 'i'))[1],
        '''''', '''') = bucket.id
group by bucket.id, bucket.name
