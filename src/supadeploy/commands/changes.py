"""On a pull request, which migration files it adds or changes: the news that lock findings are about.

Files already on the base branch are history: replayed, never reported again. The base is found the way
the checkout left it: the merge commit GitHub checks out for a pull request has the base branch's head
as its first parent (actions/checkout needs `fetch-depth: 2` for it to be there); else the event's base
sha or `origin/$GITHUB_BASE_REF`, compared from their merge base (`fetch-depth: 0`). A pull request is
recognised by GITHUB_BASE_REF (pull_request and pull_request_target events) or a merge group's base sha;
outside GitHub, setting GITHUB_BASE_REF=main asks the same question of a local branch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..engine.migrations import Migration
from ..layout import Layout
from ..locks.scope import Scope
from ..model import Level, Problem
from .context import Context

TITLE = "Pull request files"


@dataclass(frozen=True)
class Changes:
    """The migration files (as shown) a pull request adds or changes, and against what."""

    files: frozenset[str]
    base: str  # the commit (or ref) compared with, for people


def _event_base(env: Mapping[str, str]) -> str | None:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(event, dict):
        return None
    base = ((event.get("pull_request") or {}).get("base") or {}).get("sha") or \
        (event.get("merge_group") or {}).get("base_sha")
    return str(base) if base else None


def on_pull_request(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("GITHUB_BASE_REF") or _event_base(env))


class _Git:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.binary = shutil.which("git")

    def __call__(self, *args: str) -> str | None:
        """git's output, or None when it fails (no repository, an object the shallow checkout lacks)."""
        if self.binary is None:
            return None
        try:
            done = subprocess.run([self.binary, "-c", "safe.directory=*", "-C", str(self.folder), *args],
                                  capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None


def _base_commit(git: _Git, env: Mapping[str, str]) -> str | None:
    """The commit the pull request is compared with (see the module's docstring)."""
    if git("rev-parse", "--verify", "-q", "HEAD^2^{commit}") and (first := git("rev-parse", "HEAD^1")):
        return first.strip()
    for candidate in (_event_base(env), f"origin/{env['GITHUB_BASE_REF']}" if env.get("GITHUB_BASE_REF") else None,
                      env.get("GITHUB_BASE_REF")):
        if not candidate or not git("rev-parse", "--verify", "-q", f"{candidate}^{{commit}}"):
            continue
        merge_base = git("merge-base", candidate, "HEAD")
        return merge_base.strip() if merge_base else candidate
    return None


def _changed(layout: Layout, git: _Git, env: Mapping[str, str]) -> Changes | str:
    """The changes, or why they cannot be known."""
    if git.binary is None:
        return "git is not installed where supadeploy runs"
    top = git("rev-parse", "--show-toplevel")
    if top is None:
        return f"{layout.shown(layout.migrations)}/ is not in a git checkout"
    base = _base_commit(git, env)
    if base is None:
        return ("the base branch's commit is not in the checkout: give actions/checkout `fetch-depth: 2` (the "
                "pull request's merge commit and its base) or `fetch-depth: 0`")
    folder = str(layout.migrations)
    listed = git("diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", base, "--", folder)
    untracked = git("ls-files", "-z", "--others", "--exclude-standard", "--full-name", "--", folder)
    if listed is None or untracked is None:
        return f"git could not compare with {base[:12]}"
    names = [name for name in (listed + untracked).split("\0") if name]
    return Changes(frozenset(layout.shown(Path(top.strip()) / name) for name in names), base[:12])


def pull_request_changes(layout: Layout, env: Mapping[str, str] | None = None) -> tuple[Changes | None,
                                                                                        Problem | None]:
    """The pull request's migration files (the working tree's, against the base: uncommitted and new files
    count too); (None, None) when the run is not for a pull request, and (None, a warning) when the base
    cannot be compared: then every file is news."""
    env = os.environ if env is None else env
    if not on_pull_request(env):
        return None, None
    found = _changed(layout, _Git(layout.migrations), env)
    if isinstance(found, str):
        return None, Problem(f"on a pull request, but {found}: lock findings are reported for every pending "
                             "file, not only the pull request's", title=TITLE)
    return found, None


def news(ctx: Context) -> frozenset[str] | None:
    """The files whose lock findings this run reports: on a pull request its own files (said once, with a
    notice when the base cannot be compared), else None (every file)."""
    changes, warning = pull_request_changes(ctx.layout)
    if warning is not None:  # a notice: more is reported, nothing is hidden (and --fail-on-warnings stays calm)
        ctx.reporter.problem(warning, Level.NOTICE)
    if changes is None:
        return None
    ctx.reporter.progress(f"  pull request: {len(changes.files)} migration file(s) added or changed since "
                          f"{changes.base}; lock findings are reported for those only")
    return changes.files


def lock_scope(ctx: Context, pending: Sequence[Migration], reported: frozenset[str] | None) -> Scope:
    """What a run's lock findings are about. With the database's history, the deploy is its pending files;
    the local replay stands for a database that has the base branch's files (a pull request's are the
    deploy) or, outside a pull request, for a new database (every file is)."""
    deploy = [m for m in pending if ctx.remote or reported is None or m.display_path in reported]
    return Scope(deploy, reported)
