"""Rollout benchmark: `supadeploy rollout` of WellTrack to a fleet of projects through the loopback API twin.

Rerun: .venv/bin/python bench/bench_rollout.py [--projects 50] [--parallel 1,4,8,16] [--latency 0.1]
Prints a Markdown table for docs/benchmarks.md.

Each run is the real command (cli.main, in process) on a fresh fleet: `--projects` databases of one local
PostgreSQL 17, each a project of one twin (tests/support/api_twin.py) that hands every query to the real
postgres-meta and adds `--latency` seconds per request, like a round trip to api.supabase.com; the twin
enforces the real limit (120 requests a minute per project and endpoint). The fleet file is a canary and
one wave of every other project (`projects: all`) at `max_parallel` P. Measured: the fresh rollout (every
project bootstraps WellTrack and runs its 36 assertions) and the same command again (every project up to
date), wall time and requests (the twin's count), and the busiest project's requests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from supadeploy.cli import main as cli_main  # noqa: E402
from supadeploy.platform import binaries  # noqa: E402
from supadeploy.platform.cluster import Cluster, server_user  # noqa: E402
from support.api_twin import ApiTwin, fleet_refs  # noqa: E402
from support.postgres_meta import PostgresMeta  # noqa: E402

TOKEN = "sbp_" + "cd" * 20


def rollout(twin: ApiTwin, fleet: Path, workdir: Path) -> dict[str, Any]:
    """One `supadeploy rollout` through the CLI; its JSON report, the wall time and the twin's request counts."""
    before = twin.stats()
    args = ["rollout", "--fleet", str(fleet), "--access-token", TOKEN, "--api-url", twin.url, "--migrations-dir",
            str(REPO / "migrations"), "--assertions", str(REPO / "assertions" / "welltrack.yml"), "--format", "json"]
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        start = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main(args)
        seconds = time.perf_counter() - start
    finally:
        os.chdir(cwd)
    if code != 0:
        raise SystemExit(f"rollout failed ({code}):\n{err.getvalue()[-2000:]}")
    after = twin.stats()
    spent = {ref: after["by_project"][ref]["requests"] - before["by_project"].get(ref, {"requests": 0})["requests"]
             for ref in after["by_project"]}
    report = json.loads(out.getvalue())
    return {"seconds": seconds, "requests": after["requests"] - before["requests"], "busiest": max(spent.values()),
            "results": {row["result"] for row in report["projects"]}, "round_trips": report["round_trips"],
            "429": after["by_status"].get("429", 0) - before["by_status"].get("429", 0)}


def fleet_of(cluster: Cluster, meta: PostgresMeta, prefix: str, count: int, latency: float) -> ApiTwin:
    refs = fleet_refs(count, prefix=prefix)
    for ref in refs:
        cluster.create_database(ref, template="tpl")
    twin = ApiTwin(cluster.dsn(refs[0]), TOKEN, meta, refs[0], latency=latency).start()
    for ref in refs[1:]:
        twin.add_project(ref, cluster.dsn(ref))
    return twin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--parallel", default="1,4,8,16", help="max_parallel values, comma-separated")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request")
    args = parser.parse_args()
    settings = [int(p) for p in args.parallel.split(",")]
    rows = []
    with Cluster(binaries.ensure(17), server_user()) as cluster, tempfile.TemporaryDirectory() as tmp:
        cluster.create_database("tpl")
        for n, parallel in enumerate(settings):
            meta = PostgresMeta().start()  # its own pools: the previous fleet's connections are gone
            twin = fleet_of(cluster, meta, "bench" + chr(ord("a") + n), args.projects, args.latency)
            try:
                fleet = Path(tmp) / f"fleet{parallel}.yml"
                fleet.write_text(f"waves:\n  - name: canary\n    projects: [{twin.ref}]\n"
                                 f"  - name: rest\n    max_parallel: {parallel}\n    projects: all\n")
                fresh = rollout(twin, fleet, Path(tmp))
                again = rollout(twin, fleet, Path(tmp))
            finally:
                twin.stop()
                meta.stop()
            assert fresh["results"] == {"deployed"} and again["results"] == {"up-to-date"}, (fresh, again)
            rows.append((parallel, fresh, again))
            print(f"max_parallel {parallel}: fresh {fresh['seconds']:.1f} s, again {again['seconds']:.1f} s",
                  file=sys.stderr)
    print(f"{args.projects} projects (a canary, then {args.projects - 1} at max_parallel P), WellTrack "
          f"({len(list((REPO / 'migrations').glob('*.sql')))} migrations, 36 assertions), {args.latency * 1000:.0f} ms "
          f"added per request, {os.cpu_count()} CPU(s)\n")
    print("| max_parallel | fresh fleet: wall time | requests | busiest project | 429s | "
          "again (up to date): wall time | requests | busiest project |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for parallel, fresh, again in rows:
        print(f"| {parallel} | {fresh['seconds']:.1f} s | {fresh['requests']} | {fresh['busiest']} | {fresh['429']} | "
              f"{again['seconds']:.1f} s | {again['requests']} | {again['busiest']} |")
    print("\nRerun: .venv/bin/python bench/bench_rollout.py "
          f"--projects {args.projects} --parallel {args.parallel} --latency {args.latency}")


if __name__ == "__main__":
    main()
