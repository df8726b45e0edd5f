"""Drift benchmark: `supadeploy drift` end to end, what its check adds to a deploy, and the catalog reads it
is made of; on WellTrack and on 1,000 generated migrations, through a database URL and the Management API.

Rerun: .venv/bin/python bench/bench_drift.py [--count 1000] [--latency 0.1] [--runs 3]
Prints Markdown tables for docs/benchmarks.md. An embedded PostgreSQL 17 plays production; the API is the
loopback twin over the real postgres-meta with `--latency` seconds added per request (like a round trip to
api.supabase.com). The CLI runs in this process (its flags, its report), timed from the call to the return;
requests are the report's round trips (to the target: the local replay's are not counted). "cold": the
replay runs (its server set up, every migration applied); "cached": the same files were replayed before on
this machine. What the check adds to a deploy: a deploy of one new migration with the check, minus the
same deploy with the check switched off (in this process only). Times are medians of `--runs`.

The generated migrations are shaped like a Supabase app's: a table with an index, RLS, two policies, a
grant and a comment each, a trigger function every tenth, a view every fiftieth.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from supadeploy.checks.drift import cache
from supadeploy.checks.drift.catalog import catalog_sql, read_catalog
from supadeploy.checks.drift.differ import diff
from supadeploy.checks.drift.scope import touched
from supadeploy.cli import main as cli
from supadeploy.commands import drift as drift_command
from supadeploy.engine.migrations import load_migrations
from supadeploy.platform import binaries
from supadeploy.platform.cluster import Cluster, server_user
from supadeploy.targets.api import ApiLimits, ApiTarget
from supadeploy.targets.base import single_json
from supadeploy.targets.postgres import PostgresTarget
from support.api_twin import ApiTwin
from support.postgres_meta import PostgresMeta

TOKEN = "sbp_" + "cd" * 20
REF = "benchdriftbenchdrift"


def generate(directory: Path, count: int) -> Path:
    """`count` migrations in the shape of a Supabase app's."""
    directory.mkdir()
    for i in range(1, count + 1):
        text = (
            f"create table public.item{i} (\n"
            f"  id bigint generated always as identity primary key,\n"
            f"  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,\n"
            f"  label text not null check (char_length(label) <= 200),\n"
            f"  created_at timestamptz not null default now()\n);\n"
            f"create index item{i}_owner_id_idx on public.item{i} (owner_id);\n"
            f"alter table public.item{i} enable row level security;\n"
            f"create policy \"read own\" on public.item{i} for select to authenticated "
            f"using (owner_id = (select auth.uid()));\n"
            f"create policy \"write own\" on public.item{i} for insert to authenticated "
            f"with check (owner_id = (select auth.uid()));\n"
            f"revoke all on table public.item{i} from anon;\n"
            f"grant select, insert on table public.item{i} to authenticated;\n"
            f"comment on table public.item{i} is 'generated {i}';\n")
        if i % 10 == 0:
            text += (f"create function public.touch{i}() returns trigger language plpgsql set search_path = '' as $$\n"
                     f"begin\n  new.created_at := now();\n  return new;\nend;\n$$;\n"
                     f"create trigger item{i}_touch before update on public.item{i} "
                     f"for each row execute function public.touch{i}();\n")
        if i % 50 == 0:
            text += (f"create view public.item{i}_labels with (security_invoker = true) as "
                     f"select id, label from public.item{i};\n")
        (directory / f"{i:06d}_item_{i}.sql").write_text(text)
    return directory


def run(argv: list[str]) -> tuple[dict[str, Any], float]:
    """The CLI in this process, quiet; its JSON report and its wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = cli([*argv, "--report", str(report)])
        elapsed = time.perf_counter() - start
        data = json.loads(report.read_text())
    if code not in (0, 1):
        raise SystemExit(f"supadeploy {' '.join(argv[:1])} ended with {code}: {data.get('problems')}")
    return data, elapsed


@contextlib.contextmanager
def drift_cache(folder: Path) -> Iterator[None]:
    """The replay cache in a folder of this run's own (cold at first), never the user's."""
    original = cache._folder  # noqa: SLF001 - a benchmark's own cache
    cache._folder = lambda: folder  # type: ignore[assignment]  # noqa: SLF001
    try:
        yield
    finally:
        cache._folder = original  # type: ignore[assignment]  # noqa: SLF001


@contextlib.contextmanager
def without_check() -> Iterator[None]:
    original = drift_command.before_deploy
    drift_command.before_deploy = lambda ctx: None  # type: ignore[assignment]
    try:
        yield
    finally:
        drift_command.before_deploy = original  # type: ignore[assignment]


def median(values: list[float]) -> float:
    return statistics.median(values)


def fresh(cluster: Cluster, name: str, folder: Path) -> str:
    cluster.create_database(name, template="tpl")
    dsn = cluster.dsn(name)
    data, _ = run(["deploy", "--db-url", dsn, "--migrations-dir", str(folder), "--no-assertions", "--tx-mode", "all"])
    assert data["status"] == "success", data["problems"]
    return dsn


def end_to_end(label: str, folder: Path, dsn: str, api: list[str], runs: int, scratch: Path) -> list[dict[str, Any]]:
    rows = []
    for how, target in (("url", ["--db-url", dsn]), ("api", api)):
        for state in ("cold", "cached"):
            times, requests = [], 0
            for n in range(runs):
                folder_for_run = scratch / f"{how}-{state}-{n}"
                with drift_cache(folder_for_run if state == "cold" else scratch / f"{how}-warm"):
                    if state == "cached":
                        run(["drift", *target, "--migrations-dir", str(folder)])  # fill it
                    data, elapsed = run(["drift", *target, "--migrations-dir", str(folder)])
                assert data["status"] == "success", data.get("drift", [])[:3]
                times.append(elapsed)
                requests = data["round_trips"]
            rows.append({"label": label, "how": how, "state": state, "requests": requests, "seconds": median(times)})
    return rows


def added_to_deploy(label: str, cluster: Cluster, folder: Path, twin_for: Callable[[str], list[str]], runs: int,
                    scratch: Path, key: str) -> list[dict[str, Any]]:
    """A deploy of one new migration with the check and without it."""
    later = scratch / f"{key}-later"
    later.mkdir()
    for path in folder.glob("*.sql"):
        (later / path.name).write_text(path.read_text())
    (later / "999999_later.sql").write_text("create table public.later (id int primary key);\n")
    rows = []
    for how in ("url", "api"):
        measured: dict[str, tuple[float, int]] = {}
        for variant in ("without", "cold", "cached"):
            times, requests = [], 0
            for n in range(runs):
                dsn = fresh(cluster, f"{key}{how}{variant}{n}", folder)
                target = ["--db-url", dsn] if how == "url" else twin_for(dsn)
                argv = ["deploy", *target, "--migrations-dir", str(later), "--no-assertions", "--yes"]
                with drift_cache(scratch / f"{key}-{how}-{variant}-{n}" if variant == "cold"
                                 else scratch / f"{key}-{how}-warm"):
                    if variant == "cached" and n == 0:
                        run(["drift", *target, "--migrations-dir", str(folder)])  # the same files, replayed once
                    if variant == "without":
                        with without_check():
                            data, elapsed = run(argv)
                    else:
                        data, elapsed = run(argv)
                assert data["applied_versions"] == ["999999"], data["problems"]
                times.append(elapsed)
                requests = data["round_trips"]
            measured[variant] = (median(times), requests)
        base_s, base_requests = measured["without"]
        for variant in ("cold", "cached"):
            seconds, requests = measured[variant]
            rows.append({"label": label, "how": how, "state": variant, "deploy": base_s, "with": seconds,
                         "added_s": seconds - base_s, "added_requests": requests - base_requests})
    return rows


def catalog_reads(label: str, folder: Path, production: str, replay: str, meta: PostgresMeta, latency: float,
                  runs: int) -> list[dict[str, Any]]:
    """The two catalog reads and the diff alone (as the core measured them)."""
    migrations = load_migrations(folder)
    start = time.perf_counter()
    scope = touched(migrations.migrations)
    scope_s = time.perf_counter() - start
    rows = []
    for how in ("url", "api"):
        reads, diffs, requests, answer, objects = [], [], 0, 0, 0
        for _ in range(runs):
            twins: list[ApiTwin] = []
            if how == "url":
                targets: list[Any] = [PostgresTarget(production), PostgresTarget(replay)]
            else:
                twins = [ApiTwin(dsn, TOKEN, meta, REF, limit=10**6, latency=latency).start()
                         for dsn in (production, replay)]
                targets = [ApiTarget(REF, TOKEN, twin.url, ApiLimits(per_minute=10**6)) for twin in twins]
            start = time.perf_counter()
            catalogs = [read_catalog(target, scope) for target in targets]
            reads.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert diff(*catalogs) == []
            diffs.append(time.perf_counter() - start)
            requests = sum(t.round_trips for t in targets)
            answer = len(json.dumps(single_json(targets[0].run(catalog_sql(scope), safe_to_resend=True))))
            objects = len(catalogs[0].objects)
            for target in targets:
                target.close()
            for twin in twins:
                twin.stop()
        rows.append({"label": label, "how": how, "objects": objects, "requests": requests, "read": median(reads),
                     "diff": median(diffs), "scope": scope_s, "request_bytes": len(catalog_sql(scope)),
                     "answer_bytes": answer})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    meta = PostgresMeta().start()
    twins: list[ApiTwin] = []

    def twin_for(dsn: str) -> list[str]:
        twin = ApiTwin(dsn, TOKEN, meta, REF, limit=10**6, latency=args.latency).start()
        twins.append(twin)
        return ["--project-ref", REF, "--access-token", TOKEN, "--api-url", twin.url, "--api-timeout", "120"]

    ends: list[dict[str, Any]] = []
    adds: list[dict[str, Any]] = []
    reads: list[dict[str, Any]] = []
    try:
        with Cluster(binaries.ensure(17), server_user()) as cluster, tempfile.TemporaryDirectory() as tmp, \
                drift_cache(Path(tmp) / "setup"):
            scratch = Path(tmp)
            cluster.create_database("tpl")
            generated = generate(scratch / "gen", args.count)
            for label, folder, key in (("WellTrack (10 migrations, 34 tables)", REPO / "migrations", "w"),
                                       (f"{args.count} generated migrations", generated, "g")):
                production = fresh(cluster, f"{key}prod", folder)
                ends += end_to_end(label, folder, production, twin_for(production), args.runs, scratch)
                adds += added_to_deploy(label, cluster, folder, twin_for, args.runs, scratch, key)
                replay = fresh(cluster, f"{key}replay", folder)
                reads += catalog_reads(label, folder, production, replay, meta, args.latency, args.runs)
    finally:
        for twin in twins:
            twin.stop()
        meta.stop()
    print(f"PostgreSQL 17, medians of {args.runs}; API: loopback twin over the real postgres-meta, "
          f"{args.latency * 1000:.0f} ms added per request\n")
    print("`supadeploy drift` (no drift), end to end in process:\n")
    print("| migrations | target | replay | requests to the target | wall time |")
    print("|---|---|---|---:|---:|")
    for row in ends:
        print(f"| {row['label']} | {row['how']} | {row['state']} | {row['requests']} | {row['seconds']:.2f} s |")
    print("\nWhat the check adds to a deploy of one new migration:\n")
    print("| migrations | target | replay | deploy without the check | with it | added | added requests |")
    print("|---|---|---|---:|---:|---:|---:|")
    for row in adds:
        print(f"| {row['label']} | {row['how']} | {row['state']} | {row['deploy']:.2f} s | {row['with']:.2f} s | "
              f"+{row['added_s']:.2f} s | +{row['added_requests']} |")
    print("\nThe catalog reads alone (both catalogs) and the diff:\n")
    print("| migrations | target | objects compared | requests | read both | diff | scope from parse trees | "
          "request / answer size |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in reads:
        print(f"| {row['label']} | {row['how']} | {row['objects']} | {row['requests']} | {row['read']:.2f} s | "
              f"{row['diff'] * 1000:.0f} ms | {row['scope'] * 1000:.0f} ms | "
              f"{row['request_bytes'] / 1024:.0f} KiB / {row['answer_bytes'] / 1024 / 1024:.1f} MiB |")
    print(f"\nRerun: .venv/bin/python bench/bench_drift.py --count {args.count} --latency {args.latency} "
          f"--runs {args.runs}")


if __name__ == "__main__":
    main()
