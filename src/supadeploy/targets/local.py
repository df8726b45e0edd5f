"""Target `local`: an embedded PostgreSQL 18 bootstrapped like a Supabase project.

Needs no credentials: the default when none are given, and what pull requests
from forks use. Migrations run as `postgres`, which is not a superuser, exactly
as on a hosted project.
"""

from __future__ import annotations

from .cluster import Cluster, embedded_bindir
from .postgres import PostgresTarget
from .base import Row


class LocalTarget:
    name = "local"
    sticky_session = True
    on_wait = None

    def __init__(self, default_privileges: bool = True) -> None:
        self._default_privileges = default_privileges
        self._cluster: Cluster | None = None
        self._inner: PostgresTarget | None = None

    @property
    def label(self) -> str:
        return "the local replay (a throwaway PostgreSQL)"

    @property
    def round_trips(self) -> int:
        return self._inner.round_trips if self._inner else 0

    def _target(self) -> PostgresTarget:
        if self._inner is None:
            bindir, os_user = embedded_bindir()
            cluster = Cluster(bindir, os_user)
            self._cluster = cluster
            cluster.start()
            dsn = cluster.create_database("welltrack", default_privileges=self._default_privileges)
            self._inner = PostgresTarget(dsn)
        return self._inner

    def run(self, sql: str, safe_to_resend: bool = False) -> list[Row]:
        return self._target().run(sql, safe_to_resend)

    def close(self) -> None:
        inner, self._inner = self._inner, None
        cluster, self._cluster = self._cluster, None
        try:
            if inner is not None:
                inner.close()
        finally:
            if cluster is not None:
                cluster.stop()
