"""Non-transactional migrations: statement by statement, outside a transaction, resumable.

A file whose first lines carry a directive (migrations.NON_TRANSACTIONAL_DIRECTIVES) is applied one
statement per request, with nothing else in the request's text (PostgreSQL runs a multi-statement text as
one implicit transaction, where `CREATE INDEX CONCURRENTLY` fails with 25001). Each statement commits on its
own, so:

- after each statement a progress row records how far the file got; a later deploy resumes at the first
  statement that did not run, and refuses if the file changed in between;
- the history row is written only after the last statement succeeded;
- a `CREATE INDEX CONCURRENTLY` that failed leaves an INVALID index behind: it is found before the statement
  runs again and dropped (`DROP INDEX CONCURRENTLY`) so the build starts clean, and success is never
  reported while an index the file built is INVALID.

On a direct connection (`sticky_session`) the whole file runs under a session-level advisory lock, with
supadeploy's lock and statement timeouts set for the session. Through the Management API each request may
land on another pooled session, so neither can be held: another deploy's claim on the file is honoured
instead, and the platform's own limits apply.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import Interrupted, MigrationFailed, OutcomeUnknown, OutcomeUnknownError, PlanRefused
from ..model import MigrationStatus, Problem, SqlError
from ..targets.base import QueryError, single_json
from . import requests
from .blockers import deploy_lock_refused
from .failure import sql_message
from .migrations import IndexBuild, Migration
from .requests import ALREADY_APPLIED, CHANGED_SINCE, CLAIMED, DEPLOY_LOCK_WAIT, INVALID_INDEX, new_tag
from .run import Replan, RunContext


def apply_non_transactional(run: RunContext, migration: Migration) -> None:
    target = run.target
    started = time.monotonic()
    locked = False
    try:
        if target.sticky_session:
            _session_lock(run)
            locked = True
        try:
            done = _claim(run, migration)
        except QueryError as error:
            if error.sqlstate == ALREADY_APPLIED:
                raise Replan(concurrent=True) from None
            if error.sqlstate == DEPLOY_LOCK_WAIT:
                raise deploy_lock_refused(error, run.options.lock_wait, run.run_id, run.attempts) from None
            raise _claim_refused(migration, error) from None
        if target.sticky_session:
            target.run(requests.session_timeouts(run.options.lock_timeout, run.options.statement_timeout),
                       safe_to_resend=True)
        try:
            for index in range(done, len(migration.statements)):
                statement = migration.statements[index]
                if statement.index_build is None or not _already_built(run, migration, statement.index_build):
                    _run_statement(run, migration, index)
                run.target.run(requests.progress(migration, index + 1), safe_to_resend=True)
            _finish(run, migration)
        except BaseException:
            _release(run, migration)  # the next deploy may resume at once
            raise
    finally:
        if locked:
            _session_unlock(run)
    run.emit(migration, MigrationStatus.APPLIED, int((time.monotonic() - started) * 1000),
             "applied outside a transaction, statement by statement")


def _session_lock(run: RunContext) -> None:
    """Hold supadeploy's advisory lock for the whole file (a direct connection keeps its session)."""
    try:
        run.target.run(requests.session_lock(run.options.lock_wait), safe_to_resend=False)
    except QueryError as error:
        if error.sqlstate == DEPLOY_LOCK_WAIT:
            raise deploy_lock_refused(error, run.options.lock_wait, run.run_id, run.attempts) from None
        raise


def _session_unlock(run: RunContext) -> None:
    try:
        run.target.run(requests.session_unlock(), safe_to_resend=True)
    except Exception:  # noqa: BLE001 - a broken connection released the lock with the session
        run.target.close()


def _claim(run: RunContext, migration: Migration) -> int:
    """Under the lock: not applied yet, same content as any earlier partial run; returns statements done."""
    tag = new_tag(run.run_id)
    run.attempts[tag] = []  # it only claims the file
    answer = single_json(run.target.run(
        requests.claim(migration, run.run_id, run.options.lock_wait, run.target.sticky_session, tag),
        safe_to_resend=True))
    done = int(answer.get("done") or 0)
    if done:
        run.hooks.waiting(f"{migration.filename}: {done} of {len(migration.statements)} statements ran in an "
                          f"earlier deploy; resuming at statement {done + 1}")
    return done


def _claim_refused(migration: Migration, error: QueryError) -> Exception:
    if error.sqlstate == CHANGED_SINCE:
        return PlanRefused(f"{migration.filename} changed after an earlier deploy ran {error.message} of its "
                           "statements outside a transaction", [Problem(
                               f"{migration.filename} was partly applied ({error.message} statement(s) ran, each "
                               "committed on its own) and has changed since; supadeploy will not guess which "
                               "statements still need to run. Restore the file as it was, or finish or undo the "
                               "partial work by hand and delete its row from supabase_migrations.supadeploy_progress",
                               file=migration.display_path, line=1, title="Changed after a partial deploy")])
    if error.sqlstate == CLAIMED:
        return PlanRefused(f"another deploy is applying {migration.filename} right now", [Problem(
            f"another deploy ({error.message}) is applying {migration.filename} outside a transaction right now; "
            "nothing was run. Deploy again when it has finished (a claim that has not moved for --lock-wait is "
            "taken over: the deploy holding it was stopped)", file=migration.display_path, line=1,
            title="Migration in progress elsewhere")])
    return MigrationFailed(f"could not start {migration.filename}: {error}")


def _release(run: RunContext, migration: Migration) -> None:
    try:
        run.target.run(requests.release(migration, run.run_id, run.options.lock_wait), safe_to_resend=True)
    except Exception:  # noqa: BLE001 - best effort: a claim older than --lock-wait is taken over anyway
        pass


def _run_statement(run: RunContext, migration: Migration, index: int) -> None:
    statement = migration.statements[index]
    run.hooks.waiting(f"{migration.filename}: statement {index + 1} of {len(migration.statements)} "
                      f"(line {statement.line})")
    try:
        run.target.run(statement.text, safe_to_resend=False)  # alone: nothing else may share its text
    except QueryError as error:
        raise _statement_failed(run, migration, index, error) from None
    except OutcomeUnknown as lost:
        raise OutcomeUnknownError(
            f"{migration.filename}: the answer to statement {index + 1} (line {statement.line}) was lost ({lost}); "
            f"whether it ran is unknown. {_ran(index)} The next deploy resumes at statement {index + 1}"
            + (" and first rebuilds the index if the build left it INVALID." if statement.index_build else ".")
        ) from None
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted during statement {index + 1} of {migration.filename} (line "
                          f"{statement.line}); it may or may not have completed. {_ran(index)} The next deploy "
                          f"resumes at statement {index + 1}.") from None


def _ran(index: int) -> str:
    return f"Statements 1–{index} ran, each committed on its own." if index else "No earlier statement of the file ran."


def _statement_failed(run: RunContext, migration: Migration, index: int, error: QueryError) -> MigrationFailed:
    statement = migration.statements[index]
    total = len(migration.statements)
    text = sql_message(error, context=False)
    text += (f"\nThis file runs outside a transaction: {_ran(index)} Statement {index + 1} failed"
             + (f"; statements {index + 2}–{total} were not run." if index + 1 < total else ".")
             + f" Running the deploy again resumes at statement {index + 1}.")
    if statement.index_build is not None:
        invalid = _index_state(run, statement.index_build).get("invalid") or []
        if invalid:
            text += (f"\nThe failed build left INVALID index(es) {', '.join(invalid)}; the next deploy drops "
                     f"and rebuilds {'it' if len(invalid) == 1 else 'them'} first (by hand: "
                     + " ".join(f"DROP INDEX CONCURRENTLY {name};" for name in invalid) + ")")
    if error.sqlstate == "55P03":
        text += f"\nHINT: a lock was not granted within lock_timeout ({run.options.lock_timeout})."
    if error.sqlstate == "57014":
        text += f"\nHINT: statement_timeout ({run.options.statement_timeout}) was reached."
    line = statement.line
    if error.position:
        line = migration.line_at(statement.offset + error.position - 1)
    sql = SqlError(error.sqlstate, error.message, error.position, None, None, error.detail, error.hint, error.context)
    problem = Problem(text, file=migration.display_path, line=line, title=f"Migration {migration.version} failed",
                      sql=sql)
    run.emit(migration, MigrationStatus.FAILED, message=problem.message)
    return MigrationFailed(str(problem), [problem])


def _index_state(run: RunContext, build: IndexBuild) -> dict[str, Any]:
    rows = run.target.run(requests.index_state(build), safe_to_resend=True)
    return dict(single_json(rows)) if rows else {}


def _already_built(run: RunContext, migration: Migration, build: IndexBuild) -> bool:
    """Before (re)building: drop an INVALID leftover of the same index; a valid one means it is done."""
    state = _index_state(run, build)
    if int(state.get("building") or 0):
        raise PlanRefused(f"an index build is running on {build.table}", [Problem(
            f"another session is building an index on {build.table} right now (pg_stat_progress_create_index); "
            "nothing was run. Deploy again when it has finished", file=migration.display_path,
            title="Index build running")])
    index = state.get("index")
    if build.name and index is not None:
        if not index.get("valid"):
            run.hooks.note(Problem(f"{migration.filename}: index {build.name} was left INVALID by an earlier failed "
                                   "build; dropping it (DROP INDEX CONCURRENTLY) and building it again",
                                   file=migration.display_path, title="Rebuilding an invalid index"))
            run.target.run(requests.drop_index(build), safe_to_resend=True)
            return False
        if not build.if_not_exists:
            run.hooks.note(Problem(f"{migration.filename}: index {build.name} already exists and is valid: an earlier "
                                   "deploy built it before it could record its progress", file=migration.display_path,
                                   title="Index already built"))
            return True
        return False
    if not build.name and state.get("invalid"):
        names = state["invalid"]
        raise PlanRefused(f"INVALID index on {build.table}", [Problem(
            f"{build.table} has INVALID index(es) {', '.join(names)}, probably left by a failed CREATE INDEX "
            "CONCURRENTLY; this statement names no index, so supadeploy cannot tell which one to rebuild. Drop it "
            f"({' '.join(f'DROP INDEX CONCURRENTLY {n};' for n in names)}) or name the index in the migration",
            file=migration.display_path, title="Invalid index")])
    return False


def _finish(run: RunContext, migration: Migration) -> None:
    """History row only after the last statement, and never over an INVALID index the file built."""
    tag = new_tag(run.run_id)
    run.attempts[tag] = [migration.version]  # it writes the history row
    try:
        run.target.run(requests.finish(migration, run.options.lock_wait, tag, run.history.writes), safe_to_resend=True)
    except QueryError as error:
        if error.sqlstate == DEPLOY_LOCK_WAIT:
            raise deploy_lock_refused(
                error, run.options.lock_wait, run.run_id, run.attempts,
                f"every statement of {migration.filename} ran (each committed on its own) but it is not recorded as "
                "applied yet; the next deploy records it without running anything again") from None
        if error.sqlstate == INVALID_INDEX:
            raise MigrationFailed(f"{migration.filename}: index {error.message} is INVALID after its build", [Problem(
                f"index {error.message} is INVALID although its statement succeeded; the migration is not recorded "
                f"as applied. Drop it (DROP INDEX CONCURRENTLY {error.message};) and deploy again",
                file=migration.display_path, title="Invalid index")]) from None
        if error.sqlstate == ALREADY_APPLIED:
            return
        raise
