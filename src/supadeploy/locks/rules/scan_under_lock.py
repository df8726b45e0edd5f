"""scan-under-lock: the statement read the whole table to validate something while holding a blocking lock."""

from __future__ import annotations

from ..rule import ITEMS, Fixture, TraceRow

ID = "scan-under-lock"
EFFECT = "validation scan"
DESCRIPTION = "A statement scanned a whole existing table to validate a constraint while holding a lock that blocks it."
DOCS = "docs/lock-safety.md#the-rules"
PRIORITY = 2
FIXTURES = (
    Fixture(ITEMS, "alter table public.items add constraint qty_positive check (qty > 0);", fires=True),
    Fixture(ITEMS, "alter table public.items alter column qty set not null;", fires=True),
    Fixture(ITEMS, "alter table public.items add constraint qty_positive check (qty > 0) not valid;", fires=False),
    Fixture(ITEMS + "\nalter table public.items add constraint qty_positive check (qty > 0) not valid;",
            "alter table public.items validate constraint qty_positive;", fires=False),
)
ADVICE = {
    "check": "add the CHECK as `ADD CONSTRAINT … CHECK (…) NOT VALID` and run `ALTER TABLE … VALIDATE CONSTRAINT` "
             "in a later migration: validating takes only SHARE UPDATE EXCLUSIVE, which blocks no reads or writes.",
    "not-null": "add `CHECK (col IS NOT NULL) NOT VALID`, VALIDATE it in a later migration, then SET NOT NULL: "
                "PostgreSQL 12+ uses the valid CHECK instead of scanning.",
    "foreign-key": "add the foreign key with NOT VALID and run `VALIDATE CONSTRAINT` in a later migration.",
    "other": "the statement scans the whole table under a lock that blocks writes; split it so the scan runs "
             "under SHARE UPDATE EXCLUSIVE (NOT VALID, then VALIDATE in a later migration).",
}


def matches(row: TraceRow, statement_kind: str) -> bool:
    return bool(row.get("scanned")) and not row.get("rewrite") and not row.get("index_built")


def advice(kind: str) -> str:
    return ADVICE.get(kind, ADVICE["other"])
