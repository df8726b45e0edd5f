"""Which lock findings are news: the files a run reports on, and the tables that are new to the database.

A statement on a table that the same deploy created (earlier in the same file, or in an earlier file of
the deploy, on a database that did not have it) blocks nobody: nobody else knows the table yet, and it
is empty or holds only what the deploy put there. `supabase db diff` writes exactly that for every new
table (`ADD CONSTRAINT … NOT VALID` then `VALIDATE CONSTRAINT`), so saying nothing there is the difference
between signal and noise. The deploy is what would reach the database: the pending files when the
database's history is known, the pull request's files on a pull request, else every file (a replay on
an empty database). `CREATE TABLE IF NOT EXISTS` does not count as creating: the table may be there.

Names are matched as PostgreSQL resolves them: an unqualified name belongs to the first schema of the
file's `SET search_path`, else `public` (every file starts from a clean session).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ..engine.migrations import Migration, Statement
from ..engine.sqlparse import SqlSyntaxError, parse_json

TableKey = tuple[str, str]  # (schema, name) as PostgreSQL stores them
DEFAULT_SCHEMA = "public"
_CREATES = frozenset({"CreateStmt", "CreateTableAsStmt"})
_WATCHED = _CREATES | {"VariableSetStmt", "RenameStmt"}


def split_qualified(text: str) -> TableKey:
    """`public.items`, `"My"."T"` or `items` (as quote_ident writes them) as a (schema, name) pair."""
    parts: list[str] = []
    current, quoted, index = "", False, 0
    while index < len(text):
        char = text[index]
        if quoted:
            if char == '"' and text[index + 1:index + 2] == '"':
                current += '"'
                index += 1
            elif char == '"':
                quoted = False
            else:
                current += char
        elif char == '"':
            quoted = True
        elif char == ".":
            parts.append(current)
            current = ""
        else:
            current += char.lower()
        index += 1
    parts.append(current)
    return (parts[-2], parts[-1]) if len(parts) >= 2 else (DEFAULT_SCHEMA, parts[-1])


def _node(statement: Statement) -> dict[str, Any] | None:
    try:
        tree = json.loads(parse_json(statement.text))
    except SqlSyntaxError:
        return None
    stmts = tree.get("stmts") or []
    node = stmts[0].get("stmt", {}).get(statement.kind) if stmts else None
    return node if isinstance(node, dict) else None


def _search_path_head(node: dict[str, Any]) -> str | None:
    """The schema unqualified names go to after `SET search_path …` (None: RESET, or `$user` only)."""
    if node.get("name") != "search_path":
        return None
    for arg in node.get("args") or []:
        value = ((arg.get("A_Const") or {}).get("sval") or {}).get("sval")
        if value and value != "$user":
            return str(value)
    return DEFAULT_SCHEMA if node.get("kind") in ("VAR_SET_DEFAULT", "VAR_RESET") else None


class _FileNames:
    """How one file's unqualified names resolve, statement by statement."""

    def __init__(self, migration: Migration) -> None:
        self.changes: list[tuple[int, str]] = []  # (from statement index, schema)
        for index, statement in enumerate(migration.statements):
            if statement.kind == "VariableSetStmt":
                node = _node(statement)
                head = _search_path_head(node) if node else None
                if head:
                    self.changes.append((index, head))

    def schema_at(self, statement_index: int) -> str:
        schema = DEFAULT_SCHEMA
        for start, name in self.changes:
            if start > statement_index:
                break
            schema = name
        return schema


class Scope:
    """The deploy's files in order (`deploy`) and the files whose findings a run reports (`reported`, None:
    all); answers whether a table is new to the database at a given statement."""

    def __init__(self, deploy: Sequence[Migration], reported: Iterable[str] | None = None) -> None:
        self.reported = frozenset(reported) if reported is not None else None
        self._position = {m.display_path: i for i, m in enumerate(deploy)}
        self._names: dict[str, _FileNames] = {}
        self._created: dict[TableKey, tuple[int, int]] = {}  # where it was created: (file, statement)
        for file_index, migration in enumerate(deploy):
            self._read(file_index, migration)

    def reports(self, file: str) -> bool:
        return self.reported is None or file in self.reported

    def _names_of(self, migration: Migration) -> _FileNames:
        if migration.display_path not in self._names:
            self._names[migration.display_path] = _FileNames(migration)
        return self._names[migration.display_path]

    def resolve(self, migration: Migration, statement_index: int, schema: str | None, name: str) -> TableKey:
        return (schema or self._names_of(migration).schema_at(statement_index), name)

    def target(self, migration: Migration, statement_index: int) -> TableKey | None:
        """The table a statement acts on (the first it names), resolved."""
        relations = migration.statements[statement_index].relations
        return self.resolve(migration, statement_index, *relations[0]) if relations else None

    def is_new(self, table: TableKey, file: str, statement_index: int) -> bool:
        """Created by this deploy before that statement (an earlier file, or earlier in the same one)."""
        position = self._position.get(file)
        created = self._created.get(table)
        return position is not None and created is not None and created < (position, statement_index)

    def _read(self, file_index: int, migration: Migration) -> None:
        for index, statement in enumerate(migration.statements):
            if statement.kind not in _WATCHED or statement.kind == "VariableSetStmt":
                continue
            node = _node(statement)
            if node is None:
                continue
            if statement.kind in _CREATES:
                relation = node.get("relation") or (node.get("into") or {}).get("rel") or {}
                if node.get("if_not_exists") or relation.get("relpersistence") == "t" or "relname" not in relation:
                    continue
                key = self.resolve(migration, index, relation.get("schemaname"), relation["relname"])
                self._created.setdefault(key, (file_index, index))
            elif node.get("renameType") in ("OBJECT_TABLE", "OBJECT_MATVIEW") and node.get("relation"):
                relation = node["relation"]
                old = self.resolve(migration, index, relation.get("schemaname"), relation["relname"])
                if old in self._created:  # a new table renamed: still new under its new name
                    self._created.setdefault((old[0], str(node["newname"])), (file_index, index))
