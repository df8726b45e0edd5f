"""Command line: `supadeploy plan | deploy | verify | status`.

The GitHub Action's entrypoint hands over to `main()` too: one code path.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .errors import EXIT_INTERNAL, Problem, SupadeployError
from .masking import collect, looks_like_secret
from .reporting import GitHub, Report, Reporter

COMMANDS = ("plan", "deploy", "verify", "status")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supadeploy",
        description="Ship a Supabase database schema safely: plan, deploy, verify, status.")
    parser.add_argument("--version", action="version", version=f"supadeploy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "plan": "show what a deploy would do: on a remote target a dry run, always rolled back",
        "deploy": "apply pending migrations, then run the assertions",
        "verify": "run the assertions against the target",
        "status": "list local and remote migrations, like `supabase migration list`",
    }
    for name in COMMANDS:
        command = sub.add_parser(name, help=helps[name], description=helps[name])
        _add_common(command)
    return parser


def _add_common(p: argparse.ArgumentParser) -> None:
    target = p.add_argument_group("target (no credentials: a local embedded database)")
    target.add_argument("--target", choices=("auto", "local", "postgres", "api"), default="auto",
                        help="where to deploy (default: chosen from the credentials given)")
    target.add_argument("--db-url", help="direct database URL (env SUPABASE_DB_URL)")
    target.add_argument("--project-ref", help="Supabase project ref (env SUPABASE_PROJECT_REF)")
    target.add_argument("--access-token", help="Supabase access token (env SUPABASE_ACCESS_TOKEN)")
    target.add_argument("--api-url", help="Management API base URL (default https://api.supabase.com)")
    target.add_argument("--pg-major", type=int, choices=(15, 17, 18), default=None,
                        help="PostgreSQL major of the local replay (default: [db] major_version in "
                             "supabase/config.toml, else 17)")
    target.add_argument("--api-timeout", type=_seconds, default=None, metavar="SECONDS",
                        help="read timeout per API request (default 75, above the API's own 60 s limit)")
    files = p.add_argument_group("files")
    files.add_argument("--migrations-dir", default="migrations", type=Path,
                       help="folder of <version>_<name>.sql files (default: migrations)")
    files.add_argument("--assertions", type=Path, default=None,
                       help="assertion YAML file (default: assertions/welltrack.yml when present)")
    files.add_argument("--no-assertions", action="store_true", help="skip the assertions")
    run = p.add_argument_group("deploy")
    run.add_argument("--tx-mode", choices=("file", "all"), default="file",
                     help="one transaction per file (default) or one for all pending files")
    run.add_argument("--gate", dest="gate", action="store_true", default=None,
                     help="run the assertions before COMMIT; any failure rolls back (default with --tx-mode all)")
    run.add_argument("--no-gate", dest="gate", action="store_false")
    run.add_argument("--dry-run", action=argparse.BooleanOptionalAction, default=None,
                     help="apply and verify inside one transaction that is always rolled back, with short lock "
                          "timeouts (default for `plan` on a remote target; --no-dry-run only lists)")
    run.add_argument("--include-all", action="store_true",
                     help="also apply unapplied files older than the newest applied one")
    run.add_argument("--allow-drift", action="store_true",
                     help="deploy even if applied files were edited (reported as warnings)")
    run.add_argument("--target-version", help="deploy up to and including this version")
    run.add_argument("--lock-timeout", default=None,
                     help="lock_timeout per transaction (default 10s; 2s in a dry run)")
    run.add_argument("--statement-timeout", default="5min",
                     help="statement_timeout per transaction (default 5min)")
    run.add_argument("--lock-wait", default=None,
                     help="how long to wait for another deploy's lock (default 30s; 5s in a dry run)")
    out = p.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json"), default="text")
    out.add_argument("--report", type=Path, help="also write the JSON report to this file")
    out.add_argument("--junit", type=Path, help="also write JUnit XML (a test case per migration and assertion)")
    out.add_argument("--fail-on-warnings", action="store_true", help="exit 1 when there are warnings")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    reporter = Reporter(args.format, github=GitHub.from_environ())
    # Before anything is printed: every secret the run was given, in any field.
    given = [v for v in (argv if argv is not None else sys.argv[1:]) if looks_like_secret(v)]
    reporter.secrets.add_all(collect([args.access_token, *given], [args.db_url], os.environ))
    report = Report(command=args.command)
    started = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        from .commands import run_command

        run_command(args, report, reporter)
    except SupadeployError as exc:
        report.status = exc.report_status
        report.exit_code = exc.exit_code
        for problem in exc.problems:
            report.add_problem(problem, "error", fatal=True)
            reporter.problem(problem)
    except Exception as exc:  # noqa: BLE001 - a bug must still end in a report, scrubbed of secrets
        import traceback

        report.status, report.exit_code = "error", EXIT_INTERNAL
        problem = Problem(f"internal error: {type(exc).__name__}: {exc}", title="supadeploy internal error")
        report.add_problem(problem, "error", fatal=True)
        reporter.problem(problem)
        if os.environ.get("SUPADEPLOY_DEBUG"):
            reporter.debug("".join(traceback.format_exception(exc)))
    except KeyboardInterrupt:
        report.status, report.exit_code = "interrupted", 130
        problem = Problem("interrupted: nothing further was sent")
        report.add_problem(problem, "error", fatal=True)
        reporter.problem(problem)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if report.exit_code == 0 and args.fail_on_warnings and any(
            p["level"] == "warning" for p in report.problems):
        report.status, report.exit_code = "failed", 1
    report.duration_ms = int((time.monotonic() - started) * 1000)
    reporter.finish(report, args.report, args.junit)
    return report.exit_code


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("expected seconds between 0 and 3600")
    return seconds


def _terminate(signum: int, frame: Any) -> None:
    """The runner cancels with SIGTERM: stop like Ctrl-C, and let a second TERM not cut the clean-up."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt()


def entry() -> None:
    """Console script."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
