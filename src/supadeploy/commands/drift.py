"""`supadeploy drift`: what a remote database has that its applied migrations do not make, and the reverse
(checks/drift/check.py); exit 1 when there is any. Read-only on the target, unless `--capture`: then the
drift becomes one new migration recorded as applied there, history rows no local file explains become files,
and a second check proves the folder now replays to what the database has.

`before_deploy` is the same check, run by `plan` and `deploy` on a remote target before anything is sent
that could change it; it refuses unless `--allow-drift`.
"""

from __future__ import annotations

import os

from ..checks.drift.capture import Capture, capture
from ..checks.drift.check import DriftCheck, HistoryChanging, ReplayFailed, check
from ..checks.drift.finding import DriftFinding
from ..checks.drift.history import UnexplainedRow, write_files
from ..checks.drift.record import fetchable, next_version, record_applied, write_capture
from ..engine.failure import NOT_INSTALLED
from ..engine.history import History
from ..engine.migrations import load_migrations
from ..errors import Cancelled, ConfigError, DriftFound, MigrationFailed, PlanRefused
from ..model import Problem
from .context import Context, not_available_locally
from .live import LiveHooks

PREVIEW_LINES = 40  # of the captured SQL, shown before the question


def run(ctx: Context) -> None:
    if not ctx.remote:
        raise ConfigError("drift compares a remote database with its migrations: give --db-url, or --project-ref "
                          "and an access token (the local replay has nothing to drift from)")
    try:
        found = _check(ctx, "Drift: the database compared with a replay of its applied migrations (read only)",
                         show_replay=True)
    except ReplayFailed as failed:
        cause = failed.cause
        if isinstance(cause, MigrationFailed) and any(p.kind == NOT_INSTALLED for p in cause.problems):
            raise not_available_locally(cause, failed.replay) from None
        raise
    if ctx.options.capture and found.drifted:
        _capture(ctx, found)
        return
    ctx.reporter.findings(found.findings(fails=True))
    ctx.reporter.report.plan_summary = found.summary()
    if found.drifted:
        raise DriftFound(f"the database has drifted from its migrations: {found.summary()}; `supadeploy drift "
                         "--capture` writes it as a migration")


def before_deploy(ctx: Context, history: History) -> None:
    """Before a remote plan or deploy: stop (changing nothing) when the database's objects have drifted from
    what its applied migrations make, unless --allow-drift, which reports them as warnings. History rows no
    file explains and edited files are the plan's own checks (it refuses the first, and the second unless
    --allow-drift). A replay that cannot run (an extension it lacks) or a history another deploy keeps
    changing is a warning: neither must stop a deploy the engine can do. `history` is the deploy's own
    read: when it has every local file, the deploy applies nothing, so there is nothing drift could stop
    (and an up-to-date project costs no extra request)."""
    if {m.version for m in ctx.migrations.migrations} <= set(history.versions):
        return
    try:
        found = _check(ctx, "Drift check before anything is applied (read only; --allow-drift deploys over it)")
    except ReplayFailed as failed:
        ctx.reporter.warnings([Problem(f"drift not checked: {failed.cause}", title="Drift not checked")])
        return
    except HistoryChanging as changing:  # another deploy is committing: its own check ran before it
        ctx.reporter.warnings([Problem(f"drift not checked: {changing}", title="Drift not checked")])
        return
    allowed = ctx.options.allow_drift
    findings = [f for f in found.findings(fails=not allowed) if f.rule == "object"]
    if not findings:
        return  # said by the check's own summary line
    ctx.reporter.findings(findings)
    if allowed:
        ctx.reporter.progress(f"  {len(findings)} drift finding(s): deploying anyway (--allow-drift)")
        return
    raise PlanRefused(f"deploy refused: the database has drifted from its migrations ({_named(findings)}); "
                      "nothing was applied. See `supadeploy drift`; capture it with `supadeploy drift --capture`, "
                      "undo it, or deploy anyway with --allow-drift")


def _named(findings: list[DriftFinding], most: int = 3) -> str:
    """The first few differences in the refusal itself: a rollout's row and JSON carry only its message."""
    named = "; ".join(f.message.split("\n", 1)[0] for f in findings[:most])
    more = len(findings) - most
    return named + (f"; and {more} more, listed above" if more > 0 else "")


def _check(ctx: Context, title: str, show_replay: bool = False) -> DriftCheck:
    reporter = ctx.reporter
    with reporter.phase(title):
        found = check(ctx.target, ctx.migrations, pg_major=ctx.options.pg_major,
                      statement_timeout=str(ctx.options.value("statement-timeout")), say=reporter.progress,
                      hooks=LiveHooks(reporter, ctx.target, record=False) if show_replay else None)
        refused = getattr(ctx.target, "read_only_refused", None)
        if refused:
            reporter.warnings([Problem(f"the Management API's read-only query endpoint refused the reads ({refused});"
                                       " they went through the query endpoint in a read-only transaction instead",
                                       title="Read-only endpoint")])
        if found.pending:
            reporter.progress(f"  {len(found.pending)} local file(s) not applied yet: not compared")
        for difference in found.in_flight:
            reporter.progress(f"  not drift: {difference.message} (a pending file that runs outside a transaction "
                              "made it and stopped part-way; the next deploy finishes it)")
        reporter.progress(f"  {found.summary()}")
    return found


def _capture(ctx: Context, found: DriftCheck) -> None:
    """Write the drift as files and record the capture as applied; then check again."""
    reporter, layout = ctx.reporter, ctx.layout
    directory = layout.migrations
    rows, not_fetched = fetchable(found.unexplained, directory)
    captured = capture(found.production, found.replay, found.differences)
    version = next_version([m.version for m in ctx.migrations.migrations] + found.history.versions)
    text = captured.file_text(f"drift captured from {ctx.target.label} by `supadeploy drift --capture`")
    with reporter.phase("Capture"):
        _describe(ctx, captured, rows, not_fetched, version, text)
        if captured.empty and not rows:
            reporter.findings(found.findings(fails=True))
            raise DriftFound(f"nothing of the drift can be captured ({found.summary()})")
        _confirm(ctx)
        written = write_files(rows, directory)
        for path in written:
            reporter.progress(f"  wrote {layout.shown(path)} (history row, like `supabase migration fetch`)")
        if not captured.empty:
            migration = write_capture(text, directory, version, layout.root)
            try:
                record_applied(ctx.target, migration, str(ctx.options.value("lock-wait")))
            except BaseException:
                migration.path.unlink(missing_ok=True)  # never a file the database's history does not have
                raise
            reporter.progress(f"  wrote {migration.display_path} and recorded version {version} as applied on "
                              f"{ctx.target.label}")
    ctx.migrations = load_migrations(directory, display_root=layout.root)
    again = _check(ctx, "Drift after the capture: the folder replayed again (read only)")
    resolved = found.resolved_by(again).findings(fails=False)
    for finding in resolved:
        finding.advice = "fetched as a file" if finding.rule == "history-row" else "captured"
    reporter.findings(resolved + again.findings(fails=True))
    reporter.report.plan_summary = (f"captured: {len(found.differences) - len(captured.unexpressed)} difference(s)"
                                    f", {len(written)} history row(s) fetched as files; after the capture, "
                                    + again.summary())
    if again.drifted:
        raise DriftFound(f"drift remains after the capture ({again.summary()})")


def _describe(ctx: Context, captured: Capture, rows: list[UnexplainedRow], not_fetched: dict[str, str],
              version: str, text: str) -> None:
    reporter = ctx.reporter
    if not captured.empty:
        lines = text.splitlines()
        reporter.progress(f"  {version}_drift_capture.sql ({len(captured.steps)} statement(s)):")
        for line in lines[:PREVIEW_LINES]:
            reporter.progress(f"    {line}")
        if len(lines) > PREVIEW_LINES:
            reporter.progress(f"    … {len(lines) - PREVIEW_LINES} more line(s)")
    for item in captured.unexpressed:
        reporter.progress(f"  not captured: {item}")
    if rows:
        reporter.progress(f"  {len(rows)} history row(s) to write as files")
    for row_version, why in not_fetched.items():
        reporter.progress(f"  history row {row_version} not written as a file: {why}")


def _confirm(ctx: Context) -> None:
    """The capture writes to the database's history: asked at a terminal, given by --yes (or CI) elsewhere."""
    if ctx.options.yes or os.environ.get("CI") or os.environ.get("GITHUB_ACTIONS"):
        return
    if not ctx.reporter.interactive:
        raise ConfigError("--capture writes files and a row in the database's history: confirm with --yes "
                          "when no one can answer the question")
    if not ctx.reporter.confirm(f"Write these files and record the capture as applied on {ctx.target.label}?"):
        raise Cancelled("cancelled at the prompt: nothing was written")
