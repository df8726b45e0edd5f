"""Supabase's lints, one per file, each written from what the lint means (supabase/splinter's docs).

A module here is a unit of the family (see model.Lint and supadeploy.registry):
its id, level, categories, one-line description, the remediation link Supabase
uses, its SQL (the .sql file beside it), which statements it blames, and the
fixtures that make it fire and stay quiet. Left out, because no catalog query
can compute them: unused_index (0005) and table_bloat (0020) need the server's
runtime statistics, auth_allow_anonymous_sign_ins (0012) the Auth server's
configuration.
"""
