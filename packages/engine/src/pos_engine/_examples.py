"""Write the files a checkpoint's ``evidence_example`` names, for demos and tests.

A checkpoint whose fields the server verifies (``x-verify``) passes its example
evidence only where the files the example names exist and hold what the checks
look for. Demos and tests that drive a workflow with example evidence call
:func:`write_example_files` first, as an agent would write its files before
claiming them. The content is the least that passes: each literal the checks
look for on a line of its own, then filler lines up to ``min_lines``.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

from ._verify import field_values
from ._verify_spec import CommandSpec, FieldChecks, parse_field_checks
from .guards import validate_target_file

__all__ = ["example_file_text", "place_example_files", "write_example_files"]

_TEST_FILE = re.compile(r"^(test_\w+|\w+_test)\.py$")


def example_file_text(checks: FieldChecks, path: str = "", *, digest_claimed: bool = False) -> str:
    """The least text that passes ``checks``' content checks, for a file at ``path``.

    Args:
        checks: The field's checks.
        path: Where the file goes; a ``.py`` file gets its lines as comments, and a
            test file (``test_*.py``, ``*_test.py``) one passing test.
        digest_claimed: The caller fills in the ``file_sha256`` digest field itself.

    Raises:
        ValueError: a check no generated text can pass (a regex, a claimed digest
            the caller does not fill in, a difference from a git revision).
    """
    if checks.file_sha256 is not None and not digest_claimed:
        raise ValueError(f"{checks.pointer}: a claimed sha256 cannot be matched by example text")
    if checks.git_ref is not None or checks.git_ref_field is not None:
        raise ValueError(
            f"{checks.pointer}: git_changed needs a change against a git revision, which "
            "example text cannot make"
        )
    lines: list[str] = []
    for rule in checks.contains:
        if rule.literal is None:
            raise ValueError(f"{checks.pointer}: no example text is generated for a regex")
        lines.extend([rule.literal] * rule.min_count)
    wanted = checks.min_lines or 1
    lines.extend(f"example line {n}" for n in range(len(lines) + 1, wanted + 1))
    name = PurePosixPath(path).name
    if not name.endswith(".py"):
        return "\n".join(lines) + "\n"
    text = "".join(f"# {line}\n" for line in lines)
    if _TEST_FILE.match(name):
        text += "\n\ndef test_example() -> None:\n    assert 1 + 1 == 2\n"
    return text


def _field_checks(checkpoint: dict[str, Any]) -> tuple[FieldChecks, ...]:
    """The ``x-verify`` checks of a checkpoint as phase_content shows it."""
    commands = {
        c["name"]: CommandSpec(name=c["name"], argv=tuple(c["argv"]), description="")
        for c in checkpoint.get("commands", [])
    }
    return parse_field_checks(checkpoint.get("evidence_schema", {}), commands, "checkpoint")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _set(evidence: dict[str, Any], pointer: str, value: Any) -> None:
    """Set the value at JSON pointer ``pointer`` (which exists) of ``evidence``."""
    *steps, last = [_unescape(p) for p in pointer.split("/")[1:]]
    node: Any = evidence
    for step in steps:
        node = node[int(step)] if isinstance(node, list) else node[step]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def place_example_files(
    project_root: str | os.PathLike[str],
    folder: str,
    checkpoint: dict[str, Any],
    evidence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return ``evidence`` (default: the example) with its checked files written under ``folder``.

    Every value an ``x-verify`` check covers is a path; it becomes
    ``folder/<n>/<that path>`` (so a pattern on the path's end still matches), the
    file is written there with text that passes the checks, and the sibling field a
    ``file_sha256`` check compares gets the file's digest. Nothing is written
    outside ``folder``. A checkpoint without checks gives a copy of the evidence.

    Args:
        project_root: The project.
        folder: A project-relative folder the caller owns and removes afterwards.
        checkpoint: A ``phase_content["checkpoint"]`` as the tool returns it.
        evidence: The evidence to start from; defaults to ``evidence_example``.

    Raises:
        ValueError: a check the written text cannot pass (``git_changed``, a regex),
            or a checked value that is not a relative path; the message names the field.
    """
    root = Path(project_root)
    source = checkpoint.get("evidence_example", {}) if evidence is None else evidence
    placed: dict[str, Any] = copy.deepcopy(source)
    base = validate_target_file(folder, root, name="example folder")
    for index, checks in enumerate(_field_checks(checkpoint), start=1):
        for n, (pointer, value, _parent) in enumerate(field_values(placed, checks.path), start=1):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{pointer}: expected a file path, got {value!r}")
            tail = PurePosixPath(value.replace("\\", "/")).parts
            kept = "/".join(p for p in tail if p not in ("", "/", ".", ".."))
            rel = validate_target_file(f"{base}/{index}-{n}/{kept}", root, name=pointer)
            text = example_file_text(checks, rel, digest_claimed=True)
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            _set(placed, pointer, rel)
            if checks.file_sha256 is not None:
                sibling = checks.file_sha256.replace("~", "~0").replace("/", "~1")
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                _set(placed, pointer.rsplit("/", 1)[0] + "/" + sibling, digest)
    return placed


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
    fields = _field_checks(checkpoint)
    example = checkpoint["evidence_example"] if evidence is None else evidence
    written = []
    for checks in fields:
        for _pointer, value, _parent in field_values(example, checks.path):
            rel = validate_target_file(value, root, name="example path")
            path = root / rel
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(example_file_text(checks, rel), encoding="utf-8")
            written.append(rel)
    return written
