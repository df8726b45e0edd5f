"""Target `local`: a throwaway PostgreSQL of the hosted major, set up like a Supabase project.

Needs no credentials: the default when none are given, and what pull requests
from forks use. Migrations run as `postgres` in the database `postgres`, which
is not a superuser, exactly as on a hosted project (see supadeploy.platform).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..platform import binaries as pg
from ..platform.bootstrap import bootstrap_database
from ..platform.cluster import Cluster, server_user
from .base import NOT_REPLAYABLE, QueryError, Row
from .postgres import PostgresTarget

# What a hosted project allows and the replay cannot run (platform/sql/supautils.sql does the rest), as
# (SQLSTATE, how PostgreSQL says it, why the replay cannot): reported as NOT_REPLAYABLE.
_REPLAY_LIMITS: tuple[tuple[str, Callable[[QueryError], bool], str], ...] = (
    ("42501", lambda e: e.message.startswith("permission denied to create event trigger"),
     "supadeploy's local replay cannot create event triggers. PostgreSQL lets only superusers create them and "
     "postgres is none here, as on a hosted project, where supautils creates them for postgres"),
    ("42501", lambda e: e.message == "permission denied to alter role" and 'role "authenticator"' in (e.detail or ""),
     "on a hosted project supautils runs `alter role authenticator set pgrst.…` (PostgREST's settings) as its "
     "superuser and refuses other settings, as PostgreSQL 16 and later refuse them here; the replay cannot do "
     "the first"),
    # The wrappers stand-in's handlers (platform/extensions/wrappers--*.sql) answer this when a foreign table is
    # read or a foreign schema imported: the real wrappers would call an outside service there.
    ("0A000", lambda e: e.message == "cannot accept a value of type fdw_handler",
     "a foreign table of Supabase's wrappers was read or its schema imported, which reaches the outside service "
     "(Stripe, S3, BigQuery…): the replay's wrappers stand-in creates wrappers, servers and foreign tables but "
     "reaches no service"),
)


def replay_limit(error: QueryError) -> QueryError:
    """The error as the replay should report it: a statement hosted projects allow but the replay cannot run
    becomes NOT_REPLAYABLE, saying why; any other error is left as it is."""
    for sqlstate, says, why in _REPLAY_LIMITS:
        if error.sqlstate == sqlstate and says(error):
            return replace(error, sqlstate=NOT_REPLAYABLE, message=f"{error.message}: {why}",
                           hint="run the dry run against a staging project to check this file")
    return error


class LocalTarget:
    name = "local"
    sticky_session = True

    def __init__(self, major: int = pg.DEFAULT_MAJOR, why: str = "the default", default_privileges: bool = True,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.major = major
        self.why = why
        self._default_privileges = default_privileges
        self._cluster: Cluster | None = None
        self._inner: PostgresTarget | None = None
        self._binaries: pg.Binaries | None = None
        self.on_wait = on_wait
        self.warnings: list[str] = []

    @property
    def label(self) -> str:
        return f"local PostgreSQL {self.major} ({self.why})"

    @property
    def round_trips(self) -> int:
        return self._inner.round_trips if self._inner else 0

    @property
    def binaries(self) -> pg.Binaries:
        if self._binaries is None:
            self._binaries = pg.ensure(self.major, self.on_wait)
        return self._binaries

    def _target(self) -> PostgresTarget:
        if self._inner is None:
            cluster = Cluster(self.binaries, server_user())
            self._cluster = cluster
            cluster.start()

            bootstrap_database(cluster, "postgres", self._default_privileges)
            self._inner = PostgresTarget(cluster.dsn("postgres"))
        return self._inner

    def blockers(self, tag: str) -> list[dict[str, Any]]:
        return self._inner.blockers(tag) if self._inner else []

    def run(self, sql: str, safe_to_resend: bool = False) -> list[Row]:
        try:
            return self._target().run(sql, safe_to_resend)
        except QueryError as error:
            raise replay_limit(error) from None

    def run_pieces(self, pieces: Callable[[], Iterable[tuple[int, str]]], safe_to_resend: bool = False) -> list[Row]:
        try:
            return self._target().run_pieces(pieces, safe_to_resend)
        except QueryError as error:
            raise replay_limit(error) from None

    def close(self) -> None:
        inner, self._inner = self._inner, None
        cluster, self._cluster = self._cluster, None
        try:
            if inner is not None:
                inner.close()
        finally:
            if cluster is not None:
                cluster.stop()
