"""Surgical JSON(C) edits: the value changes as planned, every other byte stays."""

from __future__ import annotations

import json

import pytest
from pos_cutover._jsonedit import Editor, JsonEditError, parse, render

CONFIG = """{
    "mcpServers": {
        "a": {"command": "x"},
        "b": {
            "args": [
                "-m",
                "mcp_server"
            ]
        }
    },
    "other": true
}"""


def test_parse_reads_comments_and_trailing_commas_and_knows_where_each_value_is() -> None:
    text = '{\n  // a comment\n  "a": [1, 2,], /* more */\n  "b": "x",\n}\n'

    root = parse(text)

    assert root.value == {"a": [1, 2], "b": "x"}
    a = root.get("a")
    assert a is not None
    assert text[a.start : a.end] == "[1, 2,]"
    assert [m.key for m in root.members] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": 1,,}', "expected a key at line 1, column 9"),
        ('{"a" 1}', "expected ':' at line 1, column 6"),
        ("{\n  1: 2}", "expected a key at line 2, column 3"),
        ('{"a": 1} x', "unexpected text after the value at line 1, column 10"),
        ("/* open", "an unclosed comment at line 1, column 1"),
        ('{"a": "\x01"}', "a broken string at line 1, column 7"),
    ],
)
def test_broken_json_is_refused_with_line_and_column(text: str, where: str) -> None:
    with pytest.raises(JsonEditError) as caught:
        parse(text, ".cursor/mcp.json")

    assert caught.value.message == f".cursor/mcp.json is not valid JSON: {where}"


def test_inserting_a_member_after_another_keeps_every_other_byte() -> None:
    editor = Editor(CONFIG)
    servers = editor.root.get("mcpServers")
    assert servers is not None
    expected = json.loads(CONFIG)
    expected["mcpServers"]["new"] = {"args": ["serve"]}

    editor.insert(servers, "new", {"args": ["serve"]}, after=servers.members[0])
    text = editor.result(expected)

    anchor = CONFIG.index('"command": "x"}') + len('"command": "x"}')
    inserted = ',\n        "new": {\n            "args": [\n                "serve"\n            ]\n        }'
    assert text == CONFIG[:anchor] + inserted + CONFIG[anchor:]


def test_a_new_member_can_write_its_lists_on_one_line_as_the_file_does() -> None:
    editor = Editor('{\n  "s": {\n    "a": {"args": ["-m", "x"]}\n  }\n}\n')
    servers = editor.root.get("s")
    assert servers is not None

    editor.insert(servers, "b", {"args": ["serve", "--x"]}, inline_lists=True)

    assert editor.result({"s": {"a": {"args": ["-m", "x"]}, "b": {"args": ["serve", "--x"]}}}) == (
        '{\n  "s": {\n    "a": {"args": ["-m", "x"]},\n    "b": {\n      "args": ["serve", "--x"]\n    }\n  }\n}\n'
    )


def test_inserting_into_an_empty_object_and_a_one_line_object() -> None:
    empty = Editor('{\n  "mcp": {}\n}')
    mcp = empty.root.get("mcp")
    assert mcp is not None
    empty.insert(mcp, "groups", ["rag"])

    one_line = Editor('{"a": 1}')
    one_line.insert(one_line.root, "b", [2, 3])

    assert empty.result({"mcp": {"groups": ["rag"]}}) == (
        '{\n  "mcp": {\n    "groups": [\n      "rag"\n    ]\n  }\n}'
    )
    assert one_line.result({"a": 1, "b": [2, 3]}) == '{"a": 1, "b": [2, 3]}'


def test_inserting_after_a_trailing_comma_keeps_the_file_jsonc() -> None:
    editor = Editor('{\n  "a": 1,\n}\n')

    editor.insert(editor.root, "b", 2)

    assert editor.result({"a": 1, "b": 2}) == '{\n  "a": 1,\n  "b": 2,\n}\n'


def test_replacing_a_list_keeps_its_layout() -> None:
    multi = Editor(CONFIG)
    args = multi.root.get("mcpServers").get("b").get("args")  # type: ignore[union-attr]
    assert args is not None
    multi.replace(args, ["serve"])
    single = Editor('{"allow": ["a", "b"]}\n')
    allow = single.root.get("allow")
    assert allow is not None
    single.replace(allow, ["a"])

    expected = json.loads(CONFIG)
    expected["mcpServers"]["b"]["args"] = ["serve"]
    assert multi.result(expected) == CONFIG.replace(
        '[\n                "-m",\n                "mcp_server"\n            ]',
        '[\n                "serve"\n            ]',
    )
    assert single.result({"allow": ["a"]}) == '{"allow": ["a"]}\n'


@pytest.mark.parametrize(
    ("remove", "text"),
    [
        (["a"], '{\n  "b": 2,\n  "c": 3\n}'),
        (["b"], '{\n  "a": 1,\n  "c": 3\n}'),
        (["c"], '{\n  "a": 1,\n  "b": 2\n}'),
        (["b", "c"], '{\n  "a": 1\n}'),
        (["a", "b", "c"], "{\n}"),
    ],
)
def test_removing_members_takes_their_commas_along(remove: list[str], text: str) -> None:
    source = '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}'
    editor = Editor(source)
    members = [m for m in editor.root.members if m.key in remove]

    editor.remove(editor.root, *members)

    assert editor.result({k: v for k, v in json.loads(source).items() if k not in remove}) == text


def test_an_edit_that_would_not_give_the_planned_content_is_refused() -> None:
    editor = Editor('{"a": 1}')
    editor.insert(editor.root, "b", 2)

    with pytest.raises(JsonEditError, match="would not give the planned content"):
        editor.result({"a": 1, "b": 3})


def test_a_byte_order_mark_is_kept_and_does_not_shift_the_spans() -> None:
    editor = Editor('\ufeff{"a": 1}')

    editor.insert(editor.root, "b", 2)

    assert editor.result({"a": 1, "b": 2}) == '\ufeff{"a": 1, "b": 2}'


def test_render_writes_nested_values_at_the_given_indentation() -> None:
    assert render({"a": [1, {"b": []}]}, "  ", "    ") == (
        '{\n      "a": [\n        1,\n        {\n          "b": []\n        }\n      ]\n    }'
    )
    assert render(["x"], "", "") == '["x"]'
