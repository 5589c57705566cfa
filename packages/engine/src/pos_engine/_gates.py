"""Evidence gates: check submitted evidence against a phase's checkpoint.

Gates fail closed: every required name must be present and not null even when
the schema would allow its absence, and the whole evidence object must satisfy
the checkpoint's JSON Schema. Every missing name is reported, and the first schema
errors (``MAX_ERRORS_SHOWN`` of them, with a count of all found up to
``MAX_ERRORS_COUNTED``): enough to fix the evidence, bounded however bad it is.
A checkpoint that declares no evidence at all (a legacy phase without a gate)
lets any evidence pass; the definition reports it as a finding.

An itemised checkpoint (one generated from a spec, with ``labels``) reports a
missing nested item by its path (``tasks/1.3``, ``tasks/1.1/criteria/c2``) among
the missing evidence, and its errors name what they are about (nested items count
among the schema errors found, so at most ``MAX_ERRORS_SHOWN`` of them are listed).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from referencing.exceptions import Unresolvable

from ._definitions import Checkpoint
from ._evidence_schema import capped_errors

__all__ = ["GateResult", "GateVerdicts", "evaluate_evidence"]

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
    missing_labels: dict[str, str] = field(default_factory=dict)
    verification_errors: list[dict[str, str]] = field(default_factory=list)
    """Server checks (``x-verify``) that failed: ``{pointer, check, message}``."""

    def with_verification(self, failures: list[dict[str, str]]) -> GateResult:
        """Return this verdict with the server checks' failures added (failing it if any)."""
        if not failures:
            return self
        return dataclasses.replace(self, passed=False, verification_errors=list(failures))

    def summary(self) -> str:
        """Return one sentence that says why the gate failed."""
        parts = []
        if self.missing_evidence:
            parts.append(
                "missing evidence "
                + ", ".join(
                    repr(m) + (f" ({self.missing_labels[m]})" if m in self.missing_labels else "")
                    for m in self.missing_evidence
                )
            )
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
        if self.verification_errors:
            first_check = self.verification_errors[0]
            others = len(self.verification_errors) - 1
            parts.append(
                f"server check {first_check['check']} failed at "
                f"{first_check['pointer'] or '(evidence)'}: {first_check['message']}"
                + (f" (+{others} more)" if others else "")
            )
        return "; ".join(parts)

    def findings(self) -> list[dict[str, str]]:
        """Return one entry per missing field and per schema error, each naming its field.

        Entries are ``{"field", "pointer", "kind", "message"}`` with ``kind`` one of
        ``missing_evidence``, ``schema_error`` and ``verification_error``; a non-strict
        gate records them as warnings.
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
        entries.extend(
            {
                "field": _field_of({"pointer": failure["pointer"], "message": ""}),
                "pointer": failure["pointer"],
                "kind": "verification_error",
                "message": failure["message"],
            }
            for failure in self.verification_errors
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


def _label(labels: Mapping[str, str], pointer: str) -> str | None:
    """The label of ``pointer`` or of its nearest labelled parent."""
    while True:
        if pointer in labels:
            return labels[pointer]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]


def _passes_quick_check(checkpoint: Checkpoint, evidence: dict[str, Any]) -> bool:
    """True when the quick check says the evidence is valid; False sends it to the validator."""
    check = checkpoint.quick_check
    if check is None:
        return False
    try:
        return check(evidence)
    except (TypeError, ValueError, RecursionError):  # NotJSON is a ValueError
        return False  # the validator judges, and reports, what the quick check cannot


def evaluate_evidence(checkpoint: Checkpoint, evidence: dict[str, Any]) -> GateResult:
    """Evaluate ``evidence`` against ``checkpoint``; never raises for bad evidence.

    At most ``MAX_ERRORS_SHOWN`` schema errors are returned (the first by JSON pointer of
    up to ``MAX_ERRORS_COUNTED`` found); ``error_count`` says how many were found.
    """
    missing = [name for name in checkpoint.required_evidence if evidence.get(name) is None]
    if not missing and _passes_quick_check(checkpoint, evidence):
        return GateResult(passed=True, missing_evidence=[], validation_errors=[])
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
    labels = checkpoint.labels
    missing_labels: dict[str, str] = {}
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
        pointer = _pointer(error.absolute_path)
        required = _REQUIRED_MESSAGE.match(error.message) if error.validator == "required" else None
        if labels and required is not None and error.absolute_path:
            item = pointer + _pointer([required.group(1)])
            missing.append(item[1:])
            label = _label(labels, item)
            if label is not None:
                why = ": a reason is required when met is false"
                missing_labels[item[1:]] = label + (why if required.group(1) == "reason" else "")
            skipped += 1
            continue
        message = error.message
        if len(message) > _MAX_MESSAGE:  # messages embed the instance, which can be megabytes
            message = message[: _MAX_MESSAGE - 3] + "..."
        label = _label(labels, pointer) if labels else None
        errors.append(
            {
                "pointer": pointer,
                "keyword": str(error.validator),
                "message": f"{label}: {message}" if label else message,
            }
        )
    return GateResult(
        passed=not missing and not errors,
        missing_evidence=missing,
        validation_errors=errors,
        error_count=found.total - skipped,
        error_count_complete=found.complete,
        missing_labels=missing_labels,
    )


class GateVerdicts:
    """The verdicts on one evidence, per checkpoint, evaluated once.

    ``prime`` evaluates outside the session lock; inside it, ``evaluate`` reuses that
    verdict unless the checkpoint changed meanwhile (an edited definition, a new plan).
    """

    def __init__(self, evidence: dict[str, Any]) -> None:
        self.evidence = evidence
        self._known: list[tuple[Checkpoint, GateResult]] = []

    def prime(self, checkpoint: Checkpoint) -> None:
        """Evaluate ``checkpoint`` now, for a later :meth:`evaluate` to reuse."""
        self.evaluate(checkpoint)

    def evaluate(self, checkpoint: Checkpoint) -> GateResult:
        """Return the verdict of ``checkpoint`` on the evidence."""
        for known, verdict in self._known:
            if known is checkpoint or known == checkpoint:
                return verdict
        verdict = evaluate_evidence(checkpoint, self.evidence)
        self._known.append((checkpoint, verdict))
        return verdict
