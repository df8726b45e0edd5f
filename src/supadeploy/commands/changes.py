"""On a pull request, which migration files it adds or changes: the news that lock findings are about.

Files already on the base branch are history: replayed, never reported again. The base is found the way
the checkout left it: the merge commit GitHub checks out for a pull request has the base branch's head
as its first parent (actions/checkout needs `fetch-depth: 2` for it to be there); else the event's base
sha or `origin/$GITHUB_BASE_REF`, compared from their merge base (`fetch-depth: 0`). A file is news when
its bytes differ from the base commit's (git's blob id), so uncommitted and new files count too. The
checkout is read directly (gitobjects.py): the action's image has no git program. A pull request is
recognised by GITHUB_BASE_REF (pull_request and pull_request_target events) or a merge group's base sha;
outside GitHub, setting GITHUB_BASE_REF=main asks the same question of a local branch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..engine.migrations import Migration
from ..layout import Layout
from ..locks.scope import Scope
from ..model import Level, Problem
from .context import Context
from .gitobjects import GitError, Repository, blob_id

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


def _base_commit(repo: Repository, head: str, env: Mapping[str, str]) -> str | None:
    """The commit the pull request is compared with (see the module's docstring)."""
    parents = repo.parents(head)
    if len(parents) >= 2:  # the merge commit GitHub makes for a pull request: the base is its first parent
        return parents[0]
    for candidate in (_event_base(env), f"origin/{env['GITHUB_BASE_REF']}" if env.get("GITHUB_BASE_REF") else None,
                      env.get("GITHUB_BASE_REF")):
        base = repo.resolve(candidate) if candidate else None
        if base is not None:
            return repo.merge_base(base, head) or base  # too shallow for a merge base: more is reported, not less
    return None


def _changed(layout: Layout, env: Mapping[str, str]) -> Changes | str:
    """The changes, or why they cannot be known."""
    try:
        repo = Repository.find(layout.migrations.resolve())
        if repo is None:
            return f"{layout.shown(layout.migrations)}/ is not in a git checkout"
        head = repo.resolve("HEAD")
        base = _base_commit(repo, head, env) if head else None
        if base is None:
            return ("the base branch's commit is not in the checkout: give actions/checkout `fetch-depth: 2` (the "
                    "pull request's merge commit and its base) or `fetch-depth: 0`")
        folder = layout.migrations.resolve().relative_to(repo.top.resolve()).as_posix()
        before = repo.folder(base, folder)
    except (GitError, OSError, ValueError) as exc:
        return f"its git checkout could not be read ({exc})"
    changed = [path for path in sorted(layout.migrations.iterdir()) if path.is_file() and not path.is_symlink()
               and before.get(path.name) != blob_id(path.read_bytes())]
    return Changes(frozenset(layout.shown(path) for path in changed), base[:12])


def pull_request_changes(layout: Layout, env: Mapping[str, str] | None = None) -> tuple[Changes | None,
                                                                                        Problem | None]:
    """The pull request's migration files (the working tree's, against the base: uncommitted and new files
    count too); (None, None) when the run is not for a pull request, and (None, a notice) when the base
    cannot be compared: then every file is news."""
    env = os.environ if env is None else env
    if not on_pull_request(env):
        return None, None
    found = _changed(layout, env)
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
