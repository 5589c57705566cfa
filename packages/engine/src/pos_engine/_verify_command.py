"""The ``command`` check: run a command the workflow definition declares, on one file.

Only commands declared in metadata.json ``commands`` run, only in a project that
enables them (``_gates_config``), and never through a shell: the argv is the
declaration's, with ``{path}`` and ``{target_file}`` replaced by whole,
project-relative paths that cannot pass for options. The process gets the
project as its working directory, no stdin, a minimal environment (the server's
own variables, which may hold tokens or store passwords, are not passed), its
own process group (so a timeout kills its children too), a time limit and an
output cap; its exit code and the tail of its output are recorded.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess  # nosec B404 - argv lists only, never a shell; see run_command
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._verify_spec import PLACEHOLDERS, CommandSpec
from .guards import validate_target_file

__all__ = ["OUTPUT_TAIL_CHARS", "CommandOutcome", "run_command"]

OUTPUT_TAIL_CHARS = 2000
"""How much of the end of a command's output is recorded."""

_TAIL_BYTES = 4 * OUTPUT_TAIL_CHARS  # enough bytes for OUTPUT_TAIL_CHARS of UTF-8
_CHUNK = 64 * 1024
_PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "USER", "LOGNAME")


@dataclass(frozen=True)
class CommandOutcome:
    """How one command run ended.

    Attributes:
        argv: What ran (placeholders filled).
        exit_code: The exit code (negative: killed by that signal); None if it never ran.
        passed: The exit code is one the declaration expects, within the limits.
        message: What the server saw, one sentence.
        output_tail: The last ``OUTPUT_TAIL_CHARS`` characters of stdout and stderr.
        output_bytes: How many bytes of output it wrote (up to the cap).
        duration_seconds: Wall time.
    """

    argv: tuple[str, ...]
    exit_code: int | None
    passed: bool
    message: str
    output_tail: str = ""
    output_bytes: int = 0
    duration_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as recorded in the verification and the audit trail."""
        return {
            "argv": list(self.argv),
            "exit_code": self.exit_code,
            "output_tail": self.output_tail,
            "output_bytes": self.output_bytes,
            "duration_seconds": round(self.duration_seconds, 3),
        }


class _Refused(Exception):
    pass


def _argument(value: str, name: str, root: Path) -> str:
    """A path for the argv: inside the project, normalised, never mistaken for an option."""
    try:
        rel = validate_target_file(value, root, name=name)
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    if rel.startswith("-"):
        raise _Refused(f"{name} {rel!r} starts with '-', which a command would read as an option")
    return rel


def _argv(spec: CommandSpec, values: dict[str, str]) -> list[str]:
    argv = []
    for template in spec.argv:
        arg = template
        for name in PLACEHOLDERS:
            arg = arg.replace("{" + name + "}", values[name])
        argv.append(arg)
    return argv


def _program(name: str, root: Path, env: dict[str, str]) -> str:
    if os.path.isabs(name):  # a program the definition names by its full path
        if not os.path.isfile(name) or not os.access(name, os.X_OK):
            raise _Refused(f"program {name!r} is not an executable file")
        return name
    if "/" in name:  # a script of the project
        rel = _argument(name, "program", root)
        path = root / rel
        if not path.is_file() or not os.access(path, os.X_OK):
            raise _Refused(f"program {name!r} is not an executable file of the project")
        return str(path)
    found = shutil.which(name, path=env["PATH"])
    if found is None:
        raise _Refused(f"program {name!r} is not found on the server's PATH")
    return found


def _environment(spec: CommandSpec) -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(spec.env)
    return env


class _Output:
    """Drains a pipe in a thread: keeps the last bytes, counts all, stops at a cap."""

    def __init__(self, stream: Any, cap: int) -> None:
        self._stream = stream
        self._cap = cap
        self.total = 0
        self.over_cap = threading.Event()
        self._tail: collections.deque[bytes] = collections.deque()
        self._tail_size = 0
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = self._stream.read1(_CHUNK)
            except (OSError, ValueError):  # closed under us after a stray child kept it open
                return
            if not chunk:
                return
            self.total += len(chunk)
            self._tail.append(chunk)
            self._tail_size += len(chunk)
            while self._tail_size - len(self._tail[0]) >= _TAIL_BYTES:
                self._tail_size -= len(self._tail.popleft())
            if self.total > self._cap:
                self.over_cap.set()
                return

    def finish(self, timeout: float) -> str:
        self._thread.join(timeout)
        text = b"".join(self._tail)[-_TAIL_BYTES:].decode("utf-8", "replace")
        return text[-OUTPUT_TAIL_CHARS:]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def run_command(spec: CommandSpec, root: Path, *, path: str, target_file: str) -> CommandOutcome:
    """Run ``spec`` on ``path`` in ``root`` and say whether it passed; never raises."""
    env = _environment(spec)
    try:
        values = {
            "path": _argument(path, "path", root),
            "target_file": _argument(target_file, "target_file", root),
        }
        argv = _argv(spec, values)
        argv[0] = _program(argv[0], root, env)
    except _Refused as exc:
        return CommandOutcome(tuple(spec.argv), None, False, f"{spec.name} not run: {exc}")
    shown = (spec.argv[0], *argv[1:])
    began = time.monotonic()
    try:
        # The argv is the definition's (never the evidence's); arguments are checked paths.
        process = subprocess.Popen(  # noqa: S603 # nosec B603
            argv,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return CommandOutcome(shown, None, False, f"{spec.name} could not start: {why}")
    assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
    output = _Output(process.stdout, spec.max_output_bytes)
    deadline = began + spec.timeout_seconds
    timed_out = False
    while process.poll() is None:
        if output.over_cap.is_set():
            break
        if time.monotonic() >= deadline:
            timed_out = True
            break
        output.over_cap.wait(min(0.05, max(0.0, deadline - time.monotonic())))
    # The whole group goes: a finished command's stray children must not outlive the check.
    _kill_group(process)
    code = process.wait()
    tail = output.finish(timeout=5.0)
    process.stdout.close()
    took = time.monotonic() - began

    def outcome(code: int | None, passed: bool, message: str) -> CommandOutcome:
        return CommandOutcome(shown, code, passed, message, tail, output.total, took)

    if output.over_cap.is_set():
        message = (
            f"{spec.name} wrote more than {spec.max_output_bytes} bytes of output and was stopped"
        )
        return outcome(None, False, message)
    if timed_out:
        message = f"{spec.name} did not finish within {spec.timeout_seconds:g} s and was stopped"
        return outcome(None, False, message)
    if code in spec.expect_exit:
        return outcome(code, True, f"{spec.name} exited {code}")
    expected = " or ".join(str(c) for c in spec.expect_exit)
    last = tail.strip().splitlines()[-1][:200] if tail.strip() else "no output"
    message = f"{spec.name} exited {code}, expected {expected} (last output line: {last})"
    return outcome(code, False, message)
