"""A lint's SQL lives in a .sql file beside its module (package data)."""

from __future__ import annotations

from importlib import resources

from ....sqltext import fill, literal


def beside(module: str) -> str:
    """The text of `<module>.sql` in this package, for the module named `module` (its __name__)."""
    name = module.rsplit(".", 1)[-1]
    return resources.files(__name__.rpartition(".")[0]).joinpath(f"{name}.sql").read_text(encoding="utf-8")


DOCS = "https://supabase.com/docs/guides/database/database-linter?lint="


def for_role(template: str, role: str, lint: str) -> str:
    """A lint Supabase keeps twice, once per API role (anon, authenticated): one `_<template>.sql` with the
    role and the lint's id filled in as literals."""
    return fill(beside(f"{__name__.rpartition('.')[0]}._{template}"), ROLE=literal(role), LINT=literal(lint))
