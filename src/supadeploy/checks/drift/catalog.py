"""The catalog of what migrations own, read in one request, as typed objects ready to compare.

`read_catalog` sends sql/catalog.sql (one read-only statement after a search_path setting, so it works
through the Management API's read-only endpoint) and `parse_catalog` turns its one JSON value into
objects, each with a key (what identifies it on both sides), a parent (whose absence already explains
it), the attributes that are compared, and a label that names it for people.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from enum import StrEnum
from importlib import resources
from typing import Any, ClassVar

from ...errors import TargetError
from ...sqltext import ident, literal
from ...targets.base import Target, read_only, single_json
from . import normalize
from .scope import PLATFORM_EXTENSIONS, Scope, grant_key, platform_role

Key = tuple[str, ...]


class Kind(StrEnum):
    SCHEMA = "schema"
    EXTENSION = "extension"
    ENUM = "enum"
    DOMAIN = "domain"
    COMPOSITE = "type"
    RANGE = "range type"
    SEQUENCE = "sequence"
    TABLE = "table"
    PARTITIONED_TABLE = "partitioned table"
    FOREIGN_TABLE = "foreign table"
    VIEW = "view"
    MATERIALIZED_VIEW = "materialized view"
    COLUMN = "column"
    CONSTRAINT = "constraint"
    INDEX = "index"
    TRIGGER = "trigger"
    POLICY = "policy"
    ROW_SECURITY = "row level security"
    FUNCTION = "function"
    PROCEDURE = "procedure"
    AGGREGATE = "aggregate"
    WINDOW_FUNCTION = "window function"
    GRANT = "grant"
    DEFAULT_PRIVILEGES = "default privileges"
    PUBLICATION = "publication"
    PUBLISHED_TABLE = "publication member"


RELATION_KINDS = {"r": Kind.TABLE, "p": Kind.PARTITIONED_TABLE, "f": Kind.FOREIGN_TABLE, "v": Kind.VIEW,
                  "m": Kind.MATERIALIZED_VIEW, "S": Kind.SEQUENCE}
FUNCTION_KINDS = {"f": Kind.FUNCTION, "p": Kind.PROCEDURE, "a": Kind.AGGREGATE, "w": Kind.WINDOW_FUNCTION}
TYPE_KINDS = {"e": Kind.ENUM, "d": Kind.DOMAIN, "c": Kind.COMPOSITE, "r": Kind.RANGE}
OWNING_ROLES = frozenset({"postgres", "pg_database_owner", "supabase_admin"})
DEFAULT_ACL_OBJECTS = {"r": "tables", "S": "sequences", "f": "functions", "T": "types", "n": "schemas"}


def qname(schema: str, name: str) -> str:
    """schema.name as PostgreSQL would need it written."""
    return f"{ident(schema)}.{ident(name)}"


@dataclass(frozen=True)
class CatalogObject:
    """One thing a migration can own. Subclasses say what identifies them and what is compared."""

    KIND: ClassVar[Kind]
    compared: ClassVar[tuple[str, ...]] = ()

    @property
    def kind(self) -> Kind:
        return self.KIND

    @property
    def key(self) -> Key:
        raise NotImplementedError

    @property
    def label(self) -> str:
        """Names the object, e.g. `policy "read own" on public.notes`."""
        raise NotImplementedError

    @property
    def summary(self) -> str:
        """The label with what matters when the object is there on one side only (a column's type)."""
        return self.label

    @property
    def parents(self) -> tuple[Key, ...]:
        """Keys of objects whose absence on one side already explains this one's."""
        return ()

    @property
    def follows_parent(self) -> bool:
        """True when its presence follows from its parent's definition (a view's columns): never reported alone."""
        return False

    def compared_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.compared}


@dataclass(frozen=True)
class Schema(CatalogObject):
    KIND: ClassVar[Kind] = Kind.SCHEMA
    compared: ClassVar[tuple[str, ...]] = ("owner", "comment")
    name: str
    owner: str | None
    comment: str | None

    @property
    def key(self) -> Key:
        return ("schema", self.name)

    @property
    def label(self) -> str:
        return f"schema {ident(self.name)}"


@dataclass(frozen=True)
class Extension(CatalogObject):
    KIND: ClassVar[Kind] = Kind.EXTENSION
    compared: ClassVar[tuple[str, ...]] = ("schema",)
    name: str
    schema: str
    version: str  # read for the report, never compared: the platform upgrades extensions on its own

    @property
    def key(self) -> Key:
        return ("extension", self.name)

    @property
    def label(self) -> str:
        return f"extension {ident(self.name)}"

    @property
    def summary(self) -> str:
        return f"{self.label} (schema {ident(self.schema)})"


@dataclass(frozen=True)
class UserType(CatalogObject):
    """An enum, domain, composite or range type."""

    KIND: ClassVar[Kind] = Kind.ENUM
    compared: ClassVar[tuple[str, ...]] = ("type_kind", "values", "base", "not_null", "default", "constraints",
                                           "attributes", "subtype", "owner", "comment")
    schema: str
    name: str
    type_kind: Kind
    values: tuple[str, ...] = ()  # enum labels, in their order
    base: str | None = None  # domain
    not_null: bool = False
    default: str | None = None
    constraints: tuple[tuple[str, str], ...] = ()  # domain CHECKs: name, definition
    attributes: tuple[tuple[str, str], ...] = ()  # composite: name, type
    subtype: str | None = None  # range
    owner: str | None = None
    comment: str | None = None

    @property
    def kind(self) -> Kind:
        return self.type_kind

    @property
    def key(self) -> Key:
        return ("type", self.schema, self.name)

    @property
    def label(self) -> str:
        return f"{self.type_kind.value} {qname(self.schema, self.name)}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("schema", self.schema),)


@dataclass(frozen=True)
class Relation(CatalogObject):
    """A table (plain, partitioned, foreign), a view, a materialized view or a sequence."""

    KIND: ClassVar[Kind] = Kind.TABLE
    compared: ClassVar[tuple[str, ...]] = ("relation_kind", "owner", "persistence", "replica_identity", "options",
                                           "partition_key", "partition_of", "partition_bound", "inherits",
                                           "definition", "sequence", "owned_by", "comment")
    schema: str
    name: str
    relation_kind: Kind
    owner: str | None = None
    persistence: str = "p"
    replica_identity: str = "d"
    options: tuple[str, ...] = ()
    partition_key: str | None = None
    partition_of: str | None = None
    partition_bound: str | None = None
    inherits: tuple[str, ...] = ()
    definition: str | None = None  # views: pg_get_viewdef, folded
    sequence: tuple[tuple[str, Any], ...] | None = None  # type, start, increment, min, max, cache, cycle
    owned_by: str | None = None
    comment: str | None = None
    depends_on: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # views: relations they read
    raw_definition: str | None = field(default=None, compare=False)  # views: as PostgreSQL deparsed it

    @property
    def kind(self) -> Kind:
        return self.relation_kind

    @property
    def key(self) -> Key:
        return ("relation", self.schema, self.name)

    @property
    def label(self) -> str:
        return f"{self.relation_kind.value} {qname(self.schema, self.name)}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("schema", self.schema),)

    @property
    def qualified(self) -> str:
        return qname(self.schema, self.name)

    @property
    def is_view(self) -> bool:
        return self.relation_kind in (Kind.VIEW, Kind.MATERIALIZED_VIEW)


@dataclass(frozen=True)
class Column(CatalogObject):
    KIND: ClassVar[Kind] = Kind.COLUMN
    compared: ClassVar[tuple[str, ...]] = ("type", "not_null", "default", "generated", "generated_kind", "identity",
                                           "collation", "comment")
    schema: str
    table: str
    name: str
    type: str
    not_null: bool = False
    default: str | None = None
    generated: str | None = None
    generated_kind: str | None = None  # s stored, v virtual (PostgreSQL 18)
    identity: str | None = None  # a always, d by default
    collation: str | None = None
    comment: str | None = None
    position: int = field(default=0, compare=False)  # column order is not compared (a re-added column moves)
    of_view: bool = field(default=False, compare=False)

    @property
    def key(self) -> Key:
        return ("column", self.schema, self.table, self.name)

    @property
    def label(self) -> str:
        return f"column {qname(self.schema, self.table)}.{ident(self.name)}"

    @property
    def summary(self) -> str:
        return f"{self.label} {self.type}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("relation", self.schema, self.table), ("schema", self.schema))

    @property
    def follows_parent(self) -> bool:
        return self.of_view

    def compared_values(self) -> dict[str, Any]:
        if self.of_view:  # a view's columns follow its definition; only what is set on them apart is compared
            return {"default": self.default, "comment": self.comment}
        return super().compared_values()


@dataclass(frozen=True)
class Constraint(CatalogObject):
    KIND: ClassVar[Kind] = Kind.CONSTRAINT
    compared: ClassVar[tuple[str, ...]] = ("definition", "comment")
    schema: str
    table: str
    name: str
    constraint_type: str  # p u f c x t
    definition: str
    comment: str | None = None
    inherited: bool = field(default=False, compare=False)

    @property
    def key(self) -> Key:
        return ("constraint", self.schema, self.table, self.name)

    @property
    def label(self) -> str:
        return f"constraint {ident(self.name)} on {qname(self.schema, self.table)}"

    @property
    def summary(self) -> str:
        return f"{self.label} ({self.definition})"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("relation", self.schema, self.table), ("schema", self.schema))


@dataclass(frozen=True)
class Index(CatalogObject):
    KIND: ClassVar[Kind] = Kind.INDEX
    compared: ClassVar[tuple[str, ...]] = ("definition", "valid", "comment")
    schema: str
    table: str
    name: str
    definition: str
    valid: bool = True
    comment: str | None = None
    inherited: bool = field(default=False, compare=False)

    @property
    def key(self) -> Key:
        return ("index", self.schema, self.name)

    @property
    def label(self) -> str:
        return f"index {qname(self.schema, self.name)} on {qname(self.schema, self.table)}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("relation", self.schema, self.table), ("schema", self.schema))


@dataclass(frozen=True)
class Trigger(CatalogObject):
    KIND: ClassVar[Kind] = Kind.TRIGGER
    compared: ClassVar[tuple[str, ...]] = ("definition", "enabled", "comment")
    schema: str
    table: str
    name: str
    definition: str
    enabled: str = "O"  # O origin, D disabled, R replica, A always
    comment: str | None = None
    inherited: bool = field(default=False, compare=False)

    @property
    def key(self) -> Key:
        return ("trigger", self.schema, self.table, self.name)

    @property
    def label(self) -> str:
        return f"trigger {ident(self.name)} on {qname(self.schema, self.table)}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("relation", self.schema, self.table), ("schema", self.schema))


@dataclass(frozen=True)
class Policy(CatalogObject):
    KIND: ClassVar[Kind] = Kind.POLICY
    compared: ClassVar[tuple[str, ...]] = ("permissive", "command", "roles", "using", "check", "comment")
    schema: str
    table: str
    name: str
    permissive: bool
    command: str  # r a w d *
    roles: tuple[str, ...]
    using: str | None
    check: str | None
    comment: str | None = None

    @property
    def key(self) -> Key:
        return ("policy", self.schema, self.table, self.name)

    @property
    def label(self) -> str:
        return f'policy "{self.name}" on {qname(self.schema, self.table)}'

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("relation", self.schema, self.table), ("schema", self.schema))


@dataclass(frozen=True)
class RowSecurity(CatalogObject):
    KIND: ClassVar[Kind] = Kind.ROW_SECURITY
    compared: ClassVar[tuple[str, ...]] = ("enabled", "forced")
    schema: str
    table: str
    enabled: bool
    forced: bool

    @property
    def key(self) -> Key:
        return ("rls", self.schema, self.table)

    @property
    def label(self) -> str:
        return f"row level security on {qname(self.schema, self.table)}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("relation", self.schema, self.table), ("schema", self.schema))


@dataclass(frozen=True)
class Function(CatalogObject):
    KIND: ClassVar[Kind] = Kind.FUNCTION
    compared: ClassVar[tuple[str, ...]] = ("function_kind", "arguments", "result", "language", "body",
                                           "security_definer", "volatility", "strict", "leakproof", "parallel",
                                           "cost", "rows", "config", "owner", "comment")
    schema: str
    name: str
    identity: str  # the argument types that identify it
    function_kind: Kind
    arguments: str  # with names and defaults
    result: str | None
    language: str
    body: str | None  # normalised (see normalize.body)
    security_definer: bool = False
    volatility: str = "v"
    strict: bool = False
    leakproof: bool = False
    parallel: str = "u"
    cost: float = 100
    rows: float = 0
    config: tuple[str, ...] = ()  # SET clauses (search_path...), sorted
    owner: str | None = None
    comment: str | None = None
    ddl: str | None = field(default=None, compare=False)  # pg_get_functiondef, for capture
    standard_body: bool = field(default=False, compare=False)  # BEGIN ATOMIC / RETURN: parsed when created

    @property
    def kind(self) -> Kind:
        return self.function_kind

    @property
    def key(self) -> Key:
        return ("function", self.schema, self.name, self.identity)

    @property
    def signature(self) -> str:
        return f"{qname(self.schema, self.name)}({self.identity})"

    @property
    def label(self) -> str:
        return f"{self.function_kind.value} {self.signature}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("schema", self.schema),)


@dataclass(frozen=True)
class Grant(CatalogObject):
    """What one grantee may do with one object (the owner included), grant options marked `*`."""

    KIND: ClassVar[Kind] = Kind.GRANT
    compared: ClassVar[tuple[str, ...]] = ("privileges",)
    on: str  # e.g. `table public.notes`, `column public.notes.body`, `function public.f(integer)`
    grantee: str
    privileges: tuple[str, ...]
    object_key: Key = field(default=(), compare=False)
    object_kind: str = field(default="table", compare=False)  # the word GRANT needs: TABLE, SEQUENCE...
    target: str = field(default="", compare=False)  # the object as GRANT names it
    column: str | None = field(default=None, compare=False)

    @property
    def key(self) -> Key:
        return ("grant", self.on, self.grantee)

    @property
    def label(self) -> str:
        return f"privileges of {self.grantee} on {self.on}"

    @property
    def summary(self) -> str:
        return f"grant {', '.join(self.privileges)} on {self.on} to {self.grantee}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (self.object_key,) if self.object_key else ()


@dataclass(frozen=True)
class DefaultPrivileges(CatalogObject):
    KIND: ClassVar[Kind] = Kind.DEFAULT_PRIVILEGES
    compared: ClassVar[tuple[str, ...]] = ("privileges",)
    role: str
    schema: str | None
    objects: str  # tables, sequences, functions, types, schemas
    grantee: str
    privileges: tuple[str, ...]

    @property
    def key(self) -> Key:
        return ("default privileges", self.role, self.schema or "", self.objects, self.grantee)

    @property
    def label(self) -> str:
        where = f" in schema {ident(self.schema)}" if self.schema else ""
        return f"default privileges of {self.role}{where} on {self.objects} for {self.grantee}"

    @property
    def summary(self) -> str:
        return f"{self.label} ({', '.join(self.privileges) or 'none'})"


@dataclass(frozen=True)
class Publication(CatalogObject):
    KIND: ClassVar[Kind] = Kind.PUBLICATION
    compared: ClassVar[tuple[str, ...]] = ("all_tables", "publish", "via_root", "schemas", "owner", "comment")
    name: str
    all_tables: bool
    publish: tuple[str, ...]  # insert, update, delete, truncate
    via_root: bool
    schemas: tuple[str, ...]
    owner: str | None = None
    comment: str | None = None

    @property
    def key(self) -> Key:
        return ("publication", self.name)

    @property
    def label(self) -> str:
        return f"publication {ident(self.name)}"


@dataclass(frozen=True)
class PublishedTable(CatalogObject):
    KIND: ClassVar[Kind] = Kind.PUBLISHED_TABLE
    compared: ClassVar[tuple[str, ...]] = ("where", "columns")
    publication: str
    schema: str
    table: str
    where: str | None = None
    columns: tuple[str, ...] | None = None

    @property
    def key(self) -> Key:
        return ("published", self.publication, self.schema, self.table)

    @property
    def label(self) -> str:
        return f"table {qname(self.schema, self.table)} in publication {ident(self.publication)}"

    @property
    def parents(self) -> tuple[Key, ...]:
        return (("publication", self.publication), ("relation", self.schema, self.table))


@dataclass
class Catalog:
    """Every compared object by key, and what the read said about the server."""

    objects: dict[Key, CatalogObject]
    server_version_num: int
    user: str
    supabase_default_privileges: bool | None = None  # the platform's grants to the API roles on new objects

    def __iter__(self) -> Iterator[CatalogObject]:
        return iter(self.objects.values())

    def get(self, key: Key) -> CatalogObject | None:
        return self.objects.get(key)

    def of_type(self, cls: type[Any]) -> list[Any]:
        return [o for o in self.objects.values() if isinstance(o, cls)]

    def children(self, key: Key) -> list[CatalogObject]:
        return [o for o in self.objects.values() if o.parents and o.parents[0] == key]


CATALOG_SQL = "catalog.sql"


def catalog_sql(scope: Scope) -> str:
    """The request text for this scope."""
    text = resources.files("supadeploy.checks.drift").joinpath("sql", CATALOG_SQL).read_text(encoding="utf-8")
    if text.count(":'scope'") != 1:  # pragma: no cover - guards the packaged file
        raise TargetError(f"{CATALOG_SQL}: expected one :'scope' placeholder")
    return text.replace(":'scope'", literal(scope.payload()))


def read_catalog(target: Target, scope: Scope) -> Catalog:
    """One read-only request (targets.base.read_only): every object migrations can own on `target`, typed
    and normalised."""
    return parse_catalog(single_json(read_only(target, catalog_sql(scope))), scope)


def parse_catalog(result: Any, scope: Scope) -> Catalog:
    if isinstance(result, str):
        result = json.loads(result)
    if not isinstance(result, dict) or "relations" not in result:
        raise TargetError(f"unexpected answer when reading the catalog: {result!r:.200}")
    objects: dict[Key, CatalogObject] = {}

    def add(obj: CatalogObject) -> None:
        objects[obj.key] = obj

    for raw in result.get("schemas") or ():
        _schema(raw, scope, add)
    for raw in result.get("relations") or ():
        _relation(raw, scope, add)
    for raw in result.get("functions") or ():
        _function(raw, scope, add)
    for raw in result.get("types") or ():
        _type(raw, add)
    for raw in result.get("extensions") or ():
        if raw["name"] not in PLATFORM_EXTENSIONS or raw["name"] in scope.extensions:
            add(Extension(raw["name"], raw["schema"], raw.get("version") or ""))
    defaults = _default_privileges(result.get("default_privileges") or (), scope, add)
    in_scope = {(o.schema, o.name) for o in objects.values() if isinstance(o, Relation)} | set(scope.published)
    for raw in result.get("publications") or ():
        _publication(raw, scope, in_scope, add)
    return Catalog(objects, int(result.get("server_version_num") or 0), str(result.get("user") or ""), defaults)


def _acl(raw: list[list[Any]] | None) -> dict[str, tuple[str, ...]]:
    """grantee → sorted privileges, `*` after those it may grant on (the grantor is not compared)."""
    out: dict[str, set[str]] = {}
    for grantee, privilege, grantable in raw or ():
        out.setdefault(grantee, set()).add(privilege + ("*" if grantable else ""))
    return {grantee: tuple(sorted(privileges)) for grantee, privileges in out.items()}


def _grants(acl: list[list[Any]] | None, on: str, object_key: Key, object_kind: str, target: str,
            add: Any, keep: Any = None, column: str | None = None) -> None:
    for grantee, privileges in _acl(acl).items():
        if keep is None or keep(grantee):
            add(Grant(on, grantee, privileges, object_key, object_kind, target, column))


def _schema(raw: dict[str, Any], scope: Scope, add: Any) -> None:
    name = raw["name"]
    key: Key = ("schema", name)
    if raw.get("whole"):
        # public exists before any migration, set up by the platform (its owner and the grants to the roles
        # that own things differ between projects of different ages): only what the API roles get is compared
        add(Schema(name, None if name == "public" else raw.get("owner"), normalize.comment(raw.get("comment"))))
        _grants(raw.get("acl"), f"schema {ident(name)}", key, "SCHEMA", ident(name), add,
                keep=lambda grantee: name != "public" or not (platform_role(grantee) or grantee in OWNING_ROLES))
    else:
        label = f"schema {ident(name)}"
        _grants(raw.get("acl"), label, (), "SCHEMA", ident(name), add,
                keep=lambda grantee: (grant_key("schema", "", name), grantee) in scope.grants)


def _relation(raw: dict[str, Any], scope: Scope, add: Any) -> None:
    schema, name, whole = raw["schema"], raw["name"], bool(raw.get("whole"))
    kind = RELATION_KINDS[raw["kind"]]
    pair = (schema, name)
    key: Key = ("relation", schema, name)
    qualified = qname(schema, name)
    word = {Kind.SEQUENCE: "SEQUENCE"}.get(kind, "TABLE")
    on = f"{kind.value} {qualified}"
    if whole:
        sequence = raw.get("sequence")
        add(Relation(
            schema, name, kind, raw.get("owner"), raw.get("persistence") or "p", raw.get("replica_identity") or "d",
            tuple(sorted(raw.get("options") or ())), raw.get("partition_key"), raw.get("partition_of"),
            raw.get("partition_bound"), tuple(raw.get("inherits") or ()), normalize.fold(raw.get("definition")),
            tuple(sorted(sequence.items())) if sequence else None, raw.get("owned_by"),
            normalize.comment(raw.get("comment")),
            tuple(sorted((d[0], d[1]) for d in raw.get("depends_on") or ())), raw.get("definition")))
        _grants(raw.get("acl"), on, key, word, qualified, add)
    else:
        _grants(raw.get("acl"), on, key, word, qualified, add,
                keep=lambda grantee: (grant_key("table", schema, name), grantee) in scope.grants)
    if kind == Kind.SEQUENCE:
        return
    is_view = kind in (Kind.VIEW, Kind.MATERIALIZED_VIEW)
    if whole:
        for position, col in enumerate(raw.get("columns") or (), 1):
            column = Column(schema, name, col["name"], col["type"], bool(col.get("not_null")),
                            normalize.fold(col.get("default")), normalize.fold(col.get("generated")),
                            col.get("generated_kind"), col.get("identity"), col.get("collation"),
                            normalize.comment(col.get("comment")), position, is_view)
            add(column)
            if col.get("acl"):
                _grants(col["acl"], f"column {qualified}.{ident(col['name'])}", column.key, "TABLE", qualified,
                        add, column=col["name"])
        for con in raw.get("constraints") or ():
            add(Constraint(schema, name, con["name"], con["type"], normalize.fold(con["definition"]) or "",
                           normalize.comment(con.get("comment")), bool(con.get("inherited"))))
    if (whole or pair in scope.rls) and not is_view:
        add(RowSecurity(schema, name, bool(raw.get("rls")), bool(raw.get("force_rls"))))
    for idx in raw.get("indexes") or ():
        if idx.get("constraint"):
            continue  # built by its constraint, compared as the constraint
        if whole or (schema, idx["name"]) in scope.indexes:
            add(Index(schema, name, idx["name"], normalize.fold(idx["definition"]) or "", bool(idx.get("valid", True)),
                      normalize.comment(idx.get("comment")), bool(idx.get("inherited"))))
    for trg in raw.get("triggers") or ():
        if whole or (schema, name, trg["name"]) in scope.triggers:
            add(Trigger(schema, name, trg["name"], normalize.fold(trg["definition"]) or "", trg.get("enabled") or "O",
                        normalize.comment(trg.get("comment")), bool(trg.get("inherited"))))
    if whole or pair in scope.policies_on:
        for pol in raw.get("policies") or ():
            add(Policy(schema, name, pol["name"], bool(pol["permissive"]), pol["command"],
                       tuple(sorted(pol.get("roles") or ())), normalize.fold(pol.get("using")),
                       normalize.fold(pol.get("check")), normalize.comment(pol.get("comment"))))


def _function(raw: dict[str, Any], scope: Scope, add: Any) -> None:
    schema, name = raw["schema"], raw["name"]
    kind = FUNCTION_KINDS[raw["kind"]]
    identity = raw.get("identity") or ""
    whole = scope.owns(schema, name, "function")
    function = Function(
        schema, name, identity, kind, normalize.fold(raw.get("arguments")) or "", normalize.fold(raw.get("result")),
        raw["language"], normalize.body(raw.get("body"), raw["language"]), bool(raw.get("security_definer")),
        raw.get("volatility") or "v", bool(raw.get("strict")), bool(raw.get("leakproof")),
        raw.get("parallel") or "u", float(raw.get("cost") or 0), float(raw.get("rows") or 0),
        tuple(sorted(raw.get("config") or ())), raw.get("owner"), normalize.comment(raw.get("comment")),
        raw.get("ddl"), bool(raw.get("standard_body")))
    on = f"{kind.value} {function.signature}"
    word = "PROCEDURE" if kind == Kind.PROCEDURE else "FUNCTION"
    if whole:
        add(function)
        _grants(raw.get("acl"), on, function.key, word, function.signature, add)
    else:
        _grants(raw.get("acl"), on, (), word, function.signature, add,
                keep=lambda grantee: (grant_key("function", schema, name), grantee) in scope.grants)


def _type(raw: dict[str, Any], add: Any) -> None:
    kind = TYPE_KINDS[raw["kind"]]
    schema, name = raw["schema"], raw["name"]
    obj = UserType(
        schema, name, kind, tuple(raw.get("values") or ()), raw.get("base"), bool(raw.get("not_null")),
        normalize.fold(raw.get("default")),
        tuple((c["name"], normalize.fold(c["definition"]) or "") for c in raw.get("constraints") or ()),
        tuple((a[0], a[1]) for a in raw.get("attributes") or ()), raw.get("subtype"), raw.get("owner"),
        normalize.comment(raw.get("comment")))
    add(obj)
    qualified = qname(schema, name)
    word = "DOMAIN" if kind == Kind.DOMAIN else "TYPE"
    _grants(raw.get("acl"), f"{kind.value} {qualified}", obj.key, word, qualified, add)


def _default_privileges(rows: Any, scope: Scope, add: Any) -> bool:
    """Default privileges a migration can change (the platform's own roles' are left out); returns whether
    the platform grants the API roles on new objects in public (supabase_admin's entries say it)."""
    platform = False
    for raw in rows:
        role, schema = raw["role"], raw.get("schema")
        if role == "supabase_admin" and schema == "public" and raw["type"] == "r":
            platform = platform or "anon" in _acl(raw.get("acl"))
        if platform_role(role) or (schema is not None and not scope.owns(schema)):
            continue
        objects = DEFAULT_ACL_OBJECTS.get(raw["type"], raw["type"])
        for grantee, privileges in _acl(raw.get("acl")).items():
            add(DefaultPrivileges(role, schema, objects, grantee, privileges))
    return platform


def _publication(raw: dict[str, Any], scope: Scope, in_scope: set[tuple[str, str]], add: Any) -> None:
    members = [t for t in raw.get("tables") or () if (t["schema"], t["name"]) in in_scope]
    name = raw["name"]
    if name.startswith("supabase_") and name != "supabase_realtime" and name not in scope.publications:
        return  # the platform's own (supabase_realtime exists on every project and the replay: always compared)
    publish = tuple(action for action in ("insert", "update", "delete", "truncate") if raw.get(action))
    add(Publication(raw["name"], bool(raw.get("all_tables")), publish, bool(raw.get("via_root")),
                    tuple(sorted(raw.get("schemas") or ())), raw.get("owner"), normalize.comment(raw.get("comment"))))
    for table in members:
        columns = table.get("columns")
        add(PublishedTable(raw["name"], table["schema"], table["name"], normalize.fold(table.get("where")),
                           tuple(columns) if columns else None))


def comparable_fields(obj: CatalogObject) -> list[str]:
    """For tests and reports: the dataclass fields that identify or are compared."""
    return [f.name for f in fields(obj) if f.compare]
