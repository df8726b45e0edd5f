"""Where a project keeps things: found the way the Supabase CLI and git find them.

The project root: outside GitHub Actions, the nearest folder at or above the working directory that holds
`supabase/config.toml` (the Supabase CLI's rule), looking no higher than the top of the git work tree; else
the nearest one, inside the work tree, that holds a migrations folder; else the working directory. On a
runner it is the workspace. So `supadeploy deploy` means the same project from `supabase/`, from
`supabase/migrations/` or from any other subfolder.

Migrations: `--migrations-dir` (relative to the working directory, like any path typed in a shell), else
in the project root `supabase/migrations/` or `migrations/`. When both exist, `supabase/config.toml` says
the project is the Supabase CLI's and `supabase/migrations/` is used; without it supadeploy refuses to
guess (a `migrations/` folder may belong to another tool: knex, Prisma, Django). Assertions: the files and
folders given (several compose), else `supabase/assertions/` or `assertions/` when present.
`supabase/config.toml` is read for the PostgreSQL major (see supadeploy.platform).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import AssertionFileError, ConfigError
from .paths import shown_path

CLI_MIGRATIONS = "supabase/migrations"
PLAIN_MIGRATIONS = "migrations"
MIGRATION_DIRS = (PLAIN_MIGRATIONS, CLI_MIGRATIONS)
CLI_CONFIG = "supabase/config.toml"
ASSERTION_DIRS = ("supabase/assertions", "assertions")
YAML_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class Layout:
    root: Path  # the project root: paths are shown relative to it
    migrations: Path
    migrations_why: str  # how the folder was chosen, for the first lines of a run
    assertions: tuple[Path, ...]
    config_root: Path  # the folder whose supabase/config.toml sets the local replay's major

    def shown(self, path: Path) -> str:
        return shown_path(path, self.root)


def _work_tree_top(start: Path) -> Path | None:
    """The top of the git work tree holding `start` (a `.git` folder, or a worktree's `.git` file)."""
    return next((folder for folder in (start, *start.parents) if (folder / ".git").exists()), None)


def find_root(start: Path, walk: bool = True) -> Path:
    """The project root for a run started in `start` (see the module's docstring); `walk`: False on a runner,
    where the workspace is the root."""
    start = start.resolve()
    if not walk:
        return start
    top = _work_tree_top(start)
    upward = [start, *start.parents]
    if top is not None:
        upward = upward[:upward.index(top) + 1]
    found = next((folder for folder in upward if (folder / CLI_CONFIG).is_file()), None)
    if found is not None:
        return found
    inside = upward if top is not None else [start]  # folders named migrations/ are common: only in the work tree
    return next((folder for folder in inside if any((folder / d).is_dir() for d in MIGRATION_DIRS)), start)


def find_migrations(root: Path, given: Path | None, cwd: Path | None = None) -> tuple[Path, str]:
    """The migrations folder and why it was chosen; a clear refusal when it is missing or ambiguous."""
    if given is not None:
        path = given if given.is_absolute() else (cwd or root) / given
        if path.is_file():
            raise ConfigError(f"--migrations-dir {given}: {path} is a file, not a folder of migration files")
        if not path.is_dir():
            raise ConfigError(f"--migrations-dir {given}: no such folder ({path})")
        return path, "--migrations-dir"
    cli, plain = root / CLI_MIGRATIONS, root / PLAIN_MIGRATIONS
    if (root / CLI_CONFIG).is_file():
        if cli.is_dir():
            return cli, f"found {CLI_MIGRATIONS}/ of the Supabase CLI project ({CLI_CONFIG})"
        if plain.is_dir():
            raise ConfigError(
                f"{CLI_CONFIG} makes {root} a Supabase CLI project, whose migrations live in {CLI_MIGRATIONS}/, "
                f"which does not exist; {PLAIN_MIGRATIONS}/ is there but may belong to another tool. Create "
                f"{CLI_MIGRATIONS}/ (supabase migration new <name>), or pass --migrations-dir {PLAIN_MIGRATIONS} "
                "if it holds this project's Supabase migrations")
    elif cli.is_dir() and plain.is_dir():
        raise ConfigError(
            f"both {PLAIN_MIGRATIONS}/ and {CLI_MIGRATIONS}/ exist in {root} and there is no {CLI_CONFIG} to say "
            f"which one is Supabase's: pass --migrations-dir {CLI_MIGRATIONS} or --migrations-dir "
            f"{PLAIN_MIGRATIONS} (a {PLAIN_MIGRATIONS}/ folder may belong to another tool: knex, Prisma, Django)")
    for candidate in (cli, plain):
        if candidate.is_dir():
            return candidate, f"found {shown_path(candidate, root)}/"
    raise ConfigError(f"no migrations folder in {root}: looked for {CLI_MIGRATIONS}/ and {PLAIN_MIGRATIONS}/ "
                      "(here and in the folders above, up to the top of the git repository); pass --migrations-dir")


def config_root(root: Path, migrations: Path) -> Path:
    """Whose supabase/config.toml counts: the project root's, or the one next to a migrations folder given
    elsewhere (`--migrations-dir apps/db/supabase/migrations` reads apps/db/supabase/config.toml)."""
    if (root / CLI_CONFIG).is_file():
        return root
    beside = migrations.resolve().parent
    if beside.name == "supabase" and (beside / "config.toml").is_file():
        return beside.parent
    return root


def find_assertions(root: Path, given: list[Path], cwd: Path | None = None) -> tuple[Path, ...]:
    """Every assertion file to run, in order: the files given, the YAML files in the folders given."""
    if not given:  # the conventional folder, when there is one; none is fine: nothing is verified
        folder = next((root / d for d in ASSERTION_DIRS if (root / d).is_dir()), None)
        return tuple(_yaml_in(folder)) if folder else ()
    files: list[Path] = []
    for item in given:
        path = item if item.is_absolute() else (cwd or root) / item
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


def discover(start: Path, migrations_dir: Path | None, assertions: list[Path], no_assertions: bool,
             walk: bool = True) -> Layout:
    """The layout of the project a run started in `start` belongs to; paths given are relative to `start`."""
    root = find_root(start, walk)
    migrations, why = find_migrations(root, migrations_dir, start)
    found = () if no_assertions else find_assertions(root, assertions, start)
    return Layout(root, migrations, why, found, config_root(root, migrations))
