"""Durable file primitives: checksums, durable removal, leftover temp files.

Atomic replacement and folder fsync are the engine's (``pos_engine.atomic_write``,
``pos_engine.fsync_dir``), re-exported here; their temp files are named
``.<name>.<pid>.<hex>.tmp``, which is what :func:`remove_stale_temps` looks for.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pos_engine import atomic_write, fsync_dir

__all__ = [
    "atomic_write",
    "durable_unlink",
    "fsync_dir",
    "json_bytes",
    "remove_stale_temps",
    "sha256_bytes",
    "sha256_file",
]

_CHUNK = 1024 * 1024


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def json_bytes(value: Any) -> bytes:
    """Return ``value`` as indented, key-sorted UTF-8 JSON with a final newline."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def durable_unlink(path: Path) -> bool:
    """Remove ``path`` and fsync its folder; return whether it existed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temp files :func:`atomic_write` left for ``path``; return what was removed."""
    if not path.parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(path.name)}\.\d+\.[0-9a-f]+\.tmp")
    removed = []
    for entry in sorted(path.parent.iterdir()):
        if pattern.fullmatch(entry.name):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    if removed:
        fsync_dir(path.parent)
    return removed
