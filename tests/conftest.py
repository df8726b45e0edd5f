"""Shared fixtures: real PostgreSQL clusters, one per major and session, bootstrapped like a hosted
Supabase project by supadeploy's own local platform; one fresh database per test.

pg15 is Debian's PostgreSQL 15 (apt), pg17 and pg18 are the verified npm builds the local
target uses: the same bootstrap on two different builds, so neither can drift.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from supadeploy.cli import main as cli_main
from supadeploy.platform import binaries
from supadeploy.platform.cluster import BOOTSTRAP_SUPERUSER, Cluster, server_user

REPO = Path(__file__).resolve().parent.parent
MIGRATIONS = REPO / "migrations"
ALL = sorted(path.name.split("_", 1)[0] for path in MIGRATIONS.glob("*.sql"))  # WellTrack's versions
NEWEST = ALL[-1]
DEBIAN_PG15 = Path("/usr/lib/postgresql/15/bin")
TEMPLATE = "sd_template"
TEMPLATE_NO_DEFAULT_PRIVILEGES = "sd_template_nodp"

_counter = itertools.count()


def _start(kind: str) -> Cluster:
    if kind == "pg15":
        if not (DEBIAN_PG15 / "postgres").exists():
            pytest.fail("Debian PostgreSQL 15 is not installed: run scripts/test.sh (apt-get install postgresql)")
        found = binaries.from_system(15)
    else:
        found = binaries.ensure(int(kind[2:]))
    cluster = Cluster(found, server_user())
    cluster.start()
    cluster.create_database(TEMPLATE)
    cluster.create_database(TEMPLATE_NO_DEFAULT_PRIVILEGES, default_privileges=False)
    return cluster


@pytest.fixture(scope="session")
def clusters() -> Iterator[dict[str, Cluster]]:
    started: dict[str, Cluster] = {}

    class Lazy(dict):  # start a server only when a test asks for it
        def __missing__(self, kind: str) -> Cluster:
            started[kind] = _start(kind)
            self[kind] = started[kind]
            return started[kind]

    try:
        yield Lazy()
    finally:
        _stop(list(started.values()))


def _stop(clusters: list[Cluster]) -> None:
    """Stop the servers now, and remove their folders in the background: a session's hundreds of test
    databases are a few GB of small files, and deleting them is nobody's business to wait for."""
    from unittest import mock

    from supadeploy.platform import cluster as cluster_module

    folders: list[str] = []
    with mock.patch.object(cluster_module.shutil, "rmtree", lambda path, **_: folders.append(str(path))):
        for cluster in clusters:
            cluster.stop()
    if folders:
        subprocess.Popen(["rm", "-rf", "--", *folders], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass
class Database:
    """A fresh Supabase-like database; `dsn` connects as the non-superuser `postgres`."""

    cluster: Cluster
    name: str
    server: str

    @property
    def dsn(self) -> str:
        return self.cluster.dsn(self.name)

    def query(self, sql: str, params: Any = None, superuser: bool = False) -> list[tuple]:
        user = BOOTSTRAP_SUPERUSER if superuser else "postgres"
        with psycopg.connect(self.cluster.dsn(self.name, user), autocommit=True) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def value(self, sql: str, params: Any = None) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def history(self) -> list[str]:
        if self.value("select to_regclass('supabase_migrations.schema_migrations')") is None:
            return []
        return [r[0] for r in self.query(
            "select version from supabase_migrations.schema_migrations order by version")]

    def tables(self) -> int:
        return self.value("select count(*) from pg_tables where schemaname = 'public' and tablename like 'wt\\_%'")


def _new_database(clusters: dict[str, Cluster], server: str, template: str = TEMPLATE) -> Database:
    cluster = clusters[server]
    name = f"t{next(_counter)}_{os.getpid()}"
    cluster.create_database(name, template=template)
    return Database(cluster, name, server)


@pytest.fixture(params=["pg15", "pg18"])
def db(request: pytest.FixtureRequest, clusters: dict[str, Cluster]) -> Iterator[Database]:
    database = _new_database(clusters, request.param)
    yield database


@pytest.fixture(params=["pg15", "pg18"])
def db_without_default_privileges(request: pytest.FixtureRequest, clusters: dict[str, Cluster]) -> Database:
    return _new_database(clusters, request.param, TEMPLATE_NO_DEFAULT_PRIVILEGES)


@pytest.fixture
def pg18(clusters: dict[str, Cluster]) -> Database:
    return _new_database(clusters, "pg18")


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.out)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run the CLI in-process, as a user would, and capture what it printed.

    The working directory is a temp folder, so the default assertion file is not
    picked up: tests that want assertions name the file.
    """
    monkeypatch.chdir(tmp_path)
    for name in ("SUPABASE_DB_URL", "SUPABASE_ACCESS_TOKEN", "SUPABASE_PROJECT_REF", "GITHUB_ACTIONS",
                 "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> Run:
        capsys.readouterr()
        code = cli_main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def parse_outputs(text: str) -> dict[str, str]:
    """Read a GITHUB_OUTPUT file the way the runner does (`name<<DELIMITER` entries)."""
    values: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if line:
            name, delimiter = line.split("<<", 1)
            body = []
            for item in lines:
                if item == delimiter:
                    break
                body.append(item)
            values[name] = "\n".join(body)
    return values


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GitHub mode: the runner's variables, with the output and summary files in tmp_path."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "gh_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "gh_summary"))
    return tmp_path


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    """A writable copy of the WellTrack migrations."""
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, target)
    return target


# --- the Management API twin --------------------------------------------------

# The drift check before a remote plan or deploy: history and the catalog, two read-only requests.
DRIFT_READS = 2
TOKEN = "sbp_" + "7f3a9c" * 6 + "d41e"  # shaped like a personal access token; must never be printed
REF = "wtdeploytwinprojectx"


@pytest.fixture(scope="session")
def postgres_meta() -> Iterator[Any]:
    """One real postgres-meta server for the session: every twin hands its queries to it."""
    from support.postgres_meta import PostgresMeta

    meta = PostgresMeta().start()
    try:
        yield meta
    finally:
        meta.stop()


def _twin(database: Database, meta: Any) -> Iterator[Any]:
    from support.api_twin import ApiTwin

    server = ApiTwin(database.dsn, TOKEN, meta, REF, timeout_delay=1.5).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def twin(db: Database, postgres_meta: Any) -> Iterator[Any]:
    """A loopback Management API over the test's database (tests/support/README.md)."""
    yield from _twin(db, postgres_meta)


@pytest.fixture
def twin18(pg18: Database, postgres_meta: Any) -> Iterator[Any]:
    """The twin over a PostgreSQL 18 database only (for the long fault matrix)."""
    yield from _twin(pg18, postgres_meta)


def api_args(server: Any, timeout: float = 1.0) -> list[str]:
    """CLI arguments for the API target pointed at a twin (short read timeout for the fault tests)."""
    return ["--project-ref", REF, "--access-token", TOKEN, "--api-url", server.url, "--api-timeout", str(timeout)]


@pytest.fixture
def second_db(db: Database, clusters: dict[str, Cluster]) -> Database:
    """Another fresh database on the same server as `db`."""
    return _new_database(clusters, db.server)
