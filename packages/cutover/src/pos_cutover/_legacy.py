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
- migration step ``legacy-sessions`` (:data:`LEGACY_SESSIONS_STEP`): ``apply``
  converts each file (:func:`pos_engine.convert_legacy_session_file`) and
  creates the session in the project's store under the same id; ``rollback``
  removes exactly the sessions it created.

The ledger ``legacy-migration.json`` in the backup folder records which ids the
migration created. An id is written to the ledger *before* its session is
created (and only when no session of that id exists), so a kill at any point
leaves a ledger that names every session the migration may have created and no
session it did not create. Hence:

- **idempotent**: a second run creates only what is missing; a session already
  in the store under the same id is reported as present and never overwritten;
- **additive**: the legacy files are read, never changed (the backup holds a
  copy of each); a file that cannot be converted is reported and skipped, and a
  session is written whole or not at all (``store.create`` is atomic);
- **reversible**: ``undo`` deletes the ledger's sessions, never one the backup's
  state manifest records; a migrated session that progressed after the cutover
  is copied into the backup (``rolled-back-sessions/``) before it is deleted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pos_engine import (
    ConflictError,
    FileSessionStore,
    InternalError,
    NotFoundError,
    PosError,
    Session,
    WorkflowDefinition,
    WorkflowRegistry,
    convert_legacy_session_file,
    find_legacy_session_files,
    legacy_findings,
)

from ._backup import (
    LEGACY_COPY_DIR,
    LEGACY_STATE_DIR,
    Backup,
    session_ids,
    utc_stamp,
)
from ._checks import CheckContext, CheckResult, Finding, register_check
from ._files import json_bytes, sha256_file
from ._migrate import MigrationContext, MigrationOutcome, MigrationStep, register_migration_step
from ._server import LiveServer
from .exceptions import CutoverError

__all__ = [
    "LEGACY_MIGRATION_FILE",
    "LEGACY_SESSIONS_STEP",
    "ROLLED_BACK_DIR",
    "STEP_NAME",
    "STORE_DIR",
    "LegacyMigration",
    "LegacySessionFile",
    "MigratedSessionCheck",
    "check_legacy_definitions",
    "check_legacy_sessions",
    "check_migrated_sessions",
    "migrate_legacy_sessions",
    "read_legacy_migration",
    "survey_legacy_sessions",
    "undo_legacy_sessions",
]

STORE_DIR = ".praxis-os/state/workflows"
"""The project's session store (pos_engine's FileSessionStore), relative to the project."""

LEGACY_MIGRATION_FILE = "legacy-migration.json"
"""The migration's ledger, written into the backup folder."""

ROLLED_BACK_DIR = "rolled-back-sessions"
"""Where a rollback keeps migrated sessions that progressed after the cutover (in the backup)."""

STEP_NAME = "legacy-sessions"
"""The name of the built-in migration step (and of the sessions pre-check)."""

Outcome = Literal["migrate", "migrated", "present", "not_migrated"]
"""migrate: would be migrated (pre-check). migrated: created in the store with its id.
present: a session with that id was in the store already (left as it is).
not_migrated: the file cannot be converted (the reason is given)."""

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


def _write_ledger(backup: Backup, ledger: LegacyMigration) -> None:
    backup.write_output(LEGACY_MIGRATION_FILE, json_bytes(ledger.to_dict()))


# ------------------------------------------------------------------------ survey


def _in_store(project: Path, session_id: str) -> bool:
    """Whether the store holds a record of ``session_id`` (without opening the store)."""
    return (project / STORE_DIR / f"{session_id}.json").exists()


def _surveyed(
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
    project: Path, spec_map: Mapping[str, str] | None = None
) -> list[LegacySessionFile]:
    """Return what a migration would do with each legacy session file; change nothing.

    ``spec_map`` (``--spec-map``) names the spec folder to use for a legacy session of a
    dynamic workflow whose spec folder moved or was renamed.
    """
    surveyed = []
    seen: set[str] = set()
    for record, session in _surveyed(project, spec_map or {}):
        if session is not None:
            sid = session.session_id
            if sid in seen:
                _duplicate(record, sid)
            elif _in_store(project, sid):
                _present(record, sid)
            else:
                record.message = (
                    f"{record.source}: migrates to session {sid} ({record.workflow_type}), "
                    f"{record.status} at phase {record.phase}{_spec_note(record)}"
                )
            seen.add(sid)
        surveyed.append(record)
    return surveyed


def _spec_note(record: LegacySessionFile) -> str:
    """How the spec of a dynamic session was found, for its message ("" for static ones)."""
    spec = record.report.get("spec")
    if not spec:
        return ""
    if spec["how"] == "missing":
        return "; its spec was not found: it migrates without a plan (see the warning)"
    how = {"moved": "moved to", "mapped": "mapped by --spec-map to", "as named": "at"}[spec["how"]]
    return f"; spec {how} {spec['found']}"


def _present(record: LegacySessionFile, sid: str) -> None:
    record.outcome = "present"
    record.message = (
        f"{record.source}: session {sid} is already in the session store; "
        "it is left as it is (not overwritten)"
    )


def _duplicate(record: LegacySessionFile, sid: str) -> None:
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
    records = survey_legacy_sessions(ctx.project, ctx.spec_map)
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


# --------------------------------------------------------------- migration step


def _claims(
    project: Path, surveyed: Iterable[tuple[LegacySessionFile, Session | None]], before: set[str]
) -> list[str]:
    """Ids to create: converted, not in the store, not recorded by the backup, each once."""
    claims: list[str] = []
    for _, session in surveyed:
        if session is None:
            continue
        sid = session.session_id
        if sid not in claims and sid not in before and not _in_store(project, sid):
            claims.append(sid)
    return claims


def _create(store: FileSessionStore, record: LegacySessionFile, session: Session) -> bool:
    """Create the session; return False (and say why in ``record``) when it was not created."""
    sid = session.session_id
    try:
        store.create(session)
    except ConflictError:
        _present(record, sid)
        return False
    except InternalError as exc:  # the disk, not the data: stop the cutover
        raise CutoverError(
            f"cannot write migrated session {sid} ({record.source}): {exc.message}",
            remediation=exc.remediation,
        ) from None
    except PosError as exc:
        record.outcome = "not_migrated"
        record.message = f"{record.source}: cannot be migrated: {exc.message}"
        return False
    return True


def _summary(ledger: LegacyMigration, again: int) -> str:
    migrated = ledger.count("migrated")
    failed_sessions = sum(
        1 for f in ledger.files if f.outcome == "migrated" and f.status == "failed"
    )
    parts = [
        f"{migrated} of {len(ledger.files)} legacy session file(s) migrated into {STORE_DIR} "
        "with their ids"
        + (
            f" ({failed_sessions} failed checkpoint(s) kept as failed sessions)"
            if failed_sessions
            else ""
        )
    ]
    if again:
        parts.append(f"{again} of them by an earlier run of this cutover")
    if ledger.count("present"):
        parts.append(f"{ledger.count('present')} already in the store (not overwritten)")
    not_migrated = [f.source for f in ledger.files if f.outcome == "not_migrated"]
    if not_migrated:
        parts.append(f"{len(not_migrated)} not migrated ({', '.join(not_migrated)})")
    return "; ".join(parts) + "; the legacy files are unchanged"


def migrate_legacy_sessions(ctx: MigrationContext) -> MigrationOutcome:
    """Migrate each legacy session file into the project's store (``apply``'s step).

    Raises:
        CutoverError: A session cannot be written (disk, permissions): the cutover stops.
    """
    surveyed = _surveyed(ctx.project, ctx.spec_map)
    if not surveyed:
        return MigrationOutcome(STEP_NAME, f"no legacy session files under {LEGACY_STATE_DIR}")
    previous = read_legacy_migration(ctx.backup)
    before = set(session_ids(ctx.backup.state()))
    claimed = list(previous.created) if previous else []
    claimed += [sid for sid in _claims(ctx.project, surveyed, before) if sid not in claimed]
    ledger = LegacyMigration(ctx.backup.backup_id, claimed, migrated_at=utc_stamp())
    if previous is not None:
        ledger.removed, ledger.kept = previous.removed, previous.kept
        ledger.rolled_back_at = previous.rolled_back_at
    # Intent first: every id is in the ledger before its session can exist.
    _write_ledger(ctx.backup, ledger)
    store = FileSessionStore.from_project(ctx.project)
    created: list[str] = []
    again = 0
    done: set[str] = set()
    try:
        for record, session in surveyed:
            ledger.files.append(record)
            if session is None:
                continue
            sid = session.session_id
            if sid in done:
                _duplicate(record, sid)
            elif sid not in ledger.created:
                _present(record, sid)
            elif store.exists(sid):
                again += 1
                record.outcome = "migrated"
            elif _create(store, record, session):
                created.append(sid)
                record.outcome = "migrated"
            else:
                ledger.created.remove(sid)
            done.add(sid)
            if record.outcome == "migrated":
                record.message = (
                    f"{record.source}: migrated as session {sid} ({record.workflow_type}), "
                    f"{record.status} at phase {record.phase}{_spec_note(record)}"
                )
    finally:
        _write_ledger(ctx.backup, ledger)
    return MigrationOutcome(
        STEP_NAME, _summary(ledger, again), [f"{STORE_DIR}/{sid}.json" for sid in created]
    )


def _originals(backup: Backup, project: Path) -> list[str]:
    """The legacy files of the backup's state manifest that changed or vanished since."""
    changed = []
    for entry in backup.state()["files"]:
        if not entry["path"].startswith(LEGACY_STATE_DIR + "/"):
            continue
        path = project / entry["path"]
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            changed.append(entry["path"])
    return changed


def undo_legacy_sessions(ctx: MigrationContext) -> MigrationOutcome:
    """Remove exactly the sessions the migration created (``rollback``'s step).

    Never removes a session the backup's state manifest records. A migrated
    session that progressed after the cutover (its version is over 1) is copied
    into the backup under ``rolled-back-sessions/`` first.

    Raises:
        CutoverError: A session cannot be removed.
    """
    ledger = read_legacy_migration(ctx.backup)
    changed = _originals(ctx.backup, ctx.project)
    originals = (
        f"{ctx.backup.legacy_files} legacy session file(s) unchanged"
        if not changed
        else f"legacy files changed since the backup (the backup keeps their copies under "
        f"{LEGACY_COPY_DIR}/): {', '.join(changed)}"
    )
    if ledger is None or not ledger.created:
        return MigrationOutcome(STEP_NAME, f"no migrated legacy sessions to remove; {originals}")
    before = set(session_ids(ctx.backup.state()))
    folder = ctx.project / STORE_DIR
    store = FileSessionStore.from_project(ctx.project) if folder.is_dir() else None
    removed: list[str] = []
    kept: list[str] = []
    for sid in ledger.created:
        path = folder / f"{sid}.json"
        if sid in before or store is None:
            continue
        if not path.is_file():
            store.delete(sid)  # gone already: a killed rollback may have left its lock sidecar
            continue
        try:
            progressed = store.load(sid).version > 1
        except NotFoundError:  # pragma: no cover - removed between the check and the load
            continue
        except PosError:  # unreadable: keep what is there
            progressed = True
        try:
            if progressed:
                name = f"{ROLLED_BACK_DIR}/{sid}.json"
                ctx.backup.write_output(name, path.read_bytes())
                kept.append(name)
            store.delete(sid)
        except (PosError, OSError) as exc:
            raise CutoverError(
                f"cannot remove migrated session {sid}: {getattr(exc, 'message', None) or exc}",
                remediation=f"Remove {STORE_DIR}/{sid}.json by hand (the legacy file is unchanged).",
            ) from None
        removed.append(sid)
    ledger.removed, ledger.kept, ledger.created = removed, kept, []
    ledger.rolled_back_at = utc_stamp()
    _write_ledger(ctx.backup, ledger)
    message = f"removed {len(removed)} migrated legacy session(s)"
    if kept:
        message += (
            f" ({len(kept)} had progressed after the cutover: their last state is kept in the "
            f"backup under {ROLLED_BACK_DIR}/)"
        )
    return MigrationOutcome(
        STEP_NAME, f"{message}; {originals}", [f"{STORE_DIR}/{sid}.json" for sid in removed]
    )


LEGACY_SESSIONS_STEP = MigrationStep(
    STEP_NAME,
    migrate_legacy_sessions,
    undo_legacy_sessions,
    "migrate legacy session files (.praxis-os/.cache/state) into the session store",
)
"""The built-in migration step, registered when pos_cutover is imported."""


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
    register_migration_step(LEGACY_SESSIONS_STEP)


_register()
