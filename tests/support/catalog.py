"""A comparable picture of what migrations built: schemas, relations, owners, columns, indexes, policies.

Read with plain catalog queries, so two databases (one deployed by the Supabase
CLI, one by supadeploy; PostgreSQL 15 or 18) can be compared for equality.
supadeploy's own side tables are left out; history rows are compared on their own.
"""

from __future__ import annotations

from typing import Any

USER_SCHEMAS = ("SELECT n.oid FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%' "
                "AND n.nspname NOT IN ('information_schema', 'supabase_migrations')")

QUERIES = {
    "schemas": f"SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE oid IN ({USER_SCHEMAS}) ORDER BY 1",
    "relations": "SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relrowsecurity "
                 f"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.oid IN ({USER_SCHEMAS}) "
                 "ORDER BY 1, 2",
    "columns": "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
               "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
               "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d "
               "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
               f"WHERE n.oid IN ({USER_SCHEMAS}) AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v') "
               "ORDER BY 1, 2, a.attnum",
    "indexes": "SELECT n.nspname, i.relname, x.indisvalid, pg_get_indexdef(x.indexrelid) FROM pg_index x "
               "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace "
               f"WHERE n.oid IN ({USER_SCHEMAS}) ORDER BY 1, 2",
    "functions": "SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_userbyid(p.proowner) "
                 f"FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.oid IN ({USER_SCHEMAS}) "
                 "ORDER BY 1, 2, 3",
    "policies": "SELECT schemaname, tablename, policyname, cmd, roles::text, qual, with_check FROM pg_policies "
                "ORDER BY 1, 2, 3",
    "publications": "SELECT p.pubname, pg_get_userbyid(p.pubowner), "
                    "(SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY 1) FROM pg_publication_tables t "
                    "WHERE t.pubname = p.pubname) FROM pg_publication p ORDER BY 1",
    "grants": "SELECT table_schema, table_name, grantee, string_agg(privilege_type, ',' ORDER BY privilege_type) "
              "FROM information_schema.role_table_grants WHERE table_schema NOT IN ('pg_catalog', 'information_schema', "
              "'supabase_migrations') GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
}

HISTORY = "SELECT version, coalesce(name, ''), statements FROM supabase_migrations.schema_migrations ORDER BY 1"


def catalog(db: Any) -> dict[str, list[tuple]]:
    return {name: db.query(sql, superuser=True) for name, sql in QUERIES.items()}


def history_rows(db: Any) -> list[tuple]:
    return db.query(HISTORY, superuser=True)


def differences(left: dict[str, list[tuple]], right: dict[str, list[tuple]]) -> dict[str, Any]:
    """Only what differs, per section: easier to read in a failing assertion than two whole catalogs."""
    out = {}
    for name in QUERIES:
        a, b = set(left[name]), set(right[name])
        if a != b:
            out[name] = {"only_left": sorted(a - b, key=str)[:10], "only_right": sorted(b - a, key=str)[:10]}
    return out
