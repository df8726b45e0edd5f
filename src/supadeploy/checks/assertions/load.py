"""Reading assertion files: YAML with a line for every assertion, every option checked before any database
is touched (a bad file is refused with file and line)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import AssertionFileError
from ...model import Problem
from ...paths import shown_path
from ...registry import load
from . import sql
from .kind import AssertionKind

KINDS: dict[str, AssertionKind] = load("supadeploy.checks.assertions.kinds", AssertionKind)


@dataclass(frozen=True)
class Assertion:
    name: str
    kind: str
    spec: dict[str, Any]
    line: int
    file: str


class _LineLoader:
    """PyYAML SafeLoader that records each mapping's line as '__line__'."""

    @staticmethod
    def make() -> type:
        import yaml  # noqa: PLC0415 - heavy: loaded on first use

        class Loader(yaml.SafeLoader):
            pass

        def construct_mapping(loader: Any, node: Any, deep: bool = False) -> dict[Any, Any]:
            mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
            mapping["__line__"] = node.start_mark.line + 1
            return mapping

        Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
        return Loader


def load_assertions(path: Path, shown: str | None = None) -> list[Assertion]:
    import yaml  # noqa: PLC0415 - heavy: loaded on first use

    shown = shown or path.as_posix()
    if not path.is_file():
        raise AssertionFileError(f"assertion file not found: {shown}")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader.make())  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise AssertionFileError(f"{shown}: invalid YAML", [Problem(
            f"invalid YAML: {exc.problem}", file=shown, line=line, title="Invalid assertion file")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AssertionFileError(f"{shown}: invalid YAML", [Problem(
            f"invalid YAML: {exc}", file=shown, title="Invalid assertion file")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("assertions"), list):
        raise AssertionFileError(f"{shown}: expected a mapping with an 'assertions' list", [Problem(
            "expected a mapping with an 'assertions' list", file=shown, line=1, title="Invalid assertion file")])
    problems: list[Problem] = []
    assertions: list[Assertion] = []
    names: set[str] = set()
    for item in data["assertions"]:
        line = item.get("__line__") if isinstance(item, dict) else None
        if not isinstance(item, dict):
            problems.append(Problem("each assertion must be a mapping with a name and one check",
                                    file=shown, title="Invalid assertion"))
            continue
        kinds = [k for k in item if k in KINDS]
        unknown = [k for k in item if k not in KINDS and k not in ("name", "__line__")]
        name = item.get("name")
        if unknown:
            problems.append(Problem(f"unknown check {unknown[0]!r}; expected one of: {', '.join(sorted(KINDS))}",
                                    file=shown, line=line, title="Unknown check"))
            continue
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem("every assertion needs a 'name'", file=shown, line=line,
                                    title="Invalid assertion"))
            continue
        if name in names:
            problems.append(Problem(f"duplicate assertion name {name!r}", file=shown, line=line,
                                    title="Invalid assertion"))
            continue
        if len(kinds) != 1:
            problems.append(Problem(f"assertion {name!r} must have exactly one check, found {len(kinds)}",
                                    file=shown, line=line, title="Invalid assertion"))
            continue
        spec = item[kinds[0]]
        error = _validate(kinds[0], spec)
        if error:
            problems.append(Problem(f"assertion {name!r} ({kinds[0]}): {error}", file=shown,
                                    line=spec.get("__line__", line) if isinstance(spec, dict) else line,
                                    title="Invalid assertion"))
            continue
        names.add(name)
        assertions.append(Assertion(name, kinds[0], {k: v for k, v in spec.items() if k != "__line__"},
                                    line or 1, shown))
    if problems:
        raise AssertionFileError(f"{len(problems)} problem(s) in {shown}", problems)
    return assertions


def _validate(kind: str, spec: Any) -> str | None:
    """Every option checked for its type here, so a bad file is refused before any database is touched."""
    if not isinstance(spec, dict):
        return "expected a mapping of options"
    required, optional = KINDS[kind].REQUIRED, KINDS[kind].OPTIONAL
    missing = [k for k in required if k not in spec]
    if missing:
        return f"missing {', '.join(missing)}"
    unknown = [k for k in spec if k not in required and k not in optional and k != "__line__"]
    if unknown:
        return f"unknown option {unknown[0]!r}; expected: {', '.join(required + optional)}"
    for key, value in spec.items():
        if key == "__line__":
            continue
        check, expected = OPTION_TYPES[key]
        if not check(value):
            return f"option {key!r} must be {expected}, not {type(value).__name__} {str(value)[:60]!r}"
    try:
        KINDS[kind].to_sql({k: v for k, v in spec.items() if k != "__line__"})
    except (AssertionFileError, KeyError, TypeError, ValueError) as exc:
        return str(exc.problems[0].message if isinstance(exc, AssertionFileError) else exc)
    return None


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and "\x00" not in value


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(_is_text(v) for v in value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and value is not None


OPTION_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "equals": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "schema": (_is_text, "a name"), "pattern": (_is_text, "a LIKE pattern"), "table": (_is_text, "a table name"),
    "name": (_is_text, "a name"), "type": (_is_text, "a type as format_type prints it"),
    "generated": (_is_text, "an expression"), "column": (_is_text, "a column name"),
    "references": (_is_text, "a table name"), "role": (_is_text, "a role name"), "seed": (_is_text, "SQL"),
    "sql": (_is_text, "SQL"), "setup": (_is_text, "SQL"), "query": (_is_text, "SQL"), "object": (_is_text, "a name"),
    "owner_column": (_is_text, "a column name"),
    "tables": (_is_texts, "a list of table names"), "exclude": (_is_texts, "a list of table names"),
    "labels": (_is_texts, "a list of labels"),
    "privileges": (lambda v: _is_texts(v) and all(p.upper() in sql.PRIVILEGES + ("ALL",) for p in v),
                   f"a list of privileges ({', '.join(sql.PRIVILEGES)} or ALL)"),
    "owner_columns": (lambda v: isinstance(v, dict) and all(_is_text(k) and _is_text(c) for k, c in v.items()
                                                            if k != "__line__"), "a mapping of table → column"),
    "default": (_is_scalar, "a value"), "expect": (_is_scalar, "a number, boolean or text"),
    "not_null": (lambda v: isinstance(v, bool), "true or false"), "users": (lambda v: isinstance(v, bool), "true or false"),
    "sqlstate": (lambda v: isinstance(v, str) and re.fullmatch(r"[0-9A-Z]{5}", v) is not None, "a 5-character SQLSTATE"),
    "as": (lambda v: v in ("anon", "authenticated", "service_role"), "anon, authenticated or service_role"),
    "user": (lambda v: v in ("a", "b"), "a or b"),
}


# --- compiling: one PL/pgSQL block per check -----------------------------------


def load_suite(files: tuple[Path, ...] | list[Path], root: Path, required: bool) -> list[Assertion]:
    """Every assertion of these files, names unique across them; none is fine unless `required`."""
    if not files and required:
        raise AssertionFileError("no assertions to run: pass --assertions FILE or FOLDER (or add assertions/ or "
                                 "supabase/assertions/ to the repository)")
    suite: list[Assertion] = []
    seen: dict[str, Assertion] = {}
    problems: list[Problem] = []
    for path in files:
        for assertion in load_assertions(path, shown_path(path, root)):
            if assertion.name in seen:
                first = seen[assertion.name]
                problems.append(Problem(f"assertion name {assertion.name!r} is used twice: {first.file}:{first.line} "
                                        f"and here", file=assertion.file, line=assertion.line,
                                        title="Duplicate assertion"))
                continue
            seen[assertion.name] = assertion
            suite.append(assertion)
    if problems:
        raise AssertionFileError(f"{len(problems)} problem(s) in the assertion files", problems)
    return suite
