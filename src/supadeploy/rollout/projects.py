"""The projects an access token can see (`GET /v1/projects`), and the fleet's waves resolved against them.

The client keeps the query target's safety (targets/api.py): https except for
loopback, redirects never followed, no .netrc, the token only in the
Authorization header and never in a message; 401/403/404 are configuration
errors; a GET is safe to resend, so 5xx and lost connections are retried with
backoff, and 429 waits through the process's shared pacer.

`GET /v1/projects` answers a JSON array of projects (supabase/cli,
pkg/api/types.gen.go, `V1ProjectWithDatabaseResponse`): `ref` (and the
deprecated `id`, the same value), `name`, `region`, `status`,
`organization_slug`, `created_at`, `database`. It takes no paging parameters.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from ..errors import ConfigError, TargetError
from ..model import Problem
from ..targets.api import (
    DEFAULT_API_URL,
    ApiLimits,
    check_api_url,
    check_token,
    json_of,
    message_of,
    open_client,
    token_warning,
    unauthorized,
)
from ..targets.pacer import Pacer, key_for, shared_pacer
from .fleet import REF_RE, Fleet, FleetFileError, Named

PROJECTS_PATH = "/v1/projects"
RETRY_STATUSES = {500, 502, 503, 504, 520, 522, 524, 544}
# `all` deploys to projects whose database is up. Paused, failed and removed projects cannot take a deploy;
# projects coming up, restoring, resizing, restarting or upgrading cannot take one yet: they are listed as
# skipped (with their status), never silently left out, and a later rollout picks them up.
DEPLOYABLE = frozenset({"ACTIVE_HEALTHY", "ACTIVE_UNHEALTHY"})


@dataclass(frozen=True)
class Project:
    ref: str
    name: str
    region: str
    status: str
    organization: str | None = None

    @property
    def deployable(self) -> bool:
        return self.status in DEPLOYABLE


@dataclass(frozen=True)
class ProjectList:
    projects: tuple[Project, ...]
    warnings: tuple[str, ...] = ()  # entries that could not be used, said plainly

    def by_ref(self) -> dict[str, Project]:
        return {p.ref: p for p in self.projects}


class ManagementClient:
    """GET requests to the Management API, paced and retried (they change nothing, so resending is safe).

    The HTTP setup, the token checks and the error texts are the query target's (targets/api.py)."""

    def __init__(self, access_token: str | None, api_url: str | None = None, limits: ApiLimits | None = None,
                 pacer: Pacer | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._token = check_token(access_token, "listing projects")
        self.base_url = check_api_url(api_url or DEFAULT_API_URL)
        self.warnings = [w for w in (token_warning(self._token),) if w]
        self.limits = limits or ApiLimits()
        self.pacer = pacer or shared_pacer()
        self.requests = 0
        self.on_wait: Callable[[str], None] | None = None
        self._sleep = sleep
        self._client: Any = None

    def get(self, path: str) -> Any:
        """The JSON answer of `GET path`; throttles are waited out, failures retried up to `max_attempts`."""
        import httpx  # noqa: PLC0415 - heavy: loaded on first use

        key = key_for(self._token, "GET", path, self.base_url)
        failures = 0
        started = time.monotonic()
        while True:
            left = self.limits.max_wait - (time.monotonic() - started)
            ticket = self.pacer.acquire(key, max_wait=max(0.0, left), on_wait=self.on_wait)
            self.requests += 1
            try:
                response = self._http().get(path)
            except httpx.TransportError as exc:
                self.pacer.lost(ticket)
                self.close()
                reason = f"no answer from the Management API ({type(exc).__name__})"
            else:
                self.pacer.observe(ticket, response.headers, response.status_code)
                if response.status_code == 200:
                    return json_of(response)
                if response.status_code == 429:
                    continue  # the pacer now knows when the window resets
                reason = self._refusal(response, path)
            failures += 1
            if failures >= self.limits.max_attempts:
                raise TargetError(f"{reason}; gave up after {failures} attempts")
            pause = random.uniform(0.5, 1.0) * self.limits.backoff * (2 ** (failures - 1))
            if time.monotonic() - started + pause > self.limits.max_wait:
                raise TargetError(f"{reason}; gave up after {time.monotonic() - started:.0f} s")
            self._sleep(pause)

    def _refusal(self, response: Any, path: str) -> str:
        """A retryable failure's reason; the others raise."""
        status = response.status_code
        if status == 401:
            raise unauthorized()
        if status == 403:
            raise ConfigError(f"the access token may not call GET {path} (403 Forbidden): a scoped or OAuth token "
                              "needs read access to projects")
        if status == 404:
            raise ConfigError(f"GET {path} was not found at {self.base_url} (404): check --api-url")
        if status in RETRY_STATUSES:
            return f"the Management API answered {status} to GET {path}"
        raise TargetError(f"unexpected answer from the Management API to GET {path}: {status} "
                          f"{message_of(response)[:200]}")

    def _http(self) -> Any:
        if self._client is None:
            self._client = open_client(self.base_url, self._token, self.limits)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def list_projects(client: ManagementClient) -> ProjectList:
    """Every project the token can see; entries without a usable ref are left out and said so."""
    answer = client.get(PROJECTS_PATH)
    if not isinstance(answer, list):
        raise TargetError(f"unexpected answer to GET {PROJECTS_PATH}: expected a list of projects, got "
                          f"{type(answer).__name__}")
    projects: list[Project] = []
    warnings: list[str] = []
    for index, item in enumerate(answer):
        project = _project(item)
        if project is None:
            warnings.append(f"GET {PROJECTS_PATH}: entry {index + 1} has no project ref of 20 lowercase letters; "
                            "left out")
        else:
            projects.append(project)
    return ProjectList(tuple(projects), tuple(warnings))


def _project(item: Any) -> Project | None:
    if not isinstance(item, dict):
        return None
    ref = item.get("ref") or item.get("id")
    if not isinstance(ref, str) or not REF_RE.match(ref):
        return None
    organization = item.get("organization_slug") or item.get("organization_id")
    return Project(ref, _text(item.get("name")), _text(item.get("region")), _text(item.get("status")) or "UNKNOWN",
                   organization if isinstance(organization, str) and organization else None)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# -- waves resolved -----------------------------------------------------------

@dataclass(frozen=True)
class Skipped:
    ref: str
    reason: str


@dataclass(frozen=True)
class ResolvedWave:
    """A wave's projects, in the order they start: the file's order, or by ref for `all`."""

    name: str
    max_parallel: int
    refs: tuple[str, ...]
    skipped: tuple[Skipped, ...] = ()
    all: bool = False


def resolve(fleet: Fleet, visible: ProjectList | None) -> tuple[tuple[ResolvedWave, ...], list[str]]:
    """The waves with their projects, and warnings.

    With the list of visible projects, a named project the token cannot see
    (a typo, another account) or from another organization than the fleet's is
    an error at its line, before anything is sent; without it (`all` unused and
    the list not fetched) named projects are taken as they are. `all` is every
    visible project of the fleet's organization that no wave names and
    `exclude` does not list.
    """
    problems: list[Problem] = []
    warnings: list[str] = []
    known = visible.by_ref() if visible is not None else None
    if known is not None:
        for named in fleet.named.values():
            _check_named(fleet, named, known.get(named.ref), problems, warnings)
    waves: list[ResolvedWave] = []
    for wave in fleet.waves:
        if not wave.all:
            waves.append(ResolvedWave(wave.name, wave.max_parallel, tuple(p.ref for p in wave.projects)))
            continue
        if known is None:
            raise ConfigError(f"wave {wave.name!r} deploys to `all` projects: the list of projects "
                              "(GET /v1/projects) is needed to resolve it")
        taken = set(fleet.named) | {p.ref for p in fleet.exclude}
        others = sorted((p for p in known.values() if p.ref not in taken
                         and (fleet.organization is None or p.organization == fleet.organization)),
                        key=lambda p: p.ref)
        refs = tuple(p.ref for p in others if p.deployable)
        skipped = tuple(Skipped(p.ref, f"project status is {p.status}: not deployable now")
                        for p in others if not p.deployable)
        if not others:
            warnings.append(f"wave {wave.name!r}: `all` leaves no project (every visible project is named "
                            "elsewhere or excluded)")
        waves.append(ResolvedWave(wave.name, wave.max_parallel, refs, skipped, all=True))
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise FleetFileError(f"invalid fleet file: {problems[0]}{more}", problems)
    return tuple(waves), warnings


def _check_named(fleet: Fleet, named: Named, project: Project | None, problems: list[Problem],
                 warnings: list[str]) -> None:
    if project is None:
        problems.append(Problem(f"project {named.ref} is not visible to this access token (GET /v1/projects): "
                                "a typo, or a project of another account", file=fleet.path, line=named.line,
                                title="Fleet file"))
    elif fleet.organization is not None and project.organization != fleet.organization:
        problems.append(Problem(f"project {named.ref} belongs to organization {project.organization or '?'}, not "
                                f"{fleet.organization} (the fleet's `organization:`)", file=fleet.path,
                                line=named.line, title="Fleet file"))
    elif not project.deployable:
        warnings.append(f"project {named.ref} ({project.name}) has status {project.status}: its deploy will "
                        "likely fail and stop its wave")


__all__ = ["DEPLOYABLE", "ManagementClient", "Project", "ProjectList", "ResolvedWave", "Skipped", "list_projects",
           "resolve"]
