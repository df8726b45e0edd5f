"""`supadeploy status`: Local | Remote | Applied at, like `supabase migration list`, with what would stop a
deploy marked. Without credentials there is no remote to list: the local files are listed and nothing is
started (the local replay's history is always empty)."""

from __future__ import annotations

from ..engine.history import History, read_history
from ..engine.migrations import MigrationSet
from ..engine.plan import PlanOptions, make_plan
from ..model import StatusRow
from .context import Context


def run(ctx: Context) -> None:
    if not ctx.remote:
        ctx.reporter.progress("  no database given: only the local files are listed (give --db-url or "
                              "--project-ref with an access token to compare them with your project)")
    history = read_history(ctx.target) if ctx.remote else History(exists=False, rows=())
    ctx.reporter.status_rows(rows(history, ctx.migrations))
    local = {m.version for m in ctx.migrations.migrations}
    ctx.reporter.report.pending = sorted(local - set(history.versions))
    ctx.reporter.report.schema_version = max(history.versions) if history.versions else None


def rows(history: History, migrations: MigrationSet) -> list[StatusRow]:
    plan = make_plan(migrations, history, PlanOptions(include_all=True, allow_drift=True))
    drifted = {m.version for m in plan.drifted}
    out_of_order = {m.version for m in plan.out_of_order}
    local = {m.version for m in migrations.migrations}
    remote = history.by_version()
    found = []
    for version in sorted(local | set(remote)):
        row = remote.get(version)
        note = ("drift: edited after it was applied" if version in drifted else
                "remote only: not in the local folder" if version not in local else
                "out of order: older than the newest applied" if version in out_of_order else "")
        applied_at = (row.applied_at or _time_of(version)) if row else None
        found.append(StatusRow(version if version in local else None, version if row else None, applied_at, note))
    return found


def _time_of(version: str) -> str | None:
    """Like the CLI: a 14-digit version is a UTC timestamp."""
    if len(version) == 14 and version.isdigit():
        v = version
        return f"{v[0:4]}-{v[4:6]}-{v[6:8]} {v[8:10]}:{v[10:12]}:{v[12:14]}"
    return None
