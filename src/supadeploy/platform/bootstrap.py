"""A database set up the way a hosted Supabase project has it, one piece per file (sql/).

Pieces, in order: roles (once per cluster); then per database: the foundation
(grants, `extensions` with what hosted projects pre-install), auth (GoTrue's
tables), storage (the Storage API's), realtime, database webhooks and the
GraphQL schema, what supautils lets `postgres` do (publications, foreign data
wrappers, some settings), the extensions every hosted project has enabled
(catalog.PREINSTALLED: pgsodium, pg_graphql and supabase_vault besides the
ones in `extensions`), and Supabase's default privileges on `public` (optional: newer projects may switch them off).
"""

from __future__ import annotations

from importlib import resources
from typing import Protocol

from ..errors import TargetError
from ..sqltext import ident
from .catalog import PREINSTALLED


class Server(Protocol):
    """What bootstrapping needs of a running cluster: its major, and SQL run as the superuser."""

    @property
    def major(self) -> int: ...

    def execute(self, sql: str, dbname: str = ...) -> None: ...

ROLES = "bootstrap_roles.sql"
DATABASE_PIECES = ("bootstrap_database.sql", "auth.sql", "storage.sql", "realtime.sql", "functions.sql",
                   "supautils.sql")
DEFAULT_PRIVILEGES = "default_privileges.sql"


def preinstalled(major: int) -> str:
    """What every new hosted project of `major` has enabled, in its hosted schema (catalog.PREINSTALLED).

    An extension whose control file names its schema (pgsodium, pg_graphql, vault) creates it, as
    on hosted; `with schema` would need it to exist first.
    """
    return "".join(f"create extension if not exists {ident(name)}"
                   + (f" with schema {ident(schema)}" if schema == "extensions" else "") + ";\n"
                   for name, schema in PREINSTALLED.get(major, PREINSTALLED[17]))


def sql(name: str) -> str:
    return resources.files("supadeploy.platform").joinpath("sql", name).read_text(encoding="utf-8")


def bootstrap_cluster(cluster: Server) -> None:
    _run(cluster, ROLES, sql(ROLES), "postgres")


def bootstrap_database(cluster: Server, name: str, default_privileges: bool = True) -> None:
    pieces = [(piece, sql(piece)) for piece in DATABASE_PIECES]
    pieces.append(("preinstalled extensions", preinstalled(cluster.major)))
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
