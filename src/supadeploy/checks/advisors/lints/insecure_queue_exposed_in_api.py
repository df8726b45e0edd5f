"""insecure_queue_exposed_in_api: a Supabase Queues table without row level security, pgmq_public exposed."""

from __future__ import annotations

from ..model import API_ROLES, Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "insecure_queue_exposed_in_api"
TITLE = "Insecure Queue Exposed in API"
LEVEL = Level.ERROR
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A queue table (pgmq) readable by anon or authenticated without RLS while pgmq_public is exposed."
REMEDIATION = DOCS + "0019_insecure_queue_exposed_in_api"
SQL = beside(__name__)
BLAME = (Blame.of(Target.RELATION, Change.CREATE, Change.RLS, Change.GRANT, grantees=API_ROLES),)

_QUEUE = "create extension pgmq;\nselect pgmq.create('jobs');\n" \
         "grant usage on schema pgmq to anon;\ngrant select on pgmq.q_jobs to anon;\n"
_EXPOSED = ("public", "graphql_public", "pgmq_public")
FIXTURES = (
    Fixture("fires on a readable queue when pgmq_public is exposed", _QUEUE, ("pgmq.q_jobs",), exposed=_EXPOSED),
    Fixture("quiet with row level security on the queue",
            _QUEUE + "alter table pgmq.q_jobs enable row level security;", exposed=_EXPOSED),
    Fixture("quiet while pgmq_public is not exposed", _QUEUE),
)
