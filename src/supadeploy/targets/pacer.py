"""One rate-limit pacer per process, shared by every Management API client in it.

Supabase counts Management API requests per user (every token of a user
shares the count), per scope (a project, an organization, or the user alone
for calls such as `GET /v1/projects`) and per endpoint: 120 a minute, then 429
for the rest of the window. Every answer says where the window stands:
`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (seconds
until the window resets).

A deploy is not the only client of its project: the assertions, the status
read and the advisors each open their own, and a fleet rollout runs many at
once. Each counting on its own would spend the same 120 twice and meet 429s.
Here they share one count per key (token, scope, endpoint), fed by what the
server says, so they wait for the reset instead.

The count is conservative: the lowest `Remaining` answered in a window
(answers come back in any order; the lowest belongs to the request the server
counted last, and every answered request was counted before it), less every
request of this process still unanswered (each may or may not have been
counted yet). The first request on a key goes alone: the others wait for its
answer (at most `probe_wait`), since another process of the same user may
have spent the window already. After the latest announced reset, the window
is the limit (120, or what `X-RateLimit-Limit` said) less the requests still
unanswered, which may count in the new window. Other processes of the same
user are seen only through the headers; the 429 they may still cause is
handled by the clients' retry.

It lives with the targets: `ApiTarget(rate=paced(token))` paces the query
endpoint through it; the rollout's projects list does too.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import TargetError

WINDOW = 60.0  # seconds: the documented window
PER_WINDOW = 120  # the documented limit
MAX_RESET = 120.0  # a reset further away than this is not believed
PROJECT_PATH = re.compile(r"^/v1/projects/([^/]+)(/.*)?$")
ORGANIZATION_PATH = re.compile(r"^/v1/organizations/([^/]+)(/.*)?$")


@dataclass(frozen=True)
class PaceKey:
    """What the server counts separately. `token` is a digest: the token itself is never kept here."""

    token: str
    scope: str  # a project ref, "org:<slug>", or "user"
    endpoint: str  # "POST /v1/projects/{ref}/database/query"

    def __str__(self) -> str:
        return f"{self.endpoint} ({self.scope})"


def key_for(token: str, method: str, path: str, server: str = "") -> PaceKey:
    """The key of a request: its scope and endpoint from the path, as Supabase documents them; `server` (the
    API's base URL) keeps the counts of two servers apart."""
    digest = hashlib.sha256(f"{server}\n{token}".encode()).hexdigest()[:16]
    path = path.split("?", 1)[0].rstrip("/") or "/"
    project = PROJECT_PATH.match(path)
    organization = ORGANIZATION_PATH.match(path)
    if project:
        scope, endpoint = project.group(1), "/v1/projects/{ref}" + (project.group(2) or "")
    elif organization:
        scope = "org:" + organization.group(1)
        endpoint = "/v1/organizations/{slug}" + (organization.group(2) or "")
    else:
        scope, endpoint = "user", path
    return PaceKey(digest, scope, f"{method.upper()} {endpoint}")


@dataclass(frozen=True)
class Ticket:
    """One request the pacer let through; give it back with the answer's headers."""

    key: PaceKey
    seq: int


@dataclass
class _Window:
    limit: int
    low: int | None = None  # the lowest `Remaining` answered in the current window; None: not known
    reset_at: float | None = None  # the latest reset announced in it
    seq: int = 0  # requests started so far
    in_flight: set[int] = field(default_factory=set)  # started, not answered yet
    heard: bool = False  # an answer has come back
    informed: bool = False  # an answer carried the window's state (X-RateLimit-Remaining and -Reset)
    started: deque[float] = field(default_factory=deque)  # since the last reset: the fallback count

    @property
    def budget(self) -> int | None:
        """Requests that may start now: the server's count, less what may not have reached it yet."""
        return None if self.low is None else self.low - len(self.in_flight)


class Pacer:
    """Blocks a request until its key's window has room; learns the window from the answers."""

    def __init__(self, per_window: int = PER_WINDOW, window: float = WINDOW, margin: float = 0.25,
                 probe_wait: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_window = per_window
        self.window = window
        self.probe_wait = probe_wait  # how long the first answer on a key is awaited before going on without it
        self.margin = margin  # added to every announced reset: arrive just after it, never just before
        self.clock = clock
        self.waits = 0  # requests that waited for a window to reset (for reports and benchmarks)
        self._windows: dict[PaceKey, _Window] = {}
        self._cond = threading.Condition()

    def delay(self, key: PaceKey) -> float:
        """Seconds until the window of `key` resets when it has no room left (0: room now); nothing is taken.

        A request may still wait briefly in `acquire` for answers in flight, which can only bring news of room.
        """
        with self._cond:
            return self._delay(self._window_of(key), self.clock())[0]

    def acquire(self, key: PaceKey, max_wait: float | None = None,
                on_wait: Callable[[str], None] | None = None) -> Ticket:
        """Wait until a request on `key` may start, and count it."""
        waited = 0.0
        told = False
        with self._cond:
            while True:
                state = self._window_of(key)
                now = self.clock()
                hard, news = self._delay(state, now)
                wait = max(hard, news)
                if wait <= 0:
                    state.seq += 1
                    state.started.append(now)
                    state.in_flight.add(state.seq)
                    return Ticket(key, state.seq)
                if max_wait is not None and waited + wait > max_wait:
                    raise TargetError(f"gave up waiting for the Management API's rate limit on {key} after "
                                      f"{waited:.0f} s; the bound is {max_wait:.0f} s")
                if not told and hard > 0:
                    self.waits += 1
                    told = True
                    if on_wait is not None and hard >= 0.2:
                        on_wait(f"rate limit of {key}: waiting {hard:.1f} s for the window to reset")
                began = self.clock()
                self._cond.wait(wait)  # an answer may bring news sooner
                waited += max(0.0, self.clock() - began)

    def observe(self, ticket: Ticket, headers: Any, status: int | None = None) -> None:
        """An answer to `ticket`'s request: learn the window from its headers (and from a 429)."""
        limit = _number(headers.get("x-ratelimit-limit"))
        remaining = _number(headers.get("x-ratelimit-remaining"))
        reset = _number(headers.get("x-ratelimit-reset"))
        retry_after = _number(headers.get("retry-after"))
        with self._cond:
            state = self._window_of(ticket.key)
            now = self.clock()
            state.heard = True
            state.in_flight.discard(ticket.seq)
            self._cond.notify_all()
            if limit is not None and limit >= 1:
                state.limit = int(limit)
            if status == 429:
                remaining = 0.0
                reset = retry_after if retry_after is not None and retry_after >= 0 else reset
                if reset is None:
                    reset = 1.0
            if remaining is None or reset is None or reset < 0:
                return
            state.informed = True
            reset_at = now + min(reset, MAX_RESET) + self.margin
            if state.reset_at is None:
                state.low, state.reset_at = int(remaining), reset_at
            else:
                # Answers come back in any order and `Reset` counts from when the server answered, so a late
                # answer cannot be told from one of the next window: the lowest count and the latest reset stand.
                state.low = int(remaining) if state.low is None else min(state.low, int(remaining))
                state.reset_at = max(state.reset_at, reset_at)

    def lost(self, ticket: Ticket) -> None:
        """The request got no answer (a lost connection): it is no longer in flight."""
        with self._cond:
            self._window_of(ticket.key).in_flight.discard(ticket.seq)
            self._cond.notify_all()

    def snapshot(self, key: PaceKey) -> dict[str, Any]:
        """Where a key's window stands (for tests, benchmarks and debugging)."""
        with self._cond:
            state = self._window_of(key)
            now = self.clock()
            self._delay(state, now)
            return {"limit": state.limit, "budget": state.budget, "in_flight": len(state.in_flight),
                    "started": state.seq,
                    "reset_in": None if state.reset_at is None else max(0.0, state.reset_at - now)}

    def _window_of(self, key: PaceKey) -> _Window:
        state = self._windows.get(key)
        if state is None:
            state = self._windows[key] = _Window(self.per_window)
        return state

    def _delay(self, state: _Window, now: float) -> tuple[float, float]:
        """(the wait for the window's reset, the wait for news): the second ends as soon as an answer comes."""
        if state.reset_at is not None and now >= state.reset_at:
            # The announced reset has passed: a fresh window, in which requests still unanswered may count.
            state.low, state.reset_at = None, None
            state.started = deque(now for _ in state.in_flight)
        while state.started and now - state.started[0] >= self.window:
            state.started.popleft()
        wait = news = 0.0
        budget = state.budget
        if state.low is not None and state.reset_at is not None:
            if state.low <= 0:
                wait = state.reset_at - now  # the server said none is left
            elif budget is not None and budget <= 0:
                news = state.reset_at - now  # none left unless the requests in flight were counted already
        elif len(state.started) >= state.limit:
            # Not known, and our own count says the window is full: when the server tells where its window
            # stands, its answers to the requests in flight will say so sooner; when it never does, this count
            # is all there is.
            full = state.started[0] + self.window - now
            if state.informed:
                news = full
            else:
                wait = full
        if not state.heard and state.started:
            news = max(news, state.started[0] + self.probe_wait - now)
        return max(0.0, wait), max(0.0, news)


class PacedLimiter:
    """The shared pacer behind the `Limiter` interface `targets/api.py` calls (delay, record, server_said,
    release).

    `record` takes the slot (waiting if another client took it meanwhile),
    `server_said` hands the answer's headers back, `release` gives back a slot
    whose request got no answer. One per client and endpoint: `paced` makes them.
    """

    def __init__(self, pacer: Pacer, key: PaceKey, max_wait: float | None = None) -> None:
        self.pacer = pacer
        self.key = key
        self.max_wait = max_wait
        self._ticket: Ticket | None = None

    def delay(self) -> float:
        return self.pacer.delay(self.key)

    def record(self) -> None:
        self.release()  # the client sends one request at a time: the previous one is over
        self._ticket = self.pacer.acquire(self.key, max_wait=self.max_wait)

    def server_said(self, headers: Any) -> None:
        if self._ticket is not None:
            self.pacer.observe(self._ticket, headers)
            self._ticket = None

    def release(self) -> None:
        if self._ticket is not None:
            self.pacer.lost(self._ticket)
            self._ticket = None


def paced(token: str, server: str = "", pacer: Pacer | None = None, max_wait: float | None = None,
          method: str = "POST") -> Callable[[str], PacedLimiter]:
    """`ApiTarget(rate=...)`: each endpoint the target calls on `server` paced through `pacer` (default: the
    process's)."""
    shared = pacer or shared_pacer()
    return lambda path: PacedLimiter(shared, key_for(token, method, path, server), max_wait)


_SHARED: Pacer | None = None
_SHARED_LOCK = threading.Lock()


def shared_pacer() -> Pacer:
    """The process's pacer: every client of one process paces through it."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Pacer()
        return _SHARED


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


__all__ = ["PaceKey", "PacedLimiter", "Pacer", "Ticket", "key_for", "paced", "shared_pacer"]
