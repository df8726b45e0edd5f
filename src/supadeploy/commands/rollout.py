"""`supadeploy rollout`: the same migrations (and assertions) to every project of a fleet, wave by wave;
`--status` (and `status --fleet`): where the fleet stands; `--github-matrix`: a wave as GitHub Actions shards.

Every input is checked before anything is sent (the flags, the fleet file, every migration and assertion
file); then one `GET /v1/projects` resolves the waves, so a named project the token cannot see is an error at
its line before any deploy starts. Each project's deploy is the `deploy` command itself (commands/deploy.run:
locks, per-file atomicity, assertions, the gate, lock safety) on a Context of its own: its own ApiTarget,
pacing through the process's shared pacer, and its own Reporter, whose lines are shown when the project ends,
so parallel deploys never interleave. The rollout's own report has one row per project.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..checks.assertions.load import Assertion, load_suite
from ..engine.history import read_history
from ..engine.migrations import MigrationSet, load_migrations
from ..engine.plan import Plan, PlanOptions, make_plan
from ..errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_UNKNOWN,
    Cancelled,
    ConfigError,
    InternalError,
    Interrupted,
    OutcomeUnknownError,
    RolloutFailed,
    SupadeployError,
    TargetError,
)
from ..layout import Layout, discover
from ..model import Level, Problem, ProjectRow
from ..options import Options
from ..report.report import Report
from ..report.reporter import Reporter
from ..rollout.fleet import DEFAULT_FLEET, Fleet, load_fleet
from ..rollout.matrix import digest, github_matrix, select_shard
from ..rollout.projects import ManagementClient, ResolvedWave, list_projects, resolve
from ..rollout.scheduler import ProjectJob, ProjectOutcome, ProjectResult, Result, Rollout, RolloutOutcome
from ..rollout.siblings import RunAttempt, SiblingGate
from ..rollout.status import State, StatusRow, collect_status
from ..targets.api import ApiLimits, ApiTarget, check_token
from ..targets.base import QueryError
from ..targets.pacer import paced
from . import deploy
from .context import Context, _check_target_version

MATRIX_SLOTS = 6  # the wave jobs of .github/workflows/rollout.yml: outputs wave1 … wave6
STATUS_PARALLEL = 8  # history reads at once for --status
NOT_RAN = (Result.NOT_STARTED, Result.SKIPPED)


@dataclass
class Fleetwide:
    """What every project of one rollout shares: checked inputs, the token, the waves to run."""

    options: Options
    reporter: Reporter
    layout: Layout
    fleet: Fleet
    migrations: MigrationSet
    suite: list[Assertion]
    token: str
    api_url: str
    limits: ApiLimits
    waves: tuple[ResolvedWave, ...]
    dry_run: bool
    list_requests: int = 0

    def target(self, ref: str) -> ApiTarget:
        """A project's own target, pacing through the process's pacer with every other client of the run."""
        return ApiTarget(ref, self.token, self.api_url, self.limits,
                         rate=paced(self.token, self.api_url, max_wait=self.limits.max_wait))


def run(options: Options, reporter: Reporter) -> None:
    """`rollout` (and `status --fleet`)."""
    _check_flags(options)
    shared = _prepare(options, reporter)
    if options.github_matrix:
        _matrix(shared)
    elif options.status or options.command == "status":
        _status(shared)
    else:
        _rollout(shared)


# -- before anything is sent ------------------------------------------------------------------------------

def _check_flags(options: Options) -> None:
    """Flags that cannot go together, said before any file is read."""
    pairs = [("--shard", options.shard, "--wave", options.wave),
             ("--expect-digest", options.expect_digest, "--shard", options.shard)]
    for flag, given, needs, needed in pairs:
        if given and not needed:
            raise ConfigError(f"{flag} needs {needs}")
    if options.wave and options.from_wave:
        raise ConfigError("give --wave (that wave only) or --from-wave (that wave and the ones after it), not both")
    if options.github_matrix and (options.wave or options.shard or options.status):
        raise ConfigError("--github-matrix computes the shards; --wave, --shard and --status run them: one at a time")
    if options.status and options.shard:
        raise ConfigError("--status reads every project of the waves; --shard is for deploying a matrix job's share")


def _prepare(options: Options, reporter: Reporter) -> Fleetwide:
    """Every input read and checked, then the waves resolved against the projects the token can see."""
    report = reporter.report
    layout = discover(options.root, options.migrations_dir, list(options.assertions), options.no_assertions)
    fleet = _fleet(options, layout, report)
    migrations = load_migrations(layout.migrations, display_root=layout.root)
    reporter.warnings(migrations.warnings)
    _check_target_version(options.target_version, migrations)
    deploying = not (options.github_matrix or options.status or options.command == "status")
    suite = load_suite(layout.assertions, layout.root, required=False) if deploying else []
    token = check_token(options.access_token, "a rollout")
    for given, why in ((options.project_ref, "--project-ref (SUPABASE_PROJECT_REF)"),
                       (options.db_url, "--db-url (SUPABASE_DB_URL)")):
        if given:
            reporter.warnings([Problem(f"{why} is set, but a fleet's projects come from its fleet file, through "
                                       "the Management API: it is ignored", title="Fleet")])
    limits = ApiLimits(read_timeout=options.api_timeout) if options.api_timeout else ApiLimits()
    waves, api_url, list_requests = _waves(options, reporter, fleet, token, limits)
    report.dry_run = bool(options.dry_run)
    report.round_trips = list_requests
    reporter.progress(f"  migrations: {layout.shown(layout.migrations)}/ ({len(migrations.migrations)} file(s))"
                      + (f"; assertions: {', '.join(layout.shown(p) for p in layout.assertions)}"
                         if deploying and layout.assertions else ""))
    return Fleetwide(options, reporter, layout, fleet, migrations, suite, token, api_url, limits,
                     _selected(options, waves), report.dry_run, list_requests)


def _fleet(options: Options, layout: Layout, report: Report) -> Fleet:
    """The fleet file, and the waves the flags name (a clear error listing the file's waves)."""
    path = options.fleet or options.root / DEFAULT_FLEET
    path = path if path.is_absolute() else options.root / path
    report.target, report.database = "api", f"fleet {layout.shown(path)}"
    fleet = load_fleet(path, layout.shown(path))
    named = (options.wave, options.from_wave, None if options.github_matrix == "*" else options.github_matrix)
    for name in named:
        if name:
            fleet.wave(name)
    return fleet


def _waves(options: Options, reporter: Reporter, fleet: Fleet, token: str,
           limits: ApiLimits) -> tuple[tuple[ResolvedWave, ...], str, int]:
    """One GET /v1/projects: the waves resolved (a named project the token cannot see fails at its line)."""
    with ManagementClient(token, options.api_url, limits) as client:
        reporter.heading(f"supadeploy {options.command} → {reporter.report.database} via {client.base_url}")
        reporter.warnings([Problem(w, title="Access token") for w in client.warnings])
        client.on_wait = lambda message: reporter.progress(f"  … {message}")
        visible = list_projects(client)
        api_url, requests = client.base_url, client.requests
    reporter.warnings([Problem(w, title="Projects list") for w in visible.warnings])
    waves, warnings = resolve(fleet, visible)
    reporter.warnings([Problem(w, title="Fleet file") for w in warnings])
    return waves, api_url, requests


def _selected(options: Options, waves: tuple[ResolvedWave, ...]) -> tuple[ResolvedWave, ...]:
    """The waves this run works on: all, one (--wave), one shard of one (--shard), or from one on."""
    if options.wave:
        wave = next(w for w in waves if w.name == options.wave)
        if options.shard:  # a matrix job: its share, one project at a time (the matrix's max-parallel spreads it)
            return (replace(select_shard(wave, options.shard, options.expect_digest), max_parallel=1),)
        return (wave,)
    if options.from_wave:
        start = next(i for i, w in enumerate(waves) if w.name == options.from_wave)
        return waves[start:]
    return waves


# -- --github-matrix ----------------------------------------------------------------------------------------

def _matrix(shared: Fleetwide) -> None:
    """The matrix of one wave, or of every wave (`*`: step outputs wave1 … wave6, positional like the workflow's
    jobs; waves before --from-wave get no shards)."""
    reporter, options = shared.reporter, shared.options
    report = reporter.report
    running = {w.name for w in shared.waves}
    if options.github_matrix != "*":
        wave = next(w for w in shared.waves if w.name == options.github_matrix)
        document = github_matrix(wave)
        report.matrix, report.outputs = document, {"matrix": _json(document)}
        _say_matrix(reporter, [document])
        return
    resolved = {w.name: w for w in shared.waves}
    every = [resolved.get(w.name) or ResolvedWave(w.name, w.max_parallel, ()) for w in shared.fleet.waves]
    if len(every) > MATRIX_SLOTS:
        raise ConfigError(f"{shared.fleet.path} has {len(every)} waves; the rollout workflow runs at most "
                          f"{MATRIX_SLOTS} (jobs wave1 … wave{MATRIX_SLOTS}): merge waves, or add jobs to the "
                          "workflow and run --github-matrix WAVE for each")
    documents = [dict(github_matrix(w), running=w.name in running) for w in every]
    for document in documents:
        if not document["running"]:
            document.update(shards=0, matrix={"include": []})
    report.matrix = {"waves": documents}
    report.outputs = {"waves": str(len(documents))}
    empty = {"wave": "", "running": False, "projects": 0, "skipped": 0, "shards": 0, "max_parallel": 1,
             "digest": digest(()), "matrix": {"include": []}}
    for slot in range(1, MATRIX_SLOTS + 1):
        report.outputs[f"wave{slot}"] = _json(documents[slot - 1] if slot <= len(documents) else empty)
    _say_matrix(reporter, documents)


def _say_matrix(reporter: Reporter, documents: list[dict[str, Any]]) -> None:
    for document in documents:
        note = "" if document.get("running", True) else " (before --from-wave: not run)"
        reporter.progress(f"  wave {document['wave']}: {document['projects']} project(s), {document['shards']} "
                          f"shard(s), max-parallel {document['max_parallel']}, digest {document['digest']}{note}")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# -- --status ----------------------------------------------------------------------------------------------

def _status(shared: Fleetwide) -> None:
    """One row per project from its own history: the same truth a rollout resumes from."""
    requests: list[int] = []

    def read(ref: str) -> tuple[Plan, Any]:
        target = shared.target(ref)
        try:
            history = read_history(target)
        finally:
            requests.append(target.round_trips)
            target.close()
        return make_plan(shared.migrations, history, PlanOptions(include_all=True, allow_drift=True)), history

    with shared.reporter.phase(f"Reading {sum(len(w.refs) for w in shared.waves)} project(s)"):
        rows = collect_status(shared.waves, read, parallel=STATUS_PARALLEL)
    shared.reporter.projects([_status_row(row) for row in rows])
    shared.reporter.report.round_trips += sum(requests)
    unreadable = [r for r in rows if r.state is State.UNREADABLE]
    shared.reporter.warnings([Problem(f"{r.ref} ({r.wave}): {r.last}", title="Project not readable")
                              for r in unreadable])


def _status_row(row: StatusRow) -> ProjectRow:
    return ProjectRow(row.ref, row.wave, str(row.state), failed=False, started=row.state is not State.SKIPPED,
                      applied=row.applied, pending=row.pending, drift=list(row.drift + row.remote_only),
                      message=row.last)


# -- the rollout ---------------------------------------------------------------------------------------------

def _rollout(shared: Fleetwide) -> None:
    reporter, options = shared.reporter, shared.options
    total = sum(len(w.refs) for w in shared.waves)
    _confirm(shared, total)
    gate = _sibling_gate(shared)
    rollout: Rollout | None = None

    def stopping() -> bool:
        return rollout is not None and rollout.interrupted

    hooks = _Progress(reporter, total, shared.dry_run)
    rollout = Rollout(shared.waves, _ProjectDeploy(shared, stopping), hooks, gate)
    mode = "dry run, always rolled back" if shared.dry_run else f"tx-mode {options.tx_mode}"
    with reporter.phase(f"Rollout: {total} project(s) in {len(shared.waves)} wave(s) ({mode})"):
        try:
            outcome = rollout.run()
        except KeyboardInterrupt:
            raise Interrupted("interrupted twice: the deploys still running were left mid-request; what they sent "
                              "either committed or did not, and the next rollout (or `rollout --status`) reads "
                              "which from each project's history") from None
    if gate is not None:
        reporter.warnings([Problem(w, title="Shard gate") for w in gate.warnings])
    reporter.projects([_result_row(r, shared.dry_run) for r in outcome.results])
    reporter.report.round_trips += outcome.requests
    if outcome.exit_code:
        raise _failure(outcome)
    reporter.progress(f"Rollout done: {outcome.count(Result.DEPLOYED)} deployed, "
                      f"{outcome.count(Result.UP_TO_DATE)} up to date, {outcome.count(Result.SKIPPED)} skipped")


def _confirm(shared: Fleetwide, total: int) -> None:
    """At a terminal, before a real rollout: the waves and a question (CI never asks; --yes skips it)."""
    reporter, options = shared.reporter, shared.options
    if shared.dry_run or options.yes or os.environ.get("CI") or os.environ.get("GITHUB_ACTIONS") \
            or not reporter.interactive or not total:
        return
    reporter.progress(f"About to deploy {len(shared.migrations.migrations)} migration file(s) to {total} project(s):")
    for wave in shared.waves:
        reporter.progress(f"  {wave.name} (max_parallel {wave.max_parallel}): {' '.join(wave.refs)}")
    if not reporter.confirm("Roll out now?"):
        raise Cancelled("cancelled at the prompt: nothing was deployed")


def _sibling_gate(shared: Fleetwide) -> SiblingGate | None:
    """In a matrix job: stop when another shard of the wave failed (needs the run's jobs: a GitHub token)."""
    options = shared.options
    if not options.shard:
        return None
    run = RunAttempt.from_environ(os.environ)
    if run is None:
        return None
    if not options.github_token:
        shared.reporter.warnings([Problem(
            "no github-token: this shard cannot see whether another shard of its wave failed, so it goes on with "
            "its own projects; pass github-token: ${{ github.token }} with permissions actions: read",
            title="Shard gate")])
        return None
    assert options.wave is not None
    return SiblingGate(run, options.github_token, options.wave, options.shard)


class _ProjectDeploy:
    """The scheduler's deploy callable: today's `deploy` command on one project, reported on its own."""

    def __init__(self, shared: Fleetwide, stopping: Callable[[], bool]) -> None:
        self.shared = shared
        self.stopping = stopping

    def __call__(self, job: ProjectJob) -> ProjectOutcome:
        shared = self.shared
        log = io.StringIO()
        target = shared.target(job.ref)
        own = Reporter(Report(command="deploy", target="api", database=target.label, dry_run=shared.dry_run), "text",
                       out=log, err=log, secrets=shared.reporter.secrets, color=False)
        target.on_wait = lambda message: own.progress(f"  … {message}")
        options = replace(shared.options, command="deploy", project_ref=job.ref, db_url=None, yes=True)
        ctx = Context(options, own, shared.layout, shared.migrations, shared.suite, target, remote=True,
                      dry_run=shared.dry_run, should_stop=self.stopping)
        own.heading(f"supadeploy deploy → {target.label} (wave {job.wave})")
        error: SupadeployError | None = None
        try:
            deploy.run(ctx)
            warned = own.report.problems_at(Level.WARNING)
            if warned and shared.options.fail_on_warnings:
                error = RolloutFailed(f"{len(warned)} warning(s) and --fail-on-warnings",
                                      [entry.problem for entry in warned])
        except SupadeployError as exc:  # its problems are the rollout's errors: reported once, at the end
            error = exc
        except QueryError as exc:  # a request the engine does not expect to fail (too many connections …)
            error = TargetError(f"the database refused a request: {exc}")
        finally:
            requests = target.round_trips
            target.close()
        report = own.report
        message = "" if error is None else str(error.problems[0].message if error.problems else error)
        return ProjectOutcome(tuple(report.applied_versions), requests, message.split("\n", 1)[0], error,
                              report.schema_version, len(report.pending) if error is None else None, log.getvalue(),
                              tuple(p.problem for p in report.problems_at(Level.WARNING)))


class _Progress:
    """A line per project as it starts and ends; its deploy's own lines after its end (a log group on GitHub;
    at a terminal, only a failed project's)."""

    def __init__(self, reporter: Reporter, total: int, dry_run: bool) -> None:
        self.reporter = reporter
        self.total = total
        self.dry_run = dry_run
        self.started_count = 0

    def started(self, job: ProjectJob) -> None:
        self.started_count += 1
        self.reporter.progress(f"→ [{self.started_count}/{self.total}] {job.ref} ({job.wave}): deploying")

    def finished(self, result: ProjectResult) -> None:
        took = f"{result.seconds:.1f} s, {result.requests} request(s)"
        if result.result is Result.DEPLOYED:
            verb = "would apply" if self.dry_run else "applied"
            line = f"✓ {result.ref} ({result.wave}): {verb} {len(result.applied)} migration(s) in {took}"
        elif result.result is Result.UP_TO_DATE:
            line = f"✓ {result.ref} ({result.wave}): up to date ({took})"
        else:
            line = f"✗ {result.ref} ({result.wave}): {result.result}: {result.message} ({took})"
        self.reporter.progress(line)
        if not result.log:
            return
        if self.reporter.github is not None:
            with self.reporter.group(f"{result.ref} ({result.wave}): its deploy's log"):
                self.reporter.progress(result.log.rstrip("\n"))
        elif not result.result.ok:
            self.reporter.progress("    " + result.log.rstrip("\n").replace("\n", "\n    "))


def _result_row(result: ProjectResult, dry_run: bool) -> ProjectRow:
    ran = result.result not in NOT_RAN
    word = "would-deploy" if dry_run and result.result is Result.DEPLOYED else str(result.result)
    return ProjectRow(result.ref, result.wave, word, failed=ran and not result.result.ok, started=ran,
                      applied=result.schema_version, applied_now=list(result.applied), pending=result.pending,
                      seconds=round(result.seconds, 3) if ran else None, requests=result.requests if ran else None,
                      message=result.message)


def _failure(outcome: RolloutOutcome) -> SupadeployError:
    """How the rollout ends: as its most serious project does, with every failed project's problems (each an
    annotation at its file and line) after one sentence that says where it stopped."""
    failed = [r for r in outcome.results if not r.result.ok and r.result not in NOT_RAN]
    waiting = outcome.count(Result.NOT_STARTED)
    sentence = f"rollout stopped: {outcome.stop_reason}" if outcome.stop_reason else "rollout failed"
    sentence += f"; {waiting} project(s) not started" if waiting else ""
    problems = [Problem(sentence, title="Rollout stopped")]
    for result in failed:
        found = result.problems or (Problem(result.message),)
        problems += [replace(p, message=f"{result.ref} ({result.wave}): {p.message}",
                             title=f"{p.title} ({result.ref})") for p in found]
    kinds: dict[int, type[SupadeployError]] = {EXIT_INTERRUPTED: Interrupted, EXIT_UNKNOWN: OutcomeUnknownError,
                                               EXIT_INTERNAL: InternalError, EXIT_BAD_INPUT: ConfigError}
    code = outcome.exit_code
    own = next((r.error_type for r in failed if r.exit_code == code and r.error_type is not None), None)
    kind = own if own is not None and code in kinds else kinds.get(code, RolloutFailed)
    return kind(sentence, problems)


__all__ = ["MATRIX_SLOTS", "run"]
