-- A table the Data API serves without row level security that has columns named like secrets or
-- personal data (passwords, tokens, card numbers, national ids...).
select
    nsp.nspname as schema_name,
    rel.relname as object_name,
    'table' as object_type,
    null as discriminator,
    pg_catalog.format('table %I.%I is served without row level security and has sensitive columns: %s',
        nsp.nspname, rel.relname, pg_catalog.string_agg(distinct att.attname, ', ')) as detail,
    pg_catalog.format('sensitive_columns_exposed_%s_%s', nsp.nspname, rel.relname) as cache_key,
    pg_catalog.jsonb_build_object('columns', pg_catalog.jsonb_agg(distinct att.attname)) as subject
from pg_catalog.pg_class as rel
join pg_catalog.pg_namespace as nsp on nsp.oid = rel.relnamespace
join pg_catalog.pg_attribute as att on att.attrelid = rel.oid and att.attnum > 0 and not att.attisdropped
where rel.relkind = 'r'
    and not rel.relrowsecurity
    and nsp.nspname in (select nspname from sd_exposed)
    and nsp.nspname not in (select nspname from sd_internal)
    and exists (select from sd_api_role as api where pg_catalog.has_table_privilege(api.oid, rel.oid, 'SELECT'))
    and pg_catalog.replace(pg_catalog.lower(att.attname), '-', '_') = any (array[
        -- credentials
        'password', 'passwd', 'pwd', 'passphrase', 'secret', 'secret_key', 'private_key', 'api_key', 'apikey',
        'auth_key', 'token', 'jwt', 'access_token', 'refresh_token', 'oauth_token', 'session_token',
        'bearer_token', 'auth_code', 'session_id', 'session_key', 'session_secret', 'recovery_code',
        'backup_code', 'verification_code', 'otp', 'two_factor', '2fa_secret', '2fa_code',
        -- identity documents
        'ssn', 'social_security', 'social_security_number', 'driver_license', 'drivers_license',
        'license_number', 'passport_number', 'passport_id', 'national_id', 'tax_id',
        -- money
        'credit_card', 'card_number', 'cvv', 'cvc', 'cvn', 'bank_account', 'account_number', 'routing_number',
        'iban', 'swift_code', 'bic',
        -- health
        'health_record', 'medical_record', 'patient_id', 'insurance_number', 'health_insurance',
        'medical_insurance', 'treatment',
        -- devices, keys, biometrics
        'mac_address', 'macaddr', 'imei', 'device_uuid', 'pgp_key', 'gpg_key', 'ssh_key', 'certificate',
        'license_key', 'activation_key', 'facial_recognition'
    ]::pg_catalog.text[])
group by nsp.nspname, rel.relname
