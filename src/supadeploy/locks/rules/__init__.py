"""supadeploy's own lock-safety rules, one per file, each with a stable id and its advice.

They cover what squawk cannot see from the text alone, because the trace of a
real replay shows it: a rewrite, a validation scan or an index build under a
lock that blocks the table.
"""

from __future__ import annotations

from . import blocking_index_build, rewrite_under_lock, scan_under_lock

RULES = {module.ID: module for module in (rewrite_under_lock, scan_under_lock, blocking_index_build)}
