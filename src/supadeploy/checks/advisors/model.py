"""The typed vocabulary of advisors: levels, categories, findings, what a lint unit declares.

Names and levels are Supabase's own (the dashboard's Security and Performance
Advisors, computed by supabase/splinter), so a team recognises every finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from ...model import Finding as GroundFinding
from ...model import Level as GroundLevel
from ...model import Problem


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


class Status(StrEnum):
    """How a run judges a finding (baseline.py)."""

    NEW = "new"  # the pending migrations introduce it: fails at or above --max-advisor-level
    ACKNOWLEDGED = "acknowledged"  # new, accepted in the migration with a reasoned comment
    IN_PRODUCTION = "in production"  # production already has it: listed, never fails
    EARLIER = "earlier"  # no production to compare with: blamed on an applied migration, or on none
    FIXED = "fixed"  # production has it; after the pending migrations it is gone


# Supabase's level → the level every channel shows (annotations: error, warning, notice).
SHOWN_LEVEL = {Level.ERROR: GroundLevel.ERROR, Level.WARN: GroundLevel.WARNING, Level.INFO: GroundLevel.NOTICE}


@dataclass
class Finding(GroundFinding):
    """One advisor finding: Supabase's lint, level and object, the statement blamed, and this run's verdict.

    The ground fields carry it through every channel: `rule` is the lint's name, `file`/`line` the statement
    blamed ("" and 0 when none is), `message` Supabase's detail, `advice` the remediation link;
    `acknowledged` and `over_limit` come from the verdict (baseline.assess)."""

    FAMILY: ClassVar[str] = "advisors"
    SECTION: ClassVar[str] = "Advisors"

    severity: Level = Level.INFO  # Supabase's level
    categories: tuple[Category, ...] = ()
    schema: str | None = None
    object: str = ""  # as Supabase's advisors name it: table, view, function (no arguments), extension, bucket
    object_type: str = ""
    remediation: str = ""
    cache_key: str = ""  # Supabase's, for the dashboard's exclusion lists
    discriminator: str | None = None  # what tells two findings on one object apart (policy, role/command, ...)
    parts: Subject = field(default_factory=Subject)
    where: Attribution | None = None
    status: Status = Status.NEW

    @classmethod
    def of(cls, lint: str, severity: Level, categories: tuple[Category, ...], schema: str | None, obj: str,
           object_type: str, detail: str, remediation: str, cache_key: str = "", discriminator: str | None = None,
           parts: Subject | None = None, where: Attribution | None = None) -> Finding:
        found = cls(rule=lint, file="", line=0, message=detail, advice=f"see {remediation}", severity=severity,
                    categories=categories, schema=schema, object=obj, object_type=object_type,
                    remediation=remediation, cache_key=cache_key, discriminator=discriminator,
                    parts=parts or Subject())
        return found.at(where)

    def at(self, where: Attribution | None) -> Finding:
        """This finding blamed on `where` (None: on no statement)."""
        return replace(self, where=where, file=where.file if where else "", line=where.line if where else 0)

    def judged(self, status: Status, over_limit: bool) -> Finding:
        return replace(self, status=status, acknowledged=status is Status.ACKNOWLEDGED, over_limit=over_limit)

    @property
    def lint(self) -> str:
        """Supabase's lint name."""
        return self.rule

    @property
    def counts(self) -> bool:
        """Introduced by the pending migrations and not accepted: what the threshold judges."""
        return self.status is Status.NEW

    @property
    def level(self) -> GroundLevel:
        return SHOWN_LEVEL[self.severity] if self.counts else GroundLevel.NOTICE

    @property
    def level_word(self) -> str:
        return self.severity.value

    @property
    def subject(self) -> str | None:
        return f"{self.schema}.{self.object}" if self.schema else self.object

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
    def located(self) -> str:
        """Where it comes from, for people."""
        if self.where is None:
            return "no migration created it"
        return f"{self.file}:{self.line}" + ("" if self.where.exact else " (approximate: a DO block names it)")

    def problem(self) -> Problem:
        verdict = "" if self.status is Status.NEW else f"; {self.status.value}"
        approximate = "" if self.where is None or self.where.exact else " (approximate: a DO block names it)"
        return Problem(f"{self.message}{approximate} [{self.severity.value}{verdict}]. See {self.remediation}",
                       file=self.file or None, line=self.line or None, title=f"{self.SECTION}: {self.lint}",
                       kind=self.FAMILY)

    def columns(self) -> dict[str, str]:
        status = self.status.value + (": fails the run" if self.over_limit else "")
        return {"Where": self.located, "Lint": f"[`{self.lint}`]({self.remediation})", "Level": self.severity.value,
                "Object": self.ref, "Status": status, "What": self.message}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `--format json`: Supabase's names, plus file, line and the verdict."""
        parts = self.parts.as_dict()
        return {
            "lint": self.lint, "level": self.severity.value,
            "category": self.categories[0].value if self.categories else None,
            "categories": [c.value for c in self.categories],
            "schema": self.schema, "object": self.object, "object_type": self.object_type,
            "file": self.file or None, "line": self.line or None,
            "exact": self.where.exact if self.where else None,
            "remediation": self.remediation, "detail": self.message, "status": self.status.value,
            "acknowledged": self.acknowledged, "over_limit": self.over_limit,
            "key": self.key, "cache_key": self.cache_key, **({"subject": parts} if parts else {}),
        }
