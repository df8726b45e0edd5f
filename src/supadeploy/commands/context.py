"""What every command starts from: every input read and checked before a database is touched (the layout,
every migration file, every assertion file, the target version), then the target opened."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from ..checks.assertions.load import Assertion, load_suite
from ..engine.failure import NOT_INSTALLED, missing_extension
from ..engine.migrations import MigrationSet, load_migrations
from ..engine.plan import PlanOptions
from ..errors import ConfigError, MigrationFailed, NotAvailableLocally, SupadeployError, TargetError
from ..layout import Layout, discover, find_root
from ..masking import shown
from ..model import Problem
from ..options import Options
from ..platform import extension_verdict
from ..platform.catalog import stand_ins_for
from ..report.reporter import Reporter
from ..targets import TargetSettings, open_target
from ..targets.base import QueryError, Target
from ..targets.local import LocalTarget


@dataclass
class Context:
    options: Options
    reporter: Reporter
    layout: Layout
    migrations: MigrationSet
    suite: list[Assertion]
    target: Target
    remote: bool  # a real database (a URL or the API), not the local replay
    dry_run: bool
    should_stop: Callable[[], bool] | None = None  # a fleet rollout was interrupted: send no further transaction

    @property
    def plan_options(self) -> PlanOptions:
        return PlanOptions(include_all=self.options.include_all, allow_drift=self.options.allow_drift,
                           target_version=self.options.target_version)

    def value(self, name: str) -> str:
        """An option's value, or the table's default for this run (a dry run's own)."""
        return str(self.options.value(name, self.dry_run))


def target_settings(options: Options, project_root: Path | None = None) -> TargetSettings:
    """`project_root`: whose supabase/config.toml sets the local major (the layout's; the start by default)."""
    return TargetSettings(kind=options.target, db_url=options.db_url, project_ref=options.project_ref,
                          access_token=options.access_token, api_url=options.api_url,
                          api_timeout=options.api_timeout, pg_major=options.pg_major,
                          project_root=project_root or options.root)


def on_runner() -> bool:
    """On a GitHub runner the workspace is the project root: nothing above it is looked at."""
    return bool(os.environ.get("GITHUB_WORKSPACE"))


def layout_of(options: Options) -> Layout:
    return discover(options.root, options.migrations_dir, list(options.assertions), options.no_assertions,
                    walk=not on_runner())


def _label(settings: TargetSettings) -> str:
    """The target's name without connecting to it ('' when the settings cannot name one)."""
    with suppress(SupadeployError):
        target = open_target(settings)
        try:
            return target.label
        finally:
            target.close()
    return ""


@contextmanager
def opened(options: Options, reporter: Reporter) -> Iterator[Context]:
    """The context of one run; the target is closed (and its round trips counted) whatever happens."""
    report = reporter.report
    settings = target_settings(options, find_root(options.root, walk=not on_runner()))
    report.target = settings.resolved_kind()
    try:
        layout = layout_of(options)
    except SupadeployError:
        report.database = _label(settings)  # a run that stops at its inputs still names where it was going
        raise
    settings = replace(settings, project_root=layout.config_root)
    report.database = _label(settings)  # named even when a file below turns out to be bad
    migrations = load_migrations(layout.migrations, display_root=layout.root)
    reporter.warnings(migrations.warnings)
    _check_target_version(options.target_version, migrations)
    suite = load_suite(layout.assertions, layout.root, required=options.command == "verify") \
        if options.command != "status" else []
    target = open_target(settings)
    report.database = target.label
    remote = report.target != "local"
    dry_run = options.dry_run if options.dry_run is not None else (options.command == "plan" and remote)
    report.dry_run = dry_run
    reporter.heading(f"supadeploy {options.command} → {target.label}")
    reporter.progress(f"  migrations: {layout.shown(layout.migrations)}/ ({layout.migrations_why}, "
                      f"{len(migrations.migrations)} file(s))"
                      + (f"; assertions: {', '.join(layout.shown(p) for p in layout.assertions)}"
                         if layout.assertions else ""))
    target.on_wait = lambda message: reporter.progress(f"  … {message}")
    reporter.warnings([Problem(w, title="Access token") for w in target.warnings])
    try:
        yield Context(options, reporter, layout, migrations, suite, target, remote, dry_run)
    except MigrationFailed as exc:
        if remote or not isinstance(target, LocalTarget) or not any(p.kind == NOT_INSTALLED for p in exc.problems):
            raise
        raise not_available_locally(exc, target) from None
    except QueryError as exc:  # a request the engine does not expect to fail (too many connections, …)
        raise TargetError(f"the database refused a request: {exc}") from None
    finally:
        report.round_trips = target.round_trips
        target.close()


def _check_target_version(version: str | None, migrations: MigrationSet) -> None:
    if version is not None and version not in migrations.by_version():
        newest = migrations.migrations[-1].version if migrations.migrations else "none"
        raise ConfigError(f"--target-version {shown(version)} is not the version of a migration in "
                          f"{migrations.directory}; the newest is {newest}")


def not_available_locally(exc: MigrationFailed, target: LocalTarget) -> SupadeployError:
    """A migration needs something the local replay lacks: say so, distinctly from a broken migration; or
    (an extension hosted projects of this major do not offer) say that it fails on the project too."""
    problem = next(p for p in exc.problems if p.kind == NOT_INSTALLED)
    name = missing_extension(problem.sql.message if problem.sql else problem.message)
    said = problem.sql
    if name is None:  # the replay said it cannot do this (SDL01): a stand-in's call out, a superuser's statement
        why = said.message if said else problem.message
        message = (f"not available in supadeploy's local replay ({target.label}): {why}. This says nothing about "
                   "your migration, which may well deploy on a hosted project. Check it with a dry run against a "
                   "staging project instead (supadeploy plan --project-ref <staging-ref>). Stand-ins here: "
                   f"{', '.join(stand_ins_for(target.major))}.")
        title = "Not available in the local replay"
        failed_on_hosted = False
    else:
        verdict = extension_verdict(name, target.major)
        message, title, failed_on_hosted = verdict.message(target.label), verdict.title, verdict.fails_on_hosted
        if said:
            message += f"\nPostgreSQL said: {said.sqlstate}: {said.message}"
    problems = [Problem(message, file=problem.file, line=problem.line, title=title, kind=NOT_INSTALLED,
                        sql=problem.sql if failed_on_hosted else None)]
    return MigrationFailed(message, problems) if failed_on_hosted else NotAvailableLocally(message, problems)
