"""Sequence values the assertions draw are put back: `nextval` is not rolled back, so the assertion function notes
every sequence first and restores what its own draws changed, through a database URL, through the Management
API, and inside a gated deploy (where the migration's own draws stay). A value another session drew meanwhile
is never handed out twice: that sequence is left advanced, with a warning."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg

from conftest import api_args
from supadeploy.checks.assertions.load import load_assertions
from supadeploy.checks.assertions.run import verify
from supadeploy.targets.postgres import PostgresTarget

# Every sequence's exact state, (last_value, is_called), read as the superuser: one query.
STATES = """
select format('%I.%I', n.nspname, c.relname),
       (xpath('/row/last_value/text()', x))[1]::text::bigint, (xpath('/row/is_called/text()', x))[1]::text::boolean
  from pg_class c join pg_namespace n on n.oid = c.relnamespace,
       query_to_xml(format('select last_value, is_called from %I.%I', n.nspname, c.relname), false, true, '') x
 where c.relkind = 'S' order by 1"""

SCHEMA = """
create schema ledger;
create table public.fresh (id bigint generated always as identity primary key, v int);
create table public.counted (id serial primary key, v int check (v >= 0));
insert into public.counted (v) values (1), (2);
create sequence ledger.entry_no start 1000;
create table ledger.entries (no bigint primary key default nextval('ledger.entry_no'), amount int);
insert into ledger.entries (amount) values (5);
create sequence public.tickets cache 20;
create sequence public.countdown increment -1 start 100 minvalue 1 maxvalue 100;
"""

# Draws from each: an identity never drawn from (is_called false), a serial, a sequence in another schema
# behind a default, sequences called directly (one caching 20 values per draw, one counting down); a rejected
# insert (it draws, then fails); and a failing assertion that drew.
CHECKS = """\
assertions:
  - name: fresh takes two rows
    accepts: {sql: 'insert into public.fresh (v) values (1), (2)'}
  - name: counted takes a row
    accepts: {sql: 'insert into public.counted (v) values (3)'}
  - name: counted rejects a negative v
    rejects: {sql: 'insert into public.counted (v) values (-1)', sqlstate: '23514'}
  - name: a ledger entry gets the next number
    sql: {query: 'insert into ledger.entries (amount) values (7) returning no', expect: 1001}
  - name: tickets start at one, the countdown at 100
    sql: {query: "select nextval('public.tickets') + nextval('public.countdown')", expect: 101}
  - name: counted takes a negative v (fails, after drawing)
    accepts: {sql: 'insert into public.counted (v) values (-2)'}
"""

FAILING = ["counted takes a negative v (fails, after drawing)"]


def states(db) -> dict[str, tuple[int, bool]]:
    return {name: (last, called) for name, last, called in db.query(STATES, superuser=True)}


def prepared(db, tmp_path: Path) -> Path:
    db.query(SCHEMA)
    checks = tmp_path / "checks.yml"
    checks.write_text(CHECKS)
    return checks


def next_values(db) -> tuple[int, int, int, int, int]:
    """What the application gets next: exactly what it would have got without the verify."""
    return (db.value("insert into public.fresh (v) values (9) returning id"),
            db.value("insert into public.counted (v) values (9) returning id"),
            db.value("insert into ledger.entries (amount) values (9) returning no"),
            db.value("select nextval('public.tickets')"), db.value("select nextval('public.countdown')"))


def test_verify_through_a_database_url_puts_every_sequence_back(db, run_cli, tmp_path):
    checks = prepared(db, tmp_path)
    before = states(db)
    assert before["public.fresh_id_seq"] == (1, False) and before["public.counted_id_seq"] == (2, True)
    assert before["ledger.entry_no"] == (1000, True) and before["public.tickets"] == (1, False)
    assert before["public.countdown"] == (100, False)
    result = run_cli("verify", "--db-url", db.dsn, "--assertions", checks, "--migrations-dir", tmp_path,
                     "--format", "json")
    assert result.code == 1 and result.json["failed_assertions"] == FAILING  # restored on the failing path too
    assert len(result.json["assertions"]) == 6 and result.json["round_trips"] == 1
    assert not [p for p in result.json["problems"] if p["level"] == "warning"]
    assert states(db) == before  # last_value and is_called, every sequence
    assert db.value("select count(*) from public.counted") == 2
    assert next_values(db) == (1, 3, 1001, 1, 100)


def test_verify_through_the_management_api_puts_every_sequence_back(db, twin, run_cli, tmp_path):
    checks = prepared(db, tmp_path)
    before = states(db)
    result = run_cli("verify", *api_args(twin, 30), "--assertions", checks, "--migrations-dir", tmp_path,
                     "--format", "json")
    assert result.code == 1 and result.json["failed_assertions"] == FAILING
    assert result.json["round_trips"] == twin.stats()["requests"] == 1  # still one request
    assert states(db) == before
    assert next_values(db) == (1, 3, 1001, 1, 100)


def test_the_verdicts_name_the_sequences_put_back(db, tmp_path):
    checks = prepared(db, tmp_path)
    target = PostgresTarget(db.dsn)
    try:
        found = verify(target, load_assertions(checks), None)
    finally:
        target.close()
    assert [r.name for r in found.results if not r.passed] == FAILING and found.warnings == []
    assert sorted(found.restored) == ["ledger.entry_no", "public.countdown", "public.counted_id_seq",
                                      "public.fresh_id_seq", "public.tickets"]


def test_a_sequence_the_role_cannot_read_and_update_is_skipped(db, run_cli, tmp_path):
    db.query("create sequence public.vault; revoke all on sequence public.vault from postgres, anon, authenticated, "
             "service_role; grant usage on sequence public.vault to postgres", superuser=True)
    db.query("create table public.fresh (id bigint generated always as identity primary key, v int)")
    checks = tmp_path / "checks.yml"
    checks.write_text("assertions:\n"
                      "  - name: vault draws\n    sql: {query: \"select nextval('public.vault')\", expect: 1}\n"
                      "  - name: fresh takes a row\n    accepts: {sql: 'insert into public.fresh (v) values (1)'}\n")
    before = states(db)
    result = run_cli("verify", "--db-url", db.dsn, "--assertions", checks, "--migrations-dir", tmp_path)
    assert result.code == 0, result.out
    after = states(db)
    assert after["public.vault"] == (1, True)  # usage only (nextval), no SELECT/UPDATE: left as drawn
    assert after["public.fresh_id_seq"] == before["public.fresh_id_seq"] == (1, False)


def test_a_value_another_session_drew_meanwhile_is_never_handed_out_again(db, run_cli, tmp_path):
    db.query("create table public.busy (id bigint generated always as identity primary key, v int);"
             "create table public.quiet (id bigint generated always as identity primary key, v int);"
             "insert into public.busy (v) values (1)")
    checks = tmp_path / "checks.yml"
    checks.write_text("assertions:\n"
                      "  - name: busy takes a row\n    accepts: {sql: 'insert into public.busy (v) values (2)'}\n"
                      "  - name: quiet takes a row\n    accepts: {sql: 'insert into public.quiet (v) values (2)'}\n"
                      "  - name: a slow check\n    accepts: {sql: 'select pg_sleep(3)'}\n")
    drawn: list[int] = []

    def application() -> None:  # draws from busy while the verify sleeps, after the assertion's own draw
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not conn.execute(
                    "select count(*) from pg_stat_activity where datname = current_database() "
                    "and wait_event = 'PgSleep'").fetchone()[0]:
                time.sleep(0.05)
            drawn.append(conn.execute("insert into public.busy (v) values (3) returning id").fetchone()[0])

    thread = threading.Thread(target=application)
    thread.start()
    result = run_cli("verify", "--db-url", db.dsn, "--assertions", checks, "--migrations-dir", tmp_path,
                     "--format", "json")
    thread.join()
    assert result.code == 0 and drawn == [3]  # the assertion drew 2, rolled back; the application drew 3
    warnings = [p["message"] for p in result.json["problems"] if p["level"] == "warning"]
    assert warnings == ["sequence public.busy_id_seq was also advanced by another session while the assertions "
                        "ran; left at 3 (the values the assertions drew from it stay drawn)"]
    after = states(db)
    assert after["public.busy_id_seq"] == (3, True)  # not moved back over the application's 3
    assert after["public.quiet_id_seq"] == (1, False)  # nobody else drew from this one: put back
    assert db.value("insert into public.busy (v) values (4) returning id") == 4


# --- inside a gated deploy: the migration's draws stay, the assertions' go ---------------------------

BASE = """
create schema ledger;
create table public.orders (id bigint generated by default as identity primary key, qty int check (qty > 0));
insert into public.orders (qty) values (1), (2);
create sequence public.busy_elsewhere;
"""
MORE = """
insert into public.orders (qty) values (3);
create table public.invoices (id serial primary key, n int);
create sequence ledger.batch_no;
create sequence public.untouched;
"""
GATE_CHECKS = """\
assertions:
  - name: orders take a row
    accepts: {sql: 'insert into public.orders (qty) values (4), (5)'}
  - name: invoices take a row
    accepts: {sql: 'insert into public.invoices (n) values (1)'}
  - name: a batch number
    sql: {query: "select nextval('ledger.batch_no')", expect: 1}
"""


def gated(db, run_cli, tmp_path: Path, extra: str = "", *options: str, meanwhile: str = ""):
    """000001 deployed, then 000002 in one transaction with the assertions as its gate (while another session
    holds `meanwhile` open, if given)."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "000001_base.sql").write_text(BASE)
    (migrations / "000002_more.sql").write_text(MORE)
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations, "--target-version", "000001",
                   "--no-assertions").code == 0
    checks = tmp_path / "checks.yml"
    checks.write_text(GATE_CHECKS + extra)
    with psycopg.connect(db.dsn) as other:
        if meanwhile:
            other.execute(meanwhile)
        try:
            return run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations, "--assertions", checks,
                           "--tx-mode", "all", "--format", "json", *options)
        finally:
            other.rollback()


def test_a_gated_deploy_keeps_the_migrations_draws_and_undoes_the_assertions(db, run_cli, tmp_path):
    result = gated(db, run_cli, tmp_path)
    assert result.code == 0, result.out
    assert len(result.json["assertions"]) == 3 and result.json["failed_assertions"] == []
    assert db.history()[-1] == "000002"
    after = states(db)
    assert after["public.orders_id_seq"] == (3, True)  # the migration's seed row drew 3: kept
    assert after["public.invoices_id_seq"] == (1, False)  # created in the same transaction: back to fresh
    assert after["ledger.batch_no"] == (1, False) and after["public.untouched"] == (1, False)
    assert db.value("insert into public.orders (qty) values (9) returning id") == 4
    assert db.value("insert into public.invoices (n) values (9) returning id") == 1


def test_a_failed_gate_puts_the_sequences_back_before_it_rolls_back(db, run_cli, tmp_path):
    result = gated(db, run_cli, tmp_path, "  - name: orders take a zero\n"
                                          "    accepts: {sql: 'insert into public.orders (qty) values (0)'}\n")
    assert result.code == 1 and result.json["failed_assertions"] == ["orders take a zero"]
    assert db.history() == ["000001"]
    after = states(db)
    # the rolled-back migration's own draw (3) stays, as for any rolled-back insert; the assertions' 4..6 do not
    assert after["public.orders_id_seq"] == (3, True)
    assert "public.invoices_id_seq" not in after and "ledger.batch_no" not in after


def test_a_gate_cut_short_by_the_statement_timeout_puts_the_sequences_back(db, run_cli, tmp_path):
    result = gated(db, run_cli, tmp_path, "  - name: a slow check\n    accepts: {sql: 'select pg_sleep(5)'}\n",
                   "--statement-timeout", "1s")
    assert result.code == 1 and "57014" in result.out, result.out  # canceled: held, sequences put back, raised
    assert db.history() == ["000001"]
    assert states(db)["public.orders_id_seq"] == (3, True)


def test_a_sequence_locked_by_another_session_never_fails_the_gate(db, run_cli, tmp_path):
    # another session's open transaction dropping a sequence: ACCESS EXCLUSIVE on it until it ends
    result = gated(db, run_cli, tmp_path, "", "--lock-timeout", "1s", meanwhile="drop sequence public.busy_elsewhere")
    assert result.code == 0, result.out  # the assertions ran and passed; the deploy committed
    assert db.history()[-1] == "000002" and len(result.json["assertions"]) == 3
    warnings = [p["message"] for p in result.json["problems"] if p["level"] == "warning"]
    assert len(warnings) == 1 and warnings[0].startswith("sequence values could not be noted before the assertions "
                                                         "(55P03: "), warnings
