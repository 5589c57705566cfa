"""Tests for pos_engine.guards: session ids, workflow types, target paths, evidence size."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pos_engine import guards
from pos_engine.exceptions import LimitError, ValidationError
from pos_engine.guards import (
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_DEPTH,
    MAX_PATH_COMPONENT_BYTES,
    MAX_TARGET_PATH_CHARS,
    canonical_json,
    checked_evidence_json,
    validate_evidence_size,
    validate_session_id,
    validate_target_file,
    validate_workflow_type,
)

# --------------------------------------------------------------------------- helpers


def _build_project(base: Path) -> Path:
    """Create ``base/proj`` with real files and symlinks, plus look-alike siblings.

    Layout::

        base/outside.txt
        base/proj-evil/x           sibling sharing the root's name as prefix
        base/projx/secret          sibling sharing the root's name as prefix
        base/proj/src/a.py
        base/proj/in_dir      -> src            (relative, inside)
        base/proj/in_file.py  -> src/a.py       (relative, inside)
        base/proj/abs_in      -> base/proj/src  (absolute, inside)
        base/proj/out_dir     -> ../projx       (folder outside)
        base/proj/out_file.py -> ../outside.txt (file outside)
        base/proj/evil        -> ../proj-evil   (folder outside)
        base/proj/abs_out     -> /              (absolute, outside)
        base/proj/up          -> ..             (parent of the root)
        base/proj/loop        -> loop           (symlink loop)
    """
    root = base / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x = 1\n", encoding="utf-8")
    (base / "proj-evil").mkdir()
    (base / "proj-evil" / "x").write_text("evil\n", encoding="utf-8")
    (base / "projx").mkdir()
    (base / "projx" / "secret").write_text("secret\n", encoding="utf-8")
    (base / "outside.txt").write_text("outside\n", encoding="utf-8")
    links = {
        "in_dir": "src",
        "in_file.py": "src/a.py",
        "abs_in": str(root / "src"),
        "out_dir": "../projx",
        "out_file.py": "../outside.txt",
        "evil": "../proj-evil",
        "abs_out": "/",
        "up": "..",
        "loop": "loop",
    }
    for name, target in links.items():
        os.symlink(target, root / name)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root under tmp_path with inside and outside symlinks."""
    return _build_project(tmp_path)


@contextmanager
def _temp_project() -> Iterator[Path]:
    """Build the project once in a fresh temporary folder (for hypothesis tests)."""
    base = Path(tempfile.mkdtemp())
    try:
        yield _build_project(base)
    finally:
        shutil.rmtree(base)


def _inside(path: str, root: str) -> bool:
    """Whether the real path ``path`` lies strictly inside the real path ``root``."""
    return path != root and os.path.commonpath([path, root]) == root


def _assert_no_server_path(exc: ValidationError, *paths: Path) -> None:
    for path in paths:
        for text in {str(path), str(path.resolve())}:
            assert text not in exc.message
            assert text not in exc.remediation


# --------------------------------------------------------------------------- constants


def test_limits_have_the_documented_values() -> None:
    assert MAX_EVIDENCE_BYTES == 10 * 1024 * 1024
    assert MAX_TARGET_PATH_CHARS == 1024
    assert MAX_PATH_COMPONENT_BYTES == 255


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(guards) if not name.startswith("_")}
    imported = {"annotations", "errno", "json", "os", "re", "LimitError", "ValidationError"}
    assert set(guards.__all__) == public - imported


def test_limit_error_is_a_validation_error_and_a_value_error() -> None:
    assert issubclass(LimitError, ValidationError)
    assert issubclass(ValidationError, ValueError)


# --------------------------------------------------------------------------- session ids

VALID_SESSION_IDS = [
    "test_generation_v3_calculator_py_20251023_143022_3f9a1c",
    "3f2b8c1e-9d4a-4f6b-8e2c-1a2b3c4d5e6f",
    str(uuid.uuid4()),
    "a",
    "0",
    "a-b_c",
    "x" * 128,
]


@pytest.mark.parametrize("session_id", VALID_SESSION_IDS)
def test_valid_session_ids_are_returned_unchanged(session_id: str) -> None:
    assert validate_session_id(session_id) == session_id


@pytest.mark.parametrize(
    "session_id",
    [
        "",
        "ABC",
        "Test_generation",
        "3F2B8C1E-9D4A-4F6B-8E2C-1A2B3C4D5E6F",
        "a/b",
        "../etc",
        "a.b",
        "a\x00b",
        "a b",
        " a",
        "a\t",
        "abc\n",
        "-abc",
        "_abc",
        "caf\u00e9",
    ],
)
def test_malformed_session_ids_are_rejected_with_a_description_of_valid_ids(
    session_id: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        validate_session_id(session_id)
    assert repr(session_id) in info.value.message
    assert "lowercase letters, digits" in info.value.message
    assert "start" in info.value.remediation


@pytest.mark.parametrize("session_id", [None, 42, b"abc", ["abc"]])
def test_non_string_session_ids_are_rejected_naming_the_type(session_id: object) -> None:
    with pytest.raises(ValidationError, match="must be a string") as info:
        validate_session_id(session_id)
    assert type(session_id).__name__ in info.value.message


def test_session_ids_over_128_characters_raise_limit_error_with_a_truncated_value() -> None:
    with pytest.raises(LimitError, match="129 characters") as info:
        validate_session_id("x" * 129)
    assert "..." in info.value.message
    assert len(info.value.message) < 200


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,127}", fullmatch=True))
def test_every_id_matching_the_pattern_is_accepted(session_id: str) -> None:
    assert validate_session_id(session_id) == session_id


_ID_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789_-")


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.text(_ID_CHARS, max_size=60),
    st.characters().filter(lambda c: c not in "abcdefghijklmnopqrstuvwxyz0123456789_-"),
    st.text(_ID_CHARS, max_size=60),
)
def test_ids_with_a_character_outside_the_alphabet_are_rejected(
    head: str, bad: str, tail: str
) -> None:
    with pytest.raises(ValidationError):
        validate_session_id("a" + head + bad + tail)


# --------------------------------------------------------------------------- workflow types


@pytest.mark.parametrize("workflow_type", ["test_generation_v3", "ab", "a1", "a" * 64])
def test_valid_workflow_types_are_returned_unchanged(workflow_type: str) -> None:
    assert validate_workflow_type(workflow_type) == workflow_type


@pytest.mark.parametrize(
    "workflow_type", ["", "a", "A_b", "1abc", "_ab", "a-b", "a.b", "a b", "ab\n", "a" * 65]
)
def test_malformed_workflow_types_are_rejected_naming_the_value(workflow_type: str) -> None:
    with pytest.raises(ValidationError, match="not a valid workflow type") as info:
        validate_workflow_type(workflow_type)
    assert repr(workflow_type)[:40] in info.value.message
    assert "list_workflows" in info.value.remediation


@pytest.mark.parametrize("workflow_type", [None, 3, ("ab",)])
def test_non_string_workflow_types_are_rejected(workflow_type: object) -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        validate_workflow_type(workflow_type)


# --------------------------------------------------------------------------- target files


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("src/a.py", "src/a.py"),
        ("src/./a.py", "src/a.py"),
        ("./src/a.py", "src/a.py"),
        ("src//a.py", "src/a.py"),
        ("src/", "src"),
        ("src\\a.py", "src/a.py"),
        ("a/../b.py", "b.py"),
        ("src/a..b.py", "src/a..b.py"),
        ("docs/100%.md", "docs/100%.md"),
        ("..foo/bar.py", "..foo/bar.py"),
        ("...", "..."),
        ("my docs/read me.md", "my docs/read me.md"),
        ("données/naïve_\u00fcber_\u6f22\u5b57.py", "données/naïve_\u00fcber_\u6f22\u5b57.py"),
        ("~/x.py", "~/x.py"),
        ("new/dir/not_yet.py", "new/dir/not_yet.py"),
        ("in_dir/a.py", "src/a.py"),
        ("in_file.py", "src/a.py"),
        ("abs_in/a.py", "src/a.py"),
        ("up/proj/src/a.py", "src/a.py"),
    ],
)
def test_paths_inside_the_project_are_returned_normalised_and_relative(
    project: Path, target: str, expected: str
) -> None:
    assert validate_target_file(target, project) == expected


def test_project_root_may_be_given_as_a_string(project: Path) -> None:
    assert validate_target_file("src/./a.py", str(project)) == "src/a.py"


def test_project_root_defaults_to_the_current_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    assert validate_target_file("src/a.py") == "src/a.py"
    with pytest.raises(ValueError, match="directory traversal"):
        validate_target_file("../../../etc/passwd")


def test_a_project_root_that_is_itself_a_symlink_is_resolved_first(
    project: Path, tmp_path: Path
) -> None:
    alias = tmp_path / "alias"
    os.symlink(project, alias)
    assert validate_target_file("in_dir/a.py", alias) == "src/a.py"
    assert validate_target_file("../proj/src/a.py", alias) == "src/a.py"
    with pytest.raises(ValidationError, match="directory traversal"):
        validate_target_file("../projx/secret", alias)


TRAVERSALS = [
    "..",
    "../x",
    "../../../etc/passwd",
    "a/../../x",
    "src/../../x",
    "missing/../../x",
    "..\\..\\etc",
    "src\\..\\..\\x",
    "../proj-evil/x",
    "../projx/secret",
    "out_dir",
    "out_dir/secret",
    "out_dir/new.py",
    "out_file.py",
    "evil/x",
    "abs_out/etc/passwd",
    "up",
    "up/projx/secret",
    "in_dir/../../x",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_paths_that_resolve_outside_the_project_are_directory_traversal(
    project: Path, target: str
) -> None:
    with pytest.raises(ValidationError, match="directory traversal") as info:
        validate_target_file(target, project)
    assert repr(target) in info.value.message
    _assert_no_server_path(info.value, project, project.parent)


def test_a_symlink_to_a_sibling_sharing_the_roots_name_prefix_is_rejected(
    tmp_path: Path,
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (tmp_path / "projx").mkdir()
    os.symlink(tmp_path / "projx" / "f.py", root / "link.py")
    with pytest.raises(ValidationError, match="directory traversal"):
        validate_target_file("link.py", root)


@pytest.mark.parametrize(
    "target",
    ["/etc/passwd", "//server/share", "/", "C:\\x", "c:/x", "C:x", "\\\\server\\share\\x", "\\x"],
)
def test_absolute_paths_are_rejected_as_absolute(project: Path, target: str) -> None:
    with pytest.raises(ValidationError, match="absolute") as info:
        validate_target_file(target, project)
    assert repr(target) in info.value.message


@pytest.mark.parametrize("target", [".", "./", "a/..", "src/.."])
def test_paths_naming_the_project_root_itself_are_rejected(project: Path, target: str) -> None:
    with pytest.raises(ValidationError, match="project root itself") as info:
        validate_target_file(target, project)
    _assert_no_server_path(info.value, project)


@pytest.mark.parametrize("target", ["", "a\x00b.py", "\x00"])
def test_empty_paths_and_nul_bytes_are_rejected(project: Path, target: str) -> None:
    with pytest.raises(ValidationError, match="non-empty path without NUL"):
        validate_target_file(target, project)


@pytest.mark.parametrize("target", [None, 1, b"src/a.py", Path("src/a.py")])
def test_non_string_target_files_are_rejected(project: Path, target: object) -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        validate_target_file(target, project)


def test_a_path_of_exactly_the_maximum_length_is_accepted(project: Path) -> None:
    target = "/".join(["d" * 255] * 3 + ["d" * 254, "f"])
    assert len(target) == MAX_TARGET_PATH_CHARS
    assert validate_target_file(target, project) == target


def test_a_path_over_the_maximum_length_raises_limit_error_with_a_truncated_value(
    project: Path,
) -> None:
    target = "a/" * 512 + "b"
    with pytest.raises(LimitError, match="1025 characters") as info:
        validate_target_file(target, project)
    assert "..." in info.value.message
    assert len(info.value.message) < 200


@pytest.mark.parametrize("component", ["x" * 255, "\u00e9" * 127])
def test_components_up_to_255_bytes_are_accepted(project: Path, component: str) -> None:
    assert validate_target_file(f"src/{component}", project) == f"src/{component}"


@pytest.mark.parametrize("component", ["x" * 256, "\u00e9" * 128])
def test_components_over_255_bytes_raise_limit_error(project: Path, component: str) -> None:
    with pytest.raises(LimitError, match="255 bytes"):
        validate_target_file(f"src/{component}", project)


@pytest.mark.parametrize("target", ["loop", "loop/x.py", "src/../loop"])
def test_symlink_loops_are_rejected_without_crashing_or_leaking_paths(
    project: Path, target: str
) -> None:
    with pytest.raises(ValidationError, match="cannot be resolved") as info:
        validate_target_file(target, project)
    _assert_no_server_path(info.value, project)


@pytest.mark.parametrize(
    "target", ["loop/../out_dir", "loop/../out_dir/secret", "loop/../evil/x", "loop/../up/projx"]
)
def test_a_symlink_loop_cannot_hide_an_escaping_symlink_behind_it(
    project: Path, target: str
) -> None:
    with pytest.raises(ValidationError) as info:
        validate_target_file(target, project)
    _assert_no_server_path(info.value, project, project.parent)


def test_names_the_os_cannot_encode_are_rejected_as_unresolvable(project: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be resolved"):
        validate_target_file("bad\ud800name.py", project)


def test_os_errors_while_resolving_become_validation_errors(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_realpath = os.path.realpath

    def broken(path: str | os.PathLike[str], strict: bool = False) -> str:
        if os.fspath(path).endswith("a.py"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_realpath(path, strict=strict)

    monkeypatch.setattr(os.path, "realpath", broken)
    with pytest.raises(ValidationError, match="cannot be resolved") as info:
        validate_target_file("src/a.py", project)
    assert info.value.__cause__ is None
    _assert_no_server_path(info.value, project)


_SEGMENTS = [
    "..",
    ".",
    "",
    "a",
    "b..c",
    "..foo",
    "src",
    "a.py",
    "in_dir",
    "in_file.py",
    "abs_in",
    "out_dir",
    "out_file.py",
    "evil",
    "abs_out",
    "up",
    "loop",
    "proj",
    "proj-evil",
    "projx",
]


@pytest.mark.slow
def test_accepted_paths_always_resolve_inside_the_root_and_escapes_are_always_rejected() -> None:
    with _temp_project() as root:
        real_root = os.path.realpath(root)

        @settings(max_examples=400, deadline=None)
        @given(
            st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=8),
            st.sampled_from(["/", "\\"]),
        )
        def check(segments: list[str], separator: str) -> None:
            real = os.path.realpath(os.path.join(root, "/".join(segments)))
            try:
                result = validate_target_file(separator.join(segments), root)
            except ValidationError:
                return
            used = os.path.join(real_root, result)
            assert _inside(real, real_root)
            # The returned path is canonical, so what the caller opens is what was checked.
            assert os.path.realpath(used) == used
            assert _inside(used, real_root)
            if "loop" not in segments:  # realpath leaves loops (and what follows) unresolved
                assert used == real

        @settings(max_examples=400, deadline=None)
        @given(st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=8))
        def check_escapes(segments: list[str]) -> None:
            joined = "/".join(segments)
            real = os.path.realpath(os.path.join(root, joined))
            if real != real_root and not _inside(real, real_root):
                with pytest.raises(ValidationError):
                    validate_target_file(joined, root)

        check()
        check_escapes()


@pytest.mark.slow
def test_arbitrary_text_either_validates_or_raises_validation_error() -> None:
    with _temp_project() as root:

        @settings(max_examples=300, deadline=None)
        @given(st.text(max_size=60))
        def check(target: str) -> None:
            try:
                result = validate_target_file(target, root)
            except ValidationError as exc:
                _assert_no_server_path(exc, root)
                return
            real = os.path.realpath(os.path.join(root, result))
            assert _inside(real, os.path.realpath(root))

        check()


# --------------------------------------------------------------------------- evidence size


@pytest.mark.parametrize(
    ("evidence", "size"),
    [
        ({}, 2),
        (None, 4),
        ({"a": 1}, 7),
        ({"a": [1, 2], "b": {"c": True}}, 26),
        ("\u00e9", 4),
        ("\u6f22", 5),
        ({"k": "\U0001f600"}, 12),
        (1.5, 3),
        ({1: "int keys are JSON"}, 25),
    ],
)
def test_evidence_size_is_the_compact_utf8_json_byte_count(evidence: object, size: int) -> None:
    assert validate_evidence_size(evidence) == size
    assert size == len(
        json.dumps(evidence, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    )


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_checked_evidence_is_its_canonical_json_whatever_the_key_order(value: object) -> None:
    encoded = checked_evidence_json(value)

    assert encoded == canonical_json(value)
    assert json.loads(encoded) == value
    assert len(encoded) == validate_evidence_size(value)
    if isinstance(value, dict):
        assert checked_evidence_json(dict(reversed(list(value.items())))) == encoded


def test_evidence_with_keys_that_cannot_be_ordered_is_rejected_as_not_plain_json() -> None:
    # JSON keys are strings; an int beside a str cannot be put in canonical order.
    with pytest.raises(ValidationError, match="must be plain JSON") as info:
        checked_evidence_json({1: "a", "b": 2})
    assert "text keys" in info.value.remediation


def test_evidence_exactly_at_the_limit_is_accepted() -> None:
    assert validate_evidence_size("x" * 98, limit=100) == 100


def test_evidence_over_the_limit_raises_limit_error_stating_size_and_limit_in_mb() -> None:
    with pytest.raises(LimitError, match="too large") as info:
        validate_evidence_size({"log": "x" * MAX_EVIDENCE_BYTES})
    size = MAX_EVIDENCE_BYTES + len('{"log":""}')
    assert "10.00 MB" in info.value.message
    assert f"{size} bytes" in info.value.message
    assert f"{MAX_EVIDENCE_BYTES} bytes" in info.value.message
    assert "smaller" in info.value.remediation


def test_a_custom_limit_is_stated_in_the_message() -> None:
    with pytest.raises(LimitError, match=r"too large: 2\.00 MB .* 1\.00 MB \(1048576 bytes\)"):
        validate_evidence_size("x" * (2 * 1024 * 1024 - 2), limit=1024 * 1024)


def test_huge_evidence_is_serialised_only_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real_dumps = json.dumps

    def counting_dumps(obj: object, **kwargs: Any) -> str:
        calls.append(obj)
        return real_dumps(obj, **kwargs)

    monkeypatch.setattr(json, "dumps", counting_dumps)
    with pytest.raises(LimitError):
        validate_evidence_size(["x" * 1024] * 11 * 1024)
    assert len(calls) == 1


def _circular() -> list[object]:
    items: list[object] = []
    items.append(items)
    return items


def _deep(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "evidence",
    [
        {1, 2},
        object(),
        b"bytes",
        float("nan"),
        float("inf"),
        {"score": -float("inf")},
        {("tuple",): "key"},
        "lone \ud800 surrogate",
        _circular(),
        _deep(100_000),
    ],
)
def test_evidence_that_is_not_plain_json_is_rejected(evidence: object) -> None:
    with pytest.raises(ValidationError, match="must be plain JSON") as info:
        validate_evidence_size(evidence)
    assert not isinstance(info.value, LimitError)
    assert len(info.value.message) < 200
    assert "JSON types" in info.value.remediation


def test_evidence_may_nest_up_to_the_depth_limit_and_no_deeper() -> None:
    assert validate_evidence_size({"a": _deep(MAX_EVIDENCE_DEPTH - 2)}) > 0

    with pytest.raises(LimitError, match=f"nests {MAX_EVIDENCE_DEPTH + 1} levels deep") as info:
        validate_evidence_size({"a": _deep(MAX_EVIDENCE_DEPTH - 1)})
    assert "Flatten the evidence" in info.value.remediation
