"""Rollout to a fleet, the core: the fleet file, the projects list, the scheduler's stop rules, GitHub
matrix shards, the shared rate-limit pacer and the status rows.

The scheduler is tested with deploy callables that block on events (no sleeps): which projects start,
finish or never start is decided by the rules alone. Everything that talks HTTP talks to the loopback
Management API twin, serving several projects, each with its own real database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import MIGRATIONS, NEWEST, TOKEN, _new_database
from supadeploy.engine.history import History, HistoryRow, Progress, read_history
from supadeploy.engine.migrations import load_migrations
from supadeploy.engine.plan import PlanOptions, make_plan
from supadeploy.errors import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNKNOWN,
    ConfigError,
    MigrationFailed,
    OutcomeUnknownError,
    TargetError,
)
from supadeploy.errors import (
    outcome as ending,
)
from supadeploy.rollout.fleet import FleetFileError, load_fleet, parse_fleet
from supadeploy.rollout.matrix import digest, github_matrix, parse_shard, select_shard, shard_of
from supadeploy.rollout.projects import (
    ManagementClient,
    Project,
    ProjectList,
    ResolvedWave,
    Skipped,
    list_projects,
    resolve,
)
from supadeploy.rollout.scheduler import ProjectJob, ProjectOutcome, ProjectResult, Result, Rollout
from supadeploy.rollout.status import State, collect_status, row_from
from supadeploy.targets.api import ApiLimits, ApiTarget
from supadeploy.targets.base import QueryError
from supadeploy.targets.pacer import Pacer, key_for, paced

REFS = [chr(ord("a") + n) * 20 for n in range(12)]  # aaaa…, bbbb…, …: valid refs, easy to read
A, B, C, D, E, F, G, H = REFS[:8]


# --- the fleet file ---------------------------------------------------------------------------------------

GOOD = f"""\
# the issue's example, and the optional keys
organization: acme
waves:
  - name: canary
    projects: [{A}]
  - name: eu
    max_parallel: 4
    projects:
      - {B}
      - {C}
  - name: rest
    max_parallel: 8
    projects: all
exclude: [{D}]
"""


def test_a_fleet_file_reads_into_waves_with_their_lines():
    fleet = parse_fleet(GOOD, "supabase/fleet.yml")
    assert [(w.name, w.max_parallel, w.all, w.line) for w in fleet.waves] == [
        ("canary", 1, False, 4), ("eu", 4, False, 6), ("rest", 8, True, 11)]
    assert [(p.ref, p.line) for p in fleet.waves[1].projects] == [(B, 9), (C, 10)]
    assert (fleet.organization, [p.ref for p in fleet.exclude]) == ("acme", [D])
    assert fleet.wave("eu").name == "eu"
    with pytest.raises(ConfigError, match="has no wave 'us'; its waves: canary, eu, rest"):
        fleet.wave("us")


def _wave(name: str, body: str) -> str:
    return f"  - name: {name}\n{body}"


BAD_FILES = [
    # (text, line of the error, what the message says)
    ("wave:\n  - name: x\n    projects: all\n", 1, "unknown key 'wave' in the fleet file (did you mean `waves`?)"),
    (f"waves:\n  - name: x\n    max-parallel: 2\n    projects: [{A}]\n", 3, "did you mean `max_parallel`?"),
    (f"waves:\n  - name: x\n    project: [{A}]\n", 3, "did you mean `projects`?"),
    (f"waves:\n  - name: x\n    projects: [{A}]\n    timeout: 3\n", 4, "unknown key 'timeout' in a wave; known: "),
    ("waves:\n  - name: x\n    projects: [abcdefghij]\n", 3, "'abcdefghij' is not a project ref"),
    (f"waves:\n  - name: x\n    projects:\n      - {A.upper()}\n", 4, "is not a project ref: expected 20 lowercase"),
    ("waves:\n  - name: x\n    projects: [12345]\n", 3, "'12345' is not a project ref"),
    (f"waves:\n  - name: x\n    projects: [{A}]\n  - name: y\n    projects: [{B}, {A}]\n", 5,
     f"project {A} is named in wave 'y' and already in wave 'x' (line 3)"),
    (f"waves:\n  - name: x\n    projects:\n      - {A}\n      - {A}\n", 5,
     f"project {A} is named twice in wave 'x' (line 4)"),
    ("waves:\n  - name: x\n    projects: []\n", 3, "wave 'x' has no projects"),
    ("waves:\n  - name: x\n    projects: all\n  - name: y\n    projects: all\n", 4,
     "wave 'y': `projects: all` is already the projects of another wave (line 2)"),
    ("waves:\n  - name: x\n    projects: [all]\n", 3, "write `projects: all`, not a list with `all`"),
    ("waves:\n  - name: x\n    projects: everything\n", 3, "projects must be a list of project refs"),
    ("waves:\n  - name: x\n    max_parallel: 0\n    projects: all\n", 3, "max_parallel is 0; it must be from 1 to 64"),
    ("waves:\n  - name: x\n    max_parallel: 65\n    projects: all\n", 3, "max_parallel is 65"),
    ("waves:\n  - name: x\n    max_parallel: four\n    projects: all\n", 3, "max_parallel must be a whole number"),
    ("waves:\n  - name: x\n    max_parallel: true\n    projects: all\n", 3, "max_parallel must be a whole number"),
    ("waves:\n  - name: x\n    max_parallel: 2.5\n    projects: all\n", 3, "max_parallel must be a whole number"),
    ("waves:\n  - projects: all\n", 2, "a wave needs a `name:`"),
    ("waves:\n  - name: x\n", 2, "wave 'x' has no `projects:`"),
    ("waves:\n  - name: eu west\n    projects: all\n", 2, "wave name 'eu west' must be 1 to 63 letters"),
    (f"waves:\n  - name: x\n    projects: all\n  - name: x\n    projects: [{A}]\n", 4,
     "wave name 'x' is used twice (first on line 2)"),
    (f"waves:\n  - name: x\n    name: y\n    projects: [{A}]\n", 3, "`name` is given twice in a wave (first on line 2)"),
    ("", 1, "the file is empty"),
    ("waves: []\n", 1, "`waves:` is empty"),
    ("waves: canary\n", 1, "`waves:` must be a list of waves"),
    ("- name: x\n", 1, "the fleet file must be a mapping"),
    ("organization: acme\n", 1, "`waves:` is missing"),
    ("waves:\n  - name: x\n    projects: [a, b\n", 4, "invalid YAML"),
    ("waves:\n\t- name: x\n", 2, "invalid YAML"),
    (f"waves:\n  - name: x\n    projects: [{A}]\nexclude: [{B}]\n", 4, "`exclude:` only narrows a wave with `projects: all`"),
    (f"waves:\n  - name: x\n    projects: [{A}]\n  - name: y\n    projects: all\nexclude: [{A}]\n", 6,
     f"project {A} is named in exclude and already in wave 'x' (line 3)"),
    ("organization: 'acme corp'\nwaves:\n  - name: x\n    projects: all\n", 1, "is not an organization slug"),
    ("base: &b {max_parallel: 2}\nwaves:\n  - <<: *b\n    name: x\n    projects: all\n", 1, "unknown key 'base'"),
    ("waves:\n  - <<: {max_parallel: 2}\n    name: x\n    projects: all\n", 2, "unknown key '<<' in a wave"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES, ids=[str(i) for i in range(len(BAD_FILES))])
def test_an_invalid_fleet_file_is_refused_at_its_line(text, line, message):
    with pytest.raises(FleetFileError) as caught:
        parse_fleet(text, "supabase/fleet.yml")
    error = caught.value
    assert ending(error).exit_code == 2
    found = [(p.line, p.message) for p in error.problems]
    assert any(at == line and message in said for at, said in found), found
    assert all(p.file == "supabase/fleet.yml" for p in error.problems)
    assert str(error).startswith("invalid fleet file: supabase/fleet.yml:")


def test_every_problem_of_a_fleet_file_is_reported_at_once_in_line_order():
    text = (f"waves:\n  - name: x\n    max_parallel: 99\n    projects: [{A}, nope]\n"
            f"  - name: y\n    projects: [{A}]\n    colour: red\n")
    with pytest.raises(FleetFileError) as caught:
        parse_fleet(text, "fleet.yml")
    assert [p.line for p in caught.value.problems] == [3, 4, 6, 7]
    assert "(and 3 more problem(s))" in str(caught.value)


def test_a_token_pasted_into_the_fleet_file_is_never_echoed():
    token = "sbp_" + "0123456789abcdef" * 2 + "01234567"
    with pytest.raises(FleetFileError) as caught:
        parse_fleet(f"waves:\n  - name: x\n    projects: [{token}]\n", "fleet.yml")
    assert token not in str(caught.value) and all(token not in p.message for p in caught.value.problems)
    assert "looks like a secret (not shown)" in caught.value.problems[0].message


def test_a_fleet_file_that_is_missing_or_not_text_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FleetFileError, match="fleet file .*nope.yml not found .*supabase/fleet.yml"):
        load_fleet(tmp_path / "nope.yml")
    binary = tmp_path / "fleet.yml"
    binary.write_bytes(b"waves:\n  - name: \xff\n")
    with pytest.raises(FleetFileError, match="not UTF-8 text"):
        load_fleet(binary)
    good = tmp_path / "good.yml"
    good.write_text(GOOD)
    assert [w.name for w in load_fleet(good, "good.yml").waves] == ["canary", "eu", "rest"]


# --- resolving the waves ----------------------------------------------------------------------------------

def _visible(*projects: tuple[str, str, str]) -> ProjectList:
    return ProjectList(tuple(Project(ref, f"p-{ref[:3]}", "eu-west-1", status, org) for ref, status, org in projects))


def test_all_is_every_other_visible_project_of_the_organization_sorted_and_paused_ones_skipped():
    fleet = parse_fleet(GOOD, "fleet.yml")
    visible = _visible((G, "ACTIVE_HEALTHY", "acme"), (A, "ACTIVE_HEALTHY", "acme"), (B, "ACTIVE_HEALTHY", "acme"),
                       (C, "ACTIVE_HEALTHY", "acme"), (D, "ACTIVE_HEALTHY", "acme"), (E, "INACTIVE", "acme"),
                       (F, "ACTIVE_UNHEALTHY", "acme"), (H, "ACTIVE_HEALTHY", "other"))
    waves, warnings = resolve(fleet, visible)
    assert [(w.name, w.refs) for w in waves] == [("canary", (A,)), ("eu", (B, C)), ("rest", (F, G))]
    assert waves[2].skipped == (Skipped(E, "project status is INACTIVE: not deployable now"),)
    assert warnings == []


def test_a_named_project_the_token_cannot_see_or_of_another_organization_is_refused_at_its_line():
    fleet = parse_fleet(GOOD, "fleet.yml")
    visible = _visible((A, "ACTIVE_HEALTHY", "acme"), (B, "ACTIVE_HEALTHY", "other"))
    with pytest.raises(FleetFileError) as caught:
        resolve(fleet, visible)
    assert [(p.line, p.message.split(":")[0]) for p in caught.value.problems] == [
        (9, f"project {B} belongs to organization other, not acme (the fleet's `organization"),
        (10, f"project {C} is not visible to this access token (GET /v1/projects)")]


def test_named_waves_resolve_without_the_projects_list_but_all_needs_it():
    fleet = parse_fleet(f"waves:\n  - name: x\n    projects: [{B}, {A}]\n", "fleet.yml")
    waves, _ = resolve(fleet, None)
    assert waves[0].refs == (B, A)  # the file's order
    with pytest.raises(ConfigError, match="the list of projects .* is needed"):
        resolve(parse_fleet(GOOD, "fleet.yml"), None)


# --- the projects list, from the twin -----------------------------------------------------------------------

@pytest.fixture
def fleet_twin(pg18, clusters, postgres_meta) -> Iterator[Any]:
    """A twin serving five projects of organization acme and one of another, each with its own database."""
    from support.api_twin import ApiTwin, fleet_refs

    refs = fleet_refs(6, prefix="acme")
    server = ApiTwin(pg18.dsn, TOKEN, postgres_meta, refs[0]).start()
    server.databases = {refs[0]: pg18}
    for n, ref in enumerate(refs[1:], 1):
        database = _new_database(clusters, "pg18")
        server.databases[ref] = database
        server.add_project(ref, database.dsn, status="INACTIVE" if n == 4 else "ACTIVE_HEALTHY",
                           organization="other" if n == 5 else "twin-org")
    server.refs = refs
    try:
        yield server
    finally:
        server.stop()


def test_all_against_the_twin_lists_every_project_and_resolves_the_rest(fleet_twin):
    refs = fleet_twin.refs
    with ManagementClient(TOKEN, fleet_twin.url, pacer=Pacer()) as client:
        visible = list_projects(client)
    assert sorted(p.ref for p in visible.projects) == sorted(refs)
    first = visible.by_ref()[refs[0]]
    assert (first.status, first.organization, first.region) == ("ACTIVE_HEALTHY", "twin-org", "eu-central-1")
    fleet = parse_fleet(f"organization: twin-org\nwaves:\n  - name: canary\n    projects: [{refs[1]}]\n"
                        f"  - name: rest\n    max_parallel: 3\n    projects: all\nexclude: [{refs[2]}]\n", "fleet.yml")
    waves, _ = resolve(fleet, visible)
    assert waves[1].refs == tuple(sorted([refs[0], refs[3]]))
    assert [s.ref for s in waves[1].skipped] == [refs[4]]  # INACTIVE; refs[5] is another organization's
    assert fleet_twin.stats()["list_requests"] == 1


def test_the_projects_list_waits_out_429_and_retries_5xx(fleet_twin):
    from support.api_twin import LIST

    fleet_twin.add_faults("429", "503", "drop-before", project=LIST)
    with ManagementClient(TOKEN, fleet_twin.url, limits=ApiLimits(backoff=0.01), pacer=Pacer(margin=0)) as client:
        assert len(list_projects(client).projects) == 6
        assert client.requests == 4
    assert fleet_twin.stats()["by_status"] == {"429": 1, "503": 1, "dropped": 1, "200": 1}


def test_the_projects_list_with_a_wrong_token_is_one_clear_error_without_the_token(fleet_twin):
    wrong = "sbp_" + "1" * 40
    with ManagementClient(wrong, fleet_twin.url, pacer=Pacer()) as client, pytest.raises(ConfigError) as caught:
        list_projects(client)
    assert "401 Unauthorized" in str(caught.value) and wrong not in str(caught.value)
    assert fleet_twin.stats()["list_requests"] == 0
    with pytest.raises(ConfigError, match="must use https"):
        ManagementClient(TOKEN, "http://api.example.com")
    with pytest.raises(ConfigError, match="needs an access token"):
        ManagementClient("", fleet_twin.url)


# --- the pacer ----------------------------------------------------------------------------------------------

def test_pace_keys_follow_supabase_scopes_and_never_hold_the_token():
    query = key_for(TOKEN, "post", f"/v1/projects/{A}/database/query")
    assert (query.scope, query.endpoint) == (A, "POST /v1/projects/{ref}/database/query")
    assert key_for(TOKEN, "GET", "/v1/projects").scope == "user"
    assert key_for(TOKEN, "GET", "/v1/organizations/acme/members").scope == "org:acme"
    assert key_for(TOKEN, "POST", f"/v1/projects/{B}/database/query") != query
    assert key_for("sbp_" + "2" * 40, "POST", f"/v1/projects/{A}/database/query") != query
    assert TOKEN not in repr(query) and TOKEN not in str(query)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _headers(remaining: int, reset: int, limit: int = 120) -> dict[str, str]:
    return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(reset)}


def test_the_pacer_counts_from_the_lowest_remaining_less_the_requests_in_flight():
    clock = FakeClock()
    pacer = Pacer(margin=0, clock=clock)
    key = key_for(TOKEN, "GET", "/v1/projects")
    first = pacer.acquire(key)
    with pytest.raises(TargetError, match="gave up waiting"):  # the first answer is awaited before a second goes
        pacer.acquire(key, max_wait=0)
    pacer.observe(first, _headers(remaining=3, reset=30))
    a, b = pacer.acquire(key, max_wait=0), pacer.acquire(key, max_wait=0)
    assert pacer.snapshot(key)["budget"] == 1
    pacer.observe(b, _headers(remaining=1, reset=30))  # b was counted after a: but a's answer is not back
    with pytest.raises(TargetError, match="gave up waiting"):  # a may not have been counted yet
        pacer.acquire(key, max_wait=0)
    assert pacer.delay(key) == 0  # only news is awaited, not the reset
    pacer.observe(a, _headers(remaining=2, reset=30))  # answers come in any order: the lowest count stands
    c = pacer.acquire(key, max_wait=0)
    pacer.observe(c, _headers(remaining=0, reset=30))
    assert pacer.delay(key) == 30  # the server said none is left: wait for the reset
    clock.now += 30
    assert pacer.delay(key) == 0
    assert pacer.snapshot(key)["budget"] is None  # a new window: up to the limit again


def test_after_a_reset_the_pacer_sends_a_full_window_then_waits_for_the_answers():
    clock = FakeClock()
    pacer = Pacer(margin=0, clock=clock)
    key = key_for(TOKEN, "GET", "/v1/projects")
    first = pacer.acquire(key)
    pacer.observe(first, _headers(remaining=0, reset=10, limit=3))
    assert pacer.delay(key) == 10
    clock.now += 10
    tickets = [pacer.acquire(key, max_wait=0) for _ in range(3)]  # the server's limit: 3
    with pytest.raises(TargetError, match="gave up waiting"):
        pacer.acquire(key, max_wait=0)  # a 4th would exceed it unless an answer says otherwise
    pacer.observe(tickets[0], _headers(remaining=2, reset=10, limit=3))
    assert pacer.snapshot(key)["budget"] == 0  # 2 left, but 2 more are in flight
    pacer.observe(tickets[2], _headers(remaining=1, reset=10, limit=3))
    pacer.observe(tickets[1], _headers(remaining=0, reset=10, limit=3))
    assert pacer.delay(key) == 10


def test_a_429_closes_the_window_until_retry_after():
    clock = FakeClock()
    pacer = Pacer(margin=0, clock=clock)
    key = key_for(TOKEN, "POST", f"/v1/projects/{A}/database/query")
    ticket = pacer.acquire(key)
    pacer.observe(ticket, {"x-ratelimit-remaining": "7", "retry-after": "12"}, status=429)
    assert pacer.delay(key) == 12
    other = key_for(TOKEN, "POST", f"/v1/projects/{B}/database/query")
    assert pacer.delay(other) == 0  # another project has its own window


def test_clients_sharing_the_pacer_stop_at_the_limit_where_separate_counts_would_get_429(fleet_twin):
    fleet_twin.limit = 4
    pacer = Pacer()
    clients = [ManagementClient(TOKEN, fleet_twin.url, pacer=pacer) for _ in range(2)]
    key = key_for(TOKEN, "GET", "/v1/projects", fleet_twin.url)
    threads = [threading.Thread(target=lambda c=c: [c.get("/v1/projects") for _ in range(2)]) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fleet_twin.stats()["by_status"] == {"200": 4}
    assert pacer.delay(key) > 0  # the 5th request waits for the reset instead of being refused
    assert Pacer().delay(key) == 0  # a client counting alone would send it …
    answer = httpx.get(fleet_twin.url + "/v1/projects", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 429  # … and be refused
    for client in clients:
        client.close()


def test_the_pacer_learns_what_other_processes_spent_from_the_headers(fleet_twin):
    fleet_twin.limit = 4
    for _ in range(3):  # another process of the same user
        assert httpx.get(fleet_twin.url + "/v1/projects", headers={"Authorization": f"Bearer {TOKEN}"}).is_success
    pacer = Pacer()
    with ManagementClient(TOKEN, fleet_twin.url, pacer=pacer) as client:
        client.get("/v1/projects")
    key = key_for(TOKEN, "GET", "/v1/projects", fleet_twin.url)
    assert pacer.snapshot(key)["budget"] == 0 and pacer.delay(key) > 0
    assert fleet_twin.stats()["by_status"] == {"200": 4}


def test_parallel_query_clients_of_one_project_pace_through_short_windows_without_a_429(fleet_twin):
    """Three clients of one project (deploy, assertions, status) on a twin allowing 3 requests a second."""
    fleet_twin.limit, fleet_twin.window = 3, 1.0
    ref = fleet_twin.refs[0]
    pacer = Pacer(margin=0.05)
    done: list[int] = []

    def client() -> None:
        target = ApiTarget(ref, TOKEN, fleet_twin.url, rate=paced(TOKEN, pacer=pacer))
        try:
            done.extend(target.run("select 1 as one")[0]["one"] for _ in range(3))
        finally:
            target.close()

    threads = [threading.Thread(target=client) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert done == [1] * 9
    assert fleet_twin.stats()["by_status"] == {"201": 9}  # three a window: paced over three windows, none refused


# --- the scheduler ------------------------------------------------------------------------------------------

class Script:
    """Deploy callables by ref, recording starts; each may block on an event or fail."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.events: dict[str, threading.Event] = {}
        self.behaviour: dict[str, Callable[[ProjectJob], ProjectOutcome]] = {}
        self.lock = threading.Lock()

    def event(self, name: str) -> threading.Event:
        return self.events.setdefault(name, threading.Event())

    def __call__(self, job: ProjectJob) -> ProjectOutcome:
        with self.lock:
            self.started.append(job.ref)
        self.event(f"started:{job.ref}").set()
        action = self.behaviour.get(job.ref)
        return action(job) if action else ProjectOutcome(applied=("20250101000000",), requests=3)


def wait_for(event: threading.Event) -> None:
    assert event.wait(30), "a deploy callable waited for an event that never came"


class Recorder:
    def __init__(self, on_finish: Callable[[ProjectResult], None] | None = None) -> None:
        self.lines: list[str] = []
        self.on_finish = on_finish

    def started(self, job: ProjectJob) -> None:
        self.lines.append(f"start {job.ref[0]}")

    def finished(self, result: ProjectResult) -> None:
        self.lines.append(f"end {result.ref[0]} {result.result.value}")
        if self.on_finish:
            self.on_finish(result)


def waves(*specs: tuple[str, int, str]) -> list[ResolvedWave]:
    """('eu', 2, 'bcd') → wave eu, max_parallel 2, projects bbbb…, cccc…, dddd…"""
    return [ResolvedWave(name, parallel, tuple(letter * 20 for letter in letters)) for name, parallel, letters in specs]


def results_of(outcome) -> list[tuple[str, str]]:
    return [(r.ref[0], r.result.value) for r in outcome.results]


def test_a_failure_stops_its_wave_lets_the_running_ones_finish_and_starts_no_later_wave():
    script = Script()

    def long_running(job: ProjectJob) -> ProjectOutcome:
        wait_for(script.event("release-b"))
        return ProjectOutcome(applied=("1", "2"), requests=4)

    def table_in_the_way(job: ProjectJob) -> ProjectOutcome:
        wait_for(script.event(f"started:{B}"))  # b is running when c fails
        raise MigrationFailed("relation \"orders\" already exists")

    script.behaviour = {B: long_running, C: table_in_the_way}
    recorder = Recorder(lambda r: script.event("release-b").set() if r.ref == C else None)
    outcome = Rollout(waves(("canary", 1, "a"), ("eu", 2, "bcde"), ("rest", 4, "fg")), script, recorder).run()
    assert sorted(script.started) == [A, B, C]
    assert results_of(outcome) == [("a", "deployed"), ("b", "deployed"), ("c", "failed"), ("d", "not-started"),
                                   ("e", "not-started"), ("f", "not-started"), ("g", "not-started")]
    assert outcome.results[1].applied == ("1", "2") and outcome.results[1].requests == 4
    assert outcome.stopped_by is not None and outcome.stopped_by.ref == C
    assert outcome.results[2].message == 'relation "orders" already exists'
    assert outcome.results[3].message == f"not started: {C} (eu) failed"
    assert outcome.exit_code == EXIT_FAILED
    assert recorder.lines[:2] == ["start a", "end a deployed"]
    assert recorder.lines.index("end c failed") < recorder.lines.index("end b deployed")


def test_a_wave_never_runs_more_than_max_parallel_projects_at_once():
    script = Script()
    barrier = threading.Barrier(3, timeout=30)
    active, most = [0], [0]
    lock = threading.Lock()

    def counted(job: ProjectJob) -> ProjectOutcome:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        if job.index < 3:
            barrier.wait()  # the first three really do run together
        with lock:
            active[0] -= 1
        return ProjectOutcome()

    script.behaviour = {ref: counted for ref in REFS[:7]}
    outcome = Rollout(waves(("all", 3, "abcdefg")), script).run()
    assert most[0] == 3
    assert [r.result for r in outcome.results] == [Result.UP_TO_DATE] * 7
    assert outcome.exit_code == EXIT_OK and outcome.stop_reason is None


def test_waves_run_in_order_and_projects_start_in_file_order():
    script = Script()
    outcome = Rollout(waves(("canary", 1, "a"), ("eu", 1, "cb"), ("rest", 1, "d")), script).run()
    assert script.started == [A, C, B, D]
    assert [(r.wave, r.ref[0]) for r in outcome.results] == [("canary", "a"), ("eu", "c"), ("eu", "b"),
                                                             ("rest", "d")]
    assert outcome.count(Result.DEPLOYED) == 4 and outcome.requests == 12


def test_a_failure_in_the_canary_leaves_every_other_project_untouched():
    script = Script()
    script.behaviour = {A: lambda job: ProjectOutcome(applied=("1",), requests=5,
                                                      error=MigrationFailed("assertion failed"))}
    outcome = Rollout(waves(("canary", 1, "a"), ("eu", 8, "bcd")), script).run()
    assert script.started == [A]
    assert results_of(outcome) == [("a", "failed"), ("b", "not-started"), ("c", "not-started"),
                                   ("d", "not-started")]
    assert outcome.results[0].applied == ("1",)  # what was committed before the failure is reported
    assert outcome.results[0].requests == 5


def test_an_unknown_outcome_or_a_bug_stops_the_rollout_with_its_own_exit_code():
    script = Script()
    script.behaviour = {B: lambda job: (_ for _ in ()).throw(OutcomeUnknownError("the answer was lost"))}
    outcome = Rollout(waves(("one", 1, "abc")), script).run()
    assert results_of(outcome) == [("a", "deployed"), ("b", "unknown"), ("c", "not-started")]
    assert outcome.exit_code == EXIT_UNKNOWN

    secret = "postgresql://postgres:hunter2@db"
    script = Script()
    script.behaviour = {A: lambda job: (_ for _ in ()).throw(ValueError(secret))}
    outcome = Rollout(waves(("one", 1, "ab")), script).run()
    assert results_of(outcome) == [("a", "error"), ("b", "not-started")]
    assert outcome.exit_code == EXIT_INTERNAL and "hunter2" not in outcome.results[0].message


def test_cancel_starts_nothing_more_and_lets_the_running_project_finish():
    script = Script()
    rollout: list[Rollout] = []

    def interrupted_here(job: ProjectJob) -> ProjectOutcome:
        rollout[0].cancel()  # as the SIGINT handler will
        return ProjectOutcome(applied=("1",))

    script.behaviour = {B: interrupted_here}
    rollout.append(Rollout(waves(("one", 1, "abc"), ("two", 1, "d")), script))
    outcome = rollout[0].run()
    assert results_of(outcome) == [("a", "deployed"), ("b", "deployed"), ("c", "not-started"), ("d", "not-started")]
    assert outcome.results[2].message == "not started: interrupted"
    assert outcome.exit_code == EXIT_INTERRUPTED


def test_the_gate_stops_a_shard_before_its_next_project():
    script = Script()
    asked: list[str] = []

    def gate(job: ProjectJob) -> str | None:
        asked.append(job.ref[0])
        return "another shard of wave eu failed" if job.ref == C else None

    outcome = Rollout(waves(("eu", 1, "abcd")), script, gate=gate).run()
    assert asked == ["a", "b", "c"] and script.started == [A, B]
    assert results_of(outcome)[2:] == [("c", "not-started"), ("d", "not-started")]
    assert outcome.results[2].message == "not started: another shard of wave eu failed"
    assert outcome.exit_code == EXIT_FAILED


def test_skipped_projects_are_reported_in_their_wave_and_do_not_fail_the_rollout():
    wave = ResolvedWave("rest", 2, (A,), (Skipped(B, "project status is INACTIVE: not deployable now"),), all=True)
    outcome = Rollout([wave], Script()).run()
    assert results_of(outcome) == [("a", "deployed"), ("b", "skipped")]
    assert outcome.exit_code == EXIT_OK


# --- the scheduler against real projects ----------------------------------------------------------------------

def _table_deploy(server: Any) -> Callable[[ProjectJob], ProjectOutcome]:
    """A stand-in for the real deploy (wired later): one transaction per project, through the API twin."""
    def deploy(job: ProjectJob) -> ProjectOutcome:
        target = ApiTarget(job.ref, TOKEN, server.url)
        try:
            if target.run("SELECT to_regclass('public.wt_fleet_done') IS NOT NULL AS done")[0]["done"]:
                return ProjectOutcome(requests=target.round_trips)
            target.run("CREATE TABLE public.wt_orders (id int PRIMARY KEY, total numeric NOT NULL);\n"
                       "CREATE TABLE public.wt_fleet_done (wave text NOT NULL);\n"
                       f"INSERT INTO public.wt_fleet_done VALUES ('{job.wave}');")
            return ProjectOutcome(applied=("1",), requests=target.round_trips)
        except QueryError as exc:
            return ProjectOutcome(requests=target.round_trips, error=MigrationFailed(str(exc)))
        finally:
            target.close()
    return deploy


def test_a_fleet_on_the_twin_stops_at_the_table_in_the_way_then_finishes_after_the_fix(fleet_twin):
    refs = fleet_twin.refs[:5]
    dbs = fleet_twin.databases
    dbs[refs[2]].query("CREATE TABLE public.wt_orders (id text)")  # in the way
    plan = [ResolvedWave("canary", 1, (refs[0],)), ResolvedWave("eu", 1, (refs[1], refs[2], refs[3])),
            ResolvedWave("rest", 2, (refs[4],))]

    first = Rollout(plan, _table_deploy(fleet_twin)).run()
    assert [r.result for r in first.results] == [Result.DEPLOYED, Result.DEPLOYED, Result.FAILED,
                                                 Result.NOT_STARTED, Result.NOT_STARTED]
    assert first.results[2].message.startswith("42P07: ") and first.exit_code == EXIT_FAILED
    assert [dbs[r].value("SELECT to_regclass('public.wt_fleet_done') IS NOT NULL") for r in refs] == [
        True, True, False, False, False]
    assert dbs[refs[2]].value("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                              "WHERE attrelid = 'public.wt_orders'::regclass AND attname = 'id'") == "text"

    dbs[refs[2]].query("DROP TABLE public.wt_orders")  # the fix
    before = fleet_twin.stats()["by_project"]
    second = Rollout(plan, _table_deploy(fleet_twin)).run()
    assert [r.result for r in second.results] == [Result.UP_TO_DATE, Result.UP_TO_DATE, Result.DEPLOYED,
                                                  Result.DEPLOYED, Result.DEPLOYED]
    assert second.exit_code == EXIT_OK
    after = fleet_twin.stats()["by_project"]
    assert [after[r]["requests"] - before[r]["requests"] for r in refs] == [1, 1, 2, 2, 2]
    assert [dbs[r].value("SELECT count(*) FROM public.wt_fleet_done") for r in refs] == [1] * 5


@pytest.fixture
def welltrack() -> Any:
    return load_migrations(MIGRATIONS)


def test_status_rows_come_from_each_projects_history(fleet_twin, run_cli, welltrack):
    refs = fleet_twin.refs
    half = welltrack.migrations[len(welltrack.migrations) // 2].version
    for ref, extra in ((refs[0], []), (refs[1], ["--target-version", half])):
        done = run_cli("deploy", "--project-ref", ref, "--access-token", TOKEN, "--api-url", fleet_twin.url,
                       "--migrations-dir", MIGRATIONS, "--no-assertions", *extra)
        assert done.code == 0, done.out + done.err
    before = fleet_twin.stats()["by_project"]

    def read(ref: str) -> Any:
        if ref == refs[3]:
            raise TargetError("the platform could not reach the database")
        target = ApiTarget(ref, TOKEN, fleet_twin.url)
        try:
            history = read_history(target)
        finally:
            target.close()
        return make_plan(welltrack, history, PlanOptions(include_all=True, allow_drift=True)), history

    wave = ResolvedWave("eu", 2, (refs[0], refs[1], refs[2], refs[3]), (Skipped(refs[4], "paused"),))
    rows = collect_status([wave], read, parallel=3)
    total = len(welltrack.migrations)
    assert [(r.ref, r.state, r.applied, r.pending) for r in rows] == [
        (refs[0], State.UP_TO_DATE, NEWEST, 0), (refs[1], State.PENDING, half, total - len(
            [m for m in welltrack.migrations if m.version <= half])),
        (refs[2], State.PENDING, None, total),
        (refs[3], State.UNREADABLE, None, None), (refs[4], State.SKIPPED, None, None)]
    assert rows[0].last.startswith(f"applied {NEWEST} at ")
    assert rows[2].last == "never deployed"
    assert rows[3].last == "cannot read its history: the platform could not reach the database"
    after = fleet_twin.stats()["by_project"]
    assert [after[r]["requests"] - before[r]["requests"] for r in refs[:3]] == [1, 1, 1]  # one read each


def test_a_status_row_shows_drift_remote_only_versions_and_a_half_done_migration(welltrack):
    first, second = welltrack.migrations[:2]
    history = History(True, (HistoryRow(first.version, first.name, first.history_statements, "2025-01-01 10:00"),
                             HistoryRow(second.version, second.name, ("select 'edited'",), "2025-01-02 10:00"),
                             HistoryRow("29990101000000", "future", ("select 1",))))
    plan = make_plan(welltrack, history, PlanOptions(include_all=True, allow_drift=True))
    row = row_from(A, "eu", plan, history)
    assert (row.state, row.drift, row.remote_only, row.applied) == (
        State.DRIFT, (second.version,), ("29990101000000",), "29990101000000")
    assert row.last == f"applied {second.version} at 2025-01-02 10:00"
    stopped = History(True, history.rows[:1], progress=(Progress(second.version, 3, "f", "run", 1.0),))
    row = row_from(A, "eu", make_plan(welltrack, stopped, PlanOptions(include_all=True)), stopped)
    assert row.state is State.INTERRUPTED
    assert row.last == f"{second.version} stopped after statement 3 (non-transactional); the next deploy resumes it"
    result = ProjectResult(A, "eu", Result.FAILED, message="42P07: relation exists")
    assert row_from(A, "eu", plan, history, result).last == "failed: 42P07: relation exists"


# --- GitHub matrix ------------------------------------------------------------------------------------------

def test_shards_are_balanced_disjoint_and_cover_the_wave():
    refs = tuple(REFS[:11])
    for count in range(1, 12):
        shards = [shard_of(refs, i, count) for i in range(1, count + 1)]
        assert sorted(r for shard in shards for r in shard) == sorted(refs)
        sizes = [len(s) for s in shards]
        assert max(sizes) - min(sizes) <= 1
    assert shard_of(refs, 2, 4) == (REFS[1], REFS[5], REFS[9])
    assert shard_of(refs, 2, 4) == shard_of(tuple(REFS[:11]), 2, 4)  # stable


@pytest.mark.parametrize(("text", "message"), [("0/3", "from 1 to 3"), ("4/3", "from 1 to 3"), ("1/0", "from 1 to 256"),
                                               ("1/300", "from 1 to 256"), ("a/b", "expected I/N"), ("2", "expected I/N")])
def test_a_bad_shard_is_a_clear_error(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_shard(text)


def test_the_github_matrix_of_a_wave_has_max_parallel_shards_and_a_digest():
    wave = ResolvedWave("eu", 4, tuple(REFS[:10]), (Skipped(REFS[10], "paused"),))
    matrix = github_matrix(wave)
    assert json.loads(json.dumps(matrix)) == matrix
    assert (matrix["shards"], matrix["max_parallel"], matrix["projects"], matrix["skipped"]) == (4, 4, 10, 1)
    include = matrix["matrix"]["include"]
    assert [entry["shard"] for entry in include] == ["1/4", "2/4", "3/4", "4/4"]
    assert [entry["count"] for entry in include] == [3, 3, 2, 2]
    assert include[1]["projects"] == " ".join(shard_of(wave.refs, 2, 4))
    assert {entry["digest"] for entry in include} == {digest(wave.refs)}
    small = github_matrix(ResolvedWave("canary", 8, (A, B)))
    assert (small["shards"], small["max_parallel"]) == (2, 2)
    empty = github_matrix(ResolvedWave("rest", 8, ()))
    assert (empty["shards"], empty["matrix"]) == (0, {"include": []})


def test_a_shard_deploys_its_share_and_refuses_when_the_wave_changed_since_the_matrix():
    wave = ResolvedWave("eu", 3, tuple(REFS[:7]), (Skipped(REFS[7], "paused"),))
    fingerprint = digest(wave.refs)
    shards = [select_shard(wave, f"{i}/3", fingerprint) for i in range(1, 4)]
    assert [s.refs for s in shards] == [(REFS[0], REFS[3], REFS[6]), (REFS[1], REFS[4]), (REFS[2], REFS[5])]
    assert [len(s.skipped) for s in shards] == [1, 0, 0]
    grown = ResolvedWave("eu", 3, tuple(REFS[:8]))
    with pytest.raises(ConfigError, match="changed since its matrix was computed"):
        select_shard(grown, "1/3", fingerprint)
    with pytest.raises(ConfigError, match="fewer than 9 shards"):
        select_shard(wave, "9/9")
