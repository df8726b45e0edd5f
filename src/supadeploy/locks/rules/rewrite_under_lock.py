"""rewrite-under-lock: the table was rewritten (new relfilenode) while the statement held a blocking lock."""

ID = "rewrite-under-lock"
EFFECT = "rewrite"
ADVICE = {
    "type": "changing a column's type rewrites the table: add a new column, backfill it in batches, and swap "
            "(or keep the type: a varchar limit can be raised without a rewrite).",
    "default": "a volatile default (now(), random(), gen_random_uuid()) rewrites every row: add the column without "
               "it, then set the default and backfill in batches.",
    "other": "the statement rewrites every row under ACCESS EXCLUSIVE; do the change in steps that do not rewrite "
             "(new column + backfill + swap), or run it when the table may be locked for that long.",
}


def advice(kind: str) -> str:
    return ADVICE.get(kind, ADVICE["other"])
