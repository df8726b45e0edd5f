"""What lock-safety tracing costs: the same replay traced and untraced.

Rerun: .venv/bin/python bench/bench_trace.py [--count 1000] [--runs 5]
Prints a Markdown table; paste it into docs/benchmarks.md ("Lock-safety tracing").

Each run deploys into a fresh database of one embedded PostgreSQL 18 server
(the engine in process, as the local replay and the database-URL target run
it). The generated migrations touch what exists: each creates a table, adds a
column to the previous one and indexes it, so the trace has work to do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from supadeploy.engine.apply import deploy  # noqa: E402
from supadeploy.engine.hooks import Hooks  # noqa: E402
from supadeploy.engine.migrations import load_migrations  # noqa: E402
from supadeploy.engine.plan import PlanOptions  # noqa: E402
from supadeploy.engine.run import ApplyOptions, TxMode  # noqa: E402
from supadeploy.locks.analyze import findings  # noqa: E402
from supadeploy.locks.trace import LockTracer  # noqa: E402
from supadeploy.platform import binaries  # noqa: E402
from supadeploy.platform.cluster import Cluster, server_user  # noqa: E402
from supadeploy.targets.postgres import PostgresTarget  # noqa: E402


class Count(Hooks):
    def __init__(self) -> None:
        self.findings = 0

    def traced(self, batch: list, rows: list) -> None:
        self.findings += len(findings(batch, rows))


def generate(directory: Path, count: int) -> Path:
    directory.mkdir()
    for i in range(1, count + 1):
        body = f"create table public.g{i} (id bigint generated always as identity primary key, v text);\n"
        if i > 1:
            body += (f"alter table public.g{i - 1} add column c{i} int;\n"
                     f"create index g{i - 1}_c{i}_idx on public.g{i - 1} (c{i});\n")
        (directory / f"{i:06d}_gen_{i}.sql").write_text(body)
    return directory


def run_once(cluster: Cluster, directory: Path, tx_mode: str, traced: bool, counter: list[int]) -> tuple[float, int, int]:
    name = f"b{counter[0]}"
    counter[0] += 1
    cluster.create_database(name)
    target = PostgresTarget(cluster.dsn(name))
    hooks = Count()
    migrations = load_migrations(directory)
    start = time.perf_counter()
    deploy(target, migrations, PlanOptions(), ApplyOptions(tx_mode=TxMode(tx_mode), tracer=LockTracer() if traced else None),
           hooks)
    elapsed = time.perf_counter() - start
    trips = target.round_trips
    target.close()
    return elapsed, trips, hooks.findings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cluster = Cluster(binaries.ensure(18), server_user())
    cluster.start()
    counter = [0]
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sets = [("10 WellTrack", REPO / "migrations", args.runs),
                    (f"{args.count} generated", generate(Path(tmp) / "gen", args.count), 1)]
            for label, directory, runs in sets:
                for tx_mode in ("file", "all"):
                    samples: dict[bool, list[tuple[float, int, int]]] = {False: [], True: []}
                    run_once(cluster, directory, tx_mode, True, counter)  # warm-up, not counted
                    for _ in range(runs):  # interleaved, so a noisy moment hits both alike
                        for traced in (False, True):
                            samples[traced].append(run_once(cluster, directory, tx_mode, traced, counter))
                    results = {traced: (statistics.median(s[0] for s in found), found[0][1], found[0][2])
                               for traced, found in samples.items()}
                    (plain, trips, _), (slow, traced_trips, found) = results[False], results[True]
                    rows.append(f"| {label} | {tx_mode} | {plain * 1000:.0f} ms | {slow * 1000:.0f} ms | "
                                f"{(slow / plain - 1) * 100:+.0f}% | {trips} / {traced_trips} | {found} |")
    finally:
        cluster.stop()
    print("| migrations | --tx-mode | untraced | traced | cost | round trips (untraced / traced) | findings |")
    print("|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\nmedian of {args.runs} runs for WellTrack, 1 run for the generated set; "
          f"rerun: .venv/bin/python bench/bench_trace.py --count {args.count} --runs {args.runs}")


if __name__ == "__main__":
    main()
