"""The text of one deploy transaction, and where each migration statement sits in it.

A transaction travels as one text, one round trip:

    session reset                      -- whatever an earlier request left behind
    application_name, lock wait        -- the tag lets a lost request be found running
    advisory lock                      -- deploys to one database serialise here
    per migration:
      supadeploy's settings            -- timeouts: every file starts from the same clean session
      guard                            -- re-checks history under the lock; log row with the start time
      cursor mark, statement           -- per statement; the mark survives a rollback
      session reset, settings          -- nothing a file set reaches the next file or the history row
      history row
    result (and the gate, or the dry run's deliberate rollback)

supadeploy keeps no state in session settings while user SQL runs, so a file's
`RESET ALL`, `SET ROLE` or empty `search_path` cannot break its bookkeeping.
"""

from __future__ import annotations

import bisect
import secrets
from dataclasses import dataclass, field

from . import __version__
from .history import insert_row_sql, start_row_sql
from .migrations import Migration, Statement
from .locks import trace as locks_trace
from .sqltext import literal, text_array

# pg_advisory_xact_lock key: 'supadeploy' folded into a bigint, fixed forever.
ADVISORY_LOCK_KEY = 7310868521530181632
ADVISORY_CLASSID = ADVISORY_LOCK_KEY >> 32  # how pg_locks shows a bigint key
ADVISORY_OBJID = ADVISORY_LOCK_KEY & 0xFFFFFFFF
ALREADY_APPLIED = "SD001"  # raised by the guard: another deploy applied it first
ROLLED_BACK_ON_PURPOSE = "SD002"  # dry run: DETAIL carries the result
GATE_FAILED = "SD003"  # assertions failed before COMMIT: DETAIL carries the result
TOOL = f"supadeploy {__version__}"

# Every request starts here: a session a file (or anyone) changed is put back.
# RESET ALL leaves the role alone, hence the first two.
SESSION_RESET = "SET SESSION AUTHORIZATION DEFAULT;\nRESET ROLE;\nRESET ALL;\n"

# Waiting on an advisory lock does not process catalog invalidations, so after
# it the session could still believe (from a cached negative lookup) that the
# history schema the previous deploy just committed is absent, and CREATE ...
# IF NOT EXISTS would collide. Reading pg_namespace takes a relation lock, which
# processes pending invalidations first.
AFTER_LOCK = "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'supabase_migrations';\n"

CURSOR = "supabase_migrations.supadeploy_cursor"

ROLL_BACK_WITH_RESULT = f"""\
DO $sd_dry_run$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '{ROLLED_BACK_ON_PURPOSE}',
    MESSAGE = 'supadeploy: dry run, rolled back on purpose',
    DETAIL = pg_catalog.current_setting('supadeploy.result');
END
$sd_dry_run$;
"""


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


def new_tag() -> str:
    """application_name for one request, so a request whose answer was lost can be found running."""
    return f"supadeploy:{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Mark:
    """What a cursor value means: a statement about to run, or a migration's bookkeeping."""

    migration: Migration
    statement: Statement | None  # None: after the statements (session reset, history row)


@dataclass
class Script:
    """A transaction's text, remembering where each migration statement sits in it."""

    tag: str = ""
    base: int = 0  # cursor values of this text are base + 1 … base + len(marks)
    cursor: int = 0  # the cursor sequence's OID
    parts: list[str] = field(default_factory=list)
    length: int = 0
    starts: list[int] = field(default_factory=list)
    spans: list[tuple[int, Migration, Statement]] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    def add(self, text: str, migration: Migration | None = None, statement: Statement | None = None) -> None:
        if migration is not None and statement is not None:
            self.starts.append(self.length)
            self.spans.append((self.length, migration, statement))
        self.parts.append(text)
        self.length += len(text)

    def mark(self, migration: Migration, statement: Statement | None) -> None:
        """A cursor mark: a sequence value, which a rollback does not undo."""
        if not self.base:
            return
        self.marks.append(Mark(migration, statement))
        oid = f"{self.cursor}::pg_catalog.oid"
        self.add(f"SELECT CASE WHEN pg_catalog.has_sequence_privilege({oid}, 'UPDATE') THEN "
                 f"pg_catalog.setval({oid}::pg_catalog.regclass, {self.base + len(self.marks)}, true) END;\n")

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def locate(self, position: int) -> tuple[Migration, Statement, int] | None:
        """Migration, statement and offset inside it for a 1-based position in the text."""
        index = bisect.bisect_right(self.starts, position - 1) - 1
        if index < 0:
            return None
        start, migration, statement = self.spans[index]
        offset = position - 1 - start
        if offset > len(statement.text):
            return None
        return migration, statement, offset

    def mark_at(self, cursor: int | None) -> Mark | None:
        """The mark a cursor value read after a failure points at, if it is this text's."""
        if cursor is None or not self.base:
            return None
        index = cursor - self.base - 1
        return self.marks[index] if 0 <= index < len(self.marks) else None


def build_transaction(batch: list[Migration], settings: Settings, lock_wait: str, *, dry_run: bool,
                      history_setup: str | None, cursor: int | None, gate_sql: str | None = None,
                      trace: str = "") -> Script:
    """The text of one transaction applying `batch` (and the gate, if any).

    `trace`: "" (none), "shared" (the batch really is one transaction: earlier files' locks count) or
    "per-file" (a dry run standing in for one transaction per file: each file is judged by its own locks).
    """
    script = Script(tag=settings.tag, base=(secrets.randbelow(2 ** 40) + 1) << 20 if cursor else 0,
                    cursor=cursor or 0)
    script.add(SESSION_RESET
               + f"SET LOCAL application_name = {literal(settings.tag)};\n"
               + f"SET LOCAL lock_timeout = {literal(lock_wait)};\n"
               + f"SELECT pg_catalog.pg_advisory_xact_lock({ADVISORY_LOCK_KEY});\n"
               + AFTER_LOCK)
    if history_setup:  # only in a dry run: rolled back with everything else
        script.add(history_setup)
    carried = trace == "shared" and len(batch) > 1  # one file alone carries nothing from earlier files
    if trace:
        script.add(locks_trace.setup(batch, carried))
    for m, migration in enumerate(batch):
        script.add(settings.sql())
        script.add(guard_sql(migration.version) + start_row_sql(migration.version, migration.fingerprint, TOOL))
        if trace:
            script.add(locks_trace.begin(migration, carried))
        for s, statement in enumerate(migration.statements):
            script.mark(migration, statement)
            script.add(statement.text, migration, statement)
            script.add("\n;\n")  # on its own line: a statement may end in a line comment
            if trace:
                script.add(locks_trace.step(m, s, statement))
            if statement.resets_session:  # the file's RESET ALL took supadeploy's timeouts with it
                script.add(settings.sql())
        script.mark(migration, None)
        script.add(SESSION_RESET + settings.sql())
        script.add(insert_row_sql(migration.version, migration.name, migration.history_statements))
    versions = text_array([m.version for m in batch])
    script.add(
        "SELECT pg_catalog.set_config('supadeploy.result', pg_catalog.jsonb_build_object('applied', ("
        "SELECT pg_catalog.jsonb_object_agg(version, duration_ms) FROM supabase_migrations.supadeploy_log "
        f"WHERE version = ANY ({versions})), "
        "'tables', (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public')"
        + (f", 'trace', {locks_trace.RESULT}" if trace else "") +
        ")::text, true);\n")
    if gate_sql:
        script.add(gate_sql)
    if dry_run:
        script.add(ROLL_BACK_WITH_RESULT)
    script.add("SELECT pg_catalog.current_setting('supadeploy.result')::jsonb AS result;\n")
    return script


def guard_sql(version: str) -> str:
    """Under the lock: stop (changing nothing) if another deploy applied this version first."""
    assert version.isdigit()  # the file name rule: safe inside the DO body
    return (
        "DO $sd_guard$\nBEGIN\n"
        f"  IF EXISTS (SELECT 1 FROM supabase_migrations.schema_migrations WHERE version = '{version}') THEN\n"
        f"    RAISE EXCEPTION USING ERRCODE = '{ALREADY_APPLIED}',\n"
        f"      MESSAGE = 'supadeploy: migration {version} was applied by another deploy';\n"
        "  END IF;\nEND\n$sd_guard$;\n"
    )


def locked_request(body: str, lock_wait: str, tag: str | None = None) -> str:
    """A short transaction of supadeploy's own under the advisory lock (history tables, progress rows)."""
    return (SESSION_RESET
            + (f"SET LOCAL application_name = {literal(tag)};\n" if tag else "")
            + f"SET LOCAL lock_timeout = {literal(lock_wait)};\n"
            + f"SELECT pg_catalog.pg_advisory_xact_lock({ADVISORY_LOCK_KEY});\n"
            + AFTER_LOCK + body)
