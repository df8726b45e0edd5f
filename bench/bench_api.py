"""API benchmark: requests and wall time per deploy through the loopback API twin with added latency.

Rerun: .venv/bin/python bench/bench_api.py [--latency 0.1] [--count 1000]
Prints a Markdown table for docs/benchmarks.md. The twin (tests/support/api_twin.py)
runs over an embedded PostgreSQL 18; each request gets `--latency` seconds added,
like a round trip to api.supabase.com. The client's 120-requests-a-minute limiter
is switched off here so the latency cost is visible on its own; the minimum time
the real limit imposes is computed next to it.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from bench_deploy import generate  # noqa: E402

from supadeploy.engine.apply import deploy  # noqa: E402
from supadeploy.engine.migrations import load_migrations  # noqa: E402
from supadeploy.engine.plan import PlanOptions  # noqa: E402
from supadeploy.engine.run import ApplyOptions  # noqa: E402
from supadeploy.platform import binaries  # noqa: E402
from supadeploy.platform.cluster import Cluster, server_user  # noqa: E402
from supadeploy.targets.api import ApiLimits, ApiTarget  # noqa: E402
from support.api_twin import ApiTwin  # noqa: E402
from support.postgres_meta import PostgresMeta  # noqa: E402

TOKEN = "sbp_" + "ab" * 20
REF = "benchbenchbenchbench"


def run_deploy(cluster: Cluster, meta: PostgresMeta, name: str, directory: Path, tx_mode: str,
               latency: float) -> dict[str, float]:
    cluster.create_database(name, template="tpl")
    with ApiTwin(cluster.dsn(name), TOKEN, meta, REF, limit=10**6, latency=latency) as twin:
        target = ApiTarget(REF, TOKEN, twin.url, ApiLimits(per_minute=10**6))
        migrations = load_migrations(directory)
        start = time.perf_counter()
        outcome = deploy(target, migrations, PlanOptions(), ApplyOptions(tx_mode=tx_mode))
        elapsed = time.perf_counter() - start
        target.close()
        assert len(outcome.results) == len(migrations.migrations)
        return {"seconds": elapsed, "requests": twin.stats()["requests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    meta = PostgresMeta().start()
    with Cluster(binaries.ensure(17), server_user()) as cluster, tempfile.TemporaryDirectory() as tmp:
        cluster.create_database("tpl")
        generated = Path(tmp) / "gen"
        generate(generated, args.count)
        welltrack = len(list((REPO / "migrations").glob("*.sql")))
        for label, directory, count in ((f"{welltrack} WellTrack", REPO / "migrations", welltrack),
                                        (f"{args.count} generated", generated, args.count)):
            for mode in ("file", "all"):
                result = run_deploy(cluster, meta, f"b{mode}{count}", directory, mode, args.latency)
                floor = math.ceil(result["requests"] / 120) - 1 if result["requests"] > 120 else 0
                rows.append((label, mode, result["requests"], result["seconds"], floor, count))
    meta.stop()
    print(f"Latency added per request: {args.latency * 1000:.0f} ms\n")
    print("| migrations | --tx-mode | requests | wall time | extra wait under 120 req/min | "
          "one-request-per-migration client (e.g. MCP `apply_migration`) |")
    print("|---|---|---:|---:|---:|---|")
    for label, mode, requests, seconds, floor, count in rows:
        other_floor = math.ceil(count / 120) - 1 if count > 120 else 0
        print(f"| {label} | {mode} | {requests} | {seconds:.2f} s | "
              f"{'none' if not floor else f'≥ {floor} min'} | {count} requests, ≥ {count * args.latency:.1f} s of "
              f"latency{'' if not other_floor else f', ≥ {other_floor} min of rate limit'} |")
    print(f"\nrerun: .venv/bin/python bench/bench_api.py --latency {args.latency} --count {args.count}")


if __name__ == "__main__":
    main()
