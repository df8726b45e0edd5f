"""`supadeploy platform prepare [MAJOR...] [--system MAJOR...]`: the local replay's PostgreSQL and its real
extensions, ahead of time (the image and CI do it at build time, so a replay downloads nothing)."""

from __future__ import annotations

from ..options import Options
from ..platform.binaries import cache_root
from ..platform.prepare import prepare
from ..report.reporter import Reporter


def run(options: Options, reporter: Reporter) -> None:
    reporter.report.database = f"the local replay's cache ({cache_root()})"
    reporter.heading(f"supadeploy platform prepare → {cache_root()}")
    done = prepare(list(options.majors) or None, lambda message: reporter.progress(f"  … {message}"),
                   list(options.system_majors))
    for item in done:
        reporter.progress(item.summary())
    reporter.report.plan_summary = "prepared PostgreSQL " + ", ".join(str(item.binaries.major) for item in done)
