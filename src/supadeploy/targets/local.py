"""Target `local`: a throwaway PostgreSQL of the hosted major, set up like a Supabase project.

Needs no credentials: the default when none are given, and what pull requests
from forks use. Migrations run as `postgres` in the database `postgres`, which
is not a superuser, exactly as on a hosted project (see supadeploy.platform).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..platform import binaries as pg
from ..platform.bootstrap import bootstrap_database
from ..platform.cluster import Cluster, server_user
from .base import Row
from .postgres import PostgresTarget


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
        return self._target().run(sql, safe_to_resend)

    def run_pieces(self, pieces: Callable[[], Iterable[tuple[int, str]]], safe_to_resend: bool = False) -> list[Row]:
        return self._target().run_pieces(pieces, safe_to_resend)

    def close(self) -> None:
        inner, self._inner = self._inner, None
        cluster, self._cluster = self._cluster, None
        try:
            if inner is not None:
                inner.close()
        finally:
            if cluster is not None:
                cluster.stop()
