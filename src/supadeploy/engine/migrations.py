"""Reading migration files: names, encoding, statements, directives and their lines.

File names follow the Supabase CLI rule `^([0-9]+)_(.*)\\.sql$`. Statements are
split with PostgreSQL's own parser (see sqlparse.py), each keeping its line in
the file so that errors can point at it. What is executed is the file's text
as written (only a BOM is stripped): line endings inside string literals are
part of what a statement means.

A file is applied in one of three ways:
- in a transaction, with its history row (the default);
- the same, when the whole file is wrapped in its own `BEGIN` … `COMMIT`
  (the wrapper is not sent: supadeploy's transaction takes its place);
- statement by statement outside a transaction, when its leading comments
  carry a directive (NON_TRANSACTIONAL_DIRECTIVES), for statements such as
  `CREATE INDEX CONCURRENTLY` that PostgreSQL refuses inside one.
"""

from __future__ import annotations

import re
import stat
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, overload

from ..acknowledgements import is_acknowledgement
from ..errors import MigrationFileError
from ..model import Problem, SqlError
from ..paths import shown_path
from ..sqltext import qualified
from .sqlparse import (
    LineIndex,
    ParsedStatement,
    SqlSyntaxError,
    TreeDigest,
    iter_split,
    relations,
    split,
    statement_start,
)

T = TypeVar("T")
FILENAME_RE = re.compile(r"^([0-9]+)_(.*)\.sql$")
UTF8_BOM = "\ufeff"

# Leading-comment directives that make a file non-transactional: ours, and the
# ones generated migrations already carry (pg-delta is Supabase's diff engine).
SUPADEPLOY_DIRECTIVE = "-- supadeploy: transaction=false"
NON_TRANSACTIONAL_DIRECTIVES = {
    "supadeploy": re.compile(r"^--\s*supadeploy:\s*transaction\s*=\s*false\s*$", re.I),
    "pg-delta": re.compile(r"^--\s*pg-delta:\s*transaction\s*=\s*false\s*$", re.I),
    "atlas": re.compile(r"^--\s*atlas:txmode\s+none\s*$", re.I),
}
_OUR_DIRECTIVE_PREFIX = re.compile(r"^--\s*supadeploy:", re.I)
_DIRECTIVE_ADVICE = (
    f"put `{SUPADEPLOY_DIRECTIVE}` on the file's first line to run it statement by statement outside "
    "a transaction (`-- pg-delta: transaction=false` and `-- atlas:txmode none` work too); see "
    "README, \"Migration files\"")

# Statements PostgreSQL refuses inside a transaction block: they need the directive.
_NOT_IN_TRANSACTION = {"CreatedbStmt": "CREATE DATABASE", "DropdbStmt": "DROP DATABASE",
                       "CreateTableSpaceStmt": "CREATE TABLESPACE", "DropTableSpaceStmt": "DROP TABLESPACE",
                       "AlterSystemStmt": "ALTER SYSTEM"}
_TRANSACTION_WORDS = {"TRANS_STMT_BEGIN": "BEGIN", "TRANS_STMT_START": "START TRANSACTION",
                      "TRANS_STMT_COMMIT": "COMMIT", "TRANS_STMT_ROLLBACK": "ROLLBACK",
                      "TRANS_STMT_SAVEPOINT": "SAVEPOINT", "TRANS_STMT_RELEASE": "RELEASE SAVEPOINT",
                      "TRANS_STMT_ROLLBACK_TO": "ROLLBACK TO SAVEPOINT",
                      "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
                      "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
                      "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED"}


@dataclass(frozen=True)
class IndexBuild:
    """A `CREATE INDEX CONCURRENTLY`: what to look for when a failed build left an INVALID index."""

    schema: str | None
    name: str | None
    table: str
    if_not_exists: bool

    @property
    def qualified_table(self) -> str:
        return qualified(self.schema, self.table)

    @property
    def qualified_name(self) -> str:
        return qualified(self.schema, self.name or "")


class Statement(NamedTuple):
    """One SQL statement of a file: where its text as executed lies in the file's text, and its kind.

    The text is sliced from the file's when asked, not kept: a file of 700,000 inserts would hold its
    text twice over otherwise. A named tuple: a StatementList makes one each time a statement is read,
    and a tuple is made five times faster than a frozen dataclass."""

    source: str  # the file's text (one string shared by all its statements)
    end: int  # the statement's text is source[offset:end]
    line: int
    offset: int
    kind: str = "?"
    resets_session: bool = False  # RESET ALL: supadeploy's own settings are restored after it
    non_transactional: str | None = None  # e.g. "CREATE INDEX CONCURRENTLY"
    index_build: IndexBuild | None = None
    transaction_control: str | None = None  # TransactionStmt kind, e.g. "TRANS_STMT_BEGIN"
    chains: bool = False  # COMMIT AND CHAIN
    client_stream: bool = False  # COPY FROM STDIN / TO STDOUT

    @property
    def text(self) -> str:
        return self.source[self.offset:self.end]

    @property
    def relations(self) -> tuple[tuple[str | None, str], ...]:
        """The tables it names (schema or None, name); the parse of a recent text is remembered."""
        return _relations_of(self.text)

    def __repr__(self) -> str:  # not the file's text
        return f"Statement(line={self.line}, offset={self.offset}, end={self.end}, kind={self.kind!r})"

    @property
    def plain(self) -> bool:
        """Nothing but where it is and its kind: a StatementList keeps it as four numbers."""
        return not (self.resets_session or self.non_transactional or self.index_build or self.transaction_control
                    or self.chains or self.client_stream)


@lru_cache(maxsize=4096)
def _relations_of(text: str) -> tuple[tuple[str | None, str], ...]:
    return tuple(relations(text))


class _Made(Sequence[T]):
    """A sequence whose items are made when read (from arrays of offsets), not stored."""

    __slots__ = ()

    def _make(self, index: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("index out of range")
        return self._make(index)

    def __iter__(self) -> Iterator[T]:
        for index in range(len(self)):
            yield self._make(index)


class StatementList(_Made[Statement]):
    """A file's statements, stored as numbers: offset, end and line in arrays and the kind as an index, a
    Statement made when one is asked for. A seed of 700,000 inserts costs 26 bytes a statement, not the
    ~230 of as many objects; the few statements with more to say (transaction control, concurrent index
    builds, RESET ALL…) are kept whole."""

    __slots__ = ("source", "_offsets", "_ends", "_lines", "_kinds", "_kind_names", "_kind_index", "_special")

    def __init__(self, source: str) -> None:
        self.source = source
        self._offsets = array("q")
        self._ends = array("q")
        self._lines = array("q")
        self._kinds = array("H")
        self._kind_names: list[str] = []
        self._kind_index: dict[str, int] = {}
        self._special: dict[int, Statement] = {}

    def append(self, statement: Statement) -> None:
        if not statement.plain:
            self._special[len(self._offsets)] = statement
        kind = self._kind_index.get(statement.kind)
        if kind is None:
            kind = self._kind_index[statement.kind] = len(self._kind_names)
            self._kind_names.append(statement.kind)
        self._offsets.append(statement.offset)
        self._ends.append(statement.end)
        self._lines.append(statement.line)
        self._kinds.append(kind)

    def without(self, indexes: set[int]) -> StatementList:
        """The same statements but those at `indexes`."""
        kept = StatementList(self.source)
        for index, statement in enumerate(self):
            if index not in indexes:
                kept.append(statement)
        return kept

    @property
    def special(self) -> dict[int, Statement]:
        """The statements that are more than a place and a kind, by index."""
        return self._special

    def __len__(self) -> int:
        return len(self._offsets)

    def _make(self, index: int) -> Statement:
        special = self._special.get(index)
        if special is not None:
            return special
        return Statement(self.source, self._ends[index], self._lines[index], self._offsets[index],
                         self._kind_names[self._kinds[index]])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatementList):
            return NotImplemented
        return (self.source == other.source and self._offsets == other._offsets and self._ends == other._ends
                and list(self) == list(other))

    def __hash__(self) -> int:
        return hash((self.source, len(self)))

    def __repr__(self) -> str:
        return f"StatementList({len(self)} statements)"


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    display_path: str
    text: str  # as in the file, BOM stripped
    statements: Sequence[Statement] = field(repr=False)  # what is executed (a StatementList)
    history_spans: array[int] = field(repr=False, compare=False)  # start, end, start, end…: what the Supabase CLI would store
    transactional: bool = True
    directive: str | None = None  # which non-transactional directive the file carries
    wrapped: bool = False  # the file's own BEGIN … COMMIT was stripped
    # sqlparse.fingerprint of the statements history stores, taken from the file's own parse as it was split
    fingerprint: str = field(default="", repr=False, compare=False)

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def empty(self) -> bool:
        return not self.statements

    @property
    def index_builds(self) -> list[IndexBuild]:
        """The concurrent index builds of a non-transactional file."""
        return [s.index_build for s in self.statements if s.index_build is not None]

    @property
    def history_statements(self) -> HistoryStatements:
        """What the Supabase CLI would store in history: each statement with the comments before it (sliced
        from the file's text as they are read)."""
        return HistoryStatements(self.text, self.history_spans)

    @cached_property
    def _lines(self) -> LineIndex:
        return LineIndex(self.text)

    def line_at(self, offset: int) -> int:
        """1-based line of a character offset in the file text."""
        return self._lines.line(offset)

    def source_line(self, line: int) -> str:
        """The text of one line of the file (for a caret under an error position)."""
        start = self._lines.start_of_line(line)
        end = len(self.text)
        for stop in ("\n", "\r"):
            at = self.text.find(stop, start)
            if at >= 0:
                end = min(end, at)
        return self.text[start:end]


class HistoryStatements(_Made[str]):
    """The statements a history row stores, as slices of the file's text made when read."""

    __slots__ = ("_text", "_spans")

    def __init__(self, text: str, spans: array[int]) -> None:
        self._text = text
        self._spans = spans

    def __len__(self) -> int:
        return len(self._spans) // 2

    def _make(self, index: int) -> str:
        return self._text[self._spans[2 * index]:self._spans[2 * index + 1]]


@dataclass(frozen=True)
class MigrationSet:
    migrations: tuple[Migration, ...]
    warnings: tuple[Problem, ...]
    directory: Path | None = None

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
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise MigrationFileError(f"cannot list the migrations directory {directory}: {exc.strerror}") from None
    for path in entries:
        shown = shown_path(path, display_root)
        match = FILENAME_RE.match(path.name)
        if not match:
            if path.suffix.lower() == ".sql":
                warnings.append(_skipped(path, shown))
            continue
        version, name = match.group(1), match.group(2)
        kind = _entry_kind(path)
        if kind is not None:
            problems.append(Problem(f"{path.name} is named like a migration but is {kind}; "
                                    "remove it or give it another name", file=shown, title="Not a file"))
            continue
        if version in seen:
            problems.append(Problem(
                f"duplicate migration version {version}: {seen[version]} and {shown}",
                file=shown, line=1, title="Duplicate version"))
            continue
        seen[version] = shown
        try:
            text = decode_sql(path.read_bytes(), shown)  # the bytes are not kept: a seed is held once
            migrations.append(parse_migration(text, version, name, path, shown))
        except OSError as exc:
            problems.append(Problem(f"cannot read {path.name}: {exc.strerror or exc}", file=shown,
                                    title="Unreadable file"))
        except MigrationFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise MigrationFileError(f"{len(problems)} problem(s) in migration files", problems)
    lengths = {len(m.version) for m in migrations}
    if len(lengths) > 1:
        warnings.append(Problem(
            "migration versions have different lengths; like the Supabase CLI, supadeploy "
            "orders them as text, so pad them to one length (e.g. 000010 after 000009)",
            title="Version order"))
    for migration in migrations:
        if migration.empty:
            warnings.append(Problem(
                f"{migration.filename} contains no SQL statement; it is recorded in history with no "
                "statements, as the Supabase CLI does", file=migration.display_path, line=1,
                title="Empty migration"))
    return MigrationSet(tuple(migrations), tuple(warnings), directory)


def _skipped(path: Path, shown: str) -> Problem:
    if path.suffix == ".sql":
        why = "migration file names must match <version>_<name>.sql (the Supabase CLI rule ^([0-9]+)_(.*)\\.sql$)"
    else:
        why = f"the extension must be lower-case .sql, not {path.suffix} (the Supabase CLI skips it too)"
    return Problem(f"skipped {path.name}: {why}", file=shown, title="Skipped file")


def _entry_kind(path: Path) -> str | None:
    """None for a regular file (or a link to one); otherwise what the entry is."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a symbolic link to nothing (dangling)" if path.is_symlink() else "missing"
    except OSError as exc:
        return f"not accessible ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def parse_migration(data: bytes | str, version: str, name: str, path: Path, shown: str) -> Migration:
    """Split and check one file's text (its bytes are decoded first)."""
    text = decode_sql(data, shown) if isinstance(data, bytes) else data
    lines = LineIndex(text)
    text, read = _parse(text, shown, lines)
    directive = _directive(text, len(text) if read.first is None else read.first, shown, lines)
    statements, wrapped = _unwrap(read.statements, directive, shown)
    refused = [p for p in (_refusal(s, directive, shown) for s in statements.special.values()) if p is not None]
    if refused:
        raise MigrationFileError(f"{shown}: statements supadeploy cannot apply as written", refused)
    return Migration(version, name, path, shown, text, statements, read.history,
                     transactional=directive is None, directive=directive, wrapped=wrapped,
                     fingerprint=read.digest.hexdigest())


class _Reading:
    """A file's statements and history spans, taken from the parser one statement at a time (the parse
    tree of a whole seed is never held)."""

    def __init__(self, text: str, lines: LineIndex) -> None:
        self.text = text
        self.lines = lines
        self.statements = StatementList(text)
        self.history = array("q")  # offsets, not copies: what the CLI stores is the file again
        self.first: int | None = None  # where the parser's first statement starts
        self.digest = TreeDigest()
        self._previous_end = 0

    def add(self, item: ParsedStatement) -> None:
        text = self.text
        if self.first is None:
            self.first = item.start
        start, end = _stripped(text, item.start, item.end)
        if start == end:
            return
        self.statements.append(_statement(text, start, end, self.lines.line(start), item))
        first, last = _stripped(text, self._previous_end, item.end)
        while first < last and text[first] == ";":  # the previous statement's own `;`
            first += 1
        self.history.extend(_stripped(text, first, last))
        self._previous_end = item.end

    def finish(self) -> _Reading:
        if not self.history and self.text.strip():  # comments only: the CLI stores them as one statement
            self.history.extend(_stripped(self.text, 0, len(self.text)))
        return self


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """The span text[start:end].strip() would return, without copying it."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def decode_sql(data: bytes, shown: str) -> str:
    """UTF-8 text with a BOM stripped, or an error with the byte offset. Line endings are kept."""
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
            file=shown, line=LineIndex(text).line(offset), title="Invalid file")])
    return text


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DUMP_META = re.compile(r"\\(?:un)?restrict +[A-Za-z0-9]+[ \t]*$")


def _parse(text: str, shown: str, lines: LineIndex) -> tuple[str, _Reading]:
    """The statements; pg_dump's `\\restrict`/`\\unrestrict` lines (psql meta-commands since PostgreSQL
    17.6, 16.10, 15.14…) are blanked out, as `supabase db pull` removes them. The text returned is what
    is executed."""
    for _ in range(4):
        try:
            reading = _Reading(text, lines)
            for item in iter_split(text, digest=reading.digest):
                reading.add(item)
            return text, reading.finish()
        except SqlSyntaxError as exc:
            start = lines.start_of_line(lines.line(exc.offset))
            end = start + len(text[start:].split("\n", 1)[0].rstrip("\r"))
            if exc.offset != start or not _DUMP_META.match(text[start:end]):
                failure = exc
                break
            text = text[:start] + " " * (end - start) + text[end:]
    else:  # pragma: no cover - more than a dump's two meta-commands
        failure = SqlSyntaxError("too many psql meta-commands", 0)
    _syntax_error(text, shown, lines, failure)
    raise AssertionError("unreachable")


def _syntax_error(text: str, shown: str, lines: LineIndex, exc: SqlSyntaxError) -> None:
    copy = _copy_with_inline_data(text, exc.offset, lines)
    if copy is not None:
        raise MigrationFileError(f"{shown}:{copy}: COPY with inline data", [Problem(
            "COPY ... FROM stdin with inline data (as pg_dump writes it) needs a client data stream, "
            "which neither the Management API nor supadeploy's transactions have; write the rows as "
            "INSERT statements, or load them separately (psql \\copy)",
            file=shown, line=copy, title="Statement refused")])
    line = lines.line(exc.offset)
    if text[exc.offset:exc.offset + 1] == "\\" and exc.offset == lines.start_of_line(line):
        command = text[exc.offset:].split(None, 1)[0]
        raise MigrationFileError(f"{shown}:{line}: psql meta-command", [Problem(
            f"{command} is a psql meta-command, not SQL: supadeploy sends SQL to the server (as the Supabase "
            "CLI does), so remove the line", file=shown, line=line, title="Not SQL")])
    raise MigrationFileError(f"{shown}:{line}: {exc.message}", [syntax_problem(text, shown, lines, exc)])


def syntax_problem(text: str, shown: str, lines: LineIndex, exc: SqlSyntaxError) -> Problem:
    """PostgreSQL's parser message once, at file:line:column, with the line and a caret under the position
    (as psql shows it). An error at the end of the input points just after the last character."""
    offset = exc.offset
    end = len(text.rstrip())
    if offset >= end:
        offset = end
    line = lines.line(max(0, offset - 1) if offset == end and end else offset)
    start = lines.start_of_line(line)
    source = _LINE_BREAK.split(text[start:], 1)[0]
    column = offset - start + 1
    statement = statement_start(text, offset)
    position = offset - statement + 1 if statement is not None else None
    return Problem(exc.message, file=shown, line=line, title="Syntax error",
                   sql=SqlError("42601", exc.message, position, column, source))


def _copy_with_inline_data(text: str, offset: int, lines: LineIndex) -> int | None:
    """The line of a `COPY ... FROM stdin;` whose data rows caused a syntax error, if that is what happened."""
    prefix = text[:lines.start_of_line(lines.line(offset))]
    try:
        parsed = split(prefix)
    except SqlSyntaxError:
        return None
    if parsed and parsed[-1].kind == "CopyStmt" and _copies_stdin(parsed[-1].node or {}):
        start = parsed[-1].start + len(text[parsed[-1].start:]) - len(text[parsed[-1].start:].lstrip())
        return lines.line(start)
    return None


def _copies_stdin(node: dict[str, Any]) -> bool:
    return not node.get("filename") and not node.get("is_program")


def _directive(text: str, first_statement: int, shown: str, lines: LineIndex) -> str | None:
    """Which non-transactional directive the leading comments carry, if any."""
    for raw in re.split(r"\r\n|\r|\n", text[:first_statement]):
        comment = raw.strip()
        if not comment.startswith("--"):
            continue
        for name, pattern in NON_TRANSACTIONAL_DIRECTIVES.items():
            if pattern.match(comment):
                return name
        if _OUR_DIRECTIVE_PREFIX.match(comment) and not is_acknowledgement(comment):
            line = lines.line(text.find(raw))
            raise MigrationFileError(f"{shown}:{line}: unknown directive", [Problem(
                f"unknown supadeploy directive {comment!r}; the directive supadeploy knows is "
                f"`{SUPADEPLOY_DIRECTIVE}`, and `-- supadeploy: allow <rule> — why` (or `allow-file <rule>`) accepts "
                "a finding on purpose: a lock-safety rule or one of Supabase's advisor lints, e.g. "
                "rls_disabled_in_public", file=shown, line=line, title="Unknown directive")])
    return None


def _statement(text: str, offset: int, end: int, line: int, item: ParsedStatement) -> Statement:
    node = item.node or {}
    resets = item.kind == "VariableSetStmt" and node.get("kind") == "VAR_RESET_ALL"
    what = _needs_no_transaction(item.kind, node)
    index = None
    if item.kind == "IndexStmt" and node.get("concurrent"):
        relation = node.get("relation") or {}
        index = IndexBuild(relation.get("schemaname"), node.get("idxname"), relation.get("relname", ""),
                           bool(node.get("if_not_exists")))
    control = node.get("kind") if item.kind == "TransactionStmt" else None
    stream = item.kind == "CopyStmt" and _copies_stdin(node)
    return Statement(text, end, line, offset, item.kind, resets, what, index, control, bool(node.get("chain")),
                     stream)


def _needs_no_transaction(kind: str, node: dict[str, Any]) -> str | None:
    """What PostgreSQL refuses inside a transaction block, named as users write it."""
    if kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and any(
            p.get("DefElem", {}).get("defname") == "concurrently" for p in node.get("params", ())):
        return "REINDEX CONCURRENTLY"
    if kind == "VacuumStmt":
        return "VACUUM" if node.get("is_vacuumcmd") else None
    if kind == "ClusterStmt" and not node.get("relation"):
        return "CLUSTER (without a table)"
    if kind == "AlterTableStmt":
        for command in node.get("cmds", ()):
            cmd = command.get("AlterTableCmd", {})
            if cmd.get("subtype") == "AT_DetachPartition" and cmd.get("def", {}).get("PartitionCmd", {}).get("concurrent"):
                return "DETACH PARTITION ... CONCURRENTLY"
    return _NOT_IN_TRANSACTION.get(kind)


def _unwrap(statements: StatementList, directive: str | None, shown: str) -> tuple[StatementList, bool]:
    """Drop one BEGIN … COMMIT block (supadeploy's transaction takes its place); refuse other transaction control.

    The block usually wraps the whole file. Supabase's Realtime docs also put a
    statement after the COMMIT (`alter publication supabase_realtime add table
    ...`); it joins the same transaction, which only makes the file more atomic.
    """
    at = [i for i, s in sorted(statements.special.items()) if s.transaction_control]
    if not at:
        return statements, False
    control = [statements[i] for i in at]
    block = (directive is None and len(control) == 2
             and control[0].transaction_control in ("TRANS_STMT_BEGIN", "TRANS_STMT_START")
             and control[1].transaction_control == "TRANS_STMT_COMMIT" and not control[1].chains)
    if block:
        return statements.without(set(at)), True
    problems = []
    for statement in control:
        word = _TRANSACTION_WORDS.get(statement.transaction_control or "", "transaction control")
        problems.append(Problem(
            f"transaction control ({word}) here would commit or end part of the file on its own, so history "
            "and schema could disagree. supadeploy applies each file atomically in one transaction; a file may "
            "contain one BEGIN … COMMIT block (supadeploy's transaction then takes its place). Otherwise remove "
            "these statements, or split the file into separate migrations"
            + (" (a non-transactional file may not contain transaction control)" if directive else ""),
            file=shown, line=statement.line, title="Transaction control refused"))
    raise MigrationFileError(f"{shown}: transaction control", problems)


def _refusal(statement: Statement, directive: str | None, shown: str) -> Problem | None:
    """A Problem when the statement cannot be applied the way the file asks."""
    if statement.client_stream:
        return Problem("COPY FROM STDIN / TO STDOUT needs a client-side data stream, which neither the "
                       "Management API nor supadeploy's transactions have; use INSERT statements, or run it "
                       "separately (psql \\copy)", file=shown, line=statement.line, title="Statement refused")
    if statement.non_transactional and directive is None:
        return Problem(f"{statement.non_transactional} cannot run inside a transaction block, and supadeploy "
                       f"applies each file in one; {_DIRECTIVE_ADVICE}", file=shown, line=statement.line,
                       title="Statement refused")
    return None
