"""Durable file primitives: checksums, atomic replacement, durable removal.

An atomic replacement writes a temp file in the destination's folder, flushes
and fsyncs it, renames it over the destination and fsyncs the folder, so a crash
at any instant leaves either the old or the new bytes under the name, never a
mix. Temp files are named ``.<name>.<pid>.<hex>.tmp`` so that a later run can
find and remove the ones a killed process left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

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


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename or unlink in it) to stable storage."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically and durably.

    Args:
        path: The file to create or replace; its folder is created if missing.
        data: The new content.
        mode: Permission bits of the new file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_name(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # The umask may have narrowed the mode given to open().
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


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
