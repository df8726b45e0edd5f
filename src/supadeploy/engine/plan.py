"""What a deploy would do: compare local files with the history table.

The rules are the Supabase CLI's (missing local versions refuse, older
unapplied files need --include-all) plus what the CLI lacks: drift detection
against the stored statements, for migrations either tool applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import PlanRefused
from ..model import Problem
from .history import History, HistoryRow
from .migrations import Migration, MigrationSet


@dataclass(frozen=True)
class PlanOptions:
    include_all: bool = False
    allow_drift: bool = False
    target_version: str | None = None


@dataclass
class Plan:
    local: tuple[Migration, ...]
    history: History
    pending: list[Migration] = field(default_factory=list)
    drifted: list[Migration] = field(default_factory=list)
    missing_local: list[HistoryRow] = field(default_factory=list)
    out_of_order: list[Migration] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # block the deploy
    warnings: list[Problem] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.problems)

    def refuse_if_blocked(self) -> None:
        if self.problems:
            raise PlanRefused(f"deploy refused: {len(self.problems)} problem(s) with migration history",
                              self.problems)


def make_plan(migrations: MigrationSet, history: History, options: PlanOptions) -> Plan:
    plan = Plan(local=migrations.migrations, history=history)  # the files' own warnings are reported when loaded
    local = migrations.by_version()
    applied = history.by_version()
    if options.target_version is not None and options.target_version not in local:
        plan.problems.append(Problem(
            f"--target-version {options.target_version} is not a local migration version",
            title="Unknown target version"))

    plan.missing_local = [row for row in history.rows if row.version not in local]
    if plan.missing_local:
        versions = " ".join(r.version for r in plan.missing_local)
        plan.problems.append(Problem(
            f"Remote migration versions not found in local migrations directory: {versions}. "
            "Make sure your local git repo is up-to-date. If the error persists, repair the "
            f"history: supabase migration repair --status reverted {versions}",
            title="Missing local migrations"))

    for version, row in applied.items():
        migration = local.get(version)
        if migration is None:
            continue
        if row.statements is None:
            plan.warnings.append(Problem(
                f"{migration.filename}: history has no stored statements; drift cannot be checked",
                file=migration.display_path, title="Drift not checked"))
        elif row.fingerprint != migration.fingerprint:
            plan.drifted.append(migration)
            message = (f"{migration.filename} was changed after it was applied (version {version}): "
                       "its statements differ from the ones stored in history. Put the change in a "
                       "new migration, or restore the file.")
            target = plan.warnings if options.allow_drift else plan.problems
            target.append(Problem(message + (" Allowed by --allow-drift." if options.allow_drift else ""),
                                  file=migration.display_path, line=1, title="Drift"))

    newest_applied = max(applied) if applied else None
    for migration in migrations.migrations:
        if migration.version in applied:
            continue
        if options.target_version is not None and migration.version > options.target_version:
            continue
        if newest_applied is not None and migration.version < newest_applied:
            plan.out_of_order.append(migration)
        plan.pending.append(migration)
    if plan.out_of_order:
        names = ", ".join(m.filename for m in plan.out_of_order)
        message = (f"Found local migration files to be inserted before the last migration on the "
                   f"remote database ({newest_applied}): {names}.")
        if options.include_all:
            plan.warnings.append(Problem(message + " Applying them because of --include-all.",
                                         title="Out of order"))
        else:
            plan.problems.append(Problem(message + " Rerun with --include-all to apply them.",
                                         file=plan.out_of_order[0].display_path, line=1,
                                         title="Out of order"))
    return plan
