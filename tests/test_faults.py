"""Faults, races, kills and careless input (issue: reliability under attack).

Every outcome is told as it is: a transaction that may have committed is never
reported as not committed, a failing API is not a race, a throttle is waited
out, racers all succeed, and bad input changes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import MIGRATIONS, REPO, api_args
from support import supabase_cli

ADVISORY_KEY = 7310868521530181632


def write(directory: Path, files: dict[str, str | bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    return directory


def generated(directory: Path, count: int) -> Path:
    return write(directory, {f"{i:06d}_m{i}.sql": f"create table public.t{i} (id int primary key);\n"
                             for i in range(1, count + 1)})


def sleeping(db: Any, within: float = 60.0) -> None:
    """Wait until another session of `db` is in pg_sleep (a request's text is longer than pg_stat_activity
    keeps, so its wait event says it)."""
    deadline = time.monotonic() + within
    while db.value("select count(*) from pg_stat_activity where pid <> pg_backend_pid() "
                   "and wait_event = 'PgSleep'") == 0:
        assert time.monotonic() < deadline, f"no session slept within {within:.0f} s"
        time.sleep(0.05)


class Holder:
    """Another session holding a lock until released, as production traffic or another deploy would."""

    def __init__(self, dsn: str, sql: str) -> None:
        self.dsn, self.sql = dsn, sql
        self.holding, self.release = threading.Event(), threading.Event()
        self.pid = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.dsn) as conn:
            self.pid = conn.info.backend_pid
            conn.execute(self.sql)
            self.holding.set()
            self.release.wait(60)

    def __enter__(self) -> Holder:
        self.thread.start()
        assert self.holding.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


# --- racing deploys -------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["file", "all"])
def test_eight_racers_all_succeed_and_apply_each_migration_once(pg18, tmp_path, mode):
    migrations = generated(tmp_path / "m", 20)
    command = [sys.executable, "-m", "supadeploy", "deploy", "--db-url", pg18.dsn, "--migrations-dir", str(migrations),
               "--tx-mode", mode, "--no-assertions", "--format", "json", "--lock-wait", "60s"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
             for _ in range(8)]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [o[1][-500:] for o in outputs]
    applied = [v for out, _ in outputs for v in json.loads(out)["applied_versions"]]
    assert sorted(applied) == [f"{i:06d}" for i in range(1, 21)]  # each by exactly one racer
    assert pg18.history() == [f"{i:06d}" for i in range(1, 21)]


def test_a_racer_that_commits_between_our_history_read_and_the_history_tables_is_not_a_stall(pg18, tmp_path):
    """Another deploy creates the history tables and commits 000001 after we read history (no tables yet)
    and before our request that creates them: our plan still has 000001, its guard fires, and the re-plan
    must count that as progress (it is, against what the plan was made from), not as a stalled guard."""
    from supadeploy.engine.apply import deploy
    from supadeploy.engine.migrations import load_migrations
    from supadeploy.engine.plan import PlanOptions
    from supadeploy.engine.run import ApplyOptions
    from supadeploy.targets.postgres import PostgresTarget

    folder = generated(tmp_path / "m", 3)

    class Raced(PostgresTarget):
        def run(self, sql: str, safe_to_resend: bool = False):  # type: ignore[override]
            if self.round_trips == 1:  # our history read is done; the other deploy gets in first
                other = subprocess.run([sys.executable, "-m", "supadeploy", "deploy", "--db-url", pg18.dsn,
                                        "--migrations-dir", str(folder), "--target-version", "000001",
                                        "--no-assertions"], cwd=REPO, capture_output=True, text=True)
                assert other.returncode == 0, other.stdout + other.stderr
            return super().run(sql, safe_to_resend)

    target = Raced(pg18.dsn)
    try:
        outcome = deploy(target, load_migrations(folder), PlanOptions(), ApplyOptions())
    finally:
        target.close()
    assert [r.version for r in outcome.applied] == ["000002", "000003"]
    assert pg18.history() == ["000001", "000002", "000003"]


GATE_KEY = 424242  # an advisory lock the test holds, so a migration waits mid-transaction until released


def waiting_on_gate(database) -> bool:
    """Whether a session waits for GATE_KEY: a deploy whose transaction is open, stopped mid-migration."""
    return bool(database.value("select exists (select 1 from pg_locks where locktype = 'advisory' and not granted "
                               "and objid = %s)", (GATE_KEY,)))


def wait_until(condition, what: str, limit: float = 60.0) -> None:
    """Poll a state (never a duration): `limit` only keeps a broken test from hanging."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def waiting_for(database, table: str) -> bool:
    """Whether a session waits for a lock on `table`."""
    return bool(database.value("select exists (select 1 from pg_locks where relation = to_regclass(%s) "
                               "and not granted)", (table,)))


def test_a_running_deploy_never_blocks_readers_of_history(pg18, run_cli, tmp_path):
    """While a deploy's transaction is open (held mid-migration by a lock the test owns), `supadeploy status` and
    the Supabase CLI's `migration list` both read history: asserted by order and lock state, not by time."""
    migrations = write(tmp_path / "m", {"000001_a.sql": "create table public.a (id int);\n",
                                        "000002_held.sql": f"select pg_advisory_xact_lock({GATE_KEY});\n"})
    assert run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--target-version", "000001",
                   "--no-assertions").code == 0
    with Holder(pg18.dsn, f"select pg_advisory_lock({GATE_KEY})"):
        slow = subprocess.Popen([sys.executable, "-m", "supadeploy", "deploy", "--db-url", pg18.dsn,
                                 "--migrations-dir", str(migrations), "--no-assertions", "--lock-timeout", "5min"],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: waiting_on_gate(pg18), "the deploy's transaction reached 000002")
            status = run_cli("status", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--format", "json")
            listed = supabase_cli.migration_list(pg18.dsn, {p.name: p.read_text() for p in migrations.iterdir()},
                                                 tmp_path)
            assert status.code == 0 and listed.returncode == 0, listed.stderr
            assert status.json["pending"] == ["000002"] and "000001" in listed.stdout
            assert slow.poll() is None and waiting_on_gate(pg18), "both read while the deploy's transaction was open"
        except BaseException:
            slow.kill()
            raise
    assert slow.wait(60) == 0
    assert pg18.history() == ["000001", "000002"]


# --- the Management API failing ---------------------------------------------------------

def test_a_client_timeout_while_the_transaction_runs_is_waited_out_not_misreported(pg18, twin18, run_cli, tmp_path):
    migrations = write(tmp_path / "m", {"000001_t.sql": "create table public.busy (id int);\n",
                                        "000002_alter.sql": "alter table public.busy add column note text;\n"})
    assert run_cli("deploy", *api_args(twin18, 30), "--migrations-dir", migrations, "--target-version", "000001",
                   "--no-assertions").code == 0
    assert run_cli("drift", *api_args(twin18, 30), "--migrations-dir", migrations).code == 0  # replayed once
    with Holder(pg18.dsn, "begin; lock table public.busy in access share mode") as holder:
        threading.Timer(3.0, holder.release.set).start()  # production lets go after 3 s
        result = run_cli("deploy", *api_args(twin18, 1.0), "--migrations-dir", migrations, "--lock-timeout", "20s",
                         "--no-assertions")
    assert result.code == 0, result.out
    assert "still running on the server" in result.out
    assert pg18.history() == ["000001", "000002"]


def test_every_deploy_request_answering_503_is_reported_as_a_failing_api(pg18, twin18, run_cli, tmp_path):
    twin18.add_faults("pass", "pass", *["503", "pass"] * 5)  # history, history tables; then each deploy 503s
    result = run_cli("deploy", *api_args(twin18, 30), "--migrations-dir", generated(tmp_path / "m", 2),
                     "--no-assertions")
    assert result.code == 1
    assert "answered 503" in result.out and "(×5)" in result.out
    assert "history proved nothing had been committed" in result.out
    assert "concurrent" not in result.out
    assert pg18.history() == []


def test_connections_dropped_before_every_deploy_request_are_not_a_race(pg18, twin18, run_cli, tmp_path):
    twin18.add_faults("pass", "pass", *["drop-before", "pass"] * 5)
    result = run_cli("deploy", *api_args(twin18, 30), "--migrations-dir", generated(tmp_path / "m", 1),
                     "--no-assertions")
    assert result.code == 1 and "(×5)" in result.out and "concurrent" not in result.out
    assert pg18.history() == []


def test_six_throttles_are_waited_out_within_the_budget(pg18, twin18, run_cli, tmp_path):
    twin18.add_faults(*["429"] * 6)
    result = run_cli("deploy", *api_args(twin18, 30), "--migrations-dir", generated(tmp_path / "m", 1),
                     "--no-assertions")
    assert result.code == 0, result.out
    assert "rate limited (429 ×6): waiting" in result.out
    assert twin18.stats()["by_status"]["429"] == 6 and twin18.stats()["faults_left"] == []
    assert pg18.history() == ["000001"]


def test_sigterm_with_an_api_transaction_in_flight_says_what_became_of_it(pg18, twin18, tmp_path):
    migrations = write(tmp_path / "m", {"000001_t.sql": "create table public.busy (id int);\n",
                                        "000002_a.sql": "alter table public.busy add column a int;\n",
                                        "000003_b.sql": "create table public.b (id int);\n"})
    base = [sys.executable, "-m", "supadeploy", "deploy", *api_args(twin18, 30), "--migrations-dir", str(migrations),
            "--no-assertions", "--format", "json"]
    assert subprocess.run(base + ["--target-version", "000001"], cwd=REPO, capture_output=True).returncode == 0
    with Holder(pg18.dsn, "begin; lock table public.busy in access share mode") as holder:
        proc = subprocess.Popen(base + ["--tx-mode", "all", "--lock-timeout", "30s"], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: waiting_for(pg18, "public.busy"), "the all-mode transaction waits on the server")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        report = json.loads(out)
        # It could not be settled within the interrupt's few seconds: in doubt, said so, with the versions.
        assert report["status"] == "unknown" and proc.returncode == 4, err
        assert "000002, 000003" in err and "supadeploy status" in err
        holder.release.set()
    deadline = time.monotonic() + 10
    while pg18.history() != ["000001", "000002", "000003"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pg18.history() == ["000001", "000002", "000003"]  # it did commit, after all


# --- locks and timeouts --------------------------------------------------------------------

def test_waiting_behind_another_deploy_names_lock_wait_and_the_holder(pg18, run_cli, tmp_path):
    with Holder(pg18.dsn, f"select pg_advisory_lock({ADVISORY_KEY})") as holder:
        result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", generated(tmp_path / "m", 1),
                         "--lock-wait", "1s", "--no-assertions")
    assert result.code == 1
    assert "another deploy held supadeploy's lock on this database for longer than --lock-wait (1s)" in result.out
    assert f"pid {holder.pid}" in result.out
    assert "None" not in result.out and "lock_timeout (10s)" not in result.out


def test_a_lock_timeout_names_the_table_and_holder_and_runs_nothing_twice(pg18, run_cli, tmp_path):
    pg18.query("create sequence public.probe; create table public.busy (id int)")  # outside migrations: drift
    files = write(tmp_path / "m", {"000001_a.sql": "select nextval('public.probe');\n\n"
                                                   "alter table public.busy add column x int;\n"})
    run_cli("drift", "--db-url", pg18.dsn, "--migrations-dir", files)  # the deploy's check: replayed once
    with Holder(pg18.dsn, "begin; lock table public.busy in access share mode") as holder:
        result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", files,
                         "--lock-timeout", "1s", "--no-assertions", "--allow-drift")
    assert result.code == 1
    assert "000001_a.sql:3: 55P03" in result.out
    assert "lock_timeout (1s)" in result.out and f"pid {holder.pid} holds AccessShareLock" in result.out
    assert pg18.value("select last_value from public.probe") == 1  # located without running it again


def test_a_statement_timeout_is_located_without_running_the_file_again(pg18, run_cli, tmp_path):
    pg18.query("create sequence public.probe")  # outside migrations: drift
    files = {"000001_slow.sql": "select nextval('public.probe');\n-- slow\nselect pg_sleep(5);\n"}
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", write(tmp_path / "m", files),
                     "--statement-timeout", "1s", "--no-assertions", "--allow-drift")
    assert result.code == 1
    assert "000001_slow.sql:3: 57014" in result.out and "statement_timeout (1s)" in result.out
    assert pg18.value("select last_value from public.probe") == 1


def test_a_duration_without_a_unit_is_seconds_like_api_timeout(pg18, run_cli):
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--lock-timeout", "10",
                     "--no-assertions")
    assert result.code == 0 and "lock_timeout 10s" in result.out
    bad = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--lock-timeout", "ten")
    assert bad.code == 2 and "expected a duration such as 10s, 500ms or 5min (a bare number is seconds)" in bad.err


# --- bad input changes nothing ------------------------------------------------------------

@pytest.mark.parametrize("check", [
    "table_count: {equals: \"x\"}",
    "table_count: {equals: 1, tables: \"wt_a\"}",
    "grants: {role: anon, privileges: \"select\"}",
    "enum: {name: e, labels: \"a\"}",
    "column: {table: [a, b], name: c}",
    "rejects: {sql: \"select 1\", sqlstate: 123}",
])
def test_a_bad_assertion_file_is_refused_before_any_database_change(pg18, run_cli, tmp_path, check):
    checks = tmp_path / "checks.yml"
    checks.write_text(f"assertions:\n  - name: bad\n    {check}\n")
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--assertions", checks)
    assert result.code == 2 and "checks.yml:3" in result.out, result.out
    assert pg18.value("select to_regclass('supabase_migrations.schema_migrations')") is None


def test_an_unknown_target_version_is_bad_input_before_any_database_change(pg18, run_cli):
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--target-version", "000099")
    assert result.code == 2 and "--target-version '000099' is not the version of a migration" in result.out
    assert pg18.value("select to_regclass('supabase_migrations.schema_migrations')") is None


def test_a_line_comment_before_the_last_semicolon(pg18, run_cli, tmp_path):
    files = {"000001_a.sql": "create table public.a (id int) -- note\n;\ncreate table public.b (id int) -- last\n;"}
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions")
    assert result.code == 0, result.out
    assert pg18.value("select count(*) from pg_tables where tablename in ('a', 'b')") == 2


def test_a_carriage_return_inside_a_literal_keeps_its_meaning(pg18, run_cli, tmp_path):
    files = {"000001_a.sql": b"create table public.t (v text);\r\ninsert into public.t values ('a\r\nb');\r\n"}
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions")
    assert result.code == 0, result.out
    assert pg18.value("select encode(convert_to(v, 'UTF8'), 'hex') from public.t") == "610d0a62"


def test_entries_named_like_migrations_that_are_not_files(run_cli, tmp_path):
    migrations = write(tmp_path / "m", {"000001_a.sql": "select 1;\n"})
    (migrations / "000002_gone.sql").symlink_to(tmp_path / "nowhere.sql")
    (migrations / "000003_dir.sql").mkdir()
    os.mkfifo(migrations / "000004_pipe.sql")
    (migrations / "000005_upper.SQL").write_text("select 1;\n")
    result = run_cli("plan", "--db-url", "postgresql://x@127.0.0.1:9/x", "--migrations-dir", migrations)
    assert result.code == 2
    assert "000002_gone.sql is named like a migration but is a symbolic link to nothing (dangling)" in result.out
    assert "000003_dir.sql is named like a migration but is a directory" in result.out
    assert "000004_pipe.sql is named like a migration but is a named pipe (FIFO)" in result.out


def test_an_upper_case_extension_is_skipped_with_a_warning(pg18, run_cli, tmp_path):
    migrations = write(tmp_path / "m", {"000001_a.sql": "select 1;\n", "000002_b.SQL": "select 1;\n"})
    result = run_cli("plan", "--db-url", pg18.dsn, "--migrations-dir", migrations)
    assert result.code == 0 and "skipped 000002_b.SQL: the extension must be lower-case .sql" in result.out


def test_an_unreadable_file_is_bad_input_naming_it(run_cli, tmp_path, monkeypatch):
    migrations = write(tmp_path / "m", {"000001_a.sql": "select 1;\n"})
    original = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == "000001_a.sql":
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    result = run_cli("plan", "--db-url", "postgresql://x@127.0.0.1:9/x", "--migrations-dir", migrations)
    assert result.code == 2 and "cannot read 000001_a.sql: Permission denied" in result.out


def test_copy_from_stdin_with_inline_data_is_refused_at_its_line(run_cli, tmp_path):
    files = {"000001_data.sql": "create table public.t (a int, b text);\n\nCOPY public.t (a, b) FROM stdin;\n"
                                "1\tone\n2\ttwo\n\\.\n"}
    result = run_cli("plan", "--db-url", "postgresql://x@127.0.0.1:9/x", "--migrations-dir",
                     write(tmp_path / "m", files))
    assert result.code == 2 and "000001_data.sql:3: COPY ... FROM stdin with inline data" in result.out


def test_a_gated_deploy_that_rolled_back_counts_no_tables(db, run_cli, tmp_path):
    checks = tmp_path / "checks.yml"
    checks.write_text("assertions:\n  - name: impossible\n    table_count: {equals: 999}\n")
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--tx-mode", "all",
                     "--assertions", checks, "--format", "json")
    assert result.code == 1 and result.json["tables"] is None and db.tables() == 0


# --- kills ----------------------------------------------------------------------------------

def test_sigkill_leaves_no_server_and_no_folder_behind(tmp_path):
    import tempfile

    # Its own temp folder (other runs on the machine make folders of their own), open to the server's user.
    private = Path(tempfile.mkdtemp(prefix="sd-sigkill-"))
    private.chmod(0o755)
    migrations = write(tmp_path / "m", {"000001_slow.sql": "select pg_sleep(60);\n"})
    proc = subprocess.Popen([sys.executable, "-m", "supadeploy", "deploy", "--migrations-dir", str(migrations),
                             "--no-assertions"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "SUPADEPLOY_TMPDIR": str(private)})
    for line in proc.stdout:  # wait until the migration is running
        if "000001" in line:
            break
    folders = set(private.glob("supadeploy-pg-*"))
    assert len(folders) == 1
    folder = folders.pop()
    pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    proc.kill()
    proc.wait(10)
    deadline = time.monotonic() + 15
    while (folder.exists() or running(pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not folder.exists() and not running(pid)
    private.rmdir()  # empty: nothing was left behind


def running(pid: int) -> bool:
    """Alive and not a zombie (a sandbox's init may not reap the server it inherited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_stale_folders_of_dead_runs_are_removed_by_the_next_start(tmp_path):
    import tempfile

    from supadeploy.platform.cluster import PREFIX, remove_stale

    stale = Path(tempfile.mkdtemp(prefix=PREFIX, dir=tempfile.gettempdir()))
    (stale / "owner").write_text("999999999 0\n")  # a pid that cannot exist
    remove_stale(Path(tempfile.gettempdir()))
    assert not stale.exists()
