"""pg_jsonschema's stand-in validates as the real extension does (JSON Schema draft 7, its validator's default),
and says so when it cannot: the cases below are draft 7's own rules, one or two instances each."""

from __future__ import annotations

import json

import psycopg
import pytest

CREATE = "create extension if not exists pg_jsonschema with schema extensions"

# (schema, instance, valid)
CASES = [
    ({"type": "string"}, "a", True), ({"type": "string"}, 1, False),
    ({"type": "integer"}, 1, True), ({"type": "integer"}, 1.0, True), ({"type": "integer"}, 1.5, False),
    ({"type": ["string", "null"]}, None, True), ({"type": "object"}, [], False),
    ({"minimum": 5}, 4, False), ({"minimum": 5}, 5, True), ({"minimum": 5}, "not a number", True),
    ({"exclusiveMinimum": 5}, 5, False), ({"minimum": 5, "exclusiveMinimum": True}, 5, False),  # draft 4's form
    ({"maximum": 5, "exclusiveMaximum": True}, 4, True), ({"multipleOf": 3}, 9, True), ({"multipleOf": 3}, 10, False),
    ({"minLength": 2}, "é", False), ({"minLength": 2}, "éé", True), ({"maxLength": 1}, "ab", False),
    ({"pattern": "^wt_[a-z]+$"}, "wt_sleep", True), ({"pattern": "^wt_[a-z]+$"}, "sleep", False),
    ({"enum": [1, "a", None]}, "a", True), ({"enum": [1, "a", None]}, 2, False), ({"enum": [1]}, 1.0, True),
    ({"const": {"a": 1}}, {"a": 1}, True), ({"const": {"a": 1}}, {"a": 2}, False),
    ({"required": ["a"], "properties": {"a": {"type": "integer"}}}, {"a": 1}, True),
    ({"required": ["a"], "properties": {"a": {"type": "integer"}}}, {"a": "x"}, False),
    ({"required": ["a"]}, {}, False), ({"required": ["a"]}, "not an object", True),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": "s"}, True),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": 1}, False),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"y": "s"}, False),
    ({"additionalProperties": {"type": "integer"}}, {"a": 1, "b": "x"}, False),
    ({"items": {"type": "integer"}}, [1, 2], True), ({"items": {"type": "integer"}}, [1, "a"], False),
    ({"items": [{"type": "string"}], "additionalItems": False}, ["a"], True),
    ({"items": [{"type": "string"}], "additionalItems": False}, ["a", 1], False),
    ({"items": [{"type": "string"}]}, ["a", 1], True),
    ({"minItems": 1}, [], False), ({"uniqueItems": True}, [1, 1.0], False), ({"uniqueItems": True}, [1, 2], True),
    ({"maxItems": 1}, [1, 2], False), ({"contains": {"const": 3}}, [1, 3], True), ({"contains": {"const": 3}}, [1], False),
    ({"anyOf": [{"type": "string"}, {"minimum": 2}]}, 1, False), ({"anyOf": [{"type": "string"}, {"minimum": 2}]}, 3, True),
    ({"oneOf": [{"minimum": 2}, {"maximum": 5}]}, 3, False), ({"oneOf": [{"minimum": 2}, {"maximum": 5}]}, 1, True),
    ({"allOf": [{"minimum": 2}, {"maximum": 5}]}, 6, False), ({"not": {"type": "null"}}, None, False),
    ({"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}},
     {"kind": "a"}, False),
    ({"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}},
     {"kind": "b", "y": 1}, True),
    ({"$ref": "#/definitions/positive", "definitions": {"positive": {"minimum": 0}}}, -1, False),
    ({"$ref": "#/definitions/positive", "minimum": 100, "definitions": {"positive": {"minimum": 0}}}, 1, True),
    ({"$ref": "#/definitions/node", "definitions": {"node": {"type": "object",
                                                            "properties": {"next": {"$ref": "#/definitions/node"}}}}},
     {"next": {"next": {}}}, True),
    ({"$ref": "#/definitions/node", "definitions": {"node": {"type": "object",
                                                            "properties": {"next": {"$ref": "#/definitions/node"}}}}},
     {"next": {"next": 1}}, False),
    ({"format": "email"}, "a@example.com", True), ({"format": "email"}, "example.com", False),
    ({"format": "date"}, "2024-02-29", True), ({"format": "date"}, "2023-02-29", False),
    ({"format": "date-time"}, "2024-01-01T10:00:00Z", True), ({"format": "date-time"}, "2024-01-01 10:00", False),
    ({"format": "uuid"}, "6f1c2b8e-2d7a-4c1e-9a1b-1234567890ab", True), ({"format": "uuid"}, "6f1c", False),
    ({"format": "ipv4"}, "10.0.0.1", True), ({"format": "ipv4"}, "10.0.0.256", False),
    ({"format": "a-format-nobody-defined"}, "anything", True),
    ({"dependencies": {"a": ["b"]}}, {"a": 1}, False), ({"dependencies": {"a": {"required": ["c"]}}}, {"a": 1, "c": 2}, True),
    ({"propertyNames": {"maxLength": 3}}, {"abcd": 1}, False), ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
    (True, {"anything": 1}, True), (False, 1, False), ({}, [1, {"a": None}], True),
]


def _db_json(value: object) -> str:
    return json.dumps(value)


def test_draft_7_rules_hold(db):
    db.query(CREATE)
    rows = [(_db_json(schema), _db_json(instance)) for schema, instance, _ in CASES]
    got = db.query(
        "select extensions.json_matches_schema(s::json, i::json), extensions.jsonb_matches_schema(s::json, i::jsonb) "
        "from unnest(%s::text[], %s::text[]) with ordinality as c(s, i, n) order by n",
        ([s for s, _ in rows], [i for _, i in rows]))
    wrong = [(schema, instance, valid) for (schema, instance, valid), (as_json, as_jsonb) in zip(CASES, got)
             if as_json is not valid or as_jsonb is not valid]
    assert not wrong


def test_errors_are_listed_and_a_check_constraint_rejects_a_bad_row(db):
    db.query(CREATE)
    errors = db.value("select extensions.jsonschema_validation_errors(%s::json, %s::json)",
                      (_db_json({"required": ["name"], "properties": {"age": {"minimum": 0}}}), '{"age": -1}'))
    assert sorted(errors) == ['"name" is a required property', "-1 is less than the minimum of 0"]
    db.query("create table public.devices (id int, meta jsonb check (extensions.jsonb_matches_schema("
             "'{\"type\": \"object\", \"required\": [\"model\"]}', meta)))")
    db.query("insert into public.devices values (1, '{\"model\": \"ring\"}')")
    with pytest.raises(psycopg.errors.CheckViolation):
        db.query("insert into public.devices values (2, '{}')")


def test_an_invalid_schema_is_an_error_as_the_real_validator_refuses_it(db):
    db.query(CREATE)
    bad = _db_json({"type": "nope"})
    assert db.value("select extensions.jsonschema_is_valid(%s::json)", (bad,)) is False
    assert db.value("select extensions.jsonschema_is_valid(%s::json)", ('{"type": "string"}',)) is True
    assert len(db.value("select extensions.jsonschema_validation_errors(%s::json, '1')", (bad,))) == 1
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.query("select extensions.json_matches_schema(%s::json, '1')", (bad,))


@pytest.mark.parametrize("schema", [{"$ref": "https://example.com/person.json"}, {"pattern": "^\\p{L}+$"}])
def test_what_it_cannot_evaluate_is_said_not_passed(db, schema):
    db.query(CREATE)
    with pytest.raises(psycopg.Error) as failure:
        db.query("select extensions.json_matches_schema(%s::json, '\"abc\"')", (_db_json(schema),))
    assert failure.value.sqlstate == "SDL01" and "stand-in" in str(failure.value)
