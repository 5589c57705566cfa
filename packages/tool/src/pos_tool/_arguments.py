"""Argument checks shared by every tool: parameter types and the one argument error.

``pos_workflow`` and the archived legacy tools check a call the same way: a null
counts as not given, and every problem (missing, not taken by this call, unknown,
wrongly typed) is collected before one :class:`ActionInputError` lists them all.
:func:`check_arguments` does that, and :func:`argument_error` says it, so both
surfaces word their errors alike. Nothing here imports MCP.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pos_engine import ValidationError

__all__ = [
    "ActionInputError",
    "Kind",
    "Parameter",
    "argument_error",
    "check_arguments",
    "join_names",
    "type_problem",
    "unknown_names",
    "unknown_sentence",
]

Kind = Literal["string", "integer", "object", "boolean"]
"""The JSON type a parameter must have."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of a tool as published in its input schema.

    Attributes:
        name: The argument name.
        kind: The JSON type the argument must have.
        description: One line shown to agents in the input schema.
        enum: Allowed values, when the set is closed.
        constraints: JSON Schema keywords the request contract adds (``pattern``,
            ``minimum``, ``maxLength``...). The engine's guards enforce them with clear
            errors; the live input schema leaves them out so that a client does not refuse
            a call before the server can say what is wrong with it.
    """

    name: str
    kind: Kind
    description: str
    enum: tuple[str, ...] = ()
    constraints: Mapping[str, Any] = field(default_factory=dict)

    def json_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of this parameter: its plain type.

        An optional parameter is left out to mean "not given"; a null is accepted as
        the same thing (some clients send every parameter) but is not published, because
        clients read a type list such as ``["integer", "null"]`` as "not a number" and
        send ``"1"`` (the MCP Inspector does).
        """
        schema: dict[str, Any] = {"type": self.kind, "description": self.description}
        if self.enum:
            schema["enum"] = list(self.enum)
        return schema

    def normalise(self, value: object) -> object:
        """Return ``value`` as this parameter's type where JSON Schema says it is one.

        JSON Schema counts ``1.0`` as an integer; Python's JSON parser gives a float.
        """
        if self.kind == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def accepts(self, value: object) -> bool:
        """Return whether ``value`` has this parameter's JSON type (booleans are not integers)."""
        if self.kind == "string":
            return isinstance(value, str)
        if self.kind == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.kind == "boolean":
            return isinstance(value, bool)
        return isinstance(value, dict)


class ActionInputError(ValidationError):
    """A call whose arguments do not fit the action; carries every finding at once.

    Args:
        message: Every finding, joined by ``"; "``.
        remediation: How to call correctly, with an example call.
        details: The findings, machine-readable.
        extra: Fields added to the top level of the error response (``valid_actions``).
    """

    def __init__(
        self,
        message: str,
        *,
        remediation: str,
        details: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, remediation=remediation, details=details)
        self.extra: dict[str, Any] = extra or {}

    def to_dict(self) -> dict[str, Any]:
        """Return the error fields, with ``extra`` at the top level."""
        return {**super().to_dict(), **self.extra}


def join_names(names: Iterable[str]) -> str:
    """Return ``a``, ``a and b`` or ``a, b and c``."""
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def unknown_names(names: Iterable[object], known: Collection[str]) -> list[str]:
    """The names that are not in ``known``, each once, sorted."""
    return sorted({str(name) for name in names if name not in known})


def unknown_sentence(unknown: Sequence[str], reason: str) -> str:
    """Say that ``unknown`` are no parameters: ``unknown argument 'x': <reason>``."""
    noun = "argument" if len(unknown) == 1 else "arguments"
    return f"unknown {noun} {join_names(repr(n) for n in unknown)}: {reason}"


def type_problem(parameter: Parameter, value: object) -> dict[str, str]:
    """Describe a value that does not have ``parameter``'s JSON type."""
    name, kind = parameter.name, parameter.kind
    article = "an" if kind[0] in "aeiou" else "a"
    expected = "a JSON object" if kind == "object" else f"{article} {kind}"
    return {
        "parameter": name,
        "expected": kind,
        "got": type(value).__name__,
        "message": f"{name} must be {expected}, got {type(value).__name__} {value!r:.60}",
    }


def argument_error(  # pylint: disable=too-many-arguments
    call: str,
    *,
    required: Sequence[str],
    optional: Collection[str],
    remediation: str,
    missing: Sequence[str] = (),
    unexpected: Sequence[str] = (),
    unknown: Sequence[str] = (),
    unknown_reason: str = "",
    invalid: Sequence[Mapping[str, str]] = (),
) -> ActionInputError:
    """The one error of a call's arguments, saying every finding in a fixed order.

    The message joins, by ``"; "``: what is missing, each parameter the call does
    not take, the unknown names, then each invalid value's message; ``details``
    holds the call's parameters and each non-empty finding list.

    Args:
        call: The action or tool the messages name.
        required: Its required parameters.
        optional: Its optional parameters.
        remediation: How to call it correctly, with an example call.
        missing: Required parameters not given.
        unexpected: Parameters of the tool that this call does not take.
        unknown: Names that are no parameter at all.
        unknown_reason: What the unknown names' sentence says after the colon.
        invalid: One finding per invalid value: ``parameter`` and ``message`` at least.
    """
    findings = []
    if missing:
        if len(missing) == len(required):
            findings.append(f"{call} requires {join_names(required)}")
        else:
            verb = "is" if len(missing) == 1 else "are"
            findings.append(
                f"{call} requires {join_names(required)}; {join_names(missing)} {verb} missing"
            )
    findings.extend(f"{name} is not a parameter of {call}" for name in unexpected)
    if unknown:
        findings.append(unknown_sentence(unknown, unknown_reason))
    findings.extend(problem["message"] for problem in invalid)
    details: dict[str, Any] = {"required": list(required), "optional": list(optional)}
    for key, values in (
        ("missing_parameters", missing),
        ("unexpected_parameters", unexpected),
        ("unknown_arguments", unknown),
        ("invalid_parameters", invalid),
    ):
        if values:
            details[key] = list(values)
    return ActionInputError("; ".join(findings), remediation=remediation, details=details)


def check_arguments(  # pylint: disable=too-many-arguments
    call: str,
    arguments: Mapping[str, Any],
    *,
    known: Mapping[str, Parameter],
    required: Sequence[str],
    optional: Collection[str],
    unknown: Sequence[str],
    unknown_reason: str,
    remediation: Callable[[Mapping[str, Any]], str],
) -> dict[str, Any]:
    """Return the arguments ``call`` was given, checked; or raise one error listing every problem.

    A null counts as not given (clients that send every parameter send nulls).

    Args:
        call: The action or tool called, as the messages name it.
        arguments: The call's arguments by name; names not in ``known`` are ignored
            here (the caller names them in ``unknown``).
        known: Every parameter of the tool, by name: given ones the call does not
            take are reported as not its parameters.
        required: The call's required parameters.
        optional: The call's optional parameters.
        unknown: Names the client sent that are no parameter at all.
        unknown_reason: What to say after ``unknown argument 'x':``.
        remediation: Builds the remediation from the given arguments (so its example
            can reuse the caller's well-typed values); called only on failure.

    Returns:
        The given (non-null) arguments of ``known``, normalised (``1.0`` -> ``1``).

    Raises:
        ActionInputError: An argument is missing, unknown, not taken by the call or
            of the wrong type.
    """
    given = {
        name: known[name].normalise(value)
        for name, value in arguments.items()
        if name in known and value is not None
    }
    takes = (*required, *optional)
    unexpected = [name for name in known if name in given and name not in takes]
    missing = [name for name in required if name not in given]
    invalid = [
        type_problem(known[name], given[name])
        for name in takes
        if name in given and not known[name].accepts(given[name])
    ]
    if not (unknown or unexpected or missing or invalid):
        return given
    raise argument_error(
        call,
        required=required,
        optional=optional,
        remediation=remediation(given),
        missing=missing,
        unexpected=unexpected,
        unknown=unknown,
        unknown_reason=unknown_reason,
        invalid=invalid,
    )
