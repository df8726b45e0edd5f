"""Reading a step's stdout the way the GitHub runner does (actions/runner ActionCommandManager).

A line is a command when, after leading whitespace, it starts with `::name ...::`
(the current form), or when it contains `##[name ...]` anywhere (the legacy
form, still parsed). Lines end at CR, LF or CRLF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REGISTERED = {"set-env", "set-output", "save-state", "add-mask", "add-path", "add-matcher", "remove-matcher",
              "debug", "warning", "error", "notice", "group", "endgroup", "echo", "stop-commands"}


@dataclass(frozen=True)
class Command:
    name: str
    properties: str
    data: str
    line: str


def commands(stdout: str) -> list[Command]:
    found = []
    for line in re.split(r"\r\n|\r|\n", stdout):
        trimmed = line.lstrip()  # .NET TrimStart: Unicode whitespace, like str.lstrip
        if trimmed.startswith("::"):
            end = trimmed.find("::", 2)
            if end > 0:
                info, data = trimmed[2:end], trimmed[end + 2:]
                name, _, props = info.partition(" ")
                if name.lower() in REGISTERED or name:
                    found.append(Command(name, props, data, line))
                    continue
        at = line.find("##[")
        if at >= 0:
            close = line.find("]", at)
            if close > 0:
                name, _, props = line[at + 3:close].partition(" ")
                if name in REGISTERED:
                    found.append(Command(name, props, line[close + 1:], line))
    return found


def properties(command: Command) -> dict[str, str]:
    """As the runner reads them: split on commas, then at the first `=`, then unescaped."""
    out = {}
    for pair in command.properties.split(","):
        key, _, value = pair.partition("=")
        for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
            value = value.replace(escaped, plain)
        out[key.strip()] = value
    return out


def forged(stdout: str, marker: str = "FORGED") -> list[Command]:
    """Commands a pull request planted: a title that is exactly the marker, or stop-commands."""
    return [c for c in commands(stdout) if c.name.lower() == "stop-commands"
            or properties(c).get("title") == marker or c.data.startswith(marker)]
