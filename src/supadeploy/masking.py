"""Secrets: every way a user can pass one, every form it can be printed in.

Registered as soon as they are known (the CLI does it before anything is
printed), they are replaced by `***` in every channel: terminal, JSON report,
JUnit, job summary, step outputs. Each channel escapes text its own way, so a
secret is registered with its JSON, HTML, XML, URL and workflow-command forms
too; and the report itself is scrubbed before any channel renders it, so a
secret is never cut in half by a length limit either.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from .connstr import passwords

# The Supabase local default password and its like: no secret, and masking the word
# would destroy output ("/usr/lib/***ql/15", "status on ***").
WELL_KNOWN_PASSWORDS = frozenset({"postgres", "password", "supabase"})
MIN_LENGTH = 4  # shorter values would mask ordinary words everywhere
TOKEN_SHAPES = re.compile(r"^(sbp_|sb_secret_|sb_publishable_|eyJ)|^[A-Za-z0-9_\-]{40,}$")
SECRET_ENV = ("SUPABASE_ACCESS_TOKEN", "SUPABASE_DB_PASSWORD", "PGPASSWORD", "SUPABASE_SERVICE_ROLE_KEY")


def looks_like_secret(value: str | None) -> bool:
    """A token in a field that should not hold one is never echoed."""
    return value is not None and bool(TOKEN_SHAPES.search(value.strip()))


def shown(value: str | None, limit: int = 40) -> str:
    """A user-given value for an error message: quoted, cut, or withheld if it looks like a secret."""
    if value is None:
        return "nothing"
    if looks_like_secret(value):
        return "a value that looks like a secret (not shown)"
    return repr(value[:limit] + ("…" if len(value) > limit else ""))


def forms(value: str) -> list[str]:
    """The value as each output channel may write it."""
    candidates = [
        value,
        json.dumps(value)[1:-1],  # JSON report, step outputs
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value, quote=True),  # job summary (Markdown/HTML)
        html.escape(value, quote=False),
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#09;"),  # JUnit attributes
        quote(value, safe=""), quote_plus(value),  # URLs
        value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"),  # workflow command data
        value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C"),
        value.replace("|", "\\|"),  # a Markdown table cell
    ]
    return [form for form in dict.fromkeys(candidates) if len(form) >= MIN_LENGTH]


class Secrets:
    """Values that must never be printed: registered as soon as they are known.

    `on_add` lets the GitHub layer emit `::add-mask::` the moment a secret is
    known, before anything could print it.
    """

    def __init__(self, on_add: Callable[[str], None] | None = None) -> None:
        self._values: list[str] = []  # every form, longest first
        self.originals: list[str] = []
        self.on_add = on_add

    def add(self, value: str | None) -> None:
        if not value or len(value) < MIN_LENGTH or value.lower() in WELL_KNOWN_PASSWORDS:
            return
        if value in self.originals:
            return
        self.originals.append(value)
        for form in forms(value):
            if form not in self._values:
                self._values.append(form)
                if self.on_add is not None:
                    self.on_add(form)
        self._values.sort(key=len, reverse=True)

    def add_all(self, values: Iterable[str | None]) -> None:
        for value in values:
            self.add(value)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(self._values)

    def scrub(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, "***")
        return text

    def scrub_obj(self, value: Any) -> Any:
        """A copy of a report-like structure with every string scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {self.scrub_obj(k): self.scrub_obj(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub_obj(v) for v in value]
        return value


def collect(tokens: Iterable[str | None], db_urls: Iterable[str | None], env: Mapping[str, str]) -> list[str]:
    """Every secret a run was given: tokens and keys as they are, the passwords inside database URLs."""

    found = [t for t in list(tokens) + [env.get(name) for name in SECRET_ENV] if t]
    for url in list(db_urls) + [env.get("SUPABASE_DB_URL")]:
        found += passwords(url)
    return found
