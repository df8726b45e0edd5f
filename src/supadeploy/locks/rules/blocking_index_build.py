"""blocking-index-build: an index was built on an existing table without CONCURRENTLY (writes wait)."""

from __future__ import annotations

from ..rule import ITEMS, Fixture, TraceRow

ID = "blocking-index-build"
EFFECT = "index build"
DESCRIPTION = "An index was built on an existing table without CONCURRENTLY: writes to the table wait for it."
DOCS = "docs/lock-safety.md#the-rules"
PRIORITY = 3
FIXTURES = (
    Fixture(ITEMS, "create index items_qty on public.items (qty);", fires=True),
    Fixture(ITEMS, "alter table public.items add constraint items_qty_key unique (qty);", fires=True),
    Fixture(ITEMS, "create table public.other (id bigint primary key);\ncreate index other_id on public.other (id);",
            fires=False),
)
ADVICE = ("build it with `CREATE INDEX CONCURRENTLY` in a migration of its own whose first line is "
          "`-- supadeploy: transaction=false`: writes go on while it builds.")


def matches(row: TraceRow, statement_kind: str) -> bool:
    return bool(row.get("index_built"))


def advice(kind: str) -> str:
    return ADVICE
