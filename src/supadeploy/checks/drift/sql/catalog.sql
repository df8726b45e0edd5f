-- Drift: every object a migration can own, read in one request (checks/drift/catalog.py).
--
-- Two statements: the first empties search_path for the rest of this implicit transaction, so every
-- name PostgreSQL deparses (pg_get_expr, pg_get_viewdef, format_type, ...) comes out schema-qualified
-- the same way on any database; the second returns one row with one jsonb column, `result`.
-- A pure read: it works on the Management API's read-only endpoint (as supabase_read_only_user), and
-- every name in it is schema-qualified, as that endpoint requires.
--
-- The scope placeholder (psql's quoted-variable syntax) is replaced by a jsonb literal (checks/drift/scope.py), or given with psql -v scope=...:
--   excluded      LIKE patterns of the schemas the platform and extensions own (not compared)
--   tables        schema<US>name of relations read whole although their schema is excluded
--   relations     schema<US>name of platform relations a migration attached something to
--                 (a policy on storage.objects, a trigger on auth.users): read, then filtered in Python
--   functions     schema<US>name of functions created in an excluded schema
--   types         schema<US>name of types created in an excluded schema
--   schemas       excluded schemas a migration granted on (their grants are compared)
-- <US> is the unit separator, chr(31), which no identifier contains in practice.
SELECT pg_catalog.set_config('search_path', '', true) AS search_path;

WITH scope AS (
  SELECT :'scope'::jsonb AS s
),
member AS (  -- objects created by CREATE EXTENSION belong to the extension, not to a migration
  SELECT d.classid, d.objid FROM pg_catalog.pg_depend d WHERE d.deptype = 'e'
),
owned AS (
  SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n
   WHERE NOT n.nspname LIKE ANY (ARRAY(SELECT pg_catalog.jsonb_array_elements_text(s -> 'excluded') FROM scope))
     AND NOT EXISTS (SELECT FROM member m WHERE m.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                                            AND m.objid = n.oid)
),
named AS (
  SELECT k.kind, k.key FROM scope,
         LATERAL (SELECT 'table' AS kind, pg_catalog.jsonb_array_elements_text(s -> 'tables') AS key
                  UNION ALL SELECT 'relation', pg_catalog.jsonb_array_elements_text(s -> 'relations')
                  UNION ALL SELECT 'function', pg_catalog.jsonb_array_elements_text(s -> 'functions')
                  UNION ALL SELECT 'type', pg_catalog.jsonb_array_elements_text(s -> 'types')
                  UNION ALL SELECT 'schema', pg_catalog.jsonb_array_elements_text(s -> 'schemas')) k
),
rel AS (
  SELECT c.oid, n.nspname,
         (n.oid IN (SELECT oid FROM owned)
          OR n.nspname || pg_catalog.chr(31) || c.relname IN (SELECT key FROM named WHERE kind = 'table')) AS whole
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND NOT EXISTS (SELECT FROM member m WHERE m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                            AND m.objid = c.oid)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d  -- an identity column's sequence is the column's
                      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                        AND d.deptype = 'i')
     AND (n.oid IN (SELECT oid FROM owned)
          OR n.nspname || pg_catalog.chr(31) || c.relname IN (SELECT key FROM named WHERE kind IN ('table', 'relation')))
),
fn AS (
  SELECT p.oid, n.nspname
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT FROM member m WHERE m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                            AND m.objid = p.oid)
     AND (n.oid IN (SELECT oid FROM owned)
          OR n.nspname || pg_catalog.chr(31) || p.proname IN (SELECT key FROM named WHERE kind = 'function'))
),
typ AS (
  SELECT t.oid, n.nspname
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE t.typtype IN ('e', 'd', 'r', 'c')
     AND (t.typtype <> 'c' OR (SELECT k.relkind FROM pg_catalog.pg_class k WHERE k.oid = t.typrelid) = 'c')
     AND NOT EXISTS (SELECT FROM member m WHERE m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                                            AND m.objid = t.oid)
     AND (n.oid IN (SELECT oid FROM owned)
          OR n.nspname || pg_catalog.chr(31) || t.typname IN (SELECT key FROM named WHERE kind = 'type'))
)
SELECT pg_catalog.jsonb_build_object(
  'server_version_num', pg_catalog.current_setting('server_version_num')::int,
  'user', pg_catalog.current_user(),

  'schemas', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'name', n.nspname,
             'whole', n.oid IN (SELECT oid FROM owned),
             'owner', pg_catalog.pg_get_userbyid(n.nspowner),
             'acl', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                             a.privilege_type, a.is_grantable))
                       FROM pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a),
             'comment', pg_catalog.obj_description(n.oid, 'pg_namespace')))
      FROM pg_catalog.pg_namespace n
     WHERE n.oid IN (SELECT oid FROM owned) OR n.nspname IN (SELECT key FROM named WHERE kind = 'schema')),

  'relations', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'schema', r.nspname,
             'name', c.relname,
             'whole', r.whole,
             'kind', c.relkind,
             'owner', pg_catalog.pg_get_userbyid(c.relowner),
             'rls', c.relrowsecurity,
             'force_rls', c.relforcerowsecurity,
             'persistence', c.relpersistence,
             'replica_identity', c.relreplident,
             'options', c.reloptions,
             'partition_key', CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
             'partition_of', (SELECT pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(pc.relname)
                                FROM pg_catalog.pg_inherits i
                                JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
                                JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
                               WHERE i.inhrelid = c.oid AND c.relispartition),
             'partition_bound', CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END,
             'inherits', (SELECT pg_catalog.jsonb_agg(pg_catalog.quote_ident(pn.nspname) || '.'
                                                      || pg_catalog.quote_ident(pc.relname) ORDER BY i.inhseqno)
                            FROM pg_catalog.pg_inherits i
                            JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
                            JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
                           WHERE i.inhrelid = c.oid AND NOT c.relispartition),
             'definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END,
             'depends_on', CASE WHEN c.relkind IN ('v', 'm') THEN (
                 SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_array(dn.nspname, dc.relname))
                   FROM pg_catalog.pg_rewrite rw
                   JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                                              AND d.objid = rw.oid
                                              AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                              AND d.refobjid <> c.oid
                   JOIN pg_catalog.pg_class dc ON dc.oid = d.refobjid
                   JOIN pg_catalog.pg_namespace dn ON dn.oid = dc.relnamespace
                  WHERE rw.ev_class = c.oid) END,
             'sequence', CASE WHEN c.relkind = 'S' THEN (
                 SELECT pg_catalog.jsonb_build_object(
                          -- bigint as text: the Management API answers through JavaScript numbers
                          'type', pg_catalog.format_type(q.seqtypid, NULL), 'start', q.seqstart::text,
                          'increment', q.seqincrement::text, 'min', q.seqmin::text, 'max', q.seqmax::text,
                          'cache', q.seqcache::text, 'cycle', q.seqcycle)
                   FROM pg_catalog.pg_sequence q WHERE q.seqrelid = c.oid) END,
             'owned_by', CASE WHEN c.relkind = 'S' THEN (
                 SELECT pg_catalog.quote_ident(dn.nspname) || '.' || pg_catalog.quote_ident(dc.relname) || '.'
                        || pg_catalog.quote_ident(da.attname)
                   FROM pg_catalog.pg_depend d
                   JOIN pg_catalog.pg_class dc ON dc.oid = d.refobjid
                   JOIN pg_catalog.pg_namespace dn ON dn.oid = dc.relnamespace
                   JOIN pg_catalog.pg_attribute da ON da.attrelid = d.refobjid AND da.attnum = d.refobjsubid
                  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND d.deptype = 'a' AND d.refobjsubid > 0
                  LIMIT 1) END,
             'acl', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                             a.privilege_type, a.is_grantable))
                       FROM pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault(
                              CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a),
             'comment', pg_catalog.obj_description(c.oid, 'pg_class'),
             'columns', (
               SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'name', a.attname,
                        'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                        'not_null', a.attnotnull,
                        'default', CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END,
                        'generated', CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END,
                        'generated_kind', NULLIF(a.attgenerated, ''),
                        'identity', NULLIF(a.attidentity, ''),
                        'collation', CASE WHEN a.attcollation <> t.typcollation THEN
                            pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END,
                        'acl', CASE WHEN a.attacl IS NOT NULL THEN (
                            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                                     CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(x.grantee) END,
                                     x.privilege_type, x.is_grantable))
                              FROM pg_catalog.aclexplode(a.attacl) x) END,
                        'comment', pg_catalog.col_description(c.oid, a.attnum)) ORDER BY a.attnum)
                 FROM pg_catalog.pg_attribute a
                 JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                 LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                 LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
                 LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind <> 'S'),
             'constraints', (
               SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'name', k.conname,
                        'type', k.contype,
                        'definition', pg_catalog.pg_get_constraintdef(k.oid),
                        'inherited', k.conparentid <> 0 OR NOT k.conislocal,
                        'comment', pg_catalog.obj_description(k.oid, 'pg_constraint')) ORDER BY k.conname)
                 FROM pg_catalog.pg_constraint k
                WHERE k.conrelid = c.oid AND k.contype <> 'n'),  -- NOT NULL (a constraint from 18 on) is the column's
             'indexes', (
               SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'name', ic.relname,
                        'definition', pg_catalog.pg_get_indexdef(x.indexrelid),
                        'constraint', EXISTS (SELECT FROM pg_catalog.pg_constraint k
                                               WHERE k.conindid = x.indexrelid AND k.conrelid = c.oid
                                                 AND k.contype IN ('p', 'u', 'x')),
                        'inherited', EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid = x.indexrelid),
                        'valid', x.indisvalid,
                        'comment', pg_catalog.obj_description(x.indexrelid, 'pg_class')) ORDER BY ic.relname)
                 FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
                WHERE x.indrelid = c.oid),
             'triggers', (
               SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'name', g.tgname,
                        'definition', pg_catalog.pg_get_triggerdef(g.oid),
                        'enabled', g.tgenabled,
                        'inherited', g.tgparentid <> 0,
                        'comment', pg_catalog.obj_description(g.oid, 'pg_trigger')) ORDER BY g.tgname)
                 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal),
             'policies', (
               SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'name', p.polname,
                        'permissive', p.polpermissive,
                        'command', p.polcmd,
                        'roles', (SELECT pg_catalog.jsonb_agg(CASE WHEN o = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(o) END)
                                    FROM pg_catalog.unnest(p.polroles) o),
                        'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid),
                        'check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid),
                        'comment', pg_catalog.obj_description(p.oid, 'pg_policy')) ORDER BY p.polname)
                 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)))
      FROM rel r JOIN pg_catalog.pg_class c ON c.oid = r.oid),

  'functions', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'schema', f.nspname,
             'name', p.proname,
             'kind', p.prokind,
             'identity', pg_catalog.pg_get_function_identity_arguments(p.oid),
             'arguments', pg_catalog.pg_get_function_arguments(p.oid),
             'result', pg_catalog.pg_get_function_result(p.oid),
             'language', l.lanname,
             'body', CASE WHEN p.prosqlbody IS NOT NULL THEN pg_catalog.pg_get_function_sqlbody(p.oid) ELSE p.prosrc END,
             'standard_body', p.prosqlbody IS NOT NULL,
             'security_definer', p.prosecdef,
             'volatility', p.provolatile,
             'strict', p.proisstrict,
             'leakproof', p.proleakproof,
             'parallel', p.proparallel,
             'cost', p.procost,
             'rows', p.prorows,
             'config', p.proconfig,
             'owner', pg_catalog.pg_get_userbyid(p.proowner),
             'acl', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                             a.privilege_type, a.is_grantable))
                       FROM pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a),
             'comment', pg_catalog.obj_description(p.oid, 'pg_proc'),
             'ddl', CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END))
      FROM fn f
      JOIN pg_catalog.pg_proc p ON p.oid = f.oid
      JOIN pg_catalog.pg_language l ON l.oid = p.prolang),

  'types', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'schema', y.nspname,
             'name', t.typname,
             'kind', t.typtype,
             'values', CASE WHEN t.typtype = 'e' THEN (
                 SELECT pg_catalog.jsonb_agg(e.enumlabel ORDER BY e.enumsortorder)
                   FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) END,
             'base', CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END,
             'not_null', t.typnotnull,
             'default', CASE WHEN t.typtype = 'd' THEN pg_catalog.pg_get_expr(t.typdefaultbin, 0) END,
             'constraints', CASE WHEN t.typtype = 'd' THEN (
                 SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                          'name', k.conname, 'definition', pg_catalog.pg_get_constraintdef(k.oid)) ORDER BY k.conname)
                   FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid AND k.contype <> 'n') END,
             'attributes', CASE WHEN t.typtype = 'c' THEN (
                 SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                          a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END,
             'subtype', CASE WHEN t.typtype = 'r' THEN (
                 SELECT pg_catalog.format_type(g.rngsubtype, NULL) FROM pg_catalog.pg_range g
                  WHERE g.rngtypid = t.oid) END,
             'owner', pg_catalog.pg_get_userbyid(t.typowner),
             'acl', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                             a.privilege_type, a.is_grantable))
                       FROM pg_catalog.aclexplode(coalesce(t.typacl, pg_catalog.acldefault('T', t.typowner))) a),
             'comment', pg_catalog.obj_description(t.oid, 'pg_type')))
      FROM typ y JOIN pg_catalog.pg_type t ON t.oid = y.oid),

  'extensions', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'name', e.extname, 'schema', n.nspname, 'version', e.extversion))
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace),

  'publications', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'name', p.pubname,
             'owner', pg_catalog.pg_get_userbyid(p.pubowner),
             'all_tables', p.puballtables,
             'insert', p.pubinsert, 'update', p.pubupdate, 'delete', p.pubdelete, 'truncate', p.pubtruncate,
             'via_root', p.pubviaroot,
             'tables', (
               SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'schema', n.nspname,
                        'name', c.relname,
                        'where', pg_catalog.pg_get_expr(pr.prqual, pr.prrelid),
                        'columns', (SELECT pg_catalog.jsonb_agg(a.attname ORDER BY a.attnum)
                                      FROM pg_catalog.pg_attribute a
                                     WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs::int2[]))))
                 FROM pg_catalog.pg_publication_rel pr
                 JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE pr.prpubid = p.oid),
             'schemas', (
               SELECT pg_catalog.jsonb_agg(n.nspname)
                 FROM pg_catalog.pg_publication_namespace pn
                 JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid
                WHERE pn.pnpubid = p.oid),
             'comment', pg_catalog.obj_description(p.oid, 'pg_publication')))
      FROM pg_catalog.pg_publication p),

  'default_privileges', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'role', pg_catalog.pg_get_userbyid(d.defaclrole),
             'schema', n.nspname,
             'type', d.defaclobjtype,
             'acl', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                             a.privilege_type, a.is_grantable))
                       FROM pg_catalog.aclexplode(d.defaclacl) a)))
      FROM pg_catalog.pg_default_acl d
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace)
) AS result;
