"""Drift as findings of the typed report: every channel (terminal, annotations, job summary, PR comment,
JSON under `drift`, JUnit) renders them like any other family.

Three rules: `object` (a catalog difference between the target and a replay of its applied migrations),
`history-row` (a history row no local file explains, with its statements), and `edited-file` (an applied
file whose statements differ from the ones history stored).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ...model import Finding, Level, Problem
from .differ import Change, Difference
from .history import UnexplainedRow
from .locate import Locator

CAPTURE = "`supadeploy drift --capture`"
SHOWN_STATEMENTS = 12  # of a history row's statements in its message (all of them are in the JSON)
ADVICE = {
    Change.EXTRA: f"made outside the migrations: capture it as a migration ({CAPTURE}), or undo it in the database",
    Change.MISSING: f"the migrations make it but the database lacks it: restore it, or capture its removal "
                    f"({CAPTURE})",
    Change.CHANGED: f"changed outside the migrations: capture the database's version ({CAPTURE}), or put the "
                    "migrations' version back",
}


@dataclass
class DriftFinding(Finding):
    FAMILY: ClassVar[str] = "drift"
    SECTION: ClassVar[str] = "Drift"

    change: str = ""  # extra | missing | changed (objects), history (a row), edited (a file)
    kind: str = ""  # what the object is: column, policy, function, …, history row, migration file
    object: str = ""  # the object named, e.g. public.profiles.nickname
    attribute: str | None = None  # what differs, for `changed`
    production: Any = None  # its value on the target, for `changed`
    migrations: Any = None  # and in the replay of the migrations
    statements: list[str] | None = field(default=None, repr=False)  # a history row's, as stored

    @property
    def level(self) -> Level:
        return Level.ERROR if self.over_limit else Level.WARNING

    @property
    def level_word(self) -> str:
        return "drift"

    @property
    def subject(self) -> str | None:
        return self.object or None

    def problem(self) -> Problem:
        return Problem(self.message, file=self.file or None, line=self.line or None, title=f"Drift: {self.kind}",
                       kind=self.FAMILY)

    def columns(self) -> dict[str, str]:
        return {"Where": f"{self.file}:{self.line}" if self.file else "", "What": self.kind,
                "Difference": self.message.split("\n", 1)[0], "Instead": self.advice}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["level"] = str(self.level)
        if data["statements"] is None:
            del data["statements"]
        return data


def object_finding(difference: Difference, locator: Locator, parent: tuple[str, ...] | None,
                   fails: bool) -> DriftFinding:
    place = locator.place(difference, parent)
    data = difference.to_json()
    return DriftFinding(
        rule="object", file=place.file if place else "", line=place.line if place else 0, message=difference.message,
        advice=ADVICE[difference.change], over_limit=fails, change=difference.change.value,
        kind=difference.kind.value, object=difference.label, attribute=difference.attribute,
        production=data.get("production"), migrations=data.get("migrations"))


def history_finding(row: UnexplainedRow, fails: bool, not_replayed: str | None = None) -> DriftFinding:
    """A history row no local file explains, listed with its statements (`not_replayed`: why the replay
    could not run them, so what they made is reported as drift too)."""
    statements = list(row.statements) if row.statements is not None else None
    message = row.message
    if not_replayed:
        message += f"; not replayed ({not_replayed}), so what it made is reported as drift"
    if statements:
        shown = [" ".join(s.split())[:300] for s in statements[:SHOWN_STATEMENTS]]
        message += "\n" + "\n".join(f"{s};" for s in shown)
        if len(statements) > SHOWN_STATEMENTS:
            message += f"\n… {len(statements) - SHOWN_STATEMENTS} more statement(s) in the JSON report"
    if row.matches:
        advice = (f"the same statements are in {row.matches[0].path}: rename that file to {row.version}_… so the "
                  "version matches, or remove the duplicate row (supabase migration repair --status reverted "
                  f"{row.version})")
    else:
        advice = (f"fetch it as a file ({CAPTURE}, like `supabase migration fetch`), or remove the row "
                  f"(supabase migration repair --status reverted {row.version})")
    return DriftFinding(rule="history-row", file="", line=0, message=message, advice=advice, over_limit=fails,
                        change="history", kind="history row", object=row.version, statements=statements)


def edited_finding(path: str, version: str, fails: bool) -> DriftFinding:
    return DriftFinding(
        rule="edited-file", file=path, line=1, over_limit=fails, change="edited", kind="migration file",
        object=version,
        message=f"{path} was changed after it was applied (version {version}): its statements differ from the "
                "ones stored in history (the replay ran the stored ones: they are what the database ran)",
        advice="restore the file as it was applied, and put the change in a new migration")
