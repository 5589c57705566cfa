"""Drive the verified_change_v1 example workflow (docs/examples/workflows) with real files.

Its phase 1 checks the changed file (exists, digest, differs from the starting commit),
phase 2 the test file (defines tests; pytest collects it where commands are enabled),
and phase 3 needs a person's approval. These helpers do what an agent would: change
the file in a git repository, write the tests, and build the evidence from them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["SIGN_OFF", "WF", "git", "install", "make_change", "write_tests"]

WF = "verified_change_v1"
"""The example workflow's type."""

SIGN_OFF: dict[str, Any] = {
    "summary": "Adds sub() to the calculator, with a test.",
    "files_touched": ["src/calculator.py", "tests/test_calculator.py"],
}
"""Phase 3 evidence that passes once :func:`make_change` and :func:`write_tests` ran."""


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` with a clean configuration; return its output."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "tester",
        "GIT_AUTHOR_EMAIL": "tester@example.com",
        "GIT_COMMITTER_NAME": "tester",
        "GIT_COMMITTER_EMAIL": "tester@example.com",
    }
    done = subprocess.run(  # noqa: S603 # nosec B603 - tests' own git calls
        ["git", *args],  # noqa: S607 # nosec B607
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def install(project: Path, example: Path) -> None:
    """Copy the workflow into the project and make the project a git repository.

    ``project/src/calculator.py`` must exist; it is committed as the starting point.
    """
    shutil.copytree(example, project / ".praxis-os" / "workflows" / WF)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "src")
    git(project, "commit", "-q", "-m", "start")


def make_change(project: Path) -> dict[str, Any]:
    """Change ``src/calculator.py`` as an agent would; return phase 1's evidence."""
    base = git(project, "rev-parse", "HEAD")
    path = project / "src" / "calculator.py"
    path.write_text(path.read_text() + "\n\ndef sub(a, b):\n    return a - b\n")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"changed_file": "src/calculator.py", "changed_file_sha256": digest, "base_ref": base}


def write_tests(project: Path) -> dict[str, Any]:
    """Write ``tests/test_calculator.py``; return phase 2's evidence."""
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "test_calculator.py").write_text(
        "from calculator import sub\n\n\ndef test_sub():\n    assert sub(3, 1) == 2\n"
    )
    return {"test_file": "tests/test_calculator.py", "test_count": 1}
