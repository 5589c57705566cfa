"""Dynamic workflows: the phases a session derives from a spec's tasks.md.

A dynamic :class:`~pos_engine.WorkflowDefinition` holds its static phases (the
last of them, phase 0 in practice, locates and plans the spec) and a
:class:`~pos_engine.DynamicConfig`. A session's :class:`~pos_engine.SpecPlan`
(frozen at start) supplies the rest: :func:`workflow_for` returns the workflow
as that session sees it, every phase a :class:`~pos_engine.PhaseDefinition`:

- the page is the phase template filled from the spec; each task's description
  the task template filled from it;
- the checkpoint is generated from the spec's tasks, acceptance criteria and
  validation gate (:mod:`pos_engine._spec_gates`), with its evidence_schema and an
  evidence_example, so an agent can pass it from the tool's answers alone;
- while a session has no plan yet (a migrated session whose spec was missing),
  the planning phase's checkpoint also asks for ``spec_path``; once it has one,
  that checkpoint's counts must equal the plan's.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ._definitions import (
    DynamicConfig,
    PhaseDefinition,
    TaskDefinition,
    WorkflowDefinition,
)
from ._models import PlanPhase, PlanTask, Session, SpecPlan
from ._spec_gates import bound_checkpoint, pending_checkpoint, phase_checkpoint
from ._tasks import TaskContent

__all__ = [
    "plan_summary",
    "render_template",
    "workflow_for",
    "workflow_of_session",
]

_POS_PLACEHOLDER = re.compile(r"\{([a-z][a-z_]{1,40})\}")
_LEGACY_PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]{1,40})(?:[ \t][^\]\n]{0,200})?\]")
_LEGACY_TASK_LINE = re.compile(r"- Task \[N\.\d{1,3}\]: \[Brief description\][ \t]*$")
_LEGACY_LIST_ALL = "[... list all tasks]"
_NO_GATE = "(The spec gives this phase no validation gate: the checkpoint asks for the tasks.)"


# --------------------------------------------------------------------- templates


def render_template(template: str, values: Mapping[str, str], placeholders: str) -> str:
    """Fill a template's placeholders from ``values``; unknown placeholders stay as written.

    Args:
        template: The markdown.
        values: Placeholder name (lower case, e.g. ``phase_name``) -> text.
        placeholders: ``pos`` for ``{phase_name}``, ``legacy`` for ``[PHASE_NAME]``
            (and ``[DEPENDENCIES or "None"]``, whose words after the name are a hint).
    """
    if placeholders == "legacy":
        lines = []
        listed = False
        for line in template.split("\n"):
            if _LEGACY_TASK_LINE.match(line.strip()) or line.strip() == _LEGACY_LIST_ALL:
                if not listed and "task_list" in values:
                    lines.append(values["task_list"])
                listed = True
                continue
            lines.append(line)
        text = "\n".join(lines).replace("{SPEC_DIR}", values.get("spec_dir", "{SPEC_DIR}"))
        return _LEGACY_PLACEHOLDER.sub(lambda m: values.get(m.group(1).lower(), m.group(0)), text)
    return _POS_PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _checklist(prefix: str, items: list[str]) -> str:
    return "\n".join(f"- [ ] `{prefix}{n}` {text}" for n, text in enumerate(items, start=1))


def _bullets(items: list[str], empty: str) -> str:
    return "\n".join(f"- {item}" for item in items) if items else empty


def _phase_values(plan: SpecPlan, phase: PlanPhase, number: int) -> dict[str, str]:
    gate = _checklist("g", phase.validation_gate) or _NO_GATE
    task_list = "\n".join(f"- Task {t.id} (task_number {t.number}): {t.title}" for t in phase.tasks)
    values = {
        "phase": str(number),
        "spec_phase": str(phase.number),
        "phase_name": phase.name,
        "phase_title": phase.title,
        "objective": phase.objective or phase.name,
        "estimate": phase.estimate or "unspecified",
        "timeframe": phase.timeframe or "unspecified",
        "dependencies": phase.dependencies or "None",
        "deliverables": _bullets(phase.deliverables, "(none listed)"),
        "validation_gate": gate,
        "task_count": str(len(phase.tasks)),
        "task_list": task_list,
        "next_phase": str(number + 1),
        "spec_path": plan.spec_path,
        "spec_title": plan.title or plan.spec_path,
        "spec_dir": plan.spec_path.rsplit("/", 1)[-1],
    }
    # The legacy vocabulary (praxis-style templates).
    values.update(
        phase_number=values["phase"],
        phase_description=values["objective"],
        estimated_duration=values["estimate"],
        next_phase_number=values["next_phase"],
    )
    return values


def _task_values(plan: SpecPlan, phase: PlanPhase, task: PlanTask, number: int) -> dict[str, str]:
    criteria = (
        _checklist("c", task.acceptance_criteria) or "(The spec lists no acceptance criteria.)"
    )
    steps = (
        "\n".join(f"{n}. {step}" for n, step in enumerate(task.steps, start=1))
        if task.steps
        else "Follow the task as the spec describes it (below), one acceptance criterion at a time."
    )
    spec_text = task.body or task.description or task.title
    values = {
        "task_id": task.id,
        "task_number": str(task.number),
        "task_title": task.title,
        "phase": str(number),
        "phase_name": phase.name,
        "priority": task.priority or "unspecified",
        "estimate": task.estimate or "unspecified",
        "dependencies": task.dependencies or "None",
        "description": task.description or task.title,
        "steps": steps,
        "acceptance_criteria": criteria,
        "spec_text": spec_text,
        "validation_command": task.validation_command or "(none given)",
        "next_task": str(task.number + 1),
        "spec_path": plan.spec_path,
        "spec_dir": plan.spec_path.rsplit("/", 1)[-1],
    }
    values.update(
        phase_number=values["phase"],
        task_name=task.title,
        estimated_time=values["estimate"],
        task_description=spec_text,
        task_steps=steps,
        next_task_number=values["next_task"],
    )
    return values


# ------------------------------------------------------------------ derived phases


def _steps(task: PlanTask) -> tuple[dict[str, Any], ...]:
    steps: list[dict[str, Any]] = [
        {"title": text, "command": None, "description": text, "expected_output": ""}
        for text in task.steps
    ]
    if not steps:
        steps = [
            {
                "title": f"Meet acceptance criterion c{n}",
                "command": None,
                "description": f"Make this true and check it: {text}",
                "expected_output": text,
            }
            for n, text in enumerate(task.acceptance_criteria, start=1)
        ]
    if not steps:
        steps = [
            {
                "title": task.title,
                "command": None,
                "description": task.description or f"Do task {task.id} as the spec describes it.",
                "expected_output": "",
            }
        ]
    if task.validation_command:
        steps.append(
            {
                "title": "Run the task's validation",
                "command": task.validation_command,
                "description": "Run the validation the spec gives for this task.",
                "expected_output": "The command succeeds.",
            }
        )
    return tuple({"step": n, **step} for n, step in enumerate(steps, start=1))


def _task_definition(
    config: DynamicConfig, plan: SpecPlan, phase: PlanPhase, task: PlanTask, number: int
) -> TaskDefinition:
    criteria = len(task.acceptance_criteria)
    answer = f" and criteria c1-c{criteria}" if criteria else ""
    content = TaskContent(
        number=task.number,
        title=task.title,
        estimated_duration=task.estimate or "unspecified",
        description=render_template(
            config.task_template, _task_values(plan, phase, task, number), config.placeholders
        ),
        execution_steps=_steps(task),
        artifacts_to_produce=(
            {
                "name": f"tasks/{task.id}",
                "description": f"The entry evidence.tasks[{task.id!r}] of complete_phase: done, "
                f"a note{answer}.",
            },
        ),
    )
    return TaskDefinition(
        number=task.number,
        name=task.id,
        file=f"{plan.spec_path}/{plan.tasks_file}#L{task.line}",
        content=content,
        spec=task,
    )


def _phase_definition(config: DynamicConfig, plan: SpecPlan, phase: PlanPhase) -> PhaseDefinition:
    number = plan.session_phase(phase.number)
    return PhaseDefinition(
        number=number,
        title=phase.name,
        purpose=phase.objective or phase.name,
        estimated_duration=phase.estimate,
        deliverables=tuple(phase.deliverables),
        content=render_template(
            config.phase_template, _phase_values(plan, phase, number), config.placeholders
        ),
        tasks=tuple(_task_definition(config, plan, phase, t, number) for t in phase.tasks),
        checkpoint=phase_checkpoint(phase, number),
        spec=phase,
    )


DERIVED_KEPT = 128
"""Workflows derived from plans kept in memory, most recently used first."""

_derived: OrderedDict[tuple[int, str, str], tuple[WorkflowDefinition, WorkflowDefinition]] = (
    OrderedDict()
)
_derived_lock = threading.Lock()


def workflow_for(
    definition: WorkflowDefinition, plan: SpecPlan | None, *, spec_guess: str = ""
) -> WorkflowDefinition:
    """Return ``definition`` as a session with ``plan`` sees it.

    A static workflow is returned as it is. For a dynamic one, the plan's phases
    follow the static phases up to ``plan.phase_offset``; without a plan, the
    planning phase's checkpoint also asks for ``spec_path`` (``spec_guess`` is
    its example value).

    Every action on a session derives its workflow, so the last ``DERIVED_KEPT``
    derived workflows are kept, by definition and plan: the phases, their
    checkpoints and what is cached on them are built once per plan, not per call.
    """
    config = definition.dynamic
    if config is None:
        return definition
    key = (
        id(definition),
        "" if plan is None else plan.model_dump_json(),
        spec_guess if plan is None else "",
    )
    with _derived_lock:
        kept = _derived.get(key)
        # The entry holds its definition, so no other definition can have its id.
        if kept is not None and kept[0] is definition:
            _derived.move_to_end(key)
            return kept[1]
    derived = _derive(definition, config, plan, spec_guess)
    with _derived_lock:
        _derived[key] = (definition, derived)
        while len(_derived) > DERIVED_KEPT:
            _derived.popitem(last=False)
    return derived


def _derive(
    definition: WorkflowDefinition, config: DynamicConfig, plan: SpecPlan | None, spec_guess: str
) -> WorkflowDefinition:
    if plan is None:
        static = list(definition.phases)
        last = static[-1]
        static[-1] = replace(
            last, checkpoint=pending_checkpoint(last.checkpoint, spec_guess, config.spec_option)
        )
        return replace(definition, phases=tuple(static))
    static = [p for p in definition.phases if p.number <= plan.phase_offset]
    static[-1] = replace(static[-1], checkpoint=bound_checkpoint(static[-1].checkpoint, plan))
    derived = tuple(_phase_definition(config, plan, phase) for phase in plan.phases)
    return replace(definition, phases=(*static, *derived))


def workflow_of_session(definition: WorkflowDefinition, session: Session) -> WorkflowDefinition:
    """Return ``definition`` as ``session`` sees it (its frozen plan's phases included)."""
    if definition.dynamic is None:
        return definition
    guess = session.options.get(definition.dynamic.spec_option)
    return workflow_for(
        definition,
        session.plan,
        spec_guess=guess if isinstance(guess, str) and guess else session.target_file,
    )


# ------------------------------------------------------------------------ reports


def plan_summary(session: Session) -> dict[str, Any] | None:
    """Return the ``plan`` field of responses: where the phases come from, or how to get them.

    None for a session of a static workflow. Reads the session alone (no definition).
    """
    if not session.dynamic:
        return None
    plan = session.plan
    if plan is None:
        planning = session.last_phase  # without a plan, the static phases are all there is
        return {
            "status": "pending",
            "message": (
                f"this session has no plan yet: send spec_path (the spec folder holding its "
                f"tasks.md) in the evidence of phase {planning}; its phases become phases "
                f"{planning + 1}, {planning + 2}, ... of this session"
            ),
        }
    return {
        "status": "planned",
        "spec_path": plan.spec_path,
        "tasks_file": plan.tasks_file,
        "sha256": plan.sha256,
        "found_by": plan.found_by,
        "planned_at": plan.planned_at,
        "phase_count": len(plan.phases),
        "task_count": plan.task_count,
        "phases": [
            {
                "phase": plan.session_phase(phase.number),
                "spec_phase": phase.number,
                "title": phase.name,
                "task_ids": [task.id for task in phase.tasks],
                "validation_gate_items": len(phase.validation_gate),
            }
            for phase in plan.phases
        ],
        "findings": list(plan.findings),
        "revisions": len(plan.revisions),
    }
