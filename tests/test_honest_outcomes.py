"""Honest outcomes (issue 22, items 9, 10, 11, 16): what a run says is what happened.

- A deploy that gives up waiting for another deploy says so, naming who held the lock, and puts no finding on
  a file it never ran (10).
- A deploy whose own earlier attempt (its answer lost) still holds the lock says that attempt may still commit
  and how to check, instead of blaming "another deploy" (9).
- A history schema owned by another role, with the CLI's table granted, is deployed to as it is (11).
- `verify` (and a deploy's gate) leave every sequence as they found it (16).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import REPO, api_args

ADVISORY_KEY = 7310868521530181632  # supadeploy's deploy lock
GATE_KEY = 515151  # an advisory lock the test holds: a transaction waiting for it stays open until released


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def wait_until(condition: Any, what: str, limit: float = 60.0) -> None:
    """Poll a state (never a duration): `limit` only keeps a broken test from hanging."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def deploy_lock_holder(database: Any) -> int | None:
    """The pid holding supadeploy's deploy lock, if any."""
    return database.value("select pid from pg_locks where locktype = 'advisory' and granted and objsubid = 1 "
                          "and classid = %s and objid = %s", (ADVISORY_KEY >> 32, ADVISORY_KEY & 0xFFFFFFFF))


def waiting_on_gate(database: Any) -> bool:
    return bool(database.value("select exists (select 1 from pg_locks where locktype = 'advisory' and not granted "
                               "and objid = %s)", (GATE_KEY,)))


class Gate:
    """The test's own session holding GATE_KEY: a migration that takes it waits, its transaction open."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f"select pg_advisory_lock({GATE_KEY})")

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.close()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


HELD = f"select pg_advisory_xact_lock({GATE_KEY});\n"


def problem_files(report: dict[str, Any]) -> list[Any]:
    return [p.get("file") for p in report["problems"]]


# --- 10: giving up behind another deploy is a wait, not a finding on a file --------------------------------

@pytest.mark.parametrize("mode", ["file", "all", "api", "nontx-api", "nontx-url"])
def test_giving_up_behind_another_deploy_names_it_and_no_file(pg18, twin18, run_cli, tmp_path, mode):
    files = {"000001_a.sql": "create table public.a (id int);\n", "000002_m2.sql": HELD,
             "000003_m3.sql": "create table public.c (id int);\n"}
    if mode.startswith("nontx"):  # the second deploy's next file runs outside a transaction: it queues at its claim
        files = {"000001_a.sql": files["000001_a.sql"], "000002_m2.sql": "-- supadeploy: transaction=false\n" + HELD}
    migrations = write(tmp_path / "m", files)
    target = api_args(twin18, 30) if mode.endswith("api") else ["--db-url", pg18.dsn]
    assert run_cli("deploy", *target, "--migrations-dir", migrations, "--target-version", "000001",
                   "--no-assertions").code == 0
    with Gate(pg18.dsn) as gate:
        first = subprocess.Popen([sys.executable, "-m", "supadeploy", "deploy", "--db-url", pg18.dsn,
                                  "--migrations-dir", str(migrations), "--no-assertions", "--lock-timeout", "5min"],
                                 cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: waiting_on_gate(pg18) and deploy_lock_holder(pg18) is not None,
                       "the first deploy holds the deploy lock, its transaction open")
            holder = deploy_lock_holder(pg18)
            second = run_cli("deploy", *target, "--migrations-dir", migrations, "--lock-wait", "1s",
                             "--tx-mode", "all" if mode == "all" else "file", "--no-assertions", "--format", "json")
        finally:
            gate.release()
            first.wait(60)
    assert first.returncode == 0
    report = second.json
    assert second.code == 1 and report["status"] == "failed", report
    message = report["problems"][0]["message"]
    assert message.startswith("waiting for another deploy: another deploy held supadeploy's lock on this database "
                              "for longer than --lock-wait (1s)"), message
    assert f"pid {holder}" in message and "s into its transaction" in message
    assert "Retry when it has finished, or raise --lock-wait" in message
    assert problem_files(report) == [None], "a wait for another deploy is no finding on a migration file"
    assert "55P03" not in second.out and "000002_m2.sql" not in message
    assert report["migrations"] == [] and report["applied_versions"] == []
    assert pg18.history() == [name[:6] for name in sorted(files)]  # the first deploy's work


# --- 9: this deploy's own earlier attempt is not "another deploy" ------------------------------------------

class LostAnswer:
    """A target whose first request that `matches` loses its answer: the platform queued it past the client's
    timeout and ran it later, its transaction then held open on the server (until the test releases GATE_KEY),
    and committed. An unsafe request raises OutcomeUnknown and runs once the next request (the engine's question
    of what became of it) has been answered, too late for that question to see it; a request safe to resend is
    resent by the target itself, the late copy running first. Either way the deploy's next attempt queues behind
    its own first one."""

    def __init__(self, database: Any, matches: Any, pooled: bool) -> None:
        from supadeploy.targets.postgres import PostgresTarget

        class Target(PostgresTarget):
            sticky_session = not pooled  # pooled: requests land on any session, as on the Management API

            def run(inner, sql: str, safe_to_resend: bool = False) -> Any:  # noqa: N805 - the outer self is the test's
                return self.run(inner, sql, safe_to_resend)

        self.database, self.matches = database, matches
        self.target = Target(database.dsn)
        self.late: str | None = None
        self.started = False
        self.errors: list[BaseException] = []
        self.thread: threading.Thread | None = None

    def run(self, inner: Any, sql: str, safe_to_resend: bool) -> Any:
        from supadeploy.errors import OutcomeUnknown
        from supadeploy.targets.postgres import PostgresTarget

        if self.late is None and self.matches(sql):
            self.late = sql
            if not safe_to_resend:
                raise OutcomeUnknown("no answer from the Management API (ReadTimeout) after the query was sent")
            self.start()
        rows = PostgresTarget.run(inner, sql, safe_to_resend)
        if self.late is not None and not self.started:
            self.start()
        return rows

    def start(self) -> None:
        self.started = True
        assert self.late is not None
        held = "SET LOCAL lock_timeout = 0;\n" + HELD  # open until the test says
        if "supadeploy_pack" in self.late:  # a pack: file 1's transaction stays open, the rest follows it
            first, rest = self.late.split("COMMIT;\n", 1)
            text = first + "COMMIT;\n" + rest.replace("COMMIT;\n", held + "COMMIT;\n", 1)
        else:
            text = self.late + held

        def late() -> None:
            try:
                with psycopg.connect(self.database.dsn, autocommit=True) as conn:
                    conn.execute(text.encode())
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(exc)

        self.thread = threading.Thread(target=late, daemon=True)
        self.thread.start()
        wait_until(lambda: waiting_on_gate(self.database) and deploy_lock_holder(self.database) is not None,
                   "the late attempt holds the deploy lock, its transaction open")

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join(60)
        self.target.close()


def _in(*parts: str) -> Any:
    return lambda sql: all(part in sql for part in parts)


LOST = {  # which request loses its answer, and what its late transaction applies
    "file": (_in("migration 000001 was applied", "SELECT pg_catalog.current_setting('supadeploy.result')"),
             "applying 000001", ["000001"]),
    "pack": (_in("migration 000001 was applied", "supadeploy_pack"),
             "applying 000001, 000002", ["000001", "000002"]),
    "all": (_in("migration 000002 was applied", "SELECT pg_catalog.current_setting('supadeploy.result')"),
            "applying 000001, 000002", ["000001", "000002"]),
    "history-tables": (_in("supadeploy_log (", "supadeploy_read_history", "SET LOCAL lock_timeout = '4s'"),
                       "supadeploy's own bookkeeping, no migration", []),
    "nontx-finish": (_in("migration 000002 was applied", "DELETE FROM supabase_migrations.supadeploy_progress"),
                     "applying 000002", ["000001", "000002"]),
}


@pytest.mark.parametrize("case", sorted(LOST))
def test_own_earlier_attempt_holding_the_lock_may_still_commit_and_is_said_so(pg18, run_cli, tmp_path, case):
    from supadeploy.engine.apply import deploy
    from supadeploy.engine.migrations import load_migrations
    from supadeploy.engine.plan import PlanOptions
    from supadeploy.engine.run import ApplyOptions, TxMode
    from supadeploy.errors import OutcomeUnknownError, outcome

    matches, applying, committed = LOST[case]
    second = "create table public.b (id int);\n"
    if case in ("nontx-finish", "file"):  # a file outside a transaction: the first travels alone
        second = "-- supadeploy: transaction=false\ncreate index concurrently b_idx on public.a (id);\n"
    migrations = write(tmp_path / "m", {"000001_a.sql": "create table public.a (id int);\n", "000002_b.sql": second})
    lost = LostAnswer(pg18, matches, pooled=case == "nontx-finish")
    options = ApplyOptions(tx_mode=TxMode.ALL if case == "all" else TxMode.FILE, lock_wait="1s")
    with Gate(pg18.dsn) as gate:
        try:
            with pytest.raises(OutcomeUnknownError) as raised:
                deploy(lost.target, load_migrations(migrations), PlanOptions(), options)
        finally:
            gate.release()
            lost.finish()
    assert lost.errors == []
    message = str(raised.value)
    assert outcome(raised.value).exit_code == 4  # unknown: neither "failed" nor "applied"
    assert "an earlier attempt of this deploy, whose answer was lost, still held supadeploy's lock on this " \
           "database after --lock-wait (1s)" in message, message
    assert f"It was not another deploy: that transaction ({applying}) is still open on the server and may still " \
           "commit" in message
    assert "Run `supadeploy status` once it has finished" in message
    assert "another deploy held" not in message
    # It did commit, after all: status tells the rest.
    assert pg18.history() == committed
    status = run_cli("status", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--format", "json")
    assert status.code == 0 and status.json["pending"] == [v for v in ("000001", "000002") if v not in committed]
