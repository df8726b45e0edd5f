"""The image replays every extension family offline: what the local platform needs was prepared at build
time, so a run with no network, a read-only root and any user id downloads and writes nothing.

Runs when SUPADEPLOY_IMAGE names a built image (.ci/run builds it); skipped otherwise, saying why.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from support.families import FAMILIES, FIXTURES, ONLY_ON, QUIET

IMAGE = os.environ.get("SUPADEPLOY_IMAGE")
ENGINE = os.environ.get("SUPADEPLOY_ENGINE", "podman")
pytestmark = pytest.mark.skipif(not IMAGE, reason="SUPADEPLOY_IMAGE is not set: .ci/run builds the image "
                                                  "(scripts/build-image.sh) and sets it")


def run_in_image(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [ENGINE, "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp:exec,mode=1777",
               "-v", f"{FIXTURES}:/fixtures:ro", "--entrypoint", "/opt/venv/bin/python"]
    if user:
        command += ["--user", user]
    return subprocess.run([*command, str(IMAGE), "-m", "supadeploy", *args], capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.parametrize("major", ["15", "17"])
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_replays_offline_in_the_image(family, major):
    if major not in ONLY_ON.get(family, (major,)):
        pytest.skip(f"{family} is replayed on {', '.join(ONLY_ON[family])} only")
    done = run_in_image("deploy", "--pg-major", major, "--migrations-dir", f"/fixtures/{family}/migrations",
                        "--assertions", f"/fixtures/{family}/checks.yml", *QUIET, user="1001" if major == "17" else None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "downloading" not in done.stdout + done.stderr


def test_the_image_says_what_each_major_has():
    done = subprocess.run([ENGINE, "run", "--rm", "--network", "none", "--entrypoint", "/opt/venv/bin/python",
                           str(IMAGE), "-c",
                           "from supadeploy.platform.prepare import _describe; "
                           "from supadeploy.platform.binaries import ensure; "
                           "[print(_describe(ensure(m)).summary()) for m in (15, 17)]"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "real: vector, postgis, hypopg" in done.stdout and "real: vector, hypopg" in done.stdout
