"""fk_indexed: every foreign key of the matching tables has an index whose leading columns are its columns."""

from __future__ import annotations

from typing import Any

from .. import sql
from ..kind import Fixture

ID = "fk_indexed"
DESCRIPTION = 'Every foreign key of the matching tables has an index whose leading columns are its columns.'
DOCS = "docs/assertions.md#checks"
REQUIRED = ()
OPTIONAL = sql.TABLE_SELECTION
_PARENT_CHILD = ("create table public.parent (id bigint primary key);\n"
                 "create table public.child (id bigint primary key, parent_id bigint references public.parent (id));")
FIXTURES = (
    Fixture(_PARENT_CHILD + "\ncreate index child_parent on public.child (parent_id);", {"tables": ["child"]},
            passes=True),
    Fixture(_PARENT_CHILD, {"tables": ["child"]}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    return f"""
    n := 0;
    FOR rec IN
      SELECT t.relname, k.conname, k.conrelid, k.conkey FROM pg_constraint k
        JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace s ON s.oid = t.relnamespace
       WHERE k.contype = 'f' AND s.nspname = {sql.schema(spec)} AND {sql.tables_filter(spec, 't.relname')}
       ORDER BY t.relname, k.conname
    LOOP
      n := n + 1;
      IF NOT EXISTS (
        SELECT 1 FROM pg_index i
         WHERE i.indrelid = rec.conrelid AND i.indpred IS NULL
           AND (SELECT array_agg(x ORDER BY x) FROM unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(rec.conkey)]) x)
             = (SELECT array_agg(x ORDER BY x) FROM unnest(rec.conkey) x)
      ) THEN
        bad := concat_ws(', ', bad, rec.relname || '.' || rec.conname);
        obj := coalesce(obj, rec.relname);
      END IF;
    END LOOP;
    ok := n > 0 AND bad IS NULL;
    msg := CASE WHEN n = 0 THEN 'no foreign key matches' WHEN bad IS NULL THEN format('%s foreign keys, all covered by an index', n)
                ELSE 'foreign keys without a covering index: ' || bad END;"""
