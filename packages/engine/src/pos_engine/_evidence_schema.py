"""JSON Schema validators for checkpoint evidence that cannot fetch, stall or blow up.

A checkpoint's ``evidence_schema`` comes from a project file, so it is untrusted, and
so is the evidence an agent sends. A validator built by :func:`evidence_validator`:

- resolves ``$ref`` only inside the schema itself: every reference must be a local
  fragment (``#/$defs/...``, ``#anchor``) that resolves, checked when the workflow
  loads, and the registry behind the validator refuses to retrieve anything;
- matches ``pattern`` and ``patternProperties`` with RE2, whose time is linear in
  the input (Python's ``re`` backtracks, and holds the GIL while it does: one
  ``^(a+)+$`` would freeze the whole server); a pattern RE2 cannot compile makes
  the schema invalid;
- matches ``additionalProperties``' exceptions with RE2 too, and refuses
  ``unevaluatedProperties`` beside ``patternProperties`` (jsonschema would match
  those with ``re``);
- checks ``uniqueItems`` in linear time (jsonschema falls back to comparing every
  pair when items are of mixed types);
- never puts a whole instance into the messages of those keywords.

:func:`capped_errors` walks the errors lazily and keeps only the first few, so a
100,000-item evidence with an error per item costs neither minutes nor gigabytes.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import re2
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from ._bounded import MAX_NESTING_DEPTH, BoundedInputError, check_depth
from .guards import canonical_json

__all__ = [
    "CACHED_VALIDATORS",
    "MAX_ERRORS_COUNTED",
    "MAX_ERRORS_SHOWN",
    "CappedErrors",
    "NotJSON",
    "SchemaProblem",
    "capped_errors",
    "compile_linear",
    "evidence_validator",
    "json_key",
    "linear_search",
]

MAX_ERRORS_SHOWN = 20
"""Schema errors returned in an answer and kept in a session, at most."""

MAX_ERRORS_COUNTED = 1000
"""Schema errors counted before counting stops (the count is then a lower bound)."""

CACHED_VALIDATORS = 256
"""Validators kept for the schemas most recently asked for (see ``evidence_validator``)."""

_BASE_URI = "urn:pos-workflow:evidence-schema"
_SHOWN_CHARS = 80
_SHOWN_EXTRAS = 10
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 8 * 1024 * 1024  # a pattern whose automaton needs more is refused


class SchemaProblem(ValueError):
    """A checkpoint schema is unusable; the message says why and where."""


def _clip(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, options=_RE2_OPTIONS)


def compile_linear(pattern: str) -> Any:
    """Compile ``pattern`` with RE2 (linear time, memory-capped); cached.

    Raises:
        re2.error: RE2 cannot run the pattern (a backreference, lookaround, too big).
    """
    return _compiled(pattern)


@functools.lru_cache(maxsize=1024)
def linear_search(pattern: str) -> Callable[[str], bool]:
    """Return a test of whether RE2 finds ``pattern`` in a string; cached.

    A one-pattern RE2 set answers in about a fifth of the time of ``search``, which
    also builds a match object. A set also answers "no" when it runs out of memory,
    so a "no" is confirmed with ``search``; a "yes" is final.

    Raises:
        re2.error: RE2 cannot run the pattern (see :func:`compile_linear`).
    """
    regex = _compiled(pattern)
    found = re2.Set.SearchSet(_RE2_OPTIONS)
    try:
        found.Add(pattern)
        found.Compile()
    except re2.error:  # pragma: no cover - the pattern compiled alone just above
        return lambda text: regex.search(text) is not None
    return lambda text: bool(found.Match(text)) or regex.search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not linear_search(pattern)(instance):
        yield ValidationError(f"{_clip(instance)} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        search = linear_search(pattern)
        for key, value in instance.items():
            if search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    # jsonschema's own version matches patternProperties with Python's re.
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = [linear_search(pattern) for pattern in schema.get("patternProperties", {})]
    extras = [
        name
        for name in instance
        if name not in declared and not any(search(name) for search in patterns)
    ]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif not additional and extras:
        # jsonschema's messages, with the names clipped and listed up to a count.
        names = ", ".join(_clip(name) for name in sorted(extras)[:_SHOWN_EXTRAS])
        if len(extras) > _SHOWN_EXTRAS:
            names += f" and {len(extras) - _SHOWN_EXTRAS} more"
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            regexes = ", ".join(_clip(p) for p in sorted(schema["patternProperties"]))
            yield ValidationError(f"{names} {verb} not match any of the regexes: {regexes}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({names} {verb} unexpected)"
            )


class NotJSON(ValueError):
    """A value JSON cannot hold: a float that is not finite, a tuple, a set, a Decimal, ..."""


def json_key(value: Any) -> Any:
    """A hashable key, equal for two values exactly when JSON Schema calls them equal.

    1 and 1.0 are equal, true and 1 are not, object key order does not matter.

    Raises:
        NotJSON: ``value`` holds something JSON cannot.
    """
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, bool):
        return ("b", value)
    if value is None:
        return ("z", None)
    if isinstance(value, int):
        return ("n", value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJSON(f"{value!r} is not a JSON number")
        return ("n", int(value) if value.is_integer() else value)
    if isinstance(value, list):
        return ("l", tuple(json_key(item) for item in value))
    if isinstance(value, dict):
        return ("d", frozenset((key, json_key(item)) for key, item in value.items()))
    raise NotJSON(f"a {type(value).__name__} is not a JSON value")


def _unique_items(
    validator: Any, unique: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: dict[Any, int] = {}
    try:
        for index, item in enumerate(instance):
            key = json_key(item)
            if key in seen:
                yield ValidationError(
                    f"array has non-unique elements: item {index} equals item {seen[key]} "
                    f"({_clip(item)})"
                )
                return
            seen[key] = index
    except NotJSON:
        # Only the Python API can pass such a value (the tools take JSON): jsonschema's
        # own check, quadratic for mixed types, judges it.
        yield from _JSONSCHEMA_UNIQUE_ITEMS(validator, unique, instance, schema)


_JSONSCHEMA_UNIQUE_ITEMS = Draft202012Validator.VALIDATORS["uniqueItems"]


_SafeValidator = extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "uniqueItems": _unique_items,
        "additionalProperties": _additional_properties,
    },
)


def _walk(schema: Any) -> Iterator[tuple[str, Any, str]]:
    """Yield (keyword, value, JSON pointer of the object holding it) for every schema key."""
    stack: list[tuple[Any, str]] = [(schema, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                yield key, value, where
                stack.append((value, f"{where}/{key}"))
        elif isinstance(node, list):
            stack.extend((value, f"{where}/{index}") for index, value in enumerate(node))


def _check_keywords(schema: dict[str, Any], resolver: Any) -> None:
    """Check every reference and pattern; conservative: any string under such a key counts."""
    for key, value, where in _walk(schema):
        if not isinstance(value, str):
            continue
        if key in ("$ref", "$dynamicRef"):
            if not value.startswith("#"):
                raise SchemaProblem(
                    f"{where or '/'}: {key} {_clip(value)} points outside the schema; only "
                    "references inside it ('#/$defs/...') are followed, nothing is fetched"
                )
            try:
                resolver.lookup(value)
            except Unresolvable:
                raise SchemaProblem(
                    f"{where or '/'}: {key} {_clip(value)} does not resolve"
                ) from None
        elif key == "$id" and where:
            raise SchemaProblem(f"{where}: $id is accepted only at the top of an evidence schema")
        elif key == "pattern":
            try:
                _compiled(value)
            except re2.error as exc:
                raise SchemaProblem(
                    f"{where or '/'}: pattern {_clip(value)} cannot run on a linear-time "
                    f"regex engine ({exc}); avoid backreferences and lookaround"
                ) from None
    for pattern in _pattern_property_keys(schema):
        try:
            _compiled(pattern)
        except re2.error as exc:
            raise SchemaProblem(
                f"patternProperties key {_clip(pattern)} cannot run on a linear-time regex "
                f"engine ({exc}); avoid backreferences and lookaround"
            ) from None
    if any(_pattern_property_keys(schema)) and any(
        key == "unevaluatedProperties" for key, _value, _where in _walk(schema)
    ):
        # jsonschema decides which properties patternProperties evaluated with Python's
        # backtracking re, and only the keywords replaced above run on RE2.
        raise SchemaProblem(
            "unevaluatedProperties cannot be combined with patternProperties in an "
            "evidence schema (their patterns would run on a backtracking regex engine); "
            "use additionalProperties beside patternProperties instead"
        )


def _pattern_property_keys(schema: Any) -> Iterator[str]:
    for key, value, _where in _walk(schema):
        if key == "patternProperties" and isinstance(value, dict):
            yield from (k for k in value if isinstance(k, str))


def evidence_validator(schema: Any) -> Validator:
    """Return a validator for ``schema`` that cannot fetch, backtrack or go quadratic.

    Checking a schema against the meta-schema takes milliseconds (a dynamic workflow's
    generated schemas, tens of them), so the validators of the last
    ``CACHED_VALIDATORS`` distinct schemas are kept, by canonical JSON: a schema built
    again on every call is checked once.

    Raises:
        SchemaProblem: the schema is not a valid JSON Schema (2020-12), nests too deep,
            references anything outside itself or a ``$ref`` that does not resolve, or
            has a pattern RE2 cannot run.
    """
    try:
        check_depth(schema, MAX_NESTING_DEPTH)
    except BoundedInputError as exc:
        raise SchemaProblem(f"the schema {exc}") from None
    try:
        text = canonical_json(schema)
    except (TypeError, ValueError):
        return _validator(schema)  # not plain JSON: the meta-schema check says what is wrong
    return _kept_validator(text)


@functools.lru_cache(maxsize=CACHED_VALIDATORS)
def _kept_validator(text: bytes) -> Validator:
    return _validator(json.loads(text))


def _validator(schema: Any) -> Validator:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise SchemaProblem(f"not a valid JSON Schema: {exc.message[:300]}") from None
    base = schema.get("$id", _BASE_URI) if isinstance(schema, dict) else _BASE_URI
    resource = DRAFT202012.create_resource(schema)
    # A Registry's default retrieve refuses every URI (jsonschema's own default would fetch).
    registry: Registry[Any] = Registry().with_resource(base, resource)
    if isinstance(schema, dict):
        _check_keywords(schema, registry.resolver(base_uri=base))
    validator: Validator = _SafeValidator(schema, registry=registry)
    return validator


@dataclass(frozen=True)
class CappedErrors:
    """The first schema errors of an instance, with how many there were in all.

    Attributes:
        errors: At most ``MAX_ERRORS_SHOWN`` errors, ordered by instance path.
        total: How many errors were counted (at most ``MAX_ERRORS_COUNTED``).
        complete: False when counting stopped at ``MAX_ERRORS_COUNTED``.
    """

    errors: list[ValidationError]
    total: int
    complete: bool


def capped_errors(
    validator: Validator,
    instance: Any,
    *,
    shown: int = MAX_ERRORS_SHOWN,
    counted: int = MAX_ERRORS_COUNTED,
) -> CappedErrors:
    """Return the first ``shown`` errors of ``instance`` (of up to ``counted`` found)."""
    found = list(itertools.islice(validator.iter_errors(instance), counted + 1))
    complete = len(found) <= counted
    found = found[:counted]
    found.sort(key=lambda e: list(map(str, e.absolute_path)))
    return CappedErrors(errors=found[:shown], total=len(found), complete=complete)
