"""The cutover plan: what changes, what the registry becomes, what must hold afterwards.

A plan is a JSON file validated against ``specs/cutover-plan.schema.json``
(shipped as ``pos_cutover/data/cutover-plan.schema.json``) and then checked for
consistency: the target registry names exactly the added and kept groups, none
of the removed ones, and no tool is both required and forbidden. The default
plan ships inside the package (``pos_cutover/data/default-plan.json``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pos_engine import schema_problems
from pos_tool import registry_schema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ._files import json_bytes
from .exceptions import PlanError

__all__ = [
    "DEFAULT_PLAN",
    "CutoverPlan",
    "default_plan",
    "load_plan",
    "plan_schema",
    "thresholds",
]

DEFAULT_PLAN = "pos_cutover/data/default-plan.json"
"""Where the default plan lives inside the installed package."""

_MAX_PROBLEMS = 10


def _data(name: str) -> str:
    return resources.files("pos_cutover").joinpath("data", name).read_text(encoding="utf-8")


@cache
def plan_schema() -> dict[str, Any]:
    """Return the cutover plan JSON Schema shipped inside the package."""
    schema: dict[str, Any] = json.loads(_data("cutover-plan.schema.json"))
    return schema


@cache
def thresholds() -> dict[str, Any]:
    """Return the performance thresholds (a copy of ``specs/thresholds.json``) shipped in the package."""
    data: dict[str, Any] = json.loads(_data("thresholds.json"))
    return data


@cache
def _validator() -> Draft202012Validator:
    tool_registry = registry_schema()
    refs: Registry = Registry().with_resource(
        tool_registry["$id"],
        Resource.from_contents(tool_registry, default_specification=DRAFT202012),
    )
    return Draft202012Validator(plan_schema(), registry=refs)


@dataclass(frozen=True)
class CutoverPlan:
    """A validated cutover plan.

    Attributes:
        name: Short name shown in progress output and the report.
        description: Why this cutover, for humans.
        remove_groups: Tool groups the cutover takes away.
        add_groups: Tool groups the cutover brings in.
        keep_groups: Tool groups present before and after.
        target_registry: The registry content written by ``apply``.
        expected_before: Tools listed before the cutover (a mismatch is a warning).
        expected_after: Tools listed after the cutover (a mismatch fails verification).
        present: Tools that must be listed after the cutover.
        absent: Tools that must be neither listed nor callable after the cutover.
        complete_workflows: Workflows verification drives to completion.
        workflow_types: Workflow types verification drives (empty: all listed).
        latency_samples: Extra list_workflows calls timed by verification.
        source: Where the plan came from (a path or :data:`DEFAULT_PLAN`).
    """

    name: str
    description: str
    remove_groups: tuple[str, ...]
    add_groups: tuple[str, ...]
    keep_groups: tuple[str, ...]
    target_registry: dict[str, Any]
    expected_before: int
    expected_after: int
    present: tuple[str, ...]
    absent: tuple[str, ...]
    complete_workflows: int = 3
    workflow_types: tuple[str, ...] = ()
    latency_samples: int = 10
    source: str = DEFAULT_PLAN

    @property
    def target_groups(self) -> tuple[str, ...]:
        """The groups the target registry names, in its order."""
        return tuple(self.target_registry["groups"])

    def target_bytes(self) -> bytes:
        """The exact bytes ``apply`` writes to the registry file."""
        return json_bytes(self.target_registry)

    def to_dict(self) -> dict[str, Any]:
        """Return the plan in its file format (without ``$schema``)."""
        return {
            "version": 1,
            "name": self.name,
            "description": self.description,
            "groups": {
                "remove": list(self.remove_groups),
                "add": list(self.add_groups),
                "keep": list(self.keep_groups),
            },
            "target_registry": self.target_registry,
            "expected_tools": {"before": self.expected_before, "after": self.expected_after},
            "tools": {"present": list(self.present), "absent": list(self.absent)},
            "verification": {
                "complete_workflows": self.complete_workflows,
                "workflow_types": list(self.workflow_types),
                "latency_samples": self.latency_samples,
            },
        }


def _consistency_problems(data: dict[str, Any]) -> list[str]:
    groups = data["groups"]
    remove, add, keep = (set(groups[k]) for k in ("remove", "add", "keep"))
    target = data["target_registry"]["groups"]
    problems = []
    for name, a, b in (("remove", remove, add), ("remove", remove, keep), ("add", add, keep)):
        other = "add" if b is add else "keep"
        both = sorted(a & b)
        if both:
            problems.append(f"/groups: {both} are in both {name!r} and {other!r}")
    if set(target) != add | keep:
        problems.append(
            f"/target_registry/groups: {target} must name exactly add + keep ({sorted(add | keep)})"
        )
    clash = sorted(set(data["tools"]["present"]) & set(data["tools"]["absent"]))
    if clash:
        problems.append(f"/tools: {clash} are both present and absent")
    return problems


def _from_dict(data: dict[str, Any], source: str) -> CutoverPlan:
    verification = data.get("verification", {})
    return CutoverPlan(
        name=data["name"],
        description=data.get("description", ""),
        remove_groups=tuple(data["groups"]["remove"]),
        add_groups=tuple(data["groups"]["add"]),
        keep_groups=tuple(data["groups"]["keep"]),
        target_registry=dict(data["target_registry"]),
        expected_before=data["expected_tools"]["before"],
        expected_after=data["expected_tools"]["after"],
        present=tuple(data["tools"]["present"]),
        absent=tuple(data["tools"]["absent"]),
        complete_workflows=verification.get("complete_workflows", 3),
        workflow_types=tuple(verification.get("workflow_types", ())),
        latency_samples=verification.get("latency_samples", 10),
        source=source,
    )


def parse_plan(text: str, source: str) -> CutoverPlan:
    """Parse and check a plan's JSON text.

    Raises:
        PlanError: The text is not JSON, breaks the schema or is inconsistent;
            the error lists every problem found.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            source, [f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"]
        ) from None
    problems = schema_problems(_validator(), data).lines()
    if not problems:
        problems = _consistency_problems(data)
    if problems:
        raise PlanError(source, problems[:_MAX_PROBLEMS])
    return _from_dict(data, source)


def default_plan() -> CutoverPlan:
    """Return the plan shipped inside the package (remove workflow_legacy, add workflow)."""
    return parse_plan(_data("default-plan.json"), DEFAULT_PLAN)


def load_plan(path: str | os.PathLike[str] | None = None) -> CutoverPlan:
    """Load the plan at ``path``, or the default plan when ``path`` is None.

    Raises:
        PlanError: The file cannot be read, is not JSON, breaks the schema or is inconsistent.
    """
    if path is None:
        return default_plan()
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise PlanError(
            source, [f"cannot be read ({reason})"], remediation="Check the --plan path."
        ) from None
    return parse_plan(text, source)
