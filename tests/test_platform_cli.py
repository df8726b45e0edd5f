"""The local replay's verdicts and `supadeploy platform prepare`, through the CLI as a user meets them."""

from __future__ import annotations

import pytest


def _folder(tmp_path, sql: str):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_ext.sql").write_text(sql)
    return folder


def test_an_extension_hosted_17_does_not_offer_fails_like_on_the_project(run_cli, tmp_path):
    result = run_cli("deploy", "--pg-major", "17", "--migrations-dir", _folder(tmp_path, "create extension plv8;\n"),
                     "--no-assertions", "--format", "json")
    assert result.code == 1 and result.json["status"] == "failed", result.out
    [problem] = [p for p in result.json["problems"] if p["fatal"]]
    assert "not offered by hosted Supabase projects on PostgreSQL 17" in problem["message"]
    assert problem["file"] == "migrations/20250101000000_ext.sql" and problem["line"] == 1


@pytest.mark.parametrize("extension", ["plv8", "pg_hashids"])
def test_an_extension_the_replay_lacks_on_15_is_unsupported_not_broken(run_cli, tmp_path, extension):
    result = run_cli("deploy", "--pg-major", "15", "--migrations-dir",
                     _folder(tmp_path, f"create extension {extension};\n"), "--no-assertions", "--format", "json")
    assert result.code == 1 and result.json["status"] == "unsupported", result.out
    [problem] = [p for p in result.json["problems"] if p["fatal"]]
    assert f"extension {extension} is not available in supadeploy's local replay" in problem["message"]


def test_platform_prepare_reports_what_each_major_has(run_cli):
    result = run_cli("platform", "prepare", "17", "--format", "json")
    assert result.code == 0 and result.json["status"] == "success", result.out + result.err
    assert result.json["plan_summary"] == "prepared PostgreSQL 17"
    assert "real: vector, hypopg" in result.err


def test_platform_needs_an_action(run_cli):
    assert run_cli("platform").code == 2
