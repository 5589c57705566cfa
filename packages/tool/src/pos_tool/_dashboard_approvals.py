"""Approvals on the standalone dashboard (``pos-workflow dashboard``), never beside ``/mcp``.

A person approves or rejects a phase awaiting approval from the page, through the
same engine API as ``pos-workflow approve|reject``, so the audit trail names them.
These routes exist only in the process a person starts with ``pos-workflow
dashboard``: the HTTP server of ``pos-workflow serve`` is reachable by agents, and
an agent must not approve its own work.

A decision is a same-origin ``fetch`` POST of a small JSON body carrying the
process's random CSRF token (embedded in the page, compared in constant time);
Host and Origin are checked as for every dashboard route, and a POST must name
its Origin.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from pos_engine import (
    ConflictError,
    NotFoundError,
    PosError,
    StateError,
    ValidationError,
    WorkflowEngine,
    open_store,
)
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._review_cli import login_name, pending_approvals, pending_view
from ._store_cli import store_setting

__all__ = ["APPROVALS_PATH", "MAX_DECISION_BYTES", "Approvals"]

APPROVALS_PATH = "/dashboard/approvals"
"""Where decisions are posted: ``/approve`` and ``/reject`` under it."""

MAX_DECISION_BYTES = 16 * 1024
"""Largest decision body accepted: a 2,000-character reason with room to spare."""

_T = TypeVar("_T")
_EVIDENCE_PREVIEW_CHARS = 4000
_STATUS = {ValidationError: 400, NotFoundError: 404, StateError: 409, ConflictError: 409}


class Approvals:
    """The pending approvals of a project and the decision routes of its dashboard.

    Args:
        project_root: The project whose sessions are decided.
        store: Where sessions live (default: ``$POS_WORKFLOW_STORE``, else the
            project's file store), as for ``pos-workflow approve``.
    """

    def __init__(self, project_root: Path, *, store: str | None = None) -> None:
        self.project_root = project_root
        self.store = store_setting(store)
        self.csrf_token = secrets.token_urlsafe(32)  # one per process, never stored

    def _with_engine(self, run: Callable[[WorkflowEngine], _T]) -> _T:
        # Opened per request, as the CLI does: the server may write the same store meanwhile.
        store = open_store(self.store, project_root=self.project_root)
        try:
            store.check_ready()
            return run(WorkflowEngine.for_project(self.project_root, store=store))
        finally:
            store.close()

    def page_data(self) -> dict[str, Any]:
        """What the page shows: the phases awaiting approval and the token a decision needs."""

        def pending(engine: WorkflowEngine) -> list[dict[str, Any]]:
            views = []
            for session in pending_approvals(engine):
                view = pending_view(session)
                evidence = session.evidence.get(str(view["phase"]))
                text = json.dumps(evidence, indent=2, ensure_ascii=False)
                view["evidence_preview"] = text[:_EVIDENCE_PREVIEW_CHARS]
                view["evidence_truncated"] = len(text) > _EVIDENCE_PREVIEW_CHARS
                views.append(view)
            return views

        try:
            items: list[dict[str, Any]] = self._with_engine(pending)
            error = None
        except PosError as exc:  # the page still shows the metrics
            items, error = [], exc.message
        return {
            "pending": items,
            "error": error,
            "csrf_token": self.csrf_token,
            "default_approver": login_name(),
            "approve_url": f"{APPROVALS_PATH}/approve",
            "reject_url": f"{APPROVALS_PATH}/reject",
        }

    def routes(self, security: TransportSecuritySettings) -> list[Route]:
        """``POST /dashboard/approvals/approve`` and ``/reject``."""
        guard = TransportSecurityMiddleware(security)

        def endpoint(approving: bool) -> Callable[[Request], Any]:
            async def decide(request: Request) -> Response:
                refused = await guard.validate_request(request, is_post=True)
                if refused is not None:
                    return refused
                if not request.headers.get("origin"):
                    return _refuse(403, "a decision must come from the dashboard page (no Origin)")
                body = await _read_json(request)
                if isinstance(body, Response):
                    return body
                token = body.get("csrf_token")
                if not isinstance(token, str) or not hmac.compare_digest(
                    token.encode(), self.csrf_token.encode()
                ):
                    return _refuse(
                        403,
                        "the CSRF token is missing or wrong",
                        "Reload the dashboard page (the token changes when the dashboard "
                        "restarts) and decide again.",
                    )
                return await anyio.to_thread.run_sync(lambda: self._decide(approving, body))

            return decide

        return [
            Route(f"{APPROVALS_PATH}/approve", endpoint(True), methods=["POST"]),
            Route(f"{APPROVALS_PATH}/reject", endpoint(False), methods=["POST"]),
        ]

    def _decide(self, approving: bool, body: dict[str, Any]) -> Response:
        session_id, phase, by = body.get("session_id"), body.get("phase"), body.get("by")
        reason = body.get("reason") or None
        if isinstance(phase, bool) or not isinstance(phase, int):
            return _refuse(400, "phase must be a whole number")
        if not isinstance(by, str) or not by.strip():
            return _refuse(400, "the approver's name is required", "Fill in your name.")
        try:
            if approving:
                result = self._with_engine(
                    lambda e: e.approve_phase(session_id, phase, by=by, reason=reason)
                )
            else:
                result = self._with_engine(
                    lambda e: e.reject_phase(session_id, phase, by=by, reason=reason)
                )
        except PosError as exc:
            status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), 500)
            return _refuse(status, exc.message, error_type=exc.error_type)
        return JSONResponse(
            {
                "status": "success",
                "decision": "approved" if approving else "rejected",
                "session_id": session_id,
                "phase": phase,
                "by": by.strip(),
                "session_status": result.get("session_status"),
                "current_phase": result.get("current_phase"),
                "audit_entry": result.get("audit_entry"),
            },
            headers={"Cache-Control": "no-store"},
        )


def _refuse(
    status: int, message: str, remediation: str | None = None, *, error_type: str | None = None
) -> JSONResponse:
    payload = {"status": "error", "error": message}
    if remediation:
        payload["remediation"] = remediation
    if error_type:
        payload["error_type"] = error_type
    return JSONResponse(payload, status_code=status, headers={"Cache-Control": "no-store"})


async def _read_json(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, read up to :data:`MAX_DECISION_BYTES`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DECISION_BYTES:
        return _refuse(413, f"the request body is over {MAX_DECISION_BYTES} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_DECISION_BYTES:
                return _refuse(413, f"the request body is over {MAX_DECISION_BYTES} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        return _refuse(400, "the request body was cut short")
    try:
        body = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "the request body is not JSON", "Post a JSON object.")
    if not isinstance(body, dict):
        return _refuse(400, "the request body must be a JSON object")
    return body
