"""The typed vocabulary of advisors: levels, categories, findings, what a lint unit declares.

Names and levels are Supabase's own (the dashboard's Security and Performance
Advisors, computed by supabase/splinter), so a team recognises every finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Level(StrEnum):
    """A finding's level, spelled as Supabase's advisors spell it."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"

    @property
    def rank(self) -> int:
        return ("INFO", "WARN", "ERROR").index(self.value)

    @property
    def threshold_name(self) -> str:
        """The word `--max-advisor-level` uses for it."""
        return {"INFO": "info", "WARN": "warning", "ERROR": "error"}[self.value]


class Category(StrEnum):
    SECURITY = "SECURITY"
    PERFORMANCE = "PERFORMANCE"


class Target(StrEnum):
    """What a lint's finding is about, for attribution to the statement that made it."""

    RELATION = "relation"  # a table, view, materialized view or foreign table
    COLUMN = "column"
    POLICY = "policy"
    CONSTRAINT = "constraint"
    INDEX = "index"
    FUNCTION = "function"
    EXTENSION = "extension"
    BUCKET = "bucket"


class Change(StrEnum):
    """Kinds of statements that create or change an object (see ledger.py)."""

    CREATE = "create"  # create, create or replace, rename into place
    ALTER = "alter"  # alter policy / function / extension / column type
    RLS = "rls"  # enable / disable / force row level security
    GRANT = "grant"  # grant or revoke, on the object or on all of its kind in the schema
    OWNER = "owner"
    OPTIONS = "options"  # alter view ... set (security_invoker ...)


API_ROLES = frozenset({"anon", "authenticated", "public"})


@dataclass(frozen=True)
class Blame:
    """Which statements a lint blames: the last one, in migration order, that made one of
    `changes` to one of the finding's objects of kind `target`; a GRANT counts only when it
    grants to one of `grantees` (None: to anyone), since only those can cause the finding."""

    target: Target
    changes: frozenset[Change]
    grantees: frozenset[str] | None = None

    @classmethod
    def of(cls, target: Target, *changes: Change, grantees: frozenset[str] | None = None) -> Blame:
        return cls(target, frozenset(changes), grantees)


@dataclass(frozen=True)
class Fixture:
    """SQL that, run on a fresh Supabase-like database as `postgres`, makes a lint report exactly
    `expect` (each a Finding.ref: "schema.object" or "schema.object/discriminator"); an empty
    `expect` means the lint must stay quiet. `superuser` for what only a superuser may set up
    (a foreign data wrapper); `exposed` overrides the exposed schemas."""

    name: str
    sql: str
    expect: tuple[str, ...] = ()
    superuser: bool = False
    exposed: tuple[str, ...] | None = None


class Lint(Protocol):
    """One lint unit: a module in checks/advisors/lints/ (found by supadeploy.registry.load).

    SQL is one SELECT (a .sql file beside the module) that may read the CTEs the combined
    query defines (query.py: sd_exposed, sd_internal, sd_extension_object, sd_api_role,
    sd_policy) and returns the columns schema_name, object_name, object_type,
    discriminator, detail, cache_key (Supabase's), subject (jsonb, see Subject).
    """

    ID: str  # Supabase's lint name
    LEVEL: Level
    CATEGORIES: tuple[Category, ...]
    TITLE: str
    DESCRIPTION: str  # one line
    REMEDIATION: str  # the URL Supabase uses
    SQL: str
    BLAME: tuple[Blame, ...]
    FIXTURES: tuple[Fixture, ...]


@dataclass(frozen=True)
class Subject:
    """The parts of an object a finding names, for attribution and people."""

    policies: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    constraint: str | None = None
    arg_types: tuple[str, ...] | None = None  # a function's input argument types
    role: str | None = None
    command: str | None = None
    bucket: str | None = None
    relation: tuple[str, str] | None = None  # the table a policy is on, when not the finding's object

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Subject:
        data = data or {}
        relation = data.get("relation")
        return cls(
            policies=tuple(data.get("policies") or ()),
            columns=tuple(data.get("columns") or ()),
            indexes=tuple(data.get("indexes") or ()),
            constraint=data.get("constraint"),
            arg_types=tuple(data["arg_types"]) if data.get("arg_types") is not None else None,
            role=data.get("role"),
            command=data.get("command"),
            bucket=data.get("bucket"),
            relation=(relation[0], relation[1]) if relation else None,
        )

    def as_dict(self) -> dict[str, Any]:
        """Only the parts that are set."""
        out: dict[str, Any] = {}
        for name in ("policies", "columns", "indexes"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        for name in ("constraint", "role", "command", "bucket"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.arg_types is not None:
            out["arg_types"] = list(self.arg_types)
        if self.relation is not None:
            out["relation"] = f"{self.relation[0]}.{self.relation[1]}"
        return out


@dataclass(frozen=True)
class Attribution:
    """Where a finding comes from: the statement that created or last changed its object."""

    file: str
    line: int
    change: Change
    exact: bool = True  # False: only a DO block mentioning the object was found


@dataclass(frozen=True)
class Finding:
    lint: str
    level: Level
    categories: tuple[Category, ...]
    schema: str | None
    object: str  # as Supabase's advisors name it: table, view, function (no arguments), extension, bucket
    object_type: str
    detail: str
    remediation: str
    cache_key: str  # Supabase's, for the dashboard's exclusion lists
    discriminator: str | None = None  # what tells two findings on one object apart (policy, role/command, ...)
    subject: Subject = field(default_factory=Subject)
    where: Attribution | None = None

    @property
    def ref(self) -> str:
        """The object, and what tells findings on it apart: "public.t", "public.t/policy", "public.f(a integer)"."""
        base = f"{self.schema}.{self.object}" if self.schema else self.object
        if self.object_type == "function":
            return f"{base}({self.discriminator or ''})"
        return f"{base}/{self.discriminator}" if self.discriminator else base

    @property
    def key(self) -> str:
        """A stable identity, the same on production and on the replay (baselines compare it)."""
        return f"{self.lint}:{self.ref}"

    @property
    def file(self) -> str | None:
        return self.where.file if self.where else None

    @property
    def line(self) -> int | None:
        return self.where.line if self.where else None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `--format json`: Supabase's names, plus file and line."""
        return {
            "lint": self.lint, "level": self.level.value,
            "category": [c.value for c in self.categories][0] if self.categories else None,
            "categories": [c.value for c in self.categories],
            "schema": self.schema, "object": self.object, "object_type": self.object_type,
            "detail": self.detail, "remediation": self.remediation,
            "file": self.file, "line": self.line,
            "key": self.key, "cache_key": self.cache_key, **({"subject": self.subject.as_dict()}
                                                               if self.subject.as_dict() else {}),
        }
