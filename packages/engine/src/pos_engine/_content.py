"""Render what agents see of a phase: its page, tasks, checkpoint and prior artifacts."""

from __future__ import annotations

import json
from typing import Any

from ._definitions import PhaseDefinition, TaskDefinition, WorkflowDefinition
from ._models import PlanTask, Session

__all__ = ["MAX_INLINE_ARTIFACT_BYTES", "phase_content", "task_content"]

MAX_INLINE_ARTIFACT_BYTES = 64 * 1024
"""Earlier artifacts larger than this are summarised in phase_content, not repeated.

Every later phase would otherwise resend them (up to 10 MB each) into the agent's
context; get_state still returns every artifact in full.
"""


def _inline(artifact: dict[str, Any], session_id: str) -> dict[str, Any]:
    size = len(json.dumps(artifact, separators=(",", ":"), ensure_ascii=False).encode())
    if size <= MAX_INLINE_ARTIFACT_BYTES:
        return artifact
    return {
        "omitted": True,
        "size_bytes": size,
        "fields": sorted(artifact),
        # A hint as data (the action and its arguments), not a call spelled for one client:
        # the tool, a CLI or a library user each say it in their own terms.
        "how_to_read": {"action": "get_state", "session_id": session_id},
    }


def phase_content(
    definition: WorkflowDefinition, session: Session, number: int | None = None
) -> dict[str, Any]:
    """Return the phase_content of phase ``number`` (default: the session's current phase).

    It carries the checkpoint (required evidence, its JSON Schema, the validation
    sentence and an example) so an agent can build passing evidence from the
    tool's answers alone, and the artifacts of every earlier completed phase
    (each one over ``MAX_INLINE_ARTIFACT_BYTES`` replaced by a summary saying how
    to read it). The phase's own part is shared by every answer about that phase,
    as the checkpoint's schema and example always were: never change it.
    """
    phase_number = session.current_phase if number is None else number
    head, tail = _phase_parts(definition.phase(phase_number))
    previous = {
        key: _inline(value, session.session_id)
        for key, value in sorted(session.artifacts.items(), key=lambda kv: int(kv[0]))
        if int(key) < phase_number
    }
    return {**head, "artifacts_from_previous_phases": previous, **tail}


_PARTS = "_pos_phase_content_parts"


def _phase_parts(phase: PhaseDefinition) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields of phase_content before and after the session's artifacts, rendered once.

    Every get_phase renders them: keeping them on the (frozen, never edited) phase
    saves the rendering on each call, and a workflow file edited on disk is a new
    phase object, so nothing stale is served. Two threads may both render; either
    result is the same.
    """
    parts: tuple[dict[str, Any], dict[str, Any]] | None = phase.__dict__.get(_PARTS)
    if parts is None:
        parts = _render_parts(phase)
        object.__setattr__(phase, _PARTS, parts)  # a cache, not a field: eq and repr ignore it
    return parts


def _render_parts(phase: PhaseDefinition) -> tuple[dict[str, Any], dict[str, Any]]:
    head: dict[str, Any] = {
        "phase": phase.number,
        "title": phase.title,
        "purpose": phase.purpose,
        "estimated_duration": phase.estimated_duration,
        "deliverables": list(phase.deliverables),
        "content": phase.content,
        "tasks": [
            {
                "task_number": task.number,
                "name": task.name,
                "title": task.content.title,
                "estimated_duration": task.content.estimated_duration,
                **_spec_task(task.spec),
            }
            for task in phase.tasks
        ],
        "task_count": len(phase.tasks),
        "checkpoint": phase.checkpoint.to_dict(),
    }
    tail: dict[str, Any] = {"how_to_complete": _how_to_complete(phase)}
    if phase.spec is not None:
        tail["spec_phase"] = {
            "number": phase.spec.number,
            "title": phase.spec.title,
            "line": phase.spec.line,
            "objective": phase.spec.objective,
            "dependencies": phase.spec.dependencies,
            "validation_gate": _items("g", phase.spec.validation_gate),
        }
    return head, tail


def _items(prefix: str, texts: list[str]) -> list[dict[str, str]]:
    return [{"id": f"{prefix}{n}", "text": text} for n, text in enumerate(texts, start=1)]


def _spec_task(task: PlanTask | None) -> dict[str, Any]:
    """The fields a task derived from a spec adds to its listing and its content."""
    if task is None:
        return {}
    return {
        "task_id": task.id,
        "priority": task.priority,
        "dependencies": task.dependencies,
        "depends_on": list(task.depends_on),
        "acceptance_criteria": _items("c", task.acceptance_criteria),
    }


def _how_to_complete(phase: PhaseDefinition) -> str:
    names = ", ".join(repr(name) for name in phase.checkpoint.required_evidence)
    if not names:
        return (
            f"Work through tasks 1-{len(phase.tasks)} (get_task), then call complete_phase with "
            f"phase={phase.number}; this phase has no gate, so any evidence object passes "
            "(send what you produced)."
        )
    if phase.spec is not None:
        ids = ", ".join(task.name for task in phase.tasks)
        return (
            f"Work through tasks {ids} (get_task with task_number 1-{len(phase.tasks)}), then "
            f"call complete_phase with phase={phase.number} and evidence holding {names}: an "
            "entry per task id (done, note, and each acceptance criterion c1, c2, ... answered "
            "met true, or met false with a reason)"
            + (
                ", and each validation-gate item g1, g2, ... answered the same way"
                if phase.spec.validation_gate
                else ""
            )
            + "; checkpoint.evidence_example shows the shape."
        )
    return (
        f"Work through tasks 1-{len(phase.tasks)} (get_task), then call complete_phase "
        f"with phase={phase.number} and evidence holding {names} shaped as "
        "checkpoint.evidence_schema."
    )


def task_content(task: TaskDefinition, target_file: str) -> dict[str, Any]:
    """Return get_task's ``task_content``: the task with ``{target_file}`` filled in."""
    return {
        "task_number": task.number,
        "name": task.name,
        **task.content.render(target_file),
        **_spec_task(task.spec),
    }
