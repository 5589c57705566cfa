"""Evidence gates: check submitted evidence against a phase's checkpoint.

Gates fail closed: every required name must be present and not null even when
the schema would allow its absence, and the whole evidence object must satisfy
the checkpoint's JSON Schema. Every missing name is reported, and the first schema
errors (``MAX_ERRORS_SHOWN`` of them, with a count of all found up to
``MAX_ERRORS_COUNTED``): enough to fix the evidence, bounded however bad it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from referencing.exceptions import Unresolvable

from ._definitions import Checkpoint
from ._evidence_schema import capped_errors

__all__ = ["GateResult", "evaluate_evidence"]

_MAX_MESSAGE = 300


@dataclass(frozen=True)
class GateResult:
    """The verdict of one checkpoint evaluation."""

    passed: bool
    missing_evidence: list[str]
    validation_errors: list[dict[str, str]]
    error_count: int = 0
    """How many schema errors were found; ``validation_errors`` holds the first few."""
    error_count_complete: bool = True
    """False when counting stopped early: ``error_count`` is then a lower bound."""

    def summary(self) -> str:
        """Return one sentence that says why the gate failed."""
        parts = []
        if self.missing_evidence:
            parts.append("missing evidence " + ", ".join(repr(m) for m in self.missing_evidence))
        if self.validation_errors:
            first = self.validation_errors[0]
            total = max(self.error_count, len(self.validation_errors))
            counted = f"{total}{'' if self.error_count_complete else '+'}"
            more = total - 1
            where = first["pointer"] or "(evidence)"
            parts.append(
                f"{counted} schema error(s), first at {where}: {first['message']}"
                + (f" (+{more}{'' if self.error_count_complete else '+'} more)" if more else "")
            )
        return "; ".join(parts)

    def findings(self) -> list[dict[str, str]]:
        """Return one entry per missing field and per schema error, each naming its field.

        Entries are ``{"field", "pointer", "kind", "message"}`` with ``kind`` one of
        ``missing_evidence`` and ``schema_error``; a non-strict gate records them as warnings.
        """
        entries = [
            {
                "field": name,
                "pointer": _pointer([name]),
                "kind": "missing_evidence",
                "message": f"required evidence {name!r} is missing or null",
            }
            for name in self.missing_evidence
        ]
        for error in self.validation_errors:
            entries.append(
                {
                    "field": _field_of(error),
                    "pointer": error["pointer"],
                    "kind": "schema_error",
                    "message": error["message"],
                }
            )
        return entries


_REQUIRED_MESSAGE = re.compile(r"^'(.+)' is a required property$")


def _field_of(error: dict[str, str]) -> str:
    """Return the top-level evidence field an error is about ("" for the whole evidence)."""
    pointer = error["pointer"]
    if pointer:
        return pointer.split("/")[1].replace("~1", "/").replace("~0", "~")
    match = _REQUIRED_MESSAGE.match(error["message"])
    return match.group(1) if match else ""


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def evaluate_evidence(checkpoint: Checkpoint, evidence: dict[str, Any]) -> GateResult:
    """Evaluate ``evidence`` against ``checkpoint``; never raises for bad evidence.

    At most ``MAX_ERRORS_SHOWN`` schema errors are returned (the first by JSON pointer of
    up to ``MAX_ERRORS_COUNTED`` found); ``error_count`` says how many were found.
    """
    missing = [name for name in checkpoint.required_evidence if evidence.get(name) is None]
    try:
        found = capped_errors(checkpoint.validator, evidence)
    except (Unresolvable, RecursionError) as exc:  # pragma: no cover - refused at load time
        # Fail closed: a schema that cannot be applied passes nothing.
        problem = {
            "pointer": "",
            "keyword": "$schema",
            "message": f"the checkpoint's evidence_schema cannot be applied "
            f"({type(exc).__name__}); fix the workflow definition",
        }
        return GateResult(False, missing, [problem], error_count=1)
    errors = []
    skipped = 0
    for error in found.errors:
        # "required" failures of names already reported as missing would only repeat them.
        if (
            error.validator == "required"
            and not error.absolute_path
            and any(repr(m) in error.message for m in missing)
        ):
            skipped += 1
            continue
        message = error.message
        if len(message) > _MAX_MESSAGE:  # messages embed the instance, which can be megabytes
            message = message[: _MAX_MESSAGE - 3] + "..."
        errors.append(
            {
                "pointer": _pointer(error.absolute_path),
                "keyword": str(error.validator),
                "message": message,
            }
        )
    return GateResult(
        passed=not missing and not errors,
        missing_evidence=missing,
        validation_errors=errors,
        error_count=found.total - skipped,
        error_count_complete=found.complete,
    )
