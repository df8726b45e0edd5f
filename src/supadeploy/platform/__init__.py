"""The local platform: a throwaway PostgreSQL of the hosted major, set up like a Supabase project.

`binaries` finds or downloads the PostgreSQL of a major, `cluster` runs it,
`bootstrap` gives a database what a hosted project has (sql/), `catalog` says
what each major offers (real, stand-in, not on hosted) and judges a missing
extension, `provision` fetches or builds the real ones into the cache,
`extensions/` holds supadeploy's stand-ins and `signatures/` the real
extensions' function lists the stand-ins are tested against.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import ConfigError
from .binaries import DEFAULT_MAJOR, SUPPORTED_MAJORS, cache_root
from .catalog import STAND_INS, Kind, Verdict
from .provision import explain_missing

__all__ = ["STAND_INS", "Kind", "Verdict", "config_major", "extension_verdict", "resolve_major"]


def extension_verdict(name: str, major: int) -> Verdict:
    """The replay's verdict for an extension a migration asked for and the local replay did not have:
    a stand-in or real build gap ("not available locally", with the reason found on this machine), or
    "not offered by hosted projects on this major" (the migration fails there too)."""
    return explain_missing(cache_root(), name, major)



def config_major(project_root: Path) -> int | None:
    """`[db] major_version` from supabase/config.toml, the Supabase CLI's own setting."""
    path = project_root / "supabase" / "config.toml"
    if not path.is_file():
        return None

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it as TOML: {exc}") from None
    value = (data.get("db") or {}).get("major_version")
    return int(value) if isinstance(value, int) else None


def resolve_major(flag: int | None, project_root: Path, server_version_num: int | None = None) -> tuple[int, str]:
    """The local major and why: --pg-major, else config.toml, else the target's server, else 17."""
    if flag is not None:
        major, why = flag, "--pg-major"
    elif (configured := config_major(project_root)) is not None:
        major, why = configured, "supabase/config.toml"
    elif server_version_num:
        major, why = server_version_num // 10000, "the target's version"
    else:
        major, why = DEFAULT_MAJOR, "default"
    if major not in SUPPORTED_MAJORS:
        closest = 15 if major < 15 else 17 if major < 17 else 18
        if why == "the target's version":
            return closest, f"{why} ({major}, nearest available: {closest})"
        raise ConfigError(f"PostgreSQL {major} ({why}) is not available for the local replay; choose one of "
                          f"{', '.join(map(str, SUPPORTED_MAJORS))}")
    return major, why
