"""Action benchmarks: entrypoint start-up time, and what the Docker image installs.

Rerun: .venv/bin/python bench/bench_action.py [--runs 20] [--no-size]
Start-up: wall and CPU (user + sys) time of `python entrypoint.py --help` and of
the input-parsing path (entrypoint inputs → CLI arguments → argparse), which must
import nothing heavy. Size: the Dockerfile's pinned runtime dependencies installed
with pip into an empty folder (needs PyPI), per package.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PARSE_ONLY = ("import runpy, sys; ns = runpy.run_path({entry!r}); "
              "argv = ns['cli_arguments']({{'INPUT_COMMAND': 'deploy', 'GITHUB_WORKSPACE': {repo!r}}}); "
              "from supadeploy.cli import build_parser; build_parser().parse_args(argv)")


def timed(command: list[str], runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=REPO)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def dependency_sizes() -> list[tuple[str, float]]:
    pins = re.findall(r'"([A-Za-z0-9_.\-\[\]]+==[^"]+)"', (REPO / "Dockerfile").read_text())
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-cache-dir", "--target", folder, *pins],
                       check=True, capture_output=True)
        root = Path(folder)
        sizes = [(p.name, folder_size(p) / 2**20) for p in root.iterdir() if p.is_dir() and not p.name.endswith("-info")]
        total = folder_size(root) / 2**20
    sizes.sort(key=lambda item: -item[1])
    return [("total", total)] + sizes[:8]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-size", action="store_true", help="skip the pip install size measurement")
    args = parser.parse_args()
    entry = str(REPO / "entrypoint.py")
    rows = [("`python entrypoint.py --help`", *timed([sys.executable, entry, "--help"], args.runs)),
            ("inputs → CLI arguments → argparse", *timed([sys.executable, "-c", PARSE_ONLY.format(
                entry=entry, repo=str(REPO))], args.runs)),
            ("bare `python -c pass` (for reference)", *timed([sys.executable, "-c", "pass"], args.runs))]
    print(f"Start-up, median of {args.runs} runs ({os.cpu_count()} cores):\n")
    print("| path | wall | CPU (user + sys) |\n|---|---:|---:|")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms |")
    if not args.no_size:
        print("\nRuntime dependencies the image installs (pip install --target, the Dockerfile's pins):\n")
        print("| package folder | MiB |\n|---|---:|")
        for name, mib in dependency_sizes():
            print(f"| {name} | {mib:.1f} |")
    print("\nrerun: .venv/bin/python bench/bench_action.py")


if __name__ == "__main__":
    main()
