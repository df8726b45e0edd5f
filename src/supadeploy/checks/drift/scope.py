"""Which objects drift compares: the project's own schemas whole, and in the platform's schemas only what
a migration touched (a policy on storage.objects, a trigger on auth.users, a grant on a storage table).

The schemas the platform and its extensions own follow the Supabase CLI's own list of schemas `db dump`
and `db diff` leave out (supabase/cli pkg/migration/dump.go, InternalSchemas), plus `supabase_*`. What a
migration touched there is read from PostgreSQL's parse trees of its statements (libpg_query), one
statement at a time and only for the statement kinds that can attach something, so a large dump stays cheap.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ...engine.migrations import Migration
from ...engine.sqlparse import SqlSyntaxError, parse_json

# Schemas the platform, its services or its extensions own: not the project's (globs, `*` is any text).
PLATFORM_SCHEMAS: tuple[str, ...] = (
    "information_schema", "pg_*", "_analytics", "_realtime", "_supavisor", "auth", "extensions", "pgbouncer",
    "realtime", "storage", "supabase_*", "cron", "dbdev", "graphql", "graphql_public", "net", "pgmq", "pgsodium",
    "pgsodium_masks", "pgtle", "repack", "tiger", "tiger_data", "timescaledb_*", "_timescaledb_*", "topology",
    "vault", "_supadeploy_*",  # the last: the local replay's own (platform/sql/supautils.sql)
)
# Extensions a new hosted project has before any migration: compared only when a migration names them.
PLATFORM_EXTENSIONS = frozenset({"plpgsql", "pg_graphql", "pg_stat_statements", "pgcrypto", "uuid-ossp",
                                 "supabase_vault", "pgsodium", "pgjwt"})
# Roles of the platform: default privileges they hold are the platform's, not a migration's (migrations run as
# postgres, which is not a member of them).
PLATFORM_ROLE_PREFIXES = ("supabase_", "pgsodium_", "pgtle_")
PLATFORM_ROLES = frozenset({"pgbouncer", "dashboard_user", "authenticator"})

_KINDS = frozenset({
    "CreatePolicyStmt", "AlterPolicyStmt", "CreateTrigStmt", "AlterTableStmt", "IndexStmt", "GrantStmt",
    "CreateFunctionStmt", "CreateStmt", "CreateTableAsStmt", "ViewStmt", "CreateEnumStmt", "CompositeTypeStmt",
    "CreateDomainStmt", "CreateRangeStmt", "CreateExtensionStmt", "AlterExtensionStmt", "AlterObjectSchemaStmt",
    "CreatePublicationStmt", "AlterPublicationStmt", "DropStmt", "RuleStmt", "CreateSeqStmt",
})
_RLS_COMMANDS = frozenset({"AT_EnableRowSecurity", "AT_DisableRowSecurity", "AT_ForceRowSecurity",
                           "AT_NoForceRowSecurity"})

Name = tuple[str, str]  # schema, name


@functools.lru_cache(maxsize=1024)
def platform_schema(name: str) -> bool:
    """True for a schema the platform or an extension owns (never compared whole)."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in PLATFORM_SCHEMAS)


def platform_role(name: str) -> bool:
    return name in PLATFORM_ROLES or name.startswith(PLATFORM_ROLE_PREFIXES)


def _like(pattern: str) -> str:
    return pattern.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%").replace("*", "%")


@dataclass(frozen=True)
class Scope:
    """What a catalog read returns beyond the project's own schemas, and what the differ keeps of it."""

    tables: frozenset[Name] = frozenset()  # relations created in a platform schema: compared whole
    relations: frozenset[Name] = frozenset()  # platform relations something was attached to
    functions: frozenset[Name] = frozenset()
    types: frozenset[Name] = frozenset()
    schemas: frozenset[str] = frozenset()  # platform schemas a migration granted on
    policies_on: frozenset[Name] = frozenset()  # every policy on these relations is compared
    triggers: frozenset[tuple[str, str, str]] = frozenset()  # schema, table, trigger
    indexes: frozenset[Name] = frozenset()
    rls: frozenset[Name] = frozenset()
    grants: frozenset[tuple[str, str]] = frozenset()  # object (see grant_key), grantee
    granted_functions: frozenset[Name] = frozenset()  # platform functions a migration granted on: grants only
    extensions: frozenset[str] = frozenset()
    publications: frozenset[str] = frozenset()
    published: frozenset[Name] = field(default_factory=frozenset)  # platform tables put in a publication

    def payload(self) -> str:
        """The jsonb the catalog query reads its scope from."""
        def keys(names: Iterable[Name]) -> list[str]:
            return sorted(f"{schema}\x1f{name}" for schema, name in names)

        return json.dumps({
            "excluded": [_like(p) for p in PLATFORM_SCHEMAS],
            "tables": keys(self.tables),
            "relations": keys(self.relations | self.published),
            "functions": keys(self.functions | self.granted_functions),
            "types": keys(self.types),
            "schemas": sorted(self.schemas),
        }, separators=(",", ":"))

    def owns(self, schema: str, name: str | None = None, kind: str = "table") -> bool:
        """Whether an object is the project's: in one of its schemas, or created whole by a migration."""
        if not platform_schema(schema):
            return True
        if name is None:
            return False
        pool = {"table": self.tables, "function": self.functions, "type": self.types}[kind]
        return (schema, name) in pool


def grant_key(kind: str, schema: str, name: str) -> str:
    """How scope names a grant's object: `table storage.objects`, `schema storage`, `function auth.f`."""
    return f"{kind} {schema}.{name}" if schema else f"{kind} {name}"


def touched(migrations: Iterable[Migration]) -> Scope:
    """What the migrations' statements attach to platform objects or create in platform schemas."""
    found: dict[str, set[Any]] = {name: set() for name in Scope.__dataclass_fields__}
    for kind, node in _nodes(migrations):
        _collect(kind, node, found)
    return Scope(**{name: frozenset(values) for name, values in found.items()})


def _nodes(migrations: Iterable[Migration]) -> Iterator[tuple[str, dict[str, Any]]]:
    for migration in migrations:
        for statement in migration.statements:
            if statement.kind not in _KINDS:
                continue
            try:
                tree = json.loads(parse_json(statement.text))
            except SqlSyntaxError:  # the file parsed as a whole; a lone statement always does too
                continue
            for item in tree.get("stmts", ()):
                yield from item.get("stmt", {}).items()


def _range(node: dict[str, Any] | None) -> Name | None:
    """A qualified relation name in a platform schema (unqualified names resolve to the project's)."""
    if not node:
        return None
    schema = node.get("schemaname")
    if schema and platform_schema(schema):
        return schema, node["relname"]
    return None


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [i["String"]["sval"] for i in items if "String" in i]


def _qualified(items: list[dict[str, Any]]) -> Name | None:
    names = _names(items)
    if len(names) >= 2 and platform_schema(names[-2]):
        return names[-2], names[-1]
    return None


def _collect(kind: str, node: dict[str, Any], found: dict[str, set[Any]]) -> None:
    if kind in ("CreatePolicyStmt", "AlterPolicyStmt"):
        if (rel := _range(node.get("table"))) is not None:
            found["relations"].add(rel)
            found["policies_on"].add(rel)
    elif kind == "CreateTrigStmt":
        if (rel := _range(node.get("relation"))) is not None:
            found["relations"].add(rel)
            found["triggers"].add((*rel, node["trigname"]))
    elif kind == "AlterTableStmt":
        rel = _range(node.get("relation"))
        cmds = [c.get("AlterTableCmd", {}).get("subtype") for c in node.get("cmds", ())]
        if rel is not None and any(c in _RLS_COMMANDS for c in cmds):
            found["relations"].add(rel)
            found["rls"].add(rel)
    elif kind == "IndexStmt":
        rel = _range(node.get("relation"))
        if rel is not None and node.get("idxname"):
            found["relations"].add(rel)
            found["indexes"].add((rel[0], node["idxname"]))
    elif kind == "GrantStmt":
        _grants(node, found)
    elif kind == "CreateFunctionStmt":
        if (name := _qualified(node.get("funcname", []))) is not None:
            found["functions"].add(name)
    elif kind in ("CreateStmt", "CreateSeqStmt", "ViewStmt"):
        key = "view" if kind == "ViewStmt" else ("sequence" if kind == "CreateSeqStmt" else "relation")
        if (rel := _range(node.get(key))) is not None:
            found["tables"].add(rel)
    elif kind == "CreateTableAsStmt":
        if (rel := _range((node.get("into") or {}).get("rel"))) is not None:
            found["tables"].add(rel)
    elif kind in ("CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt", "CreateRangeStmt"):
        names = node.get("typeName") or node.get("domainname") or []
        if kind == "CompositeTypeStmt":
            rel = _range(node.get("typevar"))
            type_name = rel
        else:
            type_name = _qualified(names)
        if type_name is not None:
            found["types"].add(type_name)
    elif kind in ("CreateExtensionStmt", "AlterExtensionStmt"):
        found["extensions"].add(node["extname"])
    elif kind == "AlterObjectSchemaStmt" and node.get("objectType") == "OBJECT_EXTENSION":
        found["extensions"].add(node.get("object", {}).get("String", {}).get("sval", ""))
    elif kind in ("CreatePublicationStmt", "AlterPublicationStmt"):
        found["publications"].add(node["pubname"])
        for spec in node.get("pubobjects", ()):
            table = spec.get("PublicationObjSpec", {}).get("pubtable", {})
            if (rel := _range(table.get("relation"))) is not None:
                found["published"].add(rel)
    elif kind == "DropStmt":
        _drops(node, found)


def _drops(node: dict[str, Any], found: dict[str, set[Any]]) -> None:
    """A drop of something attached to a platform relation still makes that relation's attachments compared."""
    kind = node.get("removeType")
    for obj in node.get("objects", ()):
        names = _names(obj.get("List", {}).get("items", [])) if isinstance(obj, dict) else []
        if kind in ("OBJECT_POLICY", "OBJECT_TRIGGER") and len(names) == 3 and platform_schema(names[0]):
            rel = (names[0], names[1])
            found["relations"].add(rel)
            if kind == "OBJECT_POLICY":
                found["policies_on"].add(rel)
            else:
                found["triggers"].add((*rel, names[2]))
        elif kind == "OBJECT_EXTENSION" and "String" in obj:
            found["extensions"].add(obj["String"]["sval"])


def _grants(node: dict[str, Any], found: dict[str, set[Any]]) -> None:
    if node.get("targtype") != "ACL_TARGET_OBJECT":
        return
    grantees = [g["RoleSpec"].get("rolename") or "PUBLIC" for g in node.get("grantees", ()) if "RoleSpec" in g]
    objtype = node.get("objtype")
    for obj in node.get("objects", ()):
        target: tuple[str, str, str] | None = None
        if objtype in ("OBJECT_TABLE", "OBJECT_SEQUENCE") and (rel := _range(obj.get("RangeVar"))) is not None:
            found["relations"].add(rel)
            target = ("table", *rel)
        elif objtype == "OBJECT_SCHEMA" and "String" in obj and platform_schema(obj["String"]["sval"]):
            found["schemas"].add(obj["String"]["sval"])
            target = ("schema", "", obj["String"]["sval"])
        elif objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"):
            name = _qualified(obj.get("ObjectWithArgs", {}).get("objname", []))
            if name is not None:
                found["granted_functions"].add(name)
                target = ("function", *name)
        if target is not None:
            for grantee in grantees:
                found["grants"].add((grant_key(*target), grantee))
