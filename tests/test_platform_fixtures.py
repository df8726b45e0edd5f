"""Real-shaped migration folders, one per extension family, replayed by `supadeploy deploy` on the local
target for each hosted major, with assertions that the extensions did their work (tests/fixtures/)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAMILIES = sorted(p.name for p in FIXTURES.iterdir() if (p / "migrations").is_dir())
# A family that needs an extension with no build for a major, and the verdict the replay gives there.
NOT_ON = {("hypopg", "18"): "hypopg"}


def test_every_family_has_assertions():
    assert FAMILIES and all((FIXTURES / name / "checks.yml").is_file() for name in FAMILIES)


@pytest.mark.parametrize("major", ["15", "17"])
@pytest.mark.parametrize("family", FAMILIES)
def test_family_replays_locally(run_cli, family, major):
    folder = FIXTURES / family
    result = run_cli("deploy", "--pg-major", major, "--migrations-dir", folder / "migrations",
                     "--assertions", folder / "checks.yml")
    assert result.code == 0, result.out + result.err
    applied = len(list((folder / "migrations").glob("*.sql")))
    assert f"applied {applied} migration(s)" in result.out
    assert "passed" in result.out and "failed" not in result.out.split("assertions", 1)[-1].split("\n")[0]


@pytest.mark.parametrize("family", ["vector", "contrib", "db_pull"])
def test_family_replays_on_18(run_cli, family):
    """18 is no hosted major yet; what it has replays too."""
    folder = FIXTURES / family
    result = run_cli("deploy", "--pg-major", "18", "--migrations-dir", folder / "migrations",
                     "--assertions", folder / "checks.yml")
    assert result.code == 0, result.out + result.err
