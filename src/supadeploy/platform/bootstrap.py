"""A database set up the way a hosted Supabase project has it, one piece per file (sql/).

Pieces, in order: roles (once per cluster); then per database: the foundation
(grants, `extensions` with what hosted projects pre-install), auth (GoTrue's
tables), storage (the Storage API's), realtime, database webhooks and the
GraphQL schema, the extensions every new project has enabled, and Supabase's
default privileges on `public` (optional: newer projects may switch them off).
"""

from __future__ import annotations

from importlib import resources
from typing import Protocol

from ..errors import TargetError


class Server(Protocol):
    """What bootstrapping needs of a running cluster: its major, and SQL run as the superuser."""

    @property
    def major(self) -> int: ...

    def execute(self, sql: str, dbname: str = ...) -> None: ...

ROLES = "bootstrap_roles.sql"
DATABASE_PIECES = ("bootstrap_database.sql", "auth.sql", "storage.sql", "realtime.sql", "functions.sql")
DEFAULT_PRIVILEGES = "default_privileges.sql"
# Enabled on every new hosted project besides pgcrypto, uuid-ossp and pg_stat_statements.
PREINSTALLED = "create extension if not exists pg_graphql;\ncreate extension if not exists supabase_vault;\n"


def sql(name: str) -> str:
    return resources.files("supadeploy.platform").joinpath("sql", name).read_text(encoding="utf-8")


def bootstrap_cluster(cluster: Server) -> None:
    _run(cluster, ROLES, sql(ROLES), "postgres")


def bootstrap_database(cluster: Server, name: str, default_privileges: bool = True) -> None:
    pieces = [(piece, sql(piece)) for piece in DATABASE_PIECES] + [("preinstalled extensions", PREINSTALLED)]
    if default_privileges:
        pieces.append((DEFAULT_PRIVILEGES, sql(DEFAULT_PRIVILEGES)))
    for piece, text in pieces:
        _run(cluster, piece, text, name)


def _run(cluster: Server, piece: str, text: str, dbname: str) -> None:
    import psycopg  # noqa: PLC0415 - heavy: loaded on first use


    try:
        cluster.execute(text, dbname=dbname)
    except psycopg.Error as exc:  # a bug in supadeploy's platform SQL, or binaries without an extension
        raise TargetError(f"the local replay could not be set up ({piece}, PostgreSQL {cluster.major}): "
                          f"{str(exc).strip().splitlines()[0]}") from None
