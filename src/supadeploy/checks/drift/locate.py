"""Where a difference meets the migrations: the file and line of the statement that made (or last changed)
the object, so annotations land on it (`policy "read own" on public.notes: USING differs` at the
CREATE POLICY). An object the migrations never made has no place; one that hangs on a table they made
(a column added in the dashboard) is shown at that table's CREATE.

Statements are read from PostgreSQL's parse trees (libpg_query), only for the statement kinds that make or
change objects, and only when there is a difference to place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ...engine.migrations import Migration, Statement
from ...engine.sqlparse import SqlSyntaxError, parse_json
from .catalog import Key
from .differ import Difference

# (category, schema or None when unqualified, name, member): member names a column, constraint, index,
# trigger, policy, "rls" or "grant" of the object, or is "" for the object itself.
Anchor = tuple[str, str | None, str, str]

_RELATION_STATEMENTS = {"CreateStmt": "relation", "ViewStmt": "view", "CreateSeqStmt": "sequence",
                        "AlterSeqStmt": "sequence", "RuleStmt": "relation"}
_TYPE_STATEMENTS = {"CreateEnumStmt": "typeName", "AlterEnumStmt": "typeName", "CreateDomainStmt": "domainname",
                    "CreateRangeStmt": "typeName"}
_RLS = frozenset({"AT_EnableRowSecurity", "AT_DisableRowSecurity", "AT_ForceRowSecurity", "AT_NoForceRowSecurity"})
_COMMENT_RELATIONS = frozenset({"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE",
                                "OBJECT_FOREIGN_TABLE"})
_KINDS = frozenset({*_RELATION_STATEMENTS, *_TYPE_STATEMENTS, "CreateTableAsStmt", "AlterTableStmt", "IndexStmt",
                    "CreatePolicyStmt", "AlterPolicyStmt", "CreateTrigStmt", "CommentStmt", "GrantStmt",
                    "CreateFunctionStmt", "AlterFunctionStmt", "CompositeTypeStmt", "CreateSchemaStmt",
                    "CreateExtensionStmt", "AlterExtensionStmt", "CreatePublicationStmt", "AlterPublicationStmt",
                    "AlterDefaultPrivilegesStmt"})


@dataclass(frozen=True)
class Place:
    file: str
    line: int


class Locator:
    """Places differences in the migrations that were replayed (files only: history rows have no file)."""

    def __init__(self, migrations: Iterable[Migration]) -> None:
        self._migrations = list(migrations)
        self._index: list[tuple[Anchor, Place]] | None = None

    def made(self, difference: Difference, parent: Key | None = None) -> bool:
        """Whether one of these migrations' statements makes (or changes) exactly this object."""
        wanted = anchor(difference.key, parent)
        return wanted is not None and any(_matches(a, wanted) for a, _ in self._anchors())

    def place(self, difference: Difference, parent: Key | None = None) -> Place | None:
        wanted = anchor(difference.key, parent)
        if wanted is None:
            return None
        exact = [p for a, p in self._anchors() if _matches(a, wanted)]
        if exact:
            return exact[-1]  # the statement that made the object as it is now
        if not wanted[3]:
            return None
        whole = (wanted[0], wanted[1], wanted[2], "")
        return next((p for a, p in self._anchors() if _matches(a, whole)), None)  # where the object was made

    def _anchors(self) -> list[tuple[Anchor, Place]]:
        if self._index is None:
            self._index = [(a, Place(m.display_path, s.line)) for m in self._migrations for s in m.statements
                           if s.kind in _KINDS for a in statement_anchors(s)]
        return self._index


def _matches(found: Anchor, wanted: Anchor) -> bool:
    """An unqualified name in a migration matches the object in any schema (its search_path decided)."""
    return (found[0], found[2], found[3]) == (wanted[0], wanted[2], wanted[3]) and found[1] in (None, wanted[1])


def anchor(key: Key, parent: Key | None = None) -> Anchor | None:
    """What to look for in the migrations for a catalog object's key (`parent`: an index's or a grant's
    object, which its own key does not name)."""
    kind = key[0]
    if kind == "relation":
        return ("relation", key[1], key[2], "")
    if kind in ("column", "constraint", "trigger", "policy"):
        return ("relation", key[1], key[2], key[3])
    if kind == "rls":
        return ("relation", key[1], key[2], "rls")
    if kind == "index" and parent is not None and parent[0] == "relation":
        return ("relation", parent[1], parent[2], key[2])
    if kind == "function":
        return ("function", key[1], key[2], "")
    if kind == "type":
        return ("type", key[1], key[2], "")
    if kind in ("schema", "extension", "publication"):
        return (kind, "", key[1], "")
    if kind == "published":
        return ("publication", "", key[1], "")
    if kind == "default privileges":
        return ("default privileges", "", key[2], "")
    if kind == "grant" and parent is not None:
        inner = anchor(parent)
        return (inner[0], inner[1], inner[2], "grant") if inner is not None else None
    return None


def statement_anchors(statement: Statement) -> list[Anchor]:
    try:
        tree = json.loads(parse_json(statement.text))
    except SqlSyntaxError:
        return []
    found: list[Anchor] = []
    for item in tree.get("stmts", ()):
        for kind, node in item.get("stmt", {}).items():
            found.extend(_anchors(kind, node))
    return found


def _range(node: dict[str, Any] | None) -> tuple[str | None, str] | None:
    if not node or "relname" not in node:
        return None
    return node.get("schemaname"), node["relname"]


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [i["String"]["sval"] for i in items if "String" in i]


def _qualified(items: list[dict[str, Any]]) -> tuple[str | None, str] | None:
    names = _names(items)
    if not names:
        return None
    return (names[-2] if len(names) > 1 else None), names[-1]


def _anchors(kind: str, node: dict[str, Any]) -> Iterator[Anchor]:
    if kind in _RELATION_STATEMENTS or kind == "CreateTableAsStmt":
        rel = _range((node.get("into") or {}).get("rel") if kind == "CreateTableAsStmt"
                     else node.get(_RELATION_STATEMENTS[kind]))
        if rel is not None:
            yield ("relation", *rel, "")
            for element in node.get("tableElts", ()):
                member = (element.get("ColumnDef") or {}).get("colname") or \
                    (element.get("Constraint") or {}).get("conname")
                if member:
                    yield ("relation", *rel, member)
    elif kind == "AlterTableStmt":
        yield from _alter_table(node)
    elif kind in ("IndexStmt", "CreatePolicyStmt", "AlterPolicyStmt", "CreateTrigStmt"):
        field, member = {"IndexStmt": ("relation", "idxname"), "CreatePolicyStmt": ("table", "policy_name"),
                         "AlterPolicyStmt": ("table", "policy_name"), "CreateTrigStmt": ("relation", "trigname")}[kind]
        rel = _range(node.get(field))
        if rel is not None and node.get(member):
            yield ("relation", *rel, node[member])
    elif kind == "CommentStmt":
        yield from _comment(node)
    elif kind == "GrantStmt":
        yield from _grant(node)
    elif kind == "CreateFunctionStmt":
        if (name := _qualified(node.get("funcname", []))) is not None:
            yield ("function", *name, "")
    elif kind == "AlterFunctionStmt":
        if (name := _qualified((node.get("func") or {}).get("objname", []))) is not None:
            yield ("function", *name, "")
    elif kind in _TYPE_STATEMENTS:
        if (name := _qualified(node.get(_TYPE_STATEMENTS[kind]) or [])) is not None:
            yield ("type", *name, "")
    elif kind == "CompositeTypeStmt":
        if (rel := _range(node.get("typevar"))) is not None:
            yield ("type", *rel, "")
    elif kind == "CreateSchemaStmt" and node.get("schemaname"):
        yield ("schema", "", node["schemaname"], "")
    elif kind in ("CreateExtensionStmt", "AlterExtensionStmt") and node.get("extname"):
        yield ("extension", "", node["extname"], "")
    elif kind in ("CreatePublicationStmt", "AlterPublicationStmt") and node.get("pubname"):
        yield ("publication", "", node["pubname"], "")
    elif kind == "AlterDefaultPrivilegesStmt":
        for option in node.get("options", ()):
            element = option.get("DefElem") or {}
            if element.get("defname") == "schemas":
                for schema in _names((element.get("arg") or {}).get("List", {}).get("items", [])):
                    yield ("default privileges", "", schema, "")


def _alter_table(node: dict[str, Any]) -> Iterator[Anchor]:
    rel = _range(node.get("relation"))
    if rel is None:
        return
    yield ("relation", *rel, "")
    for command in node.get("cmds", ()):
        cmd = command.get("AlterTableCmd") or {}
        if cmd.get("subtype") in _RLS:
            yield ("relation", *rel, "rls")
        if cmd.get("name"):
            yield ("relation", *rel, cmd["name"])
        definition = cmd.get("def") or {}
        member = (definition.get("ColumnDef") or {}).get("colname") or \
            (definition.get("Constraint") or {}).get("conname")
        if member:
            yield ("relation", *rel, member)


def _comment(node: dict[str, Any]) -> Iterator[Anchor]:
    objtype, obj = node.get("objtype"), node.get("object") or {}
    names = _names(obj.get("List", {}).get("items", []))
    if objtype in _COMMENT_RELATIONS and names:
        yield ("relation", names[-2] if len(names) > 1 else None, names[-1], "")
    elif objtype == "OBJECT_COLUMN" and len(names) >= 2:
        yield ("relation", names[-3] if len(names) > 2 else None, names[-2], names[-1])
    elif objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE"):
        if (name := _qualified((obj.get("ObjectWithArgs") or {}).get("objname", []))) is not None:
            yield ("function", *name, "")
    elif objtype in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
        if (name := _qualified((obj.get("TypeName") or {}).get("names", []))) is not None:
            yield ("type", *name, "")
    elif objtype in ("OBJECT_POLICY", "OBJECT_TRIGGER", "OBJECT_TABCONSTRAINT") and len(names) >= 2:
        yield ("relation", names[-3] if len(names) > 2 else None, names[-2], names[-1])


def _grant(node: dict[str, Any]) -> Iterator[Anchor]:
    if node.get("targtype") != "ACL_TARGET_OBJECT":
        return
    objtype = node.get("objtype")
    for obj in node.get("objects", ()):
        if objtype in ("OBJECT_TABLE", "OBJECT_SEQUENCE") and (rel := _range(obj.get("RangeVar"))) is not None:
            yield ("relation", *rel, "grant")
        elif objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"):
            if (name := _qualified((obj.get("ObjectWithArgs") or {}).get("objname", []))) is not None:
                yield ("function", *name, "grant")
        elif objtype == "OBJECT_SCHEMA" and "String" in obj:
            yield ("schema", "", obj["String"]["sval"], "grant")
