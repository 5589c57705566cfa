#!/usr/bin/env python3
"""Bootstrap and run a project gate with only Python 3.11+ installed.

    python3 run.py demo      # the main job: drive a bundled workflow through the MCP server
    python3 run.py tests     # the test suite with its coverage gates
    python3 run.py lint      # any other nox session: security, contracts, smoke, perf, ...

It creates ``.tools/`` (a virtualenv holding uv and nox) on first use, then runs
``nox -s <session>`` with it. Arguments after the session go to the session, with
or without a ``--`` of their own (``run.py cutover --project P`` and
``run.py cutover -- --project P`` are the same).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
BIN = TOOLS / ("Scripts" if os.name == "nt" else "bin")
REQUIREMENTS = ["uv>=0.9", "nox>=2025.5.1"]


def ensure_tools() -> None:
    """Create the tools virtualenv with uv and nox unless it is already there."""
    if (BIN / "nox").exists() and (BIN / "uv").exists():
        return
    print(f"run.py: installing {' and '.join(REQUIREMENTS)} into {TOOLS.name}/", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py may be started by any python3
        print("run.py: Python 3.11 or newer is required", file=sys.stderr)
        return 2
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    ensure_tools()
    session, *extra = argv
    if extra[:1] == ["--"]:  # nox's own separator, typed by habit: run.py adds it
        extra = extra[1:]
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [str(BIN / "nox"), "--download-python", "never", "-s", session]
    if extra:
        command += ["--", *extra]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
