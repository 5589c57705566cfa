"""A cutover the previous release made (backup format 3, the file store's files in its state
manifest) is rolled back by this release, to the project exactly as it was.

``data/format3`` holds what that release's ``pos-cutover run`` left on a copy of the praxis
fixture which had a session of its own (see its README.md): laid over a fresh copy, it is
that project after the old cutover.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_cutover import find_backup, read_legacy_migration
from pos_engine import FileSessionStore

DATA = Path(__file__).parent / "data" / "format3"
OWN = "spec_creation_v1_notes_md_20251020_101500_a1b2c3"
"""The session the project held before the old cutover."""

Tree = Callable[[Path], dict[str, str]]


def _overlay(source: Path, project: Path) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = project / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


@pytest.fixture
def cut_over(praxis_project: Path, tree: Tree) -> tuple[Path, dict[str, str]]:
    """The praxis project after the previous release's cutover, and its files before it."""
    _overlay(DATA / "before", praxis_project)
    before = tree(praxis_project)
    _overlay(DATA / "after", praxis_project)
    return praxis_project, before


def test_a_format_3_backup_reads_its_sessions_from_its_state_manifest(
    cut_over: tuple[Path, dict[str, str]],
) -> None:
    project, _ = cut_over

    backup = find_backup(project)

    assert (backup.format_version, backup.store_setting, backup.sessions) == (3, None, 1)
    assert backup.inventory().sessions == {OWN: (None, None)}
    assert dict(backup.snapshot().records) == {}


@pytest.mark.slow
def test_a_cutover_of_the_previous_release_is_rolled_back_byte_for_byte(
    cut_over: tuple[Path, dict[str, str]], cli: Callable[..., Any], tree: Tree
) -> None:
    project, before = cut_over
    ledger = read_legacy_migration(find_backup(project))
    assert ledger is not None
    own = FileSessionStore.from_project(project).load(OWN)

    rolled = cli("rollback", "--project", str(project), "--json")

    record = json.loads(rolled.out)["rollback"]
    assert (rolled.code, record["ok"], record["byte_identical"]) == (0, True, True), rolled.out
    assert record["migrations_undone"][0]["sessions"] == sorted(ledger.created)
    assert record["sessions"] == {
        "recorded": 1,
        "unchanged": [OWN],
        "changed": [],
        "older": [],
        "missing": [],
        "unreadable": [],
    }
    assert FileSessionStore.from_project(project).load(OWN) == own
    assert tree(project) == before


def test_a_format_3_backup_is_refused_on_a_store_it_was_not_taken_on(
    cut_over: tuple[Path, dict[str, str]], cli: Callable[..., Any], tree: Tree, tmp_path: Path
) -> None:
    project, _ = cut_over
    after = tree(project)
    elsewhere = tmp_path / "elsewhere"
    FileSessionStore.from_project(elsewhere)

    rolled = cli("rollback", "--project", str(project), "--json", "--store", str(elsewhere))

    result = json.loads(rolled.out)
    backup = find_backup(project)
    assert (rolled.code, result["outcome"]) == (2, "error")
    assert result["message"] == (
        f"backup {backup.backup_id} was taken on the project's file store (file store), but "
        f"this command is set to use {elsewhere}: its sessions would be looked for in the wrong "
        "place. Run the command without --store, with POS_WORKFLOW_STORE unset."
    )
    assert tree(project) == after
