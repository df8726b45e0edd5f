"""Normalisation: the same DDL must compare equal whatever rewrote its text on the way.

PostgreSQL deparses expressions, views, constraints, indexes and triggers itself, and the catalog read
empties search_path first so every name comes out qualified the same way. What is left to normalise is
text PostgreSQL keeps as it was written (function bodies, comments), which files, editors and tools change
without changing its meaning: line endings (CRLF from a Windows checkout), indentation, blank lines, and
comments inside SQL and PL/pgSQL bodies. Quoted text is never touched except for its line endings.
"""

from __future__ import annotations

import functools
import re

_WHITESPACE = " \t\r\n\f\v"
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
# Languages whose bodies are lexed like SQL (comments and whitespace dropped between tokens).
SQL_LIKE = frozenset({"sql", "plpgsql"})


def line_endings(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def fold(text: str | None) -> str | None:
    """SQL text with every run of whitespace and every comment outside quotes made one space."""
    return None if text is None else _folded(text)


@functools.lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    """Memoised: a catalog repeats the same expressions (policies, defaults) across many tables."""
    return "".join(_tokens(line_endings(text))).strip()


def body(text: str | None, language: str) -> str | None:
    """A function body as compared: lexed for SQL and PL/pgSQL, line by line for other languages."""
    if text is None:
        return None
    if language in SQL_LIKE:
        return fold(text)
    lines = [line.rstrip() for line in line_endings(text).split("\n")]
    return "\n".join(lines).strip("\n")


def comment(text: str | None) -> str | None:
    return None if text is None else line_endings(text)


def _tokens(text: str) -> list[str]:
    """The text cut into tokens and single spaces: quoted parts kept whole, comments and blanks one space."""
    out: list[str] = []
    i, n = 0, len(text)
    pending_space = False

    def emit(piece: str) -> None:
        nonlocal pending_space
        if pending_space and out:
            out.append(" ")
        pending_space = False
        out.append(piece)

    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            pending_space = True
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            pending_space = True
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            pending_space = True
        elif ch == "'" or (ch in "eE" and text.startswith("'", i + 1) and _word_start(text, i)):
            start = i
            escapes = ch != "'"
            i += 2 if escapes else 1
            while i < n:
                if escapes and text[i] == "\\":
                    i += 2
                elif text[i] == "'":
                    if text.startswith("''", i):
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    i += 1
            emit(text[start:i])
        elif ch == '"':
            end = text.find('"', i + 1)
            while end >= 0 and text.startswith('""', end):
                end = text.find('"', end + 2)
            end = n if end < 0 else end + 1
            emit(text[i:end])
            i = end
        elif ch == "$" and (tag := _DOLLAR_TAG.match(text, i)) and _word_start(text, i):
            close = text.find(tag.group(), tag.end())
            end = n if close < 0 else close + len(tag.group())
            emit(text[i:end])
            i = end
        else:
            start = i
            while i < n and text[i] not in _WHITESPACE and text[i] not in "'\"$" \
                    and not text.startswith("--", i) and not text.startswith("/*", i):
                i += 1
            if i == start:  # a `$` that opens no quote (a parameter such as $1)
                i += 1
            emit(text[start:i])
    return out


def _word_start(text: str, i: int) -> bool:
    """True when text[i] does not continue an identifier (so `e'..'` and `$q$` open quotes)."""
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_$")

