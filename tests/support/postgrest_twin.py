"""The Data API side of the API twin: PostgREST's schema cache and its OpenAPI document, from the catalog.

What it does, after PostgREST's own rules (PostgREST/postgrest: src/library/PostgREST/SchemaCache.hs,
Query/SqlFragment.hs accessibleTables/accessibleFuncs, MainTx.hs, Response/OpenAPI.hs):

- The schema cache holds the relations of the exposed schemas (kinds r, v, m, f, p; not partitions) with their
  columns and primary keys. It is built when the twin starts and again only when a `NOTIFY pgrst, 'reload
  schema'` arrives (a LISTEN connection of its own), exactly as PostgREST reloads. `stale = True` makes it
  ignore reloads, as the stale caches of supabase#39446 did.
- `GET /v1/projects/{ref}/database/openapi?schema=<s>` (default public) answers as the Management API does
  ("the replacement for querying /rest/v1/ directly with the anon key", supabase/cli's OpenAPI spec): in
  follow-privileges mode, the cached relations of <s> that the anon role may use now (owns through a role, or
  holds any table or column privilege on), each a path `/{name}` with its columns under
  `definitions.{name}.properties`; and the functions of <s> read live (PostgREST does not cache them for its
  OpenAPI output): plain functions (prokind f), not returning trigger, whose input arguments are all named or
  are one unnamed bytea/json/jsonb/text/xml, that anon may execute, each a path `/rpc/{name}`.
  A schema that is not exposed is refused as PostgREST refuses it (the Management API relays a 500).
- `GET /v1/projects/{ref}/postgrest` answers the project's PostgREST config: `db_schema` (the exposed schemas,
  comma-separated), `max_rows`, `db_extra_search_path`, `db_pool`, and a `jwt_secret` (a fake one here,
  which a client must never print).
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

JWT_SECRET = "twin-jwt-secret-" + "9c4e" * 8  # shaped like a secret: tests prove it is never printed

CACHE_SQL = """
select n.nspname, c.relname, c.relkind::text,
    coalesce((select pg_catalog.json_agg(pg_catalog.json_build_object(
                'name', a.attname, 'type', pg_catalog.format_type(a.atttypid, null), 'nullable', not a.attnotnull)
              order by a.attnum)
        from pg_catalog.pg_attribute as a
        where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'::pg_catalog.json) as columns,
    coalesce((select pg_catalog.array_agg(a.attname::text order by a.attname)
        from pg_catalog.pg_constraint as k
        join pg_catalog.pg_attribute as a on a.attrelid = k.conrelid and a.attnum = any (k.conkey)
        where k.conrelid = c.oid and k.contype = 'p'), '{}') as pk
from pg_catalog.pg_class as c
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where c.relkind in ('r', 'v', 'm', 'f', 'p') and not c.relispartition and n.nspname = any (%s)
"""

ACCESSIBLE_SQL = """
select c.relname
from pg_catalog.pg_class as c
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'f', 'p') and not c.relispartition
    and exists (select from pg_catalog.pg_roles where rolname = 'anon')
    and (pg_catalog.pg_has_role('anon', c.relowner, 'USAGE')
        or pg_catalog.has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
        or pg_catalog.has_any_column_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))
"""

FUNCTIONS_SQL = """
select p.proname, p.provolatile::text, p.proargnames, p.proargmodes::text[],
    array(select pg_catalog.format_type(t, null) from pg_catalog.unnest(p.proargtypes) as t) as input_types
from pg_catalog.pg_proc as p
join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where n.nspname = %s and p.prokind = 'f' and p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
    and exists (select from pg_catalog.pg_roles where rolname = 'anon')
    and pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE')
"""

ONE_UNNAMED = {"bytea", "json", "jsonb", "text", "xml"}
SWAGGER_TYPES = {"character varying": "string", "character": "string", "text": "string", "boolean": "boolean",
                 "smallint": "integer", "integer": "integer", "bigint": "integer", "numeric": "number",
                 "real": "number", "double precision": "number"}


class NotExposed(Exception):
    """The schema asked for is not one PostgREST serves."""


class DataApi:
    """PostgREST over one database: its schema cache (reloaded on NOTIFY) and its OpenAPI document."""

    def __init__(self, dsn: str, schemas: tuple[str, ...]) -> None:
        self.dsn = dsn
        self.schemas = schemas
        self.stale = False
        self.reloads = 0  # schema cache reloads done on NOTIFY (not counting the first build)
        self.notifications: list[str] = []  # every pgrst payload received, in order
        self._cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DataApi:
        self._build()
        self._thread = threading.Thread(target=self._listen, name="postgrest-twin", daemon=True)
        self._thread.start()
        self._listening.wait(10)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"reloads": self.reloads, "notifications": list(self.notifications)}

    def config(self) -> dict[str, Any]:
        return {"db_schema": ", ".join(self.schemas), "max_rows": 1000, "db_extra_search_path": "public, extensions",
                "db_pool": None, "jwt_secret": JWT_SECRET}

    # -- the schema cache ---------------------------------------------------------------------------------
    def _build(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            rows = conn.execute(CACHE_SQL, (list(self.schemas),)).fetchall()
        cache = {(schema, name): {"kind": kind, "columns": columns, "pk": list(pk)}
                 for schema, name, kind, columns, pk in rows}
        with self._lock:
            self._cache = cache

    def _listen(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("LISTEN pgrst")
            self._listening.set()
            while not self._stop.is_set():
                for notify in conn.notifies(timeout=0.1, stop_after=1):
                    self._received(notify.payload)

    def _received(self, payload: str) -> None:
        with self._lock:
            self.notifications.append(payload)
            if self.stale or payload.strip().lower() != "reload schema":
                return
        self._build()
        with self._lock:
            self.reloads += 1

    # -- the OpenAPI document -----------------------------------------------------------------------------
    def openapi(self, schema: str) -> dict[str, Any]:
        if schema not in self.schemas:
            raise NotExposed(schema)
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            accessible = {r[0] for r in conn.execute(ACCESSIBLE_SQL, (schema,)).fetchall()}
            functions = conn.execute(FUNCTIONS_SQL, (schema,)).fetchall()
        with self._lock:
            tables = {name: entry for (s, name), entry in self._cache.items() if s == schema and name in accessible}
        paths: dict[str, Any] = {"/": {"get": {"tags": ["Introspection"], "summary": "OpenAPI description"}}}
        definitions: dict[str, Any] = {}
        for name, entry in sorted(tables.items()):
            writable = entry["kind"] in ("r", "p")
            paths[f"/{name}"] = {"get": {"tags": [name]}, **({"post": {"tags": [name]}, "patch": {"tags": [name]},
                                                                "delete": {"tags": [name]}} if writable else {})}
            definitions[name] = {
                "type": "object",
                "required": [c["name"] for c in entry["columns"] if not c["nullable"]],
                "properties": {c["name"]: _property(c, c["name"] in entry["pk"]) for c in entry["columns"]}}
        for name, volatility, arg_names, arg_modes, input_types in functions:
            if _callable(arg_names, arg_modes, input_types):
                tags = {"tags": [f"(rpc) {name}"]}
                paths[f"/rpc/{name}"] = {"post": tags} if volatility == "v" else {"get": tags, "post": tags}
        return {"swagger": "2.0", "info": {"title": "standard public schema", "version": "twin"},
                "basePath": "/", "schemes": ["https"], "paths": paths, "definitions": definitions}


def _property(column: dict[str, Any], pk: bool) -> dict[str, Any]:
    kind = column["type"]
    found: dict[str, Any] = {"format": kind}
    if kind.endswith("[]"):
        found["type"] = "array"
    elif kind in SWAGGER_TYPES:
        found["type"] = SWAGGER_TYPES[kind]
    if pk:
        found["description"] = "Note:\nThis is a Primary Key.<pk/>"
    return found


def _callable(names: list[str] | None, modes: list[str] | None, input_types: list[str]) -> bool:
    """PostgREST calls a function whose input arguments are all named, or that takes one unnamed argument of
    a type it can pass a whole body as."""
    all_names = names or []
    if modes is None:
        input_names = [all_names[i] if i < len(all_names) else "" for i in range(len(input_types))]
    else:
        input_names = [all_names[i] if i < len(all_names) else "" for i, mode in enumerate(modes)
                       if mode in ("i", "b", "v")]
    unnamed = [t for n, t in zip(input_names, input_types) if not n]
    return not unnamed or (len(unnamed) == 1 and unnamed[0] in ONE_UNNAMED)
