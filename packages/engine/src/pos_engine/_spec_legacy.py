"""Find the spec of a legacy session of a dynamic workflow, wherever it went, and plan it.

praxis-os sessions name their spec folder (``metadata.spec_path``, else ``target_file``),
and spec folders move (from ``review/`` to ``completed/``). A ``--spec-map`` entry wins;
a folder that no longer exists is looked for by name under ``.praxis-os/specs/``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ._definitions import WorkflowDefinition
from ._models import SpecPlan
from ._spec_plan import SPECS_DIR, build_plan, spec_folder
from .exceptions import DefinitionError, NotFoundError, ValidationError

__all__ = ["LegacySpec", "find_spec_folders", "legacy_session_plan"]

_SEARCH_DEPTH = 6
_SEARCH_ENTRIES = 20_000


def _normalised(path: str) -> str:
    text = path.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text.rstrip("/")


def find_spec_folders(project_root: Path, name: str, tasks_file: str) -> list[str]:
    """Return the folders named ``name`` holding ``tasks_file`` under ``.praxis-os/specs/``.

    The search goes at most six folders deep, follows no symlink and looks at no
    more than 20,000 entries.
    """
    root = Path(project_root).resolve()
    base = root / SPECS_DIR
    found: list[str] = []
    pending = [(base, 0)]
    seen = 0
    while pending and seen < _SEARCH_ENTRIES:
        folder, depth = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            path = Path(entry.path)
            if entry.name == name and (path / tasks_file).is_file():
                found.append(path.relative_to(root).as_posix())
            if depth < _SEARCH_DEPTH:
                pending.append((path, depth + 1))
    return sorted(found)


@dataclass
class LegacySpec:
    """Where a legacy session's spec was found and its plan, or why there is none.

    Attributes:
        requested: The spec the legacy session named (``metadata.spec_path`` or target_file).
        requested_by: Which legacy field named it.
        plan: The plan, when the spec was found and parses.
        folder: The spec folder used, when found.
        how: ``as named``, ``moved`` (found by name under .praxis-os/specs/), ``mapped``
            (a ``--spec-map`` entry) or ``missing``.
        problem: Why there is no plan, when there is none.
        warnings: ``(code, message)`` pairs for the migration report.
    """

    requested: str
    requested_by: str
    plan: SpecPlan | None = None
    folder: str | None = None
    how: str = "missing"
    problem: str | None = None
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return what the migration report shows about the spec."""
        return {
            "requested": self.requested,
            "requested_by": self.requested_by,
            "found": self.folder,
            "how": self.how,
            "problem": self.problem,
        }


def _locate(
    project_root: Path, spec: LegacySpec, tasks_file: str, spec_map: Mapping[str, str]
) -> None:
    """Fill ``spec.folder``/``how``/``problem`` for the requested spec."""
    requested = _normalised(spec.requested)
    mapped = {_normalised(k): v for k, v in spec_map.items()}.get(requested)
    if mapped is not None:
        try:
            spec.folder = spec_folder(
                project_root, _normalised(mapped), name="--spec-map", tasks_file=tasks_file
            )
        except (NotFoundError, ValidationError) as exc:
            spec.problem = f"--spec-map {spec.requested}={mapped}: {exc.message}"
            return
        spec.how = "mapped"
        return
    try:
        spec.folder = spec_folder(
            project_root, spec.requested, name=spec.requested_by, tasks_file=tasks_file
        )
        spec.how = "as named"
        return
    except (NotFoundError, ValidationError) as exc:
        reason = exc.message
    name = PurePosixPath(requested).name
    matches = find_spec_folders(project_root, name, tasks_file) if name else []
    if len(matches) == 1:
        spec.folder, spec.how = matches[0], "moved"
        spec.warnings.append(
            (
                "spec_moved",
                f"{spec.requested_by} {spec.requested!r} no longer exists; the only spec folder "
                f"named {name!r} under {SPECS_DIR}/ is {matches[0]!r}, which was used",
            )
        )
        return
    found = (
        f"{len(matches)} folders named {name!r} under {SPECS_DIR}/ hold {tasks_file} "
        f"({', '.join(matches)})"
        if matches
        else f"no folder named {name!r} under {SPECS_DIR}/ holds {tasks_file}"
    )
    spec.problem = f"{reason}, and {found}; map it with --spec-map '{spec.requested}=<spec folder>'"


def legacy_session_plan(
    project_root: Path,
    definition: WorkflowDefinition,
    raw: Mapping[str, Any],
    *,
    spec_map: Mapping[str, str],
    stamp: str,
) -> LegacySpec:
    """Find and plan the spec of a legacy session of a dynamic workflow.

    The spec is ``metadata.<spec_option>`` (else ``target_file``); a ``spec_map``
    entry for it wins. When it no longer exists, exactly one folder of the same
    name holding the tasks file under ``.praxis-os/specs/`` (any depth: specs move
    from ``review/`` to ``completed/``) is used. Never raises for a missing or
    malformed spec: the result says why there is no plan.
    """
    config = definition.dynamic
    assert config is not None  # noqa: S101 - only dynamic workflows are planned
    metadata = raw.get("metadata") or {}
    named = metadata.get(config.spec_option) if isinstance(metadata, dict) else None
    if isinstance(named, str) and named.strip():
        spec = LegacySpec(named, f"metadata.{config.spec_option}")
    else:
        spec = LegacySpec(str(raw.get("target_file", "")), "target_file")
    _locate(project_root, spec, config.tasks_file, spec_map)
    if spec.folder is None:
        return spec
    found_by = {
        "as named": spec.requested_by,
        "moved": f"{spec.requested_by} {spec.requested!r}, moved to {spec.folder!r}",
        "mapped": f"--spec-map {spec.requested!r} -> {spec.folder!r}",
    }[spec.how]
    try:
        spec.plan = build_plan(
            project_root, definition, spec.folder, found_by=found_by, stamp=stamp
        )
    except (DefinitionError, NotFoundError, ValidationError) as exc:
        spec.problem = f"the spec {spec.folder!r} cannot be planned: {exc.message}"
    return spec
