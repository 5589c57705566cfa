"""Durable file primitives: atomic replacement, stale temp clean-up."""

from __future__ import annotations

import stat
from pathlib import Path

from pos_cutover._files import atomic_write, durable_unlink, remove_stale_temps, sha256_file


def test_atomic_write_replaces_the_content_with_the_mode_asked_and_leaves_no_temp(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sub" / "file.json"

    atomic_write(path, b"one")
    atomic_write(path, b"two", mode=0o600)

    assert path.read_bytes() == b"two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.json"]
    assert sha256_file(path) == "3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3"


def test_remove_stale_temps_removes_only_the_temps_of_that_file(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    for name in (
        ".registry.json.123.abcd.tmp",
        ".registry.json.9.00ff.tmp",
        ".other.json.1.ab.tmp",
        "registry.json",
    ):
        (tmp_path / name).write_text("x")

    removed = remove_stale_temps(path)

    assert sorted(p.name for p in removed) == [
        ".registry.json.123.abcd.tmp",
        ".registry.json.9.00ff.tmp",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.1.ab.tmp", "registry.json"]
    assert remove_stale_temps(tmp_path / "missing" / "x.json") == []


def test_durable_unlink_says_whether_the_file_existed(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")

    assert (durable_unlink(path), durable_unlink(path)) == (True, False)
