"""Reading migration files: names, encoding, statements and their lines.

File names follow the Supabase CLI rule `^([0-9]+)_(.*)\\.sql$`. Statements are
split with pglast (PostgreSQL's own parser), each keeping its line in the file
so that errors can point at it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .errors import MigrationFileError, Problem

FILENAME_RE = re.compile(r"^([0-9]+)_(.*)\.sql$")
UTF8_BOM = "\ufeff"

# Statements that would end the surrounding transaction or cannot run inside one.
_TRANSACTION_CONTROL = "transaction control ({what}) would end supadeploy's transaction early"
_NOT_IN_TRANSACTION = "{what} cannot run inside a transaction"
_REFUSAL_ADVICE = (
    "; supadeploy runs each migration atomically, so this statement is refused. "
    "Run it separately (for example with psql against a direct database URL)."
)


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a file: its text as executed and where it starts."""

    text: str
    line: int
    offset: int


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    display_path: str
    text: str  # BOM stripped, line endings normalised to \n
    statements: tuple[Statement, ...] = field(repr=False)
    history_statements: tuple[str, ...] = field(repr=False)

    @property
    def filename(self) -> str:
        return self.path.name

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint_statements(self.history_statements)

    def line_at(self, offset: int) -> int:
        """1-based line of a character offset in the file text."""
        return self.text.count("\n", 0, max(0, offset)) + 1


@dataclass(frozen=True)
class MigrationSet:
    migrations: tuple[Migration, ...]
    warnings: tuple[Problem, ...]

    def by_version(self) -> dict[str, Migration]:
        return {m.version: m for m in self.migrations}


def load_migrations(directory: Path, display_root: Path | None = None) -> MigrationSet:
    """Read every migration in `directory`, raising one error that lists all bad files."""
    if not directory.is_dir():
        raise MigrationFileError(f"migrations directory not found: {directory}")
    problems: list[Problem] = []
    warnings: list[Problem] = []
    seen: dict[str, str] = {}
    migrations: list[Migration] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        shown = shown_path(path, display_root)
        match = FILENAME_RE.match(path.name)
        if not match:
            if path.suffix == ".sql":
                warnings.append(Problem(
                    f"skipped {path.name}: migration file names must match <version>_<name>.sql "
                    "(the Supabase CLI rule ^([0-9]+)_(.*)\\.sql$)", file=shown, title="Skipped file"))
            continue
        version, name = match.group(1), match.group(2)
        if version in seen:
            problems.append(Problem(
                f"duplicate migration version {version}: {seen[version]} and {shown}",
                file=shown, line=1, title="Duplicate version"))
            continue
        seen[version] = shown
        try:
            migrations.append(parse_migration(path.read_bytes(), version, name, path, shown))
        except MigrationFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise MigrationFileError(
            f"{len(problems)} problem(s) in migration files", problems)
    lengths = {len(m.version) for m in migrations}
    if len(lengths) > 1:
        warnings.append(Problem(
            "migration versions have different lengths; like the Supabase CLI, supadeploy "
            "orders them as text, so pad them to one length (e.g. 000010 after 000009)",
            title="Version order"))
    return MigrationSet(tuple(migrations), tuple(warnings))


def parse_migration(data: bytes, version: str, name: str, path: Path, shown: str) -> Migration:
    """Decode, split and check one file's bytes."""
    text = decode_sql(data, shown)
    statements, history = split_statements(text, shown)
    if not statements:
        raise MigrationFileError(f"{shown}: empty migration", [Problem(
            "empty migration: the file contains no SQL statement", file=shown, line=1,
            title="Empty migration")])
    return Migration(version, name, path, shown, text, tuple(statements), tuple(history))


def decode_sql(data: bytes, shown: str) -> str:
    """UTF-8 text with BOM stripped and CRLF/CR normalised, or an error with the byte offset."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MigrationFileError(f"{shown}: invalid UTF-8", [Problem(
            f"invalid UTF-8 at byte offset {exc.start} (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8", file=shown, line=line, title="Invalid UTF-8")]) from None
    if text.startswith(UTF8_BOM):
        text = text[1:]
    if "\x00" in text:
        offset = text.index("\x00")
        raise MigrationFileError(f"{shown}: NUL character", [Problem(
            f"NUL character at offset {offset}: not a text file",
            file=shown, line=text.count("\n", 0, offset) + 1, title="Invalid file")])
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_statements(text: str, shown: str) -> tuple[list[Statement], list[str]]:
    """Statements (as executed) and the same statements in the Supabase CLI's history format.

    The history format keeps comments that precede a statement, trimmed and
    without the trailing semicolon, as `supabase db push` stores them. Parsing
    goes through libpg_query's JSON output: the same parser as pglast's AST,
    without building Python objects for every node. Refused statements are
    reported with their lines.
    """
    import json

    from pglast import parser  # imported here: start-up stays light

    to_chars = _char_offsets(text)
    try:
        tree = json.loads(parser.parse_sql_json(text))
    except parser.ParseError as exc:
        message, offset = (exc.args + (0,))[:2]
        line = text.count("\n", 0, max(0, to_chars(int(offset)))) + 1
        raise MigrationFileError(f"{shown}:{line}: syntax error", [Problem(
            f"syntax error: {message}", file=shown, line=line, title="Syntax error")]) from None
    statements: list[Statement] = []
    history: list[str] = []
    refused: list[Problem] = []
    previous_end = 0
    for item in tree.get("stmts", []):
        location = item.get("stmt_location", 0)
        start = to_chars(location)
        end = to_chars(location + item["stmt_len"]) if item.get("stmt_len") else _last_token_end(text, start)
        body = text[start:end].strip()
        if not body:
            continue
        statement = Statement(body, text.count("\n", 0, start) + 1, start)
        statements.append(statement)
        history.append(text[previous_end:end].strip().lstrip(";").strip())
        previous_end = end
        problem = refusal(item["stmt"], statement, shown)
        if problem is not None:
            refused.append(problem)
    if refused:
        raise MigrationFileError(f"{shown}: statements that break atomicity", refused)
    return statements, history


def _char_offsets(text: str):
    """Map libpg_query's byte offsets to character offsets (identity for ASCII text)."""
    if text.isascii():
        return lambda offset: offset
    encoded = text.encode("utf-8")
    return lambda offset: len(encoded[:offset].decode("utf-8", errors="ignore"))


def _last_token_end(text: str, start: int) -> int:
    """End of the last non-comment token after `start` (the final statement has no length)."""
    from pglast import parser

    end = start
    for token in parser.scan(text[start:]):
        if token.name not in ("SQL_COMMENT", "C_COMMENT") and token.name != "ASCII_59":
            end = start + token.end + 1
    return end


_CONCURRENT = {"IndexStmt": "CREATE INDEX CONCURRENTLY", "DropStmt": "DROP INDEX CONCURRENTLY",
               "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW CONCURRENTLY"}
_NEVER_IN_TRANSACTION = {"CreatedbStmt": "CREATE DATABASE", "DropdbStmt": "DROP DATABASE",
                         "CreateTableSpaceStmt": "CREATE TABLESPACE", "DropTableSpaceStmt": "DROP TABLESPACE",
                         "AlterSystemStmt": "ALTER SYSTEM"}


def refusal(node: dict, statement: Statement, shown: str) -> Problem | None:
    """A Problem when the parsed statement cannot run inside supadeploy's transaction."""
    kind, fields = next(iter(node.items()))
    what: str | None = None
    template = _NOT_IN_TRANSACTION
    if kind == "TransactionStmt":
        what = statement.text.split()[0].upper()
        template = _TRANSACTION_CONTROL
    elif kind in _CONCURRENT and fields.get("concurrent"):
        what = _CONCURRENT[kind]
    elif kind == "ReindexStmt" and any(
            p.get("DefElem", {}).get("defname") == "concurrently" for p in fields.get("params", ())):
        what = "REINDEX CONCURRENTLY"
    elif kind == "VacuumStmt" and fields.get("is_vacuumcmd"):
        what = "VACUUM"
    elif kind in _NEVER_IN_TRANSACTION:
        what = _NEVER_IN_TRANSACTION[kind]
    elif kind == "CopyStmt" and not fields.get("filename"):
        what = "COPY FROM STDIN / TO STDOUT"
        template = "{what} needs a client-side data stream"
    if what is None:
        return None
    return Problem(template.format(what=what) + _REFUSAL_ADVICE, file=shown,
                   line=statement.line, title="Statement refused")


def fingerprint_statements(statements: tuple[str, ...] | list[str]) -> str:
    """A hash of the SQL tokens, blind to whitespace, line endings, comments and keyword case.

    Used for drift: it compares a file with the statements stored in history,
    whether supadeploy or the Supabase CLI stored them.
    """
    from pglast import parser

    text = ";\n".join(statements).replace("\r\n", "\n").replace("\r", "\n")
    digest = hashlib.sha256()
    try:
        tokens = parser.scan(text)
    except Exception:  # noqa: BLE001 - unscannable history: fall back to folded text
        digest.update(" ".join(text.split()).encode())
        return digest.hexdigest()
    for token in tokens:
        if token.name in ("SQL_COMMENT", "C_COMMENT", "ASCII_59"):
            continue
        value = text[token.start:token.end + 1]
        if token.kind != "NO_KEYWORD":
            value = value.lower()
        digest.update(" ".join(value.split()).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()


def shown_path(path: Path, root: Path | None) -> str:
    """A path as annotations want it: relative to the repository root when inside it."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()
