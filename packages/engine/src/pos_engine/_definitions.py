"""Workflow definitions: loading, validation, discovery and caching.

A workflow is a folder holding ``metadata.json`` (validated against
``specs/workflow-definition.schema.json``), ``phases/<n>/phase.md`` and task
files. Definitions are found along a search path, first match per
workflow_type wins; a broken definition is reported and never hides the others.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from ._audit import json_digest
from ._bounded import BoundedInputError, parse_json_bounded, read_bounded_text
from ._evidence_schema import SchemaProblem, capped_errors, evidence_validator
from ._models import PlanPhase, PlanTask
from ._nonblocking import require_io
from ._quick_schema import QuickCheck, quick_check
from ._tasks import TaskContent, TaskFormatError, parse_task
from ._verify_spec import (
    ApprovalSpec,
    CommandSpec,
    FieldChecks,
    parse_approval,
    parse_commands,
    parse_field_checks,
)
from .exceptions import DefinitionError, NotFoundError

__all__ = [
    "Checkpoint",
    "DefinitionProblem",
    "DynamicConfig",
    "PhaseDefinition",
    "TaskDefinition",
    "UnevaluatedValidator",
    "WorkflowDefinition",
    "WorkflowRegistry",
    "definition_schema",
]

logger = logging.getLogger(__name__)

Source = Literal["project", "universal", "bundled"]


def definition_schema() -> dict[str, Any]:
    """Return the workflow definition JSON Schema shipped inside the package."""
    text = resources.files("pos_engine").joinpath("schemas/workflow-definition.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


_METADATA_VALIDATOR = Draft202012Validator(definition_schema())


_MAX_EXPRESSION_SHOWN = 200


@dataclass(frozen=True)
class UnevaluatedValidator:
    """A legacy validator expression attached to an evidence field and never evaluated.

    Legacy gates name Python expressions (``lambda x: x > 0``) as validators. They
    are code, so the engine keeps their text for display only; the field's type and
    presence are still checked by the JSON Schema.
    """

    field: str
    validator: str
    expression: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the validator as JSON-ready data (the expression as text, clipped)."""
        expression = self.expression
        if expression is not None and len(expression) > _MAX_EXPRESSION_SHOWN:
            expression = expression[: _MAX_EXPRESSION_SHOWN - 3] + "..."
        return {"field": self.field, "validator": self.validator, "expression": expression}


@dataclass(frozen=True)
class Checkpoint:
    """What a phase demands before the agent may advance.

    ``strict`` is False only for legacy gates declared ``strict: false``: their
    failures let the phase pass with recorded warnings. ``unevaluated_validators``,
    ``evidence_mismatch`` and ``notes`` (pairs of code and message) describe what a
    legacy gate demanded that the engine does not enforce; see ``legacy_findings``.
    ``labels`` (JSON pointer -> what it is, e.g. ``/tasks/1.3`` -> ``task 1.3
    'Add the parser'``) itemises a generated checkpoint: a missing nested item is
    then reported by its path, and errors name what they are about.
    ``verify`` lists the fields the server checks itself (``x-verify``), with the
    ``commands`` they may run, and ``approval`` asks for a person's approval after
    the evidence passes (see ``_verify_spec``).
    """

    required_evidence: tuple[str, ...]
    evidence_schema: dict[str, Any]
    validation: str
    evidence_example: dict[str, Any]
    validator: Validator = field(compare=False, repr=False)
    strict: bool = True
    allow_override: bool = False
    unevaluated_validators: tuple[UnevaluatedValidator, ...] = ()
    evidence_mismatch: dict[str, list[str]] | None = None
    notes: tuple[tuple[str, str], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    verify: tuple[FieldChecks, ...] = ()
    commands: Mapping[str, CommandSpec] = field(default_factory=dict)
    approval: ApprovalSpec | None = None

    @functools.cached_property
    def quick_check(self) -> QuickCheck | None:
        """An exact yes/no check of evidence, faster than the validator, if the schema allows.

        None when the schema uses a keyword the check does not implement; see
        ``_quick_schema``. Built on first use and kept with this checkpoint.
        """
        return quick_check(self.validator.schema)

    @functools.cached_property
    def sha256(self) -> str:
        """The SHA-256 of :meth:`to_dict`'s canonical JSON, which the audit trail records.

        Kept with this checkpoint: a definition is never changed, an edit loads a new one.
        """
        return json_digest(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """Return the checkpoint as shown to agents in phase_content."""
        data: dict[str, Any] = {
            "required_evidence": list(self.required_evidence),
            "evidence_schema": self.evidence_schema,
            "validation": self.validation,
            "evidence_example": self.evidence_example,
            "strict": self.strict,
        }
        if self.allow_override:
            data["allow_override"] = True
        if self.unevaluated_validators:
            data["unevaluated_validators"] = [v.to_dict() for v in self.unevaluated_validators]
        if self.verify:
            data["server_checks"] = [
                {"pointer": checks.pointer, "checks": checks.describe()} for checks in self.verify
            ]
        if self.commands:
            data["commands"] = [command.to_dict() for command in self.commands.values()]
        if self.approval is not None:
            data["approval"] = self.approval.to_dict()
        return data


@dataclass(frozen=True)
class TaskDefinition:
    """One task of a phase, parsed from its markdown file."""

    number: int
    name: str
    file: str
    content: TaskContent
    spec: PlanTask | None = None


@dataclass(frozen=True)
class PhaseDefinition:
    """One phase: its page, its tasks and its checkpoint (``spec``: the tasks.md phase it serves)."""

    number: int
    title: str
    purpose: str
    estimated_duration: str
    deliverables: tuple[str, ...]
    content: str
    tasks: tuple[TaskDefinition, ...]
    checkpoint: Checkpoint
    spec: PlanPhase | None = None

    def task(self, task_number: int) -> TaskDefinition:
        """Return task ``task_number``; raise NotFoundError naming the valid range."""
        for task in self.tasks:
            if task.number == task_number:
                return task
        raise NotFoundError(
            f"task_number {task_number!r} does not exist in phase {self.number}; "
            f"it has tasks 1-{len(self.tasks)}",
            remediation=f"Call get_task with a task_number from 1 to {len(self.tasks)}.",
        )


@dataclass(frozen=True)
class DynamicConfig:
    """How a dynamic workflow derives the phases after its static ones from a spec.

    Attributes:
        spec_option: The ``options`` key naming the spec folder at start (else
            ``target_file`` is the spec folder).
        tasks_file: The file of the spec folder that is parsed (``tasks.md``).
        phase_template: Markdown of a derived phase's page, with placeholders.
        task_template: Markdown of a derived task's description, with placeholders.
        placeholders: ``pos`` (``{phase_name}``) or ``legacy`` (``[PHASE_NAME]``).
    """

    spec_option: str
    tasks_file: str
    phase_template: str
    task_template: str
    placeholders: Literal["pos", "legacy"] = "pos"

    def summary(self, planning_phase: int) -> dict[str, Any]:
        """Return what list_workflows says about the derived phases."""
        return {
            "source": self.tasks_file,
            "spec_option": self.spec_option,
            "first_derived_phase": planning_phase + 1,
            "how": (
                f"start with target_file (or options.{self.spec_option}) naming a spec folder; "
                f"its {self.tasks_file} phases become phases {planning_phase + 1}, "
                f"{planning_phase + 2}, ... of the session, frozen at start"
            ),
        }


@dataclass(frozen=True)
class WorkflowDefinition:
    """A loaded, validated workflow.

    A dynamic workflow (``dynamic`` set) lists its static phases here; the phases
    after them come from a spec's tasks.md, per session (see ``_dynamic``).
    """

    workflow_type: str
    version: str
    name: str
    description: str
    category: str
    start_phase: int
    phases: tuple[PhaseDefinition, ...]
    source: Source
    path: Path = field(repr=False)
    aliases: tuple[str, ...] = ()
    estimated_duration: str = ""
    primary_outputs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str = ""
    format: Literal["pos", "legacy"] = "pos"
    dynamic: DynamicConfig | None = None

    @property
    def total_phases(self) -> int:
        """How many phases the workflow has."""
        return len(self.phases)

    @property
    def last_phase(self) -> int:
        """The number of the final phase."""
        return self.start_phase + len(self.phases) - 1

    def phase(self, number: int) -> PhaseDefinition:
        """Return phase ``number``; raise NotFoundError naming the valid range."""
        index = number - self.start_phase
        if 0 <= index < len(self.phases):
            return self.phases[index]
        raise NotFoundError(
            f"phase {number!r} does not exist in {self.workflow_type!r}; "
            f"its phases are {self.start_phase}-{self.last_phase}",
            remediation=f"Use a phase from {self.start_phase} to {self.last_phase}.",
        )

    def summary(self) -> dict[str, Any]:
        """Return the list_workflows entry for this workflow (no server paths)."""
        return {
            "workflow_type": self.workflow_type,
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "version": self.version,
            "phases": [
                {"phase": p.number, "title": p.title, "task_count": len(p.tasks)}
                for p in self.phases
            ],
            "total_phases": self.total_phases,
            "start_phase": self.start_phase,
            "estimated_duration": self.estimated_duration,
            "primary_outputs": list(self.primary_outputs),
            "tags": list(self.tags),
            "aliases": list(self.aliases),
            "source": self.source,
            "format": self.format,
            **({"dynamic": self.dynamic.summary(self.last_phase)} if self.dynamic else {}),
        }


@dataclass(frozen=True)
class DefinitionProblem:
    """Why one workflow folder could not be loaded."""

    workflow_folder: str
    source: Source
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return the problem as JSON-ready data."""
        return {
            "workflow_folder": self.workflow_folder,
            "source": self.source,
            "field": self.field,
            "message": self.message,
        }


def read_definition_file(path: Path, folder: Path) -> str:
    """Read a file of the workflow in ``folder``: inside it, regular, UTF-8, size-capped.

    Raises:
        DefinitionError: naming the file (relative to ``folder``) and what is wrong with it.
    """
    rel = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name
    try:
        return read_bounded_text(path, inside=folder)
    except BoundedInputError as exc:
        raise DefinitionError(f"cannot read {rel}: it {exc}", details={"field": rel}) from None
    except OSError as exc:
        raise DefinitionError(
            f"cannot read {rel}: {exc.strerror or exc.__class__.__name__}", details={"field": rel}
        ) from None


def checkpoint_validator(schema: Any, where: str) -> Validator:
    """Return the safe validator of a checkpoint's evidence_schema (see ``_evidence_schema``).

    Raises:
        DefinitionError: the schema is unusable; the message says why, naming ``where``.
    """
    try:
        return evidence_validator(schema)
    except SchemaProblem as exc:
        raise DefinitionError(
            f"{where}.evidence_schema is not usable: {exc}",
            details={"field": f"{where}.evidence_schema"},
        ) from None


def _load_checkpoint(
    raw: dict[str, Any], where: str, commands: Mapping[str, CommandSpec] | None = None
) -> Checkpoint:
    schema = raw["evidence_schema"]
    validator = checkpoint_validator(schema, where)
    verify = parse_field_checks(schema, commands or {}, where)
    used = {c.command for c in verify if c.command is not None}
    missing_in_schema = sorted(set(raw["required_evidence"]) - set(schema.get("properties", {})))
    if missing_in_schema:
        raise DefinitionError(
            f"{where}.required_evidence names {missing_in_schema} absent from evidence_schema.properties",
            details={"field": f"{where}.required_evidence"},
        )
    example_errors = capped_errors(validator, raw["evidence_example"], shown=1).errors
    if example_errors:
        raise DefinitionError(
            f"{where}.evidence_example does not pass its evidence_schema: "
            f"{example_errors[0].json_path}: {example_errors[0].message[:200]}",
            details={"field": f"{where}.evidence_example"},
        )
    return Checkpoint(
        required_evidence=tuple(raw["required_evidence"]),
        evidence_schema=schema,
        validation=raw["validation"],
        evidence_example=raw["evidence_example"],
        validator=validator,
        verify=verify,
        commands={name: spec for name, spec in (commands or {}).items() if name in used},
        approval=parse_approval(raw.get("approval")),
    )


def _load_phase(
    folder: Path,
    raw: dict[str, Any],
    expected_number: int,
    commands: Mapping[str, CommandSpec] | None = None,
) -> PhaseDefinition:
    where = f"phases[{expected_number}]"
    if raw["number"] != expected_number:
        raise DefinitionError(
            f"{where}.number is {raw['number']!r}; phases must be numbered consecutively "
            f"from start_phase, so {expected_number} was expected",
            details={"field": f"{where}.number"},
        )
    phase_dir = folder / "phases" / str(expected_number)
    content = read_definition_file(phase_dir / "phase.md", folder)
    tasks = []
    for index, task in enumerate(raw["tasks"], start=1):
        task_where = f"{where}.tasks[{index}]"
        if task["number"] != index:
            raise DefinitionError(
                f"{task_where}.number is {task['number']!r}; tasks are numbered from 1, so {index} was expected",
                details={"field": f"{task_where}.number"},
            )
        text = read_definition_file(phase_dir / task["file"], folder)
        try:
            parsed = parse_task(text)
        except TaskFormatError as exc:
            raise DefinitionError(
                f"phases/{expected_number}/{task['file']}: {exc}",
                details={"field": f"{task_where}.file"},
            ) from exc
        tasks.append(
            TaskDefinition(number=index, name=task["name"], file=task["file"], content=parsed)
        )
    return PhaseDefinition(
        number=expected_number,
        title=raw["title"],
        purpose=raw["purpose"],
        estimated_duration=raw.get("estimated_duration", ""),
        deliverables=tuple(raw.get("deliverables", ())),
        content=content,
        tasks=tuple(tasks),
        checkpoint=_load_checkpoint(raw["checkpoint"], f"{where}.checkpoint", commands),
    )


def load_definition(folder: Path, source: Source) -> WorkflowDefinition:
    """Load and validate the workflow in ``folder``.

    A folder in the legacy (praxis-style) format is recognised and loaded by
    :func:`pos_engine._legacy_definitions.load_legacy_definition` into the same types.

    Raises:
        DefinitionError: the folder is not a valid workflow; ``details["field"]``
            names the failing field or file.
    """
    try:
        metadata = parse_json_bounded(read_definition_file(folder / "metadata.json", folder))
    except BoundedInputError as exc:
        raise DefinitionError(f"metadata.json {exc}", details={"field": "metadata.json"}) from None
    # Imported here: the legacy loader builds on the types defined in this module.
    from ._legacy_definitions import is_legacy_metadata, load_legacy_definition  # noqa: PLC0415

    if is_legacy_metadata(metadata):
        return load_legacy_definition(folder, source, metadata)
    errors = capped_errors(_METADATA_VALIDATOR, metadata, shown=1)
    if errors.errors:
        first = errors.errors[0]
        pointer = "/" + "/".join(str(p) for p in first.absolute_path)
        raise DefinitionError(
            f"metadata.json{pointer if pointer != '/' else ''}: {first.message[:300]}",
            details={"field": pointer, "error_count": errors.total},
        )
    if metadata["workflow_type"] != folder.name:
        raise DefinitionError(
            f"metadata.json workflow_type {metadata['workflow_type']!r} differs from its folder name {folder.name!r}",
            details={"field": "/workflow_type"},
        )
    start = metadata["start_phase"]
    commands = parse_commands(metadata.get("commands"))
    phases = tuple(
        _load_phase(folder, raw, start + index, commands)
        for index, raw in enumerate(metadata["phases"])
    )
    dynamic = _load_dynamic(folder, metadata["dynamic"]) if "dynamic" in metadata else None
    return WorkflowDefinition(
        workflow_type=metadata["workflow_type"],
        version=metadata["version"],
        name=metadata["name"],
        description=metadata["description"],
        category=metadata["category"],
        start_phase=start,
        phases=phases,
        source=source,
        path=folder,
        aliases=tuple(metadata.get("aliases", ())),
        estimated_duration=metadata.get("estimated_duration", ""),
        primary_outputs=tuple(metadata.get("primary_outputs", ())),
        tags=tuple(metadata.get("tags", ())),
        author=metadata.get("author", ""),
        dynamic=dynamic,
    )


def read_template(folder: Path, name: str, field_name: str) -> str:
    """Read a template file of a dynamic workflow; it must lie inside ``folder``.

    Raises:
        DefinitionError: the file is missing, unreadable or outside the folder.
    """
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
        raise DefinitionError(
            f"{field_name}: template {name!r} is not a file inside the workflow folder",
            details={"field": field_name},
            remediation="Create the template file in the workflow folder or correct its path.",
        )
    return read_definition_file(path, folder)


def _load_dynamic(folder: Path, raw: dict[str, Any]) -> DynamicConfig:
    return DynamicConfig(
        spec_option=raw.get("spec_option", "spec_path"),
        tasks_file=raw.get("tasks_file", "tasks.md"),
        phase_template=read_template(folder, raw["phase_template"], "/dynamic/phase_template"),
        task_template=read_template(folder, raw["task_template"], "/dynamic/task_template"),
    )


def _fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detector: every file's relative path, mtime and size."""
    entries = []
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            entries.append((os.path.relpath(path, folder), st.st_mtime_ns, st.st_size))
    return tuple(sorted(entries))


def bundled_workflows_dir() -> Path:
    """Return the folder of workflows shipped inside pos_engine."""
    return Path(str(resources.files("pos_engine").joinpath("workflows")))


@dataclass(frozen=True)
class _Index:
    """What one scan of the search path found (replaced whole, never changed in place)."""

    workflows: dict[str, WorkflowDefinition]
    aliases: dict[str, WorkflowDefinition]
    problems: tuple[DefinitionProblem, ...]
    checked_at: float


RECHECK_SECONDS = 1.0
"""Default bound on how long a change to the workflow folders may go unseen."""


class WorkflowRegistry:
    """Finds workflows along the search path and keeps them in an index.

    Search path, first match per workflow_type wins:
    ``<project>/.praxis-os/workflows``, ``<project>/universal/workflows``, then the
    workflows bundled in pos_engine.

    Lookups answer from the index without touching the disk. Freshness: a workflow
    added, removed or edited is seen within ``recheck_seconds`` (1 s by default), when
    the next lookup walks the folders again and reloads only the workflows whose files
    changed (path, mtime, size); a lookup by a name the index does not know walks them
    at once, and :meth:`invalidate` makes the next lookup do so (after writing one).

    Args:
        project_root: The project whose workflow folders are searched.
        search_path: Override the search path (pairs of source and folder).
        recheck_seconds: Longest time an edit inside a workflow folder may go unseen.
        clock: Monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        project_root: str | os.PathLike[str],
        *,
        search_path: Iterable[tuple[Source, Path]] | None = None,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        root = Path(project_root)
        self.project_root = root
        self.search_path: tuple[tuple[Source, Path], ...] = tuple(
            search_path
            if search_path is not None
            else (
                ("project", root / ".praxis-os" / "workflows"),
                ("universal", root / "universal" / "workflows"),
                ("bundled", bundled_workflows_dir()),
            )
        )
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._cache: dict[
            Path, tuple[tuple[tuple[str, int, int], ...], WorkflowDefinition | DefinitionProblem]
        ] = {}
        self._index: _Index | None = None
        self._scan_lock = threading.Lock()

    def _load_cached(self, folder: Path, source: Source) -> WorkflowDefinition | DefinitionProblem:
        fingerprint = _fingerprint(folder)
        cached = self._cache.get(folder)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        result: WorkflowDefinition | DefinitionProblem
        try:
            result = load_definition(folder, source)
        except DefinitionError as exc:
            result = self._problem(folder, source, str(exc.details.get("field", "")), exc.message)
        # Isolation: whatever goes wrong in one workflow folder (a bug, a recursion, memory)
        # makes that one workflow invalid; every other workflow and session carries on.
        except Exception as exc:  # pylint: disable=broad-exception-caught
            logger.exception("loading workflow %s (%s) failed unexpectedly", folder.name, source)
            result = self._problem(
                folder,
                source,
                "",
                f"the definition could not be loaded ({type(exc).__name__}); "
                "the server log has the details",
            )
        self._cache[folder] = (fingerprint, result)
        return result

    @staticmethod
    def _problem(folder: Path, source: Source, field_name: str, message: str) -> DefinitionProblem:
        logger.warning("workflow %s (%s) is invalid: %s", folder.name, source, message)
        return DefinitionProblem(
            workflow_folder=folder.name, source=source, field=field_name, message=message
        )

    def _due(self, index: _Index) -> bool:
        return self._clock() - index.checked_at >= self.recheck_seconds

    def fresh(self) -> bool:
        """Whether the next lookup is answered from the index, without walking any folder."""
        index = self._index
        return index is not None and not self._due(index)

    def invalidate(self) -> None:
        """Make the next lookup walk the search path again (after writing a definition)."""
        self._index = None

    def _current(self, *, force: bool = False) -> _Index:
        index = self._index
        if index is not None and not force and not self._due(index):
            return index
        require_io()  # a walk of the search path: never on an event loop
        with self._scan_lock:
            if self._index is not None and self._index is not index and not force:
                return self._index  # another thread rescanned while this one waited
            self._index = self._scan()
            return self._index

    def _scan(self) -> _Index:
        # Taken before the walk: an edit made during it is seen by the next recheck.
        checked_at = self._clock()
        found: dict[str, WorkflowDefinition] = {}
        problems: list[DefinitionProblem] = []
        seen: set[Path] = set()
        # First match wins, broken or not: a broken project override must be reported
        # (start answers that it is invalid), never silently replaced by a bundled copy.
        taken: set[str] = set()
        for source, base in self.search_path:
            try:
                children = sorted(
                    p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")
                )
            except OSError:
                continue
            for folder in children:
                seen.add(folder)
                if folder.name in taken:
                    continue  # an earlier search-path entry already supplies this workflow_type
                taken.add(folder.name)
                result = self._load_cached(folder, source)
                if isinstance(result, DefinitionProblem):
                    problems.append(result)
                else:
                    found[result.workflow_type] = result
        for stale in set(self._cache) - seen:
            del self._cache[stale]
        workflows = dict(sorted(found.items()))
        aliases: dict[str, WorkflowDefinition] = {}
        for workflow in workflows.values():
            for alias in workflow.aliases:
                aliases.setdefault(alias, workflow)
        return _Index(workflows, aliases, tuple(problems), checked_at)

    def workflows(self, category: str | None = None) -> list[WorkflowDefinition]:
        """Return every valid workflow, sorted by workflow_type, optionally by category."""
        workflows = list(self._current().workflows.values())
        if category is not None:
            workflows = [w for w in workflows if w.category == category]
        return workflows

    def problems(self) -> list[DefinitionProblem]:
        """Return the invalid workflow folders found by the latest scan."""
        return list(self._current().problems)

    def get(self, workflow_type: str) -> WorkflowDefinition:
        """Return the workflow named ``workflow_type`` (or one of its aliases).

        A name the index does not know makes it walk the search path once more before
        answering, so a workflow written a moment ago is found at once.

        Raises:
            NotFoundError: no valid workflow has that name; the message lists those that exist.
        """
        before = self._index
        index = self._current()
        found = index.workflows.get(workflow_type) or index.aliases.get(workflow_type)
        if found is None and index is before:
            index = self._current(force=True)
            found = index.workflows.get(workflow_type) or index.aliases.get(workflow_type)
        if found is not None:
            return found
        broken = [p for p in index.problems if p.workflow_folder == workflow_type]
        if broken:
            raise DefinitionError(
                f"workflow {workflow_type!r} exists but is invalid: {broken[0].message}",
                remediation="Fix the workflow definition (see list_workflows for the problem) and retry.",
            )
        available = sorted(index.workflows)
        raise NotFoundError(
            f"workflow_type {workflow_type!r} not found; available: {', '.join(available) or 'none'}",
            remediation="Call list_workflows and start one of the workflow_type values it returns.",
            details={"available": available},
        )
