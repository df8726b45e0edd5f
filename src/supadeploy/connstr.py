"""Database connection strings, as libpq reads them: URLs and key=value strings.

Parsed here (without importing psycopg) for two things: every form a password
can take, so it is masked before anything is printed, and a description of
the target for people (user, host, port, database: never the password).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import ConfigError

_KV_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*")
PASSWORD_ENV = ("PGPASSWORD", "SUPABASE_DB_PASSWORD")


def is_url(dsn: str) -> bool:
    return dsn.startswith(("postgres://", "postgresql://"))


def parse_keyvalue(dsn: str) -> dict[str, str]:
    """libpq's key = value syntax: values may be single-quoted, backslash escapes \\' and \\\\."""
    params: dict[str, str] = {}
    pos = 0
    while pos < len(dsn):
        if dsn[pos:].strip() == "":
            break
        match = _KV_TOKEN.match(dsn, pos)
        if not match:
            raise ValueError(f"expected key=value at character {pos + 1}")
        key, pos = match.group(1).lower(), match.end()
        value = []
        if pos < len(dsn) and dsn[pos] == "'":
            pos += 1
            while pos < len(dsn) and dsn[pos] != "'":
                if dsn[pos] == "\\" and pos + 1 < len(dsn):
                    pos += 1
                value.append(dsn[pos])
                pos += 1
            if pos >= len(dsn):
                raise ValueError("unterminated quoted value")
            pos += 1
        else:
            while pos < len(dsn) and not dsn[pos].isspace():
                if dsn[pos] == "\\" and pos + 1 < len(dsn):
                    pos += 1
                value.append(dsn[pos])
                pos += 1
        params[key] = "".join(value)
    return params


def parse_url(dsn: str) -> dict[str, str]:
    """A postgresql:// URL as libpq parameters (the first host when there are several)."""
    parts = urlsplit(dsn)
    params: dict[str, str] = {}
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        if user:
            params["user"] = unquote(user)
        if password or ":" in userinfo:
            params["password"] = unquote(password)
    first = netloc.split(",")[0]
    if first.startswith("["):
        host, _, rest = first[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = first.partition(":")
    if host:
        params["host"] = unquote(host)
    if port:
        params["port"] = port
    if parts.path and parts.path != "/":
        params["dbname"] = unquote(parts.path[1:])
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        params[key.lower()] = value
    return params


def parse(dsn: str) -> dict[str, str]:
    try:
        return parse_url(dsn) if is_url(dsn) else parse_keyvalue(dsn)
    except ValueError as exc:
        raise ConfigError(f"invalid database URL: {exc}") from None


def passwords(dsn: str | None) -> list[str]:
    """Every form the password of `dsn` can be printed in: as written, decoded, URL-encoded."""
    if not dsn:
        return []
    found: list[str] = []
    try:
        params = parse(dsn)
    except ConfigError:
        params = {}
    if params.get("password"):
        found.append(params["password"])
    if is_url(dsn):  # also the raw, still percent-encoded forms in the URL itself
        netloc = urlsplit(dsn).netloc
        if "@" in netloc:
            found.append(netloc.rsplit("@", 1)[0].partition(":")[2])
        for pair in urlsplit(dsn).query.split("&"):
            key, _, value = pair.partition("=")
            if unquote(key).lower() == "password":
                found.append(value)
    elif not params:  # a key=value string that did not parse: what follows password= up to a space
        found += [m.group(1).strip("'") for m in re.finditer(r"password\s*=\s*(\S+)", dsn, re.I)]
    return [p for p in dict.fromkeys(found) if p]


def describe(dsn: str) -> str:
    """user@host:port/dbname, for the first line of a run and the report. Never the password."""
    try:
        params = parse(dsn)
    except ConfigError:
        return "a database (unreadable URL)"
    host = params.get("host") or "localhost"
    if ":" in host and not host.startswith("/"):
        host = f"[{host}]"
    user = params.get("user")
    return f"{user + '@' if user else ''}{host}:{params.get('port') or '5432'}/{params.get('dbname') or user or 'postgres'}"


def check(dsn: str) -> None:
    if not is_url(dsn) and "=" not in dsn:
        raise ConfigError("--db-url must be a postgresql:// URL or a libpq key=value string")
    parse(dsn)
