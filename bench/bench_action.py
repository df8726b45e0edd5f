"""Action benchmarks: entrypoint start-up time, and the image's size.

Rerun: .venv/bin/python bench/bench_action.py [--runs 20] [--image localhost/supadeploy:ci]
Start-up: wall and CPU (user + sys) time of `python entrypoint.py --help` and of
the input-parsing path (entrypoint inputs → CLI arguments → argparse), which must
import nothing heavy. Size (with --image, built by scripts/build-image.sh; podman
reads CONTAINERS_CONF=.cache/containers.conf): the image, compressed as a registry
stores it, per layer, and its biggest folders.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
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


def image_sizes(image: str) -> list[tuple[str, float]]:
    """MiB: the image, gzip-compressed (as pulled), each layer, and the folders that weigh most."""
    def podman(*args: str) -> str:
        return subprocess.run(["podman", *args], check=True, capture_output=True, text=True).stdout

    total = int(podman("image", "inspect", "--format", "{{.Size}}", image)) / 2**20
    saved = subprocess.Popen(["podman", "save", image], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    gzipped = subprocess.run(["gzip", "-6"], stdin=saved.stdout, capture_output=True, check=True).stdout
    saved.wait()
    rows = [("image", total), ("compressed (gzip, as pulled)", len(gzipped) / 2**20)]
    for line in podman("history", "--format", "{{.Size}}\t{{.CreatedBy}}", image).splitlines():
        size, created = line.split("\t", 1)
        if size != "0B" and size != "0 B":
            rows.append((f"layer: {created.replace('/bin/sh -c ', '')[:70]}", _mib(size)))
    du = podman("run", "--rm", "--entrypoint", "du", image, "-sk", "/opt/venv/lib/python3.11/site-packages/pglast",
                "/opt/venv/bin/squawk", "/opt/supadeploy/cache/postgres", "/opt/supadeploy/cache/pgvector",
                "/opt/supadeploy/src")
    rows += [(f"folder: {path}", int(kib) / 1024) for kib, path in (line.split("\t") for line in du.splitlines())]
    return rows


def _mib(text: str) -> float:
    number, unit = re.match(r"([0-9.]+)\s*([kMG]?B)", text).groups()
    return float(number) * {"B": 1 / 2**20, "kB": 1000 / 2**20, "MB": 1e6 / 2**20, "GB": 1e9 / 2**20}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--image", help="the image to measure (e.g. localhost/supadeploy:ci)")
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
    if args.image:
        print(f"\nThe image {args.image}:\n")
        print("| what | MiB |\n|---|---:|")
        for name, mib in image_sizes(args.image):
            print(f"| {name} | {mib:.1f} |")
    print("\nrerun: CONTAINERS_CONF=$PWD/.cache/containers.conf .venv/bin/python bench/bench_action.py "
          "--image localhost/supadeploy:ci")


if __name__ == "__main__":
    main()
