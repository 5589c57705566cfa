"""One way to say where and how a JSON document breaks its schema.

The engine (definitions, evidence), the tool (registry, monitoring config, workflow
validation) and the cutover (plans) all report schema errors; they all use this module,
so a problem reads the same wherever it is found: ``/json/pointer: message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema.protocols import Validator

from ._evidence_schema import MAX_ERRORS_SHOWN, capped_errors

__all__ = ["SchemaProblems", "schema_problems"]

_MESSAGE_CHARS = 300
"""A message is clipped here: a huge value in a document must not become a huge answer."""


@dataclass(frozen=True, slots=True)
class SchemaProblems:
    """The problems found in one document (the first ``shown``, in document order)."""

    problems: tuple[tuple[str, str], ...]
    """(JSON pointer, message) pairs; the pointer is ``""`` for the document itself."""
    total: int
    """Problems found (counting stops at a thousand)."""

    def __bool__(self) -> bool:
        return bool(self.problems)

    def lines(self, prefix: str = "") -> list[str]:
        """Each problem as ``<prefix><pointer>: <message>``.

        Without a prefix, a problem of the whole document reads ``(top level): <message>``.
        """
        return [
            f"{prefix}{pointer or ('' if prefix else '(top level)')}: {message}"
            for pointer, message in self.problems
        ]

    def summary(self, shown: int = 5) -> str:
        """The first ``shown`` problems joined by ``; ``, then how many more there are."""
        lines = self.lines()[:shown]
        hidden = self.total - len(lines)
        return "; ".join(lines) + (f" (+{hidden} more)" if hidden > 0 else "")


def schema_problems(
    validator: Validator, instance: Any, *, shown: int = MAX_ERRORS_SHOWN
) -> SchemaProblems:
    """Every way ``instance`` breaks the validator's schema, capped to ``shown`` problems."""
    found = capped_errors(validator, instance, shown=shown)
    pairs = tuple(
        ("".join(f"/{part}" for part in error.absolute_path), error.message[:_MESSAGE_CHARS])
        for error in found.errors
    )
    return SchemaProblems(problems=pairs, total=found.total)
