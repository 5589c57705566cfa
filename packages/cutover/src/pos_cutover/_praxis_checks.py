"""Pre-checks of a praxis-os project: the praxis server, its clients, the agent instructions, the verdict.

Registered when pos_cutover is imported (after the legacy checks), all reading
one :func:`~pos_cutover._survey.survey` of the project:

- ``praxis-server``: which tool groups the praxis server keeps (config.json) and,
  when it is removed, which tools agents lose;
- ``clients``: every client config entry that launches or reaches the praxis
  server and what the cutover changes in each file;
- ``agent-instructions``: old tool mentions, one line per file with a count
  (``--verbose`` prints every one; ``--rewrite-instructions`` rewrites them);
- ``surface``: whether the project is still on the old surface, in the words
  ``run`` uses to decide whether there is anything to do.
"""

from __future__ import annotations

from typing import Any

from ._changes import FileChange
from ._checks import CheckContext, CheckResult, CheckStatus, Finding, register_check
from ._clients import NEW_ENTRY
from ._instructions import group_mentions
from ._praxis import PRAXIS_CONFIG, PRAXIS_WORKFLOW_GROUP
from ._scan import scan_project
from ._store import STORE_ENV
from ._survey import Survey, survey

__all__ = [
    "check_clients",
    "check_instructions",
    "check_praxis_server",
    "check_surface",
    "project_survey",
]


def project_survey(ctx: CheckContext) -> Survey:
    """The survey of the context's project, made once per check run."""
    found = ctx.cache.get("survey")
    if not isinstance(found, Survey):
        found = survey(ctx.project, ctx.plan, ctx.options, ctx.store)
        ctx.cache["survey"] = found
    return found


async def check_praxis_server(ctx: CheckContext) -> list[CheckResult]:
    """The praxis server loses its workflow group and keeps the others (or is removed by choice)."""
    s = project_survey(ctx)
    praxis = s.praxis
    details: dict[str, Any] = {
        "config": PRAXIS_CONFIG,
        "exists": praxis.exists,
        "groups": list(praxis.groups),
        "explicit": praxis.explicit,
        "mode": s.mode,
        "lost_tools": s.lost_tools,
    }
    if not s.praxis_found:
        return [
            CheckResult(
                "praxis-server", "PASS", "no praxis-os server in this project", details=details
            )
        ]
    if s.config_error:
        return [
            CheckResult(
                "praxis-server",
                "FAIL",
                f"{s.config_error}; the praxis server would fall back to its default groups, "
                f"{PRAXIS_WORKFLOW_GROUP} included",
                f"Fix {PRAXIS_CONFIG} (valid JSON, mcp.enabled_tool_groups a list of names), then run again.",
                details=details,
            )
        ]
    kept = list(praxis.kept_groups)
    if s.config is not None:
        change = "; ".join(s.config.summary)
    elif praxis.workflow_enabled:
        change = f"{PRAXIS_CONFIG} unchanged: {PRAXIS_WORKFLOW_GROUP} is its only group"
    else:
        change = f"{praxis.describe()}: the workflow group is off already"
    if s.lost_tools:
        return [
            CheckResult(
                "praxis-server",
                "WARN",
                f"--remove-praxis-server: clients stop launching the praxis server; agents lose "
                f"{', '.join(s.lost_tools)} (groups {kept}); {change}",
                "To keep them, cut over without --remove-praxis-server: the praxis server then stays "
                f"registered with {kept} only.",
                details=details,
            )
        ]
    kept_text = (
        f"keeps serving {kept} (agents keep those tools)"
        if kept and s.mode == "keep"
        else "is no longer launched by the clients (no other group to serve)"
    )
    return [
        CheckResult(
            "praxis-server", "PASS", f"the praxis server {kept_text}; {change}", details=details
        )
    ]


def _store_notes(ctx: CheckContext, changes: list[FileChange]) -> list[str]:
    """On a store other than the project's file store: the entries that launch pos-workflow."""
    if ctx.store.url is None:
        return []
    stdio = [
        f"{change.path}: {entry.get('name')}"
        for change in changes
        for entry in change.entries
        if entry.get("transport") == "stdio"
    ]
    return [
        f"{entry} launches pos-workflow, which serves the project's file store unless the IDE "
        f"starts it with {STORE_ENV} set to {ctx.store.shown()}: set it in the IDE's environment, "
        "or reach a server on that store over HTTP (--client-transport same, --http-url)"
        for entry in stdio
    ]


async def check_clients(ctx: CheckContext) -> list[CheckResult]:
    """Every client config that launches or reaches the praxis server, and how it is rewritten."""
    s = project_survey(ctx)
    clients = s.clients
    details: dict[str, Any] = {
        "entries": [e.to_dict() for e in clients.entries],
        "user_entries": [e.to_dict() for e in clients.user_entries],
        "changes": [c.record() for c in clients.changes],
        "client_command": list(s.options.command()),
    }
    findings = [
        Finding(f"{change.path}: {'; '.join(change.summary)}") for change in clients.changes
    ]
    findings += [Finding(f"{e.name} {e.reason}", e.file) for e in clients.entries]
    notes = list(clients.notes)
    notes += [
        f"{e.file}: {e.name} {e.reason}; the cutover changes nothing outside the project: add a "
        f"{NEW_ENTRY} entry there by hand (see the runbook's Step 0)"
        for e in clients.user_entries
    ]
    notes += _store_notes(ctx, clients.changes)
    command = s.options.command()[0]
    if "/uv/archive-v" in command or "/uv/builds-v" in command:
        notes.append(
            f"the client command {command} lies in uv's cache, which `uv cache clean` removes; "
            "pass --client-command with a lasting path"
        )
    if clients.problems:
        return [
            CheckResult(
                "clients",
                "FAIL",
                f"{len(clients.problems)} client config(s) cannot be rewritten safely",
                "Fix the file named (it must be JSON; comments are allowed), then run again.",
                [*[Finding(p) for p in clients.problems], *findings],
                details,
            )
        ]
    if not clients.entries and not clients.changes:
        reason = "no client config launches or reaches the praxis server"
        status: CheckStatus = "WARN" if notes else "PASS"
        return [CheckResult("clients", status, reason, "; ".join(notes), findings, details)]
    files = sorted({e.file for e in clients.entries})
    reason = f"{len(clients.entries)} praxis entr(y/ies) in {', '.join(files)}; " + (
        f"{len(clients.changes)} file(s) to rewrite" if clients.changes else "nothing to rewrite"
    )
    if notes:
        return [
            CheckResult(
                "clients",
                "WARN",
                reason + f"; {len(notes)} note(s)",
                " ".join(notes),
                findings,
                details,
            )
        ]
    return [CheckResult("clients", "PASS", reason, "", findings, details)]


async def check_instructions(ctx: CheckContext) -> list[CheckResult]:
    """Old tool names in what agents read: one finding per file, every mention in the details."""
    mentions = scan_project(ctx.project)
    details: dict[str, Any] = {"mentions": [m.to_dict() for m in mentions]}
    if not mentions:
        return [
            CheckResult(
                "agent-instructions",
                "PASS",
                "no old tool names in agent instructions",
                details=details,
            )
        ]
    grouped = group_mentions(mentions)
    rewrite = ctx.options.rewrite_instructions
    reason = f"{len(mentions)} mention(s) of old tools in {len(grouped)} file(s)" + (
        ": the cutover rewrites them (--rewrite-instructions)"
        if rewrite
        else ": agents would call tools that are gone"
    )
    remediation = (
        "Mentions left for a human (no single pos_workflow call) are listed in the report."
        if rewrite
        else "Run with --rewrite-instructions to rewrite them as pos_workflow calls (backed up, "
        "undone by a rollback), or rewrite them by hand (the migration guide's table); "
        "--verbose lists every mention."
    )
    findings = [Finding(g.summary(), g.file) for g in grouped]
    return [CheckResult("agent-instructions", "WARN", reason, remediation, findings, details)]


async def check_surface(ctx: CheckContext) -> list[CheckResult]:
    """Whether the project is still on the old surface, as ``run`` decides it."""
    s = project_survey(ctx)
    pending = s.pending()
    details: dict[str, Any] = {
        "pending": pending,
        "unmigratable": [r.source for r in s.unmigratable],
        "files": [c.path for c in s.changes],
    }
    unmigrated = (
        f"; {len(s.unmigratable)} legacy session(s) cannot be migrated (see legacy-sessions): "
        "the verdict will be partial"
        if s.unmigratable
        else ""
    )
    if not pending:
        return [
            CheckResult(
                "surface", "PASS", f"already cut over: nothing to do{unmigrated}", details=details
            )
        ]
    return [
        CheckResult(
            "surface",
            "PASS",
            f"on the old surface: {'; '.join(pending)}{unmigrated}",
            details=details,
        )
    ]


def _register() -> None:
    register_check("praxis-server", check_praxis_server)
    register_check("clients", check_clients)
    register_check("agent-instructions", check_instructions)
    register_check("surface", check_surface)


_register()
