"""Post-deploy assertions: a YAML file compiled into ONE SQL request.

Every assertion becomes a block of one PL/pgSQL function in `pg_temp`. Each
block runs in its own sub-transaction (BEGIN ... EXCEPTION) and always ends by
raising, so whatever it did (test users, rows, role switches) is rolled back;
its verdict travels in the exception's DETAIL. The request is `CREATE
FUNCTION; SELECT it; DROP it`: one round trip on every target, and the rows of
its only result set are what the Management API returns. See docs/assertions.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import AssertionFileError, AssertionsFailed, Problem
from .migrations import MigrationSet, shown_path
from .apply import GATE_FAILED
from .sqltext import literal

USER_A = "00000000-0000-4000-8000-00000000000a"
USER_B = "00000000-0000-4000-8000-00000000000b"
PRIVILEGES = ("DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE")
VERDICT = "SD010"


@dataclass(frozen=True)
class Assertion:
    name: str
    kind: str
    spec: dict[str, Any]
    line: int
    file: str


@dataclass
class AssertionResult:
    name: str
    kind: str
    passed: bool
    message: str
    object: str | None = None
    file: str | None = None  # where the object was created (migration), else the assertion file
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


# --- loading -----------------------------------------------------------------

class _LineLoader:
    """PyYAML SafeLoader that records each mapping's line as '__line__'."""

    @staticmethod
    def make() -> type:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def construct_mapping(loader: Any, node: Any, deep: bool = False) -> dict:
            mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
            mapping["__line__"] = node.start_mark.line + 1
            return mapping

        Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
        return Loader


def load_assertions(path: Path, shown: str | None = None) -> list[Assertion]:
    import yaml

    shown = shown or path.as_posix()
    if not path.is_file():
        raise AssertionFileError(f"assertion file not found: {shown}")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader.make())  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise AssertionFileError(f"{shown}: invalid YAML", [Problem(
            f"invalid YAML: {exc.problem}", file=shown, line=line, title="Invalid assertion file")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AssertionFileError(f"{shown}: invalid YAML", [Problem(
            f"invalid YAML: {exc}", file=shown, title="Invalid assertion file")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("assertions"), list):
        raise AssertionFileError(f"{shown}: expected a mapping with an 'assertions' list", [Problem(
            "expected a mapping with an 'assertions' list", file=shown, line=1, title="Invalid assertion file")])
    problems: list[Problem] = []
    assertions: list[Assertion] = []
    names: set[str] = set()
    for item in data["assertions"]:
        line = item.get("__line__") if isinstance(item, dict) else None
        if not isinstance(item, dict):
            problems.append(Problem("each assertion must be a mapping with a name and one check",
                                    file=shown, title="Invalid assertion"))
            continue
        kinds = [k for k in item if k in CHECKS]
        unknown = [k for k in item if k not in CHECKS and k not in ("name", "__line__")]
        name = item.get("name")
        if unknown:
            problems.append(Problem(f"unknown check {unknown[0]!r}; expected one of: {', '.join(sorted(CHECKS))}",
                                    file=shown, line=line, title="Unknown check"))
            continue
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem("every assertion needs a 'name'", file=shown, line=line,
                                    title="Invalid assertion"))
            continue
        if name in names:
            problems.append(Problem(f"duplicate assertion name {name!r}", file=shown, line=line,
                                    title="Invalid assertion"))
            continue
        if len(kinds) != 1:
            problems.append(Problem(f"assertion {name!r} must have exactly one check, found {len(kinds)}",
                                    file=shown, line=line, title="Invalid assertion"))
            continue
        spec = item[kinds[0]]
        error = _validate(kinds[0], spec)
        if error:
            problems.append(Problem(f"assertion {name!r} ({kinds[0]}): {error}", file=shown,
                                    line=spec.get("__line__", line) if isinstance(spec, dict) else line,
                                    title="Invalid assertion"))
            continue
        names.add(name)
        assertions.append(Assertion(name, kinds[0], {k: v for k, v in spec.items() if k != "__line__"},
                                    line or 1, shown))
    if problems:
        raise AssertionFileError(f"{len(problems)} problem(s) in {shown}", problems)
    return assertions


def _validate(kind: str, spec: Any) -> str | None:
    """Every option checked for its type here, so a bad file is refused before any database is touched."""
    if not isinstance(spec, dict):
        return "expected a mapping of options"
    required, optional = SCHEMAS[kind]
    missing = [k for k in required if k not in spec]
    if missing:
        return f"missing {', '.join(missing)}"
    unknown = [k for k in spec if k not in required and k not in optional and k != "__line__"]
    if unknown:
        return f"unknown option {unknown[0]!r}; expected: {', '.join(required + optional)}"
    for key, value in spec.items():
        if key == "__line__":
            continue
        check, expected = OPTION_TYPES[key]
        if not check(value):
            return f"option {key!r} must be {expected}, not {type(value).__name__} {str(value)[:60]!r}"
    try:
        CHECKS[kind]({k: v for k, v in spec.items() if k != "__line__"})
    except (AssertionFileError, KeyError, TypeError, ValueError) as exc:
        return str(exc.problems[0].message if isinstance(exc, AssertionFileError) else exc)
    return None


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and "\x00" not in value


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(_is_text(v) for v in value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and value is not None


OPTION_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "equals": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "schema": (_is_text, "a name"), "pattern": (_is_text, "a LIKE pattern"), "table": (_is_text, "a table name"),
    "name": (_is_text, "a name"), "type": (_is_text, "a type as format_type prints it"),
    "generated": (_is_text, "an expression"), "column": (_is_text, "a column name"),
    "references": (_is_text, "a table name"), "role": (_is_text, "a role name"), "seed": (_is_text, "SQL"),
    "sql": (_is_text, "SQL"), "setup": (_is_text, "SQL"), "query": (_is_text, "SQL"), "object": (_is_text, "a name"),
    "owner_column": (_is_text, "a column name"),
    "tables": (_is_texts, "a list of table names"), "exclude": (_is_texts, "a list of table names"),
    "labels": (_is_texts, "a list of labels"),
    "privileges": (lambda v: _is_texts(v) and all(p.upper() in PRIVILEGES + ("ALL",) for p in v),
                   f"a list of privileges ({', '.join(PRIVILEGES)} or ALL)"),
    "owner_columns": (lambda v: isinstance(v, dict) and all(_is_text(k) and _is_text(c) for k, c in v.items()
                                                            if k != "__line__"), "a mapping of table → column"),
    "default": (_is_scalar, "a value"), "expect": (_is_scalar, "a number, boolean or text"),
    "not_null": (lambda v: isinstance(v, bool), "true or false"), "users": (lambda v: isinstance(v, bool), "true or false"),
    "sqlstate": (lambda v: isinstance(v, str) and re.fullmatch(r"[0-9A-Z]{5}", v) is not None, "a 5-character SQLSTATE"),
    "as": (lambda v: v in ("anon", "authenticated", "service_role"), "anon, authenticated or service_role"),
    "user": (lambda v: v in ("a", "b"), "a or b"),
}


# --- compiling: one PL/pgSQL block per check -----------------------------------

def _tables_filter(spec: dict[str, Any], column: str = "c.relname") -> str:
    """SQL condition selecting tables by `tables` list or `pattern` (LIKE), minus `exclude`."""
    parts = []
    if "tables" in spec:
        parts.append(f"{column} = ANY ({_array(spec['tables'])})")
    if "pattern" in spec:
        parts.append(f"{column} LIKE {literal(spec['pattern'])}")
    condition = "(" + " OR ".join(parts or ["true"]) + ")"
    if spec.get("exclude"):
        condition += f" AND NOT {column} = ANY ({_array(spec['exclude'])})"
    return condition


def _array(values: list[Any]) -> str:
    return "ARRAY[" + ", ".join(literal(str(v)) for v in values) + "]::text[]" if values else "ARRAY[]::text[]"


def _schema(spec: dict[str, Any]) -> str:
    return literal(spec.get("schema", "public"))


def _regclass(spec: dict[str, Any], key: str = "table") -> str:
    name = spec[key]
    qualified = name if "." in name else f"{spec.get('schema', 'public')}.{name}"
    return f"to_regclass({literal(qualified)})"


def _c_table_count(spec: dict[str, Any]) -> str:
    return f"""
    SELECT count(*) INTO n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND s.nspname = {_schema(spec)} AND {_tables_filter(spec)};
    ok := n = {int(spec['equals'])};
    msg := format('%s tables match, expected {int(spec['equals'])}', n);"""


def _c_rls_enabled(spec: dict[str, Any]) -> str:
    return f"""
    SELECT count(*), string_agg(c.relname, ', ' ORDER BY c.relname) FILTER (WHERE NOT c.relrowsecurity),
           min(c.relname) FILTER (WHERE NOT c.relrowsecurity)
      INTO n, bad, obj
      FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND s.nspname = {_schema(spec)} AND {_tables_filter(spec)};
    ok := n > 0 AND bad IS NULL;
    msg := CASE WHEN n = 0 THEN 'no table matches' WHEN bad IS NULL THEN format('RLS enabled on %s tables', n)
                ELSE 'RLS disabled on: ' || bad END;"""


def _c_column(spec: dict[str, Any]) -> str:
    checks = []
    if "type" in spec:
        checks.append(("format_type(a.atttypid, a.atttypmod)", spec["type"], "type"))
    if "default" in spec:
        checks.append(("pg_get_expr(d.adbin, d.adrelid)", spec["default"], "default"))
    if "generated" in spec:
        checks.append(("CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END",
                       spec["generated"], "generated expression"))
    if "not_null" in spec:
        checks.append(("a.attnotnull::text", str(bool(spec["not_null"])).lower(), "not null"))
    body = [f"""
    obj := {literal(spec['table'])};
    bad := NULL;
    SELECT true INTO ok FROM pg_attribute a
     WHERE a.attrelid = {_regclass(spec)} AND a.attname = {literal(spec['name'])} AND NOT a.attisdropped;
    IF ok IS NULL THEN
      ok := false; msg := format('column %s.%s does not exist', obj, {literal(spec['name'])});
    ELSE"""]
    for expression, expected, label in checks:
        norm = "lower(regexp_replace(coalesce({0}, '<none>'), '\\s+', '', 'g'))"
        body.append(f"""
      SELECT {expression} INTO v FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = {_regclass(spec)} AND a.attname = {literal(spec['name'])};
      IF {norm.format('v')} <> {norm.format(literal(str(expected)))} THEN
        bad := concat_ws('; ', bad, format('{label} is %s, expected %s', coalesce(v, '<none>'), {literal(str(expected))}));
      END IF;""")
    body.append(f"""
      ok := bad IS NULL;
      msg := coalesce(format('column %s.%s: ', obj, {literal(spec['name'])}) || bad, 'column matches');
    END IF;""")
    return "".join(body)


def _c_foreign_key(spec: dict[str, Any]) -> str:
    return f"""
    obj := {literal(spec['table'])};
    SELECT count(*) INTO n FROM pg_constraint c
     WHERE c.contype = 'f' AND c.conrelid = {_regclass(spec)} AND c.confrelid = {_regclass(spec, 'references')}
       AND (SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = c.conkey[1]) = {literal(spec['column'])};
    ok := n > 0;
    msg := CASE WHEN ok THEN format('%s.%s references %s', obj, {literal(spec['column'])}, {literal(spec['references'])})
                ELSE format('no foreign key from %s.%s to %s', obj, {literal(spec['column'])}, {literal(spec['references'])}) END;"""


def _c_fk_indexed(spec: dict[str, Any]) -> str:
    return f"""
    n := 0;
    FOR rec IN
      SELECT t.relname, k.conname, k.conrelid, k.conkey FROM pg_constraint k
        JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace s ON s.oid = t.relnamespace
       WHERE k.contype = 'f' AND s.nspname = {_schema(spec)} AND {_tables_filter(spec, 't.relname')}
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


def _c_grants(spec: dict[str, Any]) -> str:
    expected = sorted({p.upper() for p in spec["privileges"]})
    if "ALL" in expected:
        expected = list(PRIVILEGES)
    unknown = [p for p in expected if p not in PRIVILEGES]
    if unknown:
        raise AssertionFileError(f"unknown privilege {unknown[0]}")
    return f"""
    n := 0;
    FOR rec IN
      SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND s.nspname = {_schema(spec)} AND {_tables_filter(spec)} ORDER BY c.relname
    LOOP
      n := n + 1;
      SELECT coalesce(string_agg(p, ',' ORDER BY p), '') INTO v
        FROM unnest({_array(list(PRIVILEGES))}) p WHERE has_table_privilege({literal(spec['role'])}, rec.oid, p);
      IF v <> {literal(','.join(expected))} THEN
        bad := concat_ws('; ', bad, format('%s: has {{%s}}', rec.relname, v));
        obj := coalesce(obj, rec.relname);
      END IF;
    END LOOP;
    ok := n > 0 AND bad IS NULL;
    msg := CASE WHEN n = 0 THEN 'no table matches'
                WHEN bad IS NULL THEN format('%s has exactly {{{','.join(expected)}}} on %s tables', {literal(spec['role'])}, n)
                ELSE format('%s should have exactly {{{','.join(expected)}}}: ', {literal(spec['role'])}) || bad END;"""


def _c_enum(spec: dict[str, Any]) -> str:
    qualified = spec["name"] if "." in spec["name"] else f"{spec.get('schema', 'public')}.{spec['name']}"
    return f"""
    obj := {literal(spec['name'])};
    SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) INTO v FROM pg_enum
     WHERE enumtypid = to_regtype({literal(qualified)});
    ok := v IS NOT DISTINCT FROM {literal(','.join(spec['labels']))};
    msg := CASE WHEN v IS NULL THEN format('enum %s does not exist', obj)
                WHEN ok THEN format('enum %s has %s labels', obj, {len(spec['labels'])})
                ELSE format('enum %s has labels (%s), expected (%s)', obj, v, {literal(','.join(spec['labels']))}) END;"""


_USERS = f"""
    INSERT INTO auth.users (id, email, aud, role) VALUES
      ('{USER_A}', 'supadeploy-user-a@example.invalid', 'authenticated', 'authenticated'),
      ('{USER_B}', 'supadeploy-user-b@example.invalid', 'authenticated', 'authenticated');
    PERFORM set_config('supadeploy.user_a', '{USER_A}', true);
    PERFORM set_config('supadeploy.user_b', '{USER_B}', true);"""


def _become(role: str | None, user: str | None = "a") -> str:
    if not role:
        return ""
    sub = {"a": USER_A, "b": USER_B}.get(user or "a", USER_A)
    claims = json.dumps({"sub": sub, "role": role}) if role == "authenticated" else json.dumps({"role": role})
    return (f"\n    PERFORM set_config('role', {literal(role)}, true);"
            f"\n    PERFORM set_config('request.jwt.claims', {literal(claims)}, true);")


def _prelude(spec: dict[str, Any]) -> str:
    text = _USERS if spec.get("users", spec.get("as") == "authenticated") else ""
    if spec.get("setup"):
        text += f"\n    EXECUTE {literal(spec['setup'])};"
    return text + _become(spec.get("as"), spec.get("user"))


def _c_rejects(spec: dict[str, Any]) -> str:
    state = literal(str(spec["sqlstate"]))
    return _prelude(spec) + f"""
    obj := {literal(spec.get('object', ''))};
    BEGIN
      EXECUTE {literal(spec['sql'])};
      ok := false; msg := 'accepted, expected rejection with SQLSTATE ' || {state};
    EXCEPTION WHEN OTHERS THEN
      ok := SQLSTATE = {state};
      msg := CASE WHEN ok THEN format('rejected with %s: %s', SQLSTATE, SQLERRM)
                  ELSE format('rejected with %s (%s), expected %s', SQLSTATE, SQLERRM, {state}) END;
    END;"""


def _c_accepts(spec: dict[str, Any]) -> str:
    return _prelude(spec) + f"""
    obj := {literal(spec.get('object', ''))};
    BEGIN
      EXECUTE {literal(spec['sql'])};
      ok := true; msg := 'accepted';
    EXCEPTION WHEN OTHERS THEN
      ok := false; msg := format('rejected with %s: %s', SQLSTATE, SQLERRM);
    END;"""


def _c_sql(spec: dict[str, Any]) -> str:
    expected = spec["expect"]
    if isinstance(expected, bool):
        compare = f"v::boolean = {str(expected).lower()}"
    elif isinstance(expected, (int, float)):
        compare = f"v::numeric = {expected!r}::numeric"
    else:
        compare = f"v = {literal(str(expected))}"
    shown = str(expected).lower() if isinstance(expected, bool) else str(expected)
    return _prelude(spec) + f"""
    obj := {literal(spec.get('object', ''))};
    EXECUTE {literal(spec['query'])} INTO v;
    ok := coalesce({compare}, false);
    msg := format('got %s, expected %s', coalesce(v, 'NULL'), {literal(shown)});"""


def _c_rls_isolation(spec: dict[str, Any]) -> str:
    owner_columns = spec.get("owner_columns", {})
    return _USERS + f"""
    EXECUTE {literal(spec['seed'])};
    n := 0;
    FOREACH t IN ARRAY {_array(spec['tables'])} LOOP
      n := n + 1;
      col := coalesce(({literal(json.dumps(owner_columns))}::jsonb) ->> t, {literal(spec.get('owner_column', 'profile_id'))});
      EXECUTE format('SELECT to_jsonb(x) FROM public.%I x WHERE %I = $1 LIMIT 1', t, col) INTO row_b USING '{USER_B}'::uuid;
      IF row_b IS NULL THEN
        bad := concat_ws('; ', bad, t || ': the seed has no row of user B'); obj := coalesce(obj, t); CONTINUE;
      END IF;
      SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
       WHERE attrelid = ('public.' || quote_ident(t))::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
      IF col <> 'id' THEN row_b := row_b || jsonb_build_object('id', gen_random_uuid()); END IF;
      PERFORM set_config('role', 'authenticated', true);
      PERFORM set_config('request.jwt.claims', '{{"sub": "{USER_A}", "role": "authenticated"}}', true);
      BEGIN
        EXECUTE format('SELECT count(*) FILTER (WHERE %I = $1), count(*) FILTER (WHERE %I IS DISTINCT FROM $1) FROM public.%I', col, col, t)
          INTO own, other USING '{USER_A}'::uuid;
        IF other > 0 THEN bad := concat_ws('; ', bad, format('%s: user A sees %s row(s) of other users', t, other)); obj := coalesce(obj, t); END IF;
        IF own = 0 THEN bad := concat_ws('; ', bad, format('%s: user A cannot see their own row', t)); obj := coalesce(obj, t); END IF;
      EXCEPTION WHEN insufficient_privilege THEN
        bad := concat_ws('; ', bad, format('%s: user A cannot read the table (%s)', t, SQLERRM)); obj := coalesce(obj, t);
      END;
      BEGIN
        EXECUTE format('UPDATE public.%I SET %I = %I WHERE %I = $1', t, col, col, col) USING '{USER_B}'::uuid;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed > 0 THEN bad := concat_ws('; ', bad, format('%s: user A updated %s row(s) of user B', t, changed)); obj := coalesce(obj, t); END IF;
      EXCEPTION WHEN insufficient_privilege THEN NULL;
      END;
      BEGIN
        EXECUTE format('DELETE FROM public.%I WHERE %I = $1', t, col) USING '{USER_B}'::uuid;
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


CHECKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "table_count": _c_table_count,
    "rls_enabled": _c_rls_enabled,
    "column": _c_column,
    "foreign_key": _c_foreign_key,
    "fk_indexed": _c_fk_indexed,
    "grants": _c_grants,
    "rls_isolation": _c_rls_isolation,
    "rejects": _c_rejects,
    "accepts": _c_accepts,
    "enum": _c_enum,
    "sql": _c_sql,
}
_ROLE = ("as", "user", "setup", "users", "object")
SCHEMAS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "table_count": (("equals",), ("schema", "pattern", "tables", "exclude")),
    "rls_enabled": ((), ("schema", "pattern", "tables", "exclude")),
    "column": (("table", "name"), ("schema", "type", "default", "not_null", "generated")),
    "foreign_key": (("table", "column", "references"), ("schema",)),
    "fk_indexed": ((), ("schema", "pattern", "tables", "exclude")),
    "grants": (("role", "privileges"), ("schema", "pattern", "tables", "exclude")),
    "rls_isolation": (("tables", "seed"), ("owner_column", "owner_columns")),
    "rejects": (("sql", "sqlstate"), _ROLE),
    "accepts": (("sql",), _ROLE),
    "enum": (("name", "labels"), ("schema",)),
    "sql": (("query", "expect"), _ROLE),
}

_FUNCTION_HEAD = """\
CREATE OR REPLACE FUNCTION pg_temp.supadeploy_assert() RETURNS jsonb
LANGUAGE plpgsql AS $supadeploy_assert$
DECLARE
  results jsonb := '[]'::jsonb;
  r jsonb; row_b jsonb;
  ok boolean; msg text; obj text; bad text; v text; t text; col text; cols text; d text;
  n bigint; own bigint; other bigint; changed bigint;
  rec record;
BEGIN
"""
_FUNCTION_TAIL = """\
  RETURN results;
END
$supadeploy_assert$;
"""


def compile_function(assertions: list[Assertion]) -> str:
    """The CREATE FUNCTION text holding every assertion as a rolled-back block."""
    blocks = [_FUNCTION_HEAD]
    for index, assertion in enumerate(assertions):
        body = CHECKS[assertion.kind](assertion.spec)
        blocks.append(f"""  -- [{index}] {assertion.kind}: {re.sub(r'[^ -~]', '?', assertion.name)[:80]}
  ok := NULL; msg := NULL; obj := NULL; bad := NULL;
  BEGIN{body}
    RAISE EXCEPTION USING ERRCODE = '{VERDICT}', MESSAGE = 'verdict',
      DETAIL = jsonb_build_object('passed', coalesce(ok, false), 'message', coalesce(msg, ''), 'object', obj)::text;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    IF SQLSTATE = '{VERDICT}' THEN r := d::jsonb;
    ELSE r := jsonb_build_object('passed', false, 'message', format('error %s: %s', SQLSTATE, SQLERRM), 'object', obj);
    END IF;
    results := results || jsonb_build_array(r || jsonb_build_object('index', {index}));
  END;
""")
    blocks.append(_FUNCTION_TAIL)
    return "".join(blocks)


def verify_sql(assertions: list[Assertion]) -> str:
    """One request: create, run and drop the assertion function."""
    return (compile_function(assertions)
            + "SELECT pg_temp.supadeploy_assert() AS result;\n"
            + "DROP FUNCTION pg_temp.supadeploy_assert();\n")


def gate_sql(assertions: list[Assertion]) -> str:
    """Inside a deploy transaction: run the assertions; any failure aborts it (SD003, results in DETAIL)."""
    return (compile_function(assertions)
            + "SELECT set_config('supadeploy.result', (current_setting('supadeploy.result')::jsonb"
              " || jsonb_build_object('gate', pg_temp.supadeploy_assert()))::text, true);\n"
            + "DROP FUNCTION pg_temp.supadeploy_assert();\n"
            + f"""DO $sd_gate$
BEGIN
  IF jsonb_path_exists(current_setting('supadeploy.result')::jsonb, '$.gate[*] ? (@.passed == false)') THEN
    RAISE EXCEPTION USING ERRCODE = '{GATE_FAILED}',
      MESSAGE = 'supadeploy: assertions failed, the deploy was rolled back',
      DETAIL = current_setting('supadeploy.result');
  END IF;
END
$sd_gate$;
""")


# --- results -----------------------------------------------------------------

@dataclass
class ObjectIndex:
    """Where each table, type and added column was created, to point failures at migrations."""

    places: dict[str, tuple[str, int]] = field(default_factory=dict)

    @classmethod
    def build(cls, migrations: MigrationSet | None) -> "ObjectIndex":
        index = cls()
        if migrations is None:
            return index
        pattern = re.compile(
            r"^\s*(?:create\s+(?:table|type)\s+(?:if\s+not\s+exists\s+)?(?:public\.)?\"?(\w+)"
            r"|alter\s+table\s+(?:only\s+)?(?:public\.)?\"?(\w+)\"?\s+add\s+column\s+(?:if\s+not\s+exists\s+)?(\w+))",
            re.I)
        for migration in migrations.migrations:
            for statement in migration.statements:
                match = pattern.match(statement.text)
                if match:
                    name = (match.group(1) or match.group(2)).lower()
                    index.places.setdefault(name, (migration.display_path, statement.line))
        return index

    def find(self, name: str | None) -> tuple[str, int] | None:
        return self.places.get(name.lower()) if name else None


def parse_results(raw: Any, assertions: list[Assertion], index: ObjectIndex) -> list[AssertionResult]:
    if isinstance(raw, str):
        raw = json.loads(raw)
    results = []
    for item in raw or []:
        assertion = assertions[int(item["index"])]
        obj = item.get("object") or None
        place = index.find(obj) or index.find(assertion.spec.get("table")) or index.find(assertion.spec.get("name"))
        file, line = place if place and not item["passed"] else (assertion.file, assertion.line)
        results.append(AssertionResult(assertion.name, assertion.kind, bool(item["passed"]), item.get("message", ""),
                                       obj, file, line))
    return results


def load_suite(files: tuple[Path, ...] | list[Path], root: Path, required: bool) -> list[Assertion]:
    """Every assertion of these files, names unique across them; none is fine unless `required`."""
    if not files and required:
        raise AssertionFileError("no assertions to run: pass --assertions FILE or FOLDER (or add assertions/ or "
                                 "supabase/assertions/ to the repository)")
    suite: list[Assertion] = []
    seen: dict[str, Assertion] = {}
    problems: list[Problem] = []
    for path in files:
        for assertion in load_assertions(path, shown_path(path, root)):
            if assertion.name in seen:
                first = seen[assertion.name]
                problems.append(Problem(f"assertion name {assertion.name!r} is used twice: {first.file}:{first.line} "
                                        f"and here", file=assertion.file, line=assertion.line,
                                        title="Duplicate assertion"))
                continue
            seen[assertion.name] = assertion
            suite.append(assertion)
    if problems:
        raise AssertionFileError(f"{len(problems)} problem(s) in the assertion files", problems)
    return suite


def check(suite: list[Assertion], raw_results: Any, migrations: MigrationSet | None, report: Any,
          reporter: Any, rolled_back: bool = False) -> None:
    """Record the results (from a verify request or a gate) and raise if any failed."""
    results = parse_results(raw_results, suite, ObjectIndex.build(migrations))
    for result in results:
        report.assertions.append(result.as_dict())
        reporter.assertion(result.as_dict())
    failed = [Problem(f"assertion failed: {r.name}: {r.message}", file=r.file, line=r.line,
                      title=f"Assertion failed: {r.name}") for r in results if not r.passed]
    if failed:
        where = "; the deploy was rolled back: nothing was committed" if rolled_back else ""
        raise AssertionsFailed(f"{len(failed)} of {len(results)} assertion(s) failed{where}", failed)


def verify(target: Any, suite: list[Assertion], migrations: MigrationSet | None, report: Any,
           reporter: Any) -> None:
    """One request, every assertion, nothing left behind."""
    from .targets.base import single_json

    check(suite, single_json(target.run(verify_sql(suite), safe_to_resend=True)), migrations, report, reporter)
