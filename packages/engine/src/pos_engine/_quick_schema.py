"""A fast yes/no JSON Schema check for the keywords evidence schemas use.

jsonschema's ``iter_errors`` builds a validator object for every subschema it
descends into, which made evidence validation the largest part of a
``complete_phase`` call. Most evidence is valid, and a yes/no answer needs none of
that: :func:`quick_check` compiles a schema once into plain closures that answer
"is this instance valid?".

It is exact, not approximate: for the keywords it supports it answers what
jsonschema (Draft 2020-12, no format assertion, RE2 patterns, as
``_evidence_schema`` configures it) answers, and a differential test holds it to
that. Where it cannot be exact it does not guess:

- a schema with any keyword it does not implement (``$ref``, ``multipleOf``,
  ``unevaluated*``, ...) gets no quick check at all (:func:`quick_check` returns None);
- an instance holding a value JSON cannot hold (a float that is not finite, a
  tuple, a Decimal) makes the check raise ``NotJSON``.

Either way the caller runs jsonschema, which also produces the error messages: the
quick check is only ever used to skip validation of valid evidence.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import re2
from jsonschema import Draft202012Validator

from ._evidence_schema import NotJSON, json_key, linear_search

__all__ = ["QuickCheck", "quick_check"]

QuickCheck = Callable[[Any], bool]
"""Answers whether an instance is valid; may raise :class:`NotJSON`."""


class _Unsupported(Exception):
    """The schema uses a keyword the quick check does not implement."""


def _json_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number; NotJSON for a number JSON has no form for."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJSON(f"{value!r} is not a JSON number")
        return True
    if isinstance(value, numbers.Number):  # Decimal, Fraction: jsonschema's rules differ
        raise NotJSON(f"a {type(value).__name__} is not a JSON number")
    return False


_TYPES: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": _json_number,
    "integer": lambda v: _json_number(v) and (isinstance(v, int) or v.is_integer()),
}

# jsonschema asserts "format" only when given a format checker, and evidence
# validators are built without one; every other keyword it implements must be
# implemented here, or the schema gets no quick check. Keys it does not implement
# (annotations, "then", "minContains", "x-verify", ...) are read by their keyword or
# ignored, as jsonschema ignores them.
_IGNORED = frozenset({"format"})
_ACTIVE = frozenset(Draft202012Validator.VALIDATORS) - _IGNORED


def quick_check(schema: Any) -> QuickCheck | None:
    """Compile ``schema`` into an exact yes/no check, or None if it uses other keywords.

    The schema must already be one :func:`_evidence_schema.evidence_validator` accepts.
    """
    try:
        return _compile(schema)
    except (_Unsupported, re2.error, KeyError, TypeError, ValueError):  # NotJSON included
        # Whatever it cannot compile, jsonschema judges: no quick check is never wrong.
        return None


def _compile(schema: Any) -> QuickCheck:
    if schema is True:
        return lambda instance: True
    if schema is False:
        return lambda instance: False
    if not isinstance(schema, dict):
        raise _Unsupported
    built = [_keyword(key, schema) for key in schema if key in _ACTIVE]
    checks = [check for check in built if check is not None]
    if not checks:
        return lambda instance: True
    if len(checks) == 1:
        return checks[0]
    return _every(checks)


def _every(checks: list[QuickCheck]) -> QuickCheck:
    def check(instance: Any) -> bool:
        # A loop costs a third of all() over a generator, and this runs for every node.
        for each in checks:  # noqa: SIM110
            if not each(instance):
                return False
        return True

    return check


def _keyword(key: str, schema: dict[str, Any]) -> QuickCheck | None:
    build = _BUILDERS.get(key)
    if build is None:
        raise _Unsupported
    return build(schema[key], schema)


def _type(value: Any, schema: dict[str, Any]) -> QuickCheck:
    tests = [_TYPES[name] for name in ([value] if isinstance(value, str) else value)]
    if len(tests) == 1:
        return tests[0]
    return lambda instance: any(test(instance) for test in tests)


def _enum(value: Any, schema: dict[str, Any]) -> QuickCheck:
    allowed = frozenset(json_key(item) for item in value)
    return lambda instance: json_key(instance) in allowed


def _const(value: Any, schema: dict[str, Any]) -> QuickCheck:
    wanted = json_key(value)
    return lambda instance: json_key(instance) == wanted


def _string_bound(compare: Callable[[int, Any], bool]) -> Callable[..., QuickCheck]:
    def build(bound: Any, schema: dict[str, Any]) -> QuickCheck:
        return lambda instance: not isinstance(instance, str) or compare(len(instance), bound)

    return build


def _pattern(value: str, schema: dict[str, Any]) -> QuickCheck:
    search = linear_search(value)
    return lambda instance: not isinstance(instance, str) or search(instance)


def _number_bound(compare: Callable[[Any, Any], bool]) -> Callable[..., QuickCheck]:
    def build(bound: Any, schema: dict[str, Any]) -> QuickCheck:
        if isinstance(bound, float) and not math.isfinite(bound):
            raise _Unsupported
        return lambda instance: not _json_number(instance) or compare(instance, bound)

    return build


def _count_bound(
    kind: type[list[Any]] | type[dict[str, Any]], compare: Callable[[int, Any], bool]
) -> Callable[..., QuickCheck]:
    def build(bound: Any, schema: dict[str, Any]) -> QuickCheck:
        return lambda instance: not isinstance(instance, kind) or compare(len(instance), bound)

    return build


def _required(names: list[str], schema: dict[str, Any]) -> QuickCheck:
    return lambda instance: not isinstance(instance, dict) or all(n in instance for n in names)


def _properties(value: dict[str, Any], schema: dict[str, Any]) -> QuickCheck:
    checks = {name: _compile(sub) for name, sub in value.items()}

    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for name, item in instance.items():
            sub = checks.get(name)
            if sub is not None and not sub(item):
                return False
        return True

    return check


def _pattern_properties(value: dict[str, Any], schema: dict[str, Any]) -> QuickCheck:
    checks = [(linear_search(pattern), _compile(sub)) for pattern, sub in value.items()]

    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        return all(
            sub(item) for search, sub in checks for name, item in instance.items() if search(name)
        )

    return check


def _additional(value: Any, schema: dict[str, Any]) -> QuickCheck:
    declared = frozenset(schema.get("properties", {}))
    patterns = [linear_search(p) for p in schema.get("patternProperties", {})]
    sub = _compile(value)

    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        return all(
            sub(item)
            for name, item in instance.items()
            if name not in declared and not any(search(name) for search in patterns)
        )

    return check


def _property_names(value: Any, schema: dict[str, Any]) -> QuickCheck:
    sub = _compile(value)
    return lambda instance: not isinstance(instance, dict) or all(sub(k) for k in instance)


def _dependent_required(value: dict[str, list[str]], schema: dict[str, Any]) -> QuickCheck:
    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        return all(
            all(n in instance for n in needed) for name, needed in value.items() if name in instance
        )

    return check


def _dependent_schemas(value: dict[str, Any], schema: dict[str, Any]) -> QuickCheck:
    checks = {name: _compile(sub) for name, sub in value.items()}

    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        return all(sub(instance) for name, sub in checks.items() if name in instance)

    return check


def _prefix_items(value: list[Any], schema: dict[str, Any]) -> QuickCheck:
    checks = [_compile(sub) for sub in value]

    def check(instance: Any) -> bool:
        if not isinstance(instance, list):
            return True
        return all(sub(item) for sub, item in zip(checks, instance, strict=False))

    return check


def _items(value: Any, schema: dict[str, Any]) -> QuickCheck:
    skip = len(schema.get("prefixItems", ()))
    sub = _compile(value)

    def check(instance: Any) -> bool:
        if not isinstance(instance, list):
            return True
        for item in instance[skip:] if skip else instance:  # noqa: SIM110 (see _every)
            if not sub(item):
                return False
        return True

    return check


def _contains(value: Any, schema: dict[str, Any]) -> QuickCheck:
    sub = _compile(value)
    least = schema.get("minContains", 1)
    most = schema.get("maxContains")

    def check(instance: Any) -> bool:
        if not isinstance(instance, list):
            return True
        found = sum(1 for item in instance if sub(item))
        return found >= least and (most is None or found <= most)

    return check


def _unique_items(value: bool, schema: dict[str, Any]) -> QuickCheck | None:
    if not value:
        return None

    def check(instance: Any) -> bool:
        if not isinstance(instance, list):
            return True
        keys = [json_key(item) for item in instance]
        return len(set(keys)) == len(keys)

    return check


def _all_of(value: list[Any], schema: dict[str, Any]) -> QuickCheck:
    checks = [_compile(sub) for sub in value]
    return lambda instance: all(sub(instance) for sub in checks)


def _any_of(value: list[Any], schema: dict[str, Any]) -> QuickCheck:
    checks = [_compile(sub) for sub in value]
    return lambda instance: any(sub(instance) for sub in checks)


def _one_of(value: list[Any], schema: dict[str, Any]) -> QuickCheck:
    checks = [_compile(sub) for sub in value]
    return lambda instance: sum(1 for sub in checks if sub(instance)) == 1


def _not(value: Any, schema: dict[str, Any]) -> QuickCheck:
    sub = _compile(value)
    return lambda instance: not sub(instance)


def _if(value: Any, schema: dict[str, Any]) -> QuickCheck:
    condition = _compile(value)
    then = _compile(schema.get("then", True))
    otherwise = _compile(schema.get("else", True))
    return lambda instance: then(instance) if condition(instance) else otherwise(instance)


_BUILDERS: dict[str, Callable[[Any, dict[str, Any]], QuickCheck | None]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minLength": _string_bound(lambda n, b: n >= b),
    "maxLength": _string_bound(lambda n, b: n <= b),
    "pattern": _pattern,
    "minimum": _number_bound(lambda v, b: v >= b),
    "maximum": _number_bound(lambda v, b: v <= b),
    "exclusiveMinimum": _number_bound(lambda v, b: v > b),
    "exclusiveMaximum": _number_bound(lambda v, b: v < b),
    "minItems": _count_bound(list, lambda n, b: n >= b),
    "maxItems": _count_bound(list, lambda n, b: n <= b),
    "minProperties": _count_bound(dict, lambda n, b: n >= b),
    "maxProperties": _count_bound(dict, lambda n, b: n <= b),
    "required": _required,
    "properties": _properties,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "dependentRequired": _dependent_required,
    "dependentSchemas": _dependent_schemas,
    "prefixItems": _prefix_items,
    "items": _items,
    "contains": _contains,
    "uniqueItems": _unique_items,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
}
