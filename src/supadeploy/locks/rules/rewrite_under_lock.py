"""rewrite-under-lock: the table was rewritten (new relfilenode) while the statement held a blocking lock."""

from __future__ import annotations

from ..rule import ITEMS, Fixture, TraceRow

ID = "rewrite-under-lock"
EFFECT = "rewrite"
DESCRIPTION = "A statement rewrote every row of an existing table while holding a lock that blocks it."
DOCS = "docs/lock-safety.md#the-rules"
PRIORITY = 1
FIXTURES = (
    Fixture(ITEMS, "alter table public.items alter column qty type bigint;", fires=True),
    Fixture(ITEMS, "alter table public.items add column created_at timestamptz default clock_timestamp();",
            fires=True),
    Fixture(ITEMS, "alter table public.items add column note text;", fires=False),
    Fixture(ITEMS, "alter table public.items add column flag boolean not null default false;", fires=False),
)
ADVICE = {
    "type": "changing a column's type rewrites the table: add a new column, backfill it in batches, and swap "
            "(or keep the type: a varchar limit can be raised without a rewrite).",
    "default": "a volatile default (now(), random(), gen_random_uuid()) rewrites every row: add the column without "
               "it, then set the default and backfill in batches.",
    "other": "the statement rewrites every row under ACCESS EXCLUSIVE; do the change in steps that do not rewrite "
             "(new column + backfill + swap), or run it when the table may be locked for that long.",
}


def matches(row: TraceRow, statement_kind: str) -> bool:
    return bool(row.get("rewrite")) and statement_kind != "TruncateStmt"


def advice(kind: str) -> str:
    return ADVICE.get(kind, ADVICE["other"])
