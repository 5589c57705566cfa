"""Legacy (praxis-style) workflows and sessions in the cutover: pre-checks, migration, undo.

Projects that ran the earlier praxis-style server hold legacy workflow
definitions, which pos_engine reads as they are, and legacy session files at
``.praxis-os/.cache/state/<uuid>.json``, which no pos_workflow server reads.
This module plugs both into the cutover through its hooks; importing
pos_cutover registers them:

- pre-check ``legacy-definitions`` (:func:`check_legacy_definitions`): every
  finding of :func:`pos_engine.legacy_findings` (a validator expression that is
  never evaluated, metadata and gate disagreeing on required evidence, a
  non-strict gate, a phase with no gate, ...) and every workflow folder the engine
  cannot serve, each as a WARN with its file;
- pre-check ``legacy-sessions`` (:func:`check_legacy_sessions`): each legacy
  session file with what its conversion maps and what it does not, and whether
  it can be migrated (for a dynamic workflow, where its spec was found); changes
  nothing;
- migration step ``legacy-sessions`` (``pos_cutover._legacy_step``): ``apply``
  converts each file (:func:`pos_engine.convert_legacy_session_file`) and
  creates the session in the project's session store under the same id (the
  store the cutover was given, the file store or PostgreSQL, through the store
  API); ``rollback`` removes exactly the sessions it created.

The ledger ``legacy-migration.json`` in the backup folder records which ids the
migration created. An id is written to the ledger *before* its session is
created (and only when no session of that id exists), so a kill at any point,
also one between a session's insert into a database and the ledger's final
write, leaves a ledger that names every session the migration may have created
and no session it did not create. Hence:

- **idempotent**: a second run creates only what is missing; a session already
  in the store under the same id is reported as present and never overwritten;
- **additive**: the legacy files are read, never changed (the backup holds a
  copy of each); a file that cannot be converted is reported and skipped, and a
  session is written whole or not at all (``store.create`` is atomic); only ids
  the backup's store snapshot records as absent are created;
- **reversible**: ``undo`` restores the ledger's sessions to the backup's store
  snapshot (absent: deleted), never touching one the backup's inventory records;
  a migrated session that progressed after the cutover is first kept in the backup
  as a store snapshot (``rolled-back-sessions/<id>.json``, restorable with
  :meth:`pos_engine.SessionStore.restore`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pos_engine import (
    Session,
    SessionStore,
    WorkflowDefinition,
    WorkflowRegistry,
    convert_legacy_session_file,
    find_legacy_session_files,
    legacy_findings,
)

from ._backup import (
    LEGACY_STATE_DIR,
    Backup,
)
from ._checks import CheckContext, CheckResult, Finding, register_check
from ._files import json_bytes
from ._server import LiveServer
from ._store import StoreSetting
from .exceptions import StoreError

__all__ = [
    "LEGACY_MIGRATION_FILE",
    "STEP_NAME",
    "LegacyMigration",
    "LegacySessionFile",
    "MigratedSessionCheck",
    "check_legacy_definitions",
    "check_legacy_sessions",
    "check_migrated_sessions",
    "mark_duplicate",
    "mark_present",
    "read_legacy_migration",
    "spec_note",
    "survey_legacy_sessions",
    "surveyed_sessions",
    "write_ledger",
]

LEGACY_MIGRATION_FILE = "legacy-migration.json"
"""The migration's ledger, written into the backup folder."""

STEP_NAME = "legacy-sessions"
"""The name of the built-in migration step (and of the sessions pre-check)."""

Outcome = Literal["migrate", "migrated", "present", "not_migrated"]
"""migrate: would be migrated (pre-check). migrated: created in the store with its id.
present: a session with that id was in the store already (left as it is).
not_migrated: the file cannot be converted, or appeared after the backup (the reason is given)."""

_GATE_CODES = frozenset(
    {
        "unevaluated_validator",
        "evidence_mismatch",
        "non_strict_gate",
        "allow_override",
        "cross_field_validation",
        "undefined_validator",
        "empty_gate",
    }
)
_INDEXED = re.compile(r"(?P<key>phase_artifacts|checkpoints)\[(?P<n>\d+)\]")


# ----------------------------------------------------------------------- records


@dataclass
class LegacySessionFile:
    """What happens (or would happen) to one legacy session file.

    Attributes:
        source: The file's name.
        path: The file, relative to the project.
        outcome: See :data:`Outcome`.
        session_id: The session id (the file's uuid, lowercased), once known.
        workflow_type: The legacy workflow type, once known.
        status: The session's status after conversion (active, failed, completed).
        phase: The session's current phase after conversion.
        message: One sentence for the progress output and the report.
        report: The engine's conversion report (what mapped, what did not, warnings).
    """

    source: str
    path: str
    outcome: Outcome
    session_id: str | None = None
    workflow_type: str | None = None
    status: str | None = None
    phase: int | None = None
    message: str = ""
    report: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LegacySessionFile:
        """Rebuild a record from :meth:`to_dict` output."""
        return cls(**data)


@dataclass
class LegacyMigration:
    """The ledger of one cutover's legacy migration (``legacy-migration.json`` in its backup).

    Attributes:
        backup_id: The cutover's backup.
        created: Session ids the migration created (and a rollback removes).
        files: Every legacy session file and what happened to it.
        migrated_at: When the migration last ran.
        removed: Session ids the last rollback removed.
        kept: Backup files holding migrated sessions that had progressed when
            the rollback removed them.
        rolled_back_at: When the last rollback removed the sessions.
    """

    backup_id: str
    created: list[str] = field(default_factory=list)
    files: list[LegacySessionFile] = field(default_factory=list)
    migrated_at: str = ""
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    rolled_back_at: str = ""

    def count(self, outcome: Outcome) -> int:
        """How many files had ``outcome``."""
        return sum(1 for f in self.files if f.outcome == outcome)

    def to_dict(self) -> dict[str, Any]:
        """Return the ledger as a JSON-able dict."""
        data = asdict(self)
        data["version"] = 1
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LegacyMigration:
        """Rebuild a ledger from :meth:`to_dict` output."""
        return cls(
            backup_id=data["backup_id"],
            created=list(data["created"]),
            files=[LegacySessionFile.from_dict(f) for f in data["files"]],
            migrated_at=data.get("migrated_at", ""),
            removed=list(data.get("removed", [])),
            kept=list(data.get("kept", [])),
            rolled_back_at=data.get("rolled_back_at", ""),
        )


def read_legacy_migration(backup: Backup) -> LegacyMigration | None:
    """Return the legacy migration ledger of ``backup`` (None when no migration ran)."""
    path = backup.path / LEGACY_MIGRATION_FILE
    if not path.exists():
        return None
    return LegacyMigration.from_dict(json.loads(path.read_text(encoding="utf-8")))


def write_ledger(backup: Backup, ledger: LegacyMigration) -> None:
    backup.write_output(LEGACY_MIGRATION_FILE, json_bytes(ledger.to_dict()))


# ------------------------------------------------------------------------ survey


def surveyed_sessions(
    project: Path, spec_map: Mapping[str, str]
) -> list[tuple[LegacySessionFile, Session | None]]:
    """Convert every legacy session file (in memory; nothing is written)."""
    files = find_legacy_session_files(project)
    if not files:
        return []
    registry = WorkflowRegistry(project)
    found: list[tuple[LegacySessionFile, Session | None]] = []
    for path in files:
        session, report = convert_legacy_session_file(path, registry, spec_map=spec_map)
        record = LegacySessionFile(
            source=path.name,
            path=f"{LEGACY_STATE_DIR}/{path.name}",
            outcome="not_migrated",
            session_id=report.session_id,
            workflow_type=report.workflow_type,
            report=report.to_dict(),
        )
        if session is None:
            record.message = f"{path.name}: cannot be migrated: {report.error}"
        else:
            record.status, record.phase = session.status, session.current_phase
            record.outcome = "migrate"
        found.append((record, session))
    return found


def survey_legacy_sessions(
    project: Path,
    spec_map: Mapping[str, str] | None = None,
    store: StoreSetting | None = None,
    *,
    look_in_store: bool = True,
) -> list[LegacySessionFile]:
    """Return what a migration would do with each legacy session file; change nothing.

    ``spec_map`` (``--spec-map``) names the spec folder to use for a legacy session of a
    dynamic workflow whose spec folder moved or was renamed; ``store`` the session store
    the sessions would go to (default: the project's file store), which is not read with
    ``look_in_store=False`` (as if it held none of them).

    Raises:
        StoreError: The session store cannot be read.
    """
    surveyed = surveyed_sessions(project, spec_map or {})
    if not surveyed:
        return []
    if not look_in_store:
        return _survey_against(surveyed, None)
    with (store or StoreSetting()).existing(project) as opened:
        return _survey_against(surveyed, opened)


def _survey_against(
    surveyed: list[tuple[LegacySessionFile, Session | None]], store: SessionStore | None
) -> list[LegacySessionFile]:
    records = []
    seen: set[str] = set()
    for record, session in surveyed:
        if session is not None:
            sid = session.session_id
            if sid in seen:
                mark_duplicate(record, sid)
            elif store is not None and store.exists(sid):
                mark_present(record, sid)
            else:
                record.message = (
                    f"{record.source}: migrates to session {sid} ({record.workflow_type}), "
                    f"{record.status} at phase {record.phase}{spec_note(record)}"
                )
            seen.add(sid)
        records.append(record)
    return records


def spec_note(record: LegacySessionFile) -> str:
    """How the spec of a dynamic session was found, for its message ("" for static ones)."""
    spec = record.report.get("spec")
    if not spec:
        return ""
    if spec["how"] == "missing":
        return "; its spec was not found: it migrates without a plan (see the warning)"
    how = {"moved": "moved to", "mapped": "mapped by --spec-map to", "as named": "at"}[spec["how"]]
    return f"; spec {how} {spec['found']}"


def mark_present(record: LegacySessionFile, sid: str) -> None:
    record.outcome = "present"
    record.message = (
        f"{record.source}: session {sid} is already in the session store; "
        "it is left as it is (not overwritten)"
    )


def mark_duplicate(record: LegacySessionFile, sid: str) -> None:
    record.outcome = "not_migrated"
    record.message = (
        f"{record.source}: cannot be migrated: another legacy file already holds session {sid}"
    )


# ------------------------------------------------------------------------ checks


def _relative(project: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return path.name


def _definition_findings(project: Path, definition: WorkflowDefinition) -> list[Finding]:
    base = _relative(project, definition.path)
    findings = []
    for item in legacy_findings(definition):
        gate = f"{base}/phases/{item['phase']}/gate-definition.yaml"
        where = gate if item["code"] in _GATE_CODES else f"{base}/metadata.json"
        findings.append(Finding(item["message"], where))
    return findings


async def check_legacy_definitions(ctx: CheckContext) -> list[CheckResult]:
    """Report what legacy workflow definitions rely on that pos_workflow does not enforce."""
    registry = WorkflowRegistry(ctx.project)
    legacy = [d for d in registry.workflows() if d.format == "legacy"]
    bases = dict(registry.search_path)
    findings: list[Finding] = []
    for definition in legacy:
        findings += _definition_findings(ctx.project, definition)
    invalid = 0
    for problem in registry.problems():
        if problem.source == "bundled":  # pragma: no cover - the engine's own workflows load
            continue
        folder = _relative(ctx.project, bases[problem.source] / problem.workflow_folder)
        invalid += 1
        findings.append(
            Finding(
                f"workflow {problem.workflow_folder!r} cannot be served: {problem.message}", folder
            )
        )
    details: dict[str, Any] = {
        "legacy_workflows": [d.workflow_type for d in legacy],
        "findings": [f.to_dict() for f in findings],
        "invalid": invalid,
    }
    names = ", ".join(d.workflow_type for d in legacy)
    reason = f"{len(legacy)} legacy workflow(s)" + (f" ({names})" if names else "")
    if not findings:
        reason = (
            f"{reason}, served as written; nothing they declare goes unenforced"
            if legacy
            else "no legacy workflow definitions"
        )
        return [CheckResult("legacy-definitions", "PASS", reason, details=details)]
    reason += f": {len(findings)} finding(s)" + (f", {invalid} invalid" if invalid else "")
    return [
        CheckResult(
            "legacy-definitions",
            "WARN",
            reason,
            "Legacy workflows keep working as written, but what a finding names is not enforced "
            "as before: validator expressions are never evaluated (rewrite a rule that matters "
            "as JSON Schema: minimum, pattern, enum, ...), the gate wins over metadata.json's "
            "required_evidence, a non-strict gate passes with warnings, a phase with no gate "
            "passes any evidence (give it a gate-definition.yaml where that matters).",
            findings,
            details,
        )
    ]


def _mapped_summary(mapped: list[dict[str, str]]) -> str:
    """One line of what maps: renames shown, the entries of completed phases folded together."""
    parts: list[str] = []
    completed: list[str] = []
    kept_legacy = False
    checkpoints: list[str] = []
    for pair in mapped:
        source, target = pair["from"], pair["to"]
        match = _INDEXED.match(source)
        if match and match["key"] == "phase_artifacts" and target.startswith("artifacts["):
            if target.endswith(".legacy"):
                kept_legacy = True
            elif match["n"] not in completed:
                completed.append(match["n"])
        elif match and match["key"] == "checkpoints" and "failed" not in target:
            checkpoints.append(match["n"])
        else:
            parts.append(source if source == target else f"{source} -> {target}")
    if completed:
        legacy = " (their other fields under artifacts[n].legacy)" if kept_legacy else ""
        parts.append(f"phase_artifacts[{', '.join(completed)}] -> artifacts, evidence{legacy}")
    if checkpoints:
        parts.append(f"checkpoints[{', '.join(checkpoints)}] -> completed_phases, status")
    return "; ".join(parts)


def _session_findings(record: LegacySessionFile) -> list[Finding]:
    findings = [Finding(record.message.removeprefix(f"{record.source}: "), record.path)]
    report = record.report
    if record.outcome == "not_migrated":
        return findings
    mapped = _mapped_summary(report.get("mapped", []))
    if mapped:
        findings.append(Finding(f"  maps: {mapped}"))
    findings += [
        Finding(f"  does not map: {u['key']} ({u['reason']})") for u in report.get("unmapped", [])
    ]
    findings += [Finding(f"  warning: {w['message']}") for w in report.get("warnings", [])]
    return findings


async def check_legacy_sessions(ctx: CheckContext) -> list[CheckResult]:
    """List each legacy session file with what maps, what does not, and whether it migrates."""
    try:
        records = survey_legacy_sessions(ctx.project, ctx.spec_map, ctx.store)
    except StoreError:  # the session-store check says why; say what maps all the same
        records = survey_legacy_sessions(ctx.project, ctx.spec_map, look_in_store=False)
    details: dict[str, Any] = {"files": [r.to_dict() for r in records]}
    if not records:
        return [
            CheckResult(
                "legacy-sessions",
                "PASS",
                f"no legacy session files under {LEGACY_STATE_DIR}",
                details=details,
            )
        ]
    counts = {o: sum(1 for r in records if r.outcome == o) for o in ("migrate", "present")}
    failed = [r for r in records if r.outcome == "not_migrated"]
    warned = [r for r in records if r.report.get("warnings")]
    reason = (
        f"{len(records)} legacy session file(s) under {LEGACY_STATE_DIR}: "
        f"{counts['migrate']} to migrate, {counts['present']} already in the store, "
        f"{len(failed)} cannot be migrated"
    )
    findings = [f for r in records for f in _session_findings(r)]
    if not failed and not warned:
        return [CheckResult("legacy-sessions", "PASS", reason, "", findings, details)]
    return [
        CheckResult(
            "legacy-sessions",
            "WARN",
            reason + (f"; {len(warned)} with conversion warnings" if warned else ""),
            "A file that cannot be migrated stays as it is (the backup keeps a copy) and is "
            "skipped: fix what its finding names and run again (a session whose spec folder "
            "moved: --spec-map OLD=NEW), or finish that session on the legacy server. "
            "Conversion warnings do not stop the migration.",
            findings,
            details,
        )
    ]


# ------------------------------------------------------------------ verification


@dataclass
class MigratedSessionCheck:
    """How one migrated session answered through pos_workflow on the fresh server.

    Attributes:
        source: The legacy file.
        session_id: The session.
        workflow_type: Its workflow.
        status: Its status after the migration.
        phase: Its phase after the migration.
        current_phase: The phase get_state answered.
        get_state: get_state answered.
        get_phase: get_phase answered with the same phase.
        get_task: get_task answered for the first task of that phase.
        ok: All three answered.
        detail: What went wrong, or how the session moved on since the migration.
    """

    source: str
    session_id: str
    workflow_type: str
    status: str
    phase: int
    current_phase: int | None = None
    get_state: bool = False
    get_phase: bool = False
    get_task: bool = False
    ok: bool = False
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the check as a JSON-able dict."""
        return asdict(self)


def _error(payload: dict[str, Any], text: str) -> str:
    return str(payload.get("error") or text[:200])


async def _check_one(server: LiveServer, record: LegacySessionFile) -> MigratedSessionCheck:
    sid = str(record.session_id)
    check = MigratedSessionCheck(
        record.source, sid, str(record.workflow_type), str(record.status), int(record.phase or 0)
    )
    state = await server.pos_workflow("get_state", session_id=sid)
    check.get_state = state.ok
    if not state.ok:
        check.detail = f"get_state failed: {_error(state.payload, state.text)}"
        return check
    phase = state.payload.get("current_phase")
    status = state.payload.get("session_status")
    check.current_phase = phase if isinstance(phase, int) else None
    if (phase, status) != (check.phase, check.status):
        check.detail = (
            f"moved on since the migration ({check.status} at phase {check.phase} -> "
            f"{status} at phase {phase})"
        )
    got = await server.pos_workflow("get_phase", session_id=sid)
    content = got.payload.get("phase_content", {}) if got.ok else {}
    check.get_phase = got.ok and content.get("phase") == phase
    if not check.get_phase:
        check.detail = f"get_phase failed: {_error(got.payload, got.text)}"
        return check
    tasks = content.get("tasks") or [{}]
    number = tasks[0].get("task_number", 1)
    task = await server.pos_workflow("get_task", session_id=sid, phase=phase, task_number=number)
    check.get_task = task.ok
    if not task.ok:
        check.detail = f"get_task failed: {_error(task.payload, task.text)}"
        return check
    check.ok = True
    return check


async def check_migrated_sessions(server: LiveServer, backup: Backup) -> list[MigratedSessionCheck]:
    """Ask get_state, get_phase and get_task of every session the backup's migration created."""
    ledger = read_legacy_migration(backup)
    if ledger is None:
        return []
    return [
        await _check_one(server, record)
        for record in ledger.files
        if record.outcome == "migrated" and record.session_id in ledger.created
    ]


def _register() -> None:
    register_check("legacy-definitions", check_legacy_definitions)
    register_check("legacy-sessions", check_legacy_sessions)


_register()
