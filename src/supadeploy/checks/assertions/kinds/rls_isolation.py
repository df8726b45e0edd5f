"""rls_isolation: profile isolation: user A sees only A's rows and cannot change or insert B's; anon sees nothing."""

from __future__ import annotations

import json
from typing import Any

from ....sqltext import literal
from .. import sql
from ..kind import Fixture

ID = "rls_isolation"
DESCRIPTION = "Profile isolation: user A sees only A's rows and cannot change or insert B's; anon sees nothing."
DOCS = "docs/assertions.md#checks"
REQUIRED = ('tables', 'seed')
OPTIONAL = ("owner_column", "owner_columns")
_NOTES = ("create table public.notes (id uuid primary key default gen_random_uuid(), "
          "profile_id uuid not null references auth.users (id), body text);\n"
          "create policy own on public.notes for all to authenticated using (profile_id = auth.uid()) "
          "with check (profile_id = auth.uid());\n"
          "grant select, insert, update, delete on public.notes to authenticated;")
_NOTES_SPEC = {"tables": ["notes"], "seed": f"insert into public.notes (profile_id, body) values "
                                             f"('{sql.USER_A}', 'a'), ('{sql.USER_B}', 'b')"}
# Keys the database makes itself: an identity ALWAYS key, a generated column, a serial key.
_ENTRIES = ("create table public.entries (id bigint generated always as identity primary key, "
            "profile_id uuid not null references auth.users (id), words int not null, "
            "doubled int generated always as (words * 2) stored, seq bigserial);\n"
            "create policy own on public.entries for all to authenticated using (profile_id = auth.uid()) "
            "with check (profile_id = auth.uid());\n"
            "grant select, insert, update, delete on public.entries to authenticated;")
_ENTRIES_SPEC = {"tables": ["entries"], "seed": f"insert into public.entries (profile_id, words) values "
                                                 f"('{sql.USER_A}', 1), ('{sql.USER_B}', 2)"}
FIXTURES = (
    Fixture(_NOTES + "\nalter table public.notes enable row level security;", _NOTES_SPEC, passes=True),
    Fixture(_NOTES, _NOTES_SPEC, passes=False),  # the policy exists, but RLS is off: A sees B's rows
    Fixture(_ENTRIES + "\nalter table public.entries enable row level security;", _ENTRIES_SPEC, passes=True),
    Fixture(_ENTRIES, _ENTRIES_SPEC, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    owner_columns = spec.get("owner_columns", {})
    return sql.USERS + f"""
    EXECUTE {literal(spec['seed'])};
    n := 0;
    FOREACH t IN ARRAY {sql.array(spec['tables'])} LOOP
      n := n + 1;
      col := coalesce(({literal(json.dumps(owner_columns))}::jsonb) ->> t, {literal(spec.get('owner_column', 'profile_id'))});
      EXECUTE format('SELECT to_jsonb(x) FROM public.%I x WHERE %I = $1 LIMIT 1', t, col) INTO row_b USING '{sql.USER_B}'::uuid;
      IF row_b IS NULL THEN
        bad := concat_ws('; ', bad, t || ': the seed has no row of user B'); obj := coalesce(obj, t); CONTINUE;
      END IF;
      -- B's row again, as a copy: identity and generated columns take their own values (inserting into
      -- GENERATED ALWAYS fails with 428C9, not RLS's 42501), and so does an `id` with a default
      SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
       WHERE attrelid = ('public.' || quote_ident(t))::regclass AND attnum > 0 AND NOT attisdropped
         AND attgenerated = '' AND attidentity = '' AND NOT (attname = 'id' AND col <> 'id' AND atthasdef);
      IF col <> 'id' AND (SELECT atttypid FROM pg_attribute WHERE attrelid = ('public.' || quote_ident(t))::regclass
                            AND attname = 'id' AND NOT attisdropped) = 'uuid'::regtype THEN
        row_b := row_b || jsonb_build_object('id', gen_random_uuid());
      END IF;
      PERFORM set_config('role', 'authenticated', true);
      PERFORM set_config('request.jwt.claims', '{{"sub": "{sql.USER_A}", "role": "authenticated"}}', true);
      BEGIN
        EXECUTE format('SELECT count(*) FILTER (WHERE %I = $1), count(*) FILTER (WHERE %I IS DISTINCT FROM $1) FROM public.%I', col, col, t)
          INTO own, other USING '{sql.USER_A}'::uuid;
        IF other > 0 THEN bad := concat_ws('; ', bad, format('%s: user A sees %s row(s) of other users', t, other)); obj := coalesce(obj, t); END IF;
        IF own = 0 THEN bad := concat_ws('; ', bad, format('%s: user A cannot see their own row', t)); obj := coalesce(obj, t); END IF;
      EXCEPTION WHEN insufficient_privilege THEN
        bad := concat_ws('; ', bad, format('%s: user A cannot read the table (%s)', t, SQLERRM)); obj := coalesce(obj, t);
      END;
      BEGIN
        EXECUTE format('UPDATE public.%I SET %I = %I WHERE %I = $1', t, col, col, col) USING '{sql.USER_B}'::uuid;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed > 0 THEN bad := concat_ws('; ', bad, format('%s: user A updated %s row(s) of user B', t, changed)); obj := coalesce(obj, t); END IF;
      EXCEPTION WHEN insufficient_privilege THEN NULL;
      END;
      BEGIN
        EXECUTE format('DELETE FROM public.%I WHERE %I = $1', t, col) USING '{sql.USER_B}'::uuid;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed > 0 THEN bad := concat_ws('; ', bad, format('%s: user A deleted %s row(s) of user B', t, changed)); obj := coalesce(obj, t); END IF;
      EXCEPTION WHEN insufficient_privilege THEN NULL;
      END;
      BEGIN
        EXECUTE format('INSERT INTO public.%I (%s) SELECT %s FROM jsonb_populate_record(NULL::public.%I, $1)', t, cols, cols, t) USING row_b;
        bad := concat_ws('; ', bad, format('%s: user A inserted a row for user B', t)); obj := coalesce(obj, t);
      EXCEPTION WHEN insufficient_privilege THEN NULL;
        WHEN OTHERS THEN
          bad := concat_ws('; ', bad, format('%s: inserting a row for user B failed with %s (%s), not with 42501', t, SQLSTATE, SQLERRM));
          obj := coalesce(obj, t);
      END;
      PERFORM set_config('role', 'anon', true);
      PERFORM set_config('request.jwt.claims', '{{"role": "anon"}}', true);
      BEGIN
        EXECUTE format('SELECT count(*) FROM public.%I', t) INTO other;
        IF other > 0 THEN bad := concat_ws('; ', bad, format('%s: anon sees %s row(s)', t, other)); obj := coalesce(obj, t); END IF;
      EXCEPTION WHEN insufficient_privilege THEN NULL;
      END;
      PERFORM set_config('role', 'none', true);
    END LOOP;
    ok := bad IS NULL;
    msg := CASE WHEN ok THEN format('profile isolation holds on %s tables (read, insert, update, delete; anon sees nothing)', n)
                ELSE bad END;"""
