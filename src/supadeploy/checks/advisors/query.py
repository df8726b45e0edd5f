"""Every lint in one request: one SQL text, one round trip, typed findings back.

The text sets `search_path` to '' for its own implicit transaction (policy
expressions then deparse schema-qualified, `auth.uid()`, exactly as Supabase's
advisors read them), then runs one SELECT: shared CTEs (the exposed schemas,
Supabase's internal schemas, extension members, the API roles, every policy
with its expressions) and one branch per lint, aggregated to one JSON value.
Objects in temporary schemas (a session's own, e.g. the lock tracer's functions,
or another session's) are left out: they vanish with their session and are
nobody's to fix. It only reads the catalog, so it runs as `postgres` (the Management API), as
`supabase_read_only_user` (its read-only endpoint) or on a plain PostgreSQL
without Supabase's roles (the lints that need them find nothing).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Sequence
from typing import Any

from ...errors import ConfigError, TargetError
from ...registry import load
from ...sqltext import literal, text_array
from ...targets.base import Target, single_json
from .model import Category, Finding, Level, Lint, Subject

LINTS_PACKAGE = __name__.rpartition(".")[0] + ".lints"

# Schemas Supabase's advisors treat as the platform's own, not the project's (splinter's list).
INTERNAL_SCHEMAS = (
    "_timescaledb_cache", "_timescaledb_catalog", "_timescaledb_config", "_timescaledb_internal", "auth", "cron",
    "extensions", "graphql", "graphql_public", "information_schema", "net", "pgmq", "pgroonga", "pgsodium",
    "pgsodium_masks", "pgtle", "pgbouncer", "pg_catalog", "realtime", "repack", "storage", "supabase_functions",
    "supabase_migrations", "tiger", "topology", "vault",
)
# What the Data API serves on a new project (supabase/config.toml `[api] schemas`, dashboard "Exposed schemas").
DEFAULT_EXPOSED = ("public", "graphql_public")

PRELUDE = """\
sd_exposed(nspname) as (select pg_catalog.unnest({exposed})),
sd_internal(nspname) as (select pg_catalog.unnest({internal})),
sd_extension_object(objid) as (
    select dep.objid from pg_catalog.pg_depend as dep where dep.deptype = 'e'),
sd_api_role(rolname, oid) as (
    select rol.rolname::pg_catalog.text, rol.oid from pg_catalog.pg_roles as rol
    where rol.rolname in ('anon', 'authenticated')),
sd_policy as (
    select pol.oid, pol.polname, pol.polrelid, pol.polcmd, pol.polpermissive, pol.polroles,
        pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) as using_expr,
        pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) as check_expr
    from pg_catalog.pg_policy as pol)"""

BRANCH = """\
select {id}::pg_catalog.text as lint, f.schema_name::pg_catalog.text, f.object_name::pg_catalog.text,
    f.object_type::pg_catalog.text, f.discriminator::pg_catalog.text, f.detail::pg_catalog.text,
    f.cache_key::pg_catalog.text, f.subject::pg_catalog.jsonb
from (
{sql}
) as f"""

AGGREGATE = """\
select coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
        'lint', lint, 'schema', schema_name, 'object', object_name, 'type', object_type,
        'discriminator', discriminator, 'detail', detail, 'cache_key', cache_key, 'subject', subject)
    order by lint, schema_name, object_name, discriminator), '[]'::pg_catalog.json) as result
from sd_finding
where schema_name is null or (schema_name not like 'pg\\_temp\\_%' and schema_name not like 'pg\\_toast\\_temp\\_%')"""


FUNCTION = "supadeploy_advisors"
CALL = f"pg_temp.{FUNCTION}()"


class AdvisorError(TargetError):
    """The database answered the advisors' query with something that is not findings."""


@functools.cache
def all_lints() -> dict[str, Lint]:
    """Every lint unit, by Supabase's name, in file order."""
    return load(LINTS_PACKAGE, Lint)


def advisors_select(lints: Iterable[Lint] | None = None, exposed: Sequence[str] = DEFAULT_EXPOSED) -> str:
    """The one SELECT that runs `lints` (all by default) against the schemas the Data API exposes; it expects
    an empty search_path (see advisors_sql and advisors_function)."""
    chosen = list(all_lints().values() if lints is None else lints)
    if not chosen:
        raise ValueError("no lint to run")
    branches = "\nunion all\n".join(
        BRANCH.format(id=literal(lint.ID), sql=lint.SQL.strip().rstrip(";")) for lint in chosen)
    prelude = PRELUDE.format(exposed=text_array(list(exposed)), internal=text_array(list(INTERNAL_SCHEMAS)))
    return f"with\n{prelude},\nsd_finding as (\n{branches}\n)\n{AGGREGATE}"


def advisors_sql(lints: Iterable[Lint] | None = None, exposed: Sequence[str] = DEFAULT_EXPOSED) -> str:
    """The one text that runs `lints` (all by default) against the schemas the Data API exposes."""
    return f"set local search_path = '';\n{advisors_select(lints, exposed)}"


def advisors_function(exposed: Sequence[str] = DEFAULT_EXPOSED) -> str:
    """A pg_temp function that answers every lint's findings as jsonb, for a transaction that must go on
    whatever happens (a dry run): its own empty search_path (the function's SET, so nothing leaks into what
    follows), and an error answered as {"error": ...} instead of aborting the transaction."""
    body = advisors_select(exposed=exposed)
    tag = "sd_advisors"
    while f"${tag}$" in body:
        tag += "_"
    return (f"CREATE FUNCTION pg_temp.{FUNCTION}() RETURNS jsonb LANGUAGE plpgsql SET search_path = '' AS ${tag}$\n"
            f"BEGIN\n  RETURN ({body})::jsonb;\n"
            "EXCEPTION WHEN OTHERS THEN\n"
            "  RETURN pg_catalog.jsonb_build_object('error', SQLSTATE || ': ' || SQLERRM);\n"
            f"END\n${tag}$;\n")


def function_answer(data: Any) -> list[Finding]:
    """The findings advisors_function answered, or AdvisorError with what went wrong."""
    if isinstance(data, dict) and "error" in data:
        raise AdvisorError(f"the advisors' query failed: {data['error']}")
    return findings_from(data)


def run(target: Target, exposed: Sequence[str] = DEFAULT_EXPOSED,
        lints: Iterable[Lint] | None = None) -> list[Finding]:
    """The findings of the database behind `target`, in one round trip (a read: safe to resend)."""
    chosen = list(all_lints().values() if lints is None else lints)
    rows = target.run(advisors_sql(chosen, exposed), safe_to_resend=True)
    return findings_from(single_json(rows), {lint.ID: lint for lint in chosen})


def findings_from(data: Any, lints: dict[str, Lint] | None = None) -> list[Finding]:
    """Typed findings from the query's JSON answer."""
    known = all_lints() if lints is None else lints
    if not isinstance(data, list):
        raise AdvisorError(f"the advisors' query answered {type(data).__name__}, not a list of findings")
    found: list[Finding] = []
    for row in data:
        lint = known.get(str(row.get("lint"))) if isinstance(row, dict) else None
        if lint is None:
            raise AdvisorError(f"the advisors' query answered an unknown row: {row!r:.200}")
        found.append(Finding.of(
            lint.ID, Level(lint.LEVEL), tuple(Category(c) for c in lint.CATEGORIES), row.get("schema"),
            row["object"], row.get("type") or "", row.get("detail") or "", lint.REMEDIATION,
            cache_key=row.get("cache_key") or "", discriminator=row.get("discriminator"),
            parts=Subject.from_json(row.get("subject"))))
    return found


def exposed_schemas_from_config(text: str, where: str = "supabase/config.toml") -> tuple[str, ...] | None:
    """`[api] schemas` of a Supabase CLI config (what the local stack exposes), or None when unset."""
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    api = config.get("api")
    if not isinstance(api, dict) or "schemas" not in api:
        return None
    schemas = api["schemas"]
    if not isinstance(schemas, list) or not all(isinstance(s, str) and s.strip() for s in schemas):
        raise ConfigError(f"{where}: [api] schemas must be a list of schema names, got {schemas!r}")
    return tuple(s.strip() for s in schemas)


def exposed_schemas_from_setting(value: str) -> tuple[str, ...]:
    """PostgREST's `db-schemas` / `pgrst.db_schemas` value ("public, api") as a list, as PostgREST splits it."""
    return tuple(part.strip() for part in value.split(",") if part.strip())
