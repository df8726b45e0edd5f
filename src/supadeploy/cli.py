"""Command line: `supadeploy plan | deploy | verify | status | lint | rollout`.

Arguments are parsed here, once, into `Options` (the table in options.py says what each one is); the rest
of the program never sees argparse. The GitHub Action's entrypoint hands over to `main()` too: one code
path for the action and the terminal.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, outcome
from .masking import Secrets, collect, looks_like_secret
from .model import Level, RunStatus
from .options import BY_NAME, COMMANDS, OPTIONS, PLATFORM, Option, OptionError, Options
from .report.github import GitHub, input_error
from .report.report import Report
from .report.reporter import Reporter

GROUPS = {"target": "target (no credentials: the local replay, a throwaway PostgreSQL set up like a hosted "
                    "project)",
          "assertions": "assertions", "deploy": "deploy", "output": "output",
          "fleet": "fleet (rollout: the projects come from the fleet file, one access token for all)"}


class UsageError(Exception):
    """A flag argparse refused: reported like any bad input (one error, exit 2), never echoing a secret."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print usage and exit
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(value: str) -> Any:
        try:
            return parse(value)
        except OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def _add(group: Any, option: Option) -> None:
    names = [option.flag] + ([option.short] if option.short else [])
    help_text = option.help.rstrip(".")
    if option.kind == "switch":
        group.add_argument(*names, dest=option.dest, action="store_true", help=help_text)
    elif option.kind == "tristate":
        group.add_argument(*names, dest=option.dest, action=argparse.BooleanOptionalAction, default=None,
                           help=help_text)
    else:
        choices = [option.parse(c) for c in option.choices] if option.choices and option.parse else \
            list(option.choices) or None
        group.add_argument(*names, dest=option.dest, type=_typed(option.parse) if option.parse else None,
                           choices=choices, metavar=option.metavar, default=_argparse_default(option),
                           action="append" if option.kind == "repeat" else "store", help=help_text)


def _argparse_default(option: Option) -> Any:
    """The table's default, except where it depends on the run (a dry run's own): then None, "not given"."""
    if option.kind == "repeat" or option.default_in_dry_run is not None:
        return None
    return option.default


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="supadeploy", description="Ship a Supabase database schema safely: plan, deploy, verify, status, lint.",
        epilog="Run `supadeploy COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"supadeploy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        spec = sub.add_parser(command.name, help=command.summary, description=command.summary,
                              epilog=f"example:\n  {command.example}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        groups: dict[str, Any] = {}
        for option in OPTIONS:
            if command.name in option.commands:
                if option.group not in groups:
                    groups[option.group] = spec.add_argument_group(GROUPS[option.group])
                _add(groups[option.group], option)
    tool = sub.add_parser(PLATFORM.name, help=PLATFORM.summary, description=PLATFORM.summary,
                          epilog=f"example:\n  {PLATFORM.example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    tool.add_argument("action", choices=("prepare",))
    majors = BY_NAME["pg-major"].choices
    tool.add_argument("majors", nargs="*", type=int, choices=[int(m) for m in majors], metavar="MAJOR",
                      help=f"PostgreSQL majors to prepare ({', '.join(majors)}; default: all)")
    tool.add_argument("--system", dest="system_majors", nargs="+", type=int, default=[], metavar="MAJOR",
                      help="also prepare an installed Debian/Ubuntu PostgreSQL of this major (/usr/lib/postgresql)")
    tool.add_argument("--format", choices=("text", "json"), default="text", help="json: the report on stdout")
    tool.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR set)")
    return parser


def options_from(args: argparse.Namespace, root: Path) -> Options:
    """The parsed arguments as typed options: the one place argparse's namespace is read; the environment's
    credentials fill what the flags did not give."""
    values: dict[str, Any] = {"command": args.command, "root": root}
    for option in OPTIONS:  # a flag its command lacks takes the table's default
        given = getattr(args, option.dest, _argparse_default(option))
        values[option.dest] = tuple(given or ()) if option.kind == "repeat" else given
    values["majors"] = tuple(getattr(args, "majors", ()) or ())
    values["system_majors"] = tuple(getattr(args, "system_majors", ()) or ())
    for name, env in (("db_url", "SUPABASE_DB_URL"), ("project_ref", "SUPABASE_PROJECT_REF"),
                      ("access_token", "SUPABASE_ACCESS_TOKEN"), ("api_url", "SUPABASE_API_URL"),
                      ("github_token", "GITHUB_TOKEN")):
        values[name] = values[name] or os.environ.get(env) or None
    return Options(**values)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        secrets = Secrets()
        secrets.add_all(collect([v for v in argv if looks_like_secret(v)], [], os.environ))
        input_error(secrets.scrub(str(exc)))
        return EXIT_BAD_INPUT
    root = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())
    # A matrix is for machines: stdout carries its JSON only (every human line goes to stderr).
    fmt = "json" if getattr(args, "github_matrix", None) else args.format
    reporter = Reporter(Report(command=args.command), fmt, github=GitHub.from_environ(),
                        color=False if args.no_color else None)
    # Before anything is printed: every secret the run was given, in any field.
    given = [v for v in argv if looks_like_secret(v)]
    reporter.secrets.add_all(collect([getattr(args, "access_token", None), getattr(args, "github_token", None),
                                      os.environ.get("GITHUB_TOKEN"), *given], [getattr(args, "db_url", None)],
                                     os.environ))
    report = reporter.report
    started = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _terminate)
    options: Options | None = None
    try:
        options = options_from(args, root)
        # The engine loads only now: a bad flag is answered in milliseconds, and a Ctrl-C while it loads
        # ends like any other interruption.
        from .commands import run_command  # noqa: PLC0415

        run_command(options, reporter)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - every ending is reported; errors.outcome says how
        ended = outcome(exc)
        report.status, report.exit_code = ended.status, ended.exit_code
        for problem in ended.problems:
            reporter.problem(problem, Level.ERROR, fatal=True)
        if ended.debug and os.environ.get("SUPADEPLOY_DEBUG"):
            reporter.debug(ended.debug)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if report.exit_code == 0 and options is not None and options.fail_on_warnings and report.problems_at(
            Level.WARNING):
        report.status, report.exit_code = RunStatus.FAILED, 1
    report.duration_ms = int((time.monotonic() - started) * 1000)
    reporter.finish(getattr(args, "report", None), getattr(args, "junit", None), getattr(args, "pr_comment", None))
    return report.exit_code


def _terminate(signum: int, frame: Any) -> None:
    """The runner cancels with SIGTERM: stop like Ctrl-C, and let a second TERM not cut the clean-up."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt()


def entry_code(run: Callable[[], int]) -> int:
    """Run the CLI so that a console that cannot print every character, or an early Ctrl-C, never ends in a
    traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except ValueError:
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
