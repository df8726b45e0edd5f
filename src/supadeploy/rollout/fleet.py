"""The fleet file: which projects a rollout deploys to, in which waves, how many at once.

    waves:
      - name: canary
        projects: [abcdefghijklmnopqrst]
      - name: eu
        max_parallel: 4
        projects: [bcdefghijklmnopqrstu, cdefghijklmnopqrstuv]
      - name: rest
        max_parallel: 8
        projects: all          # every other project the token sees, minus those above
    organization: my-org       # optional: the fleet is this organization's projects
    exclude: [defghijklmnopqrstuvw]   # optional: never part of `all`

It is read from YAML's node tree, not from loaded Python values, so every
error names its file and line, duplicate keys (which a plain YAML load keeps
silently, the last one winning) are refused, and no tag or alias can build
anything. Every problem of the file is reported at once, before anything is
sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ConfigError
from ..masking import shown
from ..model import Problem

DEFAULT_FLEET = Path("supabase/fleet.yml")
REF_RE = re.compile(r"^[a-z]{20}$")
WAVE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ORG_SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
MAX_PARALLEL = 64  # a typo guard: every project of a wave at once is rarely meant beyond this
ALL = "all"
TOP_KEYS = ("waves", "organization", "exclude")
WAVE_KEYS = ("name", "max_parallel", "projects")
STR, INT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int"
TITLE = "Fleet file"


class FleetFileError(ConfigError):
    """The fleet file cannot be used as it is: nothing was sent to any project."""


@dataclass(frozen=True)
class Named:
    """A project named in the file, with the line that names it."""

    ref: str
    line: int


@dataclass(frozen=True)
class Wave:
    name: str
    max_parallel: int
    projects: tuple[Named, ...]  # empty when `all`
    all: bool
    line: int  # where the wave starts


@dataclass(frozen=True)
class Fleet:
    path: str  # as the user gave it, for messages
    waves: tuple[Wave, ...]
    organization: str | None = None
    organization_line: int | None = None
    exclude: tuple[Named, ...] = ()

    def wave(self, name: str) -> Wave:
        """The wave called `name`; a clear error listing the waves otherwise."""
        for wave in self.waves:
            if wave.name == name:
                return wave
        names = ", ".join(w.name for w in self.waves)
        raise ConfigError(f"{self.path} has no wave {name!r}; its waves: {names}")

    @property
    def named(self) -> dict[str, Named]:
        """Every project named in a wave, by ref."""
        return {p.ref: p for wave in self.waves for p in wave.projects}


def load_fleet(path: Path, shown: str | None = None) -> Fleet:
    """Read and validate a fleet file; `shown` is how messages name it (default: the path)."""
    name = shown or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FleetFileError(f"fleet file {name} not found (the default is {DEFAULT_FLEET}; "
                             "pass another with --fleet)") from None
    except OSError as exc:
        raise FleetFileError(f"cannot read fleet file {name}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FleetFileError(f"{name} is not UTF-8 text (byte {exc.start})",
                             [Problem(f"not UTF-8 text (byte {exc.start})", file=name, line=1,
                                      title=TITLE)]) from None
    return parse_fleet(text, name)


def parse_fleet(text: str, path: str) -> Fleet:
    """Validate a fleet file's text; every problem found is in the one error raised."""
    reader = _Reader(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or exc.context or "invalid YAML"
        raise reader.error_for([Problem(f"invalid YAML: {reason}", file=path, line=line, title=TITLE)]) from None
    except yaml.YAMLError as exc:
        raise reader.error_for([Problem(f"invalid YAML: {exc}", file=path, line=1, title=TITLE)]) from None
    fleet = reader.fleet(root)
    reader.raise_if_any()
    assert fleet is not None
    return fleet


class _Reader:
    """Walks the node tree, collecting problems instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.seen: dict[str, tuple[str, int]] = {}  # ref -> (where, line) of its first mention

    def add(self, node: yaml.Node | None, message: str, line: int | None = None) -> None:
        where = line if line is not None else (node.start_mark.line + 1 if node is not None else 1)
        self.problems.append(Problem(message, file=self.path, line=where, title=TITLE))

    def error_for(self, problems: list[Problem]) -> FleetFileError:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        return FleetFileError(f"invalid fleet file: {first}{more}", problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise self.error_for(sorted(self.problems, key=lambda p: p.line or 0))

    # -- the document -------------------------------------------------------
    def fleet(self, root: yaml.Node | None) -> Fleet | None:
        if root is None:
            self.add(None, "the file is empty: it needs `waves:`, a list of waves (name, projects, max_parallel)")
            return None
        entries = self.mapping(root, "the fleet file", TOP_KEYS)
        if entries is None:
            return None
        waves_node = entries.get("waves")
        if waves_node is None:
            self.add(root, "`waves:` is missing: a list of waves (name, projects, max_parallel)")
        organization, organization_line = self.organization(entries.get("organization"))
        waves = self.waves(waves_node) if waves_node is not None else ()
        exclude = self.refs(entries["exclude"], "exclude") if "exclude" in entries else ()
        if exclude and waves and not any(wave.all for wave in waves):
            self.add(entries["exclude"], "`exclude:` only narrows a wave with `projects: all`, and no wave has it")
        return Fleet(self.path, waves, organization, organization_line, exclude)

    def organization(self, node: yaml.Node | None) -> tuple[str | None, int | None]:
        if node is None:
            return None, None
        value = self.string(node, "organization")
        if value is not None and not ORG_SLUG_RE.match(value):
            self.add(node, f"organization {shown(value)} is not an organization slug "
                           "(Organization settings → General → Organization slug)")
            return None, None
        return value, node.start_mark.line + 1

    def waves(self, node: yaml.Node) -> tuple[Wave, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.add(node, "`waves:` must be a list of waves, each `- name: ...`")
            return ()
        if not node.value:
            self.add(node, "`waves:` is empty: a fleet needs at least one wave")
            return ()
        waves: list[Wave] = []
        names: dict[str, int] = {}
        all_line: int | None = None
        for item in node.value:
            wave = self.wave(item)
            if wave is None:
                continue
            if wave.name in names:
                self.add(item, f"wave name {wave.name!r} is used twice (first on line {names[wave.name]})")
            names.setdefault(wave.name, wave.line)
            if wave.all:
                if all_line is not None:
                    self.add(item, f"wave {wave.name!r}: `projects: all` is already the projects of another wave "
                                   f"(line {all_line}); only one wave may take every other project")
                else:
                    all_line = wave.line
            waves.append(wave)
        return tuple(waves)

    def wave(self, node: yaml.Node) -> Wave | None:
        entries = self.mapping(node, "a wave", WAVE_KEYS)
        if entries is None:
            return None
        line = node.start_mark.line + 1
        name = self.wave_name(entries.get("name"), node)
        label = f"wave {name!r}" if name else f"the wave on line {line}"
        max_parallel = self.max_parallel(entries.get("max_parallel"), label)
        projects_node = entries.get("projects")
        if projects_node is None:
            self.add(node, f"{label} has no `projects:` (a list of project refs, or `all`)")
            return None
        if isinstance(projects_node, yaml.ScalarNode) and projects_node.tag == STR and projects_node.value == ALL:
            return Wave(name or "", max_parallel, (), True, line) if name else None
        projects = self.refs(projects_node, label)
        if isinstance(projects_node, yaml.SequenceNode) and not projects_node.value:
            self.add(projects_node, f"{label} has no projects: remove it, or name its projects")
        return Wave(name or "", max_parallel, projects, False, line) if name else None

    def wave_name(self, node: yaml.Node | None, wave: yaml.Node) -> str | None:
        if node is None:
            self.add(wave, "a wave needs a `name:` (used in progress lines, reports and --github-matrix)")
            return None
        value = self.string(node, "a wave's name")
        if value is not None and not WAVE_NAME_RE.match(value):
            self.add(node, f"wave name {shown(value)} must be 1 to 63 letters, digits, '-', '_' or '.', "
                           "starting with a letter or digit")
            return None
        return value

    def max_parallel(self, node: yaml.Node | None, label: str) -> int:
        if node is None:
            return 1
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
            self.add(node, f"{label}: max_parallel must be a whole number from 1 to {MAX_PARALLEL}")
            return 1
        try:
            value = int(node.value.replace("_", ""), 0)
        except ValueError:
            self.add(node, f"{label}: max_parallel must be a whole number from 1 to {MAX_PARALLEL}")
            return 1
        if not 1 <= value <= MAX_PARALLEL:
            self.add(node, f"{label}: max_parallel is {value}; it must be from 1 to {MAX_PARALLEL}")
            return 1
        return value

    def refs(self, node: yaml.Node, label: str) -> tuple[Named, ...]:
        """A list of project refs; each one at most once in the whole file."""
        if not isinstance(node, yaml.SequenceNode):
            self.add(node, f"{label}: projects must be a list of project refs ([ref, ...]) or `all`")
            return ()
        found: list[Named] = []
        for item in node.value:
            line = item.start_mark.line + 1
            if isinstance(item, yaml.ScalarNode) and item.tag == STR and item.value == ALL:
                self.add(item, f"{label}: `all` is not a project ref; write `projects: all`, not a list with `all`")
                continue
            if not isinstance(item, yaml.ScalarNode):
                self.add(item, f"{label}: each project is a project ref (20 lowercase letters), not a "
                               f"{'list' if isinstance(item, yaml.SequenceNode) else 'mapping'}")
                continue
            ref = item.value
            if not REF_RE.match(ref):
                self.add(item, f"{label}: {shown(ref)} is not a project ref: expected 20 lowercase letters "
                               "(Project Settings → General → Reference ID)")
                continue
            if ref in self.seen:
                where, first = self.seen[ref]
                again = "twice in" if where == label else f"in {label} and already in"
                self.add(item, f"project {ref} is named {again} {where} (line {first}); "
                               "a project belongs to one wave")
                continue
            self.seen[ref] = (label, line)
            found.append(Named(ref, line))
        return tuple(found)

    # -- building blocks ----------------------------------------------------
    def mapping(self, node: yaml.Node, what: str, keys: tuple[str, ...]) -> dict[str, yaml.Node] | None:
        """A mapping's entries by key: unknown and duplicate keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.add(node, f"{what} must be a mapping with {', '.join(f'`{k}:`' for k in keys)}")
            return None
        entries: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or key not in keys:
                hint = _closest(key or "", keys)
                self.add(key_node, f"unknown key {shown(str(key_node.value) if key is None else key)} in {what}"
                                   + (f" (did you mean `{hint}`?)" if hint else f"; known: {', '.join(keys)}"))
                continue
            if key in entries:
                self.add(key_node, f"`{key}` is given twice in {what} (first on line "
                                   f"{entries[key].start_mark.line + 1}); YAML would silently keep the last")
                continue
            entries[key] = value
        return entries

    def string(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR or not node.value:
            self.add(node, f"{what} must be a non-empty string")
            return None
        return str(node.value)


def _closest(key: str, keys: tuple[str, ...]) -> str | None:
    """The known key a typo most likely meant (max-parallel, maxParallel, project …)."""
    folded = key.lower().replace("-", "_").replace(" ", "_")
    for known in keys:
        if folded == known or folded.replace("_", "") == known.replace("_", ""):
            return known
        if folded.rstrip("s") == known.rstrip("s"):
            return known
    return None


__all__ = [
    "ALL",
    "DEFAULT_FLEET",
    "MAX_PARALLEL",
    "Fleet",
    "FleetFileError",
    "Named",
    "Wave",
    "load_fleet",
    "parse_fleet",
]
