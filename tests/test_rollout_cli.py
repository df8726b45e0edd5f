"""`supadeploy rollout` end to end, through the CLI, on the loopback Management API twin serving a fleet: every
project its own real database, every query run by the real postgres-meta.

What the issue's "Done when" asks: a dozen projects in a canary and two waves, a table in the way in one project
of the last wave → the rollout stops as described, that project untouched, every other project fully deployed or
not started; after the fix the same command finishes, at most 2 requests per project already up to date, every
history holds each version exactly once. And: two racing rollouts, invalid fleet files refused before anything
is sent, --status, the GitHub matrix and its shards, the shard gate, Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import ALL, MIGRATIONS, REPO, TOKEN, Database, _new_database, parse_outputs
from support.signals import interruptible

WELLTRACK = REPO / "assertions" / "welltrack.yml"
IN_THE_WAY = "create table public.wt_profiles (id text primary key, note text)"
PUBLIC_TABLES = "select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public'"


class Fleet:
    """A twin serving `count` projects (refs `fleet_refs`), each with a fresh database on PostgreSQL 18."""

    def __init__(self, twin: Any, databases: dict[str, Database]) -> None:
        self.twin, self.databases = twin, databases
        self.refs = list(databases)

    @property
    def url(self) -> str:
        return str(self.twin.url)

    def requests(self) -> dict[str, int]:
        return {ref: p["requests"] for ref, p in self.twin.stats()["by_project"].items()}

    def history(self, ref: str) -> list[tuple[str, int]]:
        """Each version in the project's history with how many rows it has (exactly once: 1)."""
        database = self.databases[ref]
        if database.value("select to_regclass('supabase_migrations.schema_migrations')") is None:
            return []
        return [(v, n) for v, n in database.query(
            "select version, count(*) from supabase_migrations.schema_migrations group by 1 order by 1")]


def _fleet(clusters: Any, postgres_meta: Any, count: int) -> Iterator[Fleet]:
    from support.api_twin import ApiTwin, fleet_refs

    refs = fleet_refs(count, prefix="wt")
    databases = {ref: _new_database(clusters, "pg18") for ref in refs}
    twin = ApiTwin(databases[refs[0]].dsn, TOKEN, postgres_meta, refs[0]).start()
    for ref in refs[1:]:
        twin.add_project(ref, databases[ref].dsn)
    try:
        yield Fleet(twin, databases)
    finally:
        twin.stop()


@pytest.fixture
def fleet12(clusters, postgres_meta) -> Iterator[Fleet]:
    yield from _fleet(clusters, postgres_meta, 12)


@pytest.fixture
def fleet4(clusters, postgres_meta) -> Iterator[Fleet]:
    yield from _fleet(clusters, postgres_meta, 4)


def fleet_file(path: Path, *waves: tuple[str, int, list[str] | str], extra: str = "") -> Path:
    lines = ["waves:"]
    for name, parallel, projects in waves:
        listed = projects if isinstance(projects, str) else "[" + ", ".join(projects) + "]"
        lines += [f"  - name: {name}", f"    max_parallel: {parallel}", f"    projects: {listed}"]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def rollout_args(fleet: Fleet, path: Path, *more: Any, migrations: Path = MIGRATIONS) -> list[Any]:
    return ["rollout", "--fleet", path, "--access-token", TOKEN, "--api-url", fleet.url, "--migrations-dir",
            migrations, "--assertions", WELLTRACK, *more]


def rows_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["project"]: row for row in report["projects"]}


# --- the "Done when" ---------------------------------------------------------------------------------

def test_a_dozen_projects_stop_at_a_table_in_the_way_then_the_same_command_finishes_the_fleet(
        fleet12, run_cli, tmp_path, migrations_copy):
    refs = fleet12.refs
    canary, eu, rest = refs[0], refs[1:6], refs[6:]  # rest: `all`, the others in ref order
    broken = rest[0]
    fleet12.databases[broken].query(IN_THE_WAY)
    path = fleet_file(tmp_path / "fleet.yml", ("canary", 1, [canary]), ("eu", 4, eu), ("rest", 3, "all"))

    first = run_cli(*rollout_args(fleet12, path, "--format", "json", migrations=migrations_copy))
    assert first.code == 1, first.err
    report = first.json
    rows = rows_of(report)
    assert list(rows) == refs  # wave order, `all` by ref
    assert [rows[r]["wave"] for r in refs] == ["canary"] + ["eu"] * 5 + ["rest"] * 6
    assert [rows[r]["result"] for r in [canary, *eu]] == ["deployed"] * 6
    assert rows[broken]["result"] == "failed" and rows[broken]["failed"]
    # The table in the way is drift (made outside the migrations): refused before anything is sent.
    assert "drifted from its migrations" in rows[broken]["message"], rows[broken]["message"]
    # The broken project is untouched: nothing recorded, its table as it was.
    assert fleet12.history(broken) == []
    assert fleet12.databases[broken].value(PUBLIC_TABLES) == "wt_profiles"
    # Every other project is fully deployed or not started, and the report says which.
    for ref in refs:
        if ref == broken:
            continue
        history = fleet12.history(ref)
        if rows[ref]["result"] == "deployed":
            assert history == [(v, 1) for v in ALL], ref
            assert rows[ref]["applied"] == ALL[-1] and rows[ref]["applied_now"] == ALL
        else:
            assert rows[ref]["result"] == "not-started" and not rows[ref]["started"], rows[ref]
            assert history == [] and fleet12.requests()[ref] == 0, ref
    assert any(rows[r]["result"] == "not-started" for r in rest)  # the wave started nothing after the failure
    # One error per failure, at its file and line, plus the sentence that says where it stopped.
    errors = [p for p in report["problems"] if p["level"] == "error"]
    assert errors[0]["message"].startswith(f"rollout stopped: {broken} (rest) failed")
    assert errors[1]["message"].startswith(f"{broken} (rest): deploy refused: the database has drifted from its "
                                           "migrations (table public.wt_profiles: in production, not in migrations)")
    assert "42P07" not in json.dumps(report)  # refused before anything was sent, not failed half-way
    assert report["status"] == "failed" and report["exit_code"] == 1

    fleet12.databases[broken].query("drop table public.wt_profiles")  # the fix
    before = fleet12.requests()
    second = run_cli(*rollout_args(fleet12, path, "--format", "json", migrations=migrations_copy))
    assert second.code == 0, second.err
    rows = rows_of(second.json)
    spent = {ref: fleet12.requests()[ref] - before[ref] for ref in refs}
    for ref in refs:
        assert fleet12.history(ref) == [(v, 1) for v in ALL], ref
        if first.json["projects"][refs.index(ref)]["result"] == "deployed":
            assert rows[ref]["result"] == "up-to-date" and spent[ref] <= 2, (ref, spent[ref])
            assert rows[ref]["requests"] == spent[ref]
        else:
            assert rows[ref]["result"] == "deployed" and rows[ref]["applied_now"] == ALL
    assert second.json["round_trips"] == sum(spent.values()) + 1  # and one GET /v1/projects


def test_the_rollout_reports_to_every_channel_and_annotates_only_failures(fleet4, run_cli, tmp_path, github,
                                                                         migrations_copy):
    refs = fleet4.refs
    fleet4.databases[refs[2]].query(IN_THE_WAY)
    path = fleet_file(tmp_path / "fleet.yml", ("canary", 1, refs[:1]), ("eu", 1, refs[1:]))
    done = run_cli(*rollout_args(fleet4, path, "--junit", tmp_path / "junit.xml", "--report", tmp_path / "r.json",
                                 migrations=migrations_copy))
    assert done.code == 1
    out = done.out
    assert f"→ [1/4] {refs[0]} (canary): deploying" in out
    assert f"✓ {refs[0]} (canary): applied {len(ALL)} migration(s) in" in out
    assert f"✗ {refs[2]} (eu): failed: " in out
    assert f"::group::{refs[0]} (canary): its deploy's log" in out  # each project's own lines, never interleaved
    annotations = [line for line in out.splitlines() if line.startswith(("::error", "::warning", "::notice"))]
    assert annotations and all(line.startswith("::error") for line in annotations)
    assert any(refs[2] in line for line in annotations), annotations
    summary = (tmp_path / "gh_summary").read_text()
    assert "### Projects" in summary and f"`{refs[2]}` | eu | ❌ failed" in summary
    assert f"`{refs[3]}` | eu | not-started" in summary
    junit = (tmp_path / "junit.xml").read_text()
    assert '<testsuite name="projects" tests="4" failures="1" skipped="1">' in junit
    assert f'name="{refs[3]}"' in junit
    outputs = parse_outputs((tmp_path / "gh_output").read_text())
    assert outputs["status"] == "failed"
    assert [p["result"] for p in json.loads(outputs["report"])["projects"]] == [
        "deployed", "deployed", "failed", "not-started"]
    logged = [line for line in out.splitlines() if not line.startswith("::add-mask::")]
    assert not any(TOKEN in text for text in [*logged, summary, junit, (tmp_path / "r.json").read_text()])


# --- resume, racing, dry run ----------------------------------------------------------------------------------

def test_two_racing_rollouts_apply_each_version_exactly_once(fleet4, tmp_path):
    path = fleet_file(tmp_path / "fleet.yml", ("canary", 1, fleet4.refs[:1]), ("rest", 3, "all"))
    command = [sys.executable, "-m", "supadeploy", *map(str, rollout_args(fleet4, path, "--format", "json"))]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SUPABASE_"))}
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             cwd=tmp_path) for _ in range(2)]
    reports = []
    for proc in runs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    for ref in fleet4.refs:
        assert fleet4.history(ref) == [(v, 1) for v in ALL], ref
        applied = [v for report in reports for v in rows_of(report)[ref]["applied_now"]]
        assert sorted(applied) == ALL, (ref, applied)  # between the two, each version applied by exactly one


def test_a_dry_run_rollout_applies_nothing_and_says_what_would_be_deployed(fleet4, run_cli, tmp_path):
    path = fleet_file(tmp_path / "fleet.yml", ("all", 2, "all"))
    done = run_cli(*rollout_args(fleet4, path, "--dry-run", "--format", "json"))
    assert done.code == 0, done.err
    assert {row["result"] for row in done.json["projects"]} == {"would-deploy"}
    assert all(row["applied_now"] == ALL for row in done.json["projects"])
    assert all(fleet4.history(ref) == [] for ref in fleet4.refs)


# --- before anything is sent -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "where", "said"), [
    ("waves:\n  - name: canary\n    max-parallel: 2\n    projects: all\n", "fleet.yml:3",
     "did you mean `max_parallel`?"),
    ("waves:\n  - name: canary\n    projects: [notaref]\n", "fleet.yml:3", "'notaref' is not a project ref"),
    ("waves:\n  - name: a\n    projects: all\n  - name: b\n    projects: all\n", "fleet.yml:4",
     "only one wave may take every other project"),
])
def test_an_invalid_fleet_file_is_one_clear_error_before_anything_is_sent(fleet4, run_cli, tmp_path, text, where,
                                                                         said):
    (tmp_path / "fleet.yml").write_text(text)
    done = run_cli(*rollout_args(fleet4, tmp_path / "fleet.yml"))
    assert done.code == 2
    assert f"error: {where}: " in done.out and said in done.out
    stats = fleet4.twin.stats()
    assert stats["list_requests"] == 0 and stats["requests"] == 0


def test_a_project_the_token_cannot_see_is_refused_at_its_line_after_one_request(fleet4, run_cli, tmp_path):
    path = fleet_file(tmp_path / "fleet.yml", ("canary", 1, [fleet4.refs[0], "zzzzzzzzzzzzzzzzzzzz"]))
    done = run_cli(*rollout_args(fleet4, path))
    assert done.code == 2
    assert "fleet.yml:4: project zzzzzzzzzzzzzzzzzzzz is not visible to this access token" in done.out
    stats = fleet4.twin.stats()
    assert stats["list_requests"] == 1 and all(p["requests"] == 0 for p in stats["by_project"].values())


@pytest.mark.parametrize(("flags", "said"), [
    (["--shard", "1/2"], "--shard needs --wave"),
    (["--wave", "eu", "--from-wave", "eu"], "not both"),
    (["--github-matrix", "eu", "--wave", "eu"], "one at a time"),
    (["--wave", "us"], "has no wave 'us'; its waves: eu"),
    (["--wave", "eu", "--shard", "3"], "expected I/N"),
])
def test_flags_that_do_not_go_together_are_refused_before_anything_is_sent(fleet4, run_cli, tmp_path, flags, said):
    path = fleet_file(tmp_path / "fleet.yml", ("eu", 1, "all"))
    done = run_cli(*rollout_args(fleet4, path, *flags))
    assert done.code == 2 and said in done.out + done.err
    assert fleet4.twin.stats()["list_requests"] == 0


# --- where the fleet stands -------------------------------------------------------------------------------------

def test_status_has_one_row_per_project_from_its_own_history_at_one_request_each(fleet4, run_cli, tmp_path):
    refs = fleet4.refs
    half = ALL[len(ALL) // 2]
    deployed = run_cli("deploy", "--project-ref", refs[1], "--access-token", TOKEN, "--api-url", fleet4.url,
                       "--migrations-dir", MIGRATIONS, "--no-assertions", "--target-version", half)
    assert deployed.code == 0, deployed.err
    path = fleet_file(tmp_path / "fleet.yml", ("canary", 1, refs[:1]), ("rest", 2, "all"))
    before = fleet4.requests()
    for command in (["rollout", "--status"], ["status"]):
        done = run_cli(*command, "--fleet", path, "--access-token", TOKEN, "--api-url", fleet4.url,
                       "--migrations-dir", MIGRATIONS, "--format", "json")
        assert done.code == 0, done.err
        rows = rows_of(done.json)
        assert [(rows[r]["result"], rows[r]["applied"], rows[r]["pending"]) for r in refs] == [
            ("pending", None, len(ALL)), ("pending", half, len([v for v in ALL if v > half])),
            ("pending", None, len(ALL)), ("pending", None, len(ALL))]
        assert rows[refs[1]]["message"].startswith(f"applied {half} at ")
    after = fleet4.requests()
    assert all(after[r] - before[r] == 2 for r in refs)  # one history read per project, per command
    text = run_cli("rollout", "--status", "--fleet", path, "--access-token", TOKEN, "--api-url", fleet4.url,
                   "--migrations-dir", MIGRATIONS)
    assert "Project" in text.out and "Pending" in text.out and refs[1] in text.out and half in text.out


# --- GitHub Actions: the matrix and its shards ----------------------------------------------------------------------

def test_the_github_matrix_of_every_wave_and_its_shards_cover_the_wave_once(fleet12, run_cli, tmp_path, github):
    refs = fleet12.refs
    path = fleet_file(tmp_path / "fleet.yml", ("canary", 1, refs[:1]), ("rest", 4, "all"))
    planned = run_cli("rollout", "--fleet", path, "--access-token", TOKEN, "--api-url", fleet12.url,
                      "--migrations-dir", MIGRATIONS, "--github-matrix", "*")
    assert planned.code == 0, planned.err
    printed = json.loads(planned.out)  # stdout: the JSON only; people's lines and the runner's commands: stderr
    outputs = parse_outputs((tmp_path / "gh_output").read_text())
    waves = [json.loads(outputs[f"wave{n}"]) for n in range(1, 7)]
    assert printed["waves"] == waves[:2] and outputs["waves"] == "2"
    assert [(w["wave"], w["projects"], w["shards"], w["max_parallel"]) for w in waves] == [
        ("canary", 1, 1, 1), ("rest", 11, 4, 4)] + [("", 0, 0, 1)] * 4
    rest = waves[1]
    assert all(p["requests"] == 0 for p in fleet12.twin.stats()["by_project"].values())  # the plan job deploys nothing
    (tmp_path / "gh_output").write_text("")
    later = run_cli("rollout", "--fleet", path, "--access-token", TOKEN, "--api-url", fleet12.url,
                    "--migrations-dir", MIGRATIONS, "--github-matrix", "*", "--from-wave", "rest")
    outputs = parse_outputs((tmp_path / "gh_output").read_text())
    assert later.code == 0 and json.loads(outputs["wave2"]) == rest  # the same shards, the same digest
    assert (json.loads(outputs["wave1"])["wave"], json.loads(outputs["wave1"])["shards"]) == ("canary", 0)

    covered: list[str] = []
    for entry in rest["matrix"]["include"]:
        (tmp_path / "gh_output").write_text("")
        done = run_cli("rollout", "--fleet", path, "--access-token", TOKEN, "--api-url", fleet12.url,
                       "--migrations-dir", MIGRATIONS, "--no-assertions", "--wave", entry["wave"],
                       "--shard", entry["shard"], "--expect-digest", entry["digest"], "--format", "json")
        assert done.code == 0, done.err
        mine = [row["project"] for row in done.json["projects"]]
        assert mine == entry["projects"].split()
        covered += mine
    assert sorted(covered) == refs[1:]
    assert all(fleet12.history(r) == [(v, 1) for v in ALL] for r in refs[1:]) and fleet12.history(refs[0]) == []

    gone = rest["matrix"]["include"][0]
    fleet_file(path, ("canary", 1, refs[:1]), ("rest", 4, "all"), extra=f"exclude: [{refs[5]}]\n")
    changed = run_cli("rollout", "--fleet", path, "--access-token", TOKEN, "--api-url", fleet12.url,
                      "--migrations-dir", MIGRATIONS, "--wave", "rest", "--shard", gone["shard"],
                      "--expect-digest", gone["digest"])
    assert changed.code == 2 and "changed since its matrix was computed" in changed.out


def test_a_single_wave_matrix_goes_to_stdout_as_json(fleet4, run_cli, tmp_path):
    path = fleet_file(tmp_path / "fleet.yml", ("eu", 3, "all"))
    done = run_cli("rollout", "--fleet", path, "--access-token", TOKEN, "--api-url", fleet4.url,
                   "--migrations-dir", MIGRATIONS, "--github-matrix", "eu")
    assert done.code == 0, done.err
    matrix = json.loads(done.out)
    assert (matrix["wave"], matrix["projects"], matrix["shards"]) == ("eu", 4, 3)
    assert [e["shard"] for e in matrix["matrix"]["include"]] == ["1/3", "2/3", "3/3"]
    assert "wave eu: 4 project(s), 3 shard(s)" in done.err  # people's lines go to stderr


class _Jobs(BaseHTTPRequestHandler):
    """GitHub's jobs endpoint for one run attempt, on loopback: the jobs the test sets."""

    jobs: list[dict[str, Any]] = []
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(f"{self.path} {self.headers.get('Authorization')}")
        body = json.dumps({"total_count": len(self.jobs), "jobs": self.jobs}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def test_a_shard_starts_nothing_once_another_shard_of_its_wave_failed(fleet4, run_cli, tmp_path, github,
                                                                      monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Jobs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    github_token = "ghs_" + "x" * 36
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/app")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "2")
    path = fleet_file(tmp_path / "fleet.yml", ("eu", 2, "all"))
    _Jobs.seen = []
    try:
        _Jobs.jobs = [{"name": "rollout eu 1/2", "status": "in_progress", "conclusion": None},
                      {"name": "rollout eu 2/2", "status": "completed", "conclusion": "failure"},
                      {"name": "rollout canary 1/1", "status": "completed", "conclusion": "success"}]
        done = run_cli(*rollout_args(fleet4, path, "--wave", "eu", "--shard", "1/2", "--github-token", github_token,
                                     "--report", tmp_path / "r.json"))
        assert done.code == 1
        report = json.loads((tmp_path / "r.json").read_text())
        assert {row["result"] for row in report["projects"]} == {"not-started"}
        assert report["problems"][0]["message"].startswith("rollout stopped: rollout eu 2/2 failed")
        assert all(p["requests"] == 0 for p in fleet4.twin.stats()["by_project"].values())
        assert _Jobs.seen == [f"/repos/acme/app/actions/runs/42/attempts/2/jobs?per_page=100&page=1 "
                              f"Bearer {github_token}"]
        assert not any(github_token in line for line in done.out.splitlines() if not line.startswith("::add-mask::"))

        _Jobs.jobs[1]["conclusion"] = "success"  # the sibling passed: this shard deploys its share
        done = run_cli(*rollout_args(fleet4, path, "--wave", "eu", "--shard", "1/2", "--github-token", github_token,
                                     "--no-assertions"))
        assert done.code == 0, done.out
        assert [fleet4.history(r) != [] for r in fleet4.refs] == [True, False, True, False]
    finally:
        server.shutdown()
        server.server_close()


# --- Ctrl-C ---------------------------------------------------------------------------------------------------------

def test_ctrl_c_starts_nothing_more_and_the_running_deploys_stop_between_transactions(fleet4, tmp_path):
    path = fleet_file(tmp_path / "fleet.yml", ("eu", 2, "all"))
    command = [sys.executable, "-m", "supadeploy", *map(str, rollout_args(fleet4, path, "--report",
                                                                          tmp_path / "r.json"))]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SUPABASE_"))}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=tmp_path, preexec_fn=interruptible)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # the first project started: interrupt
        seen.append(line)
        if line.startswith("→ [1/4]"):
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=600)
    assert proc.returncode == 130, "".join(seen) + rest
    report = json.loads((tmp_path / "r.json").read_text())
    results = [row["result"] for row in report["projects"]]
    assert "not-started" in results and "deployed" not in results[2:]
    assert report["status"] == "interrupted"
    for ref, row in zip(fleet4.refs, report["projects"]):
        history = fleet4.history(ref)
        assert all(n == 1 for _, n in history)
        assert [v for v, _ in history] == row["applied_now"], (ref, row)  # what was committed is what it says


# --- the action and the workflow ----------------------------------------------------------------------------------

def test_the_action_plans_the_matrix_then_a_shard_job_deploys_its_share(fleet4, tmp_path):
    from test_action import Step

    workspace = tmp_path / "workspace"
    (workspace / "supabase").mkdir(parents=True)
    (workspace / "supabase" / "migrations").symlink_to(MIGRATIONS)
    fleet_file(workspace / "supabase" / "fleet.yml", ("canary", 1, fleet4.refs[:1]), ("rest", 2, "all"))
    step = Step(workspace, tmp_path)
    credentials = {"access_token": TOKEN, "api_url": fleet4.url}
    plan = step.run(command="rollout", github_matrix="*", **credentials)
    assert plan.code == 0, plan.log + plan.err
    waves = [json.loads(plan.outputs[f"wave{n}"]) for n in range(1, 7)]
    assert [(w["wave"], w["shards"]) for w in waves] == [("canary", 1), ("rest", 2)] + [("", 0)] * 4
    for entry in waves[1]["matrix"]["include"]:
        job = step.run(command="rollout", wave=entry["wave"], shard=entry["shard"], expect_digest=entry["digest"],
                       **credentials)
        assert job.code == 0, job.log + job.err
        assert [p["project"] for p in json.loads(job.outputs["report"])["projects"]] == entry["projects"].split()
        assert "### Projects" in job.summary_text
    assert [fleet4.history(r) != [] for r in fleet4.refs] == [False, True, True, True]
    status = step.run(command="status", fleet="supabase/fleet.yml", **credentials)
    assert status.code == 0, status.log + status.err
    assert [p["result"] for p in json.loads(status.outputs["report"])["projects"]] == ["pending"] + ["up-to-date"] * 3
    for inputs, said in (({"command": "rollout"}, "command rollout with a fleet needs 'access-token'"),
                         ({"command": "rollout", "project_ref": fleet4.refs[0], **credentials},
                          "leave 'project-ref' and 'db-url' empty")):
        refused = step.run(**inputs)
        assert refused.code == 2 and len(refused.errors) == 1 and said in refused.errors[0]


def test_the_workflow_has_a_job_per_matrix_slot_each_gated_on_the_waves_before_it():
    import yaml

    from supadeploy.commands.rollout import MATRIX_SLOTS
    from supadeploy.rollout.siblings import JOB_NAME

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "rollout.yml").read_text())
    jobs = workflow["jobs"]
    assert list(jobs) == ["plan"] + [f"wave{n}" for n in range(1, MATRIX_SLOTS + 1)]
    assert set(jobs["plan"]["outputs"]) == {f"wave{n}" for n in range(1, MATRIX_SLOTS + 1)}
    assert workflow["permissions"] == {"contents": "read", "actions": "read"}
    for n in range(1, MATRIX_SLOTS + 1):
        job = jobs[f"wave{n}"]
        assert job["needs"] == ("plan" if n == 1 else ["plan", f"wave{n - 1}"])
        assert f"fromJSON(needs.plan.outputs.wave{n}).shards > 0" in job["if"]
        assert (n == 1) or "!contains(needs.*.result, 'failure')" in job["if"]
        assert job["name"] == JOB_NAME.format(wave="${{ matrix.wave }}", shard="${{ matrix.shard }}")
        assert job["strategy"]["fail-fast"] is False
        assert job["environment"] == "${{ matrix.wave }}"
        step = job["steps"][-1]["with"]
        assert {k: step[k] for k in ("command", "wave", "shard", "expect-digest")} == {
            "command": "rollout", "wave": "${{ matrix.wave }}", "shard": "${{ matrix.shard }}",
            "expect-digest": "${{ matrix.digest }}"}


def test_a_request_the_database_refuses_fails_that_project_with_the_databases_words(fleet4, run_cli, tmp_path):
    """Not "internal error": a request the database refuses (53300, out of connections) stops the rollout like any
    failure, in PostgreSQL's words."""
    refs = fleet4.refs
    fleet4.twin.add_faults("too-many-connections", project=refs[1])  # its first request: the history read
    path = fleet_file(tmp_path / "fleet.yml", ("all", 1, "all"))
    done = run_cli(*rollout_args(fleet4, path, "--no-assertions", "--format", "json"))
    assert done.code == 1, done.err
    rows = rows_of(done.json)
    assert rows[refs[1]]["result"] == "failed" and "internal error" not in rows[refs[1]]["message"]
    assert "53300: remaining connection slots are reserved" in rows[refs[1]]["message"]
    assert [rows[r]["result"] for r in refs] == ["deployed", "failed", "not-started", "not-started"]
    assert fleet4.history(refs[1]) == []
