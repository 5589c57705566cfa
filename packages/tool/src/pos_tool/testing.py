"""Helpers for talking to pos_workflow through an MCP client (tests, smoke checks, verification)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from mcp import Client
from mcp.types import CallToolResult, TextContent
from pos_engine import write_example_files
from pos_engine.testing.drive import FakeClock as EngineFakeClock

from ._actions import TOOL_NAME
from ._demo import server_parameters

__all__ = [
    "FakeClock",
    "call_pos_workflow",
    "example_evidence",
    "server_parameters",
    "tool_response",
]


def tool_response(result: CallToolResult) -> dict[str, Any]:
    """Return the JSON object of a pos_workflow result.

    Raises:
        AssertionError: the structured content is missing, differs from the text
            content, or disagrees with ``is_error``.
    """
    structured = result.structured_content
    if not isinstance(structured, dict):
        raise AssertionError(f"no structured content in {result!r:.300}")
    first = result.content[0] if result.content else None
    if not isinstance(first, TextContent) or json.loads(first.text) != structured:
        raise AssertionError("the text content is not the JSON of the structured content")
    if result.is_error != (structured.get("status") == "error"):
        raise AssertionError(f"is_error={result.is_error} but status={structured.get('status')!r}")
    return structured


async def call_pos_workflow(client: Client, action: str | None, **arguments: Any) -> dict[str, Any]:
    """Call pos_workflow with ``action`` (left out when ``None``) and return its JSON response."""
    args = dict(arguments) if action is None else {"action": action, **arguments}
    return tool_response(await client.call_tool(TOOL_NAME, args))


def example_evidence(
    response: dict[str, Any], project_root: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Return the checkpoint's ``evidence_example`` from a response that carries phase_content.

    With ``project_root``, first write the files the example names where the server
    verifies them (``x-verify``), so that the example passes there.
    """
    checkpoint = response["phase_content"]["checkpoint"]
    if project_root is not None:
        write_example_files(project_root, checkpoint)
    evidence: dict[str, Any] = checkpoint["evidence_example"]
    return evidence


class FakeClock(EngineFakeClock):
    """The engine's fake clock, usable as monitoring's clock too: time moves only when told.

    Pass it as ``Monitor(..., clock=FakeClock())``: injected latency then advances
    the clock instead of waiting, and retention or alert windows are crossed with
    :meth:`advance` instead of sleeps. (The engine takes the same object as its clock.)
    """

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start)
        self._start = self.now

    def time(self) -> float:
        """The fake wall-clock time in epoch seconds."""
        return self.now.timestamp()

    def monotonic(self) -> float:
        """Seconds the clock has advanced since it was made."""
        return (self.now - self._start).total_seconds()

    async def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds`` at once."""
        self.advance(seconds)
