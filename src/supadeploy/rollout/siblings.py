"""A shard's view of its siblings on GitHub Actions: has another shard of its wave failed?

In a matrix, each shard of a wave is a job of its own; `fail-fast: false`
keeps a failing shard from cancelling the others mid-deploy. The stop rule
"when a project fails, its wave starts no further project" then holds across
shards through this gate: before a shard starts its next project, it reads the
run's jobs (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt}/jobs`,
permission `actions: read`) and stops when a sibling job of the same wave has
failed. Sibling jobs are known by their name, `rollout <wave> <I>/<N>`, as the
workflow names them (.github/workflows/rollout.yml).

The jobs are read at most every `recheck` seconds (GITHUB_TOKEN allows 1,000
requests an hour per repository). The gate never fails a deploy by itself: an
API it cannot read is said once, and the shard goes on as if alone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, SupadeployError
from ..targets.api import ApiLimits, check_api_url, json_of, message_of, open_client
from .scheduler import ProjectJob

GITHUB_API = "https://api.github.com"
RECHECK_S = 15.0
PER_PAGE = 100
MAX_PAGES = 20  # 2,000 jobs: more than a workflow of six waves of 256 shards has
JOB_NAME = "rollout {wave} {shard}"


@dataclass(frozen=True)
class RunAttempt:
    """The workflow run this job belongs to, from the runner's variables."""

    api_url: str
    repository: str  # owner/name
    run_id: str
    attempt: str

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> RunAttempt | None:
        """None outside GitHub Actions (or where the runner did not say which run this is)."""
        if env.get("GITHUB_ACTIONS") != "true":
            return None
        repository, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository) or not run_id.isdigit():
            return None
        attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
        return cls(env.get("GITHUB_API_URL") or GITHUB_API, repository, run_id, attempt if attempt.isdigit() else "1")

    @property
    def jobs_path(self) -> str:
        return f"/repos/{self.repository}/actions/runs/{self.run_id}/attempts/{self.attempt}/jobs"


class SiblingGate:
    """The scheduler's gate for one shard: a reason to start nothing more, or None."""

    def __init__(self, run: RunAttempt, token: str, wave: str, shard: str, limits: ApiLimits | None = None,
                 recheck: float = RECHECK_S, clock: Callable[[], float] = time.monotonic) -> None:
        try:
            self.base_url = check_api_url(run.api_url)
        except ConfigError:
            raise ConfigError("GITHUB_API_URL must be an https URL (plain http only for loopback)") from None
        self.run, self.wave, self.shard = run, wave, shard
        self.recheck, self.clock = recheck, clock
        self.requests = 0
        self.warnings: list[str] = []  # said once: the gate could not read the jobs, so it stepped aside
        self._token = token
        self._limits = limits or ApiLimits(max_attempts=2)
        self._checked_at: float | None = None
        self._failed: str | None = None
        self._given_up = False

    def __call__(self, job: ProjectJob) -> str | None:
        if self._failed is not None or self._given_up:
            return self._failed
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.recheck:
            return None
        self._checked_at = now
        try:
            self._failed = self._failed_sibling()
        except SupadeployError as exc:
            self._given_up = True
            self.warnings.append(f"cannot read this run's jobs to see whether another shard of wave {self.wave!r} "
                                 f"failed ({exc}); this shard goes on as if alone: give the job `actions: read` "
                                 "and pass github-token")
        return self._failed

    def _failed_sibling(self) -> str | None:
        """The first other shard of this wave whose job (or a step of it) failed."""
        mine = JOB_NAME.format(wave=self.wave, shard=self.shard)
        sibling = re.compile(re.escape(JOB_NAME.format(wave=self.wave, shard="")) + r"\d+/\d+")
        for job in self._jobs():
            name = str(job.get("name") or "")
            if name == mine or not sibling.fullmatch(name):
                continue
            steps = job.get("steps")
            if job.get("conclusion") == "failure" or (isinstance(steps, list) and any(
                    isinstance(s, dict) and s.get("conclusion") == "failure" for s in steps)):
                return f"{name} failed"
        return None

    def _jobs(self) -> list[dict[str, Any]]:
        """Every job of this run attempt, page by page."""
        import httpx  # noqa: PLC0415 - heavy: loaded on first use

        found: list[dict[str, Any]] = []
        with open_client(self.base_url, self._token, self._limits) as client:
            for page in range(1, MAX_PAGES + 1):
                self.requests += 1
                try:
                    response = client.get(self.run.jobs_path, params={"per_page": PER_PAGE, "page": page},
                                          headers={"Accept": "application/vnd.github+json",
                                                   "X-GitHub-Api-Version": "2022-11-28"})
                except httpx.TransportError as exc:
                    raise SupadeployError(f"no answer from {self.base_url} ({type(exc).__name__})") from None
                if response.status_code != 200:
                    raise SupadeployError(f"{response.status_code} {message_of(response)[:160]}")
                body = json_of(response)
                jobs = body.get("jobs") if isinstance(body, dict) else None
                if not isinstance(jobs, list):
                    raise SupadeployError("the answer has no list of jobs")
                found += [j for j in jobs if isinstance(j, dict)]
                total = body.get("total_count")
                if len(jobs) < PER_PAGE or (isinstance(total, int) and len(found) >= total):
                    break
        return found


__all__ = ["JOB_NAME", "RunAttempt", "SiblingGate"]
