"""Schema problems read the same wherever they are found: ``/pointer: message``."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from pos_engine import schema_problems

SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {"items": {"type": "array", "items": {"type": "integer"}}},
}


def test_problems_are_named_by_pointer_in_document_order() -> None:
    found = schema_problems(Draft202012Validator(SCHEMA), {"items": [1, "two", 3, "four"]})

    assert found.total == 3
    assert found.lines() == [
        "(top level): 'name' is a required property",
        "/items/1: 'two' is not of type 'integer'",
        "/items/3: 'four' is not of type 'integer'",
    ]
    assert found.lines(prefix="config.json")[0] == "config.json: 'name' is a required property"


def test_a_summary_shows_the_first_problems_and_counts_the_rest() -> None:
    found = schema_problems(Draft202012Validator(SCHEMA), {"name": 1, "items": list("abcdefg")})

    assert found.summary(2) == (
        "/items/0: 'a' is not of type 'integer'; /items/1: 'b' is not of type 'integer' (+5 more)"
    )


def test_a_valid_document_has_no_problems() -> None:
    found = schema_problems(Draft202012Validator(SCHEMA), {"name": "x"})

    assert not found
    assert (found.total, found.lines(), found.summary()) == (0, [], "")


def test_a_huge_value_does_not_make_a_huge_message() -> None:
    found = schema_problems(Draft202012Validator(SCHEMA), {"name": "x", "items": ["y" * 10_000]})

    assert len(found.lines()[0]) < 400
