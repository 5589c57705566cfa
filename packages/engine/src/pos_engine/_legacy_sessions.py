"""Legacy (praxis-style) session files: read them and convert them into sessions.

Legacy servers kept one JSON file per session at
``<project>/.praxis-os/.cache/state/<uuid>.json``. The functions here are pure
(they read the one file they are given, and write nothing): the cutover calls them,
stores the resulting :class:`Session` and keeps the report.

Mapping (``legacy`` -> session):

- ``session_id`` (a uuid) -> ``session_id``, lowercased in canonical uuid form;
- ``workflow_type`` must be the definition's type (or one of its aliases);
- ``target_file`` -> validated with :func:`pos_engine.guards.validate_target_file`;
- ``completed_phases`` -> ``completed_phases`` (phases beyond the definition dropped
  and reported); all of the definition's phases completed -> status ``completed``;
- ``current_phase`` -> ``current_phase``; ``checkpoints[current] == "failed"`` ->
  status ``failed`` with a ``CheckpointFailed`` error record; else ``active``;
- ``phase_artifacts[n].evidence`` -> ``artifacts[n]`` and ``evidence[n]`` for a
  completed phase (its ``outputs``, ``commands_executed``, ``timestamp`` and
  ``phase_number`` kept under ``artifacts[n]["legacy"]``), -> ``evidence[n]`` only
  for the current phase; evidence that no longer passes the current checkpoint is
  reported as a warning, never a failure;
- ``created_at``/``updated_at`` (local time without zone) -> UTC ISO 8601;
- ``metadata`` -> ``options`` without ``total_phases`` (a disagreement with the
  definition is reported); ``total_phases``/``start_phase`` come from the definition;
- ``phase_history``: one passed attempt per completed phase (ending at its artifact
  timestamp), one in_progress or failed attempt at the current phase;
- ``warnings``: one ``migration`` entry naming the legacy file.

A session of a dynamic workflow (spec_execution_v1) gets its phases from its spec,
``metadata.spec_path`` (else ``target_file``), re-parsed into the session's plan
(see :func:`pos_engine._spec_plan.legacy_session_plan`: a ``spec_map`` entry wins; a
spec that moved is found by its folder name under ``.praxis-os/specs/``). The
report's ``spec`` says where it was found. A session still at the planning phase
migrates without a plan when its spec is missing (it is planned when that phase
completes); any other session whose spec is missing is not migrated.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import ValidationError as PydanticValidationError

from ._audit import append_entry
from ._bounded import BoundedInputError, parse_json_bounded, read_bounded_text
from ._definitions import WorkflowDefinition, WorkflowRegistry
from ._dynamic import workflow_for
from ._evidence_schema import capped_errors
from ._gates import evaluate_evidence
from ._models import ErrorRecord, PhaseAttempt, Session, SessionStatus, SpecPlan, utc_now
from ._spec_legacy import legacy_session_plan
from ._state import seconds_between
from .exceptions import PosError, ValidationError
from .guards import validate_session_id, validate_target_file

__all__ = [
    "LEGACY_SESSION_SCHEMA",
    "LegacySessionReport",
    "convert_legacy_session",
    "convert_legacy_session_file",
    "find_legacy_session_files",
    "legacy_session_dir",
    "read_legacy_session",
]

_PHASE_KEY = {"type": "string", "pattern": "^[0-9]+$"}

LEGACY_SESSION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "legacy (praxis-style) session state file",
    "type": "object",
    "required": [
        "session_id",
        "workflow_type",
        "target_file",
        "current_phase",
        "completed_phases",
        "phase_artifacts",
        "checkpoints",
        "created_at",
        "updated_at",
    ],
    "properties": {
        "session_id": {"type": "string", "minLength": 1},
        "workflow_type": {"type": "string", "minLength": 1},
        "target_file": {"type": "string"},
        "current_phase": {"type": "integer", "minimum": 0},
        "completed_phases": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "phase_artifacts": {
            "type": "object",
            "propertyNames": _PHASE_KEY,
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "phase_number": {"type": "integer"},
                    "evidence": {"type": ["object", "null"]},
                    "commands_executed": {"type": ["array", "null"]},
                    "timestamp": {"type": ["string", "null"]},
                },
            },
        },
        "checkpoints": {
            "type": "object",
            "propertyNames": _PHASE_KEY,
            "additionalProperties": {"type": "string"},
        },
        "created_at": {"type": "string", "minLength": 1},
        "updated_at": {"type": "string", "minLength": 1},
        "metadata": {"type": ["object", "null"]},
    },
}
"""The legacy session shape the conversion relies on; unknown keys are reported, not fatal."""

_VALIDATOR = Draft202012Validator(LEGACY_SESSION_SCHEMA)

MAX_LEGACY_SESSION_BYTES = 64 * 1024 * 1024
"""Largest legacy session file read (as the store's own records)."""
_KNOWN_KEYS = frozenset(LEGACY_SESSION_SCHEMA["properties"])
_ARTIFACT_KEYS = frozenset(
    {"phase_number", "evidence", "outputs", "commands_executed", "timestamp"}
)
_CHECKPOINT_VALUES = frozenset({"passed", "failed", "pending", "skipped"})


def legacy_session_dir(project_root: str | os.PathLike[str]) -> Path:
    """Return the folder where legacy servers kept session files."""
    return Path(project_root) / ".praxis-os" / ".cache" / "state"


def find_legacy_session_files(project_root: str | os.PathLike[str]) -> list[Path]:
    """Return the legacy session files of a project (``*.json``, sorted); none if no folder."""
    folder = legacy_session_dir(project_root)
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".json" and p.is_file())
    except OSError:
        return []


@dataclass
class LegacySessionReport:
    """What happened to one legacy session file: what mapped, what did not, and why.

    ``ok`` is False when the file cannot be used at all; ``error`` then says why and
    no session is produced. Warnings never stop a conversion.

    Attributes:
        source: The legacy file's name (never a full path).
        ok: The file was read (and, after conversion, converted) without a fatal problem.
        error: Why the file cannot be converted, when ``ok`` is False.
        session_id: The (normalised) session id, once known.
        workflow_type: The legacy workflow type, once known.
        status: The converted session's status (after a successful conversion).
        mapped: ``{"from", "to"}`` pairs: each legacy key and where it went.
        unmapped: ``{"key", "reason"}``: legacy data not carried into the session.
        warnings: ``{"code", "message", "phase"?}``: things the operator should know.
        spec: For a dynamic workflow: the spec the session named, where it was
            found (``how``: as named, moved, mapped, missing) and why not.
        raw: The parsed file content (not part of :meth:`to_dict`).
    """

    source: str
    ok: bool = False
    error: str | None = None
    session_id: str | None = None
    workflow_type: str | None = None
    status: str | None = None
    mapped: list[dict[str, str]] = field(default_factory=list)
    unmapped: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    spec: dict[str, Any] | None = None
    raw: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (without the raw file content)."""
        extra = {} if self.spec is None else {"spec": dict(self.spec)}
        return {
            "source": self.source,
            "ok": self.ok,
            "error": self.error,
            "session_id": self.session_id,
            "workflow_type": self.workflow_type,
            "status": self.status,
            "mapped": [dict(m) for m in self.mapped],
            "unmapped": [dict(u) for u in self.unmapped],
            "warnings": [dict(w) for w in self.warnings],
            **extra,
        }

    def _fail(self, reason: str) -> LegacySessionReport:
        self.ok = False
        self.error = reason
        return self

    def _map(self, source: str, target: str) -> None:
        self.mapped.append({"from": source, "to": target})

    def _skip(self, key: str, reason: str) -> None:
        self.unmapped.append({"key": key, "reason": reason})

    def _warn(self, code: str, message: str, phase: int | None = None) -> None:
        entry: dict[str, Any] = {"code": code, "message": message}
        if phase is not None:
            entry["phase"] = phase
        self.warnings.append(entry)


class _Rejected(Exception):
    """The legacy session cannot be converted; the message says why."""


def _shape_problem(raw: object) -> str | None:
    if not isinstance(raw, dict):
        return f"the file holds a JSON {type(raw).__name__}, not an object"
    found = capped_errors(_VALIDATOR, raw, shown=1)
    if not found.errors:
        return None
    first = found.errors[0]
    where = "/" + "/".join(str(p) for p in first.absolute_path)
    more = f" (+{found.total - 1} more)" if found.total > 1 else ""
    return (
        f"not a legacy session: {where if where != '/' else '(file)'}: {first.message[:200]}{more}"
    )


def read_legacy_session(path: str | os.PathLike[str]) -> LegacySessionReport:
    """Read one legacy session file and check its shape; never raises for a bad file.

    Returns:
        A report with ``ok`` True and ``raw`` holding the parsed content, or ``ok``
        False and ``error`` saying why (unreadable, not JSON, not the legacy shape).
    """
    file = Path(path)
    report = LegacySessionReport(source=file.name)
    try:
        raw = parse_json_bounded(read_bounded_text(file, limit=MAX_LEGACY_SESSION_BYTES))
    except BoundedInputError as exc:
        return report._fail(f"the file {exc}")
    except OSError as exc:
        return report._fail(f"cannot read the file: {exc.strerror or exc.__class__.__name__}")
    problem = _shape_problem(raw)
    if problem is not None:
        return report._fail(problem)
    report.ok = True
    report.raw = raw
    report.session_id = str(raw["session_id"])
    report.workflow_type = str(raw["workflow_type"])
    return report


def _to_utc(value: object, local_tz: tzinfo | None) -> str | None:
    """Return ``value`` as a UTC ISO timestamp; zone-less values are in ``local_tz``."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        # astimezone() on a naive time assumes the machine's local zone.
        moment = moment.replace(tzinfo=local_tz) if local_tz is not None else moment.astimezone()
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _session_id(value: str, source: str, report: LegacySessionReport) -> str:
    try:
        parsed = uuid.UUID(value.strip())
    except ValueError:
        raise _Rejected(
            f"session_id {value[:80]!r} is not a uuid; legacy session ids are uuid4 strings"
        ) from None
    sid = validate_session_id(str(parsed))
    if parsed.version != 4:
        report._warn("session_id_not_uuid4", f"session_id {sid!r} is a uuid but not a uuid4")
    if source.endswith(".json") and source[:-5].lower() != sid:
        report._warn(
            "session_id_differs_from_file_name",
            f"session_id {sid!r} differs from the file name {source!r}",
        )
    report._map("session_id", "session_id" if sid == value else "session_id (lowercased)")
    return sid


def _phase_state(
    raw: dict[str, Any], definition: WorkflowDefinition, report: LegacySessionReport
) -> tuple[list[int], int, bool]:
    """Return (completed phases inside the definition, current phase, all completed)."""
    start, last = definition.start_phase, definition.last_phase
    completed = sorted({p for p in raw["completed_phases"] if start <= p <= last})
    for phase in sorted({p for p in raw["completed_phases"] if not start <= p <= last}):
        report._skip(
            f"completed_phases[{phase}]",
            f"phase {phase} is outside the definition's phases {start}-{last}",
        )
        report._warn(
            "phase_beyond_definition",
            f"completed phase {phase} is not a phase of {definition.workflow_type!r} "
            f"({start}-{last}); it was dropped",
            phase,
        )
    report._map("completed_phases", "completed_phases")
    all_done = set(range(start, last + 1)) <= set(completed)
    current = raw["current_phase"]
    if all_done:
        report._map("current_phase", f"current_phase (the last phase, {last}; all completed)")
        return completed, last, True
    if not start <= current <= last:
        raise _Rejected(
            f"current_phase {current} is outside the phases of {definition.workflow_type!r} "
            f"({start}-{last}) while phases "
            f"{[p for p in range(start, last + 1) if p not in completed]} are not completed"
        )
    if current in completed:
        raise _Rejected(f"current_phase {current} is also listed in completed_phases")
    gaps = [p for p in range(start, current) if p not in completed]
    if gaps:
        report._warn(
            "phases_skipped",
            f"phases {gaps} before the current phase {current} were never completed",
            current,
        )
    report._map("current_phase", "current_phase")
    return completed, current, False


def _artifacts(
    raw: dict[str, Any],
    *,
    definition: WorkflowDefinition,
    completed: list[int],
    current: int | None,
    local_tz: tzinfo | None,
    report: LegacySessionReport,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[int, str]]:
    """Return (artifacts, evidence, timestamp of each completed phase's artifact)."""
    artifacts: dict[str, dict[str, Any]] = {}
    evidence: dict[str, dict[str, Any]] = {}
    stamps: dict[int, str] = {}
    for key, entry in sorted(raw["phase_artifacts"].items(), key=lambda kv: int(kv[0])):
        phase = int(key)
        where = f"phase_artifacts[{key}]"
        for extra in sorted(set(entry) - _ARTIFACT_KEYS):
            report._skip(f"{where}.{extra}", "not part of the legacy artifact format")
        if entry.get("phase_number", phase) != phase:
            report._warn(
                "artifact_phase_number_differs",
                f"{where}.phase_number is {entry['phase_number']!r}; the key {key!r} was used",
                phase,
            )
        payload = dict(entry.get("evidence") or {})
        if phase in completed:
            stamp = _to_utc(entry.get("timestamp"), local_tz)
            if stamp is None:
                report._warn(
                    "artifact_timestamp_unusable",
                    f"{where}.timestamp {entry.get('timestamp')!r} is not an ISO timestamp; "
                    "updated_at was used",
                    phase,
                )
            else:
                stamps[phase] = stamp
            legacy = {
                k: entry[k]
                for k in ("outputs", "commands_executed", "timestamp")
                if entry.get(k) not in (None, {}, [])
            }
            stored = dict(payload)
            report._map(f"{where}.evidence", f"artifacts[{key}], evidence[{key}]")
            if legacy and "legacy" in stored:
                report._skip(
                    f"{where}.outputs/commands_executed/timestamp",
                    "the evidence already has a 'legacy' field; they stay in the legacy file",
                )
            elif legacy:
                stored["legacy"] = legacy
                report._map(f"{where}.({', '.join(legacy)})", f"artifacts[{key}].legacy")
            artifacts[key] = stored
            evidence[key] = payload
            gate = evaluate_evidence(definition.phase(phase).checkpoint, payload)
            if not gate.passed:
                report._warn(
                    "evidence_fails_current_checkpoint",
                    f"the evidence of completed phase {phase} does not pass today's checkpoint "
                    f"({gate.summary()}); the phase stays completed",
                    phase,
                )
        elif phase == current:
            evidence[key] = payload
            report._map(f"{where}.evidence", f"evidence[{key}] (current phase, not yet passed)")
        else:
            report._skip(where, f"phase {phase} is neither completed nor the current phase")
            report._warn(
                "artifact_of_unfinished_phase",
                f"{where} belongs to phase {phase}, which is neither completed nor current; "
                "it was not migrated",
                phase,
            )
    for phase in completed:
        if str(phase) not in artifacts:
            report._warn(
                "completed_phase_without_artifacts",
                f"completed phase {phase} has no phase_artifacts entry; it has no artifacts",
                phase,
            )
    return artifacts, evidence, stamps


def _checkpoint_failed(
    raw: dict[str, Any], completed: list[int], current: int, done: bool, report: LegacySessionReport
) -> bool:
    failed = False
    for key, value in sorted(raw["checkpoints"].items(), key=lambda kv: int(kv[0])):
        phase = int(key)
        if value not in _CHECKPOINT_VALUES:
            report._skip(f"checkpoints[{key}]", f"unknown checkpoint status {value!r}")
        elif value == "failed" and phase == current and not done:
            failed = True
            report._map(f"checkpoints[{key}]", "status 'failed' and an errors entry")
        elif value == "passed" and phase not in completed:
            report._warn(
                "passed_checkpoint_not_completed",
                f"checkpoints[{key}] is 'passed' but phase {phase} is not in completed_phases",
                phase,
            )
        elif value == "failed":
            report._skip(f"checkpoints[{key}]", f"a past failure of phase {phase}, not current")
        else:
            report._map(f"checkpoints[{key}]", "implied by completed_phases and status")
    return failed


def _history(
    completed: list[int],
    *,
    current: int,
    done: bool,
    failed: bool,
    created: str,
    updated: str,
    stamps: dict[int, str],
) -> list[PhaseAttempt]:
    history: list[PhaseAttempt] = []
    began = created
    for phase in completed:
        ended = stamps.get(phase, updated)
        history.append(
            PhaseAttempt(
                phase=phase,
                attempt=1,
                started_at=began,
                completed_at=ended,
                duration_seconds=seconds_between(began, datetime.fromisoformat(ended)),
                status="passed",
            )
        )
        began = ended
    if not done:
        attempt = PhaseAttempt(phase=current, attempt=1, started_at=began)
        if failed:
            attempt.status = "failed"
            attempt.completed_at = updated
            attempt.duration_seconds = seconds_between(began, datetime.fromisoformat(updated))
        history.append(attempt)
    return history


def _dynamic_plan(
    raw: dict[str, Any],
    definition: WorkflowDefinition,
    project_root: Path,
    spec_map: Mapping[str, str],
    report: LegacySessionReport,
) -> SpecPlan | None:
    """Find and plan the spec of a dynamic session; None when it may migrate without one."""
    spec = legacy_session_plan(project_root, definition, raw, spec_map=spec_map, stamp=utc_now())
    report.spec = spec.to_dict()
    for code, message in spec.warnings:
        report._warn(code, message)
    if spec.plan is not None:
        report._map(
            spec.requested_by,
            f"plan ({len(spec.plan.phases)} phases, {spec.plan.task_count} tasks from "
            f"{spec.plan.spec_path}/{spec.plan.tasks_file})",
        )
        return spec.plan
    planning = definition.last_phase
    current = raw["current_phase"]
    if current > planning or any(p >= planning for p in raw["completed_phases"]):
        raise _Rejected(
            f"it is at phase {current} of a dynamic workflow, whose phases come from its spec: "
            f"{spec.problem}"
        )
    report._skip(spec.requested_by, "the spec was not found; the session has no plan yet")
    report._warn(
        "spec_missing",
        f"{spec.problem}. The session migrates at phase {current} without a plan: phase "
        f"{planning}'s evidence must name the spec (spec_path), whose tasks.md then gives the "
        "next phases",
        current,
    )
    return None


def _total_phases_note(
    legacy_total: object, definition: WorkflowDefinition, plan: SpecPlan | None
) -> str | None:
    """Why the legacy ``metadata.total_phases`` is not used, when it disagrees."""
    if definition.dynamic is not None and plan is None:
        return (
            f"metadata.total_phases is {legacy_total!r} (the legacy server's count); the phases "
            "come from the spec's tasks.md once it is planned"
        )
    if legacy_total == definition.total_phases:
        return None
    if plan is not None:
        return (
            f"metadata.total_phases is {legacy_total!r} but the spec's tasks.md has "
            f"{len(plan.phases)} phases ({definition.total_phases} with the static ones); "
            "the plan's count is used"
        )
    return (
        f"metadata.total_phases is {legacy_total!r} but the definition has "
        f"{definition.total_phases} phases; the definition's count is used"
    )


def _convert(
    raw: dict[str, Any],
    definition: WorkflowDefinition,
    project_root: Path,
    local_tz: tzinfo | None,
    report: LegacySessionReport,
    *,
    spec_map: Mapping[str, str],
) -> Session:
    sid = _session_id(raw["session_id"], report.source, report)
    report.session_id = sid
    wtype = raw["workflow_type"]
    report.workflow_type = wtype
    if wtype != definition.workflow_type and wtype not in definition.aliases:
        raise _Rejected(
            f"workflow_type {wtype!r} does not match the definition {definition.workflow_type!r}"
        )
    report._map("workflow_type", "workflow_type")
    try:
        target = validate_target_file(raw["target_file"], project_root)
    except ValidationError as exc:
        raise _Rejected(f"target_file: {exc.message}") from None
    report._map(
        "target_file", "target_file" if target == raw["target_file"] else "target_file (normalised)"
    )
    created = _to_utc(raw["created_at"], local_tz)
    updated = _to_utc(raw["updated_at"], local_tz)
    if created is None or updated is None:
        bad = "created_at" if created is None else "updated_at"
        raise _Rejected(f"{bad} {raw[bad]!r} is not an ISO 8601 timestamp")
    report._map("created_at, updated_at", "created_at, updated_at (UTC)")
    plan = None
    if definition.dynamic is not None:
        plan = _dynamic_plan(raw, definition, project_root, spec_map, report)
        definition = workflow_for(definition, plan, spec_guess=target)
    completed, current, done = _phase_state(raw, definition, report)
    artifacts, evidence, stamps = _artifacts(
        raw,
        definition=definition,
        completed=completed,
        current=None if done else current,
        local_tz=local_tz,
        report=report,
    )
    failed = _checkpoint_failed(raw, completed, current, done, report)
    metadata = dict(raw.get("metadata") or {})
    legacy_total = metadata.pop("total_phases", None)
    note = None if legacy_total is None else _total_phases_note(legacy_total, definition, plan)
    if note is not None:
        report._warn("total_phases_mismatch", note)
    report._map("metadata", "options (without total_phases)")
    for key in sorted(set(raw) - _KNOWN_KEYS):
        report._skip(key, "not part of the legacy session format")
    status: SessionStatus = "completed" if done else "failed" if failed else "active"
    errors = []
    if failed:
        errors.append(
            ErrorRecord(
                phase=current,
                timestamp=updated,
                error_type="CheckpointFailed",
                message=f"checkpoint of phase {current} failed on the legacy server; migrated "
                f"from {report.source!r} (the legacy file kept no failure details)",
                details={"migrated_from": report.source, "legacy_checkpoint": "failed"},
                remediation=f"Read phase_content.checkpoint (get_phase), then call complete_phase "
                f"with phase={current} and evidence that passes it, or retry_phase with "
                f"phase={current}.",
            )
        )
    session = Session(
        session_id=sid,
        workflow_type=definition.workflow_type,
        workflow_version=definition.version,
        target_file=target,
        status=status,
        start_phase=definition.start_phase,
        current_phase=current,
        total_phases=definition.total_phases,
        completed_phases=completed,
        created_at=created,
        updated_at=updated,
        completed_at=updated if done else None,
        options=metadata,
        artifacts=artifacts,
        evidence=evidence,
        phase_history=_history(
            completed,
            current=current,
            done=done,
            failed=failed,
            created=created,
            updated=updated,
            stamps=stamps,
        ),
        errors=errors,
        dynamic=definition.dynamic is not None,
        plan=plan,
    )
    session.warnings.append(
        {
            "kind": "migration",
            "source": "legacy_session",
            "phase": current,
            "timestamp": utc_now(),
            "legacy_file": report.source,
            "message": f"migrated from the legacy session file {report.source!r}"
            + (f" with {len(report.warnings)} warning(s)" if report.warnings else ""),
            "report_warnings": [w["code"] for w in report.warnings],
        }
    )
    # The audit trail starts here: what the legacy file held is taken as given.
    append_entry(
        session,
        "migrated",
        at=utc_now(),
        phase=current,
        data={"legacy_file": report.source, "warnings": [w["code"] for w in report.warnings]},
    )
    report.status = status
    return session


def convert_legacy_session(
    raw: dict[str, Any],
    definition: WorkflowDefinition,
    *,
    project_root: str | os.PathLike[str],
    local_tz: tzinfo | None = None,
    source: str = "",
    spec_map: Mapping[str, str] | None = None,
) -> tuple[Session | None, LegacySessionReport]:
    """Convert a parsed legacy session into a :class:`Session`; never raises for bad data.

    Args:
        raw: The parsed legacy file (``read_legacy_session(path).raw``).
        definition: The workflow the session runs, resolved through the registry.
        project_root: The project ``target_file`` must lie in.
        local_tz: The zone of the legacy zone-less timestamps (default: this machine's).
        source: The legacy file's name, quoted in the report and the session.
        spec_map: For dynamic workflows: spec folder the legacy session named ->
            the folder to use instead (project-relative paths).

    Returns:
        ``(session, report)``: the session (not stored; the caller creates it in a store)
        and what mapped, what did not and the warnings; or ``(None, report)`` with
        ``report.error`` saying why the session cannot be converted.
    """
    report = LegacySessionReport(source=source or "(legacy session)", raw=None)
    problem = _shape_problem(raw)
    if problem is not None:
        return None, report._fail(problem)
    try:
        session = _convert(
            raw, definition, Path(project_root), local_tz, report, spec_map=spec_map or {}
        )
    except _Rejected as exc:
        return None, report._fail(str(exc))
    except (PosError, PydanticValidationError) as exc:  # pragma: no cover - guarded above
        return None, report._fail(f"the converted session is invalid: {str(exc)[:300]}")
    report.ok = True
    return session, report


def convert_legacy_session_file(
    path: str | os.PathLike[str],
    registry: WorkflowRegistry,
    *,
    local_tz: tzinfo | None = None,
    spec_map: Mapping[str, str] | None = None,
) -> tuple[Session | None, LegacySessionReport]:
    """Read, resolve and convert one legacy session file; never raises for bad data.

    The workflow is resolved through ``registry`` and ``target_file`` is checked
    against ``registry.project_root``.

    Returns:
        As :func:`convert_legacy_session`.
    """
    read = read_legacy_session(path)
    if not read.ok or read.raw is None:
        return None, read
    try:
        definition = registry.get(str(read.raw["workflow_type"]))
    except PosError as exc:
        return None, read._fail(f"workflow_type does not resolve: {exc.message}")
    return convert_legacy_session(
        read.raw,
        definition,
        project_root=registry.project_root,
        local_tz=local_tz,
        source=read.source,
        spec_map=spec_map,
    )
