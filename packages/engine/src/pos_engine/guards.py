"""Input guards: validate every identifier, path and evidence value a caller sends.

Each guard returns the validated (and, for paths, normalised) value or raises a
:class:`~pos_engine.exceptions.ValidationError` (a ``ValueError``) whose message
names the offending value and whose ``remediation`` says how to fix it. Size
violations raise the subclass :class:`~pos_engine.exceptions.LimitError`.

Messages only ever echo what the caller sent: they never contain server paths
such as the resolved project root.
"""

from __future__ import annotations

import errno
import json
import os
import re

from pos_engine.exceptions import LimitError, ValidationError

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "MAX_EVIDENCE_DEPTH",
    "MAX_PATH_COMPONENT_BYTES",
    "MAX_SESSION_ID_CHARS",
    "MAX_TARGET_PATH_CHARS",
    "SESSION_ID_PATTERN",
    "WORKFLOW_TYPE_PATTERN",
    "canonical_json",
    "checked_evidence_json",
    "validate_evidence_size",
    "validate_session_id",
    "validate_target_file",
    "validate_workflow_type",
]

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
"""Largest evidence payload accepted, in bytes of compact UTF-8 JSON."""

MAX_EVIDENCE_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in evidence (and start options)."""

MAX_TARGET_PATH_CHARS = 1024
"""Longest ``target_file`` accepted, in characters."""

MAX_PATH_COMPONENT_BYTES = 255
"""Longest single component of ``target_file``, in UTF-8 bytes (the usual NAME_MAX)."""

MAX_SESSION_ID_CHARS = 128
"""Longest session id accepted, in characters."""

SESSION_ID_PATTERN = r"[a-z0-9][a-z0-9_-]{0,127}"
"""What a session id is made of (matched in full)."""

WORKFLOW_TYPE_PATTERN = r"[a-z][a-z0-9_]{1,63}"
"""What a workflow type is made of (matched in full)."""

_SESSION_ID = re.compile(SESSION_ID_PATTERN)
_WORKFLOW_TYPE = re.compile(WORKFLOW_TYPE_PATTERN)
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")
_SHOWN_CHARS = 80
_MB = 1024 * 1024

_SESSION_ID_HINT = (
    "Use a session id as returned by start: 1-128 characters of lowercase letters, "
    "digits, '_' and '-', starting with a letter or digit "
    "(e.g. 'test_generation_v3_calculator_py_20251023_143022_3f9a1c')."
)
_TARGET_HINT = "Pass a path relative to the project root that stays inside it, e.g. 'src/app.py'."


def _clip(text: str) -> str:
    """Return ``text`` truncated to about 80 characters."""
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _show(value: object) -> str:
    """Return ``repr(value)``, truncated to about 80 characters."""
    return _clip(repr(value))


def _require_str(name: str, value: object, remediation: str) -> str:
    """Return ``value`` if it is a str, else raise ValidationError naming its type."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{name} must be a string, got {type(value).__name__} {_show(value)}",
            remediation=remediation,
        )
    return value


def validate_session_id(session_id: object) -> str:
    """Check that ``session_id`` is a well-formed session id.

    Valid ids are 1-128 characters of ``[a-z0-9_-]`` starting with ``[a-z0-9]``;
    this admits current ids (``test_generation_v3_calculator_py_20251023_143022_3f9a1c``)
    and legacy lowercase uuid4 strings.

    Args:
        session_id: The value the caller sent.

    Returns:
        The session id, unchanged.

    Raises:
        LimitError: The id is longer than 128 characters.
        ValidationError: The id is not a string or does not match the pattern.
    """
    value = _require_str("session_id", session_id, _SESSION_ID_HINT)
    if len(value) > MAX_SESSION_ID_CHARS:
        raise LimitError(
            f"session_id {_show(value)} is {len(value)} characters long, "
            f"over the {MAX_SESSION_ID_CHARS} allowed",
            remediation=_SESSION_ID_HINT,
        )
    if not _SESSION_ID.fullmatch(value):
        raise ValidationError(
            f"session_id {_show(value)} is not a valid session id "
            "(lowercase letters, digits, '_' and '-' only, starting with a letter or digit)",
            remediation=_SESSION_ID_HINT,
        )
    return value


def validate_workflow_type(workflow_type: object) -> str:
    """Check that ``workflow_type`` is a well-formed workflow type name.

    Args:
        workflow_type: The value the caller sent.

    Returns:
        The workflow type, unchanged.

    Raises:
        ValidationError: Not a string matching ``^[a-z][a-z0-9_]{1,63}$``.
    """
    remediation = (
        "Use a workflow type as listed by list_workflows: 2-64 characters of lowercase "
        "letters, digits and '_', starting with a letter (e.g. 'test_generation_v3')."
    )
    value = _require_str("workflow_type", workflow_type, remediation)
    if not _WORKFLOW_TYPE.fullmatch(value):
        raise ValidationError(
            f"workflow_type {_show(value)} is not a valid workflow type",
            remediation=remediation,
        )
    return value


def validate_target_file(
    target_file: object,
    project_root: str | os.PathLike[str] | None = None,
    *,
    name: str = "target_file",
) -> str:
    """Check that ``target_file`` names a file inside the project and normalise it.

    Backslashes count as separators on every OS. The path is joined to the
    resolved project root and resolved (following symlinks of the components
    that exist; the target itself need not exist); the result must be a fixed
    point of resolution and lie strictly inside the resolved root, compared by
    path parts, never by string prefix.

    Args:
        target_file: The relative path the caller sent.
        project_root: The project root; defaults to the current working directory.
        name: What the value is called in messages (evidence paths use their pointer).

    Returns:
        The resolved path relative to the resolved root, in POSIX form
        (``src/./a.py`` gives ``src/a.py``; a symlink inside the project is
        replaced by the path it points to).

    Raises:
        LimitError: The path is over 1024 characters or a component over 255 bytes.
        ValidationError: The path is not a non-empty string, contains a NUL byte,
            is absolute, escapes the project root (directory traversal), names the
            root itself, or cannot be resolved (e.g. a symlink loop).
    """
    value = _require_str(name, target_file, _TARGET_HINT)
    shown = _show(value)
    if not value or "\x00" in value:
        raise ValidationError(
            f"{name} {shown} must be a non-empty path without NUL bytes",
            remediation=_TARGET_HINT,
        )
    if len(value) > MAX_TARGET_PATH_CHARS:
        raise LimitError(
            f"{name} {shown} is {len(value)} characters long, "
            f"over the {MAX_TARGET_PATH_CHARS} allowed",
            remediation="Use a shorter path.",
        )
    posix = value.replace("\\", "/")
    if posix.startswith("/") or _WINDOWS_DRIVE.match(posix):
        raise ValidationError(
            f"{name} {shown} is an absolute path; only paths relative to the "
            "project root are accepted",
            remediation=_TARGET_HINT,
        )
    longest = max(len(part.encode("utf-8", "surrogatepass")) for part in posix.split("/"))
    if longest > MAX_PATH_COMPONENT_BYTES:
        raise LimitError(
            f"{name} {shown} has a component longer than {MAX_PATH_COMPONENT_BYTES} bytes",
            remediation="Use shorter file and folder names.",
        )
    try:
        root = _resolved(os.getcwd() if project_root is None else os.fspath(project_root))
        resolved = _resolved(os.path.join(root, posix))
        # After a symlink loop, realpath may return the rest of the path unresolved
        # (``loop/../link_out`` gives ``root/link_out``): only a fixed point is trusted.
        if _resolved(resolved) != resolved:
            raise RuntimeError("path did not resolve to a fixed point")
    except (OSError, RuntimeError, ValueError):
        # The exception text would reveal server paths: do not echo it.
        raise ValidationError(
            f"{name} {shown} cannot be resolved (symlink loop or unusable name)",
            remediation=_TARGET_HINT,
        ) from None
    if resolved == root:
        raise ValidationError(
            f"{name} {shown} names the project root itself, not a file inside it",
            remediation=_TARGET_HINT,
        )
    # Both are absolute and normalised, so a prefix ending in "/" compares whole parts.
    inside = root if root.endswith("/") else root + "/"
    if not resolved.startswith(inside):
        raise ValidationError(
            f"{name} {shown} leads outside the project root (directory traversal)",
            remediation=_TARGET_HINT + " Do not use '..' or symlinks that lead out of it.",
        )
    return resolved[len(inside) :]


def _resolved(path: str) -> str:
    """``Path(path).resolve()`` as a string, without pathlib's objects (a third of the time).

    ``realpath`` follows the symlinks of the components that exist; like ``resolve``, a
    ``stat`` of the result then turns a symlink loop into RuntimeError.
    """
    real = os.path.realpath(path)
    try:
        os.stat(real)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RuntimeError("symlink loop") from None
    return real


def canonical_json(value: object) -> bytes:
    """Return the canonical JSON of ``value``: sorted keys, no spaces, UTF-8, no NaN.

    Digests of evidence and audit entries are taken of these bytes.

    Raises:
        TypeError, ValueError, RecursionError: ``value`` is not plain JSON.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def validate_evidence_size(evidence: object, limit: int = MAX_EVIDENCE_BYTES) -> int:
    """Check that ``evidence`` is plain JSON no larger than ``limit`` bytes.

    The size is that of the compact UTF-8 serialisation (``separators=(",", ":")``,
    ``ensure_ascii=False``). Returns the serialised size in bytes; raises as
    :func:`checked_evidence_json` does.
    """
    return len(checked_evidence_json(evidence, limit))


def checked_evidence_json(evidence: object, limit: int = MAX_EVIDENCE_BYTES) -> bytes:
    """Check that ``evidence`` is plain JSON no larger than ``limit``; return its canonical JSON.

    The value is serialised once (see :func:`canonical_json`): the bytes serve the size
    check and the evidence digest alike. Sorting keys changes no size.

    Args:
        evidence: The evidence value the caller sent.
        limit: The largest size accepted, in bytes.

    Raises:
        LimitError: The serialised evidence is larger than ``limit``, or arrays and
            objects nest deeper than ``MAX_EVIDENCE_DEPTH``.
        ValidationError: The evidence is not JSON-serialisable (including NaN,
            Infinity, circular references, strings that are not valid Unicode and
            objects whose keys cannot be ordered).
    """
    try:
        encoded = canonical_json(evidence)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(
            f"evidence must be plain JSON (objects, arrays, strings, finite numbers, "
            f"booleans, null): {_clip(str(exc))}",
            remediation="Convert the evidence to JSON types (e.g. lists instead of sets, "
            "strings instead of objects, text keys in objects) and call again.",
        ) from None
    size = len(encoded)
    if size > limit:
        raise LimitError(
            f"evidence is too large: {size / _MB:.2f} MB ({size} bytes), "
            f"over the {limit / _MB:.2f} MB ({limit} bytes) limit",
        )
    depth = _depth(evidence)
    if depth > MAX_EVIDENCE_DEPTH:
        raise LimitError(
            f"evidence nests {depth} levels deep, over the {MAX_EVIDENCE_DEPTH} allowed",
            remediation="Flatten the evidence: nested arrays and objects may go "
            f"{MAX_EVIDENCE_DEPTH} levels deep.",
        )
    return encoded


def _depth(value: object) -> int:
    """Return how deep arrays and objects nest in ``value`` (iteratively: no recursion)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
        else:
            continue
        deepest = max(deepest, level)
    return deepest
