"""PostgreSQL's own parser (libpg_query through pglast), used in linear time.

Splitting a file goes through libpg_query's JSON output, but the JSON is
never decoded whole: a `supabase db pull` dump of tens of megabytes would
become gigabytes of Python objects. Statement boundaries and each top-level
node's kind are found with regular expressions on the JSON text (a JSON
string can never contain an unescaped `{"stmt":{"` or `"stmt_len":`), and
only the few kinds whose details matter are decoded. pglast's `scan()` is
never used: it is quadratic in the input length.

A big file is parsed in windows of about WINDOW characters, so memory follows
the window, not the file (the JSON of a 50 MB file of inserts is 350 MB of
text). A window ends just after a `;` that the parser itself confirms is a
statement's end: a window that ends inside a string, a comment, a dollar
quote, parentheses or a `BEGIN ATOMIC` body does not parse, and an earlier
`;` is tried. When no cut parses, the rest of the text is parsed at once,
which either raises the file's real syntax error (at the same place a whole
parse would) or, for a statement longer than the window, returns it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# Top-level kinds whose node is decoded (the rest only need their kind).
DETAILED_KINDS = frozenset({
    "TransactionStmt", "IndexStmt", "ReindexStmt", "DropStmt", "AlterTableStmt", "VacuumStmt",
    "ClusterStmt", "CopyStmt", "VariableSetStmt", "CreateExtensionStmt", "AlterEnumStmt",
})

_STMT_START = re.compile(r'\{"stmt":\{"(\w+)":')
_STMT_LOCATION = '"stmt_location":'
_STMT_LEN = '"stmt_len":'
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Every position field of a parse tree (ParseLoc: location, stmt_location, name_location, A_ArrayExpr's
# list_start/list_end, A_Expr's rexpr_list_start/rexpr_list_end) and stmt_len.
_LOCATIONS = re.compile(r'"(?:[a-z_]*location|stmt_len|[a-z_]*list_start|[a-z_]*list_end)":-?\d+,?')
_JSON_WHITESPACE = re.compile(r'(?:\\[nrt]| )++')  # possessive: the same runs, twice as fast


class SqlSyntaxError(Exception):
    """The parser rejected the text; `offset` is a character offset into it."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    start: int  # character offsets of the statement in the text (end excludes the `;`)
    end: int
    kind: str  # the top-level parse node, e.g. "CreateStmt"
    node: dict[str, Any] | None  # decoded only for DETAILED_KINDS


class LineIndex:
    """Character offset → 1-based line, with CRLF, CR and LF all ending a line."""

    def __init__(self, text: str) -> None:
        self._breaks = array("q", (m.end() for m in _LINE_BREAK.finditer(text)))  # 8 bytes a line

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._breaks, max(0, offset)) + 1

    def start_of_line(self, line: int) -> int:
        return 0 if line <= 1 else self._breaks[line - 2]


class _ByteToChar:
    """libpg_query speaks UTF-8 byte offsets; Python strings are indexed by character."""

    def __init__(self, text: str) -> None:
        self._ascii = text.isascii()
        self._data = b"" if self._ascii else text.encode("utf-8")
        self._byte = 0
        self._char = 0

    def __call__(self, offset: int) -> int:
        if self._ascii:
            return offset
        if offset < self._byte:  # rare: go back to the start
            self._byte = self._char = 0
        self._char += len(self._data[self._byte:offset].decode("utf-8", errors="ignore"))
        self._byte = offset
        return self._char


def parse_json(text: str) -> str:
    """libpg_query's JSON for `text`, or SqlSyntaxError with a character offset."""
    from pglast import parser  # noqa: PLC0415 - heavy: loaded on first use

    try:
        return parser.parse_sql_json(text)
    except parser.ParseError as exc:
        message, offset = (exc.args + (None,))[:2]
        # An error position is a 0-based character offset (pglast converts PostgreSQL's cursor position),
        # unlike stmt_location. "syntax error at end of input" comes without one: the end of the text is where.
        at = len(text) if offset is None else max(0, int(offset))
        raise SqlSyntaxError(str(message), min(at, len(text))) from None


SCAN_LIMIT = 1 << 20  # pglast's scanner is quadratic: only an error's own neighbourhood is scanned


def statement_start(text: str, offset: int) -> int | None:
    """Where the statement holding `offset` starts: the first token after the last `;` before it (the
    scanner knows strings, comments and dollar quotes). For a syntax error, whose statement does not parse;
    None when the text before it is too long to scan."""
    from pglast import parser  # noqa: PLC0415 - heavy: loaded on first use

    before = text[:offset]
    if len(before) > SCAN_LIMIT:
        return None
    try:
        tokens = parser.scan(before)
    except parser.ParseError:
        return None
    data = before.encode("utf-8")
    start_byte = 0
    for index, token in enumerate(tokens):
        if token.name == "ASCII_59":  # `;`
            start_byte = tokens[index + 1].start if index + 1 < len(tokens) else len(data)
    if start_byte == 0 and tokens:
        start_byte = tokens[0].start
    return len(data[:start_byte].decode("utf-8", errors="ignore"))


WINDOW = 1 << 20  # characters parsed at once: the JSON of a window is about 7 times its size
_CUT_TRIES = 4  # cuts tried, from the window's last `;` back, before the rest is parsed at once


def split(text: str, window: int = WINDOW) -> list[ParsedStatement]:
    """Every top-level statement of `text`, in order, without decoding the whole tree."""
    return list(iter_split(text, window))


def iter_split(text: str, window: int = WINDOW, digest: TreeDigest | None = None) -> Iterator[ParsedStatement]:
    """Every top-level statement of `text`, in order, parsed one window at a time (see the module's doc);
    each window's tree is fed to `digest` when given.

    A syntax error is raised where a parse of the whole text would raise it, with the same offset.
    """
    for base, chunk, raw in _parsed_windows(text, window):
        if digest is not None:
            digest.add(raw)
        yield from _statements(chunk, base, raw)


def _parsed_windows(text: str, window: int) -> Iterator[tuple[int, str, str]]:
    """(offset, text, libpg_query's JSON) of consecutive windows that end where statements end."""
    start = 0
    while len(text) - start > window:
        for cut in _cuts(text, start, start + window):
            chunk = text[start:cut]
            try:
                raw = parse_json(chunk)
            except SqlSyntaxError:
                continue  # the cut is inside something, or the error is real: the rest decides
            yield start, chunk, raw
            start = cut
            break
        else:
            break
    rest = text[start:] if start else text
    if start and not rest.strip():
        return
    try:
        raw = parse_json(rest)
    except SqlSyntaxError as exc:
        raise SqlSyntaxError(exc.message, start + exc.offset) from None
    yield start, rest, raw


def _cuts(text: str, start: int, stop: int) -> Iterator[int]:
    """Candidate window ends in (start, stop], last first: just after a `;` with no `--` before it on its line
    (a `;` inside a line comment would parse as the end of a window and hide the rest of the comment)."""
    tries = 0
    at = stop
    while tries < _CUT_TRIES:
        at = text.rfind(";", start, at)
        if at < 0:
            return
        line_start = max(text.rfind("\n", start, at), text.rfind("\r", start, at)) + 1
        if text.find("--", line_start, at) < 0:
            tries += 1
            yield at + 1


def _statements(text: str, base: int, raw: str) -> list[ParsedStatement]:
    """The statements of one window from its JSON, at offsets `base` + their offset in it."""
    to_char = _ByteToChar(text)
    starts = [(m.start(), m.group(1)) for m in _STMT_START.finditer(raw)]
    statements: list[ParsedStatement] = []
    byte_length = len(text.encode("utf-8")) if not text.isascii() else len(text)
    for index, (json_start, kind) in enumerate(starts):
        json_end = starts[index + 1][0] - 1 if index + 1 < len(starts) else len(raw) - 2
        obj = raw[json_start:json_end]
        location = _trailing_number(obj, _STMT_LOCATION)
        length = _trailing_number(obj, _STMT_LEN)
        node = None
        if kind in DETAILED_KINDS:
            node = json.loads(obj[len('{"stmt":'):_node_end(obj)])[kind]
        end_byte = location + length if length else byte_length
        statements.append(ParsedStatement(base + to_char(location), base + to_char(end_byte), kind, node))
    return statements


def _trailing_number(obj: str, key: str) -> int:
    """The value of a top-level key that libpg_query writes after the node (0 when absent)."""
    at = obj.rfind(key)
    if at < 0 or obj.find('"stmt":', at) >= 0:
        return 0
    digits = re.match(r"\d+", obj[at + len(key):])
    return int(digits.group()) if digits else 0


def _node_end(obj: str) -> int:
    """Where the `{"Kind": {...}}` node of a statement object ends."""
    cut = len(obj) - 1  # the closing brace of the statement object
    for key in (_STMT_LOCATION, _STMT_LEN):
        at = obj.rfind("," + key)
        if at >= 0:
            cut = min(cut, at)
    return cut


def relations(node_or_text: dict[str, Any] | str) -> list[tuple[str | None, str]]:
    """Every table a statement names (schema or None, name), in order of appearance."""
    if isinstance(node_or_text, str):
        try:
            node_or_text = json.loads(parse_json(node_or_text))
        except SqlSyntaxError:
            return []
    found: list[tuple[str | None, str]] = []
    for item in _walk(node_or_text):
        if "relname" in item and isinstance(item.get("relname"), str) and "relpersistence" in item:
            pair = (item.get("schemaname"), item["relname"])
            if pair not in found:
                found.append(pair)
    return found


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def fingerprint(statements: Sequence[str], window: int = WINDOW) -> str:
    """A hash of what the statements mean, blind to whitespace, comments, case and line endings.

    It hashes the parse tree without its location fields, with whitespace
    runs inside strings (function bodies) folded, so a file and the
    statements stored in history compare equal whichever tool stored them.
    Text that does not parse falls back to whitespace-folded text.

    The tree is that of the statements joined by `;` lines, parsed a group of
    statements at a time (a group that does not parse on its own takes the
    next one too): a seed's statements are never joined into one text.
    """
    digest = TreeDigest()
    try:
        for raw in _trees(statements, window):
            digest.add(raw)
    except SqlSyntaxError:
        return _text_fingerprint(statements)
    return digest.hexdigest()


class TreeDigest:
    """The fingerprint's hash, fed one window's parse tree at a time. `iter_split` can feed it the windows
    of a file as it splits it: the trees of a file and of its statements joined by `;` lines are the same
    once locations are dropped, so a big file is not parsed a second time for its fingerprint."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256(b'{"stmts":[')
        self._first = True

    def add(self, raw: str) -> None:
        # One window's tree, as a whole parse would have it between its neighbours' statements.
        tree = _JSON_WHITESPACE.sub(" ", _LOCATIONS.sub("", raw))
        tree = re.sub(r'^\{"version":\d+,?', "{", tree).replace(",}", "}")
        inner = tree.removeprefix('{"stmts":[').removesuffix("]}")
        if inner and tree != "{}":
            self._digest.update(inner.encode() if self._first else b"," + inner.encode())
            self._first = False

    def hexdigest(self) -> str:
        final = self._digest.copy()
        final.update(b"]}")
        return final.hexdigest()


_JOIN = "\n;\n"
_CARRY_LIMIT = 8  # windows a group that does not parse may grow to, joined with the next ones


def _trees(statements: Iterable[str], window: int) -> Iterator[str]:
    """libpg_query's JSON of the statements joined by `;` lines (line endings made LF), a group of about
    `window` characters at a time; a group that does not parse alone is joined with the next (at the end,
    its error is raised, or sooner when it grows past _CARRY_LIMIT windows)."""
    group: list[str] = []
    size = 0
    carried: list[str] = []
    for statement in statements:
        group.append(statement.replace("\r\n", "\n").replace("\r", "\n"))
        size += len(group[-1]) + len(_JOIN)
        if size < window:
            continue
        text = _JOIN.join(carried + group)
        group, size = [], 0
        try:
            raws = [raw for _, _, raw in _parsed_windows(text, window)]
        except SqlSyntaxError:
            if len(text) > _CARRY_LIMIT * window:  # not a statement split across a group's end: it is an error
                raise
            carried = [text]
            continue
        carried = []
        yield from raws
    if group or carried:
        yield from (raw for _, _, raw in _parsed_windows(_JOIN.join(carried + group), window))


def _text_fingerprint(statements: Iterable[str]) -> str:
    """The fallback: the joined text's words, separated by single spaces (as `" ".join(text.split())`)."""
    digest = hashlib.sha256(b"text:")
    first = True
    for index, statement in enumerate(statements):
        words = statement.split()
        if index:
            words.insert(0, ";")
        if words:
            digest.update((" ".join(words) if first else " " + " ".join(words)).encode())
            first = False
    return digest.hexdigest()
