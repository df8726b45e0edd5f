"""Each stand-in has exactly the functions of the real extension version hosted projects ship.

The lists in src/supadeploy/platform/signatures/ were written down from the real extensions' SQL (run in
a scratch database); here the stand-in is created the way a migration creates it and its functions are
read back from pg_proc. A stand-in may add private helpers only under the `_supadeploy` prefix.
"""

from __future__ import annotations

from importlib import resources

import pytest

from supadeploy.platform.catalog import stand_ins_for

SIGNATURES = resources.files("supadeploy.platform").joinpath("signatures")
# signature file -> (the extension a migration creates, or None when the bootstrap provides it; schemas)
CASES = {
    "pgmq-1.5.1.txt": ("create extension if not exists pgmq", ["pgmq"]),
    "pg_net-0.19.5.txt": ("create extension if not exists pg_net with schema extensions", ["net"]),
    "pg_cron-1.6.txt": ("create extension if not exists pg_cron", ["cron"]),
    "supabase_vault-0.3.1.txt": (None, ["vault"]),
    "index_advisor-0.2.0.txt": ("create extension if not exists index_advisor with schema extensions cascade",
                                ["extensions"]),
    "pg_jsonschema-0.3.1.txt": ("create extension if not exists pg_jsonschema with schema extensions",
                                ["extensions"]),
    "wrappers-0.4.3.txt": ("create extension if not exists wrappers with schema extensions", ["extensions"]),
    "pgaudit-1.7.txt": ("create extension if not exists pgaudit", ["public"]),
    "realtime.txt": (None, ["realtime"]),
    "supabase_functions.txt": (None, ["supabase_functions"]),
}
LISTED = """
select n.nspname || '.' || p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> '
       || coalesce(pg_get_function_result(p.oid), '')
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%s) and p.proname !~ '^_supadeploy'
"""


def expected(name: str) -> set[str]:
    lines = SIGNATURES.joinpath(name).read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def test_every_signature_file_is_checked():
    assert {item.name for item in SIGNATURES.iterdir() if item.name.endswith(".txt")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_stand_in_matches_the_hosted_version(db, name):
    create, schemas = CASES[name]
    major = int(db.server[2:])
    if create and name.split("-")[0] not in stand_ins_for(major):
        pytest.skip(f"{name.split('-')[0]} is not offered on PostgreSQL {major} (catalog.stand_ins_for)")
    if create:
        db.query(create)  # as `postgres`, the way a migration does it
    found = {row[0] for row in db.query(LISTED, (schemas,))}
    want = expected(name)
    if name.startswith("index_advisor"):  # `extensions` holds other extensions' functions too
        found = {line for line in found if ".index_advisor(" in line}
    if name.startswith("wrappers"):  # the same: only the wrappers' handler, validator and meta functions
        found = {line for line in found if line.split("(", 1)[0].endswith(("_fdw_handler", "_fdw_validator", "_fdw_meta"))}
    if name.startswith("pg_jsonschema"):  # the same: only the functions whose names pg_jsonschema uses
        found = {line for line in found if line.split("(", 1)[0].split(".", 1)[1].endswith(("_matches_schema",))
                 or ".jsonschema_" in line}
    if create is None and name != "supabase_vault-0.3.1.txt":  # a hosted schema: the functions migrations call
        found = {line for line in found if line.split("(", 1)[0] in {w.split("(", 1)[0] for w in want}}
    assert found == want, f"missing: {sorted(want - found)}\nnot in {name}: {sorted(found - want)}"


def test_pgmq_overloads_behave_like_pgmq(db):
    """The calls real projects make: set_vt(text, bigint, integer), read, send_batch, archive, headers."""
    db.query("create extension if not exists pgmq")
    db.query("select pgmq.create('jobs')")
    ids = [r[0] for r in db.query("select * from pgmq.send_batch('jobs', array['{\"n\":1}', '{\"n\":2}']::jsonb[])")]
    assert len(ids) == 2
    assert db.value("select count(*) from pgmq.read('jobs', 30, 5)") == 2
    assert db.value("select count(*) from pgmq.read('jobs', 30, 5)") == 0  # invisible for 30 s
    assert db.value(f"select msg_id from pgmq.set_vt('jobs', {ids[0]}::bigint, 0)") == ids[0]
    assert db.value("select message ->> 'n' from pgmq.read('jobs', 30, 1)") == "1"
    assert db.value(f"select pgmq.archive('jobs', {ids[0]}::bigint)") is True
    assert db.value("select count(*) from pgmq.a_jobs") == 1
    db.query("select pgmq.send('jobs', '{\"n\":3}', '{\"trace\":\"x\"}'::jsonb, 0)")
    assert db.value("select headers ->> 'trace' from pgmq.q_jobs where message ->> 'n' = '3'") == "x"
    assert db.value("select queue_length from pgmq.metrics('jobs')") == 2
    assert db.value("select pgmq.drop_queue('jobs')") is True
    assert db.value("select to_regclass('pgmq.q_jobs')") is None
