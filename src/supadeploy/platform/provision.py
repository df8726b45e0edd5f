"""Real extensions for a prepared PostgreSQL tree: fetched or built once into the user's cache, then
copied into the tree. No root, no Docker, nothing installed system-wide.

Cache layout (under binaries.cache_root()):
  downloads/                        verified artifacts (downloads.py)
  extensions/<major>/<name>-<ver>/  lib/*.so and extension/*.{control,sql}, `.ready` when complete
  extensions/<major>/<name>.failed  why providing it failed on this machine (retried by `prepare`)

A build compiles the pinned source with this machine's C compiler against that major's server
headers (from Debian's package, unpacked, never installed). Without a compiler it says which
package to install, records that, and the replay goes on without the extension (a migration that
needs it is then reported as "not available locally", with that reason).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform as host
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import SupadeployError, TargetError
from . import catalog, debindex, debs, elf

Progress = Callable[[str], None]
# pgvector's own Makefile flags (portable: no -march=native, the cache may move between machines).
VECTOR_CFLAGS = ("-O2", "-fPIC", "-ftree-vectorize", "-fassociative-math", "-fno-signed-zeros",
                 "-fno-trapping-math")
COMPILERS = ("cc", "gcc", "clang")


class NoCompiler(SupadeployError):
    """Building an extension needs a C compiler and this machine has none."""


def extensions_cache(cache: Path, major: int) -> Path:
    return cache / "extensions" / str(major)


def failure_reason(cache: Path, name: str, major: int) -> str | None:
    """Why the real build of `name` could not be provided here, if that was tried and failed."""
    marker = extensions_cache(cache, major) / f"{name}.failed"
    with contextlib.suppress(OSError):
        return marker.read_text().strip() or None
    return None


def explain_missing(cache: Path, name: str, major: int) -> catalog.Verdict:
    """The verdict for an extension a migration asked for and the replay did not have."""
    return catalog.verdict(name, major, failure_reason(cache, name, major), available=False)


def provide(cache: Path, major: int, progress: Progress | None = None, retry: bool = False) -> dict[str, Path]:
    """Every real extension of `major` that can be had here: {name: its cached build}.

    A build that failed before is not tried again unless `retry` (the `prepare` command), so an
    offline machine or one without a compiler pays for the attempt once, not on every replay.
    """
    ready: dict[str, Path] = {}
    for recipe in catalog.recipes_for(major):
        folder = extensions_cache(cache, major) / recipe.key
        if (folder / ".ready").exists():
            ready[recipe.extension] = folder
            continue
        if (failure_reason(cache, recipe.extension, major) and not retry) or not _writable(cache):
            continue
        with _locked(extensions_cache(cache, major)):
            if not (folder / ".ready").exists():
                try:
                    _provide_one(recipe, cache, folder, progress)
                except (SupadeployError, OSError, subprocess.SubprocessError) as exc:
                    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    (extensions_cache(cache, major) / f"{recipe.extension}.failed").write_text(reason + "\n")
                    if progress:
                        progress(f"{recipe.extension} for PostgreSQL {major} is not available: {reason}")
                    continue
            (extensions_cache(cache, major) / f"{recipe.extension}.failed").unlink(missing_ok=True)
        ready[recipe.extension] = folder
    return ready


def install(builds: dict[str, Path], root: Path, extension_dir: Path, library_dir: Path,
            progress: Progress | None = None) -> list[str]:
    """Copy cached builds into a tree; the names newly installed.

    A build's private libraries go to `<tree>/private-lib` and its data to `<tree>/private-share`
    (Binaries.environment() points the server at them); a module whose libraries `ldd` cannot find
    there is not installed, and says why.
    """
    installed = []
    for name, folder in sorted(builds.items()):
        control = folder / "extension" / f"{name}.control"
        if not control.exists():
            continue  # an image that kept only the build's `.ready` stamp: installed at build time
        if (folder / "private").is_dir():
            missing = [m for library in (folder / "lib").iterdir()
                       for m in unresolved(library, [folder / "private", library_dir, library_dir.parent])]
            if missing:
                reason = f"its libraries {', '.join(missing)} cannot be found here (ldd)"
                with contextlib.suppress(OSError):
                    (folder.parent / f"{name}.failed").write_text(reason + "\n")
                if progress:
                    progress(f"{name} is not installed in {root}: {reason}")
                continue
            _copy_tree(folder / "private", root / "private-lib")
        if (folder / "share").is_dir():
            _copy_tree(folder / "share", root / "private-share")
        for item in (folder / "lib").iterdir():
            destination = library_dir / item.name
            if destination.is_symlink() or destination.exists():
                destination.unlink()
            shutil.copy2(item, destination)
        for item in (folder / "extension").iterdir():
            shutil.copy2(item, extension_dir / item.name)
        with contextlib.suppress(OSError):
            (folder.parent / f"{name}.failed").unlink(missing_ok=True)
        installed.append(name)
    return installed


def _copy_tree(source: Path, destination: Path) -> None:
    """Copy files and links of `source` over `destination`, replacing what is there (never in place)."""
    for item in sorted(source.rglob("*")):
        target = destination / item.relative_to(source)
        if item.is_dir() and not item.is_symlink():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        shutil.copy2(item, target, follow_symlinks=False)


def _provide_one(recipe: catalog.Recipe, cache: Path, folder: Path, progress: Progress | None) -> None:
    if recipe.how in ("build", "postgis"):
        find_compiler()  # before any download: say what to install at once
    work = Path(tempfile.mkdtemp(prefix=f".{recipe.key}-", dir=folder.parent))
    try:
        files = [debindex.fetch(item, cache, progress) for item in recipe.artifacts]
        staging = work / "out"
        (staging / "lib").mkdir(parents=True)
        (staging / "extension").mkdir()
        if recipe.how == "deb":
            _from_deb(recipe, files[0], work, staging)
        elif recipe.how == "wheel":
            _from_wheel(recipe, files[0], staging)
        elif recipe.how == "postgis":
            _postgis(recipe, files, work, staging, progress)
        else:
            _build_vector(recipe, files, work, staging, progress)
        for library in (staging / "lib").iterdir():
            _fit_to_glibc(library)
        (staging / ".ready").write_text(f"{recipe.how}\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
        _readable(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _from_deb(recipe: catalog.Recipe, deb: Path, work: Path, staging: Path) -> None:
    root = debs.unpack(deb, work / "deb")
    lib = root / "usr" / "lib" / "postgresql" / str(recipe.major) / "lib"
    share = root / "usr" / "share" / "postgresql" / str(recipe.major) / "extension"
    for item in lib.glob("*.so"):
        shutil.copy2(item, staging / "lib" / item.name)
    for item in share.iterdir():
        if item.name.startswith(recipe.extension) and item.suffix in (".sql", ".control"):
            shutil.copy2(item, staging / "extension" / item.name)
    _check_complete(recipe, staging)


def _from_wheel(recipe: catalog.Recipe, wheel: Path, staging: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            base = name.rsplit("/", 1)[-1]
            if "/lib/" in name and base == f"{recipe.extension}.so":
                (staging / "lib" / base).write_bytes(archive.read(name))
            elif "/extension/" in name and base.startswith(recipe.extension) and base.endswith((".sql", ".control")):
                (staging / "extension" / base).write_bytes(archive.read(name))
    _check_complete(recipe, staging)


def _build_vector(recipe: catalog.Recipe, files: list[Path], work: Path, staging: Path,
                  progress: Progress | None) -> None:
    """pgvector: every src/*.c compiled against the major's server headers, linked into vector.so."""
    compiler = find_compiler()
    headers = debs.unpack(files[0], work / "headers") / "usr" / "include" / "postgresql" / str(recipe.major) / "server"
    if not (headers / "postgres.h").exists():
        raise TargetError(f"the PostgreSQL {recipe.major} headers package has no server headers")
    debs.unpack_tarball(files[1], work / "src")
    source = next((work / "src").glob("pgvector-*"))
    units = sorted((source / "src").glob("*.c"))
    if progress:
        progress(f"building pgvector {recipe.version} for PostgreSQL {recipe.major} with {compiler} "
                 f"({len(units)} files, once)")
    objects = []
    for unit in units:
        obj = work / f"{unit.stem}.o"
        _run([compiler, *VECTOR_CFLAGS, "-I", str(source / "src"), "-I", str(headers), "-c", str(unit), "-o", str(obj)])
        objects.append(str(obj))
    _run([compiler, "-shared", "-o", str(staging / "lib" / "vector.so"), *objects, "-lm"])
    control = (source / "vector.control").read_text()
    version = re.search(r"default_version = '([^']+)'", control)
    if version is None or version.group(1) != recipe.version:
        raise TargetError(f"pgvector source says version {version.group(1) if version else '?'}, "
                          f"pinned {recipe.version}")
    (staging / "extension" / "vector.control").write_text(control)
    shutil.copy2(source / "sql" / "vector.sql", staging / "extension" / f"vector--{recipe.version}.sql")
    for upgrade in (source / "sql").glob("vector--*--*.sql"):
        shutil.copy2(upgrade, staging / "extension" / upgrade.name)


def _postgis(recipe: catalog.Recipe, files: list[Path], work: Path, staging: Path,
             progress: Progress | None) -> None:
    """Debian's PostGIS, its shared libraries in `private/`, proj.db in `share/proj/`, and stand-in
    libcurl/libtiff for libproj (catalog.PROJ_STUBS) compiled here."""
    compiler = find_compiler()
    root = work / "debs"
    for deb in files:
        debs.unpack(deb, root)
    lib = root / "usr" / "lib" / "postgresql" / str(recipe.major) / "lib"
    share = root / "usr" / "share" / "postgresql" / str(recipe.major) / "extension"
    shutil.copy2(lib / "postgis-3.so", staging / "lib" / "postgis-3.so")
    shutil.copy2(share / f"postgis--{recipe.version}.sql", staging / "extension" / f"postgis--{recipe.version}.sql")
    shutil.copy2(share / "postgis-3.control", staging / "extension" / "postgis.control")  # Debian's name
    private = staging / "private"
    private.mkdir()
    for item in (root / "usr" / "lib").glob("*-linux-gnu*/*.so*"):
        shutil.copy2(item, private / item.name, follow_symlinks=False)
    if progress:
        progress(f"building libproj's stand-in libcurl and libtiff for PostGIS (PostgreSQL {recipe.major}) "
                 f"with {compiler}")
    for (soname, version), names in catalog.PROJ_STUBS.items():
        source = work / f"{soname}.c"
        source.write_text("".join(f"long {name}(void) {{ return 0; }}\n" for name in names))
        script = work / f"{soname}.map"
        script.write_text(f"{version} {{ global: {'; '.join(names)}; local: *; }};\n")
        _run([compiler, "-shared", "-fPIC", "-O2", f"-Wl,--version-script={script}", f"-Wl,-soname,{soname}",
              "-o", str(private / soname), str(source)])
    (staging / "share" / "proj").mkdir(parents=True)
    shutil.copy2(root / "usr" / "share" / "proj" / "proj.db", staging / "share" / "proj" / "proj.db")
    _check_complete(recipe, staging)


def unresolved(library: Path, search: list[Path]) -> list[str]:
    """The shared libraries `ldd` cannot find for `library` with `search` first ([] without ldd)."""
    if not shutil.which("ldd"):
        return []
    env = {**os.environ, "LD_LIBRARY_PATH": ":".join(str(p) for p in search)}
    result = subprocess.run(["ldd", str(library)], capture_output=True, text=True, env=env, check=False)
    return sorted({line.split("=>")[0].strip() for line in result.stdout.splitlines() if "not found" in line})


def find_compiler() -> str:
    """This machine's C compiler, or one clear message naming what to install."""
    for name in (os.environ.get("CC", ""), *COMPILERS):
        if name and shutil.which(name):
            return name
    raise NoCompiler("no C compiler found (cc, gcc or clang): install one, e.g. `sudo apt-get install gcc "
                     "libc6-dev` (Debian/Ubuntu) or `sudo dnf install gcc`, then run `supadeploy platform prepare`")


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TargetError(f"{Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()[-800:]}")


def _check_complete(recipe: catalog.Recipe, staging: Path) -> None:
    """The artifact holds the library, control file and install script of the pinned version."""
    control = staging / "extension" / f"{recipe.extension}.control"
    script = staging / "extension" / f"{recipe.extension}--{recipe.version}.sql"
    module = re.search(r"module_pathname\s*=\s*'\$libdir/([^']+)'", control.read_text()) if control.exists() else None
    # An extension written in SQL alone (pgtap, pg_partman) loads no library: its script names none.
    needs_library = not script.exists() or re.search(r"MODULE_PATHNAME|\$libdir", script.read_text()) is not None
    if (needs_library and not (staging / "lib" / f"{module.group(1) if module else recipe.extension}.so").exists()) \
            or not control.exists():
        raise TargetError(f"the pinned {recipe.how} for {recipe.extension} {recipe.version} has no library or "
                          "control file")
    version = re.search(r"default_version\s*=\s*'([^']+)'", control.read_text())
    if version is None or version.group(1) != recipe.version or \
            not (staging / "extension" / f"{recipe.extension}--{recipe.version}.sql").exists():
        raise TargetError(f"the pinned {recipe.how} for {recipe.extension} holds version "
                          f"{version.group(1) if version else '?'}, not {recipe.version}")


def _fit_to_glibc(library: Path) -> None:
    """A library newer than this machine's C library only for the C23 number parsers is relinked."""
    have = elf.glibc_version()
    if have == (0,) or elf.required_glibc(library) <= have:
        return
    try:
        elf.relink_c23(library, host.machine())
    except elf.NotRelinkable as exc:
        raise TargetError(f"{library.name} needs a newer C library than this machine's: {exc}") from None
    if elf.required_glibc(library) > have:
        raise TargetError(f"{library.name} needs glibc {'.'.join(map(str, elf.required_glibc(library)))}")


def _writable(cache: Path) -> bool:
    probe = cache
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


def _readable(folder: Path) -> None:
    """The server may run as another OS user (as root: postgres): it must read the build."""
    for path in (folder, *folder.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
