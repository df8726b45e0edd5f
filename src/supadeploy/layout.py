"""Where a project keeps things: found the way people lay out Supabase repositories.

Migrations: `--migrations-dir`, else `migrations/`, else `supabase/migrations/`
(the Supabase CLI's layout). Assertions: the files and folders given (several
compose), else `supabase/assertions/` or `assertions/` when present.
`supabase/config.toml` is read for the PostgreSQL major (see supadeploy.platform).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import AssertionFileError, ConfigError
from .paths import shown_path

MIGRATION_DIRS = ("migrations", "supabase/migrations")
ASSERTION_DIRS = ("supabase/assertions", "assertions")
YAML_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class Layout:
    root: Path
    migrations: Path
    migrations_why: str  # how the folder was chosen, for the first lines of a run
    assertions: tuple[Path, ...]

    def shown(self, path: Path) -> str:
        return shown_path(path, self.root)


def find_migrations(root: Path, given: Path | None) -> tuple[Path, str]:
    if given is not None:
        path = given if given.is_absolute() else root / given
        if not path.is_dir():
            raise ConfigError(f"migrations directory not found: {given}")
        return path, "--migrations-dir"
    for candidate in MIGRATION_DIRS:
        if (root / candidate).is_dir():
            return root / candidate, f"found {candidate}/"
    raise ConfigError(f"no migrations folder in {root}: looked for {' and '.join(d + '/' for d in MIGRATION_DIRS)}; "
                      "pass --migrations-dir")


def find_assertions(root: Path, given: list[Path]) -> tuple[Path, ...]:
    """Every assertion file to run, in order: the files given, the YAML files in the folders given."""
    if not given:  # the conventional folder, when there is one; none is fine: nothing is verified
        folder = next((root / d for d in ASSERTION_DIRS if (root / d).is_dir()), None)
        return tuple(_yaml_in(folder)) if folder else ()
    files: list[Path] = []
    for item in given:
        path = item if item.is_absolute() else root / item
        if path.is_dir():
            found = _yaml_in(path)
            if not found:
                raise AssertionFileError(f"no assertion files (*.yml, *.yaml) in {shown_path(path, root)}")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise AssertionFileError(f"assertion file not found: {shown_path(path, root)}")
    return tuple(dict.fromkeys(files))


def _yaml_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())


def discover(root: Path, migrations_dir: Path | None, assertions: list[Path], no_assertions: bool) -> Layout:
    migrations, why = find_migrations(root, migrations_dir)
    return Layout(root, migrations, why, () if no_assertions else find_assertions(root, assertions))
