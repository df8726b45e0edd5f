"""authenticated_security_definer_function_executable: a security definer RPC that `authenticated` may call."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, for_role

ID = "authenticated_security_definer_function_executable"
TITLE = "Signed-In Users Can Execute SECURITY DEFINER Function"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A SECURITY DEFINER function in an exposed schema callable by every signed-in user (/rest/v1/rpc)."
REMEDIATION = DOCS + "0029_authenticated_security_definer_function_executable"
SQL = for_role("definer_function_executable", "authenticated", ID)
BLAME = (
    Blame.of(Target.FUNCTION, Change.CREATE, Change.ALTER, Change.GRANT,
             grantees=frozenset({"authenticated", "public"})),
)

_FUNCTION = "create function public.promote(target uuid) returns void language sql security definer\n" \
            "  set search_path = '' as 'select null';\n"
FIXTURES = (
    Fixture("fires on a definer function PUBLIC may execute", _FUNCTION, ("public.promote(target uuid)",)),
    Fixture("quiet once execute is revoked, and for security invoker functions",
            _FUNCTION + "revoke execute on function public.promote(uuid) from public, anon, authenticated;\n"
            "create function public.whoami() returns uuid language sql stable set search_path = ''\n"
            "  as 'select auth.uid()';"),
)
