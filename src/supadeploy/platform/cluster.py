"""A throwaway PostgreSQL cluster: initdb, start, stop, and nothing left behind.

It lives in a folder under a writable temporary directory and is removed by
`stop()`, which the target calls on every exit path. If supadeploy itself is
killed (SIGKILL: no exit path runs), a watchdog process notices that its
parent is gone (its stdin pipe closes) and stops the server and removes the
folder; folders of dead runs that even the watchdog missed are removed by the
next start.

PostgreSQL refuses to run as root: as root the server runs as `postgres` (or
`nobody`). Run as a user without a passwd entry (`docker run --user 1001`),
initdb cannot look itself up; libnss_wrapper, when installed (the Docker image
has it), then provides one.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import ConfigError, TargetError
from ..paths import temp_root
from ..sqltext import ident
from .binaries import Binaries
from .bootstrap import bootstrap_cluster, bootstrap_database

BOOTSTRAP_SUPERUSER = "supabase_admin"
PREFIX = "supadeploy-pg-"
# Throwaway clusters trade durability for speed: nothing here outlives the run. pg_stat_statements is
# preloaded as on hosted projects (its view answers only then).
FAST_SETTINGS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                 "-c max_connections=60 -c shared_buffers=32MB -c max_locks_per_transaction=256 "
                 "-c shared_preload_libraries=pg_stat_statements")
NSS_WRAPPER_PATHS = ("/usr/lib/x86_64-linux-gnu/libnss_wrapper.so", "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so",
                     "/usr/lib/libnss_wrapper.so", "/usr/lib64/libnss_wrapper.so")

WATCHDOG = r"""
import os, shutil, subprocess, sys
pg_ctl, data, root, user = sys.argv[1:5]
if sys.stdin.buffer.read() != b"stopped":  # EOF without the word: the parent died
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        subprocess.run([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], user=user or None,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    shutil.rmtree(root, ignore_errors=True)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _check_searchable(base: Path, os_user: str) -> None:
    """The server runs as another OS user: every folder above its data must let that user pass."""
    closed = [p for p in (base, *base.resolve().parents) if not p.stat().st_mode & 0o001]
    if closed:
        raise ConfigError(f"the temporary folder {base} is inside {closed[-1]}, which the '{os_user}' user PostgreSQL "
                          "runs as cannot enter; set TMPDIR (or SUPADEPLOY_TMPDIR) to a folder it can reach, e.g. /tmp")


def server_user() -> str | None:
    """The OS user the server runs as: None (ourselves) unless we are root."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise ConfigError("running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


def _nss_environment(scratch: Path) -> dict[str, str]:
    """When our uid has no passwd entry, libnss_wrapper gives initdb one."""
    if os.name != "posix" or os.geteuid() == 0:
        return {}
    try:
        pwd.getpwuid(os.geteuid())
        return {}
    except KeyError:
        pass
    library = next((p for p in NSS_WRAPPER_PATHS if Path(p).exists()), None)
    if library is None:
        raise ConfigError(f"user id {os.geteuid()} has no passwd entry, which PostgreSQL needs: run as a user "
                          "that has one, or install libnss-wrapper (the supadeploy image has it)")
    (scratch / "passwd").write_text(f"supadeploy:x:{os.geteuid()}:{os.getegid()}:supadeploy:{scratch}:/bin/false\n")
    (scratch / "group").write_text(f"supadeploy:x:{os.getegid()}:\n")
    return {"LD_PRELOAD": library, "NSS_WRAPPER_PASSWD": str(scratch / "passwd"),
            "NSS_WRAPPER_GROUP": str(scratch / "group")}


def remove_stale(base: Path) -> None:
    """Folders of runs whose process is gone: stop their server, remove them."""
    for folder in base.glob(f"{PREFIX}*"):
        owner = folder / "owner"
        try:
            pid = int(owner.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if _alive(pid, owner.read_text()):
            continue
        pidfile = folder / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, ProcessLookupError, PermissionError):
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int, recorded: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _start_time(pid) == (recorded.split()[1] if len(recorded.split()) > 1 else _start_time(pid))


def _start_time(pid: int) -> str:
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    return ""


class Cluster:
    """initdb + pg_ctl on a free loopback port, with the Supabase roles in place."""

    def __init__(self, binaries: Binaries, os_user: str | None = None) -> None:
        self.binaries = binaries
        self.bindir = binaries.bindir
        self.os_user = os_user
        self.port = 0
        self.root: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._env: dict[str, str] = {}

    @property
    def major(self) -> int:
        return self.binaries.major

    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def start(self) -> Cluster:
        base = temp_root()
        if self.os_user:
            _check_searchable(base, self.os_user)
        remove_stale(base)
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
        try:
            (self.root / "owner").write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
            self._env = {**os.environ, **_nss_environment(self.root), **self.binaries.environment()}
            if self.os_user:
                account = pwd.getpwnam(self.os_user)  # its own primary group: Debian's nobody is in nogroup
                os.chown(self.root, account.pw_uid, account.pw_gid)
            self._watch()
            self._pg("initdb", "-D", str(self.datadir), "-U", BOOTSTRAP_SUPERUSER, "-A", "trust",
                     "-E", "UTF8", "--locale=C", "-N")
            self.port = free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} {FAST_SETTINGS}"
            self._pg("pg_ctl", "-D", str(self.datadir), "-l", str(self.root / "server.log"),
                     "-w", "-t", "30", "-o", options, "start")
            bootstrap_cluster(self)
        except BaseException:
            self.stop()
            raise
        return self

    def _watch(self) -> None:
        assert self.root is not None
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(self.bindir / "pg_ctl"), str(self.datadir), str(self.root),
             self.os_user or ""], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, env=self._env)

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str, dbname: str = "postgres", user: str = BOOTSTRAP_SUPERUSER) -> None:
        """Run SQL as the superuser (bootstrap only; never migrations)."""
        import psycopg  # noqa: PLC0415 - heavy: loaded on first use

        with psycopg.connect(self.dsn(dbname, user), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str, template: str | None = None, default_privileges: bool = True) -> str:
        """A new database, bootstrapped like a hosted project (or cloned from a template)."""

        clause = f" TEMPLATE {ident(template)}" if template else ""
        self.execute(f"CREATE DATABASE {ident(name)} OWNER postgres{clause}")
        if template is None:
            bootstrap_database(self, name, default_privileges)
        else:  # a database's own grants are not copied from its template
            self.execute(f"GRANT ALL ON DATABASE {ident(name)} TO postgres, dashboard_user;\n"
                         f"GRANT CONNECT, TEMPORARY ON DATABASE {ident(name)} TO anon, authenticated, service_role;")
        return self.dsn(name)

    def stop(self) -> None:
        root, self.root = self.root, None
        watchdog, self._watchdog = self._watchdog, None
        if root is None:
            return
        try:
            if (root / "data" / "postmaster.pid").exists():
                self._pg("pg_ctl", "-D", str(root / "data"), "-m", "immediate", "-w", "stop", check=False)
        finally:
            shutil.rmtree(root, ignore_errors=True)
            if watchdog is not None and watchdog.stdin is not None:
                with contextlib.suppress(OSError):
                    watchdog.stdin.write(b"stopped")
                    watchdog.stdin.close()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    watchdog.wait(5)

    def log(self) -> str:
        if self.root is not None and (self.root / "server.log").exists():
            return (self.root / "server.log").read_text(errors="replace")[-2000:]
        return ""

    def _pg(self, program: str, *args: str, check: bool = True) -> None:
        result = subprocess.run([str(self.bindir / program), *args], user=self.os_user, env=self._env or None,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise TargetError(f"{program} failed ({result.returncode}): "
                              f"{(result.stderr or result.stdout).strip()[-2000:]}\n{self.log()}".strip())

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_gone(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not path.exists():
            return True
        time.sleep(0.1)
    return not path.exists()
