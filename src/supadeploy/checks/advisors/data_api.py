"""The Data API sees the deploy: PostgREST told to reload, and its OpenAPI document checked.

PostgREST serves what its schema cache holds, and that cache goes stale after
DDL applied by a client it does not watch (errors PGRST204/PGRST205). It
reloads on `NOTIFY pgrst, 'reload schema'` (and its configuration, e.g. a
changed `pgrst.db_schemas`, on 'reload config'); a NOTIFY sent inside the
deploy's transaction is delivered when it commits.

What PostgREST exposes (PostgREST's SchemaCache and OpenAPI sources): in each
exposed schema, tables, views, materialized views, foreign tables and
partitioned tables (not partitions) as paths `/{name}` with their columns under
`definitions.{name}.properties`, and functions (not procedures, not returning
a trigger, with named input arguments or a single unnamed json, jsonb, text,
xml or bytea one) as `/rpc/{name}`. In its default mode (follow-privileges)
the document lists only what the requesting role may use. The Management API
answers `GET /v1/projects/{ref}/database/openapi?schema=<schema>` (default
public) with that document for one schema; which role it asks as is not
documented, so an object revoked from every API role can be reported missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import TargetError
from ...sqltext import fill, literal, sql_file
from .ledger import Ledger
from .model import Change

EXPOSURE = sql_file(__name__.rpartition(".")[0], "sql/exposure.sql")
RELOAD_SCHEMA = "NOTIFY pgrst, 'reload schema'"
RELOAD_CONFIG = "NOTIFY pgrst, 'reload config'"
EXPOSED_KINDS = {"table", "view", "materialized view", "foreign table"}


@dataclass(frozen=True)
class ApiObject:
    """Something a deploy created that the Data API should now serve."""

    schema: str
    name: str
    kind: str  # table | view | materialized view | foreign table | function | column
    column: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "column":
            return f"column {self.schema}.{self.name}.{self.column}"
        if self.kind == "function":
            return f"function {self.schema}.{self.name} (/rpc/{self.name})"
        return f"{self.kind} {self.schema}.{self.name}"


def reload_sql(ledger: Ledger, exposed: Iterable[str]) -> str | None:
    """The NOTIFY statements a deploy that made these changes needs, or None when it touched no exposed schema."""
    statements = [RELOAD_CONFIG] if ledger.config_changed else []
    if ledger.config_changed or ledger.touched & set(exposed):
        statements.append(RELOAD_SCHEMA)
    return ";\n".join(statements) if statements else None


def expected_objects(ledger: Ledger, exposed: Iterable[str]) -> list[ApiObject]:
    """What the deployed migrations (the ledger of those only) created in exposed schemas that PostgREST serves:
    relations (not partitions), their columns and columns added to existing tables, functions it can call."""
    schemas = set(exposed)
    found: list[ApiObject] = []
    for key, events in ledger.events.items():
        if len(key) < 3 or key[1] not in schemas or not any(e.change is Change.CREATE for e in events):
            continue
        if key[0] == "relation" and ledger.kinds.get(key) in EXPOSED_KINDS:
            found.append(ApiObject(key[1], key[2], ledger.kinds[key]))
        elif key[0] == "column" and ledger.kinds.get(("relation", key[1], key[2]), "table") in EXPOSED_KINDS:
            found.append(ApiObject(key[1], key[2], "column", key[3]))
    found += [ApiObject(f.schema, f.name, "function") for key, f in ledger.functions.items()
              if f.rpc and f.schema in schemas and key in ledger.events]
    return sorted(set(found), key=lambda o: (o.schema, o.name, o.kind == "column", o.column or ""))


def exposure_sql(candidates: Sequence[ApiObject]) -> str:
    """One read: which `candidates` (at least one) the Data API may serve to anon (sql/exposure.sql)."""
    if not candidates:
        raise ValueError("no object to ask about")
    rows = ", ".join(f"({n}, {literal(o.schema)}, {literal(o.name)}, {literal(o.kind)}, "
                     f"{literal(o.column) if o.column is not None else 'null'})"
                     for n, o in enumerate(candidates))
    return fill(EXPOSURE, ITEMS=rows)


def exposed_of(answer: Any, candidates: Sequence[ApiObject]) -> list[ApiObject]:
    """The candidates exposure_sql's answer (their indexes) names."""
    if not isinstance(answer, list) or not all(isinstance(n, int) and 0 <= n < len(candidates) for n in answer):
        raise TargetError(f"unexpected answer to the Data API exposure read: {answer!r:.200}")
    return [candidates[n] for n in answer]


def missing_from_openapi(document: Any, expected: Iterable[ApiObject], schema: str) -> list[ApiObject]:
    """The objects of `schema` that PostgREST's OpenAPI document for that schema does not list."""
    if not isinstance(document, Mapping) or not isinstance(document.get("paths"), Mapping):
        raise TargetError("the Data API's OpenAPI answer is not a PostgREST OpenAPI document (no paths)")
    paths = document["paths"]
    found = document.get("definitions")
    definitions: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    missing = []
    for item in expected:
        if item.schema != schema:
            continue
        if item.kind == "function":
            present = f"/rpc/{item.name}" in paths
        elif item.kind == "column":
            properties = (definitions.get(item.name) or {}).get("properties") or {}
            present = item.column in properties
        else:
            present = f"/{item.name}" in paths
        if not present:
            missing.append(item)
    return missing


def await_exposure(expected: Sequence[ApiObject], fetch: Callable[[str], Any], pause: Callable[[int], None],
                   progress: Callable[[str], None], attempts: int = 10) -> list[ApiObject]:
    """Ask for each schema's document until every object is listed or `attempts` run out; what is still
    missing. `fetch(schema)` returns a document, `pause(attempt)` waits before the next round (the caller
    chooses how long: bounded), `progress` is told what is awaited."""
    missing = list(expected)
    for attempt in range(1, attempts + 1):
        missing = [m for schema in sorted({item.schema for item in missing})
                   for m in missing_from_openapi(fetch(schema), missing, schema)]
        if not missing:
            return []
        if attempt < attempts:
            names = ", ".join(m.label for m in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3
                                                               else "")
            progress(f"waiting for the Data API to expose {len(missing)} object(s): {names} "
                     f"(check {attempt} of {attempts})")
            pause(attempt)
    return missing
