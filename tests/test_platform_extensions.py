"""Real extensions for the local replay: what each major has, how it got there, and the verdict for what
it cannot have. Downloads here go to a loopback server only; the pinned artifacts themselves were fetched
by `python -m supadeploy.platform prepare` (scripts/test.sh) and are read from the cache."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from supadeploy.errors import TargetError
from supadeploy.platform import (
    catalog,
    debs,
    downloads,
    elf,
    extension_verdict,
    provision,
)
from supadeploy.platform.binaries import cache_root, ensure
from supadeploy.platform.catalog import Kind


@pytest.mark.parametrize("name", ["plv8", "timescaledb", "pgjwt", "plcoffee"])
def test_what_17_does_not_offer_fails_there_too(name):
    verdict = catalog.verdict(name, 17, available=False)
    assert verdict.kind is Kind.NOT_ON_HOSTED and verdict.fails_on_hosted
    assert verdict.title == "Not offered on hosted PostgreSQL 17"
    assert "fails on your PostgreSQL 17 project too" in verdict.message("local PostgreSQL 17 (default)")


@pytest.mark.parametrize("name", ["plv8", "timescaledb"])
def test_what_15_offers_but_the_replay_lacks_is_not_available_locally(name):
    verdict = catalog.verdict(name, 15, available=False)
    assert verdict.kind is Kind.UNAVAILABLE and not verdict.fails_on_hosted
    assert verdict.title == "Not available in the local replay"
    message = verdict.message("local PostgreSQL 15 (--pg-major)")
    assert "may well deploy on a hosted project" in message and "vector, postgis, hypopg" in message


@pytest.mark.parametrize("major", [15, 17])
def test_wrappers_is_a_stand_in_and_pg_hashids_is_not_available(major):
    assert ensure(major).has_extension("wrappers")
    assert extension_verdict("pg_hashids", major).kind is Kind.UNAVAILABLE


def test_pgjwt_is_a_stand_in_on_15_only():
    assert ensure(15).has_extension("pgjwt") and not ensure(17).has_extension("pgjwt")
    assert "pgjwt" in catalog.stand_ins_for(15) and "pgjwt" not in catalog.stand_ins_for(17)


@pytest.mark.parametrize("major", [15, 17])
def test_each_hosted_major_has_its_real_extensions(major):
    """Debian's builds (and pgvector built against Debian's 15 headers) sit in the npm build's tree; the
    fixtures (test_platform_fixtures.py) create and use them there, so they load into that build."""
    tree = ensure(major)
    for recipe in catalog.recipes_for(major):
        assert tree.has_extension(recipe.extension), recipe.extension
        control = (tree.extension_dir / f"{recipe.extension}.control").read_text()
        assert f"default_version = '{recipe.version}'" in control and "trusted = true" in control
        assert (tree.extension_dir / f"{recipe.extension}--{recipe.version}.sql").exists()


def test_without_a_compiler_one_message_names_what_to_install(tmp_path, monkeypatch):
    """No download is tried; the reason is kept for the verdict, and `prepare` tries again."""
    monkeypatch.setattr(catalog, "recipes_for", lambda major: [catalog.RECIPES[("vector", 15)]])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CC", raising=False)
    seen: list[str] = []
    assert provision.provide(tmp_path, 15, seen.append) == {}
    assert len(seen) == 1 and "no C compiler found" in seen[0] and "apt-get install gcc" in seen[0]
    assert not (tmp_path / "downloads").exists()
    verdict = provision.explain_missing(tmp_path, "vector", 15)
    assert verdict.kind is Kind.UNAVAILABLE and "no C compiler found" in verdict.message("local PostgreSQL 15")
    provision.provide(tmp_path, 15, seen.append)
    assert len(seen) == 1  # recorded: not retried on every replay
    provision.provide(tmp_path, 15, seen.append, retry=True)
    assert len(seen) == 2


class _Server(http.server.ThreadingHTTPServer):
    body = b""
    requests = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        server.requests += 1
        if "/gone/" in self.path:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(server.body)))
        self.end_headers()
        self.wfile.write(server.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_download_that_does_not_match_its_pin_is_refused_and_not_kept(loopback, tmp_path):
    loopback.body = b"not what was pinned"
    url = f"http://127.0.0.1:{loopback.server_address[1]}/pool/x.deb"
    with pytest.raises(TargetError, match="does not match its pinned sha256"):
        downloads.fetch(downloads.Pinned("x", url, "0" * 64, 19), tmp_path)
    assert list((tmp_path / "downloads").iterdir()) == []


def test_a_verified_download_is_cached_and_announced(loopback, tmp_path):
    loopback.body = b"a package" * 1000
    url = f"http://127.0.0.1:{loopback.server_address[1]}/pool/y.deb"
    item = downloads.Pinned("package y", url, hashlib.sha256(loopback.body).hexdigest(), len(loopback.body))
    seen: list[str] = []
    first = downloads.fetch(item, tmp_path, seen.append)
    announced = f"downloading package y (9 kB) from 127.0.0.1:{loopback.server_address[1]}"
    assert first.read_bytes() == loopback.body and seen == [announced]
    assert downloads.fetch(item, tmp_path, seen.append) == first and loopback.requests == 1


def test_a_package_that_left_its_pool_is_fetched_where_it_moved(loopback, tmp_path):
    """A Debian security update moves to the main archive at the next point release: same bytes."""
    loopback.body = b"headers"
    base = f"http://127.0.0.1:{loopback.server_address[1]}"
    item = downloads.Pinned("headers", f"{base}/gone/h.deb", hashlib.sha256(loopback.body).hexdigest(), 7,
                            (f"{base}/pool/h.deb",))
    assert downloads.fetch(item, tmp_path).read_bytes() == b"headers" and loopback.requests == 2
    moved = downloads.debian("pool/updates/main/p/x/x.deb", "0" * 64, 1)
    assert moved.url.startswith(downloads.DEBIAN_SECURITY) and moved.mirrors == (f"{downloads.DEBIAN}/pool/main/p/x/x.deb",)
    with pytest.raises(TargetError, match="answered 404"):
        downloads.fetch(downloads.Pinned("gone", f"{base}/gone/x.deb", "0" * 64, 1), tmp_path)


def test_a_debian_13_module_is_relinked_only_for_the_c23_parsers(tmp_path):
    """hypopg from Debian 13 asks glibc 2.38 for __isoc23_strtoul alone; relinked, it asks for 2.4."""
    recipe = catalog.RECIPES[("hypopg", 17)]
    deb = downloads.fetch(recipe.artifacts[0], cache_root())
    library = next(debs.unpack(deb, tmp_path / "deb").rglob("hypopg.so"))
    assert elf.required_glibc(library) == (2, 38)
    assert elf.relink_c23(library) == 1
    assert elf.required_glibc(library) < (2, 36)
    symbols = subprocess.run(["objdump", "-T", str(library)], capture_output=True, text=True,
                             check=False).stdout if shutil.which("objdump") else ""
    assert "__isoc23" not in symbols
    assert elf.relink_c23(library) == 0  # nothing left to do


def test_prepare_says_what_each_major_has():
    result = subprocess.run([sys.executable, "-m", "supadeploy.platform", "prepare", "15", "17"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("PostgreSQL 15") and "real: vector, postgis, hypopg" in line and "pgjwt" in line
               for line in lines)
    assert any(line.startswith("PostgreSQL 17") and "real: vector, hypopg" in line and "pgjwt" not in line
               for line in lines)


def test_the_downloads_are_pinned_to_https_and_sha256():
    for recipe in catalog.RECIPES.values():
        for item in recipe.artifacts:
            assert item.url.startswith("https://") and len(item.sha256) == 64 and item.size > 0
    assert Path(downloads.__file__).read_text().count("verify=ssl.create_default_context()") == 1


def test_identical_libraries_of_two_trees_are_stored_once(tmp_path):
    from supadeploy.platform.prepare import link_duplicates

    for tree in ("15", "17"):
        (tmp_path / tree / "lib").mkdir(parents=True)
        (tmp_path / tree / "lib" / "libicudata.so.60").write_bytes(b"icu" * 1000)
        (tmp_path / tree / "lib" / f"only{tree}.so").write_bytes(tree.encode())
        (tmp_path / tree / "lib" / "vector.control").write_text("same")  # not a library: never linked
    assert link_duplicates(tmp_path) == 3000
    assert (tmp_path / "15/lib/libicudata.so.60").samefile(tmp_path / "17/lib/libicudata.so.60")
    assert not (tmp_path / "15/lib/vector.control").samefile(tmp_path / "17/lib/vector.control")
    assert link_duplicates(tmp_path) == 0


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[tuple[Path, str, Path, Path]]:
    """A Debian-shaped archive on loopback, its InRelease signed by a throwaway key: (root, url, keyring, gnupg)."""
    if not (shutil.which("gpg") and shutil.which("gpgv")):
        pytest.skip("gpg and gpgv are needed to sign a test archive")
    root, gnupg = tmp_path / "archive", tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(gnupg), "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run([*gpg, "--quick-gen-key", "archive <archive@example.invalid>", "ed25519", "sign", "never"],
                   check=True, capture_output=True)
    keyring = tmp_path / "keyring.gpg"
    keyring.write_bytes(subprocess.run([*gpg, "--export"], check=True, capture_output=True).stdout)
    deb = b"the successor package"
    (root / "pool/main/x/xpkg").mkdir(parents=True)
    (root / "pool/main/x/xpkg/xpkg_1.1_amd64.deb").write_bytes(deb)
    stanza = (f"Package: xpkg\nVersion: 1.1\nArchitecture: amd64\nFilename: pool/main/x/xpkg/xpkg_1.1_amd64.deb\n"
              f"Size: {len(deb)}\nSHA256: {hashlib.sha256(deb).hexdigest()}\n")
    import lzma

    packages = lzma.compress(f"Package: other\nVersion: 1\n\n{stanza}\n".encode())
    (root / "dists/bookworm/main/binary-amd64").mkdir(parents=True)
    (root / "dists/bookworm/main/binary-amd64/Packages.xz").write_bytes(packages)
    release = (f"Suite: stable\nCodename: bookworm\nSHA256:\n {hashlib.sha256(packages).hexdigest()} {len(packages)} "
               "main/binary-amd64/Packages.xz\n")
    (root / "dists/bookworm/Release").write_text(release)
    subprocess.run([*gpg, "--clearsign", "--output", str(root / "dists/bookworm/InRelease"),
                    str(root / "dists/bookworm/Release")], check=True, capture_output=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined, method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}", keyring, gnupg
    finally:
        server.shutdown()
        server.server_close()
        subprocess.run(["gpgconf", "--homedir", str(gnupg), "--kill", "gpg-agent"], capture_output=True, check=False)


def test_a_package_gone_from_the_archive_is_replaced_through_the_signed_index(archive, tmp_path, monkeypatch):
    from supadeploy.platform import debindex

    root, url, keyring, _ = archive
    monkeypatch.setattr(debindex, "DEBIAN_KEYRING", keyring)
    monkeypatch.setattr(downloads, "DEBIAN_SECURITY", f"{url}/security")  # no security suite here: 404
    pinned = downloads.Pinned("xpkg", f"{url}/pool/main/x/xpkg/xpkg_1.0_amd64.deb", "1" * 64, 10, suite="bookworm")
    seen: list[str] = []
    got = debindex.fetch(pinned, tmp_path / "cache", seen.append)
    assert got.read_bytes() == b"the successor package"
    assert any("left Debian's archive" in line for line in seen)
    (root / "dists/bookworm/InRelease").unlink()  # the successor is remembered: no second look-up
    assert debindex.fetch(pinned, tmp_path / "cache") == got


def test_an_index_not_signed_by_the_archive_keys_is_refused(archive, tmp_path, monkeypatch):
    from supadeploy.platform import debindex

    _, url, _, _ = archive
    other = tmp_path / "other-keyring.gpg"
    other.write_bytes(b"")  # an empty keyring: nobody's signature is valid
    monkeypatch.setattr(debindex, "DEBIAN_KEYRING", other)
    monkeypatch.setattr(downloads, "DEBIAN_SECURITY", f"{url}/security")
    pinned = downloads.Pinned("xpkg", f"{url}/pool/main/x/xpkg/xpkg_1.0_amd64.deb", "1" * 64, 10, suite="bookworm")
    with pytest.raises(TargetError, match="valid signature of Debian's archive keys"):
        debindex.fetch(pinned, tmp_path / "cache")
    assert not list((tmp_path / "cache" / "downloads").glob("*xpkg*"))
