"""No token or password ever reaches any output: stdout, stderr, job summary, step outputs, reports."""

from __future__ import annotations

from pathlib import Path

from conftest import MIGRATIONS, REF, REPO, TOKEN, api_args

WELLTRACK = REPO / "assertions" / "welltrack.yml"
PASSWORD = "Pa$$w0rd-s3cret"
DB_URL = "postgresql://postgres:Pa%24%24w0rd-s3cret@127.0.0.1:1/postgres"


def scan(run, tmp_path: Path, secrets: tuple[str, ...]) -> list[str]:
    """Every place a value could leak; `::add-mask::` lines are consumed by the runner, never shown."""
    leaks = []
    def shown(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not line.startswith("::add-mask::"))

    for name, text in [("stdout", shown(run.out)), ("stderr", shown(run.err))] + [(p.name, p.read_text()) for p in sorted(tmp_path.glob("gh_*"))]:
        leaks += [f"{name}: {secret}" for secret in secrets if secret in text]
    return leaks


def test_token_never_appears_in_any_output_of_any_command(pg18, twin18, run_cli, github, migrations_copy):
    (migrations_copy / "000099_broken.sql").write_text(f"-- {REF}\nselect 1/0;\n")
    files = ["--report", github / "gh_report.json", "--junit", github / "gh_junit.xml"]
    runs = {
        "plan": run_cli("plan", *api_args(twin18, 30), "--migrations-dir", MIGRATIONS, *files),
        "deploy": run_cli("deploy", *api_args(twin18, 30), "--migrations-dir", MIGRATIONS, "--assertions", WELLTRACK,
                          *files),
        "verify": run_cli("verify", *api_args(twin18, 30), "--assertions", WELLTRACK, "--format", "json", *files),
        "status": run_cli("status", *api_args(twin18, 30), "--migrations-dir", MIGRATIONS, *files),
        "failing deploy": run_cli("deploy", *api_args(twin18, 30), "--migrations-dir", migrations_copy, *files),
        "wrong token": run_cli("deploy", "--project-ref", REF, "--access-token", TOKEN[::-1], "--api-url",
                               twin18.url, "--migrations-dir", MIGRATIONS, *files),
        "no ref": run_cli("deploy", "--access-token", TOKEN, "--migrations-dir", MIGRATIONS, *files),
        "bad url": run_cli("status", "--project-ref", REF, "--access-token", TOKEN, "--api-url",
                           f"http://user:{TOKEN}@example.com", *files),
    }
    codes = {name: run.code for name, run in runs.items()}
    assert codes == {"plan": 0, "deploy": 0, "verify": 0, "status": 0, "failing deploy": 1, "wrong token": 2,
                     "no ref": 2, "bad url": 2}
    for name, run in runs.items():
        log = run.err if run.out.startswith("{") else run.out  # --format json: the log is on stderr
        assert log.startswith((f"::add-mask::{TOKEN}", f"::add-mask::{TOKEN[::-1]}")), name
        assert scan(run, github, (TOKEN, TOKEN[::-1])) == [], name
    assert (github / "gh_summary").read_text().count("## supadeploy") == len(runs)


def test_database_password_never_appears(run_cli, github):
    run = run_cli("deploy", "--db-url", DB_URL, "--migrations-dir", MIGRATIONS, "--format", "json",
                  "--report", github / "gh_report.json")
    assert run.code == 2 and "cannot connect to the database" in run.err + run.out
    assert "::add-mask::Pa%2524%2524w0rd-s3cret" in run.err  # escaped: the runner decodes it and f"::add-mask::{PASSWORD}" in run.err
    assert scan(run, github, (PASSWORD, "Pa%24%24w0rd-s3cret")) == []


def test_terminal_run_never_prints_the_token(pg18, twin18, run_cli):
    run = run_cli("deploy", "--project-ref", REF, "--access-token", TOKEN[::-1], "--api-url", twin18.url,
                  "--migrations-dir", MIGRATIONS)
    assert run.code == 2 and TOKEN[::-1] not in run.out + run.err and "::" not in run.out
