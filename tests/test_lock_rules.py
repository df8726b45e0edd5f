"""Every lock rule's fixtures, from its own file (locks/rules/), replayed and traced on a real database:
each fires, or stays quiet, as the fixture says. A new rule is tested by adding its file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supadeploy.engine.apply import deploy
from supadeploy.engine.hooks import Hooks
from supadeploy.engine.migrations import Migration, load_migrations
from supadeploy.engine.plan import PlanOptions
from supadeploy.engine.run import ApplyOptions
from supadeploy.locks.analyze import RULES, findings
from supadeploy.locks.trace import LockTracer
from supadeploy.targets.postgres import PostgresTarget

CASES = [(rule_id, index) for rule_id, rule in RULES.items() for index in range(len(rule.FIXTURES))]


class Collect(Hooks):
    def __init__(self) -> None:
        self.rules: list[str] = []

    def traced(self, batch: list[Migration], rows: list[dict[str, Any]]) -> None:
        self.rules += [f.rule for f in findings(batch, rows)]


def test_every_rule_has_fixtures_that_fire_and_that_stay_quiet():
    for rule_id, rule in RULES.items():
        assert {f.fires for f in rule.FIXTURES} == {True, False}, rule_id
        assert rule.DOCS.startswith("docs/lock-safety.md#") and rule.DESCRIPTION, rule_id


@pytest.mark.parametrize("rule_id, index", CASES, ids=[f"{r}-{i}" for r, i in CASES])
def test_rule_fixture(rule_id: str, index: int, db, tmp_path: Path):
    fixture = RULES[rule_id].FIXTURES[index]
    db.query(fixture.setup)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "000001_fixture.sql").write_text(fixture.migration + "\n")
    hooks = Collect()
    target = PostgresTarget(db.dsn)
    try:
        deploy(target, load_migrations(folder), PlanOptions(), ApplyOptions(tracer=LockTracer()), hooks)
    finally:
        target.close()
    assert (rule_id in hooks.rules) == fixture.fires, (fixture.migration, hooks.rules)
