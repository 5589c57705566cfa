"""Write the files a checkpoint's ``evidence_example`` names, for demos and tests.

A checkpoint whose fields the server verifies (``x-verify``) passes its example
evidence only where the files the example names exist and hold what the checks
look for. Demos and tests that drive a workflow with example evidence call
:func:`write_example_files` first, as an agent would write its files before
claiming them. The content is the least that passes: each literal the checks
look for on a line of its own, then filler lines up to ``min_lines``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._verify import field_values
from ._verify_spec import CommandSpec, FieldChecks, parse_field_checks
from .guards import validate_target_file

__all__ = ["example_file_text", "write_example_files"]


def example_file_text(checks: FieldChecks) -> str:
    """The least text that passes ``checks``' content checks.

    Raises:
        ValueError: a check no generated text can pass (a regex, a claimed digest).
    """
    if checks.file_sha256 is not None:
        raise ValueError(f"{checks.pointer}: a claimed sha256 cannot be matched by example text")
    lines: list[str] = []
    for rule in checks.contains:
        if rule.literal is None:
            raise ValueError(f"{checks.pointer}: no example text is generated for a regex")
        lines.extend([rule.literal] * rule.min_count)
    wanted = checks.min_lines or 1
    lines.extend(f"example line {n}" for n in range(len(lines) + 1, wanted + 1))
    return "\n".join(lines) + "\n"


def write_example_files(
    project_root: str | os.PathLike[str],
    checkpoint: dict[str, Any],
    evidence: dict[str, Any] | None = None,
) -> list[str]:
    """Write every file ``evidence`` (default: the checkpoint's example) names for the server's checks.

    Args:
        project_root: The project the files go into (never outside it).
        checkpoint: A ``phase_content["checkpoint"]`` as the tool returns it.
        evidence: The evidence to write files for; defaults to ``evidence_example``.

    Returns:
        The project-relative paths written (existing files are left as they are).
    """
    root = Path(project_root)
    commands = {
        c["name"]: CommandSpec(name=c["name"], argv=tuple(c["argv"]), description="")
        for c in checkpoint.get("commands", [])
    }
    fields = parse_field_checks(checkpoint["evidence_schema"], commands, "checkpoint")
    example = checkpoint["evidence_example"] if evidence is None else evidence
    written = []
    for checks in fields:
        for _pointer, value, _parent in field_values(example, checks.path):
            rel = validate_target_file(value, root, name="example path")
            path = root / rel
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(example_file_text(checks), encoding="utf-8")
            written.append(rel)
    return written
