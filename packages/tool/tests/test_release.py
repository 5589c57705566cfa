"""The release facts agree: every package's version, and the newest entry of CHANGELOG.md."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = sorted((ROOT / "packages").glob("*/pyproject.toml"))
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def _version(pyproject: Path) -> str:
    return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])


def test_every_package_carries_the_same_version() -> None:
    versions = {p.parent.name: _version(p) for p in [ROOT / "pyproject.toml", *PACKAGES]}
    assert len(PACKAGES) >= 4, "the workspace's packages were not found"
    assert len(set(versions.values())) == 1, f"versions disagree: {versions}"


def test_the_newest_changelog_release_is_the_packages_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = RELEASE.findall(text)
    assert releases, "CHANGELOG.md has no '## [X.Y.Z] - YYYY-MM-DD' entry"
    newest, _date = releases[0]
    assert newest == _version(PACKAGES[0])
    # Unreleased stays on top, so the next change has its place.
    assert text.index("## [Unreleased]") < text.index(f"## [{newest}]")
