"""What the migrations did to each object, statement by statement, read from PostgreSQL's parse trees.

Every statement that creates or changes an object the advisors look at is an
event on that object's key, with the file and line of the statement:
relations, columns, policies, constraints (by name and by columns: foreign
keys are often unnamed), indexes (unnamed ones get PostgreSQL's default name),
functions (by argument types), extensions, Storage buckets (rows inserted into
storage.buckets) and Supabase Queues (pgmq.create('name') makes pgmq.q_name).
Renames and SET SCHEMA move an object's events, drops forget them, and
unqualified names resolve through the file's search_path (Supabase's default
`"$user", public, extensions`, as changed by SET search_path or set_config).
DO blocks cannot be read; their text is kept so that a finding on an object
only a DO block mentions can still be pointed at it (marked approximate).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ...engine.migrations import Migration, Statement
from ...engine.sqlparse import SqlSyntaxError, parse_json
from .model import Change

Key = tuple[str, ...]
Node = dict[str, Any]

DEFAULT_SEARCH_PATH = ("$user", "public", "extensions")  # the postgres role's setting on hosted projects
NAMEDATALEN = 64
# Spellings the parser keeps for built-in types, as format_type() names them in the catalog.
TYPE_NAMES = {
    "int2": "smallint", "int4": "integer", "int": "integer", "int8": "bigint", "float4": "real",
    "float8": "double precision", "bool": "boolean", "varchar": "character varying", "bpchar": "character",
    "timestamptz": "timestamp with time zone", "timestamp": "timestamp without time zone",
    "timetz": "time with time zone", "time": "time without time zone", "varbit": "bit varying", "decimal": "numeric",
}
INPUT_MODES = {"FUNC_PARAM_IN", "FUNC_PARAM_INOUT", "FUNC_PARAM_VARIADIC", "FUNC_PARAM_DEFAULT"}
RELATION_KINDS = {"OBJECT_TABLE": "table", "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "materialized view",
                  "OBJECT_FOREIGN_TABLE": "foreign table"}
FUNCTION_KINDS = {"OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE", "OBJECT_AGGREGATE"}
PGMQ_CREATORS = {"create", "create_unlogged", "create_partitioned", "create_non_partitioned"}
# Statements whose text may matter, cheap to test before parsing (data statements are many).
_MAYBE = {"SelectStmt": re.compile(r"pgmq|set_config", re.I), "InsertStmt": re.compile(r"buckets", re.I),
          "UpdateStmt": re.compile(r"buckets", re.I)}


@dataclass(frozen=True)
class Event:
    seq: int
    change: Change
    file: str
    line: int
    grantees: frozenset[str] = frozenset()  # a GRANT's roles ("public" for PUBLIC)


@dataclass(frozen=True)
class Function:
    """A function a migration created, for the Data API check (what PostgREST would expose)."""

    schema: str
    name: str
    arg_types: tuple[str, ...]
    rpc: bool  # a plain function PostgREST can call: not a procedure, no trigger, named arguments


@dataclass
class _Context:
    file: str
    line: int
    path: tuple[str, ...] = DEFAULT_SEARCH_PATH


@dataclass
class Ledger:
    events: dict[Key, list[Event]] = field(default_factory=dict)
    kinds: dict[Key, str] = field(default_factory=dict)  # relation key -> table | view | partition | ...
    functions: dict[Key, Function] = field(default_factory=dict)
    mentions: list[tuple[Event, str]] = field(default_factory=list)  # DO blocks: event and lower-cased text
    touched: set[str] = field(default_factory=set)  # schemas whose objects a statement created, changed or dropped
    config_changed: bool = False  # ALTER ROLE ... SET pgrst.*: PostgREST must reload its configuration
    _seq: int = 0
    _index_table: dict[Key, Key] = field(default_factory=dict)  # ("index", s, i) -> ("relation", s, t)

    @classmethod
    def of(cls, migrations: Iterable[Migration]) -> Ledger:
        """The ledger of these migrations, applied in order."""
        ledger = cls()
        for migration in migrations:
            ledger.read_file(migration.display_path, migration.statements)
        return ledger

    def read_file(self, shown: str, statements: Iterable[Statement]) -> None:
        """Every statement of one file; each file starts from a fresh session (default search_path)."""
        context = _Context(shown, 1)
        for statement in statements:
            context.line = statement.line
            self.read(statement, context)

    def read(self, statement: Statement, context: _Context) -> None:
        handler = _HANDLERS.get(statement.kind)
        if statement.kind == "DoStmt":
            self.mentions.append((self._event(Change.ALTER, context), statement.text.lower()))
        if handler is None:
            return
        pattern = _MAYBE.get(statement.kind)
        if pattern is not None and not pattern.search(statement.text):
            return
        node = _node(statement.text)
        if node is not None:
            handler(self, node, context)

    # -- recording -------------------------------------------------------------

    def _event(self, change: Change, context: _Context, grantees: frozenset[str] = frozenset()) -> Event:
        self._seq += 1
        return Event(self._seq, change, context.file, context.line, grantees)

    def note(self, key: Key, change: Change, context: _Context, fresh: bool = False,
             grantees: frozenset[str] = frozenset()) -> None:
        """An event on `key`; `fresh` starts its history over (a create after a drop we could not see)."""
        event = self._event(change, context, grantees)
        if fresh or key not in self.events:
            self.events[key] = [event]
        else:
            self.events[key].append(event)
        if len(key) > 2 and key[0] not in ("extension", "bucket"):
            self.touched.add(key[1])

    def forget(self, prefix: Key) -> None:
        """Drop: the object and everything keyed under it (a table's columns, policies, constraints, indexes)."""
        for key in [k for k in self.events if k[:len(prefix)] == prefix or _under(k, prefix)]:
            del self.events[key]
            self.kinds.pop(key, None)
            self.functions.pop(key, None)
        for index in [i for i, table in self._index_table.items() if table == prefix]:
            self.events.pop(index, None)
            del self._index_table[index]
        if len(prefix) > 1 and prefix[0] not in ("extension", "bucket"):
            self.touched.add(prefix[1])

    def move(self, old: Key, new: Key) -> None:
        """Rename or SET SCHEMA: the object's events (and its parts') follow it to the new key."""
        for key in [k for k in self.events if k == old or _under(k, old)]:
            moved = new + key[len(old):] if key == old or key[:len(old)] == old else _reparent(key, old, new)
            self.events[moved] = self.events.pop(key)
            if key in self.kinds:
                self.kinds[moved] = self.kinds.pop(key)
            if key in self.functions:
                function = self.functions.pop(key)
                self.functions[moved] = Function(moved[1], moved[2], function.arg_types, function.rpc)
        for index, table in list(self._index_table.items()):
            if table == old:  # a table's indexes follow it to its new schema
                moved_index = ("index", new[1], index[2])
                if moved_index != index and index in self.events:
                    self.events[moved_index] = self.events.pop(index)
                del self._index_table[index]
                self._index_table[moved_index] = new
        for key in (old, new):
            if len(key) > 1 and key[0] not in ("extension", "bucket"):
                self.touched.add(key[1])

    # -- looking up ------------------------------------------------------------

    def history(self, key: Key) -> list[Event]:
        return self.events.get(key, [])

    def function_keys(self, schema: str, name: str, arg_types: tuple[str, ...] | None) -> list[Key]:
        """The overloads of schema.name a finding may mean: the exact signature, else the likeliest ones."""
        overloads = [k for k in self.events if k[:3] == ("function", schema, name)]
        if arg_types is None or len(overloads) <= 1:
            return overloads
        wanted = signature(normal_type(t) for t in arg_types)
        exact = [k for k in overloads if k[3] == wanted]
        if exact:
            return exact
        same_count = [k for k in overloads if k[3].count(",") == wanted.count(",") and bool(k[3]) == bool(wanted)]
        return same_count or overloads

    def resolve(self, kind: str, schema: str | None, rest: tuple[str, ...], context: _Context) -> Key:
        """A name as the statement wrote it, resolved like PostgreSQL: qualified, or the first schema of the
        search_path that has it, or (to create it) the first schema of the path."""
        if schema:
            return (kind, schema, *rest)
        path = [s for s in context.path if s and s != "$user"]
        for candidate in path:
            if (kind, candidate, *rest) in self.events:
                return (kind, candidate, *rest)
        return (kind, path[0] if path else "public", *rest)


def _under(key: Key, parent: Key) -> bool:
    """A relation's parts: ("column"|"policy"|"constraint"|"fk", schema, table, ...) under ("relation", s, t);
    everything in a schema under ("schema", s)."""
    if parent[0] == "schema":
        return len(key) > 1 and key[0] not in ("extension", "bucket") and key[1] == parent[1]
    return parent[0] == "relation" and key[0] in ("column", "policy", "constraint", "fk") and key[1:3] == parent[1:3]


def _reparent(key: Key, old: Key, new: Key) -> Key:
    if old[0] == "schema":
        return (key[0], new[1], *key[2:])
    return (key[0], new[1], new[2], *key[3:])


def _node(text: str) -> Node | None:
    """The statement's parse tree: {"Kind": {...}}."""
    try:
        statements = json.loads(parse_json(text)).get("stmts") or []
    except SqlSyntaxError:
        return None
    if not statements:
        return None
    stmt: Node = statements[0].get("stmt") or {}
    return stmt


def _strings(items: list[Node] | None) -> list[str]:
    return [item["String"]["sval"] for item in items or () if "String" in item]


def _const(node: Node | None) -> str | None:
    """The text of a string constant (A_Const), or of a named argument's constant."""
    if not node:
        return None
    if "NamedArgExpr" in node:
        return _const(node["NamedArgExpr"].get("arg"))
    value = node.get("A_Const", {}).get("sval")
    return value.get("sval", "") if isinstance(value, dict) else None


def normal_type(name: str) -> str:
    """A type name as both the parser and format_type() can agree on it: unqualified, unquoted, lower-case."""
    array = name.endswith("[]")
    bare = name[:-2] if array else name
    if "." in bare:
        bare = re.split(r'\.(?=(?:[^"]*"[^"]*")*[^"]*$)', bare)[-1]
    bare = bare.replace('"', "").lower()
    bare = re.sub(r"\(.*\)", "", bare).strip()
    return TYPE_NAMES.get(bare, bare) + ("[]" if array else "")


def type_name(node: Node | None) -> str:
    """The normal_type() of a TypeName node."""
    if not node:
        return "?"
    names = _strings(node.get("names"))
    if node.get("pct_type") or not names:
        return "?"
    bare = TYPE_NAMES.get(names[-1].lower(), names[-1].lower())
    return bare + ("[]" if node.get("arrayBounds") else "")


def signature(types: Iterable[str]) -> str:
    return ",".join(types)


def _input_types(parameters: list[Node] | None) -> tuple[str, ...]:
    """The input argument types of a function's parameter list (OUT and TABLE columns are not arguments)."""
    found = []
    for item in parameters or ():
        parameter = item.get("FunctionParameter")
        if parameter and parameter.get("mode", "FUNC_PARAM_DEFAULT") in INPUT_MODES:
            found.append(type_name(parameter.get("argType")))
    return tuple(found)


def _with_args(node: Node) -> tuple[list[str], tuple[str, ...] | None]:
    """An ObjectWithArgs: its qualified name, and its argument types (None: written without them)."""
    if node.get("args_unspecified"):
        return _strings(node.get("objname")), None
    return _strings(node.get("objname")), tuple(type_name(t.get("TypeName")) for t in node.get("objargs") or ())


def _split(names: list[str]) -> tuple[str | None, str]:
    return (names[-2] if len(names) > 1 else None), names[-1]


def object_name(name1: str, name2: str | None, label: str | None) -> str:
    """The name PostgreSQL gives an unnamed constraint or index (makeObjectName): name1_name2_label,
    shortened to 63 bytes by trimming the longer of name1 and name2 first."""
    overhead = (1 if name2 else 0) + (len(label) + 1 if label else 0)
    room = NAMEDATALEN - 1 - overhead
    first, second = len(name1.encode()), len(name2.encode()) if name2 else 0
    while first + second > room:
        if first > second:
            first -= 1
        else:
            second -= 1
    result = name1.encode()[:first].decode(errors="ignore")
    if name2:
        result += "_" + name2.encode()[:second].decode(errors="ignore")
    return result + (f"_{label}" if label else "")


# -- statements ---------------------------------------------------------------------------------------------

Handler = Callable[[Ledger, Node, _Context], None]


def _create_table(ledger: Ledger, node: Node, context: _Context, kind: str = "table") -> None:
    relation = node.get("relation") or {}
    if relation.get("relpersistence") == "t":
        return
    key = ("relation", relation.get("schemaname") or _create_schema(context), relation["relname"])
    if node.get("if_not_exists") and key in ledger.events:
        return
    ledger.forget(key)
    ledger.note(key, Change.CREATE, context, fresh=True)
    ledger.kinds[key] = "partition" if node.get("partbound") else kind
    for element in node.get("tableElts") or ():
        if "ColumnDef" in element:
            _column(ledger, key, element["ColumnDef"], context)
        elif "Constraint" in element:
            _constraint(ledger, key, element["Constraint"], context)


def _create_schema(context: _Context) -> str:
    path = [s for s in context.path if s and s != "$user"]
    return path[0] if path else "public"


def _column(ledger: Ledger, table: Key, column: Node, context: _Context) -> None:
    name = column.get("colname", "")
    ledger.note(("column", table[1], table[2], name), Change.CREATE, context, fresh=True)
    for item in column.get("constraints") or ():
        constraint = item.get("Constraint", {})
        if constraint.get("contype") in ("CONSTR_FOREIGN", "CONSTR_PRIMARY", "CONSTR_UNIQUE"):
            _constraint(ledger, table, {**constraint, "fk_attrs": None, "keys": None}, context, (name,))


def _constraint(ledger: Ledger, table: Key, constraint: Node, context: _Context,
                columns: tuple[str, ...] = ()) -> None:
    kind = constraint.get("contype")
    cols = columns or tuple(_strings(constraint.get("fk_attrs") if kind == "CONSTR_FOREIGN"
                                     else constraint.get("keys")))
    schema, relname = table[1], table[2]
    if kind == "CONSTR_FOREIGN":
        name = constraint.get("conname") or object_name(relname, "_".join(cols), "fkey")
        ledger.note(("constraint", schema, relname, name), Change.CREATE, context, fresh=True)
        ledger.note(("fk", schema, relname, ",".join(cols)), Change.CREATE, context, fresh=True)
    elif kind in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
        label = "pkey" if kind == "CONSTR_PRIMARY" else "key"
        name = constraint.get("conname") or (
            object_name(relname, None, "pkey") if label == "pkey" else object_name(relname, "_".join(cols), "key"))
        ledger.note(("constraint", schema, relname, name), Change.CREATE, context, fresh=True)
        index = ("index", schema, constraint.get("indexname") or name)
        ledger.note(index, Change.CREATE, context, fresh=True)
        ledger._index_table[index] = table


def _create_foreign_table(ledger: Ledger, node: Node, context: _Context) -> None:
    _create_table(ledger, node.get("base") or {}, context, "foreign table")


def _create_table_as(ledger: Ledger, node: Node, context: _Context) -> None:
    relation = (node.get("into") or {}).get("rel") or {}
    kind = "materialized view" if node.get("objtype") == "OBJECT_MATVIEW" else "table"
    _create_table(ledger, {"relation": relation, "if_not_exists": node.get("if_not_exists")}, context, kind)


def _view(ledger: Ledger, node: Node, context: _Context) -> None:
    view = node.get("view") or {}
    if view.get("relpersistence") == "t":
        return
    key: Key
    if view.get("schemaname"):
        key = ("relation", view["schemaname"], view["relname"])
    elif node.get("replace"):  # replacing resolves like a reference; creating goes to the path's first schema
        key = ledger.resolve("relation", None, (view["relname"],), context)
    else:
        key = ("relation", _create_schema(context), view["relname"])
    ledger.note(key, Change.CREATE, context, fresh=not node.get("replace"))
    ledger.kinds[key] = "view"


def _relation_key(ledger: Ledger, relation: Node, context: _Context) -> Key:
    return ledger.resolve("relation", relation.get("schemaname"), (relation.get("relname", ""),), context)


_TABLE_COMMANDS = {"AT_EnableRowSecurity": Change.RLS, "AT_DisableRowSecurity": Change.RLS,
                   "AT_ForceRowSecurity": Change.RLS, "AT_NoForceRowSecurity": Change.RLS,
                   "AT_SetRelOptions": Change.OPTIONS, "AT_ResetRelOptions": Change.OPTIONS,
                   "AT_ReplaceRelOptions": Change.OPTIONS, "AT_ChangeOwner": Change.OWNER}


def _alter_table(ledger: Ledger, node: Node, context: _Context) -> None:
    relation = node.get("relation") or {}
    if node.get("objtype") == "OBJECT_INDEX":
        return
    key = _relation_key(ledger, relation, context)
    for item in node.get("cmds") or ():
        command = item.get("AlterTableCmd", {})
        subtype = command.get("subtype", "")
        definition = command.get("def") or {}
        if subtype == "AT_AddColumn" and "ColumnDef" in definition:
            _column(ledger, key, definition["ColumnDef"], context)
        elif subtype == "AT_AddConstraint" and "Constraint" in definition:
            _constraint(ledger, key, definition["Constraint"], context)
        elif subtype == "AT_AlterColumnType":
            ledger.note(("column", key[1], key[2], command.get("name", "")), Change.ALTER, context)
        elif subtype == "AT_DropColumn":
            ledger.forget(("column", key[1], key[2], command.get("name", "")))
        elif subtype == "AT_DropConstraint":
            ledger.forget(("constraint", key[1], key[2], command.get("name", "")))
        else:
            ledger.note(key, _TABLE_COMMANDS.get(subtype, Change.ALTER), context)


def _rename(ledger: Ledger, node: Node, context: _Context) -> None:
    kind, new = node.get("renameType", ""), node.get("newname", "")
    relation = node.get("relation") or {}
    if kind in RELATION_KINDS:
        old = _relation_key(ledger, relation, context)
        ledger.move(old, ("relation", old[1], new))
    elif kind in ("OBJECT_COLUMN", "OBJECT_TABCONSTRAINT", "OBJECT_POLICY"):
        table = _relation_key(ledger, relation, context)
        part = {"OBJECT_COLUMN": "column", "OBJECT_TABCONSTRAINT": "constraint", "OBJECT_POLICY": "policy"}[kind]
        ledger.move((part, table[1], table[2], node.get("subname", "")), (part, table[1], table[2], new))
    elif kind == "OBJECT_INDEX":
        old = ledger.resolve("index", relation.get("schemaname"), (relation.get("relname", ""),), context)
        ledger.move(old, ("index", old[1], new))
        if old in ledger._index_table:
            ledger._index_table[("index", old[1], new)] = ledger._index_table.pop(old)
    elif kind in FUNCTION_KINDS and "ObjectWithArgs" in (node.get("object") or {}):
        for key in _function_keys(ledger, node["object"]["ObjectWithArgs"], context):
            ledger.move(key, ("function", key[1], new, key[3]))
    elif kind == "OBJECT_SCHEMA":
        ledger.move(("schema", node.get("subname", "")), ("schema", new))


def _set_schema(ledger: Ledger, node: Node, context: _Context) -> None:
    kind, schema = node.get("objectType", ""), node.get("newschema", "")
    if kind in RELATION_KINDS:
        old = _relation_key(ledger, node.get("relation") or {}, context)
        ledger.move(old, ("relation", schema, old[2]))
        ledger.note(("relation", schema, old[2]), Change.ALTER, context)
    elif kind in FUNCTION_KINDS and "ObjectWithArgs" in (node.get("object") or {}):
        for key in _function_keys(ledger, node["object"]["ObjectWithArgs"], context):
            ledger.move(key, ("function", schema, key[2], key[3]))
            ledger.note(("function", schema, key[2], key[3]), Change.ALTER, context)
    elif kind == "OBJECT_EXTENSION":
        for name in _strings([node.get("object") or {}]):
            ledger.note(("extension", name), Change.ALTER, context)


def _alter_owner(ledger: Ledger, node: Node, context: _Context) -> None:
    if node.get("objectType") in FUNCTION_KINDS and "ObjectWithArgs" in (node.get("object") or {}):
        for key in _function_keys(ledger, node["object"]["ObjectWithArgs"], context):
            ledger.note(key, Change.OWNER, context)


def _index(ledger: Ledger, node: Node, context: _Context) -> None:
    table = _relation_key(ledger, node.get("relation") or {}, context)
    name = node.get("idxname")
    if not name:
        columns = [_index_column(e["IndexElem"]) for e in node.get("indexParams") or () if "IndexElem" in e]
        label = "pkey" if node.get("primary") else "key" if node.get("isconstraint") else "idx"
        name = object_name(table[2], "_".join(columns) or None, label)
    key = ("index", table[1], name)
    if node.get("if_not_exists") and key in ledger.events:
        return
    ledger.note(key, Change.CREATE, context, fresh=True)
    ledger._index_table[key] = table


def _index_column(element: Node) -> str:
    """How PostgreSQL names an index column in a default index name: the column, a function's name, or expr."""
    if element.get("name"):
        return str(element["name"])
    call = (element.get("expr") or {}).get("FuncCall")
    names = _strings(call.get("funcname")) if call else []
    return names[-1] if names else "expr"


def _policy(ledger: Ledger, node: Node, context: _Context, change: Change) -> None:
    table = _relation_key(ledger, node.get("table") or {}, context)
    ledger.note(("policy", table[1], table[2], node.get("policy_name", "")), change, context,
                fresh=change is Change.CREATE)


def _create_policy(ledger: Ledger, node: Node, context: _Context) -> None:
    _policy(ledger, node, context, Change.CREATE)


def _alter_policy(ledger: Ledger, node: Node, context: _Context) -> None:
    _policy(ledger, node, context, Change.ALTER)


def _drop(ledger: Ledger, node: Node, context: _Context) -> None:
    kind = node.get("removeType", "")
    for item in node.get("objects") or ():
        if "List" in item and not _strings(item["List"].get("items")):
            continue
        if kind in RELATION_KINDS and "List" in item:
            schema, name = _split(_strings(item["List"].get("items")))
            ledger.forget(ledger.resolve("relation", schema, (name,), context))
        elif kind == "OBJECT_INDEX" and "List" in item:
            schema, name = _split(_strings(item["List"].get("items")))
            ledger.forget(ledger.resolve("index", schema, (name,), context))
        elif kind == "OBJECT_POLICY" and "List" in item:
            names = _strings(item["List"].get("items"))
            schema, name = _split(names[:-1])
            table = ledger.resolve("relation", schema, (name,), context)
            ledger.forget(("policy", table[1], table[2], names[-1]))
        elif kind in FUNCTION_KINDS and "ObjectWithArgs" in item:
            for key in _function_keys(ledger, item["ObjectWithArgs"], context):
                ledger.forget(key)
        elif kind == "OBJECT_EXTENSION" and "String" in item:
            ledger.forget(("extension", item["String"]["sval"]))
        elif kind == "OBJECT_SCHEMA" and "String" in item:
            ledger.forget(("schema", item["String"]["sval"]))


def _function_keys(ledger: Ledger, node: Node, context: _Context) -> list[Key]:
    """The functions an ObjectWithArgs names (every overload when written without arguments)."""
    names, types = _with_args(node)
    if not names:
        return []
    schema, name = _split(names)
    if types is not None:
        return [ledger.resolve("function", schema, (name, signature(types)), context)]
    found = [k for k in ledger.events if k[0] == "function" and k[2] == name and (schema is None or k[1] == schema)]
    return found


def _create_function(ledger: Ledger, node: Node, context: _Context) -> None:
    schema, name = _split(_strings(node.get("funcname")))
    types = _input_types(node.get("parameters"))
    key = ("function", schema or _create_schema(context), name, signature(types))
    ledger.note(key, Change.CREATE, context, fresh=not node.get("replace"))
    ledger.functions[key] = Function(key[1], name, types, _rpc(node))


def _rpc(node: Node) -> bool:
    """Whether PostgREST would offer it as /rpc/name: a function (not a procedure) that returns no trigger,
    whose input arguments are named, or that takes one unnamed json, jsonb, text, xml or bytea."""
    if node.get("is_procedure") or type_name(node.get("returnType")) in ("trigger", "event_trigger"):
        return False
    inputs = [p["FunctionParameter"] for p in node.get("parameters") or ()
              if p.get("FunctionParameter", {}).get("mode", "FUNC_PARAM_DEFAULT") in INPUT_MODES]
    unnamed = [p for p in inputs if not p.get("name")]
    return not unnamed or (len(unnamed) == 1 and type_name(unnamed[0].get("argType")) in
                           ("json", "jsonb", "text", "xml", "bytea"))


def _alter_function(ledger: Ledger, node: Node, context: _Context) -> None:
    for key in _function_keys(ledger, node.get("func") or {}, context):
        ledger.note(key, Change.ALTER, context)


def _define(ledger: Ledger, node: Node, context: _Context) -> None:
    if node.get("kind") != "OBJECT_AGGREGATE":
        return
    schema, name = _split(_strings(node.get("defnames")))
    args = (node.get("args") or [{}])[0].get("List", {}).get("items")
    key = ("function", schema or _create_schema(context), name, signature(_input_types(args)))
    ledger.note(key, Change.CREATE, context, fresh=not node.get("replace"))


def _grant(ledger: Ledger, node: Node, context: _Context) -> None:
    """GRANT (a REVOKE never causes a finding: not recorded), with the roles it grants to."""
    if not node.get("is_grant"):
        return
    kind, target = node.get("objtype", ""), node.get("targtype", "")
    grantees = frozenset(_grantee(g.get("RoleSpec") or {}) for g in node.get("grantees") or ())
    if target == "ACL_TARGET_ALL_IN_SCHEMA":
        what = "table" if kind == "OBJECT_TABLE" else "function" if kind in FUNCTION_KINDS else ""
        for schema in _strings(node.get("objects")) if what else ():
            ledger.note(("schema-grant", schema, what), Change.GRANT, context, grantees=grantees)
        return
    for item in node.get("objects") or ():
        if kind == "OBJECT_TABLE" and "RangeVar" in item:
            ledger.note(_relation_key(ledger, item["RangeVar"], context), Change.GRANT, context, grantees=grantees)
        elif kind in FUNCTION_KINDS and "ObjectWithArgs" in item:
            for key in _function_keys(ledger, item["ObjectWithArgs"], context):
                ledger.note(key, Change.GRANT, context, grantees=grantees)


def _grantee(role: Node) -> str:
    return "public" if role.get("roletype") == "ROLESPEC_PUBLIC" else str(role.get("rolename") or "")


def _create_extension(ledger: Ledger, node: Node, context: _Context) -> None:
    key = ("extension", node.get("extname", ""))
    if node.get("if_not_exists") and key in ledger.events:
        return
    ledger.note(key, Change.CREATE, context, fresh=True)


def _alter_extension(ledger: Ledger, node: Node, context: _Context) -> None:
    ledger.note(("extension", node.get("extname", "")), Change.ALTER, context)


def _is_buckets(ledger: Ledger, relation: Node, context: _Context) -> bool:
    return _relation_key(ledger, relation, context)[1:] == ("storage", "buckets") or (
        relation.get("relname") == "buckets" and relation.get("schemaname") in (None, "storage")
        and "storage" in context.path)


def _insert(ledger: Ledger, node: Node, context: _Context) -> None:
    if not _is_buckets(ledger, node.get("relation") or {}, context):
        return
    columns = [c.get("ResTarget", {}).get("name") for c in node.get("cols") or ()]
    position = columns.index("id") if "id" in columns else 0
    rows = ((node.get("selectStmt") or {}).get("SelectStmt") or {}).get("valuesLists") or ()
    for row in rows:
        values = row.get("List", {}).get("items") or []
        bucket = _const(values[position]) if position < len(values) else None
        if bucket is not None:
            ledger.note(("bucket", bucket), Change.CREATE, context)


def _update(ledger: Ledger, node: Node, context: _Context) -> None:
    if not _is_buckets(ledger, node.get("relation") or {}, context):
        return
    where = (node.get("whereClause") or {}).get("A_Expr") or {}
    column = _strings(((where.get("lexpr") or {}).get("ColumnRef") or {}).get("fields"))
    bucket = _const(where.get("rexpr"))
    if column == ["id"] and bucket is not None:
        ledger.note(("bucket", bucket), Change.ALTER, context)


def _select(ledger: Ledger, node: Node, context: _Context) -> None:
    for target in node.get("targetList") or ():
        call = (target.get("ResTarget", {}).get("val") or {}).get("FuncCall")
        if not call:
            continue
        names = _strings(call.get("funcname"))
        args = call.get("args") or []
        if len(names) == 2 and names[0] == "pgmq" and names[1] in PGMQ_CREATORS and args:
            queue = _const(args[0])
            if queue:
                for prefix in ("q_", "a_"):
                    key = ("relation", "pgmq", prefix + queue.lower())
                    ledger.note(key, Change.CREATE, context, fresh=True)
                    ledger.kinds[key] = "table"
        elif names[-1:] == ["set_config"] and len(args) >= 2 and _const(args[0]) == "search_path":
            context.path = _path(_const(args[1]) or "")


def _path(value: str) -> tuple[str, ...]:
    """A search_path setting's schemas, unquoted."""
    return tuple(part.strip().strip('"') for part in value.split(",") if part.strip())


def _variable_set(ledger: Ledger, node: Node, context: _Context) -> None:
    if node.get("kind") == "VAR_RESET_ALL":
        context.path = DEFAULT_SEARCH_PATH
    if node.get("name") != "search_path":
        return
    if node.get("kind") == "VAR_SET_VALUE":
        values = [_const(a) for a in node.get("args") or ()]
        context.path = tuple(p for v in values if v is not None for p in _path(v))
    elif node.get("kind") in ("VAR_SET_DEFAULT", "VAR_RESET"):
        context.path = DEFAULT_SEARCH_PATH


def _alter_role_set(ledger: Ledger, node: Node, context: _Context) -> None:
    setting = (node.get("setstmt") or {}).get("name") or ""
    if setting.startswith("pgrst."):
        ledger.config_changed = True


def _create_schema_stmt(ledger: Ledger, node: Node, context: _Context) -> None:
    """CREATE SCHEMA s CREATE TABLE ...: the elements are created in s."""
    inner = _Context(context.file, context.line, (node.get("schemaname") or "public",))
    for element in node.get("schemaElts") or ():
        for kind, child in element.items():
            handler = _HANDLERS.get(kind)
            if handler is not None:
                handler(ledger, {kind: child}, inner)


def _unwrap(handler: Callable[[Ledger, Node, _Context], None], kind: str) -> Handler:
    def run(ledger: Ledger, node: Node, context: _Context) -> None:
        handler(ledger, node.get(kind) or {}, context)

    return run


_HANDLERS: dict[str, Handler] = {kind: _unwrap(handler, kind) for kind, handler in {
    "CreateStmt": _create_table, "CreateForeignTableStmt": _create_foreign_table,
    "CreateTableAsStmt": _create_table_as, "ViewStmt": _view, "AlterTableStmt": _alter_table,
    "RenameStmt": _rename, "AlterObjectSchemaStmt": _set_schema, "AlterOwnerStmt": _alter_owner,
    "IndexStmt": _index, "CreatePolicyStmt": _create_policy, "AlterPolicyStmt": _alter_policy, "DropStmt": _drop,
    "CreateFunctionStmt": _create_function, "AlterFunctionStmt": _alter_function, "DefineStmt": _define,
    "GrantStmt": _grant, "CreateExtensionStmt": _create_extension, "AlterExtensionStmt": _alter_extension,
    "InsertStmt": _insert, "UpdateStmt": _update, "SelectStmt": _select, "VariableSetStmt": _variable_set,
    "AlterRoleSetStmt": _alter_role_set, "CreateSchemaStmt": _create_schema_stmt,
}.items()}

