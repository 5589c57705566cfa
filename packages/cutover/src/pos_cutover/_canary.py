"""The canary: a session started through the current (old) surface before the cutover.

Verification continues it to completion through pos_workflow, which proves on
the real project that a session begun under the old tools survives the cutover.
It targets ``cutover-probe/canary.py`` like every probe session, so it is
recognised and removed afterwards.
"""

from __future__ import annotations

from typing import Any

from ._backup import utc_stamp
from ._probe import probe_options, probe_target
from ._server import LiveServer

__all__ = ["FALLBACK_WORKFLOWS", "start_canary"]

FALLBACK_WORKFLOWS: tuple[str, ...] = ("test_generation_v3", "spec_creation_v1")
"""Bundled workflows tried when the plan names none."""


async def _advance_one_phase(
    server: LiveServer, tools: list[str], record: dict[str, Any], started: dict[str, Any]
) -> None:
    """Complete the first phase through the old complete_phase, when the old tools allow it."""
    content = started.get("phase_content")
    if "complete_phase" not in tools or not isinstance(content, dict):
        return
    evidence = content.get("checkpoint", {}).get("evidence_example")
    if not isinstance(evidence, dict):
        return
    done = await server.call(
        "complete_phase",
        {"session_id": record["session_id"], "phase": content.get("phase"), "evidence": evidence},
    )
    record["advanced_phases"] = 1 if done.ok else 0


async def start_canary(
    server: LiveServer,
    tools: list[str],
    workflow_types: tuple[str, ...],
    *,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Start the canary through ``start_workflow`` (else pos_workflow's ``start``).

    ``run_id`` (the cutover's backup) goes into the session's options, as a probe
    session's does, so that only this project's cutovers sweep it up after a kill.

    Returns:
        ``{"session_id", "tool", "workflow_type", "created_at", "advanced_phases"}``,
        or ``{"session_id": None, "reason": ...}`` when no session could be started.
    """
    extra: dict[str, Any]
    if "start_workflow" in tools:
        tool, extra = "start_workflow", {}
    elif "pos_workflow" in tools:
        tool, extra = "pos_workflow", {"action": "start"}
    else:
        return {
            "session_id": None,
            "reason": "the current surface has no tool that starts a session",
        }
    if run_id is not None:
        extra = {**extra, "options": probe_options(run_id)}
    errors = []
    for workflow_type in dict.fromkeys((*workflow_types, *FALLBACK_WORKFLOWS)):
        call = await server.call(
            tool, {**extra, "workflow_type": workflow_type, "target_file": probe_target("canary")}
        )
        session_id = call.payload.get("session_id")
        if call.ok and isinstance(session_id, str):
            record: dict[str, Any] = {
                "session_id": session_id,
                "tool": tool,
                "workflow_type": workflow_type,
                "created_at": utc_stamp(),
                "advanced_phases": 0,
            }
            if tool == "start_workflow":
                await _advance_one_phase(server, tools, record, call.payload)
            return record
        errors.append(f"{workflow_type}: {call.payload.get('error') or call.text[:120]}")
    return {"session_id": None, "reason": f"{tool} could not start a session ({'; '.join(errors)})"}
