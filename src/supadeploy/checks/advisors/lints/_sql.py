"""A lint's SQL lives in a .sql file beside its module (package data)."""

from __future__ import annotations

from importlib import resources


def beside(module: str) -> str:
    """The text of `<module>.sql` in this package, for the module named `module` (its __name__)."""
    name = module.rsplit(".", 1)[-1]
    return resources.files(__name__.rpartition(".")[0]).joinpath(f"{name}.sql").read_text(encoding="utf-8")


DOCS = "https://supabase.com/docs/guides/database/database-linter?lint="
