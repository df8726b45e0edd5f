"""scan-under-lock: the statement read the whole table to validate something while holding a blocking lock."""

ID = "scan-under-lock"
EFFECT = "validation scan"
ADVICE = {
    "check": "add the CHECK as `ADD CONSTRAINT … CHECK (…) NOT VALID` and run `ALTER TABLE … VALIDATE CONSTRAINT` "
             "in a later migration: validating takes only SHARE UPDATE EXCLUSIVE, which blocks no reads or writes.",
    "not-null": "add `CHECK (col IS NOT NULL) NOT VALID`, VALIDATE it in a later migration, then SET NOT NULL: "
                "PostgreSQL 12+ uses the valid CHECK instead of scanning.",
    "foreign-key": "add the foreign key with NOT VALID and run `VALIDATE CONSTRAINT` in a later migration.",
    "other": "the statement scans the whole table under a lock that blocks writes; split it so the scan runs "
             "under SHARE UPDATE EXCLUSIVE (NOT VALID, then VALIDATE in a later migration).",
}


def advice(kind: str) -> str:
    return ADVICE.get(kind, ADVICE["other"])
