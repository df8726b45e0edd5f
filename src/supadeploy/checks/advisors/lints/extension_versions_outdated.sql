-- An extension installed at another version than the one the server would install by default.
select
    nsp.nspname as schema_name,
    avail.name as object_name,
    'extension' as object_type,
    null as discriminator,
    pg_catalog.format('extension %I is at version %s; version %s is available (ALTER EXTENSION %I UPDATE)',
        avail.name, avail.installed_version, avail.default_version, avail.name) as detail,
    pg_catalog.format('extension_versions_outdated_%s_%s', avail.name, avail.installed_version) as cache_key,
    null as subject
from pg_catalog.pg_available_extensions as avail
join pg_catalog.pg_extension as ext on ext.extname = avail.name
join pg_catalog.pg_namespace as nsp on nsp.oid = ext.extnamespace
where avail.installed_version is not null
    and avail.default_version is not null
    and avail.installed_version <> avail.default_version
    -- a version the server no longer ships (left by pg_upgrade) is not an update that can be made
    and exists (
        select from pg_catalog.pg_available_extension_versions as v where v.name = avail.name and v.installed
    )
