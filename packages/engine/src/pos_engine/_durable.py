"""Durable file primitives shared by the engine, the tool and the cutover.

An atomic replacement writes a temp file in the destination's folder, flushes and
fsyncs it, renames it over the destination and fsyncs the folder, so a crash at any
instant leaves either the old or the new bytes under the name, never a mix. Temp
files are named ``.<name>.<pid>.<hex>.tmp`` so that a later run can find and remove
the ones a killed process left behind.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["atomic_write", "fsync_dir"]


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a create, rename or unlink in it) to stable storage."""
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
