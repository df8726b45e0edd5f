"""Command line: `supadeploy plan | deploy | verify | status`.

Arguments are parsed here, once, into `Options`; the rest of the program never
sees argparse. The GitHub Action's entrypoint hands over to `main()` too: one
code path for the action and the terminal.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, Problem, SupadeployError
from .masking import collect, looks_like_secret, shown
from .options import COMMANDS, Options, Output
from .reporting import GitHub, Report, Reporter

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$")

HELP = {
    "plan": ("show what a deploy would do; with credentials, a dry run that is always rolled back",
             "supadeploy plan --project-ref abcdefghijklmnopqrst     # token in SUPABASE_ACCESS_TOKEN"),
    "deploy": ("apply pending migrations, then run the assertions",
               "supadeploy deploy                                      # no credentials: the local replay"),
    "verify": ("run the assertions against the target (the local replay replays the migrations first)",
               "supadeploy verify --db-url \"$SUPABASE_DB_URL\" --assertions supabase/assertions/"),
    "status": ("list local and remote migrations, like `supabase migration list`",
               "supadeploy status --project-ref abcdefghijklmnopqrst"),
    "lint": ("lock safety of the pending migrations: traced on a local replay, squawk's static rules, sized by "
             "production when credentials are given",
             "supadeploy lint --project-ref abcdefghijklmnopqrst     # sizes from production, nothing applied there"),
}


def duration(value: str) -> str:
    """A PostgreSQL duration; a bare number is seconds, as for --api-timeout."""
    if looks_like_secret(value):
        raise argparse.ArgumentTypeError(f"expected a duration such as 10s or 500ms, not {shown(value)}")
    match = _DURATION.match(value)
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration such as 10s, 500ms or 5min (a bare number is "
                                         f"seconds), not {shown(value)}")
    return f"{match.group(1)}{match.group(2) or 's'}"


def seconds(value: str) -> float:
    text = duration(value)
    match = _DURATION.match(text)
    assert match is not None
    result = float(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < result <= 3600:
        raise argparse.ArgumentTypeError("expected between 0 and 3600 seconds")
    return result


class UsageError(Exception):
    """A flag argparse refused: reported like any bad input (one error, exit 2), never echoing a secret."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print usage and exit
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="supadeploy", description="Ship a Supabase database schema safely: plan, deploy, verify, status.",
        epilog="Run `supadeploy COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"supadeploy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        summary, example = HELP[name]
        command = sub.add_parser(name, help=summary, description=summary, epilog=f"example:\n  {example}",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        _target_flags(command)
        command.add_argument("--migrations-dir", type=Path, default=None,
                             help="folder of <version>_<name>.sql files (default: migrations/, else "
                                  "supabase/migrations/)")
        if name in ("plan", "deploy", "verify"):
            _assertion_flags(command)
        if name in ("plan", "deploy"):
            _deploy_flags(command, name)
        if name in ("plan", "deploy", "lint"):
            command.add_argument("--max-lock-risk", choices=("note", "warning", "error", "none"), default="error",
                                 help="lock-safety findings at or above this fail the run (default error: blocking "
                                      "a table of 1 GiB or more)")
        _output_flags(command)
    return parser


def _target_flags(p: argparse.ArgumentParser) -> None:
    target = p.add_argument_group("target (no credentials: the local replay, a throwaway PostgreSQL set up like "
                                  "a hosted project)")
    target.add_argument("--target", choices=("auto", "local", "postgres", "api"), default="auto",
                        help="where to go (default: chosen from the credentials given)")
    target.add_argument("--db-url", help="direct database URL (env SUPABASE_DB_URL)")
    target.add_argument("--project-ref", help="Supabase project ref (env SUPABASE_PROJECT_REF)")
    target.add_argument("--access-token", help="Supabase access token (env SUPABASE_ACCESS_TOKEN)")
    target.add_argument("--api-url", help="Management API base URL (default https://api.supabase.com)")
    target.add_argument("--api-timeout", type=seconds, default=None, metavar="DURATION",
                        help="read timeout per API request (default 75s, above the API's own 60 s)")
    target.add_argument("--pg-major", type=int, choices=(15, 17, 18), default=None,
                        help="PostgreSQL major of the local replay (default: [db] major_version in "
                             "supabase/config.toml, else 17)")


def _assertion_flags(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("assertions")
    group.add_argument("--assertions", type=Path, action="append", default=[], metavar="FILE_OR_FOLDER",
                       help="assertion YAML file or folder; repeat to compose (default: supabase/assertions/ "
                            "or assertions/ when present)")
    group.add_argument("--no-assertions", action="store_true", help="run no assertions")


def _deploy_flags(p: argparse.ArgumentParser, name: str) -> None:
    run = p.add_argument_group("deploy")
    run.add_argument("--tx-mode", choices=("file", "all"), default="file",
                     help="one transaction per file (default) or one for all pending files")
    run.add_argument("--gate", dest="gate", action="store_true", default=None,
                     help="run the assertions before COMMIT; any failure rolls back (default with --tx-mode all)")
    run.add_argument("--no-gate", dest="gate", action="store_false")
    run.add_argument("--dry-run", action=argparse.BooleanOptionalAction, default=None,
                     help="apply and verify inside one transaction that is always rolled back, with short lock "
                          "timeouts" + (" (default for plan on a remote target; --no-dry-run only lists)"
                                        if name == "plan" else ""))
    run.add_argument("--include-all", action="store_true",
                     help="also apply unapplied files older than the newest applied one")
    run.add_argument("--allow-drift", action="store_true",
                     help="go on although applied files were edited (reported as warnings)")
    run.add_argument("--target-version", help="up to and including this version")
    run.add_argument("--lock-timeout", type=duration, default=None, metavar="DURATION",
                     help="lock_timeout per transaction (default 10s; 2s in a dry run)")
    run.add_argument("--statement-timeout", type=duration, default="5min", metavar="DURATION",
                     help="statement_timeout per transaction (default 5min)")
    run.add_argument("--lock-wait", type=duration, default=None, metavar="DURATION",
                     help="how long to queue behind another deploy (default 30s; 5s in a dry run)")
    if name == "deploy":
        run.add_argument("--yes", "-y", action="store_true",
                         help="do not ask before deploying to a remote database (CI never asks)")


def _output_flags(p: argparse.ArgumentParser) -> None:
    out = p.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json"), default="text", help="json: the report on stdout")
    out.add_argument("--report", type=Path, help="also write the JSON report to this file")
    out.add_argument("--junit", type=Path, help="also write JUnit XML (a test case per migration and assertion)")
    out.add_argument("--pr-comment", type=Path, metavar="PATH",
                     help="also write a pull-request comment (Markdown, under GitHub's size limit) to this file")
    out.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR set)")
    out.add_argument("--fail-on-warnings", action="store_true", help="exit 1 when there are warnings")


def options_from(args: argparse.Namespace, root: Path) -> Options:
    """The parsed arguments as typed options: the one place argparse's namespace is read."""
    from .targets import TargetSettings

    target = TargetSettings.from_env(args.target, args.db_url, args.project_ref, args.access_token, args.api_url,
                                     args.api_timeout, args.pg_major, root)
    get = lambda name, default=None: getattr(args, name, default)  # noqa: E731 - flags a command lacks
    return Options(
        command=args.command, target=target, root=root, migrations_dir=args.migrations_dir,
        assertions=tuple(get("assertions", []) or []), no_assertions=bool(get("no_assertions", False)),
        tx_mode=get("tx_mode", "file"), gate=get("gate"), dry_run=get("dry_run"),
        include_all=bool(get("include_all", False)), allow_drift=bool(get("allow_drift", False)),
        target_version=get("target_version"), lock_timeout=get("lock_timeout"),
        statement_timeout=get("statement_timeout", "5min"), lock_wait=get("lock_wait"),
        fail_on_warnings=bool(args.fail_on_warnings), yes=bool(get("yes", False)),
        max_lock_risk=get("max_lock_risk", "error"),
        output=Output(args.format, args.report, args.junit, args.pr_comment,
                                                       False if args.no_color else None))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        from .masking import Secrets

        secrets = Secrets()
        secrets.add_all(collect([v for v in argv if looks_like_secret(v)], [], os.environ))
        from .reporting import input_error

        input_error(secrets.scrub(str(exc)))
        return EXIT_BAD_INPUT
    root = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())
    reporter = Reporter(args.format, github=GitHub.from_environ(), color=False if args.no_color else None)
    # Before anything is printed: every secret the run was given, in any field.
    given = [v for v in argv if looks_like_secret(v)]
    reporter.secrets.add_all(collect([args.access_token, *given], [args.db_url], os.environ))
    report = Report(command=args.command)
    started = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _terminate)
    options: Options | None = None
    try:
        options = options_from(args, root)
        from .commands import run_command

        run_command(options, report, reporter)
    except SupadeployError as exc:
        report.status = exc.report_status
        report.exit_code = exc.exit_code
        for problem in exc.problems:
            report.add_problem(problem, "error", fatal=True)
            reporter.problem(problem)
    except KeyboardInterrupt:
        report.status, report.exit_code = "interrupted", EXIT_INTERRUPTED
        problem = Problem("interrupted; no transaction was in flight (migrations reported as applied are committed)")
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
    finally:
        signal.signal(signal.SIGTERM, previous)
    if report.exit_code == 0 and options is not None and options.fail_on_warnings and any(
            p["level"] == "warning" for p in report.problems):
        report.status, report.exit_code = "failed", 1
    report.duration_ms = int((time.monotonic() - started) * 1000)
    reporter.finish(report, args.report, args.junit, args.pr_comment)
    return report.exit_code


def _terminate(signum: int, frame: Any) -> None:
    """The runner cancels with SIGTERM: stop like Ctrl-C, and let a second TERM not cut the clean-up."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt()


def entry_code(run: Any) -> int:
    """Run the CLI so that a console that cannot print every character, or an early Ctrl-C, never ends in a
    traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    try:
        return int(run())
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED


def entry() -> None:
    """Console script."""
    sys.exit(entry_code(main))


if __name__ == "__main__":  # pragma: no cover
    entry()
