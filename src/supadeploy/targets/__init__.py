"""Targets: where SQL goes. The engine sees only `Target` (see base.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..platform import resolve_major
from .api import ApiLimits, ApiTarget
from .base import Target
from .local import LocalTarget
from .postgres import PostgresTarget, check_dsn


@dataclass(frozen=True)
class TargetSettings:
    kind: str = "auto"  # auto | local | postgres | api
    db_url: str | None = None
    project_ref: str | None = None
    access_token: str | None = None
    api_url: str | None = None
    api_timeout: float | None = None  # read timeout per API request, seconds
    pg_major: int | None = None  # the local replay's PostgreSQL major (None: config.toml, else 17)
    project_root: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_env(cls, kind: str, db_url: str | None, project_ref: str | None, access_token: str | None,
                 api_url: str | None, api_timeout: float | None = None, pg_major: int | None = None,
                 project_root: Path | None = None) -> TargetSettings:
        return cls(
            kind=kind,
            db_url=db_url or os.environ.get("SUPABASE_DB_URL") or None,
            project_ref=project_ref or os.environ.get("SUPABASE_PROJECT_REF") or None,
            access_token=access_token or os.environ.get("SUPABASE_ACCESS_TOKEN") or None,
            api_url=api_url or os.environ.get("SUPABASE_API_URL") or None,
            api_timeout=api_timeout,
            pg_major=pg_major,
            project_root=project_root or Path.cwd(),
        )

    def resolved_kind(self) -> str:
        """`auto` picks what the credentials allow; no credentials means the local database."""
        if self.kind != "auto":
            return self.kind
        if self.db_url and (self.project_ref or self.access_token):
            raise ConfigError("give either --db-url or --project-ref/--access-token, not both")
        if self.db_url:
            return "postgres"
        if self.project_ref or self.access_token:
            return "api"
        return "local"


def open_target(settings: TargetSettings) -> Target:
    kind = settings.resolved_kind()
    if kind == "local":

        major, why = resolve_major(settings.pg_major, settings.project_root)
        return LocalTarget(major, why)
    if kind == "postgres":

        if not settings.db_url:
            raise ConfigError("--target postgres needs --db-url (or SUPABASE_DB_URL)")
        check_dsn(settings.db_url)
        return PostgresTarget(settings.db_url)
    if kind == "api":

        limits = ApiLimits(read_timeout=settings.api_timeout) if settings.api_timeout else ApiLimits()
        return ApiTarget(settings.project_ref, settings.access_token, settings.api_url, limits)
    raise ConfigError(f"unknown target {kind!r}: use local, postgres or api")


__all__ = ["Target", "TargetSettings", "open_target"]
