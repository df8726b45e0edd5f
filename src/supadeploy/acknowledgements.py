"""Findings accepted on purpose, in the migration itself, reviewed in the pull request like code.

    -- supadeploy: allow <rule>[, <rule>…] — why        on the line, the line above, or above the statement
    -- supadeploy: allow-file <rule>[, <rule>…] — why   anywhere in the file: the whole file

`all` accepts every rule. The same syntax serves every family (lock rules, advisor lints).
"""

from __future__ import annotations

import re

_ALLOW = re.compile(r"--\s*supadeploy:\s*allow\s+([a-z0-9/_,\s-]+?)(?:\s+(?:—|-|because)\s.*)?$", re.I)
_ALLOW_FILE = re.compile(r"--\s*supadeploy:\s*allow-file\s+([a-z0-9/_,\s-]+?)(?:\s+(?:—|-|because)\s.*)?$", re.I)
_DIRECTIVE = re.compile(r"^--\s*supadeploy:\s*allow(-file)?\s", re.I)


def is_acknowledgement(comment: str) -> bool:
    """Whether a `-- supadeploy:` comment is an acknowledgement (and not an unknown directive)."""
    return bool(_DIRECTIVE.match(comment))


def _rules(match: re.Match[str] | None) -> set[str]:
    return {r.strip().lower() for r in re.split(r"[,\s]+", match.group(1)) if r.strip()} if match else set()


def acknowledged_rules(text: str, line: int, statement_line: int | None = None) -> set[str]:
    """Rules a comment acknowledges for this line of `text`."""
    lines = text.splitlines()
    found: set[str] = set()
    candidates = {line, line - 1} | ({statement_line, statement_line - 1} if statement_line else set())
    for number in candidates:
        if 1 <= number <= len(lines):
            found |= _rules(_ALLOW.search(lines[number - 1]))
    for raw in lines:
        found |= _rules(_ALLOW_FILE.search(raw))
    return found


def is_acknowledged(rule: str, text: str, line: int, statement_line: int | None = None) -> bool:
    rules = acknowledged_rules(text, line, statement_line)
    return rule.lower() in rules or "all" in rules
