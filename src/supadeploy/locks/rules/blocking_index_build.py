"""blocking-index-build: an index was built on an existing table without CONCURRENTLY (writes wait)."""

ID = "blocking-index-build"
EFFECT = "index build"
ADVICE = ("build it with `CREATE INDEX CONCURRENTLY` in a migration of its own whose first line is "
          "`-- supadeploy: transaction=false`: writes go on while it builds.")


def advice(kind: str) -> str:
    return ADVICE
