"""Dynamic workflows: the phases a session derives from a spec's tasks.md.

A dynamic :class:`~pos_engine.WorkflowDefinition` holds its static phases (the
last of them, phase 0 in practice, locates and plans the spec) and a
:class:`~pos_engine.DynamicConfig`. A session's :class:`~pos_engine.SpecPlan`
(frozen at start) supplies the rest: :func:`workflow_for` returns the workflow
as that session sees it, every phase a :class:`~pos_engine.PhaseDefinition`:

- the page is the phase template filled from the spec; each task's description
  the task template filled from it;
- the checkpoint is generated: ``tasks`` must hold an entry per task of the phase
  (``done``, a ``note``, and ``criteria`` answering each acceptance criterion as
  ``c1``, ``c2``, ...: ``met`` true, or false with a ``reason``), and
  ``validation_gate`` must answer each item of the phase's Validation Gate
  (``g1``, ``g2``, ...) the same way. Its evidence_schema and evidence_example
  are generated, so an agent can pass it from the tool's answers alone;
- while a session has no plan yet (a migrated session whose spec was missing),
  the planning phase's checkpoint also asks for ``spec_path``;
- once it has one, integer ``phase_count``/``task_count`` fields of the planning
  phase's checkpoint must equal the plan's counts.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from jsonschema import Draft202012Validator

from ._definitions import (
    Checkpoint,
    DynamicConfig,
    PhaseDefinition,
    TaskDefinition,
    WorkflowDefinition,
)
from ._models import PlanPhase, PlanTask, Session, SpecPlan
from ._tasks import TaskContent

__all__ = [
    "PLAN_BOUND_FIELDS",
    "open_items",
    "phase_checkpoint",
    "plan_summary",
    "render_template",
    "workflow_for",
    "workflow_of_session",
]

PLAN_BOUND_FIELDS = ("phase_count", "task_count")
"""Integer fields of a planning checkpoint that must equal the plan's counts."""

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


# -------------------------------------------------------------------- checkpoints


def _answer(text: str) -> dict[str, Any]:
    return {
        "description": text,
        "type": "object",
        "required": ["met"],
        "properties": {
            "met": {"type": "boolean"},
            "reason": {
                "type": "string",
                "pattern": "\\S",
                "description": "Why it is not met (required when met is false).",
            },
        },
        "if": {"properties": {"met": {"const": False}}},
        "then": {"required": ["reason"]},
    }


def _answers(prefix: str, items: list[str]) -> dict[str, Any]:
    keys = [f"{prefix}{n}" for n in range(1, len(items) + 1)]
    return {
        "type": "object",
        "required": keys,
        "properties": {key: _answer(text) for key, text in zip(keys, items, strict=True)},
        "additionalProperties": False,
    }


def _task_schema(task: PlanTask) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "done": {"type": "boolean", "description": "Whether the task is finished."},
        "note": {
            "type": "string",
            "pattern": "\\S",
            "description": "What was done and where (files, commands, results), or why not.",
        },
    }
    required = ["done", "note"]
    if task.acceptance_criteria:
        properties["criteria"] = _answers("c", task.acceptance_criteria)
        required.append("criteria")
    return {
        "description": f"Task {task.id}: {task.title}",
        "type": "object",
        "required": required,
        "properties": properties,
    }


def _quote(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def phase_checkpoint(phase: PlanPhase, number: int) -> Checkpoint:
    """Return the generated checkpoint of a derived phase (see the module docstring)."""
    ids = [task.id for task in phase.tasks]
    tasks_schema = {
        "description": f"One entry per task of phase {number}: {', '.join(ids)}.",
        "type": "object",
        "required": ids,
        "properties": {task.id: _task_schema(task) for task in phase.tasks},
        "additionalProperties": False,
    }
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["tasks"],
        "properties": {"tasks": tasks_schema},
    }
    example: dict[str, Any] = {
        "tasks": {
            task.id: {
                "done": True,
                "note": f"What was done for task {task.id} and where.",
                **(
                    {
                        "criteria": {
                            f"c{n}": {"met": True}
                            for n in range(1, len(task.acceptance_criteria) + 1)
                        }
                    }
                    if task.acceptance_criteria
                    else {}
                ),
            }
            for task in phase.tasks
        }
    }
    labels = {"/tasks": f"evidence.tasks (tasks {', '.join(ids)})"}
    for task in phase.tasks:
        labels[f"/tasks/{task.id}"] = f"task {task.id} {_quote(task.title)}"
        for n, text in enumerate(task.acceptance_criteria, start=1):
            labels[f"/tasks/{task.id}/criteria/c{n}"] = (
                f"task {task.id} acceptance criterion c{n} {_quote(text)}"
            )
    required = ["tasks"]
    sentence = (
        f"List every task of phase {number} under tasks ({', '.join(ids)}), each with done "
        "(true or false), a note saying what was done and where, and criteria answering each "
        "acceptance criterion (c1, c2, ...) with met true, or met false and a reason"
    )
    gate = phase.validation_gate
    if gate:
        schema["properties"]["validation_gate"] = _answers("g", gate)
        schema["required"].append("validation_gate")
        required.append("validation_gate")
        example["validation_gate"] = {f"g{n}": {"met": True} for n in range(1, len(gate) + 1)}
        labels["/validation_gate"] = f"evidence.validation_gate (items g1-g{len(gate)})"
        for n, text in enumerate(gate, start=1):
            labels[f"/validation_gate/g{n}"] = f"validation gate item g{n} {_quote(text)}"
        sentence += (
            f"; answer each of the phase's {len(gate)} validation-gate items under "
            "validation_gate (g1, g2, ...) the same way"
        )
    return Checkpoint(
        required_evidence=tuple(required),
        evidence_schema=schema,
        validation=sentence + ". Other fields may be added.",
        evidence_example=example,
        validator=Draft202012Validator(schema),
        labels=labels,
    )


def _pending(checkpoint: Checkpoint, guess: str, spec_option: str) -> Checkpoint:
    """The planning checkpoint of a session without a plan: it also asks for spec_path."""
    schema = copy.deepcopy(checkpoint.evidence_schema)
    schema.setdefault("properties", {})["spec_path"] = {
        "type": "string",
        "minLength": 1,
        "description": "The spec folder (holding tasks.md), relative to the project: its "
        "phases become this session's next phases when this phase completes.",
    }
    required = [name for name in schema.get("required", []) if name != "spec_path"]
    schema["required"] = [*required, "spec_path"]
    example = {**checkpoint.evidence_example, "spec_path": guess}
    names = tuple(name for name in checkpoint.required_evidence if name != "spec_path")
    return replace(
        checkpoint,
        required_evidence=(*names, "spec_path"),
        evidence_schema=schema,
        evidence_example=example,
        validator=Draft202012Validator(schema),
        validation=checkpoint.validation
        + f" This session has no plan yet: also send spec_path, the spec folder whose tasks.md "
        f"gives the next phases (options.{spec_option} or target_file is tried when it is left "
        "out).",
    )


def _bound(checkpoint: Checkpoint, plan: SpecPlan) -> Checkpoint:
    """The planning checkpoint of a planned session: its counts must match the plan."""
    counts = {"phase_count": len(plan.phases), "task_count": plan.task_count}
    properties = checkpoint.evidence_schema.get("properties", {})
    bound = [
        name
        for name in PLAN_BOUND_FIELDS
        if isinstance(properties.get(name), dict) and properties[name].get("type") == "integer"
    ]
    if not bound:
        return checkpoint
    schema = copy.deepcopy(checkpoint.evidence_schema)
    example = dict(checkpoint.evidence_example)
    for name in bound:
        schema["properties"][name]["const"] = counts[name]
        example[name] = counts[name]
    return replace(
        checkpoint,
        evidence_schema=schema,
        evidence_example=example,
        validator=Draft202012Validator(schema),
    )


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


def workflow_for(
    definition: WorkflowDefinition, plan: SpecPlan | None, *, spec_guess: str = ""
) -> WorkflowDefinition:
    """Return ``definition`` as a session with ``plan`` sees it.

    A static workflow is returned as it is. For a dynamic one, the plan's phases
    follow the static phases up to ``plan.phase_offset``; without a plan, the
    planning phase's checkpoint also asks for ``spec_path`` (``spec_guess`` is
    its example value).
    """
    config = definition.dynamic
    if config is None:
        return definition
    if plan is None:
        static = list(definition.phases)
        last = static[-1]
        static[-1] = replace(
            last, checkpoint=_pending(last.checkpoint, spec_guess, config.spec_option)
        )
        return replace(definition, phases=tuple(static))
    static = [p for p in definition.phases if p.number <= plan.phase_offset]
    static[-1] = replace(static[-1], checkpoint=_bound(static[-1].checkpoint, plan))
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


def plan_summary(definition: WorkflowDefinition, session: Session) -> dict[str, Any] | None:
    """Return the ``plan`` field of responses: where the phases come from, or how to get them.

    None for a static workflow.
    """
    config = definition.dynamic
    if config is None:
        return None
    plan = session.plan
    if plan is None:
        planning = definition.last_phase
        return {
            "status": "pending",
            "message": (
                f"this session has no plan yet: send spec_path (the spec folder holding "
                f"{config.tasks_file}) in the evidence of phase {planning}; its phases become "
                f"phases {planning + 1}, {planning + 2}, ... of this session"
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


def open_items(phase: PlanPhase, evidence: Mapping[str, Any]) -> list[str]:
    """Return what passing evidence declares unfinished: tasks not done, items not met."""
    items: list[str] = []
    tasks = evidence.get("tasks")
    tasks = tasks if isinstance(tasks, dict) else {}
    for task in phase.tasks:
        entry = tasks.get(task.id)
        if not isinstance(entry, dict):
            continue
        if entry.get("done") is False:
            items.append(f"task {task.id} not done: {entry.get('note', '')}")
        items.extend(_unmet(f"task {task.id} criterion ", entry.get("criteria")))
    items.extend(_unmet("validation gate item ", evidence.get("validation_gate")))
    return items


def _unmet(prefix: str, answers: object) -> list[str]:
    if not isinstance(answers, dict):
        return []
    return [
        f"{prefix}{name} not met: {answer.get('reason', '')}"
        for name, answer in sorted(answers.items(), key=lambda kv: (len(kv[0]), kv[0]))
        if isinstance(answer, dict) and answer.get("met") is False
    ]
