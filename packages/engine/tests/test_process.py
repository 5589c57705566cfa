"""``freeze_objects_at_exit``: what it changes at exit, and what it leaves to run.

Each case runs in a fresh interpreter (a subprocess): exit is what is tested.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # fresh interpreters

_PROBE = """
import atexit, gc, sys
from pathlib import Path

LOG = Path(sys.argv[1])

def note(word):
    with LOG.open("a", encoding="utf-8") as log:
        log.write(f"{word} {gc.get_freeze_count() > 0}\\n")

atexit.register(note, "registered-before")
{body}
atexit.register(note, "registered-after")
"""


def _exit_notes(tmp_path: Path, body: str) -> list[str]:
    log = tmp_path / "exit.log"
    script = _PROBE.replace("{body}", body)
    done = subprocess.run(
        [sys.executable, "-c", script, str(log)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return log.read_text(encoding="utf-8").splitlines()


def test_objects_are_frozen_at_exit_after_every_handler_registered_later_has_run(
    tmp_path: Path,
) -> None:
    notes = _exit_notes(
        tmp_path,
        "from pos_engine import freeze_objects_at_exit\n"
        "freeze_objects_at_exit()\nfreeze_objects_at_exit()",
    )

    # Handlers run last-registered first: the later one still sees nothing frozen,
    # the earlier one (like the interpreter's own finalisation) runs after the freeze.
    assert notes == ["registered-after False", "registered-before True"]


def test_without_it_nothing_is_frozen_at_exit(tmp_path: Path) -> None:
    notes = _exit_notes(tmp_path, "import pos_engine")

    assert notes == ["registered-after False", "registered-before False"]


def test_the_engine_demo_command_freezes_its_objects_at_exit(tmp_path: Path) -> None:
    body = (
        "from pos_engine._demo import main\n"
        f"main(['--project-root', {str(tmp_path / 'project')!r}])"
    )

    assert _exit_notes(tmp_path, body)[-1] == "registered-before True"
