"""Target `api`: the Supabase Management API's query endpoint, through httpx.

`POST {api-url}/v1/projects/{ref}/database/query` runs one SQL text as one
implicit transaction and answers with the rows of the last result set that has
rows (see ../shared/reference/supabase-platform.md). This client adds what a
deploy needs on top: strict inputs, explicit timeouts, the rate limit kept on
the client side, retries only where a resend cannot apply anything twice, and
`OutcomeUnknown` where it could, so the engine reconciles through history.
The token only ever travels in the Authorization header; no header, request
or response object is ever printed or chained into an exception.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import re
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from .. import __version__
from ..errors import ConfigError, OutcomeUnknown, TargetError
from ..masking import looks_like_secret, shown
from .base import READ_ONLY, QueryError, Row

DEFAULT_API_URL = "https://api.supabase.com"
REF_RE = re.compile(r"^[a-z]{20}$")
TOKEN_RE = re.compile(r"^sbp_(oauth_)?[a-f0-9]{40}$")
REQUESTS_PER_MINUTE = 120  # Supabase's documented limit per user, project and endpoint
ERROR_PREFIX = "Failed to run sql query: "
LINE_RE = re.compile(r"^LINE (\d+): ")
FIELD_RE = re.compile(r"^(DETAIL|HINT|QUERY|CONTEXT):  ?(.*)$")
FIRST_RE = re.compile(r"^(?:(ERROR|FATAL|PANIC|WARNING):  )?(?:([0-9A-Z]{5}): )?(.*)$", re.S)
UNREACHABLE_RE = re.compile(r"\b(ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ECONNRESET)\b")
AMBIGUOUS_STATUSES = {500, 502, 503, 504, 520, 522, 524, 544}
# The query endpoint is served by postgres-meta, whose server refuses a body above its bodyLimit
# (PG_META_MAX_BODY_LIMIT_MB, default 3 MiB): the JSON `{"query": ...}` as sent, in bytes.
MAX_BODY = 3 * 1024 * 1024


def body_size(sql: str) -> int:
    """The bytes of the body a query is sent in (httpx's JSON: compact, UTF-8, no ASCII escapes)."""
    return len(json.dumps({"query": sql}, ensure_ascii=False, separators=(",", ":")).encode())


class EndpointRefused(ConfigError):
    """403, or 404: no access to the project, no such project, or no such endpoint (`route_missing`: an API
    without the read-only endpoint answers an unknown route, "Cannot POST …")."""

    def __init__(self, message: str, status: int, route_missing: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.route_missing = route_missing


@dataclass(frozen=True)
class ApiLimits:
    """Timeouts and retry bounds; tests shrink them, users rarely need to."""

    connect_timeout: float = 10.0
    read_timeout: float = 75.0  # above the API's ~60 s limit, so the server gives up first
    max_attempts: int = 5  # per request, for failures that are safe to retry
    max_wait: float = 180.0  # total time one request may spend waiting on rate limits and backoff
    backoff: float = 0.5  # first exponential backoff step, seconds (then 1, 2, 4)
    per_minute: int = REQUESTS_PER_MINUTE


def check_ref(ref: str | None) -> str:
    if not ref:
        raise ConfigError("the API target needs a project ref: --project-ref or SUPABASE_PROJECT_REF")
    if not REF_RE.match(ref):

        if looks_like_secret(ref):
            raise ConfigError("the project ref looks like an access token: were --project-ref and --access-token "
                              "(SUPABASE_PROJECT_REF and SUPABASE_ACCESS_TOKEN) swapped? A project ref is 20 "
                              "lowercase letters (Project Settings → General → Reference ID)")
        raise ConfigError(f"invalid project ref {shown(ref)}: expected 20 lowercase letters "
                          "(Project Settings → General → Reference ID)")
    return ref


def check_api_url(url: str) -> str:
    """https always, plain http only for loopback (a local test server)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise ConfigError(f"invalid --api-url {_shown(url)}") from None
    if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"invalid --api-url {_shown(url)}: expected https://host[:port][/path]")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ConfigError(f"--api-url must use https (plain http is allowed only for loopback): {_shown(url)}")
    return url.rstrip("/")


def _shown(url: str) -> str:

    return shown(url, 80)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_warning(token: str) -> str | None:
    if TOKEN_RE.match(token):
        return None
    return ("the access token does not look like a personal access token (sbp_ + 40 hex); "
            "going on, since OAuth tokens have other shapes")


def check_token(access_token: str | None, needed_by: str = "the API target") -> str:
    """A token that can travel in a header: given, and without whitespace or control characters."""
    if not access_token:
        raise ConfigError(f"{needed_by} needs an access token: --access-token or SUPABASE_ACCESS_TOKEN "
                          "(create one at https://supabase.com/dashboard/account/tokens)")
    if any(c.isspace() for c in access_token) or not access_token.isprintable():
        raise ConfigError("the access token contains whitespace or control characters; check how it was pasted")
    return access_token


def open_client(base_url: str, access_token: str, limits: ApiLimits) -> Any:
    """The one way supadeploy talks to the Management API (the query target and the projects list alike).

    The token travels only in the Authorization header; `trust_env=False`: no .netrc may replace it, and
    no proxy is taken from the environment but an HTTPS proxy for a host that is not loopback; redirects are
    never followed (a redirect could carry the header elsewhere); the system's CA store (SSL_CERT_FILE too)
    is used, as behind a TLS-inspecting proxy; explicit timeouts; one connection (requests go one at a time).
    """
    import httpx  # noqa: PLC0415 - heavy: loaded on first use

    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        headers={"Authorization": f"Bearer {access_token}", "User-Agent": f"supadeploy/{__version__}",
                 "Accept": "application/json"},
        follow_redirects=False, trust_env=False, proxy=_proxy(base_url), verify=ssl.create_default_context())


def _proxy(base_url: str) -> str | None:
    if _is_loopback(urlsplit(base_url).hostname or ""):
        return None
    return os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") or None


def unauthorized() -> ConfigError:
    """401, for any endpoint: the token itself is wrong (never shown)."""
    return ConfigError("the Management API rejected the access token (401 Unauthorized): check "
                       "SUPABASE_ACCESS_TOKEN; tokens are created at https://supabase.com/dashboard/account/tokens")


def parse_error(message: str, sql: str) -> QueryError:
    """postgres-meta's error text → a structured error with the 1-based position in `sql`.

    Lines: `ERROR:  <SQLSTATE>: <message>`, then optional `LINE n: <line>` with
    a caret under the character, `DETAIL:`, `HINT:`, `QUERY:`, `CONTEXT:`.
    The caret and the text that was sent give back the exact position.
    """
    text = message[len(ERROR_PREFIX):] if message.startswith(ERROR_PREFIX) else message
    lines = text.rstrip("\n").split("\n")
    first = FIRST_RE.match(lines[0])
    sqlstate, primary = (first.group(2), first.group(3)) if first else (None, lines[0])
    fields: dict[str, str] = {}
    current: str | None = None
    line_no = caret = None
    i = 1
    while i < len(lines):
        line = lines[i]
        match = LINE_RE.match(line)
        if match and line_no is None and i + 1 < len(lines) and lines[i + 1].rstrip().endswith("^"):
            line_no = int(match.group(1))
            caret = len(lines[i + 1].rstrip()) - 1
            i += 2
            current = None
            continue
        field = FIELD_RE.match(line)
        if field:
            current = field.group(1)
            fields[current] = field.group(2)
        elif current is not None:
            fields[current] += "\n" + line
        else:
            primary += "\n" + line
        i += 1
    position = position_of(sql, line_no, caret) if line_no is not None and caret is not None else None
    return QueryError(sqlstate or "XX000", primary, position, fields.get("DETAIL"), fields.get("HINT"),
                      fields.get("CONTEXT"), fields.get("QUERY"))


def position_of(sql: str, line_no: int, caret: int) -> int | None:
    """Invert postgres-meta's caret: column = 5 + len(str(n)) + 2 + offset in line n."""
    offset = caret - (7 + len(str(line_no)))
    lines = sql.split("\n")
    if offset < 0 or line_no < 1 or line_no > len(lines):
        return None
    return sum(len(line) + 1 for line in lines[:line_no - 1]) + offset + 1


class Limiter(Protocol):
    """Paces one client's requests: `delay` before sending, `record` as it is sent, `server_said` with the
    answer's headers, `release` when the client is done (a request left without an answer no longer counts).
    `RateLimiter` counts alone; `pacer.PacedLimiter` shares one count per process (a fleet rollout)."""

    def delay(self) -> float: ...

    def record(self) -> None: ...

    def server_said(self, headers: Any) -> None: ...

    def release(self) -> None: ...


class RateLimiter:
    """At most `per_minute` requests in any 60 s, and the server's own window when it says so."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.sent: deque[float] = deque()
        self.blocked_until = 0.0

    def delay(self) -> float:
        now = self.clock()
        while self.sent and now - self.sent[0] >= 60.0:
            self.sent.popleft()
        wait = max(0.0, self.blocked_until - now)
        if len(self.sent) >= self.per_minute:
            wait = max(wait, 60.0 - (now - self.sent[0]))
        return wait

    def record(self) -> None:
        self.sent.append(self.clock())

    def server_said(self, headers: Any) -> None:
        """X-RateLimit-Remaining: 0 means the next request would get 429: wait for the reset."""
        remaining, reset = _number(headers.get("x-ratelimit-remaining")), _number(headers.get("x-ratelimit-reset"))
        if remaining is not None and remaining <= 0 and reset is not None:
            self.blocked_until = max(self.blocked_until, self.clock() + min(reset, 60.0))

    def release(self) -> None:
        """Nothing to give back: this count is the client's own."""


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ApiTarget:
    name = "api"
    sticky_session = False  # the Management API pools database sessions
    max_body = MAX_BODY  # what one request may carry (engine/send.py refuses a bigger file before sending)

    def __init__(self, project_ref: str | None, access_token: str | None, api_url: str | None = None,
                 limits: ApiLimits = ApiLimits(), sleep: Callable[[float], None] = time.sleep,
                 rate: Callable[[str], Limiter] | None = None) -> None:
        """`rate`: the limiter of an endpoint, given its path (a fleet rollout shares the process's pacer);
        default: a count of this target's own."""
        self.ref = check_ref(project_ref)
        access_token = check_token(access_token)
        self.base_url = check_api_url(api_url or DEFAULT_API_URL)
        self.warnings = [w for w in (token_warning(access_token),) if w]
        self.limits = limits
        self.round_trips = 0  # every request: queries and GETs
        self._sleep = sleep
        self._rate_for = rate  # default: a count of this target's own per endpoint
        self._rates: dict[str, Limiter] = {}  # one per endpoint, as the server counts
        self.read_only_refused: str | None = None  # why the read-only endpoint refused a read, once it did
        self._token = access_token
        self._client: Any = None
        self.on_wait: Callable[[str], None] | None = None

    @property
    def label(self) -> str:
        host = urlsplit(self.base_url).hostname or self.base_url
        return f"project {self.ref}" + ("" if self.base_url == DEFAULT_API_URL else f" via {host}")

    @property
    def path(self) -> str:
        return f"/v1/projects/{self.ref}/database/query"

    @property
    def read_only_path(self) -> str:
        """Runs as supabase_read_only_user in a read-only transaction (scope database:read)."""
        return self.path + "/read-only"

    def read(self, sql: str) -> list[Row]:
        """A read that changes nothing, on the read-only endpoint; where it is refused (an API or a token
        without it, or a text it will not take), on the query endpoint in a read-only transaction."""
        if self.read_only_refused is None:
            try:
                return self.run(sql, safe_to_resend=True, read_only=True)
            except (EndpointRefused, QueryError) as error:
                if not _read_only_refused(error):
                    raise
                self.read_only_refused = str(error).splitlines()[0][:200]
        return self.run(READ_ONLY + sql, safe_to_resend=True)

    def _http(self) -> Any:
        if self._client is None:
            self._client = open_client(self.base_url, self._token, self.limits)
        return self._client

    def blockers(self, tag: str) -> list[Row]:
        """The Management API has no second connection to ask on while a request waits."""
        return []

    def run(self, sql: str, safe_to_resend: bool = False, read_only: bool = False) -> list[Row]:
        """One query (on the read-only endpoint with `read_only`); retried only when resending cannot apply
        anything twice.

        A 429 is a throttle, not a failure: it is waited out within the time
        budget (`max_wait`), however many times it comes. Failures (5xx on a
        safe request, connection errors) have their own bound, `max_attempts`.
        """
        path = self.read_only_path if read_only else self.path
        rows: list[Row] = self._exchange(lambda http: http.post(path, json={"query": sql}),
                                         lambda response: self._answer(response, sql, safe_to_resend),
                                         safe_to_resend, path)
        return rows

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """A GET under /v1/projects/{ref}/ (`path`, e.g. "postgrest" or "database/openapi"): a read, with the
        same token, timeouts, rate limit, retries and refusals as a query that is safe to resend."""
        if path.startswith("/") or ".." in path or "?" in path:
            raise ValueError(f"not a project path: {path!r}")
        endpoint = f"/v1/projects/{self.ref}/{path}"
        return self._exchange(lambda http: http.get(endpoint, params=params or {}), self._answer_get, True,
                              endpoint)

    def exposed_schemas(self) -> tuple[str, ...]:
        """The schemas the project's Data API serves: `db_schema` of `GET /v1/projects/{ref}/postgrest`. The
        answer's other fields (the project's JWT secret among them) are dropped unread."""
        value = _field(self.get("postgrest"), "db_schema")
        if not isinstance(value, str) or not value.strip():
            raise TargetError("the Management API's PostgREST config has no db_schema")
        return tuple(part.strip() for part in value.split(",") if part.strip())

    def openapi(self, schema: str) -> Any:
        """The Data API's OpenAPI document for one schema (`GET /v1/projects/{ref}/database/openapi`): what
        PostgREST serves there, as its schema cache and the anon role's privileges have it."""
        return self.get("database/openapi", {"schema": schema})

    def _limiter(self, endpoint: str) -> Limiter:
        if endpoint not in self._rates:
            self._rates[endpoint] = (self._rate_for(endpoint) if self._rate_for is not None
                                     else RateLimiter(self.limits.per_minute))
        return self._rates[endpoint]

    def _exchange(self, send: Callable[[Any], Any], answer: Callable[[Any], Any], safe_to_resend: bool,
                  endpoint: str) -> Any:
        import httpx  # noqa: PLC0415 - heavy: loaded on first use

        rate = self._limiter(endpoint)
        waited = 0.0
        failures = 0
        throttled = 0
        started = time.monotonic()
        while True:
            waited += self._pause(rate.delay(), waited, "keeping under 120 requests a minute")
            rate.record()
            self.round_trips += 1
            try:
                response = send(self._http())
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the server: always safe to try again.
                retry_reason = f"cannot connect to {self.base_url} ({type(exc).__name__})"
            except httpx.TransportError as exc:
                self.close()
                reason = f"no answer from the Management API ({type(exc).__name__}) after the query was sent"
                if not safe_to_resend:
                    raise OutcomeUnknown(f"{reason}; it may have committed") from None
                retry_reason = reason
            else:
                rate.server_said(response.headers)
                outcome = answer(response)
                if not isinstance(outcome, _Retry):
                    return outcome
                if outcome.wait is not None:
                    throttled += 1
                    waited += self._pause(outcome.wait, waited, f"rate limited (429 ×{throttled})")
                    continue
                retry_reason = outcome.reason
            failures += 1
            if failures >= self.limits.max_attempts:
                raise TargetError(f"{retry_reason}; gave up after {failures} attempts over "
                                  f"{time.monotonic() - started:.1f} s")
            waited += self._pause(self._backoff(failures), waited, retry_reason)

    def _answer(self, response: Any, sql: str, safe_to_resend: bool) -> list[Row] | _Retry:
        status = response.status_code
        if status in (200, 201):
            rows = json_of(response)
            if not isinstance(rows, list):
                raise TargetError(f"unexpected answer from the Management API: {str(rows)[:200]}")
            return rows
        message = message_of(response)
        if status == 400:
            if UNREACHABLE_RE.search(message) and not message.startswith(ERROR_PREFIX + "ERROR:"):
                return _Retry(f"the platform could not reach the database ({message[:120]})")
            raise parse_error(message, sql)
        return self._refused(response, message, safe_to_resend)

    def _answer_get(self, response: Any) -> Any:
        """A GET's JSON body; the same refusals as a query (its 400 is not a SQL error)."""
        if response.status_code == 200:
            return json_of(response)
        message = message_of(response)
        if response.status_code == 400:
            raise TargetError(f"the Management API refused {response.request.url.path}: 400 {message[:200]}")
        return self._refused(response, message, safe_to_resend=True)

    def _refused(self, response: Any, message: str, safe_to_resend: bool) -> _Retry:
        status = response.status_code
        if status == 401:
            raise unauthorized()
        if status == 403:
            raise EndpointRefused(f"the access token has no access to project {self.ref} (403 Forbidden)", 403)
        if status == 404:
            if message.startswith("Cannot POST"):
                raise EndpointRefused(f"{self.base_url} has no such endpoint (404: {message[:120]})", 404, True)
            raise EndpointRefused(f"project {self.ref} was not found at {self.base_url} (404): check --project-ref "
                                  "and --api-url", 404)
        if status == 429:
            return _Retry("rate limited (429)", wait=self._rate_wait(response))
        if status in AMBIGUOUS_STATUSES:
            reason = f"the Management API answered {status} ({message[:120]})"
            if not safe_to_resend:
                raise OutcomeUnknown(f"{reason}; the query may have committed")
            return _Retry(reason)
        raise TargetError(f"unexpected answer from the Management API: {status} {message[:200]}")

    def _rate_wait(self, response: Any) -> float:
        """Retry-After, else X-RateLimit-Reset, else exponential backoff with jitter."""
        for header in ("retry-after", "x-ratelimit-reset"):
            value = _number(response.headers.get(header))
            if value is not None and value >= 0:
                return min(value, 60.0) + random.uniform(0, 0.1)
        return self._backoff(3)

    def _backoff(self, attempt: int) -> float:
        step = self.limits.backoff * (2 ** (attempt - 1))
        return random.uniform(step / 2, step)

    def _pause(self, seconds: float, waited: float, why: str) -> float:
        """Wait, saying so as it starts; never beyond the time budget."""
        if seconds <= 0:
            return 0.0
        if waited + seconds > self.limits.max_wait:
            raise TargetError(f"gave up waiting for the Management API after {waited:.0f} s ({why}); the bound "
                              f"is {self.limits.max_wait:.0f} s")
        if self.on_wait is not None and seconds >= 0.2:
            self.on_wait(f"{why}: waiting {seconds:.1f} s")
        self._sleep(seconds)
        return seconds

    def close(self) -> None:
        for rate in self._rates.values():
            rate.release()
        if self._client is not None:
            self._client.close()
            self._client = None


def _read_only_refused(error: EndpointRefused | QueryError) -> bool:
    """The read-only endpoint is missing (an older API or a stand-in), the token may not use it (403: a
    scoped OAuth token), or it takes a text as one prepared statement; a wrong ref or token is not this."""
    if isinstance(error, EndpointRefused):
        return error.route_missing or error.status == 403
    return error.sqlstate == "42601" and "multiple commands" in error.message


@dataclass
class _Retry:
    reason: str
    wait: float | None = None


def json_of(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TargetError(f"the Management API answered {response.status_code} with non-JSON text: "
                          f"{response.text[:200]!r}") from None


def _field(body: Any, name: str) -> Any:
    """One field of a JSON object answer; nothing else of it is kept."""
    return body.get(name) if isinstance(body, dict) else None


def message_of(response: Any) -> str:
    """The error text of an answer: its JSON `message` (or `error`, `msg`), else its text."""
    try:
        body = response.json()
    except ValueError:
        return str(response.text).strip()[:2000]
    if isinstance(body, dict):
        value: Any = body.get("message") or body.get("error") or body.get("msg")
        if value is not None:
            return value if isinstance(value, str) else json.dumps(value)
    return json.dumps(body)[:2000]


__all__ = ["MAX_BODY", "ApiLimits", "ApiTarget", "DEFAULT_API_URL", "Limiter", "RateLimiter", "check_api_url", "check_ref",
           "check_token", "json_of", "message_of", "open_client", "parse_error", "position_of", "unauthorized"]
