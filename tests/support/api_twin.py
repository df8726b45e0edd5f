"""A loopback twin of the Supabase Management API's query endpoint, over the real postgres-meta.

The HTTP face of the API is here (token, project ref, rate limit, 201 answers,
the "Failed to run sql query: " prefix, switchable faults); every query is run
by postgres-meta itself (postgres_meta.py), the server the platform runs them
with. The Data API's two GETs (the PostgREST config and its OpenAPI document)
are answered by postgrest_twin.py from the catalog, as PostgREST's schema cache
would. One twin can serve a fleet: each project ref its own database (and Data
API), and `GET /v1/projects` lists them. Documented in tests/support/README.md.
Used by the tests and the benchmarks; run it by hand with `python -m tests.support.api_twin --help`.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import signal
import socket
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

QUERY_PATH = re.compile(r"^/v1/projects/([^/]+)/database/query(/read-only)?$")
READ_ONLY_USER = "supabase_read_only_user"
GET_PATH = re.compile(r"^/v1/projects/([^/?]+)/(postgrest|database/openapi)(?:\?(.*))?$")
PROJECTS_PATH = "/v1/projects"
LIST = "GET /v1/projects"  # the fault queue and rate-limit scope of the projects list (user scope)
QUERY = "POST /v1/projects/{ref}/database/query"
STATUS_FAULTS = {"500": "Internal server error", "502": "Bad gateway", "503": "Service Unavailable",
                 "504": "Gateway Timeout", "544": "Connection terminated due to connection timeout"}
FAULTS = set(STATUS_FAULTS) | {"pass", "500-after-commit", "timeout", "drop-before", "drop-after", "429",
                               "429-no-retry-after", "econnrefused", "too-many-connections"}
TOO_MANY = ("Failed to run sql query: ERROR:  53300: remaining connection slots are reserved for roles with the "
            "SUPERUSER attribute\n")


@dataclass
class TwinProject:
    """One project of the twin: its database and what `GET /v1/projects` says of it."""

    ref: str
    dsn: str
    connection: Any  # postgres-meta's encrypted connection header
    name: str
    reader: Any = None  # the same as supabase_read_only_user, read-only transactions (the read-only endpoint)
    region: str = "eu-central-1"
    status: str = "ACTIVE_HEALTHY"
    organization: str = "twin-org"
    version: str = ""
    data_api: Any = None  # postgrest_twin.DataApi over its database
    data_api_started: bool = False
    faults: deque[str] = field(default_factory=deque)  # consumed before the shared queue
    requests: int = 0  # query requests that named this project
    queries: int = 0  # of them, those whose SQL reached its database

    def listing(self) -> dict[str, Any]:
        """The project as `GET /v1/projects` shows it (V1ProjectWithDatabaseResponse)."""
        return {"id": self.ref, "ref": self.ref, "organization_id": self.organization,
                "organization_slug": self.organization, "name": self.name, "region": self.region,
                "created_at": "2025-01-01T00:00:00.000Z", "status": self.status,
                "database": {"host": f"db.{self.ref}.supabase.co", "version": self.version,
                             "postgres_engine": self.version.split(".")[0], "release_channel": "ga"}}


def fleet_refs(count: int, prefix: str = "fleet") -> list[str]:
    """`count` distinct project refs (20 lowercase letters), the same on every call: for fleets of twins."""
    refs = []
    for n in range(count):
        letters = ""
        for _ in range(20 - len(prefix)):
            n, digit = divmod(n, 26)
            letters = chr(ord("a") + digit) + letters
        refs.append(prefix + letters)
    return refs


class ApiTwin:
    """The server; start() returns once it listens. Faults and counters are thread-safe.

    `dsn`/`ref` is the first project; `add_project` adds more, each with its own
    database. Rate limits are counted per scope (project, or the user for the
    projects list) and endpoint, as Supabase documents; one token is the one user.
    """

    def __init__(self, dsn: str, token: str, meta: Any, ref: str = "abcdefghijklmnopqrst", limit: int = 120,
                 window: float = 60.0, latency: float = 0.0, timeout_delay: float = 3.0,
                 exposed: tuple[str, ...] = ("public", "graphql_public")) -> None:
        from support.postgrest_twin import DataApi

        self.dsn, self.token, self.ref, self.meta = dsn, token, ref, meta
        self.exposed = exposed
        self.data_api = DataApi(dsn, exposed)  # the first project's
        self.get_faults: deque[str] = deque()  # faults for the GETs (the query endpoint's stay in `faults`)
        self.connection = meta.connection(dsn)
        self.limit, self.window, self.latency, self.timeout_delay = limit, window, latency, timeout_delay
        self.projects: dict[str, TwinProject] = {ref: TwinProject(ref, dsn, self.connection, "twin project",
                                                                  meta.connection(reader_dsn(dsn)),
                                                                  data_api=self.data_api)}
        self.endpoints: Counter[str] = Counter()  # query requests per endpoint: query | read-only
        self.read_only_endpoint = True  # False: answer 404 there, as an API without that endpoint would
        self.faults: deque[str] = deque()
        self.list_faults: deque[str] = deque()
        self.counts: Counter[str] = Counter()
        self.queries = 0  # requests whose SQL reached the database
        self.in_flight = 0  # requests being handled (one a client gave up on may still be running)
        self.list_requests = 0
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}  # (scope, endpoint) -> (start, count)
        self._server: ThreadingHTTPServer | None = None

    # -- control ---------------------------------------------------------------
    def add_project(self, ref: str, dsn: str, name: str | None = None, region: str = "eu-central-1",
                    status: str = "ACTIVE_HEALTHY", organization: str = "twin-org") -> TwinProject:
        """Another project with its own database (a status other than ACTIVE_* is only what the list says)."""
        from support.postgrest_twin import DataApi

        project = TwinProject(ref, dsn, self.meta.connection(dsn), name or f"project {ref[:6]}",
                              self.meta.connection(reader_dsn(dsn)), region, status, organization, data_api=DataApi(dsn, self.exposed))
        with self._lock:
            if ref in self.projects:
                raise ValueError(f"project {ref} is already served")
            self.projects[ref] = project
        return project

    def data_api_of(self, project: TwinProject) -> Any:
        """A project's Data API; another project's starts (its schema cache built, its LISTEN opened) on first use,
        so a fleet of many projects holds a connection only for those whose OpenAPI document is read."""
        with self._lock:
            started = project.ref == self.ref or project.data_api_started
            project.data_api_started = True
        if not started:
            project.data_api.start()
        return project.data_api

    def add_faults(self, *names: str, project: str | None = None) -> None:
        """Queue faults: for any query (None), for one project's queries (its ref), or for the list (LIST)."""
        unknown = [n for n in names if n not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}; known: {', '.join(sorted(FAULTS))}")
        with self._lock:
            if project is None:
                self.faults.extend(names)
            elif project == LIST:
                self.list_faults.extend(names)
            else:
                self.projects[project].faults.extend(names)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": sum(self.counts.values()), "by_status": dict(self.counts),
                    "queries": self.queries, "faults_left": list(self.faults), "in_flight": self.in_flight,
                    "list_requests": self.list_requests, "by_endpoint": dict(self.endpoints),
                    "by_project": {ref: {"requests": p.requests, "queries": p.queries}
                                   for ref, p in self.projects.items()}, **self.data_api.stats()}

    def _flight(self, change: int) -> None:
        with self._lock:
            self.in_flight += change

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self, port: int = 0) -> ApiTwin:
        twin = self

        class Handler(_Handler):
            pass

        Handler.twin = twin
        self.data_api.start()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for the loop's next poll: 0.5 s by default, paid by every test that used a twin
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="api-twin",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for project in list(self.projects.values()):
            project.data_api.stop()  # a Data API never started stops at once

    def __enter__(self) -> ApiTwin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- per request -----------------------------------------------------------
    def take_rate_slot(self, scope: str | None = None, endpoint: str = QUERY) -> tuple[bool, dict[str, str]]:
        """Count the request in its (scope, endpoint) window; False when over the limit."""
        key = (scope or self.ref, endpoint)
        with self._lock:
            now = time.monotonic()
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            count += 1
            self._windows[key] = (start, count)
            allowed = count <= self.limit
            reset = max(1, math.ceil(self.window - (now - start)))
            headers = {"X-RateLimit-Limit": str(self.limit),
                       "X-RateLimit-Remaining": str(max(0, self.limit - count)),
                       "X-RateLimit-Reset": str(reset)}
            return allowed, headers

    def next_fault(self, ref: str | None = None) -> str | None:
        """The next fault for a query on `ref` (its own queue first), or for the list with LIST."""
        with self._lock:
            if ref == LIST:
                return self.list_faults.popleft() if self.list_faults else None
            own = self.projects[ref].faults if ref in self.projects else None
            if own:
                return own.popleft()
            return self.faults.popleft() if self.faults else None

    def add_get_faults(self, *names: str) -> None:
        """Faults for the GET endpoints only: 500, 502, 503, 504, 544, 429, drop-before, pass."""
        with self._lock:
            self.get_faults.extend(names)

    def next_get_fault(self) -> str | None:
        with self._lock:
            return self.get_faults.popleft() if self.get_faults else None

    def project(self, ref: str) -> TwinProject | None:
        with self._lock:
            project = self.projects.get(ref)
            if project is not None:
                project.requests += 1
            return project

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            self.list_requests += 1
            projects = list(self.projects.values())
        for project in projects:
            if not project.version:
                status, rows = self.meta.query(project.connection, "SELECT current_setting('server_version') AS v")
                project.version = str(rows[0]["v"]).split(" ")[0] if status == 200 and rows else "0"
        return [p.listing() for p in projects]

    def count(self, status: str) -> None:
        with self._lock:
            self.counts[status] += 1

    def count_endpoint(self, endpoint: str) -> None:
        with self._lock:
            self.endpoints[endpoint] += 1

    def execute(self, sql: str, ref: str | None = None, read_only: bool = False) -> tuple[int, Any]:
        """Hand the text to postgres-meta, then answer as the Management API relays it (201, or 400 + message).
        `read_only`: as supabase_read_only_user in read-only transactions, as the read-only endpoint runs it."""
        with self._lock:
            self.queries += 1
            project = self.projects[ref or self.ref]
            project.queries += 1
        status, body = self.meta.query(project.reader if read_only else project.connection, sql)
        if status == 200:
            return 201, body
        detail = body.get("formattedError") or body.get("error") or body.get("message") if isinstance(body, dict) else body
        return 400, {"message": f"Failed to run sql query: {detail}"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API behind its proxy
    twin: ApiTwin

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default log
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, default=str).encode()
        self.twin.count(str(status))  # before the answer is visible: a client may read the stats at once
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        self.twin.count("dropped")
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        twin = self.twin
        if self.path == "/_twin/stats":
            self._send(200, twin.stats())
            return
        match = GET_PATH.match(self.path)
        if match:
            self._project_get(match)
            return
        if self.path.split("?", 1)[0].rstrip("/") != PROJECTS_PATH:
            self._send(404, {"message": "Not Found"})
            return
        if twin.latency:
            time.sleep(twin.latency)
        allowed, headers = twin.take_rate_slot("user", LIST)
        if self.headers.get("Authorization") != f"Bearer {twin.token}":
            self._send(401, {"message": "Unauthorized"}, headers)
            return
        fault = twin.next_fault(LIST)
        fault = None if fault == "pass" else fault
        if not allowed or fault in ("429", "429-no-retry-after"):
            if fault == "429" or (not allowed and fault is None):
                headers["Retry-After"] = headers["X-RateLimit-Reset"] if not allowed else "1"
            if fault == "429-no-retry-after":
                headers["X-RateLimit-Remaining"] = "0"
            self._send(429, {"message": "ThrottlerException: Too Many Requests"}, headers)
            return
        if fault in STATUS_FAULTS:
            self._send(int(fault), {"message": STATUS_FAULTS[fault]}, headers)
            return
        if fault in ("drop-before", "drop-after"):
            self._drop()
            return
        self._send(200, twin.listing(), headers)

    def _project_get(self, match: re.Match[str]) -> None:
        """The Data API's GETs of one project: its PostgREST config and OpenAPI document."""
        twin = self.twin
        ref, what = match.group(1), match.group(2)
        if twin.latency:
            time.sleep(twin.latency)
        allowed, headers = twin.take_rate_slot(ref, f"GET /v1/projects/{{ref}}/{what}")
        if self.headers.get("Authorization") != f"Bearer {twin.token}":
            self._send(401, {"message": "Unauthorized"}, headers)
            return
        project = twin.project(ref)
        if project is None:
            self._send(404, {"message": "Project not found"}, headers)
            return
        fault = twin.next_get_fault()
        if not allowed or fault == "429":
            headers["Retry-After"] = headers["X-RateLimit-Reset"] if not allowed else "1"
            self._send(429, {"message": "ThrottlerException: Too Many Requests"}, headers)
            return
        if fault in STATUS_FAULTS:
            self._send(int(fault), {"message": STATUS_FAULTS[fault]}, headers)
            return
        if fault == "drop-before":
            self._drop()
            return
        if what == "postgrest":
            self._send(200, project.data_api.config(), headers)
            return
        from support.postgrest_twin import NotExposed

        schema = (parse_qs(match.group(3) or "").get("schema") or ["public"])[0]
        try:
            self._send(200, twin.data_api_of(project).openapi(schema), headers)
        except NotExposed:
            self._send(500, {"message": "Failed to fetch PostgREST OpenAPI spec"}, headers)

    def do_POST(self) -> None:  # noqa: N802
        self.twin._flight(+1)
        try:
            self._post()
        finally:
            self.twin._flight(-1)

    def _post(self) -> None:
        twin = self.twin
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_twin/faults":
            try:
                body = json.loads(raw)
                twin.add_faults(*body["faults"], project=body.get("project"))
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, {"message": str(exc)})
                return
            self._send(200, twin.stats())
            return
        if twin.latency:
            time.sleep(twin.latency)
        match = QUERY_PATH.match(self.path)
        if not match:
            self._send(404, {"message": "Not Found"})
            return
        ref = match.group(1)
        read_only = bool(match.group(2))
        twin.count_endpoint("read-only" if read_only else "query")
        if read_only and not twin.read_only_endpoint:
            self._send(404, {"message": f"Cannot POST {self.path}"})
            return
        allowed, headers = twin.take_rate_slot(ref, QUERY + "/read-only" if read_only else QUERY)
        if self.headers.get("Authorization") != f"Bearer {twin.token}":
            self._send(401, {"message": "Unauthorized"}, headers)
            return
        if twin.project(ref) is None:
            self._send(404, {"message": "Project not found"}, headers)
            return
        fault = None if read_only else twin.next_fault(ref)  # queued faults are the query endpoint's
        fault = None if fault == "pass" else fault
        if not allowed or fault in ("429", "429-no-retry-after"):
            if fault == "429" or (not allowed and fault is None):
                headers["Retry-After"] = headers["X-RateLimit-Reset"] if not allowed else "1"
            if fault == "429-no-retry-after":
                headers["X-RateLimit-Remaining"] = "0"
            self._send(429, {"message": "ThrottlerException: Too Many Requests"}, headers)
            return
        if fault in STATUS_FAULTS:
            self._send(int(fault), {"message": STATUS_FAULTS[fault]}, headers)
            return
        if fault == "drop-before":
            self._drop()
            return
        if fault == "econnrefused":
            self._send(400, {"message": "Failed to run sql query: connect ECONNREFUSED 10.0.0.2:5432"}, headers)
            return
        if fault == "too-many-connections":  # the database refused the session: nothing ran
            self._send(400, {"message": TOO_MANY}, headers)
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"message": "Unexpected token in JSON body"}, headers)
            return
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, str) or not query:
            self._send(400, {"message": "body/query must NOT have fewer than 1 characters"}, headers)
            return
        if fault == "timeout":
            time.sleep(twin.timeout_delay)
        status, answer = twin.execute(query, ref, read_only)
        if fault == "drop-after":
            self._drop()
            return
        if fault == "500-after-commit":
            self._send(500, {"message": "Internal server error"}, headers)
            return
        try:
            self._send(status, answer, headers)
        except OSError:  # the client gave up (timeout fault); already counted by its status
            pass


def reader_dsn(dsn: str) -> str:
    """The same database as supabase_read_only_user, every transaction read-only (the role's own setting on a
    hosted project: supabase/postgres sets default_transaction_read_only for it)."""
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    query = "options=-c%20default_transaction_read_only%3Don"
    return urlunsplit((parts.scheme, f"{READ_ONLY_USER}@{host}", parts.path,
                       f"{parts.query}&{query}" if parts.query else query, ""))


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up short
    raise KeyboardInterrupt()  # so `finally` stops the embedded server too


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.api_twin",
                                     description="Loopback twin of the Supabase Management API query endpoint.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dsn", help="PostgreSQL to run queries on")
    where.add_argument("--local", action="store_true", help="start a local PostgreSQL 17 for it")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="sbp_" + "0" * 40)
    parser.add_argument("--ref", default="abcdefghijklmnopqrst")
    parser.add_argument("--fleet", type=int, default=0, metavar="N",
                        help="with --local: N more projects, each with its own database (refs: fleet_refs(N))")
    parser.add_argument("--limit", type=int, default=120, help="requests per window (default 120)")
    parser.add_argument("--window", type=float, default=60.0, help="rate-limit window in seconds")
    parser.add_argument("--latency", type=float, default=0.0, help="added seconds per request")
    parser.add_argument("--timeout-delay", type=float, default=3.0, help="how long the timeout fault waits")
    parser.add_argument("--exposed", default="public,graphql_public",
                        help="the Data API's exposed schemas (its PostgREST config's db_schema)")
    parser.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS),
                        help="queue a fault for the next request (repeatable)")
    args = parser.parse_args(argv)
    from support.postgres_meta import PostgresMeta

    cluster = None
    dsn = args.dsn
    meta = PostgresMeta().start()
    if args.local:
        from supadeploy.platform import binaries
        from supadeploy.platform.cluster import Cluster, server_user

        cluster = Cluster(binaries.ensure(17), server_user()).start()
        cluster.create_database("welltrack")
        dsn = cluster.dsn("welltrack")
    twin = ApiTwin(dsn, args.token, meta, args.ref, args.limit, args.window, args.latency, args.timeout_delay,
                   tuple(s.strip() for s in args.exposed.split(",") if s.strip()))
    if args.fleet and cluster is None:
        parser.error("--fleet needs --local (each project gets a database of the local server)")
    for ref in fleet_refs(args.fleet):
        assert cluster is not None
        cluster.create_database(ref)
        twin.add_project(ref, cluster.dsn(ref))
    twin.add_faults(*args.fault)
    twin.start(args.port)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sys.stdout.write(f"API twin listening: --api-url {twin.url} --project-ref {twin.ref} "
                     f"--access-token {twin.token}\n")
    if args.fleet:
        sys.stdout.write(f"fleet projects: {' '.join(fleet_refs(args.fleet))}\n")
    sys.stdout.write("(Ctrl-C to stop)\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        twin.stop()
        meta.stop()
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
