"""Real-shaped migration folders, one per extension family, replayed by `supadeploy deploy` on the local
target for each hosted major, with assertions that the extensions did their work (tests/fixtures/)."""

from __future__ import annotations

import pytest

from support.families import FAMILIES, FIXTURES, ONLY_ON, QUIET


def test_every_family_has_assertions():
    assert FAMILIES and all((FIXTURES / name / "checks.yml").is_file() for name in FAMILIES)


@pytest.mark.parametrize("major", ["15", "17"])
@pytest.mark.parametrize("family", FAMILIES)
def test_family_replays_locally(run_cli, family, major):
    folder = FIXTURES / family
    if major not in ONLY_ON.get(family, (major,)):
        pytest.skip(f"{family} is replayed on {', '.join(ONLY_ON[family])} only: "
                    "test_a_family_missing_on_a_major_is_named")
    result = run_cli("deploy", "--pg-major", major, "--migrations-dir", folder / "migrations",
                     "--assertions", folder / "checks.yml", *QUIET)
    assert result.code == 0, result.out + result.err
    applied = len(list((folder / "migrations").glob("*.sql")))
    assert f"applied {applied} migration(s)" in result.out
    assert "passed" in result.out and "failed" not in result.out.split("assertions", 1)[-1].split("\n")[0]


@pytest.mark.parametrize("family", ["vector", "contrib", "db_pull"])
def test_family_replays_on_18(run_cli, family):
    """18 is no hosted major yet; what it has replays too."""
    folder = FIXTURES / family
    result = run_cli("deploy", "--pg-major", "18", "--migrations-dir", folder / "migrations",
                     "--assertions", folder / "checks.yml", *QUIET)
    assert result.code == 0, result.out + result.err


@pytest.mark.parametrize(("family", "extension", "major", "only"), [
    ("postgis", "postgis", "17", "PostgreSQL 15 only"),  # no PostGIS build loads on 17 here
    ("partman", "pg_partman", "15", "PostgreSQL 17 only"),  # Debian 12's is 4.7, hosted runs 5.x
])
def test_a_family_missing_on_a_major_is_named(run_cli, family, extension, major, only):
    """The replay stops at that statement and names it, and the verdict says why (docs/local-replay.md)."""
    folder = FIXTURES / family
    result = run_cli("deploy", "--pg-major", major, "--migrations-dir", folder / "migrations", "--no-assertions",
                     "--format", "json")
    assert result.code == 1 and result.json["status"] == "unsupported", result.out
    from supadeploy.platform import extension_verdict

    verdict = extension_verdict(extension, int(major))
    assert verdict.kind.value == "not available locally" and only in verdict.detail
