"""Every assertion kind's fixtures, from its own file (checks/assertions/kinds/), through the loader and one
verify request on a real database: each passes, or fails, as the fixture says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from supadeploy.checks.assertions.load import KINDS, load_assertions
from supadeploy.checks.assertions.run import verify
from supadeploy.targets.postgres import PostgresTarget

CASES = [(kind_id, index) for kind_id, kind in KINDS.items() for index in range(len(kind.FIXTURES))]


def test_every_kind_has_fixtures_that_pass_and_that_fail():
    for kind_id, kind in KINDS.items():
        assert {f.passes for f in kind.FIXTURES} == {True, False}, kind_id
        assert kind.DESCRIPTION and kind.DOCS.startswith("docs/assertions.md"), kind_id
        assert not set(kind.REQUIRED) & set(kind.OPTIONAL), kind_id


@pytest.mark.parametrize("kind_id, index", CASES, ids=[f"{k}-{i}" for k, i in CASES])
def test_kind_fixture(kind_id: str, index: int, db, tmp_path: Path):
    fixture = KINDS[kind_id].FIXTURES[index]
    if fixture.setup:
        db.query(fixture.setup)
    path = tmp_path / "check.yml"
    path.write_text(yaml.safe_dump({"assertions": [{"name": f"{kind_id} fixture {index}", kind_id: fixture.spec}]}))
    target = PostgresTarget(db.dsn)
    try:
        [result] = verify(target, load_assertions(path), None).results
    finally:
        target.close()
    assert result.passed == fixture.passes, result.message
