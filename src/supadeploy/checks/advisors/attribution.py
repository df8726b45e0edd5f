"""Each finding to the migration file and line of the statement that created or last changed its object.

A lint says what it blames (model.Blame: the policy's CREATE/ALTER, the table's
CREATE/RLS/GRANT, ...); the last such event in the ledger, in migration order,
is where the finding comes from. A grant on ALL TABLES (or FUNCTIONS) IN SCHEMA
counts for the objects created before it in earlier files. When nothing the lint blames is
found, the object's creation is the answer; failing that, the last DO block
that names the object (approximate). A finding on an object no migration
touched (it was made by hand, by the platform, or in production only) stays
unattributed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .ledger import Event, Key, Ledger
from .model import Attribution, Blame, Change, Finding, Lint, Target

_RELATION_TYPES = {"table", "view", "materialized view", "foreign table"}


def attribute(findings: Iterable[Finding], ledger: Ledger, lints: dict[str, Lint]) -> list[Finding]:
    """The findings, each with `where` set when a statement can be blamed."""
    return [f.at(locate(f, ledger, lints[f.lint].BLAME)) for f in findings]


def locate(finding: Finding, ledger: Ledger, blames: tuple[Blame, ...]) -> Attribution | None:
    """Where one finding comes from, or None."""
    events = [event for blame in blames for event in _blamed(finding, ledger, blame)]
    if not events:
        events = [e for key in _own_keys(finding, ledger) for e in ledger.history(key) if e.change is Change.CREATE]
    if events:
        last = max(events, key=lambda e: e.seq)
        return Attribution(last.file, last.line, last.change)
    return _mentioned(finding, ledger)


def _blamed(finding: Finding, ledger: Ledger, blame: Blame) -> list[Event]:
    keys = keys_for(blame.target, finding, ledger)
    events = [e for key in keys for e in ledger.history(key) if e.change in blame.changes]
    if Change.GRANT in blame.changes and blame.target in (Target.RELATION, Target.FUNCTION):
        events += _schema_grants(keys, ledger, "table" if blame.target is Target.RELATION else "function")
    if blame.grantees is not None:
        events = [e for e in events if e.change is not Change.GRANT or e.grantees & blame.grantees]
    return events


def _schema_grants(keys: list[Key], ledger: Ledger, what: str) -> list[Event]:
    """GRANT/REVOKE ... ON ALL TABLES|FUNCTIONS IN SCHEMA in a later file than the object's creation.

    In the creating file, the create statement is the better place to point at; a later file's grant
    may be what exposed an old object (a pull request adding one), so it takes the blame."""
    found: list[Event] = []
    for key in keys:
        created = [e for e in ledger.history(key) if e.change is Change.CREATE]
        if created:
            found += [e for e in ledger.history(("schema-grant", key[1], what))
                      if e.seq > created[-1].seq and e.file != created[-1].file]
    return found


def keys_for(target: Target, finding: Finding, ledger: Ledger) -> list[Key]:
    """The ledger keys of the parts of the finding's object that a lint of this target blames."""
    schema, name, subject = unquote(finding.schema or ""), finding.object, finding.parts
    if target is Target.RELATION:
        return [("relation", schema, name)]
    if target is Target.COLUMN:
        return [("column", schema, name, column) for column in subject.columns]
    if target is Target.POLICY:
        table_schema, table = subject.relation or (schema, name)
        return [("policy", table_schema, table, policy) for policy in subject.policies]
    if target is Target.CONSTRAINT:
        keys: list[Key] = [("constraint", schema, name, subject.constraint or "")]
        return keys + ([("fk", schema, name, ",".join(subject.columns))] if subject.columns else [])
    if target is Target.INDEX:
        return [("index", schema, index) for index in subject.indexes]
    if target is Target.FUNCTION:
        return ledger.function_keys(schema, name, subject.arg_types)
    if target is Target.EXTENSION:
        return [("extension", name)]
    return [("bucket", subject.bucket or name)]


def _own_keys(finding: Finding, ledger: Ledger) -> list[Key]:
    """The object itself, for when none of what the lint blames was found: its creation."""
    if finding.object_type == "function":
        return keys_for(Target.FUNCTION, finding, ledger)
    if finding.object_type == "extension":
        return keys_for(Target.EXTENSION, finding, ledger)
    if finding.object_type == "bucket":
        return keys_for(Target.BUCKET, finding, ledger)
    return keys_for(Target.RELATION, finding, ledger) if finding.object_type in _RELATION_TYPES else []


def _mentioned(finding: Finding, ledger: Ledger) -> Attribution | None:
    """The last DO block whose text names the object (its body cannot be parsed)."""
    word = re.compile(r"(?<![\w$])" + re.escape(finding.object.lower()) + r"(?![\w$])")
    for event, text in reversed(ledger.mentions):
        if word.search(text):
            return Attribution(event.file, event.line, event.change, exact=False)
    return None


def unquote(name: str) -> str:
    """A schema name as regnamespace prints it ("My Schema") back to the name itself."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name
