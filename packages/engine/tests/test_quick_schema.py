"""The quick evidence check answers exactly what the full validator answers.

The quick check lets valid evidence skip jsonschema, so one wrong "valid" would let
evidence through a gate. These tests compare the two on random schemas built from
every keyword the quick check implements, and on random changes to the bundled
workflows' example evidence, and check that it steps aside where it cannot be exact.
"""

from __future__ import annotations

import copy
import math
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pos_engine import WorkflowEngine
from pos_engine._dynamic import workflow_of_session
from pos_engine._evidence_schema import NotJSON, SchemaProblem, evidence_validator
from pos_engine._gates import evaluate_evidence
from pos_engine._quick_schema import quick_check

# Small domains, so that random instances fall on both sides of random schemas.
NAMES = st.sampled_from(["a", "b", "c", "ab", "x1"])
PATTERNS = st.sampled_from(["^a", "b$", "^[a-c]+$", "1", "^$", "é"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 1.5, -2.0, 1e20]),
    st.sampled_from(["", "a", "ab", "b", "abc", "x1", "é", "aé1"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=12,
)
TYPES = st.sampled_from(["null", "boolean", "object", "array", "string", "number", "integer"])
COUNT = st.integers(0, 3)


def keywords(sub: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """One schema object of up to four keywords, each with a random valid value."""
    choices: dict[str, st.SearchStrategy[Any]] = {
        "type": TYPES | st.lists(TYPES, min_size=1, max_size=3, unique=True),
        "enum": st.lists(JSON, min_size=1, max_size=3),
        "const": JSON,
        "minLength": COUNT,
        "maxLength": COUNT,
        "pattern": PATTERNS,
        "minimum": st.sampled_from([-1, 0, 1, 1.5]),
        "maximum": st.sampled_from([-1, 0, 1, 1.5]),
        "exclusiveMinimum": st.sampled_from([-1, 0, 1.5]),
        "exclusiveMaximum": st.sampled_from([0, 1, 2.5]),
        "minItems": COUNT,
        "maxItems": COUNT,
        "minProperties": COUNT,
        "maxProperties": COUNT,
        "required": st.lists(NAMES, max_size=2, unique=True),
        "properties": st.dictionaries(NAMES, sub, max_size=2),
        "patternProperties": st.dictionaries(PATTERNS, sub, max_size=2),
        "additionalProperties": sub,
        "propertyNames": sub,
        "dependentRequired": st.dictionaries(NAMES, st.lists(NAMES, max_size=2, unique=True)),
        "dependentSchemas": st.dictionaries(NAMES, sub, max_size=2),
        "prefixItems": st.lists(sub, min_size=1, max_size=2),
        "items": sub,
        "contains": sub,
        "minContains": COUNT,
        "maxContains": COUNT,
        "uniqueItems": st.booleans(),
        "allOf": st.lists(sub, min_size=1, max_size=2),
        "anyOf": st.lists(sub, min_size=1, max_size=2),
        "oneOf": st.lists(sub, min_size=1, max_size=3),
        "not": sub,
        "if": sub,
        "then": sub,
        "else": sub,
        "format": st.just("date"),
        "description": st.just("annotations change nothing"),
        "x-verify": st.just({"path_exists": True}),
    }
    return st.lists(st.sampled_from(sorted(choices)), max_size=4, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: choices[name] for name in names})
    )


SCHEMAS = st.recursive(st.booleans() | keywords(st.booleans()), keywords, max_leaves=6)


def verdict(schema: Any, instance: Any) -> bool | None:
    check = quick_check(schema)
    assert check is not None, f"no quick check for {schema!r}"
    try:
        return check(instance)
    except NotJSON:
        return None


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMAS, instances=st.lists(JSON, min_size=1, max_size=5))
def test_random_schemas_get_the_validators_verdict(schema: Any, instances: list[Any]) -> None:
    validator = evidence_validator(schema)
    for instance in instances:
        assert verdict(schema, instance) == validator.is_valid(instance), (schema, instance)


SEED_SPEC = Path(__file__).resolve().parents[3] / "docs/examples/specs/2025-10-22-aos-workflow-tool"


def bundled_checkpoints() -> list[tuple[str, Any]]:
    """Every bundled phase's checkpoint, and those a dynamic session derives from a spec."""
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        shutil.copytree(SEED_SPEC, project / "spec")
        engine = WorkflowEngine.for_project(project, durable=False)
        sid = engine.start_workflow("spec_execution_v1", "spec")["session_id"]
        derived = workflow_of_session(
            engine.registry.get("spec_execution_v1"), engine.store.load(sid)
        )
        found = [
            (f"{name} phase {phase.number}", phase.checkpoint)
            for name in ("spec_creation_v1", "spec_execution_v1", "test_generation_v3")
            for phase in engine.registry.get(name).phases
        ]
        return found + [
            (f"derived phase {phase.number}", phase.checkpoint) for phase in derived.phases[1:]
        ]


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``value``, containers included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += leaves(item, (*path, index))
    return found


def changed(example: dict[str, Any], path: tuple[Any, ...], new: Any, drop: bool) -> Any:
    """A copy of ``example`` with the value at ``path`` replaced by ``new``, or removed."""
    if not path:
        return new
    result = copy.deepcopy(example)
    parent = result
    for step in path[:-1]:
        parent = parent[step]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return result


CHECKPOINTS = bundled_checkpoints()


@pytest.mark.parametrize(("where", "checkpoint"), CHECKPOINTS, ids=[w for w, _ in CHECKPOINTS])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_changed_example_evidence_gets_the_validators_verdict(
    where: str, checkpoint: Any, data: st.DataObject
) -> None:
    example = checkpoint.evidence_example
    assert checkpoint.quick_check is not None, f"{where} should get a quick check"
    assert checkpoint.quick_check(example) is True
    paths = leaves(example)
    instance = example
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        drop = bool(path) and data.draw(st.booleans())
        instance = changed(instance, path, data.draw(JSON), drop)
        paths = leaves(instance)

    try:
        quick = checkpoint.quick_check(instance)
    except NotJSON:
        return
    assert quick == checkpoint.validator.is_valid(instance), instance


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}},
        {"type": "number", "multipleOf": 0.1},
        {"type": "array", "items": {"multipleOf": 2}},
        {"type": "object", "unevaluatedProperties": False},
        {"type": "array", "unevaluatedItems": False},
        {"enum": [float("nan")]},
        {"type": "number", "maximum": math.inf},
    ],
    ids=[
        "ref",
        "multipleOf",
        "nested multipleOf",
        "unevaluatedProperties",
        "unevaluatedItems",
        "non-finite enum",
        "infinite bound",
    ],
)
def test_a_keyword_it_cannot_judge_exactly_leaves_the_schema_to_the_validator(
    schema: dict[str, Any],
) -> None:
    assert quick_check(schema) is None


@pytest.mark.parametrize(
    "instance",
    [math.nan, math.inf, [1, math.nan], Decimal("1.5"), {"a": (1, 2)}],
    ids=["nan", "infinity", "nan in a list", "decimal", "tuple"],
)
def test_a_value_json_cannot_hold_is_left_to_the_validator(instance: Any) -> None:
    check = quick_check(
        {
            "type": ["number", "array", "object"],
            "uniqueItems": True,
            "properties": {"a": {"const": [1, 2]}},
            "items": {"type": "number"},
        }
    )
    assert check is not None
    with pytest.raises(NotJSON):
        check(instance)


def test_a_schema_built_again_gets_the_validator_built_before() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"minimum": 1}}}
    reordered = {"properties": {"b": {"minimum": 1}, "a": {"type": "string"}}, "type": "object"}

    first = evidence_validator(schema)

    assert evidence_validator(copy.deepcopy(schema)) is first
    assert evidence_validator(reordered) is first
    assert evidence_validator({**schema, "required": ["a"]}) is not first
    assert first.is_valid({"a": "x", "b": 2}) and not first.is_valid({"a": 1})


def test_a_bad_schema_is_refused_each_time_it_is_asked_for() -> None:
    for _ in range(2):
        with pytest.raises(SchemaProblem, match="not a valid JSON Schema"):
            evidence_validator({"type": "object", "minProperties": -1})


def test_unique_items_of_values_json_cannot_hold_is_left_to_jsonschema() -> None:
    validator = evidence_validator({"type": "array", "uniqueItems": True})

    assert validator.is_valid([1, (1, 2)])
    assert not validator.is_valid([(1, 2), (1, 2)])
    assert not validator.is_valid([1, 1.0])  # JSON values keep the linear check


def test_failing_evidence_still_gets_the_validators_errors() -> None:
    checkpoint = dict(CHECKPOINTS)["test_generation_v3 phase 1"]
    evidence = copy.deepcopy(checkpoint.evidence_example)
    evidence["code_structure"]["functions"][0]["name"] = "1st"

    result = evaluate_evidence(checkpoint, evidence)

    assert result.passed is False
    assert result.validation_errors == [
        {
            "pointer": "/code_structure/functions/0/name",
            "keyword": "pattern",
            "message": "'1st' does not match '^[A-Za-z_][A-Za-z0-9_]*$'",
        }
    ]
