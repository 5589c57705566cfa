"""Find a session's spec, read its tasks.md and freeze it into a plan; compare plans.

Used at ``start`` of a dynamic workflow (the spec is ``options.<spec_option>``, else
``target_file``), when the planning phase of a session without a plan completes
(``evidence.spec_path`` first), on a deliberate re-plan (``retry_phase`` with
``replan=true``) and when a legacy session migrates (its spec may have moved:
see :func:`legacy_session_plan`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._definitions import WorkflowDefinition
from ._gates import GateResult
from ._models import PlanPhase, PlanRevision, Session, SpecPlan
from ._spec_tasks import parse_spec_tasks
from .exceptions import (
    DefinitionError,
    LimitError,
    NotFoundError,
    PosError,
    StateError,
    ValidationError,
)
from .guards import validate_target_file

__all__ = [
    "MAX_TASKS_BYTES",
    "SPECS_DIR",
    "build_plan",
    "plan_at_planning_phase",
    "plan_at_start",
    "plan_changes",
    "plan_on_completion",
    "replan",
    "set_plan",
    "spec_folder",
]

MAX_TASKS_BYTES = 1024 * 1024
"""Largest tasks.md read, in bytes."""

SPECS_DIR = ".praxis-os/specs"
"""Where praxis projects keep spec folders (searched for a moved spec on migration)."""


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def spec_folder(project_root: Path, value: object, *, name: str, tasks_file: str) -> str:
    """Return the spec folder that ``value`` names, relative to the project.

    ``value`` is a project-relative path of the spec folder or of its tasks file.

    Raises:
        ValidationError: the path is malformed or leads outside the project.
        NotFoundError: nothing is there, or the folder holds no ``tasks_file``.
    """
    try:
        relative = validate_target_file(value, project_root)
    except ValidationError as exc:
        raise type(exc)(
            exc.message.replace("target_file", name, 1),
            remediation=f"Pass {name} as the spec folder relative to the project root, e.g. "
            f"'{SPECS_DIR}/2025-10-20-my-feature'.",
        ) from None
    root = Path(project_root).resolve()
    path = root / relative
    if path.is_file() and path.name == tasks_file and path.parent != root:
        path = path.parent
    remediation = (
        f"Pass {name} naming a spec folder that holds {tasks_file} "
        f"('## Phase N: Name' sections with 'Task N.M' entries), relative to the project root."
    )
    if not path.is_dir():
        raise NotFoundError(
            f"{name} {value!r:.120} is not a folder of the project (no spec there)",
            remediation=remediation,
        )
    if not (path / tasks_file).is_file():
        raise NotFoundError(f"{name} {value!r:.120} holds no {tasks_file}", remediation=remediation)
    return _relative(path, root)


def _read_tasks(project_root: Path, folder: str, tasks_file: str) -> tuple[str, str]:
    """Return the text of ``folder/tasks_file`` and its sha256."""
    root = Path(project_root).resolve()
    shown = f"{folder}/{tasks_file}"
    path = (root / folder / tasks_file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFoundError(
            f"{shown} is not a file inside the project",
            remediation="Restore the spec's tasks file, or name another spec folder.",
        )
    with open(path, "rb") as handle:
        data = handle.read(MAX_TASKS_BYTES + 1)
    if len(data) > MAX_TASKS_BYTES:
        raise LimitError(
            f"{shown} is over {MAX_TASKS_BYTES // 1024} KiB; a plan is read from at most that",
            remediation="Split the spec, or move long material out of tasks.md into specs.md.",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            f"{shown} is not UTF-8 text", remediation="Save tasks.md as UTF-8 and retry."
        ) from None
    return text, hashlib.sha256(data).hexdigest()


def build_plan(
    project_root: Path, definition: WorkflowDefinition, folder: str, *, found_by: str, stamp: str
) -> SpecPlan:
    """Read and parse the spec in ``folder`` (project-relative) into a plan.

    Raises:
        DefinitionError: tasks.md is malformed; the message names the file and line.
        NotFoundError, LimitError, ValidationError: tasks.md cannot be read.
    """
    config = definition.dynamic
    assert config is not None  # noqa: S101 - only dynamic workflows are planned
    text, digest = _read_tasks(project_root, folder, config.tasks_file)
    try:
        parsed = parse_spec_tasks(text, name=config.tasks_file)
    except DefinitionError as exc:
        raise DefinitionError(
            f"{folder}/{exc.message}", remediation=exc.remediation, details=exc.details
        ) from None
    return SpecPlan(
        spec_path=folder,
        tasks_file=config.tasks_file,
        sha256=digest,
        title=parsed.title,
        found_by=found_by,
        phase_offset=definition.last_phase,
        planned_at=stamp,
        phases=list(parsed.phases),
        findings=list(parsed.findings),
    )


def plan_at_start(
    project_root: Path,
    definition: WorkflowDefinition,
    target_file: str,
    options: Mapping[str, Any],
    stamp: str,
) -> SpecPlan:
    """Plan a new session: the spec is ``options.<spec_option>``, else ``target_file``."""
    config = definition.dynamic
    assert config is not None  # noqa: S101 - only dynamic workflows are planned
    key = config.spec_option
    if options.get(key) is not None:
        name, value = f"options.{key}", options[key]
    else:
        name, value = "target_file", target_file
    folder = spec_folder(project_root, value, name=name, tasks_file=config.tasks_file)
    return build_plan(project_root, definition, folder, found_by=name, stamp=stamp)


def plan_at_planning_phase(
    project_root: Path,
    definition: WorkflowDefinition,
    session: Session,
    evidence: Mapping[str, Any],
    stamp: str,
) -> SpecPlan:
    """Plan a session that has none, as its planning phase completes.

    The spec is ``evidence.spec_path`` when sent; else ``options.<spec_option>``,
    else ``target_file`` (the first that holds a tasks file).

    Raises:
        PosError: no spec is found or it cannot be planned; the message says why.
    """
    config = definition.dynamic
    assert config is not None  # noqa: S101 - only dynamic workflows are planned
    sent = evidence.get("spec_path")
    if sent is not None:
        folder = spec_folder(
            project_root, sent, name="evidence.spec_path", tasks_file=config.tasks_file
        )
        return build_plan(
            project_root, definition, folder, found_by="evidence.spec_path", stamp=stamp
        )
    tried = []
    for name, value in (
        (f"options.{config.spec_option}", session.options.get(config.spec_option)),
        ("target_file", session.target_file),
    ):
        if value is None:
            continue
        try:
            folder = spec_folder(project_root, value, name=name, tasks_file=config.tasks_file)
        except (NotFoundError, ValidationError) as exc:
            tried.append(exc.message)
            continue
        return build_plan(project_root, definition, folder, found_by=name, stamp=stamp)
    raise NotFoundError(
        f"this session has no plan yet and no spec was found ({'; '.join(tried)})",
        remediation=f"Send spec_path in the evidence: the spec folder holding "
        f"{config.tasks_file}, relative to the project root.",
        details={"missing_evidence": ["spec_path"]},
    )


def set_plan(session: Session, plan: SpecPlan) -> None:
    """Freeze ``plan`` into ``session``: its phases follow the static ones."""
    session.plan = plan
    session.total_phases = plan.phase_offset - session.start_phase + 1 + len(plan.phases)


def plan_on_completion(
    project_root: Path,
    definition: WorkflowDefinition,
    session: Session,
    number: int,
    *,
    evidence: Mapping[str, Any],
    stamp: str,
) -> GateResult | None:
    """Plan a dynamic session whose planning phase ``number`` is completing without a plan.

    Returns:
        None when there was nothing to do or the plan is now in the session; else
        the failed checkpoint saying why (no spec found, or it does not parse).
    """
    if definition.dynamic is None or session.plan is not None or number != definition.last_phase:
        return None
    try:
        set_plan(
            session, plan_at_planning_phase(project_root, definition, session, evidence, stamp)
        )
    except PosError as exc:
        return GateResult(
            passed=False,
            missing_evidence=list(exc.details.get("missing_evidence", [])),
            validation_errors=[
                {"pointer": "/spec_path", "keyword": "plan", "message": exc.message}
            ],
        )
    return None


# ---------------------------------------------------------------------- re-plan


def _phase_changes(old: PlanPhase, new: PlanPhase) -> list[str]:
    n = new.number
    changes = []
    if old.title != new.title:
        changes.append(f"phase {n}: title {old.title!r} -> {new.title!r}")
    if old.validation_gate != new.validation_gate:
        changes.append(
            f"phase {n}: validation gate changed ({len(old.validation_gate)} -> "
            f"{len(new.validation_gate)} items)"
        )
    fields = ("objective", "estimate", "dependencies", "deliverables")
    changed = [f for f in fields if getattr(old, f) != getattr(new, f)]
    if changed:
        changes.append(f"phase {n}: {', '.join(changed)} changed")
    old_tasks = {t.id: t for t in old.tasks}
    new_tasks = {t.id: t for t in new.tasks}
    for task_id, task in old_tasks.items():
        if task_id not in new_tasks:
            changes.append(f"task {task_id} {task.title!r} removed")
    for task_id, task in new_tasks.items():
        before = old_tasks.get(task_id)
        if before is None:
            changes.append(f"task {task_id} {task.title!r} added")
            continue
        if before.title != task.title:
            changes.append(f"task {task_id}: title {before.title!r} -> {task.title!r}")
        if before.acceptance_criteria != task.acceptance_criteria:
            changes.append(
                f"task {task_id}: acceptance criteria changed "
                f"({len(before.acceptance_criteria)} -> {len(task.acceptance_criteria)})"
            )
        text = ("body", "steps", "description", "priority", "estimate", "dependencies")
        if any(getattr(before, f) != getattr(task, f) for f in text) and (
            before.title == task.title and before.acceptance_criteria == task.acceptance_criteria
        ):
            changes.append(f"task {task_id}: its text changed")
    return changes


def plan_changes(old: SpecPlan, new: SpecPlan) -> list[tuple[int, str]]:
    """Return what differs between two plans, as (spec phase, sentence) pairs, in order.

    Line numbers and checkbox states are not changes (ticking a box in tasks.md
    changes nothing a session relies on).
    """
    before = {p.number: p for p in old.phases}
    after = {p.number: p for p in new.phases}
    changes: list[tuple[int, str]] = []
    for number in sorted(before.keys() | after.keys()):
        if number not in after:
            changes.append((number, f"phase {number} {before[number].name!r} removed"))
        elif number not in before:
            phase = after[number]
            changes.append(
                (number, f"phase {number} {phase.name!r} added with {len(phase.tasks)} task(s)")
            )
        else:
            changes.extend((number, c) for c in _phase_changes(before[number], after[number]))
    return changes


def replan(
    project_root: Path, definition: WorkflowDefinition, session: Session, stamp: str
) -> tuple[SpecPlan, list[str]]:
    """Re-read the session's spec; return the new plan and what changed.

    The plan's spec folder is read again (a session without a plan is planned from
    ``options.<spec_option>`` or ``target_file``). Phases before the current one
    are done: a change there is refused.

    Raises:
        StateError: the spec changed in a phase before the current one.
        PosError: the spec cannot be read or parsed.
    """
    old = session.plan
    if old is None:
        plan = plan_at_planning_phase(project_root, definition, session, {}, stamp)
        return plan, [f"planned from {plan.found_by} {plan.spec_path!r}"]
    new = build_plan(
        project_root, definition, old.spec_path, found_by=old.found_by, stamp=old.planned_at
    )
    if new.sha256 == old.sha256:
        return old, []
    pairs = plan_changes(old, new)
    done = [
        (number, text)
        for number, text in pairs
        if old.session_phase(number) < session.current_phase
        or new.session_phase(number) < session.current_phase
    ]
    if done:
        earliest = min(old.session_phase(number) for number, _ in done)
        raise StateError(
            f"the spec changed in phase(s) before the current phase {session.current_phase}: "
            + "; ".join(text for _, text in done[:5])
            + (f" (+{len(done) - 5} more)" if len(done) > 5 else ""),
            remediation=f"A re-plan changes only the current phase and later ones. Roll back to "
            f"phase {earliest} first (rollback to_phase={earliest}), then retry_phase with "
            "replan=true; or revert the edit in tasks.md.",
            details={"changes": [text for _, text in pairs]},
        )
    if len(new.phases) + new.phase_offset < session.current_phase:  # pragma: no cover - a
        # removed phase before the current one is a change "done" refuses above
        raise StateError("the re-planned spec ends before the current phase")
    changes = [text for _, text in pairs] or ["the text of tasks.md changed; no phase or task did"]
    revisions = [*old.revisions, PlanRevision(at=stamp, sha256=new.sha256, changes=changes)]
    return new.model_copy(update={"revisions": revisions}), changes
