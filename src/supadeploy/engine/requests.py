"""The SQL text of every request the engine sends, each built by one function here.

A request is one text, one round trip: the Management API has no sessions and no parameters for a
multi-statement text, so values are embedded as quoted literals (sqltext) and supadeploy keeps no state in
session settings while user SQL runs. Every request starts with SESSION_RESET, so whatever an earlier
request (or a file's `RESET ALL`, `SET ROLE`, empty `search_path`) left behind is put back.

A deploy transaction's text:

    session reset, application_name     -- the tag lets a request whose answer was lost be found running
    deploy lock (advisory), lock wait   -- deploys to one database serialise here
    per migration:
      supadeploy's settings             -- timeouts: every file starts from the same clean session
      guard, log row                    -- re-checks history under the lock; the start time lives in a table
      cursor mark, statement            -- per statement; the mark survives a rollback
      session reset, settings           -- nothing a file set reaches the next file or the history row
      history row                       -- the Supabase CLI's INSERT
    result (and the gate, or the dry run's deliberate rollback)

Pieces that belong to other families come in finished: the lock trace (a `Tracer`), the assertions'
gate (a `Gate`) and a `Probe` at each transaction's end (the advisors, the Data API's reload); the engine only
places them.
"""

from __future__ import annotations

import bisect
import secrets
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .. import __version__
from ..sqltext import fill, literal, sql_file, text_array
from .migrations import IndexBuild, Migration, Statement

# pg_advisory_xact_lock key: 'supadeploy' folded into a bigint, fixed forever.
ADVISORY_LOCK_KEY = 7310868521530181632
ADVISORY_CLASSID = ADVISORY_LOCK_KEY >> 32  # how pg_locks shows a bigint key
ADVISORY_OBJID = ADVISORY_LOCK_KEY & 0xFFFFFFFF
TOOL = f"supadeploy {__version__}"

# SQLSTATEs supadeploy raises itself.
ALREADY_APPLIED = "SD001"  # the guard: another deploy applied it first
ROLLED_BACK_ON_PURPOSE = "SD002"  # a dry run: DETAIL carries the result
GATE_FAILED = "SD003"  # the assertions failed before COMMIT: DETAIL carries the result
CHANGED_SINCE = "SD004"  # a non-transactional file's progress was recorded for other content
CLAIMED = "SD005"  # another deploy is applying that file right now
INVALID_INDEX = "SD006"  # an index the file built is INVALID
DEPLOY_LOCK_WAIT = "SD007"  # the deploy lock was not granted within --lock-wait: DETAIL lists who held it

CLI_COLUMNS = ("statements", "name")  # what the Supabase CLI adds to its history table


@dataclass(frozen=True)
class Bookkeeping:
    """What a deploy writes besides the migrations: the CLI's history columns (those the table has, when
    it is another role's and cannot be altered) and supadeploy's side tables (when they could be created)."""

    columns: tuple[str, ...] = CLI_COLUMNS
    own_tables: bool = True


EVERYTHING = Bookkeeping()
CURSOR = "supabase_migrations.supadeploy_cursor"
PACK_TABLE = "pg_temp.supadeploy_pack"  # a pack's per-file results, committed with each file

# File mode packs consecutive files into one request (deploy_pack) up to these limits. The Management API
# publishes no body limit; Supabase's SQL editor refuses about 1 MB and postgres-meta's body limit is 3 MB:
# half a megabyte keeps a pack well inside both, and 50 files keep a failed pack's story short.
PACK_LIMIT_BYTES = 512 * 1024
PACK_LIMIT_FILES = 50
TERMINATOR = "\n;\n"  # after each user statement, on its own line: a statement may end in a line comment

# RESET ALL leaves the role alone, hence the first two.
SESSION_RESET = "SET SESSION AUTHORIZATION DEFAULT;\nRESET ROLE;\nRESET ALL;\n"

# Waiting on an advisory lock does not process catalog invalidations, so after it the session could
# still believe (from a cached negative lookup) that the history schema the previous deploy just committed
# is absent, and CREATE ... IF NOT EXISTS would collide. Reading pg_namespace takes a relation lock, which
# processes pending invalidations first.
AFTER_LOCK = "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'supabase_migrations';\n"

_PACKAGE = "supadeploy.engine"
READ_HISTORY = sql_file(_PACKAGE, "sql/read_history.sql")
LOCK_HOLDERS = sql_file(_PACKAGE, "sql/lock_holders.sql")
DEPLOY_LOCK_HOLDERS = fill(sql_file(_PACKAGE, "sql/deploy_lock_holders.sql"), CLASSID=str(ADVISORY_CLASSID),
                           OBJID=str(ADVISORY_OBJID))
SIDE_TABLES = sql_file(_PACKAGE, "sql/side_tables.sql")
CLAIM = sql_file(_PACKAGE, "sql/claim.sql")
INDEX_STATE = sql_file(_PACKAGE, "sql/index_state.sql")

ROLL_BACK_WITH_RESULT = f"""\
DO $sd_dry_run$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '{ROLLED_BACK_ON_PURPOSE}',
    MESSAGE = 'supadeploy: dry run, rolled back on purpose',
    DETAIL = pg_catalog.current_setting('supadeploy.result');
END
$sd_dry_run$;
"""


def deploy_lock(lock_wait: str, session: bool = False) -> str:
    """Queue for supadeploy's deploy lock (for the transaction, or with `session` for the session) at most
    `lock_wait`. Giving up raises DEPLOY_LOCK_WAIT with the sessions holding the lock at that instant in
    DETAIL: a wait for another deploy is told apart from any lock a statement waits for, and who held it is
    read when it mattered, not after."""
    function = "pg_advisory_lock" if session else "pg_advisory_xact_lock"
    return (f"SET {'' if session else 'LOCAL '}lock_timeout = {literal(lock_wait)};\n"
            f"DO $sd_lock$\nBEGIN\n  PERFORM pg_catalog.{function}({ADVISORY_LOCK_KEY});\n"
            "EXCEPTION WHEN lock_not_available THEN\n"
            f"  RAISE EXCEPTION USING ERRCODE = '{DEPLOY_LOCK_WAIT}',\n"
            "    MESSAGE = 'supadeploy: the deploy lock was not granted within --lock-wait',\n"
            f"    DETAIL = {DEPLOY_LOCK_HOLDERS}::text;\nEND\n$sd_lock$;\n")


# --- what other families place into a deploy transaction ---------------------------

class Tracer(Protocol):
    """SQL placed around each statement of a transaction to record what it did (lock safety)."""

    def setup(self, batch: list[Migration], carried: bool) -> str:
        """Once per transaction, before the first migration."""

    def begin(self, migration: Migration, carried: bool) -> str:
        """As each migration starts."""

    def step(self, migration_index: int, statement_index: int, statement: Statement) -> str:
        """After each statement ('' when there is nothing to record)."""

    def result(self) -> str:
        """A jsonb expression: everything recorded, read before the transaction ends."""


class Probe(Protocol):
    """SQL placed at the end of each transaction, after its migrations and history rows, before its result is
    read (so before COMMIT, the gate, or a dry run's deliberate rollback). A NOTIFY placed there is delivered
    only if the transaction commits; a catalog read sees the database as the transaction left it."""

    def finish(self, batch: list[Migration]) -> str:
        """SQL to run there ('' for none)."""

    def result(self, batch: list[Migration]) -> str | None:
        """A jsonb expression read into the answer (Hooks.probed), or None."""


@dataclass(frozen=True)
class Gate:
    """Checks run inside the deploy transaction before COMMIT; any failure rolls everything back."""

    setup: str  # SQL that prepares `results` (e.g. creates a pg_temp function)
    results: str  # a jsonb expression: the checks' results
    failed: str  # a jsonpath, after `$.gate`, that matches when a result failed, e.g. `[*] ? (@.passed == false)`
    teardown: str  # SQL that removes what `setup` made


# --- reading history ----------------------------------------------------------

def lock_holders(tables: list[str]) -> str:
    """A jsonb expression: who holds a lock on one of `tables` (quoted names), in a transaction."""
    return fill(LOCK_HOLDERS, TABLES=text_array(tables))


def read_history(sizes: list[str] | None = None, extra: str | None = None, blockers: list[str] | None = None,
                 reset: bool = True) -> str:
    """History rows, which side tables exist, the sizes of the `sizes` tables, the sessions holding locks on
    the `blockers` tables, and `extra` (a jsonb expression): one request."""
    more = f" || {extra}" if extra else ""
    if blockers:
        more += f" || pg_catalog.jsonb_build_object('blockers', {lock_holders(blockers)})"
    return ((SESSION_RESET if reset else "") + READ_HISTORY
            + f"SELECT pg_temp.supadeploy_read_history({text_array(sizes or [])}){more} AS result;\n"
            + "DROP FUNCTION pg_temp.supadeploy_read_history(text[]);\n")


def history_tables(columns: tuple[str, ...] | None, *, schema: bool = False) -> str:
    """What creates the history table (as the CLI does) and supadeploy's side tables.

    `columns` are the history table's columns as read: those that exist are not altered again, so no ACCESS
    EXCLUSIVE lock is taken on a table that is already right (nor is the table created again: that needs
    CREATE on a schema another tool may own). With None (a dry run's own rolled-back transaction) everything
    is created with IF NOT EXISTS. `schema`: supabase_migrations exists (not created again, for the same
    reason).
    """
    parts = [] if schema or columns is not None else ["CREATE SCHEMA IF NOT EXISTS supabase_migrations;\n"]
    if columns is None:
        parts.append("CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations "
                     "(version text NOT NULL PRIMARY KEY);\n")
    for column, kind in (("statements", "text[]"), ("name", "text")):
        if columns is None or column not in columns:
            parts.append(f"ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS {column} {kind};\n")
    return "".join(parts) + SIDE_TABLES


def ensure_history(columns: tuple[str, ...] | None, lock_wait: str, tag: str | None = None, *,
                   schema: bool = False) -> str:
    """A short transaction of its own (the CLI's 4 s lock timeout) that creates what is missing of the
    history tables, then reads history again. `columns`: the CLI's table's, or None when it does not exist;
    `tag`: its application_name (new_tag of the deploy)."""
    return locked("SET LOCAL lock_timeout = '4s';\n" + history_tables(columns, schema=schema)
                  + read_history(reset=False), lock_wait, tag)


# --- the deploy transaction -----------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """What every migration starts with: supadeploy's timeouts and the request's tag."""

    tag: str
    lock_timeout: str
    statement_timeout: str

    def sql(self) -> str:
        return (f"SET LOCAL application_name = {literal(self.tag)};\n"
                f"SET LOCAL lock_timeout = {literal(self.lock_timeout)};\n"
                f"SET LOCAL statement_timeout = {literal(self.statement_timeout)};\n")


def new_tag(run: str = "") -> str:
    """application_name for one request, so a request whose answer was lost can be found running. Given the
    tag of the deploy it belongs to (`run`), it starts with it: a session holding the deploy lock under a tag
    of this deploy is this deploy's own earlier attempt, whose answer was lost."""
    return f"{run}/{secrets.token_hex(4)}" if run else f"supadeploy:{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class Mark:
    """What a cursor value means: a statement about to run, or a migration's bookkeeping."""

    migration: Migration
    statement: Statement | None  # None: after the statements (session reset, history row)


@dataclass(slots=True)
class _Run:
    """Consecutive statements of one migration, each after its cursor mark (if any) and before the
    terminator: rendered when the text is read, so a seed's statements are not copied into the request."""

    migration: Migration
    first: int  # index of the first statement in the migration
    count: int
    first_mark: int  # number of the first statement's mark (0: no marks)
    head: int  # index in Script.starts of its first statement


@dataclass
class Script:
    """A transaction's text, remembering where each migration statement sits in it.

    User statements and cursor marks are kept as numbers and rendered when the text is read (`text`, or
    `pieces` for a direct connection that sends it in batches): a file of 700,000 statements costs a few
    bytes a statement here, and its text is not copied into a second, bigger string. The CLI's history row of
    a big file is sent in slices too (`HistoryInsert`)."""

    tag: str = ""
    # Cursor values of this text are base + 1 … base + len(marks); base < 2^53, so a value read back through
    # the Management API (JSON numbers are doubles in postgres-meta) is exact.
    base: int = 0
    cursor: int = 0  # the cursor sequence's OID
    parts: list[str | _Run | HistoryInsert] = field(default_factory=list)
    length: int = 0
    starts: array[int] = field(default_factory=lambda: array("q"))  # where each statement starts in the text
    _runs: list[_Run] = field(default_factory=list)
    _end_marks: dict[int, Migration] = field(default_factory=dict)  # a migration's mark after its statements
    mark_count: int = 0

    def add(self, text: str | HistoryInsert) -> None:
        if isinstance(text, HistoryInsert):
            self.parts.append(text)
            self.length += text.length
        elif text:
            self.parts.append(text)
            self.length += len(text)

    def statement(self, migration: Migration, index: int, statement: Statement) -> None:
        """A migration's statement number `index` (preceded by its cursor mark when the script has a cursor),
        then its terminator."""
        mark = self._mark()
        last = self.parts[-1] if self.parts else None
        if not (isinstance(last, _Run) and last.migration is migration and last.first + last.count == index):
            last = _Run(migration, index, 0, mark, len(self.starts))  # marks run on with the statements
            self.parts.append(last)
            self._runs.append(last)
        last.count += 1
        if mark:
            self.length += len(self._mark_sql(mark))
        self.starts.append(self.length)
        self.length += statement.end - statement.offset + len(TERMINATOR)

    def end_mark(self, migration: Migration) -> None:
        """The mark after a migration's statements (its session reset and history row)."""
        mark = self._mark()
        if mark:
            self._end_marks[mark] = migration
            self.add(self._mark_sql(mark))

    def _mark(self) -> int:
        """The next cursor mark's number (0 without a cursor)."""
        if not self.base:
            return 0
        self.mark_count += 1
        return self.mark_count

    def _mark_sql(self, number: int) -> str:
        oid = f"{self.cursor}::pg_catalog.oid"
        return (f"SELECT CASE WHEN pg_catalog.has_sequence_privilege({oid}, 'UPDATE') THEN "
                f"pg_catalog.setval({oid}::pg_catalog.regclass, {self.base + number}, true) END;\n")

    def _segments(self, part: str | _Run | HistoryInsert) -> Iterator[str]:
        """The text of one part, in segments after any of which a piece may end."""
        if isinstance(part, str):
            yield part
        elif isinstance(part, HistoryInsert):
            yield from part.segments()
        else:
            statements = part.migration.statements
            for k in range(part.count):
                statement = statements[part.first + k]
                mark = self._mark_sql(part.first_mark + k) if part.first_mark else ""
                yield mark + statement.text + TERMINATOR

    @property
    def text(self) -> str:
        return "".join(segment for part in self.parts for segment in self._segments(part))

    def pieces(self, size: int) -> Iterator[tuple[int, str]]:
        """The text in consecutive pieces of about `size` characters (more when one statement is longer), each
        made of whole statements, with where each starts in the text: what a direct connection sends, one
        piece per round trip, inside one transaction."""
        chunk: list[str] = []
        chunk_length = start = 0
        for part in self.parts:
            for segment in self._segments(part):
                chunk.append(segment)
                chunk_length += len(segment)
                if chunk_length >= size:
                    yield start, "".join(chunk)
                    start += chunk_length
                    chunk, chunk_length = [], 0
        if chunk:
            yield start, "".join(chunk)

    def locate(self, position: int) -> tuple[Migration, Statement, int] | None:
        """Migration, statement and offset inside it for a 1-based position in the text."""
        index = bisect.bisect_right(self.starts, position - 1) - 1
        if index < 0:
            return None
        run = self._runs[bisect.bisect_right(self._runs, index, key=lambda r: r.head) - 1]
        migration = run.migration
        statement = migration.statements[run.first + index - run.head]
        offset = position - 1 - self.starts[index]
        if offset > statement.end - statement.offset:
            return None
        return migration, statement, offset

    def mark_at(self, cursor: int | None) -> Mark | None:
        """The mark a cursor value read after a failure points at, if it is this text's."""
        if cursor is None or not self.base:
            return None
        number = cursor - self.base
        if not 1 <= number <= self.mark_count:
            return None
        if number in self._end_marks:
            return Mark(self._end_marks[number], None)
        run = self._runs[bisect.bisect_right(self._runs, number, key=lambda r: r.first_mark) - 1]
        return Mark(run.migration, run.migration.statements[run.first + number - run.first_mark])


def deploy_transaction(batch: list[Migration], settings: Settings, lock_wait: str, *, dry_run: bool,
                       create_history: bool, cursor: int | None, columns: tuple[str, ...] | None = None,
                       schema: bool = False, keep: Bookkeeping = EVERYTHING, gate: Gate | None = None,
                       tracer: Tracer | None = None, trace_shared: bool = True, probe: Probe | None = None) -> Script:
    """The text of one transaction applying `batch` (and the gate, if any).

    `create_history`: the history tables do not exist yet (only in a dry run: created inside it, rolled back
    with everything else). `trace_shared`: the batch really is one
    transaction, so earlier files' locks count; False in a dry run standing in for one transaction per file
    (each file judged by its own locks).
    """
    script = Script(tag=settings.tag, base=_cursor_base(cursor), cursor=cursor or 0)
    _transaction(script, batch, settings, lock_wait,
                 history=history_tables(columns, schema=schema) if create_history else "", keep=keep,
                 tracer=tracer, trace_shared=trace_shared, probe=probe)
    if gate is not None:
        script.add(_gate(gate))
    if dry_run:
        script.add(ROLL_BACK_WITH_RESULT)
    script.add("SELECT pg_catalog.current_setting('supadeploy.result')::jsonb AS result;\n")
    return script


def deploy_pack(files: list[Migration], settings: Settings, lock_wait: str, *, cursor: int | None,
                keep: Bookkeeping = EVERYTHING, tracer: Tracer | None = None, probe: Probe | None = None) -> Script:
    """One request applying several files, each in a transaction of its own (file mode, fewer round trips).

    A multi-statement text runs as one implicit transaction until a COMMIT ends it; the next statement
    starts the next one. So each file's transaction ends with COMMIT: when file k fails, files before it are
    committed and recorded, file k rolls back, and nothing after it runs (PostgreSQL skips the rest of the
    text and leaves the session idle). Each file's result is kept in a temporary table (committed with the
    file) and all are read at the end: only the last result set of a text comes back through the API.
    """
    script = Script(tag=settings.tag, base=_cursor_base(cursor), cursor=cursor or 0)
    script.add(SESSION_RESET + f"DROP TABLE IF EXISTS {PACK_TABLE};\n"
               f"CREATE TEMPORARY TABLE {PACK_TABLE.split('.')[1]} (n integer, result jsonb);\nCOMMIT;\n")
    for n, migration in enumerate(files):
        _transaction(script, [migration], settings, lock_wait, history="", keep=keep, tracer=tracer,
                     trace_shared=False,
                     probe=probe)
        script.add(f"INSERT INTO {PACK_TABLE} VALUES ({n}, "
                   "pg_catalog.current_setting('supadeploy.result')::jsonb);\nCOMMIT;\n")
    script.add(f"SELECT pg_catalog.jsonb_build_object('pack', (SELECT pg_catalog.jsonb_agg(result ORDER BY n) "
               f"FROM {PACK_TABLE})) AS result;\nDROP TABLE {PACK_TABLE};\n")
    return script


def _cursor_base(cursor: int | None) -> int:
    return (secrets.randbelow(2 ** 32) + 1) << 20 if cursor else 0


def _transaction(script: Script, batch: list[Migration], settings: Settings, lock_wait: str, *,
                 history: str, keep: Bookkeeping, tracer: Tracer | None, trace_shared: bool, probe: Probe | None) -> None:
    """One transaction's text up to its result (kept in the `supadeploy.result` setting); `history` creates
    the history tables first when they do not exist yet."""
    script.add(SESSION_RESET
               + f"SET LOCAL application_name = {literal(settings.tag)};\n"
               + deploy_lock(lock_wait)
               + AFTER_LOCK)
    if history:
        script.add(history)
    carried = trace_shared and len(batch) > 1  # one file alone carries nothing from earlier files
    if tracer is not None:
        script.add(tracer.setup(batch, carried))
    for m, migration in enumerate(batch):
        script.add(settings.sql())
        script.add(guard(migration.version) + start_row(migration, keep))
        if tracer is not None:
            script.add(tracer.begin(migration, carried))
        for s, statement in enumerate(migration.statements):
            script.statement(migration, s, statement)
            if tracer is not None:
                script.add(tracer.step(m, s, statement))
            if statement.resets_session:  # the file's RESET ALL took supadeploy's timeouts with it
                script.add(settings.sql())
        script.end_mark(migration)
        script.add(SESSION_RESET + settings.sql())
        script.add(HistoryInsert(migration, keep))
    versions = text_array([m.version for m in batch])
    probed = probe.result(batch) if probe is not None else None
    if probe is not None:
        script.add(probe.finish(batch))
    durations = ("(SELECT pg_catalog.jsonb_object_agg(version, duration_ms) FROM supabase_migrations.supadeploy_log "
                 f"WHERE version = ANY ({versions}))" if keep.own_tables else "'{}'::jsonb")
    script.add(
        f"SELECT pg_catalog.set_config('supadeploy.result', pg_catalog.jsonb_build_object('applied', {durations}, "
        "'tables', (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public')"
        + (f", 'trace', {tracer.result()}" if tracer is not None else "")
        + (f", 'probe', {probed}" if probed is not None else "") +
        ")::text, true);\n")


def _gate(gate: Gate) -> str:
    """Inside a deploy transaction: run the checks; any failure aborts it (GATE_FAILED, results in DETAIL)."""
    return (gate.setup
            + "SELECT pg_catalog.set_config('supadeploy.result', (pg_catalog.current_setting('supadeploy.result')"
              f"::jsonb || pg_catalog.jsonb_build_object('gate', {gate.results}))::text, true);\n"
            + gate.teardown
            + f"""DO $sd_gate$
BEGIN
  IF pg_catalog.jsonb_path_exists(pg_catalog.current_setting('supadeploy.result')::jsonb,
                                  {literal('$.gate' + gate.failed)}) THEN
    RAISE EXCEPTION USING ERRCODE = '{GATE_FAILED}',
      MESSAGE = 'supadeploy: assertions failed, the deploy was rolled back',
      DETAIL = pg_catalog.current_setting('supadeploy.result');
  END IF;
END
$sd_gate$;
""")


def guard(version: str) -> str:
    """Under the lock: stop (changing nothing) if another deploy applied this version first."""
    assert version.isdigit()  # the file name rule: safe inside the DO body
    return (
        "DO $sd_guard$\nBEGIN\n"
        f"  IF EXISTS (SELECT 1 FROM supabase_migrations.schema_migrations WHERE version = '{version}') THEN\n"
        f"    RAISE EXCEPTION USING ERRCODE = '{ALREADY_APPLIED}',\n"
        f"      MESSAGE = 'supadeploy: migration {version} was applied by another deploy';\n"
        "  END IF;\nEND\n$sd_guard$;\n"
    )


def start_row(migration: Migration, keep: Bookkeeping = EVERYTHING) -> str:
    """supadeploy's log row, written when a migration starts: its start time lives in a table, not a setting."""
    if not keep.own_tables:
        return ""
    return (
        "INSERT INTO supabase_migrations.supadeploy_log (version, applied_at, duration_ms, fingerprint, tool) "
        f"VALUES ({literal(migration.version)}, pg_catalog.clock_timestamp(), NULL, "
        f"{literal(migration.fingerprint)}, {literal(TOOL)}) "
        "ON CONFLICT (version) DO UPDATE SET applied_at = excluded.applied_at, duration_ms = NULL, "
        "fingerprint = excluded.fingerprint, tool = excluded.tool;\n")


def history_row(migration: Migration, keep: Bookkeeping = EVERYTHING) -> str:
    """The CLI's INSERT (version, name, statements: those of its columns the table has), and the duration on
    supadeploy's log row."""
    return "".join(HistoryInsert(migration, keep).segments())


HISTORY_INLINE = 1 << 20  # characters of statements up to which a history row is one INSERT of one literal
HISTORY_SLICE = 1 << 18  # characters of statements per INSERT when a big file's row is built on the server
HISTORY_TABLE = "supadeploy_history"  # a temporary table, created and dropped around one history row


class HistoryInsert:
    """The CLI's history row of one migration, and the duration on supadeploy's log row.

    A file of up to HISTORY_INLINE characters of statements gets the one INSERT of an array literal the row
    always had. A bigger one's statements go in slices (separate INSERTs, so a direct connection's piece can
    end between them) into a temporary table, and one INSERT … SELECT array_agg makes the same row on the
    server: the client never holds the whole row as one string."""

    def __init__(self, migration: Migration, keep: Bookkeeping) -> None:
        self.migration = migration
        self.keep = keep
        self.length = sum(len(segment) for segment in self.segments())

    def segments(self) -> Iterator[str]:
        """The SQL, in segments after any of which a piece may end."""
        migration, keep = self.migration, self.keep
        version = literal(migration.version)
        columns = ["version", *(c for c in ("name", "statements") if c in keep.columns)]
        values = {"version": version, "name": literal(migration.name)}
        insert = f"INSERT INTO supabase_migrations.schema_migrations ({', '.join(columns)}) "
        statements = migration.history_statements
        spans = migration.history_spans
        size = sum(spans[i + 1] - spans[i] for i in range(0, len(spans), 2))
        if "statements" not in columns or size <= HISTORY_INLINE:
            values["statements"] = text_array(list(statements))
            yield insert + f"VALUES ({', '.join(values[c] for c in columns)});\n"
        else:
            yield f"CREATE TEMPORARY TABLE {HISTORY_TABLE} (n integer PRIMARY KEY, statement text NOT NULL);\n"
            yield from _slices(statements)
            values["statements"] = "pg_catalog.array_agg(statement ORDER BY n)"
            yield (insert + f"SELECT {', '.join(values[c] for c in columns)} FROM pg_temp.{HISTORY_TABLE};\n"
                   f"DROP TABLE pg_temp.{HISTORY_TABLE};\n")
        if keep.own_tables:
            yield ("UPDATE supabase_migrations.supadeploy_log SET "
                   "duration_ms = (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - applied_at) * 1000)"
                   f"::integer, applied_at = pg_catalog.clock_timestamp() WHERE version = {version};\n")


def _slices(statements: Sequence[str]) -> Iterator[str]:
    """INSERTs of (number, statement) rows into the history row's temporary table, about HISTORY_SLICE
    characters of statements each."""
    rows: list[str] = []
    size = 0
    for n, statement in enumerate(statements, start=1):
        rows.append(f"({n}, {literal(statement)})")
        size += len(statement)
        if size >= HISTORY_SLICE:
            yield f"INSERT INTO pg_temp.{HISTORY_TABLE} (n, statement) VALUES {', '.join(rows)};\n"
            rows, size = [], 0
    if rows:
        yield f"INSERT INTO pg_temp.{HISTORY_TABLE} (n, statement) VALUES {', '.join(rows)};\n"


def undo_history(*, schema: bool, table: bool, columns: tuple[str, ...], log: bool, progress: bool, cursor: bool,
                 lock_wait: str) -> str:
    """Under the deploy lock, drop what ensure_history created (the arguments say what existed before it), as
    long as nothing was written to it since: a first deploy that committed nothing leaves nothing behind."""
    drops: list[str] = []
    if not schema:
        drops.append("DROP SCHEMA supabase_migrations CASCADE")
    else:
        if not table:
            drops.append("DROP TABLE supabase_migrations.schema_migrations")
        else:
            drops += [f"ALTER TABLE supabase_migrations.schema_migrations DROP COLUMN {column}"
                      for column in CLI_COLUMNS if column not in columns]
        drops += [f"DROP {kind} supabase_migrations.{name}" for kind, name, there in (
            ("TABLE", "supadeploy_log", log), ("TABLE", "supadeploy_progress", progress),
            ("SEQUENCE", "supadeploy_cursor", cursor)) if not there]
    unused = " AND ".join(f"NOT EXISTS (SELECT FROM supabase_migrations.{table})" for table in (
        "schema_migrations", "supadeploy_log", "supadeploy_progress"))
    body = "".join(f"    EXECUTE {literal(drop)};\n" for drop in drops)
    return locked(f"DO $sd_undo$\nBEGIN\n  IF {unused} THEN\n{body}  END IF;\nEND\n$sd_undo$;\n", lock_wait)


def locked(body: str, lock_wait: str, tag: str | None = None) -> str:
    """A short transaction of supadeploy's own under the deploy lock (history tables, progress rows)."""
    return (SESSION_RESET
            + (f"SET LOCAL application_name = {literal(tag)};\n" if tag else "")
            + deploy_lock(lock_wait)
            + AFTER_LOCK + body)


# --- after a lost answer or a failure --------------------------------------------

def settle(tag: str) -> str:
    """History, and whether a request with this tag is still running: one read."""
    running = ("pg_catalog.jsonb_build_object('running', (SELECT count(*) FROM pg_catalog.pg_stat_activity "
               f"WHERE application_name = {literal(tag)} AND pid <> pg_catalog.pg_backend_pid()))")
    return read_history(extra=running)


def diagnose(tables: list[str]) -> str:
    """After a failure without a position: the cursor, who holds locks on `tables`, who holds the deploy lock."""
    cursor = (f"CASE WHEN pg_catalog.to_regclass({literal(CURSOR)}) IS NOT NULL THEN "
              f"pg_catalog.pg_sequence_last_value(pg_catalog.to_regclass({literal(CURSOR)})) END")
    return (SESSION_RESET + f"SELECT pg_catalog.jsonb_build_object('cursor', {cursor}, "
            f"'holders', {lock_holders(tables)}, 'advisory', {DEPLOY_LOCK_HOLDERS}) AS result;\n")


# --- non-transactional files --------------------------------------------------------

def session_lock(lock_wait: str) -> str:
    """Hold the deploy lock for a whole file on a direct connection (its session lasts)."""
    return SESSION_RESET + deploy_lock(lock_wait, session=True)


def session_unlock() -> str:
    return f"SELECT pg_catalog.pg_advisory_unlock({ADVISORY_LOCK_KEY});\n" + SESSION_RESET


def session_timeouts(lock_timeout: str, statement_timeout: str) -> str:
    return (f"SET lock_timeout = {literal(lock_timeout)};\n"
            f"SET statement_timeout = {literal(statement_timeout)};\n")


def claim(migration: Migration, run_id: str, lock_wait: str, sticky_session: bool, tag: str) -> str:
    """Under the lock: not applied yet, same content as any earlier partial run; answers `done`."""
    version = literal(migration.version)
    # A claim another deploy left: on a direct connection the session lock already excludes a live one;
    # through the API a claim that has not moved for --lock-wait belongs to a deploy that was stopped.
    stale = "true" if sticky_session else \
        f"p.updated_at < pg_catalog.clock_timestamp() - {literal(lock_wait)}::interval"
    body = (guard(migration.version)
            + fill(CLAIM, VERSION=version, FINGERPRINT=literal(migration.fingerprint), RUN_ID=literal(run_id),
                   STALE=stale, CHANGED_SINCE=CHANGED_SINCE, CLAIMED=CLAIMED)
            + start_row(migration)
            + "SELECT pg_catalog.jsonb_build_object('done', (SELECT done FROM supabase_migrations.supadeploy_progress "
            f"WHERE version = {version})) AS result;\n")
    return locked(body, lock_wait, tag)


def release(migration: Migration, run_id: str, lock_wait: str) -> str:
    """Give up this deploy's claim on a file; bounded, since the row may be locked by a transaction of ours
    still running on the server (a lost answer)."""
    return (SESSION_RESET + f"SET LOCAL lock_timeout = {literal(lock_wait)};\n"
            "UPDATE supabase_migrations.supadeploy_progress SET run_id = '' WHERE version = "
            f"{literal(migration.version)} AND run_id = {literal(run_id)};\n")


def progress(migration: Migration, done: int) -> str:
    return (SESSION_RESET + f"UPDATE supabase_migrations.supadeploy_progress SET done = {int(done)}, "
            f"updated_at = pg_catalog.clock_timestamp() WHERE version = {literal(migration.version)};\n")


def index_state(build: IndexBuild) -> str:
    named = (f"(SELECT pg_catalog.jsonb_build_object('valid', x.indisvalid) FROM pg_catalog.pg_class i "
             "JOIN pg_catalog.pg_index x ON x.indexrelid = i.oid "
             f"WHERE i.relname = {literal(build.name)} AND i.relnamespace = t.relnamespace)" if build.name else "NULL")
    return SESSION_RESET + fill(INDEX_STATE, NAMED=named, TABLE=literal(build.qualified_table))


def drop_index(build: IndexBuild) -> str:
    return f"DROP INDEX CONCURRENTLY IF EXISTS {build.qualified_name}"


def finish(migration: Migration, lock_wait: str, tag: str, keep: Bookkeeping) -> str:
    """History row only after the last statement, and never over an INVALID index the file built."""
    checks = "".join(
        f"""
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_class i JOIN pg_catalog.pg_index x ON x.indexrelid = i.oid
             WHERE i.relname = {literal(b.name)} AND NOT x.indisvalid
               AND i.relnamespace = (SELECT relnamespace FROM pg_catalog.pg_class
                                     WHERE oid = pg_catalog.to_regclass({literal(b.qualified_table)}))) THEN
    RAISE EXCEPTION USING ERRCODE = '{INVALID_INDEX}', MESSAGE = {literal(b.name)};
  END IF;""" for b in migration.index_builds if b.name)
    body = guard(migration.version)
    if checks:
        body += f"DO $sd_valid$\nBEGIN{checks}\nEND\n$sd_valid$;\n"
    body += (history_row(migration, keep)
             + f"DELETE FROM supabase_migrations.supadeploy_progress WHERE version = {literal(migration.version)};\n")
    return locked(body, lock_wait, tag)
