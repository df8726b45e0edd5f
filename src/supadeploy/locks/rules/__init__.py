"""supadeploy's own lock-safety rules, one per file, each with a stable id, what it matches, its advice and
fixtures (see ../rule.py). They cover what squawk cannot see from the text alone, because the trace of a
real replay shows it: a rewrite, a validation scan or an index build under a lock that blocks the table."""
