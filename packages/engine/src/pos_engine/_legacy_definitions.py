"""Legacy (praxis-style) workflow definitions, read beside our own format.

A legacy workflow folder holds a ``metadata.json`` whose phases carry
``phase_number``/``phase_name`` (and usually ``total_phases``), free-form task
markdown files and, per phase, an optional ``gate-definition.yaml``. The folder
is read, never rewritten, and mapped onto the same :class:`WorkflowDefinition`
types as our format, with ``format="legacy"``:

- ``phase_name`` becomes the title, ``estimated_effort`` the estimated duration,
  ``key_deliverables`` the deliverables;
- task files are parsed leniently (:func:`parse_legacy_task`): free-form markdown
  never fails, a missing task file does;
- tasks are served as 1..N in the order of their ``task_number`` (a workflow
  numbering them from 0 is reported by :func:`legacy_findings`);
- a gate's ``evidence_schema`` becomes a JSON Schema (boolean, integer, string,
  object/dict, list/array, number); ``required`` fields become required evidence;
  the gate wins over metadata's ``required_evidence`` and any disagreement is
  recorded; a phase without a gate requires metadata's names; a phase with
  neither lets any evidence pass and is reported (``no_gate``);
- validator expressions are code and are NEVER evaluated, compiled or parsed:
  their names and text are kept for display and reported as findings;
- ``strict: false`` gates let a failing phase pass with recorded warnings
  (see ``WorkflowEngine.complete_phase``); strict gates behave like ours;
- dynamic workflows (``total_phases: "dynamic"`` or ``dynamic_phases: true``)
  load their phases with an integer ``phase_number`` as static phases, and their
  ``dynamic_config`` (``source_type: spec_tasks_md``, ``source_path_key``, the
  phase and task templates) as a :class:`DynamicConfig` with ``[PLACEHOLDER]``
  templates: sessions derive the other phases from a spec's tasks.md.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from ._bounded import BoundedInputError, parse_yaml_bounded
from ._definitions import (
    Checkpoint,
    DynamicConfig,
    PhaseDefinition,
    Source,
    TaskDefinition,
    UnevaluatedValidator,
    WorkflowDefinition,
    checkpoint_validator,
    read_template,
)
from ._definitions import read_definition_file as _read
from ._evidence_schema import capped_errors
from ._legacy_tasks import parse_legacy_task
from .exceptions import DefinitionError

__all__ = [
    "GATE_FILE",
    "LEGACY_GATE_SCHEMA",
    "LEGACY_METADATA_SCHEMA",
    "is_legacy_metadata",
    "legacy_findings",
    "load_legacy_definition",
]

GATE_FILE = "gate-definition.yaml"

_FIELD_TYPES: dict[str, str] = {
    "boolean": "boolean",
    "integer": "integer",
    "number": "number",
    "string": "string",
    "object": "object",
    "dict": "object",
    "list": "array",
    "array": "array",
}
"""Legacy gate field type -> JSON Schema type. JSON Schema's integer rejects booleans."""

_EXAMPLE_VALUES: dict[str, Any] = {
    "boolean": True,
    "integer": 1,
    "number": 1,
    "string": "example",
    "object": {},
    "array": ["example"],
}

_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

LEGACY_METADATA_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "legacy (praxis-style) workflow metadata.json",
    "type": "object",
    "required": ["workflow_type", "version", "name", "description", "phases"],
    "properties": {
        "workflow_type": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,63}$"},
        "version": {"type": "string", "minLength": 1},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "category": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,63}$"},
        "author": {"type": "string"},
        "total_phases": {"type": "integer", "minimum": 1},
        "estimated_duration": {"type": "string"},
        "primary_outputs": {"type": "array", "items": {"type": "string"}},
        "start_phase": {"type": "integer", "minimum": 0},
        "dynamic_phases": {"type": "boolean"},
        "phases": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/phase"}},
    },
    "$defs": {
        "phase": {
            "type": "object",
            "required": ["phase_number", "phase_name", "tasks"],
            "properties": {
                "phase_number": {"type": "integer", "minimum": 0},
                "phase_name": {"type": "string", "minLength": 1},
                "phase_file": {"type": "string", "minLength": 1},
                "purpose": {"type": "string"},
                "estimated_effort": {"type": "string"},
                "key_deliverables": {"type": "array", "items": {"type": "string"}},
                "validation_criteria": {"type": "array", "items": {"type": "string"}},
                "checkpoint": {
                    "type": "object",
                    "properties": {
                        "required_evidence": {
                            "type": "array",
                            "items": {"type": "string", "pattern": _NAME},
                            "uniqueItems": True,
                        }
                    },
                },
                "tasks": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/task"}},
            },
        },
        "task": {
            "type": "object",
            "required": ["task_number", "name"],
            "anyOf": [{"required": ["file"]}, {"required": ["phase_file"]}],
            "properties": {
                "task_number": {"type": "integer", "minimum": 0},
                "name": {"type": "string", "minLength": 1},
                "file": {"type": "string", "minLength": 1},
                "phase_file": {"type": "string", "minLength": 1},
            },
        },
    },
}
"""The legacy metadata shape the engine relies on; other keys are allowed and ignored."""

LEGACY_GATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "legacy gate-definition.yaml",
    "type": "object",
    "required": ["evidence_schema"],
    "properties": {
        "checkpoint": {
            "type": ["object", "null"],
            "properties": {
                "strict": {"type": "boolean"},
                "allow_override": {"type": "boolean"},
            },
        },
        "evidence_schema": {
            "type": "object",
            "propertyNames": {"type": "string", "pattern": _NAME},
            "additionalProperties": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"enum": sorted(_FIELD_TYPES)},
                    "required": {"type": "boolean"},
                    "description": {"type": "string"},
                    "validator": {"type": "string", "minLength": 1},
                },
            },
        },
        "validators": {
            "type": ["object", "null"],
            "propertyNames": {"type": "string"},
            "additionalProperties": {"type": "string"},
        },
    },
}
"""The gate-definition.yaml shape; ``cross_field_validation`` and other keys are kept unevaluated."""

LEGACY_DYNAMIC_CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "legacy dynamic_config of a dynamic workflow",
    "type": "object",
    "required": ["source_type", "templates"],
    "properties": {
        "source_type": {"const": "spec_tasks_md"},
        "source_path_key": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
        "templates": {
            "type": "object",
            "required": ["phase", "task"],
            "properties": {
                "phase": {"type": "string", "minLength": 1},
                "task": {"type": "string", "minLength": 1},
            },
        },
    },
}
"""The ``dynamic_config`` a dynamic legacy workflow needs; ``parser`` and other keys are ignored."""

_METADATA_VALIDATOR = Draft202012Validator(LEGACY_METADATA_SCHEMA)
_DYNAMIC_VALIDATOR = Draft202012Validator(LEGACY_DYNAMIC_CONFIG_SCHEMA)
_GATE_VALIDATOR = Draft202012Validator(LEGACY_GATE_SCHEMA)


def is_legacy_metadata(metadata: object) -> bool:
    """Return True when a parsed ``metadata.json`` is in the legacy format.

    Our schema forbids unknown keys, so ``total_phases``, ``dynamic_phases`` or a
    phase item carrying ``phase_number`` can only mean the legacy format.
    """
    if not isinstance(metadata, dict):
        return False
    if "total_phases" in metadata or "dynamic_phases" in metadata:
        return True
    phases = metadata.get("phases")
    return isinstance(phases, list) and any(
        isinstance(p, dict) and "phase_number" in p for p in phases
    )


def _pointer(path: Any) -> str:
    return "/" + "/".join(str(part) for part in path)


def _first_error(
    validator: Draft202012Validator, instance: Any, where: str, *, field_prefix: str = ""
) -> None:
    """Raise a DefinitionError for the first schema error; its field is ``field_prefix`` + pointer."""
    errors = capped_errors(validator, instance, shown=1)
    if errors.errors:
        first = errors.errors[0]
        pointer = _pointer(first.absolute_path) if first.absolute_path else ""
        raise DefinitionError(
            f"{where}{pointer}: {first.message[:300]}",
            details={"field": f"{field_prefix}{pointer}" or "/", "error_count": errors.total},
        )


def _inside(folder: Path, *candidates: Path) -> Path | None:
    """Return the first candidate that exists inside ``folder`` (no escape by .. or symlink)."""
    root = folder.resolve()
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.is_relative_to(root) and resolved.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------------- gates


def _load_gate(path: Path, folder: Path) -> dict[str, Any]:
    rel = path.relative_to(folder).as_posix()
    try:
        # Plain data only (safe tags: no objects, nothing executed), no aliases, bounded depth.
        gate = parse_yaml_bounded(_read(path, folder))
    except BoundedInputError as exc:
        raise DefinitionError(f"{rel} {exc}", details={"field": rel}) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise DefinitionError(
            f"{rel} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc.__class__.__name__}",
            details={"field": rel},
        ) from exc
    _first_error(_GATE_VALIDATOR, gate, rel, field_prefix=rel)
    result: dict[str, Any] = gate
    return result


def _validators_of(
    fields: dict[str, dict[str, Any]], validators: dict[str, str], rel: str
) -> tuple[list[UnevaluatedValidator], list[tuple[str, str]]]:
    found: list[UnevaluatedValidator] = []
    notes: list[tuple[str, str]] = []
    for name, spec in fields.items():
        ref = spec.get("validator")
        if ref is None:
            continue
        if ref in validators:
            found.append(UnevaluatedValidator(name, ref, validators[ref]))
        elif re.fullmatch(_NAME, ref):
            found.append(UnevaluatedValidator(name, ref, None))
            notes.append(
                (
                    "undefined_validator",
                    f"{rel}: field {name!r} names validator {ref!r}, which the gate's "
                    "validators section does not define",
                )
            )
        else:  # an inline expression in place of a name
            found.append(UnevaluatedValidator(name, "<inline>", ref))
    return found, notes


def _gate_checkpoint(
    gate: dict[str, Any], metadata_names: list[str] | None, phase: dict[str, Any], rel: str
) -> Checkpoint:
    fields: dict[str, dict[str, Any]] = gate["evidence_schema"]
    options = gate.get("checkpoint") or {}
    strict = options.get("strict", True)  # an unstated strictness fails closed
    allow_override = options.get("allow_override", False)
    properties: dict[str, Any] = {}
    required: list[str] = []
    example: dict[str, Any] = {}
    described: list[str] = []
    for name, spec in fields.items():
        json_type = _FIELD_TYPES[spec["type"]]
        prop: dict[str, Any] = {"type": json_type}
        if spec.get("description"):
            prop["description"] = spec["description"]
        properties[name] = prop
        is_required = spec.get("required", True)
        if is_required:
            required.append(name)
        example[name] = copy.deepcopy(_EXAMPLE_VALUES[json_type])
        described.append(f"{name} ({json_type}{'' if is_required else ', optional'})")
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    unevaluated, notes = _validators_of(fields, gate.get("validators") or {}, rel)
    mismatch = None
    if metadata_names is not None:
        only_in_metadata = [n for n in metadata_names if n not in fields]
        optional_in_gate = [n for n in metadata_names if n in fields and n not in required]
        only_in_gate = [n for n in required if n not in metadata_names]
        if only_in_metadata or optional_in_gate or only_in_gate:
            mismatch = {
                "only_in_metadata": only_in_metadata,
                "only_in_gate": only_in_gate,
                "optional_in_gate": optional_in_gate,
            }
    if gate.get("cross_field_validation"):
        notes.append(
            (
                "cross_field_validation",
                f"{rel} declares cross_field_validation rules; they are not evaluated",
            )
        )
    if not fields:
        notes.append(("empty_gate", f"{rel} declares no evidence fields: any evidence passes"))
    sentence = (
        "Provide " + ", ".join(described) + "."
        if described
        else "This gate declares no evidence fields."
    )
    if not strict:
        sentence += " Non-strict gate: missing or invalid evidence passes with recorded warnings."
    if unevaluated:
        sentence += (
            " Legacy validators on "
            + ", ".join(sorted({v.field for v in unevaluated}))
            + " are not evaluated; meet their intent anyway."
        )
    return Checkpoint(
        required_evidence=tuple(required),
        evidence_schema=schema,
        validation=_with_criteria(sentence, phase),
        evidence_example=example,
        validator=checkpoint_validator(schema, rel),
        strict=strict,
        allow_override=allow_override,
        unevaluated_validators=tuple(unevaluated),
        evidence_mismatch=mismatch,
        notes=tuple(notes),
    )


def _with_criteria(sentence: str, phase: dict[str, Any]) -> str:
    criteria = [c for c in phase.get("validation_criteria", ()) if c.strip()]
    return sentence + (" Criteria: " + "; ".join(criteria) + "." if criteria else "")


def _open_checkpoint(phase: dict[str, Any], where: str) -> Checkpoint:
    """The checkpoint of a phase with no gate file and no required evidence: any evidence passes."""
    schema: dict[str, Any] = {"type": "object"}
    return Checkpoint(
        required_evidence=(),
        evidence_schema=schema,
        validation=_with_criteria(
            "This phase has no gate: any evidence object passes (send what you produced).", phase
        ),
        evidence_example={},
        validator=checkpoint_validator(schema, where),
        notes=(
            (
                "no_gate",
                f"{where} has no gate: any evidence passes (no {GATE_FILE} and no "
                "checkpoint.required_evidence in metadata.json)",
            ),
        ),
    )


def _metadata_checkpoint(names: list[str], phase: dict[str, Any], where: str) -> Checkpoint:
    if not names:
        return _open_checkpoint(phase, where)
    schema = {"type": "object", "required": list(names), "properties": {n: {} for n in names}}
    return Checkpoint(
        required_evidence=tuple(names),
        evidence_schema=schema,
        validation=_with_criteria(
            "Provide " + ", ".join(names) + " (each present and not null).", phase
        ),
        evidence_example=dict.fromkeys(names, True),
        validator=checkpoint_validator(schema, where),
        notes=(
            (
                "no_gate_definition",
                f"{where} has no {GATE_FILE}: its required_evidence names must be present "
                "and not null; their types are not checked",
            ),
        ),
    )


# -------------------------------------------------------------------------------- phases


def _task_file(phase_dir: Path, folder: Path, task: dict[str, Any], where: str) -> Path:
    name = task.get("file") or task["phase_file"]
    found = _inside(folder, phase_dir / name, folder / name)
    if found is None:
        key = "file" if "file" in task else "phase_file"
        raise DefinitionError(
            f"{where}.{key}: task file {name!r} is missing from {phase_dir.relative_to(folder).as_posix()}/",
            details={"field": f"{where}.{key}"},
            remediation="Restore the task file or correct its name in metadata.json.",
        )
    return found


def _load_phase(folder: Path, raw: dict[str, Any], expected: int) -> PhaseDefinition:
    where = f"phases[{expected}]"
    if raw["phase_number"] != expected:
        raise DefinitionError(
            f"{where}.phase_number is {raw['phase_number']!r}; phases must be listed in order and "
            f"numbered consecutively from start_phase, so {expected} was expected",
            details={"field": f"{where}.phase_number"},
        )
    phase_dir = folder / "phases" / str(expected)
    page = _inside(folder, *([folder / raw["phase_file"]] if "phase_file" in raw else []))
    content = _read(page or phase_dir / "phase.md", folder)
    metadata_names = raw.get("checkpoint", {}).get("required_evidence")
    gate_path = phase_dir / GATE_FILE
    if gate_path.is_file():
        rel = gate_path.relative_to(folder).as_posix()
        checkpoint = _gate_checkpoint(_load_gate(gate_path, folder), metadata_names, raw, rel)
    else:
        checkpoint = _metadata_checkpoint(metadata_names or [], raw, f"phase {expected}")
    deliverables = tuple(raw.get("key_deliverables", ()))
    artifacts = tuple(
        {"name": d, "description": f"Deliverable of phase {expected}."} for d in deliverables
    ) or tuple(
        {
            "name": name,
            "description": checkpoint.evidence_schema["properties"][name].get(
                "description", f"Evidence for the checkpoint of phase {expected}."
            ),
        }
        for name in checkpoint.evidence_schema["properties"]
    )
    duration = raw.get("estimated_effort") or "unspecified"
    numbers = [t["task_number"] for t in raw["tasks"]]
    if len(set(numbers)) != len(numbers):
        raise DefinitionError(
            f"{where}.tasks: task_number values {numbers} repeat; each task needs its own number",
            details={"field": f"{where}.tasks"},
        )
    notes = list(checkpoint.notes)
    ordered = sorted(raw["tasks"], key=lambda t: t["task_number"])
    if [t["task_number"] for t in ordered] != list(range(1, len(ordered) + 1)):
        notes.append(
            (
                "tasks_renumbered",
                f"phase {expected}: legacy task numbers {sorted(numbers)} are served as "
                f"1-{len(ordered)} in the same order",
            )
        )
    tasks = []
    for index, task in enumerate(ordered, start=1):
        path = _task_file(phase_dir, folder, task, f"{where}.tasks[{index}]")
        parsed = parse_legacy_task(
            _read(path, folder),
            number=index,
            name=task["name"],
            estimated_duration=duration,
            artifacts=artifacts,
        )
        tasks.append(
            TaskDefinition(
                number=index,
                name=task["name"],
                file=path.relative_to(phase_dir).as_posix()
                if path.is_relative_to(phase_dir)
                else path.relative_to(folder).as_posix(),
                content=parsed,
            )
        )
    if len(notes) != len(checkpoint.notes):
        checkpoint = replace(checkpoint, notes=tuple(notes))
    return PhaseDefinition(
        number=expected,
        title=raw["phase_name"],
        purpose=raw.get("purpose") or raw["phase_name"],
        estimated_duration=raw.get("estimated_effort", ""),
        deliverables=deliverables,
        content=content,
        tasks=tuple(tasks),
        checkpoint=checkpoint,
    )


def _dynamic_config(folder: Path, metadata: dict[str, Any]) -> DynamicConfig:
    raw = metadata.get("dynamic_config")
    if raw is None:
        raise DefinitionError(
            f"metadata.json: {folder.name!r} is dynamic (its phases come from a spec) but has no "
            "dynamic_config naming its source and templates",
            details={"field": "/dynamic_config"},
            remediation='Add "dynamic_config": {"source_type": "spec_tasks_md", "source_path_key": '
            '"spec_path", "templates": {"phase": "phases/dynamic/phase-template.md", "task": '
            '"phases/dynamic/task-template.md"}}.',
        )
    _first_error(
        _DYNAMIC_VALIDATOR, raw, "metadata.json/dynamic_config", field_prefix="/dynamic_config"
    )
    templates = raw["templates"]
    return DynamicConfig(
        spec_option=raw.get("source_path_key", "spec_path"),
        tasks_file="tasks.md",
        phase_template=read_template(folder, templates["phase"], "/dynamic_config/templates/phase"),
        task_template=read_template(folder, templates["task"], "/dynamic_config/templates/task"),
        placeholders="legacy",
    )


def _static_part(metadata: dict[str, Any]) -> dict[str, Any]:
    """A dynamic legacy metadata without its dynamic parts: the static phases only.

    Its phase list keeps the phases with an integer ``phase_number``; the others
    (``"1-N"``) describe the derived phases, which come from the spec.
    """
    static = [
        p
        for p in metadata.get("phases") or []
        if not isinstance(p, dict) or not isinstance(p.get("phase_number"), str)
    ]
    return {
        **{k: v for k, v in metadata.items() if k != "total_phases"},
        "phases": static,
    }


def is_dynamic_metadata(metadata: dict[str, Any]) -> bool:
    """Whether a legacy ``metadata.json`` declares phases generated from a spec."""
    return metadata.get("total_phases") == "dynamic" or metadata.get("dynamic_phases") is True


def load_legacy_definition(
    folder: Path, source: Source, metadata: dict[str, Any]
) -> WorkflowDefinition:
    """Load a legacy workflow folder whose ``metadata.json`` is already parsed.

    Raises:
        DefinitionError: the folder is not a valid legacy workflow;
            ``details["field"]`` names the failing field or file.
    """
    dynamic = None
    if is_dynamic_metadata(metadata):
        dynamic = _dynamic_config(folder, metadata)
        metadata = _static_part(metadata)
    _first_error(_METADATA_VALIDATOR, metadata, "metadata.json (legacy format)")
    if metadata["workflow_type"] != folder.name:
        raise DefinitionError(
            f"metadata.json workflow_type {metadata['workflow_type']!r} differs from its folder "
            f"name {folder.name!r}",
            details={"field": "/workflow_type"},
        )
    phases_raw: list[dict[str, Any]] = metadata["phases"]
    total = metadata.get("total_phases")
    if total is not None and total != len(phases_raw):
        raise DefinitionError(
            f"metadata.json/total_phases is {total!r} but {len(phases_raw)} phases are listed",
            details={"field": "/total_phases"},
        )
    start = metadata.get("start_phase", phases_raw[0]["phase_number"])
    phases = tuple(_load_phase(folder, raw, start + index) for index, raw in enumerate(phases_raw))
    return WorkflowDefinition(
        workflow_type=metadata["workflow_type"],
        version=metadata["version"],
        name=metadata["name"],
        description=metadata["description"],
        category=metadata.get("category", "legacy"),
        start_phase=start,
        phases=phases,
        source=source,
        path=folder,
        estimated_duration=metadata.get("estimated_duration", ""),
        primary_outputs=tuple(metadata.get("primary_outputs", ())),
        author=metadata.get("author", ""),
        format="legacy",
        dynamic=dynamic,
    )


# ------------------------------------------------------------------------------ findings


def legacy_findings(definition: WorkflowDefinition) -> list[dict[str, Any]]:
    """Return the WARN-level findings a cutover pre-check should show for ``definition``.

    One finding per: validator expression not evaluated (naming workflow, phase, field
    and validator), metadata/gate evidence disagreement, non-strict gate,
    ``allow_override`` (recorded, not offered), and each checkpoint note
    (``cross_field_validation`` not evaluated, undefined validator, empty gate, phase
    without a gate file, phase with no gate at all (``no_gate``: any evidence
    passes), renumbered tasks). A definition in our format has none.

    Each finding: ``{"level": "WARN", "code", "workflow_type", "phase", "message"}``
    plus ``field``/``validator``/``expression`` or the mismatch lists where they apply.
    """
    findings: list[dict[str, Any]] = []
    wtype = definition.workflow_type
    for phase in definition.phases:
        checkpoint = phase.checkpoint
        where = f"workflow {wtype!r} phase {phase.number}"
        found: list[tuple[str, str, dict[str, Any]]] = []
        for v in checkpoint.unevaluated_validators:
            found.append(
                (
                    "unevaluated_validator",
                    f"{where}: validator {v.validator!r} on field {v.field!r} is not evaluated "
                    "(validator expressions are code); only the field's type and presence "
                    "are checked",
                    {
                        "field": v.field,
                        "validator": v.validator,
                        "expression": v.to_dict()["expression"],
                    },
                )
            )
        if checkpoint.evidence_mismatch:
            found.append(
                (
                    "evidence_mismatch",
                    f"{where}: metadata required_evidence and {GATE_FILE} disagree; the gate "
                    f"wins ({_mismatch_text(checkpoint.evidence_mismatch)})",
                    dict(checkpoint.evidence_mismatch),
                )
            )
        if not checkpoint.strict:
            found.append(
                (
                    "non_strict_gate",
                    f"{where}: the gate is not strict; missing or invalid evidence lets the "
                    "phase pass with warnings recorded in the session",
                    {},
                )
            )
        if checkpoint.allow_override:
            found.append(
                (
                    "allow_override",
                    f"{where}: the gate allows a manual override, which pos_workflow does not "
                    "offer; the gate applies as declared (strict or not)",
                    {},
                )
            )
        found.extend((code, f"{where}: {message}", {}) for code, message in checkpoint.notes)
        findings.extend(
            {
                "level": "WARN",
                "code": code,
                "workflow_type": wtype,
                "phase": phase.number,
                "message": message,
                **extra,
            }
            for code, message, extra in found
        )
    return findings


def _mismatch_text(mismatch: dict[str, list[str]]) -> str:
    return "; ".join(f"{key}: {', '.join(names)}" for key, names in mismatch.items() if names)
