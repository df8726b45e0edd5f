"""One big data migration (single-row inserts, as a seed or a data fix is written) through `--db-url`, vs psql.

Rerun: .venv/bin/python bench/bench_large_file.py [--sizes 1 10 50] [--pg-major 17] [--no-psql]
Each size is one file of one `create table` and single-row `insert`s (about 100 bytes each, so 50 MB is
about 500,000 statements). `supadeploy deploy --db-url` (a child process, as a user runs it) and
`psql -X -1 -v ON_ERROR_STOP=1 -f` each apply it to a fresh database of the embedded server from the cache;
both are timed (wall clock) and their peak memory is the child's rusage (`ru_maxrss`, which includes
anything the child waited for: squawk). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from supadeploy.platform import binaries  # noqa: E402
from supadeploy.platform.cluster import Cluster, server_user  # noqa: E402

FILE = "20240101000000_big_seed.sql"
HEADER = "-- a data migration: one table, then one row per statement\n" \
         "create table public.big (id bigint primary key, name text not null, note text);\n"
ROW = "insert into public.big (id, name, note) values ({i}, 'name {i}', 'a row; with a semicolon');\n"


def make(folder: Path, megabytes: float) -> int:
    """One migration file of about `megabytes` MB; returns its number of rows."""
    folder.mkdir(parents=True, exist_ok=True)
    target = int(megabytes * 1_000_000)
    rows = 0
    with (folder / FILE).open("w") as out:
        size = out.write(HEADER)
        while size < target:
            rows += 1
            size += out.write(ROW.format(i=rows))
    return rows


def measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall time (s), peak RSS (MiB) of the child and its waited-for children, and its output tail."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        tail = output.read().decode(errors="replace")[-2000:]
    if child.returncode != 0:
        raise SystemExit(f"{command[0]} … failed (exit {child.returncode}):\n{tail}")
    return elapsed, usage.ru_maxrss / 1024, tail


def psql_binary(cluster: Cluster) -> str:
    psql = cluster.bindir / "psql"  # npm's server builds have no psql: then Debian's (any recent client works)
    return str(psql) if psql.exists() else (shutil.which("psql") or "psql")


def count_rows(cluster: Cluster, dsn: str) -> int:
    done = subprocess.run([psql_binary(cluster), "-X", "-A", "-t", "-c", "select count(*) from public.big", dsn],
                          check=True, capture_output=True, text=True)
    return int(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 50])
    parser.add_argument("--pg-major", type=int, default=17)
    parser.add_argument("--no-psql", action="store_true", help="skip the psql comparison")
    args = parser.parse_args()
    env = {**os.environ, "CI": "1", "NO_COLOR": "1"}
    rows_out = []
    with Cluster(binaries.ensure(args.pg_major), server_user()) as cluster, \
            tempfile.TemporaryDirectory() as tmp:
        cluster.create_database("tpl")
        for n, megabytes in enumerate(args.sizes):
            folder = Path(tmp) / f"m{n}"
            rows = make(folder, megabytes)
            size = (folder / FILE).stat().st_size / 1_000_000
            dsn = cluster.create_database(f"s{n}", template="tpl")
            s_time, s_rss, _ = measured([sys.executable, "-m", "supadeploy", "deploy", "--db-url", dsn,
                                         "--migrations-dir", str(folder), "--no-assertions", "--yes"], env)
            assert count_rows(cluster, dsn) == rows
            p_time = p_rss = float("nan")
            if not args.no_psql:
                dsn = cluster.create_database(f"p{n}", template="tpl")
                p_time, p_rss, _ = measured([psql_binary(cluster), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1",
                                             "-f", str(folder / FILE), dsn])
                assert count_rows(cluster, dsn) == rows
            rows_out.append((size, rows, s_time, s_rss, p_time, p_rss))
            print(f"{size:.1f} MB: supadeploy {s_time:.1f} s {s_rss:.0f} MiB; psql {p_time:.1f} s {p_rss:.0f} MiB",
                  file=sys.stderr)
    print("| file | statements | `supadeploy deploy --db-url` | peak RSS | `psql -1 -f` | peak RSS |\n"
          "|---:|---:|---:|---:|---:|---:|")
    for size, rows, s_time, s_rss, p_time, p_rss in rows_out:
        print(f"| {size:.1f} MB | {rows + 1:,} | {s_time:.1f} s | {s_rss:.0f} MiB | {p_time:.1f} s | {p_rss:.0f} MiB |")
    print(f"\nRerun: .venv/bin/python bench/bench_large_file.py --sizes {' '.join(f'{s:g}' for s in args.sizes)} "
          f"--pg-major {args.pg_major}{' --no-psql' if args.no_psql else ''}")


if __name__ == "__main__":
    main()
