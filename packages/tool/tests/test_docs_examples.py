"""The examples and tables of the documentation site (docs/*.md) hold for the real product.

- every JSON block on a page parses, and every pos_workflow request in one (inline, or
  pulled in with pymdownx.snippets) validates against specs/pos_workflow/request.schema.json;
  blocks titled "Invalid request" must not;
- the quickstart walk-through and the error examples (docs/examples/) replay through an
  in-process client, and every field their recorded responses show is in the live ones;
- the IDE configuration blocks are JSON that launch ``pos-workflow serve`` or point at /mcp;
- the example workflow loads and runs to completion;
- the tables of parameters, next_actions and bundled workflows match the code and metadata.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from pos_engine import SESSION_STATUSES, next_actions
from pos_tool import ACTIONS, HTTP_PATH, PARAMETERS, build_server
from pos_tool.cli import _parser as cli_parser
from pos_tool.testing import call_pos_workflow, tool_response
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
SPECS = ROOT / "specs"
PAGES = sorted(DOCS.glob("*.md"))
BUNDLED = ROOT / "packages" / "engine" / "src" / "pos_engine" / "workflows"

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


# ------------------------------------------------------------------- reading pages

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<attrs>.*)$")
_SNIPPET = re.compile(r'^--8<--\s+"(?P<path>[^"]+)"\s*$')


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page, with its snippet lines expanded."""

    page: str
    line: int
    lang: str
    attrs: str
    text: str
    snippets: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def _snippet_range(spec: str) -> tuple[str, tuple[int, int] | None]:
    """Split ``path:start:end`` (a range of lines, as pymdownx.snippets reads it)."""
    path, _, rest = spec.partition(":")
    start, _, end = rest.partition(":")
    if start.isdigit() and end.isdigit():
        return path, (int(start), int(end))
    return spec, None


def _expand(lines: list[str]) -> tuple[str, tuple[str, ...]]:
    """Replace ``--8<-- "path"`` lines by the file's text, as pymdownx.snippets does."""
    out, included = [], []
    for line in lines:
        match = _SNIPPET.match(line.strip())
        if match:
            path, lines_shown = _snippet_range(match["path"])
            included.append(path)
            text = (ROOT / path).read_text(encoding="utf-8").rstrip("\n")
            if lines_shown is not None:  # "path:start:end", 1-based and inclusive
                first, last = lines_shown
                text = "\n".join(text.split("\n")[first - 1 : last])
            out.append(text)
        else:
            out.append(line)
    return "\n".join(out), tuple(included)


def _blocks(page: Path) -> Iterator[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opener = _FENCE.match(lines[index])
        if not opener:
            index += 1
            continue
        indent, fence = opener["indent"], opener["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            line = lines[end]
            closing = line.strip()
            if closing.startswith(fence) and set(closing) == {fence[0]}:
                break
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            end += 1
        text, snippets = _expand(body)
        yield Block(page.name, index + 1, opener["lang"], opener["attrs"], text, snippets)
        index = end + 1


@cache
def all_blocks() -> tuple[Block, ...]:
    return tuple(block for page in PAGES for block in _blocks(page))


def json_blocks() -> list[Block]:
    return [b for b in all_blocks() if b.lang == "json"]


def _section(page: str, heading: str) -> list[str]:
    """Return the lines under ``heading`` up to the next heading of the same or a higher level."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    start = lines.index(heading) + 1
    for end in range(start, len(lines)):
        hashes = len(lines[end]) - len(lines[end].lstrip("#"))
        if 0 < hashes <= level and lines[end][hashes : hashes + 1] == " ":
            return lines[start:end]
    return lines[start:]


def _rows(lines: list[str]) -> list[list[str]]:
    """Return the cells of every markdown table row (header and separator rows included)."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in lines
        if line.lstrip().startswith("|")
    ]


def _tables(lines: list[str]) -> list[tuple[list[str], list[list[str]]]]:
    """Return each markdown table as (header cells, body rows)."""
    tables: list[tuple[list[str], list[list[str]]]] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.lstrip().startswith("|"):
            current.append(line)
        elif current:
            header, _separator, *body = _rows(current)
            tables.append((header, body))
            current = []
    return tables


def _codes(cell: str) -> list[str]:
    """Return the `code` spans of a table cell, in order."""
    return re.findall(r"`([^`]+)`", cell)


# ------------------------------------------------------------------- contracts


SPEC_BASE = "https://pos-workflow.dev/specs/pos_workflow/"


@cache
def spec_registry() -> Registry:
    resources = []
    for path in sorted(SPECS.rglob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        if "$id" in schema:
            resources.append(
                (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
            )
    return Registry().with_resources(resources)


@cache
def validator_for(uri: str) -> Draft202012Validator:
    """Return a validator of the schema at ``uri`` (an ``$id``, optionally with a fragment)."""
    return Draft202012Validator({"$ref": uri}, registry=spec_registry())


def request_validator() -> Draft202012Validator:
    return validator_for(SPEC_BASE + "request.schema.json")


def _requests(value: Any) -> list[dict[str, Any]]:
    """Return the pos_workflow requests in a JSON block's value.

    A recorded contract example holds one under ``request`` (its ``error_request`` is a
    deliberately bad call); any other object with an ``action`` and no ``status`` is one.
    """
    if isinstance(value, dict) and "request" in value and "response" in value:
        return [value["request"]]
    if isinstance(value, dict) and value.get("name") == "pos_workflow" and "arguments" in value:
        return [value["arguments"]]
    if isinstance(value, dict) and "action" in value and "status" not in value:
        return [value]
    return []


def test_every_json_block_on_the_pages_is_valid_json() -> None:
    problems = []
    for block in json_blocks():
        try:
            json.loads(block.text)
        except json.JSONDecodeError as exc:
            problems.append(f"{block.where}: {exc}")
    assert problems == []


def test_the_pages_show_pos_workflow_requests_at_all() -> None:
    found = [r for b in json_blocks() for r in _requests(json.loads(b.text))]
    assert {r["action"] for r in found} >= set(ACTIONS)


@pytest.mark.parametrize("block", json_blocks(), ids=lambda b: b.where)
def test_json_request_blocks_validate_against_the_request_schema(block: Block) -> None:
    value = json.loads(block.text)
    validator = request_validator()
    if "invalid" in block.attrs.lower():
        assert not validator.is_valid(value), f"{block.where} is labelled invalid but is valid"
        return
    for request in _requests(value):
        errors = [e.message for e in validator.iter_errors(request)]
        assert errors == [], f"{block.where}: {request}"


def test_every_walkthrough_and_error_file_is_shown_on_a_page() -> None:
    shown = {path for block in all_blocks() for path in block.snippets}
    expected = {
        path.relative_to(ROOT).as_posix()
        for folder in ("walkthrough", "errors")
        for path in sorted((EXAMPLES / folder).glob("*.json"))
    }
    assert expected - shown == set()


def test_every_contract_example_is_shown_in_the_action_reference() -> None:
    shown = {path for block in _blocks(DOCS / "actions.md") for path in block.snippets}
    expected = {f"specs/pos_workflow/examples/{action}.json" for action in ACTIONS}
    assert expected - shown == set()


# ------------------------------------------------------------------- the walk-through


def _load_walkthrough() -> ModuleType:
    name = "docs_examples_walkthrough"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "walkthrough.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


walkthrough = _load_walkthrough()


def _missing(documented: Any, live: Any, pointer: str = "") -> list[str]:
    """Return the JSON pointers of documented object keys that the live value lacks."""
    if isinstance(documented, dict):
        if not isinstance(live, dict):
            return [pointer or "/"]
        missing = [f"{pointer}/{key}" for key in documented if key not in live]
        for key in documented:
            if key in live:
                missing += _missing(documented[key], live[key], f"{pointer}/{key}")
        return missing
    if isinstance(documented, list) and isinstance(live, list):
        return [
            problem
            for index, (doc, got) in enumerate(zip(documented, live, strict=False))
            for problem in _missing(doc, got, f"{pointer}/{index}")
        ]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("folder", walkthrough.SEQUENCES, ids=lambda p: p.name)
async def test_documented_calls_replay_with_every_documented_response_field(
    folder: Path, tmp_path: Path
) -> None:
    results = await walkthrough.run_walkthrough(tmp_path, folder)
    assert [path.name for path, _ in results] == [p.name for p in walkthrough.request_files(folder)]
    for path, live in results:
        recorded = json.loads(walkthrough.response_file(path).read_text(encoding="utf-8"))
        assert (live["status"], live["action"], live.get("error_type")) == (
            recorded["status"],
            recorded["action"],
            recorded.get("error_type"),
        ), path.name
        assert _missing(recorded, live) == [], path.name


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES.glob("*/*.response.json")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_recorded_responses_match_the_response_contract(path: Path) -> None:
    response = json.loads(path.read_text(encoding="utf-8"))
    action = response["action"]
    uri = (
        f"{SPEC_BASE}responses/{action}.schema.json"
        if action in ACTIONS
        else f"{SPEC_BASE}common.schema.json#/$defs/unknown_action_error"
    )
    assert [e.message for e in validator_for(uri).iter_errors(response)] == []


@pytest.mark.slow
async def test_walkthrough_session_ends_paused_then_active_as_the_quickstart_says(
    tmp_path: Path,
) -> None:
    results = dict(await walkthrough.run_walkthrough(tmp_path))
    by_name = {path.name.split(".")[0]: response for path, response in results.items()}
    assert by_name["04-complete_phase-fails"]["session_status"] == "failed"
    assert by_name["05-complete_phase-passes"]["current_phase"] == 2
    assert by_name["07-pause"]["session_status"] == "paused"
    assert by_name["08-list_sessions"]["count"] == 1
    assert by_name["09-resume"]["session_status"] == "active"


# ------------------------------------------------------------------- IDE configuration


def _server_entries() -> list[tuple[Block, dict[str, Any]]]:
    entries = []
    for block in _blocks(DOCS / "quickstart.md"):
        if block.lang != "json":
            continue
        value = json.loads(block.text)
        servers = value.get("mcpServers", value.get("servers")) if isinstance(value, dict) else None
        if isinstance(servers, dict):
            entries += [(block, entry) for entry in servers.values()]
    return entries


def test_quickstart_has_ide_entries_for_stdio_and_http() -> None:
    entries = [entry for _, entry in _server_entries()]
    assert sum("command" in entry for entry in entries) >= 5
    assert sum("url" in entry for entry in entries) >= 4


@pytest.mark.parametrize("item", _server_entries(), ids=lambda item: item[0].where)
def test_ide_entries_launch_the_server_or_name_its_http_endpoint(
    item: tuple[Block, dict[str, Any]],
) -> None:
    block, entry = item
    if "url" in entry:
        # The local endpoint, or a shared server that a bearer token unlocks.
        local = entry["url"] == f"http://127.0.0.1:8765{HTTP_PATH}"
        shared = entry["url"] == f"http://server.example:8765{HTTP_PATH}" and entry.get(
            "headers", {}
        ).get("Authorization", "").startswith("Bearer ")
        assert local or shared, block.where
        return
    args = entry["args"]
    assert args[: args.index("pos-workflow")] == ["run", "--directory", "/path/to/pos_workflow"]
    parsed = cli_parser().parse_args(args[args.index("pos-workflow") + 1 :])
    assert (parsed.command, parsed.transport) == ("serve", "stdio"), block.where
    assert str(parsed.project_root) in {"/path/to/project", "${workspaceFolder}"}, block.where


# ------------------------------------------------------------------- the migration guide


def _tool_calls(title: str) -> list[dict[str, Any]]:
    return [
        json.loads(block.text)
        for block in _blocks(DOCS / "migration.md")
        if block.lang == "json" and f'title="{title}' in block.attrs
    ]


def test_migration_table_is_the_cutover_mapping() -> None:
    mapping = pytest.importorskip("pos_cutover._mapping")
    table = (EXAMPLES / "migration-table.md").read_text(encoding="utf-8")
    assert table == mapping.migration_table_markdown()
    page = (DOCS / "migration.md").read_text(encoding="utf-8")
    assert '--8<-- "docs/examples/migration-table.md"' in page


async def _call_all(project: Path, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run tools/call params in order, with the first session id for the documented one."""
    documented = walkthrough.RECORDED_SESSION_ID
    live: str | None = None
    answers = []
    async with Client(build_server(project, durable=False)) as client:
        for call in calls:
            arguments = json.loads(json.dumps(call["arguments"]).replace(documented, live or ""))
            answer = tool_response(await client.call_tool(call["name"], arguments))
            live = live or answer.get("session_id")
            answers.append(answer)
    return answers


@pytest.mark.slow
async def test_migration_before_and_after_calls_answer_with_the_same_fields(
    tmp_path: Path,
) -> None:
    before, after = _tool_calls("Before"), _tool_calls("After")
    assert [c["name"] for c in before] == ["start_workflow", "get_current_phase"]
    assert [c["arguments"]["action"] for c in after] == ["start", "get_phase"]
    old_project, new_project = tmp_path / "old", tmp_path / "new"
    registry = old_project / ".praxis-os" / "config" / "tool-registry.json"
    registry.parent.mkdir(parents=True)
    registry.write_text(json.dumps({"version": 1, "groups": ["workflow_legacy", "server_info"]}))
    new_project.mkdir()
    old_answers = await _call_all(old_project, before)
    new_answers = await _call_all(new_project, after)
    for call, old, new in zip(before, old_answers, new_answers, strict=True):
        assert (old["status"], old["action"], new["status"]) == ("success", call["name"], "success")
        assert set(old) == set(new)


# ------------------------------------------------------------------- command lines


def _command_lines(program: str) -> list[tuple[Block, list[str]]]:
    """Return every ``program ...`` command line shown in a bash or text block."""
    found = []
    for block in all_blocks():
        if block.lang not in {"bash", "text"}:
            continue
        for line in block.text.splitlines():
            match = re.match(rf"^(?:\$ )?(?:uv run )?{re.escape(program)} (.*)$", line.strip())
            # "pos-cutover run: no .praxis-os/ in ..." is a message the command printed.
            if match and not match[1].split(" ")[0].endswith(":"):
                shown = match[1].split(" #")[0].replace("[", "").replace("]", "")
                found.append((block, shlex.split(shown)))
    return found


@pytest.mark.slow
def test_documented_pos_workflow_command_lines_parse() -> None:
    lines = _command_lines("pos-workflow")
    assert len(lines) >= 3
    for block, args in lines:
        try:
            cli_parser().parse_args(args)
        except SystemExit:
            pytest.fail(f"{block.where}: pos-workflow {' '.join(args)}")


def test_documented_pos_cutover_command_lines_parse() -> None:
    cli = pytest.importorskip("pos_cutover.cli")
    lines = _command_lines("pos-cutover")
    assert {args[0] for _, args in lines} >= {"check", "run", "rollback", "backup", "demo"}
    for block, args in lines:
        try:
            cli._parser().parse_args(args)
        except SystemExit:
            pytest.fail(f"{block.where}: pos-cutover {' '.join(args)}")


# ------------------------------------------------------------------- the example workflow


@pytest.mark.slow
async def test_example_workflow_runs_to_completion_from_the_project_folder(
    tmp_path: Path,
) -> None:
    source = EXAMPLES / "workflows" / "release_notes_v1"
    shutil.copytree(source, tmp_path / ".praxis-os" / "workflows" / source.name)
    async with Client(build_server(tmp_path, durable=False)) as client:
        listed = await call_pos_workflow(client, "list_workflows", category="documentation")
        entry = next(w for w in listed["workflows"] if w["workflow_type"] == source.name)
        assert (entry["source"], "invalid_workflows" in listed) == ("project", False)
        current = await call_pos_workflow(
            client, "start", workflow_type=source.name, target_file="CHANGELOG.md"
        )
        sid = current["session_id"]
        while True:
            content = current["phase_content"]
            for task in content["tasks"]:
                got = await call_pos_workflow(
                    client,
                    "get_task",
                    session_id=sid,
                    phase=content["phase"],
                    task_number=task["task_number"],
                )
                assert got["status"] == "success"
            current = await call_pos_workflow(
                client,
                "complete_phase",
                session_id=sid,
                phase=content["phase"],
                evidence=content["checkpoint"]["evidence_example"],
            )
            assert current["status"] == "success"
            if current["workflow_completed"]:
                break
    assert current["completed_phases"] == [1, 2]


# ------------------------------------------------------------------- tables vs code


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_reference_parameter_table_matches_the_dispatch_table(action: str) -> None:
    spec = ACTIONS[action]
    rows = [
        row
        for row in _rows(_section("actions.md", f"### `{action}`"))
        if len(row) == 4 and row[0] != "parameter" and row[2] in {"required", "optional"}
    ]
    documented = {_codes(row[0])[0]: (row[1], row[2]) for row in rows}
    expected = {name: (PARAMETERS[name].kind, "required") for name in spec.required}
    expected |= {name: (PARAMETERS[name].kind, "optional") for name in spec.optional}
    assert documented == expected


@pytest.mark.parametrize("action", list(ACTIONS))
def test_documented_response_fields_are_in_the_response_contract(action: str) -> None:
    schema = json.loads(
        (SPECS / "pos_workflow" / "responses" / f"{action}.schema.json").read_text()
    )
    common = json.loads((SPECS / "pos_workflow" / "common.schema.json").read_text())["$defs"]
    known = set(schema["$defs"]["success"]["properties"]) | set(
        common["success_response"]["properties"]
    )
    known |= set(common["error_response"]["properties"])
    known |= set(common["checkpoint_failure"]["properties"])
    # complete_phase answers a passed approval-gated phase with its own success shape.
    known |= set(schema["$defs"].get("awaiting_approval", {}).get("properties", {}))
    tables = _tables(_section("actions.md", f"### `{action}`"))
    fields = {
        name
        for header, body in tables
        if header[0] == "field"
        for row in body
        for name in _codes(row[0])
    }
    assert fields, f"no field table for {action}"
    # warnings: only a non-strict legacy checkpoint adds it (see the migration guide).
    assert fields - known - {"warnings"} == set()


def test_next_actions_table_matches_the_lifecycle() -> None:
    rows = _rows(_section("actions.md", "### next_actions"))
    documented = {
        _codes(row[0])[0]: _codes(row[1])
        for row in rows
        if row[0].startswith("`") and len(row) == 2
    }
    assert documented == {status: next_actions(status) for status in SESSION_STATUSES}


def test_home_page_lists_the_14_actions_in_their_groups() -> None:
    rows = _rows(_section("index.md", "## The 14 actions at a glance"))[2:]
    documented = [(row[0], _codes(row[1])[0]) for row in rows]
    assert documented == [(spec.group, name) for name, spec in ACTIONS.items()]


@pytest.mark.parametrize("workflow", ["test_generation_v3", "spec_creation_v1"])
def test_bundled_workflow_tables_match_their_metadata(workflow: str) -> None:
    metadata = json.loads((BUNDLED / workflow / "metadata.json").read_text(encoding="utf-8"))
    rows = _rows(_section("workflows.md", f"### {workflow}"))[2:]
    documented = [(int(row[0]), row[1], int(row[2]), _codes(row[3])) for row in rows]
    assert documented == [
        (
            phase["number"],
            phase["title"],
            len(phase["tasks"]),
            phase["checkpoint"]["required_evidence"],
        )
        for phase in metadata["phases"]
    ]
