-- An extension installed in public, where its objects share the Data API's schema (plpgsql lives there
-- by default and is left alone).
select
    'public' as schema_name,
    ext.extname as object_name,
    'extension' as object_type,
    null as discriminator,
    pg_catalog.format('extension %I is installed in schema public; move it to another schema (extensions)',
        ext.extname) as detail,
    pg_catalog.format('extension_in_public_%s', ext.extname) as cache_key,
    null as subject
from pg_catalog.pg_extension as ext
where ext.extname <> 'plpgsql'
    and ext.extnamespace::pg_catalog.regnamespace::pg_catalog.text = 'public'
