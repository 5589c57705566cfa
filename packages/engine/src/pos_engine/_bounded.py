"""Bounded reads and parses of files that come with a project.

Projects are cloned from anywhere, so every file the engine reads from one (workflow
definitions, gate files, task pages, specs, session records) may be broken by accident
or written by an attacker. The helpers here read such a file only if it is a regular
file (never a FIFO, a device or, where asked, a symlink), only up to a size limit, and
parse JSON and YAML only up to a nesting depth, refusing YAML aliases before anything
expands them. Each refusal is a :class:`BoundedInputError` whose message says what was
wrong without naming a server path; callers turn it into their own error type.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_DEFINITION_FILE_BYTES",
    "MAX_NESTING_DEPTH",
    "BoundedInputError",
    "check_depth",
    "parse_json_bounded",
    "parse_yaml_bounded",
    "read_bounded_bytes",
    "read_bounded_text",
]

MAX_DEFINITION_FILE_BYTES = 1024 * 1024
"""Largest workflow definition file (metadata.json, gate YAML, phase page, task file)."""

MAX_NESTING_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a definition file."""

_CHUNK = 1024 * 1024


class BoundedInputError(ValueError):
    """A file is unsafe to read or over a limit; the message says which and why."""


def _open_regular(path: Path, *, follow_symlinks: bool) -> int:
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK  # O_NONBLOCK: opening a FIFO never waits
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW refused a symlink as the last component
            raise BoundedInputError("is a symbolic link, which is not followed here") from None
        raise
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise BoundedInputError("is not a regular file (a FIFO, device or folder)")
    return fd


def read_bounded_bytes(
    path: str | os.PathLike[str],
    *,
    limit: int,
    inside: str | os.PathLike[str] | None = None,
    follow_symlinks: bool = False,
) -> bytes:
    """Read a regular file of at most ``limit`` bytes.

    Args:
        path: The file to read.
        limit: The largest size accepted, in bytes.
        inside: When given, the file must resolve (symlinks followed) to a path inside
            this folder; a link that leads out of it is refused.
        follow_symlinks: Follow a symlink in the last path component. Off by default:
            records the engine writes itself are never links.

    Raises:
        BoundedInputError: the path leads outside ``inside``, is a symlink (when not
            followed), is not a regular file, or is larger than ``limit``.
        OSError: the file cannot be opened or read (FileNotFoundError included).
    """
    target = Path(path)
    if inside is not None:
        resolved = target.resolve()
        if not resolved.is_relative_to(Path(inside).resolve()):
            raise BoundedInputError("resolves to a file outside its folder")
        target, follow_symlinks = resolved, False  # the resolved path has no link left to follow
    fd = _open_regular(target, follow_symlinks=follow_symlinks)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise BoundedInputError(f"is {size} bytes, over the {limit} bytes allowed")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise BoundedInputError(f"is over the {limit} bytes allowed")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_bounded_text(
    path: str | os.PathLike[str],
    *,
    limit: int = MAX_DEFINITION_FILE_BYTES,
    inside: str | os.PathLike[str] | None = None,
    follow_symlinks: bool = False,
) -> str:
    """Read a UTF-8 text file with the checks of :func:`read_bounded_bytes`.

    Raises:
        BoundedInputError: as :func:`read_bounded_bytes`, or the bytes are not UTF-8.
        OSError: the file cannot be opened or read.
    """
    data = read_bounded_bytes(path, limit=limit, inside=inside, follow_symlinks=follow_symlinks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BoundedInputError(f"is not UTF-8 text (byte {exc.start})") from None


def check_depth(value: Any, max_depth: int = MAX_NESTING_DEPTH) -> None:
    """Raise BoundedInputError when arrays and objects nest deeper than ``max_depth``.

    Iterative, so a deep value cannot exhaust the interpreter's stack.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            raise BoundedInputError(f"nests deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def parse_json_bounded(text: str | bytes, *, max_depth: int = MAX_NESTING_DEPTH) -> Any:
    """Parse JSON, refusing values nested deeper than ``max_depth``.

    Raises:
        BoundedInputError: not valid JSON (with line and column), or too deep.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise BoundedInputError(f"nests deeper than {max_depth} levels") from None
    except json.JSONDecodeError as exc:
        raise BoundedInputError(
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    except ValueError as exc:  # bytes that are not UTF-8
        raise BoundedInputError(f"is not valid JSON: {str(exc)[:120]}") from None
    check_depth(value, max_depth)
    return value


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting while composing, before construction.

    An alias makes one node appear in many places: a few lines of aliases expand into
    billions of nodes as soon as anything walks the result (the "billion laughs").
    Definition files have no use for them, so any alias is refused outright.
    """

    max_depth = MAX_NESTING_DEPTH
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise BoundedInputError(
                f"uses a YAML alias (line {event.start_mark.line + 1}); aliases are not "
                "accepted in workflow files"
            )
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise BoundedInputError(
                    f"nests deeper than {self.max_depth} levels (line {event.start_mark.line + 1})"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml_bounded(text: str, *, max_depth: int = MAX_NESTING_DEPTH) -> Any:
    """Parse YAML into plain data (safe tags only), refusing aliases and deep nesting.

    Raises:
        BoundedInputError: an alias, nesting deeper than ``max_depth``.
        yaml.YAMLError: the text is not valid YAML (its ``problem_mark`` says where).
    """
    loader = _BoundedLoader(text)
    loader.max_depth = max_depth
    try:
        return loader.get_single_data()
    except RecursionError:
        raise BoundedInputError(f"nests deeper than {max_depth} levels") from None
    finally:
        loader.dispose()
