"""The files generated from the action table: the request contract and the docs' tables.

The published contract (``specs/pos_workflow/request.schema.json``), the action and
parameter tables of ``docs/actions.md``, the live input schema, the tool description
and the argument checks all come from one table: ``_actions.ACTIONS`` and
``_actions.PARAMETERS``. ``python scripts/contracts.py --write-generated`` rewrites the
files in :data:`GENERATED_FILES`; the contract gate and a test fail while one differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._actions import ACTIONS, GROUPS, PARAMETERS, VALID_ACTIONS

__all__ = [
    "GENERATED_FILES",
    "REQUEST_SCHEMA_ID",
    "actions_markdown",
    "parameters_markdown",
    "request_schema",
    "request_schema_text",
    "stale_generated_files",
]

REQUEST_SCHEMA_ID = "https://pos-workflow.dev/specs/pos_workflow/request.schema.json"


def _action_property() -> dict[str, Any]:
    groups = "; ".join(
        f"{group.capitalize()}: "
        + ", ".join(spec.name for spec in ACTIONS.values() if spec.group == group)
        for group in GROUPS
    )
    return {"description": f"What to do. {groups}.", "type": "string", "enum": list(VALID_ACTIONS)}


def _parameter_property(name: str) -> dict[str, Any]:
    parameter = PARAMETERS[name]
    # Null means "not given": some clients send every parameter.
    prop: dict[str, Any] = {"description": parameter.description, "type": [parameter.kind, "null"]}
    if parameter.enum:
        prop["enum"] = [*parameter.enum, None]
    prop.update(parameter.constraints)
    return prop


def _rule(action: str, parameters: list[str]) -> dict[str, Any]:
    """If ``action`` is chosen: its required parameters are present and not null; others null."""
    spec = ACTIONS[action]
    properties: dict[str, Any] = {name: {"not": {"type": "null"}} for name in spec.required}
    properties.update(
        {name: {"type": "null"} for name in parameters if name not in spec.parameters}
    )
    then: dict[str, Any] = {"required": list(spec.required)} if spec.required else {}
    then["properties"] = properties
    return {
        "if": {"properties": {"action": {"const": action}}, "required": ["action"]},
        "then": then,
    }


def request_schema() -> dict[str, Any]:
    """Return the JSON Schema (2020-12) of pos_workflow's arguments."""
    parameters = [name for name in PARAMETERS if name != "action"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": REQUEST_SCHEMA_ID,
        "title": "pos_workflow request",
        "description": (
            f"Arguments of the pos_workflow MCP tool. 'action' selects one of {len(ACTIONS)} "
            "actions; each action takes only its own parameters (x-parameters-by-action lists "
            "them; the allOf rules enforce them). Optional parameters may be left out or sent "
            "as null; a parameter the action does not use must be left out (or null). "
            "Generated from pos_tool's action table: do not edit by hand."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["action"],
        "properties": {
            "action": _action_property(),
            **{name: _parameter_property(name) for name in parameters},
        },
        "x-parameters-by-action": {
            spec.name: {"required": list(spec.required), "optional": list(spec.optional)}
            for spec in ACTIONS.values()
        },
        "allOf": [_rule(action, parameters) for action in ACTIONS],
    }


def request_schema_text() -> str:
    """Return the request schema as the file in specs/ holds it (indented, final newline)."""
    return json.dumps(request_schema(), indent=2, ensure_ascii=False) + "\n"


def _code(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "none"


def actions_markdown() -> str:
    """Return the docs' table of every action: group, parameters and what it answers."""
    lines = ["| action | group | requires | accepts | answers with |", "|---|---|---|---|---|"]
    for spec in ACTIONS.values():
        lines.append(
            f"| [`{spec.name}`](#{spec.name}) | {spec.group} | {_code(spec.required)} | "
            f"{_code(spec.optional)} | {spec.summary} |"
        )
    return "\n".join(lines) + "\n"


def _constraints(name: str) -> str:
    """The parameter's contract keywords, said in words."""
    parameter = PARAMETERS[name]
    if name == "action":
        return f"one of the {len(ACTIONS)} action names"
    rules = dict(parameter.constraints)
    said = [f"one of {_code(parameter.enum)}"] if parameter.enum else []
    if "pattern" in rules:
        said.append(f"matches `{rules.pop('pattern')}`")
    low, high = rules.pop("minLength", None), rules.pop("maxLength", None)
    if high is not None:
        said.append(f"{low}-{high} characters" if low else f"at most {high} characters")
    if "minimum" in rules:
        said.append(f"at least {rules.pop('minimum')}")
    said += [f"{key} `{json.dumps(value)}`" for key, value in rules.items()]
    return "; ".join(said)


def _without_users(description: str) -> str:
    """The description without its closing ``(action, ...)``: the table has a column for it."""
    head, paren, _ = description.rpartition(" (")
    return f"{head}." if paren and description.endswith(").") else description


def parameters_markdown() -> str:
    """Return the docs' table of every parameter: type, the actions using it, constraints."""
    lines = [
        "| parameter | type | used by | what it is | constraints |",
        "|---|---|---|---|---|",
    ]
    for name, parameter in PARAMETERS.items():
        users = tuple(spec.name for spec in ACTIONS.values() if name in spec.parameters)
        used_by = "every call" if name == "action" else _code(users)
        lines.append(
            f"| `{name}` | {parameter.kind} | {used_by} | {_without_users(parameter.description)} "
            f"| {_constraints(name)} |"
        )
    return "\n".join(lines) + "\n"


GENERATED_FILES: dict[str, Callable[[], str]] = {
    "specs/pos_workflow/request.schema.json": request_schema_text,
    "docs/examples/actions-table.md": actions_markdown,
    "docs/examples/parameters-table.md": parameters_markdown,
}
"""Each generated file (relative to the repository root) and what renders it."""


def stale_generated_files(root: Path) -> list[str]:
    """Return the generated files under ``root`` whose content differs from the table's."""
    stale = []
    for relative, render in GENERATED_FILES.items():
        path = root / relative
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != render():
            stale.append(relative)
    return stale
