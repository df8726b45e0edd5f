"""public_bucket_allows_listing: a public Storage bucket whose files any client can list."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "public_bucket_allows_listing"
TITLE = "Public Bucket Allows Listing"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A public bucket with a broad SELECT policy on storage.objects, letting clients list all its files."
REMEDIATION = DOCS + "0025_public_bucket_allows_listing"
SQL = beside(__name__)
BLAME = (
    Blame.of(Target.POLICY, Change.CREATE, Change.ALTER),
    Blame.of(Target.BUCKET, Change.CREATE, Change.ALTER),
)

_BUCKETS = "insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true),\n" \
           "  ('private-docs', 'private-docs', false);\n"
FIXTURES = (
    Fixture("fires on a policy that selects the whole public bucket",
            _BUCKETS + "create policy \"Avatar images are publicly accessible.\" on storage.objects\n"
            "  for select using (bucket_id = 'avatars');", ("storage.avatars/avatars",)),
    Fixture("quiet on a private bucket, or a policy narrower than the bucket",
            _BUCKETS + "create policy docs_read on storage.objects for select to authenticated\n"
            "  using (bucket_id = 'private-docs');\n"
            "create policy own_avatar on storage.objects for select to authenticated\n"
            "  using (bucket_id = 'avatars' and owner = (select auth.uid()));"),
)
