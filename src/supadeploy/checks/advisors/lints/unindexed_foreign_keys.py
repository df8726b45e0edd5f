"""unindexed_foreign_keys: a foreign key no index starts with, so deletes on the referenced table scan."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "unindexed_foreign_keys"
TITLE = "Unindexed foreign keys"
LEVEL = Level.INFO
CATEGORIES = (Category.PERFORMANCE,)
DESCRIPTION = "A foreign key whose columns no index on its table starts with."
REMEDIATION = DOCS + "0001_unindexed_foreign_keys"
SQL = beside(__name__)
BLAME = (Blame.of(Target.CONSTRAINT, Change.CREATE),)

_TABLES = """
create table public.team (id bigint primary key);
create table public.member (id bigint primary key, team_id bigint not null references public.team (id),
                            role text, constraint member_team_role_fk foreign key (team_id) references public.team (id));
"""
FIXTURES = (
    Fixture("fires on each foreign key without an index", _TABLES,
            ("public.member/member_team_id_fkey", "public.member/member_team_role_fk")),
    Fixture("quiet when an index starts with the key's columns",
            _TABLES + "create index member_team_idx on public.member (team_id, role);"),
    Fixture("fires when the index has the columns in another order",
            "create table public.a (x int, y int, primary key (x, y));\n"
            "create table public.b (id int primary key, x int, y int, constraint b_a_fk foreign key (x, y) "
            "references public.a (x, y));\ncreate index b_yx_idx on public.b (y, x);",
            ("public.b/b_a_fk",)),
)
