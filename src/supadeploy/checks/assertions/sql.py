"""SQL shared by the assertion kinds: table selection, names, the two test users, acting as a role.

Every check runs inside one PL/pgSQL function (run.py), so these are fragments of PL/pgSQL; every value
from an assertion file is quoted with `literal`.
"""

from __future__ import annotations

import json
from typing import Any

from ...sqltext import literal

USER_A = "00000000-0000-4000-8000-00000000000a"
USER_B = "00000000-0000-4000-8000-00000000000b"
PRIVILEGES = ("DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE")
TABLE_SELECTION = ("schema", "pattern", "tables", "exclude")  # the options that choose tables
ROLE_OPTIONS = ("as", "user", "setup", "users", "object")  # the options that act as a role


def tables_filter(spec: dict[str, Any], column: str = "c.relname") -> str:
    """SQL condition selecting tables by `tables` list or `pattern` (LIKE), minus `exclude`."""
    parts = []
    if "tables" in spec:
        parts.append(f"{column} = ANY ({array(spec['tables'])})")
    if "pattern" in spec:
        parts.append(f"{column} LIKE {literal(spec['pattern'])}")
    condition = "(" + " OR ".join(parts or ["true"]) + ")"
    if spec.get("exclude"):
        condition += f" AND NOT {column} = ANY ({array(spec['exclude'])})"
    return condition


def array(values: list[Any]) -> str:
    return "ARRAY[" + ", ".join(literal(str(v)) for v in values) + "]::text[]" if values else "ARRAY[]::text[]"


def schema(spec: dict[str, Any]) -> str:
    return literal(spec.get("schema", "public"))


def regclass(spec: dict[str, Any], key: str = "table") -> str:
    name = spec[key]
    qualified = name if "." in name else f"{spec.get('schema', 'public')}.{name}"
    return f"to_regclass({literal(qualified)})"


USERS = f"""
    INSERT INTO auth.users (id, email, aud, role) VALUES
      ('{USER_A}', 'supadeploy-user-a@example.invalid', 'authenticated', 'authenticated'),
      ('{USER_B}', 'supadeploy-user-b@example.invalid', 'authenticated', 'authenticated');
    PERFORM set_config('supadeploy.user_a', '{USER_A}', true);
    PERFORM set_config('supadeploy.user_b', '{USER_B}', true);"""


def become(role: str | None, user: str | None = "a") -> str:
    if not role:
        return ""
    sub = {"a": USER_A, "b": USER_B}.get(user or "a", USER_A)
    claims = json.dumps({"sub": sub, "role": role}) if role == "authenticated" else json.dumps({"role": role})
    return (f"\n    PERFORM set_config('role', {literal(role)}, true);"
            f"\n    PERFORM set_config('request.jwt.claims', {literal(claims)}, true);")


def prelude(spec: dict[str, Any]) -> str:
    text = USERS if spec.get("users", spec.get("as") == "authenticated") else ""
    if spec.get("setup"):
        text += f"\n    EXECUTE {literal(spec['setup'])};"
    return text + become(spec.get("as"), spec.get("user"))
