"""Running assertions: every one a block of ONE PL/pgSQL function in `pg_temp`, one round trip.

Each block runs in its own sub-transaction (BEGIN ... EXCEPTION) and always ends by raising, so whatever it
did (test users, rows, role switches) is rolled back; its verdict travels in the exception's DETAIL. The
request is `CREATE FUNCTION; SELECT it; DROP it`: one round trip on every target, and the rows of its only
result set are what the Management API returns. Inside a deploy the same function is the engine's `Gate`.
Around the blocks, the function notes every sequence's value first and puts back what the assertions drew
last (sequences.py): `nextval` is the one thing a rollback does not undo.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ...engine.migrations import MigrationSet
from ...engine.requests import Gate
from ...errors import AssertionsFailed
from ...model import AssertionResult, Problem
from ...targets.base import Target, single_json
from . import sequences
from .load import KINDS, Assertion

VERDICT = "SD010"


_FUNCTION_HEAD = """\
CREATE OR REPLACE FUNCTION pg_temp.supadeploy_assert() RETURNS jsonb
LANGUAGE plpgsql AS $supadeploy_assert$
DECLARE
  results jsonb := '[]'::jsonb;
  r jsonb; row_b jsonb;
  ok boolean; msg text; obj text; bad text; v text; t text; col text; cols text; d text;
  n bigint; own bigint; other bigint; changed bigint;
  rec record;
""" + sequences.DECLARE + "BEGIN\n" + sequences.SNAPSHOT
_FUNCTION_TAIL = sequences.RESTORE + f"""\
  RETURN {sequences.RESULT};
END
$supadeploy_assert$;
"""


def compile_function(assertions: list[Assertion]) -> str:
    """The CREATE FUNCTION text holding every assertion as a rolled-back block."""
    blocks = [_FUNCTION_HEAD]
    for index, assertion in enumerate(assertions):
        body = KINDS[assertion.kind].to_sql(assertion.spec)
        blocks.append(f"""  -- [{index}] {assertion.kind}: {re.sub(r'[^ -~]', '?', assertion.name)[:80]}
  ok := NULL; msg := NULL; obj := NULL; bad := NULL;
  BEGIN{body}
    RAISE EXCEPTION USING ERRCODE = '{VERDICT}', MESSAGE = 'verdict',
      DETAIL = jsonb_build_object('passed', coalesce(ok, false), 'message', coalesce(msg, ''), 'object', obj)::text;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    IF SQLSTATE = '{VERDICT}' THEN r := d::jsonb;
    ELSE r := jsonb_build_object('passed', false, 'message', format('error %s: %s', SQLSTATE, SQLERRM), 'object', obj);
    END IF;
    results := results || jsonb_build_array(r || jsonb_build_object('index', {index}));
  END;
""")
    blocks.append(_FUNCTION_TAIL)
    return "".join(blocks)


def verify_sql(assertions: list[Assertion]) -> str:
    """One request: create, run and drop the assertion function."""
    return (compile_function(assertions)
            + "SELECT pg_temp.supadeploy_assert() AS result;\n"
            + "DROP FUNCTION pg_temp.supadeploy_assert();\n")


def gate(assertions: list[Assertion]) -> Gate:
    """The assertions inside a deploy transaction, before COMMIT: any failure rolls it back."""
    return Gate(setup=compile_function(assertions), results="pg_temp.supadeploy_assert()",
                failed=".results[*] ? (@.passed == false)", teardown="DROP FUNCTION pg_temp.supadeploy_assert();\n")


@dataclass(frozen=True)
class Verdicts:
    """What one run of the assertion function found: each assertion's result, the sequences it put back
    (`restored`), and a warning for each one it had to leave advanced (another session drew from it too, or
    it could not be put back)."""

    results: list[AssertionResult]
    warnings: list[Problem] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


@dataclass
class ObjectIndex:
    """Where each table, type and added column was created, to point failures at migrations."""

    places: dict[str, tuple[str, int]] = field(default_factory=dict)

    @classmethod
    def build(cls, migrations: MigrationSet | None) -> ObjectIndex:
        index = cls()
        if migrations is None:
            return index
        pattern = re.compile(
            r"^\s*(?:create\s+(?:table|type)\s+(?:if\s+not\s+exists\s+)?(?:public\.)?\"?(\w+)"
            r"|alter\s+table\s+(?:only\s+)?(?:public\.)?\"?(\w+)\"?\s+add\s+column\s+(?:if\s+not\s+exists\s+)?(\w+))",
            re.I)
        for migration in migrations.migrations:
            for statement in migration.statements:
                match = pattern.match(statement.text)
                if match:
                    name = (match.group(1) or match.group(2)).lower()
                    index.places.setdefault(name, (migration.display_path, statement.line))
        return index

    def find(self, name: str | None) -> tuple[str, int] | None:
        return self.places.get(name.lower()) if name else None


def results(raw: Any, assertions: list[Assertion], migrations: MigrationSet | None) -> Verdicts:
    """The verdicts (from a verify request or a gate). A failure points at the assertion that failed (what was
    expected is written there) and says where the migrations create the object it is about."""
    if isinstance(raw, str):
        raw = json.loads(raw)
    answer = raw or {}
    index = ObjectIndex.build(migrations)
    found = []
    for item in answer.get("results") or []:
        assertion = assertions[int(item["index"])]
        obj = item.get("object") or None
        message = item.get("message", "")
        if not item["passed"]:
            subject = obj or assertion.spec.get("table") or assertion.spec.get("name")
            place = index.find(subject if isinstance(subject, str) else None)
            if place is not None:
                message += f" ({subject} is created at {place[0]}:{place[1]})"
        found.append(AssertionResult(assertion.name, assertion.kind, bool(item["passed"]), message, obj,
                                     assertion.file, assertion.line))
    return Verdicts(found, sequences.left_alone(answer.get("sequences")), sequences.restored(answer.get("sequences")))


def verify(target: Target, suite: list[Assertion], migrations: MigrationSet | None) -> Verdicts:
    """One request, every assertion, nothing left behind (sequence values drawn included)."""
    return results(single_json(target.run(verify_sql(suite), safe_to_resend=True)), suite, migrations)


def raise_if_failed(found: list[AssertionResult], rolled_back: bool = False) -> None:
    failed = [Problem(f"assertion failed: {r.name}: {r.message}", file=r.file, line=r.line,
                      title=f"Assertion failed: {r.name}") for r in found if not r.passed]
    if failed:
        where = "; the deploy was rolled back: nothing was committed" if rolled_back else ""
        raise AssertionsFailed(f"{len(failed)} of {len(found)} assertion(s) failed{where}", failed)
