"""Render what agents see of a phase: its page, tasks, checkpoint and prior artifacts."""

from __future__ import annotations

import json
from typing import Any

from ._definitions import WorkflowDefinition
from ._models import Session

__all__ = ["MAX_INLINE_ARTIFACT_BYTES", "phase_content"]

MAX_INLINE_ARTIFACT_BYTES = 64 * 1024
"""Earlier artifacts larger than this are summarised in phase_content, not repeated.

Every later phase would otherwise resend them (up to 10 MB each) into the agent's
context; get_state still returns every artifact in full.
"""


def _inline(phase: str, artifact: dict[str, Any], session_id: str) -> dict[str, Any]:
    size = len(json.dumps(artifact, separators=(",", ":"), ensure_ascii=False).encode())
    if size <= MAX_INLINE_ARTIFACT_BYTES:
        return artifact
    return {
        "omitted": True,
        "size_bytes": size,
        "fields": sorted(artifact),
        "how_to_read": (
            f'pos_workflow(action="get_state", session_id="{session_id}") returns the '
            f"artifacts of phase {phase} in full"
        ),
    }


def phase_content(
    definition: WorkflowDefinition, session: Session, number: int | None = None
) -> dict[str, Any]:
    """Return the phase_content of phase ``number`` (default: the session's current phase).

    It carries the checkpoint (required evidence, its JSON Schema, the validation
    sentence and an example) so an agent can build passing evidence from the
    tool's answers alone, and the artifacts of every earlier completed phase
    (each one over ``MAX_INLINE_ARTIFACT_BYTES`` replaced by a summary saying how
    to read it).
    """
    phase_number = session.current_phase if number is None else number
    phase = definition.phase(phase_number)
    previous = {
        key: _inline(key, value, session.session_id)
        for key, value in sorted(session.artifacts.items(), key=lambda kv: int(kv[0]))
        if int(key) < phase_number
    }
    return {
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
            }
            for task in phase.tasks
        ],
        "task_count": len(phase.tasks),
        "checkpoint": phase.checkpoint.to_dict(),
        "artifacts_from_previous_phases": previous,
        "how_to_complete": (
            f"Work through tasks 1-{len(phase.tasks)} (get_task), then call complete_phase "
            f"with phase={phase.number} and evidence holding "
            + ", ".join(repr(name) for name in phase.checkpoint.required_evidence)
            + " shaped as checkpoint.evidence_schema."
        ),
    }
