"""The checkpoints of a dynamic workflow's phases, generated from the spec's plan.

A derived phase asks for every task of the phase under ``tasks`` (``done``, a ``note``,
and ``criteria`` answering each acceptance criterion as ``c1``, ``c2``, ...: ``met`` true,
or false with a ``reason``) and every item of its validation gate under
``validation_gate`` (``g1``, ...). The planning phase asks for ``spec_path`` while the
session has no plan, and its integer ``phase_count``/``task_count`` fields must equal the
plan's once it has one.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ._definitions import Checkpoint
from ._evidence_schema import evidence_validator
from ._models import PlanPhase, PlanTask, SpecPlan

__all__ = [
    "PLAN_BOUND_FIELDS",
    "bound_checkpoint",
    "open_items",
    "pending_checkpoint",
    "phase_checkpoint",
]

PLAN_BOUND_FIELDS = ("phase_count", "task_count")
"""Integer fields of a planning checkpoint that must equal the plan's counts."""


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
        validator=evidence_validator(schema),
        labels=labels,
    )


def pending_checkpoint(checkpoint: Checkpoint, guess: str, spec_option: str) -> Checkpoint:
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
        validator=evidence_validator(schema),
        validation=checkpoint.validation
        + f" This session has no plan yet: also send spec_path, the spec folder whose tasks.md "
        f"gives the next phases (options.{spec_option} or target_file is tried when it is left "
        "out).",
    )


def bound_checkpoint(checkpoint: Checkpoint, plan: SpecPlan) -> Checkpoint:
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
        validator=evidence_validator(schema),
    )


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
