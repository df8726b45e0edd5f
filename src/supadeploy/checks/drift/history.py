"""History the repository cannot explain: rows of supabase_migrations.schema_migrations with no local file.

The dashboard, the MCP server's `apply_migration` and other branches write such rows. Each is listed with
its statements, and matched with local files by content (supadeploy.sqlparse.fingerprint: blind to
whitespace, comments and line endings), not only by version: the MCP server stamps its own version on
SQL a repository may already hold under another one. Rows no file explains can be written as files the
way `supabase migration fetch` writes them (supabase/cli internal/migration/fetch/fetch.go: statements
joined by `;` and a line break, named `<version>_<name>.sql`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ...engine.migrations import FILENAME_RE, Migration, MigrationSet
from ...engine.sqlparse import fingerprint
from ...errors import MigrationFileError
from ...model import Problem

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class HistoryRowLike(Protocol):
    """What a history row needs for this (supadeploy.history.HistoryRow has it)."""

    @property
    def version(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def statements(self) -> tuple[str, ...] | None: ...


@dataclass(frozen=True)
class SameContent:
    """A local file with the same statements as a history row."""

    path: str
    version: str
    applied: bool  # the file's own version is in history too


@dataclass(frozen=True)
class UnexplainedRow:
    version: str
    name: str
    statements: tuple[str, ...] | None
    matches: tuple[SameContent, ...] = ()

    @property
    def filename(self) -> str:
        """`<version>_<name>.sql`, the name made safe for a file system."""
        name = _UNSAFE.sub("_", self.name).strip("._") or "remote"
        return f"{self.version}_{name}.sql"

    @property
    def message(self) -> str:
        count = "no stored statements" if self.statements is None else f"{len(self.statements)} statement(s)"
        text = (f"history row {self.version}" + (f" ({self.name})" if self.name else "")
                + f" has no local file ({count}); it was written by another tool (the dashboard, the MCP "
                  "server, another branch)")
        for match in self.matches:
            state = "applied under its own version too" if match.applied else "not applied under its own version"
            text += f"; {match.path} has the same statements ({state})"
        return text

    def file_text(self) -> str:
        """The row as a migration file, like `supabase migration fetch` writes it."""
        parts = []
        for statement in self.statements or ():
            last_line = statement.rsplit("\n", 1)[-1]
            # a statement stored with a trailing line comment: the `;` must not land inside the comment
            parts.append(statement + ("\n;" if "--" in last_line else ";"))
        return "\n".join(parts) + "\n"


def unexplained(rows: Iterable[HistoryRowLike], migrations: MigrationSet) -> list[UnexplainedRow]:
    """History rows whose version has no local file, each with the local files of the same content."""
    local = migrations.by_version()
    versions = {row.version for row in rows}
    by_content: dict[str, list[Migration]] = {}
    for migration in migrations.migrations:
        by_content.setdefault(migration.fingerprint, []).append(migration)
    found = []
    for row in rows:
        if row.version in local:
            continue
        same: tuple[SameContent, ...] = ()
        if row.statements is not None:
            same = tuple(SameContent(m.display_path, m.version, m.version in versions)
                         for m in by_content.get(fingerprint(row.statements), ()))
        found.append(UnexplainedRow(row.version, row.name or "", row.statements, same))
    return sorted(found, key=lambda r: r.version)


def write_files(rows: Iterable[UnexplainedRow], directory: Path) -> list[Path]:
    """Write each row that no local file explains as a migration file; refuse to overwrite anything.

    Rows whose statements a local file already holds are left to the user (rename the file, or repair the
    history): writing them again would apply the same statements twice on a fresh database.
    """
    pending = [row for row in rows if not row.matches]
    problems = []
    for row in pending:
        if row.statements is None:
            problems.append(Problem(f"history row {row.version} has no stored statements: nothing to write",
                                    title="History row"))
        elif not FILENAME_RE.match(row.filename):
            problems.append(Problem(f"history row version {row.version!r} is not a migration version (digits)",
                                    title="History row"))
        elif (directory / row.filename).exists():
            problems.append(Problem(f"{row.filename} exists already; not overwritten", file=str(directory / row.filename),
                                    title="History row"))
    if problems:
        raise MigrationFileError(f"{len(problems)} history row(s) cannot be written as files", problems)
    written = []
    for row in pending:
        path = directory / row.filename
        path.write_text(row.file_text(), encoding="utf-8", newline="\n")
        written.append(path)
    return written
