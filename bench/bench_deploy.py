"""Deploy benchmarks: cold end to end, the WellTrack migrations vs psql, 1,000 generated migrations.

Rerun: .venv/bin/python bench/bench_deploy.py [--quick]
Prints a Markdown table; paste it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from supadeploy.engine.apply import deploy  # noqa: E402
from supadeploy.engine.history import read_history  # noqa: E402
from supadeploy.engine.migrations import load_migrations  # noqa: E402
from supadeploy.engine.plan import PlanOptions, make_plan  # noqa: E402
from supadeploy.engine.run import ApplyOptions, TxMode  # noqa: E402
from supadeploy.locks.trace import LockTracer  # noqa: E402
from supadeploy.platform import binaries  # noqa: E402
from supadeploy.platform.cluster import Cluster, server_user  # noqa: E402
from supadeploy.targets.postgres import PostgresTarget  # noqa: E402

MIGRATIONS = REPO / "migrations"


def cold_end_to_end(runs: int) -> list[float]:
    """(a) The README's first command, server start and removal included."""
    times = []
    with tempfile.TemporaryDirectory() as cwd:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "supadeploy", "deploy", "--migrations-dir", str(MIGRATIONS)],
                           check=True, capture_output=True, cwd=cwd)
            times.append(time.perf_counter() - start)
    return times


def psql_apply(cluster: Cluster, dbname: str, files: list[Path]) -> float:
    start = time.perf_counter()
    psql = cluster.bindir / "psql"  # npm's server builds have no psql: then Debian's (any recent client works)
    subprocess.run([str(psql) if psql.exists() else (shutil.which("psql") or "psql"), "-X", "-q", "-v",
                    "ON_ERROR_STOP=1", "-1",
                    *[a for f in files for a in ("-f", str(f))], cluster.dsn(dbname)],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def engine_apply(dsn: str, directory: Path, tx_mode: str, trace: bool = False) -> dict[str, float]:
    """Timed without tracemalloc; `trace=True` is a separate pass that only measures peak memory."""
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    migrations = load_migrations(directory)
    loaded = time.perf_counter()
    target = PostgresTarget(dsn)
    plan = make_plan(migrations, read_history(target), PlanOptions())
    planned = time.perf_counter()
    outcome = deploy(target, migrations, PlanOptions(), ApplyOptions(tx_mode=TxMode(tx_mode), tracer=LockTracer()))  # as the CLI
    done = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    trips = target.round_trips - 1  # the separate plan above read history once more
    target.close()
    assert len(outcome.applied) == len(migrations.migrations) == len(plan.pending)
    return {"parse": loaded - start, "plan": planned - loaded, "apply": done - planned,
            "total": done - start - (planned - loaded), "round_trips": trips, "peak_mib": peak / 2**20}


def generate(directory: Path, count: int) -> None:
    directory.mkdir()
    for i in range(1, count + 1):
        (directory / f"{i:06d}_gen_{i}.sql").write_text(
            f"-- generated migration {i}\n"
            f"create table public.g{i} (id bigint generated always as identity primary key, v text);\n"
            f"create index g{i}_v_idx on public.g{i} (v);\n"
            f"comment on table public.g{i} is 'generated {i}';\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 200 generated files")
    args = parser.parse_args()
    runs = 3 if args.quick else 5
    count = 200 if args.quick else 1000
    rows: list[tuple[str, str]] = []

    cold = cold_end_to_end(runs)
    rows.append((f"(a) `supadeploy deploy` cold, local target (median of {runs})",
                 f"{statistics.median(cold):.2f} s (min {min(cold):.2f}, max {max(cold):.2f})"))

    with Cluster(binaries.ensure(17), server_user()) as cluster:
        cluster.create_database("tpl")
        files = sorted(MIGRATIONS.glob("*.sql"))
        ratios = {"file": [], "all": []}
        details = {}
        for rep in range(runs):
            psql_db = f"p{rep}"
            cluster.create_database(psql_db, template="tpl")
            t_psql = psql_apply(cluster, psql_db, files)
            for mode in ("file", "all"):
                name = f"e{mode}{rep}"
                cluster.create_database(name, template="tpl")
                result = engine_apply(cluster.dsn(name), MIGRATIONS, mode)
                ratios[mode].append(result["total"] / t_psql)
                details[mode] = (result, t_psql)
        for mode in ("file", "all"):
            result, t_psql = details[mode]
            rows.append((f"(b) {len(list(MIGRATIONS.glob('*.sql')))} WellTrack migrations, --tx-mode {mode}: supadeploy / `psql -1 -f` (median ratio)",
                         f"{statistics.median(ratios[mode]):.2f}× ({result['total'] * 1000:.0f} ms vs "
                         f"{t_psql * 1000:.0f} ms; {result['round_trips']} round trips)"))

        with tempfile.TemporaryDirectory() as tmp:
            generated = Path(tmp) / "gen"
            generate(generated, count)
            gen_files = sorted(generated.glob("*.sql"))
            cluster.create_database("gpsql", template="tpl")
            t_psql = psql_apply(cluster, "gpsql", gen_files)
            for mode in ("file", "all"):
                cluster.create_database(f"g{mode}", template="tpl")
                result = engine_apply(cluster.dsn(f"g{mode}"), generated, mode)
                cluster.create_database(f"m{mode}", template="tpl")
                result["peak_mib"] = engine_apply(cluster.dsn(f"m{mode}"), generated, mode, trace=True)["peak_mib"]
                rows.append((f"(c) {count} generated migrations, --tx-mode {mode}",
                             f"parse {result['parse']:.2f} s, plan {result['plan']:.2f} s, "
                             f"apply {result['apply']:.2f} s, {result['round_trips']} round trips, "
                             f"peak {result['peak_mib']:.1f} MiB (Python heap); psql -1: {t_psql:.2f} s "
                             f"({result['total'] / t_psql:.2f}×)"))

    print("| measure | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\nRerun: .venv/bin/python bench/bench_deploy.py{' --quick' if args.quick else ''}")


if __name__ == "__main__":
    main()
